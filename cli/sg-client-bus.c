/* SPDX-License-Identifier: MIT */
/* The D-Bus transport of SgClient: the socket's methods mapped onto org.systemg. */
#include "config.h"

#include "sg-client-bus-private.h"

#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "base/sg-bus-autoptr.h"
#include "base/sg-bus-names.h"
#include "base/sg-bus-source.h"
#include "base/sg-error.h"
#include "base/sg-json.h"
#include "base/sg-paths.h"
#include "state/sg-state.h"

#define DBUS_NAME      "org.freedesktop.DBus"
#define DBUS_PATH      "/org/freedesktop/DBus"
#define DBUS_INTERFACE "org.freedesktop.DBus"
#define PROPERTIES     "org.freedesktop.DBus.Properties"
/* The socket's default for logs. */
#define DEFAULT_LOG_LINES 50

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(sd_bus_error, sd_bus_error_free)

struct _SgClientBus {
	sd_bus *bus;
	char *owner; /* the unique name that owned org.systemg when we connected */
	char *state_dir;
	pid_t pid;
	sd_bus_slot *signals;
	sd_bus_slot *owner_changed;
	GSource *source;
	guint closed_idle;
	SgClientEventFunc event_cb;
	SgClientClosedFunc closed_cb;
	gpointer user_data;
	gboolean closed;
};

/* The supervisor left the bus while we waited for an answer. */
static gboolean
is_peer_gone(const sd_bus_error *bus_error)
{
	return sd_bus_error_has_names(bus_error, SD_BUS_ERROR_NO_REPLY,
	                              SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
	                              SD_BUS_ERROR_DISCONNECTED);
}

static gboolean
set_error(GError **error, const sd_bus_error *bus_error, int r, const char *member)
{
	if (bus_error != NULL && sd_bus_error_is_set(bus_error)) {
		if (is_peer_gone(bus_error))
			g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
			            _("The supervisor left the session bus before answering %s"),
			            member);
		else
			g_set_error_literal(
			        error, SG_ERROR, sg_error_from_dbus_name(bus_error->name),
			        bus_error->message != NULL ? bus_error->message : bus_error->name);
		return FALSE;
	}
	return sg_error_set_errno(error, r, _("D-Bus call %s failed"), member);
}

gboolean
sg_client_bus_method(SgClientBus *client, const char *path, const char *interface,
                     const char *member, sd_bus_message **ret_reply, GError **error,
                     const char *types, ...)
{
	g_autoptr(sd_bus_message) message = NULL;
	g_autoptr(sd_bus_message) reply = NULL;
	g_auto(sd_bus_error) bus_error = SD_BUS_ERROR_NULL;
	va_list args;
	int r;

	r = sd_bus_message_new_method_call(client->bus, &message, client->owner, path, interface,
	                                   member);
	if (r >= 0)
		r = sd_bus_message_set_auto_start(message, 0);
	if (r >= 0 && types != NULL) {
		va_start(args, types);
		r = sd_bus_message_appendv(message, types, args);
		va_end(args);
	}
	if (r < 0)
		return set_error(error, NULL, r, member);
	/* A stop waits for processes to die: no deadline but the supervisor's own. */
	r = sd_bus_call(client->bus, message, UINT64_MAX, &bus_error, &reply);
	if (r < 0)
		return set_error(error, &bus_error, r, member);
	if (ret_reply != NULL)
		*ret_reply = g_steal_pointer(&reply);
	return TRUE;
}

gboolean
sg_client_bus_parse_error(GError **error, int r, const char *member)
{
	return sg_error_set_errno(error, r, _("Cannot read the answer to %s"), member);
}

/* ---- properties as JSON values ---- */

/* Reads one variant (the message is at it) into into[name]. */
static int
read_variant(sd_bus_message *m, JsonObject *into, const char *name)
{
	const char *contents = NULL;
	char type;
	int r = sd_bus_message_peek_type(m, &type, &contents);

	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
	if (r < 0)
		return r;
	if (strlen(contents) == 1 && strchr("sog", contents[0]) != NULL) {
		const char *value;

		r = sd_bus_message_read_basic(m, contents[0], &value);
		if (r >= 0)
			json_object_set_string_member(into, name, value);
	} else if (g_str_equal(contents, "u")) {
		uint32_t value;

		r = sd_bus_message_read_basic(m, 'u', &value);
		if (r >= 0)
			json_object_set_int_member(into, name, value);
	} else if (g_str_equal(contents, "i")) {
		int32_t value;

		r = sd_bus_message_read_basic(m, 'i', &value);
		if (r >= 0)
			json_object_set_int_member(into, name, value);
	} else if (g_str_equal(contents, "t")) {
		uint64_t value;

		r = sd_bus_message_read_basic(m, 't', &value);
		if (r >= 0)
			json_object_set_int_member(into, name,
			                           (gint64)MIN(value, (uint64_t)G_MAXINT64));
	} else if (g_str_equal(contents, "x")) {
		int64_t value;

		r = sd_bus_message_read_basic(m, 'x', &value);
		if (r >= 0)
			json_object_set_int_member(into, name, value);
	} else if (g_str_equal(contents, "b")) {
		int value;

		r = sd_bus_message_read_basic(m, 'b', &value);
		if (r >= 0)
			json_object_set_boolean_member(into, name, value);
	} else if (g_str_equal(contents, "as")) {
		char **strv = NULL;

		r = sd_bus_message_read_strv(m, &strv);
		if (r >= 0) {
			JsonArray *array = json_array_new();

			for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
				json_array_add_string_element(array, strv[i]);
			json_object_set_array_member(into, name, array);
		}
		g_strfreev(strv);
	} else {
		r = sd_bus_message_skip(m, contents);
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* Reads an a{sv} of properties into a new object. */
static int
read_properties(sd_bus_message *m, JsonObject **ret_props)
{
	g_autoptr(JsonObject) props = json_object_new();
	int r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");

	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
		const char *name;

		r = sd_bus_message_read_basic(m, 's', &name);
		if (r < 0)
			return r;
		r = read_variant(m, props, name);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	*ret_props = g_steal_pointer(&props);
	return 0;
}

JsonObject *
sg_client_bus_get_all(SgClientBus *client, const char *path, const char *interface, GError **error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	JsonObject *props = NULL;
	int r;

	if (!sg_client_bus_method(client, path, PROPERTIES, "GetAll", &reply, error, "s",
	                          interface))
		return NULL;
	r = read_properties(reply, &props);
	if (r < 0) {
		sg_client_bus_parse_error(error, r, "GetAll");
		return NULL;
	}
	return props;
}

/* ---- connecting ---- */

static gboolean
same_directory(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return g_strcmp0(a, b) == 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static char *
name_owner(sd_bus *bus, sd_bus_error *bus_error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	const char *owner;

	if (sd_bus_call_method(bus, DBUS_NAME, DBUS_PATH, DBUS_INTERFACE, "GetNameOwner", bus_error,
	                       &reply, "s", SG_BUS_NAME) < 0)
		return NULL;
	if (sd_bus_message_read_basic(reply, 's', &owner) < 0)
		return NULL;
	return g_strdup(owner);
}

SgClientBus *
sg_client_bus_connect(const char *state_dir, GError **error)
{
	g_autoptr(SgClientBus) client = g_new0(SgClientBus, 1);
	g_auto(sd_bus_error) bus_error = SD_BUS_ERROR_NULL;
	g_autoptr(JsonObject) manager = NULL;
	g_autoptr(GError) local = NULL;
	const char *theirs;
	int r;

	client->state_dir = g_strdup(state_dir);
	if (!sg_pid_file_query(state_dir, &client->pid)) {
		g_set_error(error, SG_ERROR, SG_ERROR_NO_SUPERVISOR,
		            _("No supervisor is running on %s"), state_dir);
		return NULL;
	}
	r = sd_bus_open_user(&client->bus);
	if (r < 0) {
		g_set_error(error, SG_ERROR, SG_ERROR_NOT_ON_BUS,
		            _("A supervisor is running (PID %d) on %s, but there is no session bus "
		              "to reach it: %s; use the control socket (without --bus)"),
		            client->pid, state_dir, g_strerror(-r));
		return NULL;
	}
	client->owner = name_owner(client->bus, &bus_error);
	if (client->owner == NULL) {
		g_set_error(error, SG_ERROR, SG_ERROR_NOT_ON_BUS,
		            _("A supervisor is running (PID %d) on %s, but nobody owns %s on the "
		              "session bus (was it started with --no-bus?); use the control socket "
		              "(without --bus)"),
		            client->pid, state_dir, SG_BUS_NAME);
		return NULL;
	}
	manager = sg_client_bus_get_all(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
	                                &local);
	if (manager == NULL) {
		g_set_error(error, SG_ERROR, SG_ERROR_NOT_ON_BUS,
		            _("A supervisor is running (PID %d) on %s, but %s on the session bus "
		              "does not answer: %s"),
		            client->pid, state_dir, SG_BUS_NAME, local->message);
		return NULL;
	}
	theirs = sg_json_object_get_string(manager, "StateDirectory");
	if (theirs == NULL || !same_directory(theirs, state_dir)) {
		g_set_error(error, SG_ERROR, SG_ERROR_NOT_ON_BUS,
		            _("A supervisor is running (PID %d) on %s, but %s on the session bus "
		              "belongs to the supervisor of %s; use the control socket (without "
		              "--bus)"),
		            client->pid, state_dir, SG_BUS_NAME, theirs != NULL ? theirs : "?");
		return NULL;
	}
	return g_steal_pointer(&client);
}

void
sg_client_bus_free(SgClientBus *client)
{
	if (client == NULL)
		return;
	g_clear_handle_id(&client->closed_idle, g_source_remove);
	if (client->source != NULL) {
		g_source_destroy(client->source);
		g_clear_pointer(&client->source, g_source_unref);
	}
	sd_bus_slot_unref(client->signals);
	sd_bus_slot_unref(client->owner_changed);
	if (client->bus != NULL)
		sd_bus_flush_close_unref(client->bus);
	g_free(client->owner);
	g_free(client->state_dir);
	g_free(client);
}

/* ---- methods ---- */

static const char *
param_string(JsonObject *params, const char *name)
{
	JsonNode *node = params != NULL ? json_object_get_member(params, name) : NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

static JsonNode *
empty_object(void)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, json_object_new());
	return node;
}

/* start, stop, restart: one service by name, or every service. */
static gboolean
call_action(SgClientBus *client, const char *action, JsonObject *params, GError **error)
{
	const char *name = param_string(params, "name");
	g_autofree char *member = NULL;

	if (name != NULL) {
		member = g_strdup_printf("%sService", action);
		return sg_client_bus_method(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
		                            member, NULL, error, "s", name);
	}
	return sg_client_bus_method(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, action,
	                            NULL, error, NULL);
}

static JsonNode *
call_logs(SgClientBus *client, JsonObject *params, GError **error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	const char *name = param_string(params, "name");
	const char *kind = param_string(params, "kind");
	gint64 lines = DEFAULT_LOG_LINES;
	char **strv = NULL;
	JsonObject *result;
	JsonArray *array = json_array_new();
	JsonNode *node;
	int r;

	if (params != NULL && json_object_has_member(params, "lines"))
		lines = json_object_get_int_member(params, "lines");
	if (!sg_client_bus_method(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "GetLogs",
	                          &reply, error, "ssu", name != NULL ? name : "",
	                          kind != NULL ? kind : "",
	                          (uint32_t)CLAMP(lines, 0, G_MAXUINT32))) {
		json_array_unref(array);
		return NULL;
	}
	r = sd_bus_message_read_strv(reply, &strv);
	if (r < 0) {
		json_array_unref(array);
		sg_client_bus_parse_error(error, r, "GetLogs");
		return NULL;
	}
	for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
		json_array_add_string_element(array, strv[i]);
	g_strfreev(strv);
	result = json_object_new();
	json_object_set_array_member(result, "lines", array);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, result);
	return node;
}

gboolean
sg_client_bus_call(SgClientBus *client, const char *method, JsonObject *params,
                   JsonNode **ret_result, GError **error)
{
	g_autoptr(JsonNode) result = NULL;

	g_return_val_if_fail(client != NULL && method != NULL, FALSE);
	if (client->closed) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("The supervisor has left the session bus"));
		return FALSE;
	}
	if (g_str_equal(method, "list_services")) {
		result = sg_client_bus_list_services(client, error);
	} else if (g_str_equal(method, "get_service")) {
		const char *name = param_string(params, "name");

		if (name == NULL) {
			g_set_error(error, SG_ERROR, SG_ERROR_USAGE,
			            _("parameter \"name\" is required"));
			return FALSE;
		}
		result = sg_client_bus_get_service(client, name, error);
	} else if (g_str_equal(method, "start") || g_str_equal(method, "stop") ||
	           g_str_equal(method, "restart")) {
		const char *action = g_str_equal(method, "start")  ? "Start"
		                     : g_str_equal(method, "stop") ? "Stop"
		                                                   : "Restart";

		if (call_action(client, action, params, error))
			result = empty_object();
	} else if (g_str_equal(method, "reload")) {
		const char *config = param_string(params, "config");

		if (sg_client_bus_method(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
		                         "Reload", NULL, error, "s", config != NULL ? config : ""))
			result = empty_object();
	} else if (g_str_equal(method, "shutdown")) {
		g_autoptr(GError) local = NULL;

		/* Gone before it could answer is what was asked for. */
		if (sg_client_bus_method(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
		                         "Shutdown", NULL, &local, NULL) ||
		    sd_bus_is_open(client->bus) <= 0 || !sg_pid_file_query(client->state_dir, NULL))
			result = empty_object();
		else
			g_propagate_error(error, g_steal_pointer(&local));
	} else if (g_str_equal(method, "status")) {
		result = sg_client_bus_status(client, error);
	} else if (g_str_equal(method, "logs")) {
		result = call_logs(client, params, error);
	} else {
		g_set_error(error, SG_ERROR, SG_ERROR_USAGE, _("Unknown method %s"), method);
		return FALSE;
	}
	if (result == NULL)
		return FALSE;
	if (ret_result != NULL)
		*ret_result = g_steal_pointer(&result);
	return TRUE;
}

char *
sg_client_bus_config_path(SgClientBus *client, GError **error)
{
	g_autoptr(JsonObject) manager =
	        sg_client_bus_get_all(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, error);
	const char *path =
	        manager != NULL ? sg_json_object_get_string(manager, "ConfigPath") : NULL;

	return path != NULL && path[0] != '\0' ? g_strdup(path) : NULL;
}

/* ---- signals as events ---- */

static void
set_nullable_int(JsonObject *object, const char *name, gint64 value, gboolean present)
{
	if (present)
		json_object_set_int_member(object, name, value);
	else
		json_object_set_null_member(object, name);
}

static void
set_time(JsonObject *object, const char *name, gint64 usec)
{
	g_autofree char *text = sg_json_format_time(usec);

	sg_json_object_set_string_or_null(object, name, text);
}

static void
close_once(SgClientBus *client)
{
	if (client->closed)
		return;
	client->closed = TRUE;
	if (client->closed_cb != NULL)
		client->closed_cb(client->user_data);
}

static void
deliver(SgClientBus *client, const char *event, JsonObject *params)
{
	if (client->event_cb != NULL && !client->closed)
		client->event_cb(event, params, client->user_data);
}

static int
manager_signal_cb(sd_bus_message *m, void *user_data, sd_bus_error *ret_error)
{
	SgClientBus *client = user_data;
	g_autoptr(JsonObject) params = json_object_new();
	const char *member = sd_bus_message_get_member(m);
	const char *name, *a, *b;
	int32_t code;
	uint64_t started, finished;

	if (g_strcmp0(member, "ServiceStateChanged") == 0 &&
	    sd_bus_message_read(m, "sss", &name, &a, &b) >= 0) {
		json_object_set_string_member(params, "name", name);
		json_object_set_string_member(params, "old_state", a);
		json_object_set_string_member(params, "new_state", b);
		deliver(client, "service_state_changed", params);
	} else if ((g_strcmp0(member, "ServiceAdded") == 0 ||
	            g_strcmp0(member, "ServiceRemoved") == 0) &&
	           sd_bus_message_read(m, "so", &name, &a) >= 0) {
		json_object_set_string_member(params, "name", name);
		deliver(client,
		        g_str_equal(member, "ServiceAdded") ? "service_added" : "service_removed",
		        params);
	} else if (g_strcmp0(member, "CronJobFinished") == 0 &&
	           sd_bus_message_read(m, "ssitt", &name, &a, &code, &started, &finished) >= 0) {
		json_object_set_string_member(params, "name", name);
		json_object_set_string_member(params, "result", a);
		set_nullable_int(params, "exit_code", code, code >= 0);
		set_time(params, "started_at", (gint64)MIN(started, (uint64_t)G_MAXINT64));
		set_time(params, "finished_at", (gint64)MIN(finished, (uint64_t)G_MAXINT64));
		deliver(client, "cron_job_finished", params);
	} else if (g_strcmp0(member, "Reloaded") == 0 && sd_bus_message_read(m, "s", &a) >= 0) {
		json_object_set_string_member(params, "config", a);
		deliver(client, "reloaded", params);
	}
	return 0;
}

static int
owner_changed_cb(sd_bus_message *m, void *user_data, sd_bus_error *ret_error)
{
	SgClientBus *client = user_data;
	const char *name, *old_owner, *new_owner;

	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	if (g_str_equal(name, SG_BUS_NAME) && g_strcmp0(new_owner, client->owner) != 0)
		close_once(client);
	return 0;
}

static void
lost_cb(int errno_value, gpointer user_data)
{
	SgClientBus *client = user_data;

	close_once(client);
}

static gboolean
closed_idle_cb(gpointer user_data)
{
	SgClientBus *client = user_data;

	client->closed_idle = 0;
	close_once(client);
	return G_SOURCE_REMOVE;
}

gboolean
sg_client_bus_subscribe(SgClientBus *client, SgClientEventFunc event_cb,
                        SgClientClosedFunc closed_cb, gpointer user_data, GError **error)
{
	g_auto(sd_bus_error) bus_error = SD_BUS_ERROR_NULL;
	g_autofree char *owner = NULL;
	g_autofree char *rule = NULL;
	int r;

	g_return_val_if_fail(client != NULL && client->signals == NULL, FALSE);
	client->event_cb = event_cb;
	client->closed_cb = closed_cb;
	client->user_data = user_data;
	/* From the unique name we called: a signal in that name is the supervisor's. */
	r = sd_bus_match_signal(client->bus, &client->signals, client->owner, SG_BUS_MANAGER_PATH,
	                        SG_BUS_MANAGER_INTERFACE, NULL, manager_signal_cb, client);
	if (r < 0)
		return sg_error_set_errno(error, r, _("Cannot subscribe to the signals of %s"),
		                          SG_BUS_NAME);
	rule = g_strdup_printf("type='signal',sender='%s',path='%s',interface='%s',"
	                       "member='NameOwnerChanged',arg0='%s'",
	                       DBUS_NAME, DBUS_PATH, DBUS_INTERFACE, SG_BUS_NAME);
	r = sd_bus_add_match(client->bus, &client->owner_changed, rule, owner_changed_cb, client);
	if (r < 0)
		return sg_error_set_errno(error, r, _("Cannot watch the owner of %s"), SG_BUS_NAME);
	client->source = sg_bus_source_attach(client->bus, lost_cb, client);
	/* It may have left before the matches were in place. */
	owner = name_owner(client->bus, &bus_error);
	if (g_strcmp0(owner, client->owner) != 0)
		client->closed_idle = g_idle_add(closed_idle_cb, client);
	return TRUE;
}
