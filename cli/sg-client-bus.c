/* SPDX-License-Identifier: MIT */
/* The D-Bus transport of SgClient: the socket's methods mapped onto org.systemg. */
#include "config.h"

#include "sg-client-bus.h"

#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "base/sg-bus-autoptr.h"
#include "base/sg-bus-names.h"
#include "base/sg-bus-source.h"
#include "config/sg-config.h"
#include "config/sg-cron.h"
#include "base/sg-error.h"
#include "base/sg-json.h"
#include "sg-output.h"
#include "base/sg-paths.h"
#include "config/sg-problem.h"
#include "process/sg-proctree.h"
#include "base/sg-shell.h"
#include "state/sg-state.h"

#define DBUS_NAME      "org.freedesktop.DBus"
#define DBUS_PATH      "/org/freedesktop/DBus"
#define DBUS_INTERFACE "org.freedesktop.DBus"
#define PROPERTIES     "org.freedesktop.DBus.Properties"
#define OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
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
			g_set_error_literal(error, SG_ERROR, sg_error_from_dbus_name(bus_error->name),
			                    bus_error->message != NULL ? bus_error->message
			                                               : bus_error->name);
		return FALSE;
	}
	return sg_error_set_errno(error, r, _("D-Bus call %s failed"), member);
}

/* A method call to the supervisor's unique name, never auto-starting a daemon. */
static gboolean
call(SgClientBus *client, const char *path, const char *interface, const char *member,
     sd_bus_message **ret_reply, GError **error, const char *types, ...)
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

static gboolean
parse_error(GError **error, int r, const char *member)
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

static gint64
prop_int(JsonObject *props, const char *name, gint64 absent)
{
	JsonNode *node = json_object_get_member(props, name);

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_INT64)
		return absent;
	return json_node_get_int(node);
}

/* GetAll of one interface of one object. */
static JsonObject *
get_all(SgClientBus *client, const char *path, const char *interface, GError **error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	JsonObject *props = NULL;
	int r;

	if (!call(client, path, PROPERTIES, "GetAll", &reply, error, "s", interface))
		return NULL;
	r = read_properties(reply, &props);
	if (r < 0) {
		parse_error(error, r, "GetAll");
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
	manager = get_all(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, &local);
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

/* ---- the status object, from properties, state files and /proc ---- */

typedef struct {
	SgConfig *config;      /* the supervisor's file as it is now on disk, or NULL */
	JsonObject *states;    /* state.json "services", or NULL */
	JsonObject *cron_jobs; /* cron_state.json "jobs", or NULL */
	JsonNode *state_root;  /* owns states */
	JsonNode *cron_root;   /* owns cron_jobs */
} Context;

static void
context_clear(Context *context)
{
	g_clear_pointer(&context->config, sg_config_unref);
	g_clear_pointer(&context->state_root, json_node_unref);
	g_clear_pointer(&context->cron_root, json_node_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Context, context_clear)

static void
context_init(Context *context, const char *state_dir, const char *config_path)
{
	memset(context, 0, sizeof(*context));
	if (config_path != NULL && config_path[0] != '\0') {
		g_autoptr(GPtrArray) problems = sg_problem_list_new();

		context->config = sg_config_load(config_path, config_path, NULL, problems, NULL);
	}
	context->state_root =
	        sg_state_read_json(state_dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, NULL);
	context->states = sg_json_root_get_object(context->state_root, "services");
	context->cron_root =
	        sg_state_read_json(state_dir, SG_STATE_CRON_JSON, SG_STATE_READ_NONE, NULL, NULL);
	context->cron_jobs = sg_json_root_get_object(context->cron_root, "jobs");
}

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

/*
 * NextRun is 0 while the supervisor does not know it yet: then the next due time as the
 * socket's status computes it, from the schedule in the file.
 */
static gint64
next_run(JsonObject *props, const SgServiceConfig *cfg)
{
	gint64 next = prop_int(props, "NextRun", 0);
	g_autoptr(GTimeZone) tz = NULL;

	if (next > 0 || cfg == NULL || cfg->cron == NULL)
		return next;
	if (cfg->cron_timezone != NULL) {
		tz = g_time_zone_new_identifier(cfg->cron_timezone);
		if (tz == NULL)
			return 0;
	}
	return sg_cron_next(cfg->cron, tz, g_get_real_time());
}

/* No Health property: what the state says of a service that has a check. */
static const char *
health_of(const SgServiceConfig *cfg, const char *state)
{
	if (cfg == NULL)
		return NULL;
	if (cfg->health_check.kind == SG_CHECK_NONE)
		return "none";
	if (g_strcmp0(state, "running") == 0)
		return "healthy";
	if (g_strcmp0(state, "starting") == 0)
		return "starting";
	return NULL;
}

static JsonArray *
argv_of(const SgServiceConfig *cfg, const char *command)
{
	JsonArray *array = json_array_new();
	g_autofree char *joined = sg_shell_join(cfg->argv);
	g_auto(GStrv) parsed = NULL;
	char **argv = cfg->argv;

	/* The command the supervisor runs wins over a file edited since. */
	if (command != NULL && g_strcmp0(joined, command) != 0 &&
	    g_shell_parse_argv(command, NULL, &parsed, NULL))
		argv = parsed;
	for (guint i = 0; argv[i] != NULL; i++)
		json_array_add_string_element(array, argv[i]);
	return array;
}

static JsonObject *
service_object(Context *context, JsonObject *props)
{
	JsonObject *service = json_object_new();
	const char *name = sg_json_object_get_string(props, "Name");
	const char *state = sg_json_object_get_string(props, "State");
	const char *command = sg_json_object_get_string(props, "Command");
	const char *policy = sg_json_object_get_string(props, "RestartPolicy");
	const SgServiceConfig *cfg = context->config != NULL && name != NULL
	                                     ? sg_config_lookup(context->config, name)
	                                     : NULL;
	JsonObject *recorded = sg_json_object_get_object(context->states, name != NULL ? name : "");
	gint64 pid = prop_int(props, "Pid", 0);
	gint64 exit_code = prop_int(props, "ExitCode", -1);
	gint64 exit_signal = prop_int(props, "ExitSignal", 0);
	SgProcInfo info = { 0 };
	JsonNode *depends = json_object_get_member(props, "DependsOn");

	sg_json_object_set_string_or_null(service, "name", name);
	sg_json_object_set_string_or_null(service, "kind",
	                                  sg_json_object_get_string(props, "Kind"));
	sg_json_object_set_string_or_null(service, "state", state);
	set_nullable_int(service, "pid", pid, pid > 0);
	/* Every service leads its own process group; /proc says which when it still runs. */
	if (pid > 0 && sg_proctree_read_stat((pid_t)pid, &info))
		json_object_set_int_member(service, "pgid", info.pgid);
	else
		set_nullable_int(service, "pgid", pid, pid > 0);
	g_free(info.service);
	g_free(info.invocation_id);
	set_time(service, "started_at", prop_int(props, "StartedAt", 0));
	json_object_set_int_member(service, "restart_count", prop_int(props, "RestartCount", 0));
	set_nullable_int(service, "exit_code", exit_code, exit_code >= 0);
	set_nullable_int(service, "exit_signal", exit_signal, exit_signal > 0);
	sg_json_object_set_string_or_null(service, "restart_policy",
	                                  policy != NULL && policy[0] ? policy : NULL);
	if (depends != NULL && JSON_NODE_HOLDS_ARRAY(depends))
		json_object_set_member(service, "depends_on", json_node_copy(depends));
	else
		json_object_set_array_member(service, "depends_on", json_array_new());
	sg_json_object_set_string_or_null(service, "health", health_of(cfg, state));
	set_nullable_int(service, "memory_bytes", prop_int(props, "MemoryBytes", 0), pid > 0);
	if (pid > 0)
		json_object_set_double_member(service, "cpu_seconds",
		                              (double)prop_int(props, "CpuUsec", 0) /
		                                      G_USEC_PER_SEC);
	else
		json_object_set_null_member(service, "cpu_seconds");
	json_object_set_null_member(service, "tasks");
	sg_json_object_set_string_or_null(service, "command", command);
	if (cfg != NULL && cfg->argv != NULL)
		json_object_set_array_member(service, "argv", argv_of(cfg, command));
	json_object_set_boolean_member(service, "orphaned", context->config != NULL && cfg == NULL);
	if (g_strcmp0(sg_json_object_get_string(props, "Kind"), "cron") == 0) {
		JsonObject *cron = json_object_new();
		JsonObject *job =
		        sg_json_object_get_object(context->cron_jobs, name != NULL ? name : "");
		const char *expression = sg_json_object_get_string(props, "CronExpression");

		sg_json_object_set_string_or_null(cron, "expression",
		                                  expression != NULL && expression[0] ? expression
		                                                                      : NULL);
		sg_json_object_set_string_or_null(cron, "timezone",
		                                  cfg != NULL ? cfg->cron_timezone : NULL);
		set_time(cron, "next_run", next_run(props, cfg));
		if (job != NULL && json_object_has_member(job, "history"))
			sg_json_object_copy_member(cron, job, "history");
		else
			json_object_set_array_member(cron, "history", json_array_new());
		json_object_set_object_member(service, "cron", cron);
	}
	sg_json_object_copy_member(service, recorded, "cause");
	return service;
}

/* Task counts from one /proc scan, for the services whose process runs. */
static void
fill_tasks(JsonArray *services, const char *state_id)
{
	g_autoptr(JsonObject) holder = json_object_new();
	g_autoptr(GPtrArray) scan = NULL;
	g_autoptr(GPtrArray) processes = NULL;

	json_object_set_array_member(holder, "services", json_array_ref(services));
	scan = sg_output_scan_processes(state_id);
	processes = sg_output_service_processes(scan, holder);
	for (guint i = 0; i < json_array_get_length(services); i++) {
		JsonObject *service = json_array_get_object_element(services, i);
		GPtrArray *procs = processes->pdata[i];

		if (prop_int(service, "pid", 0) > 0 && procs->len > 0)
			json_object_set_int_member(service, "tasks", procs->len);
	}
	g_clear_pointer(&processes, g_ptr_array_unref);
}

/* When the supervisor process started, from /proc (it has no property for it). */
static gint64
process_started_at(pid_t pid)
{
	guint64 ticks = pid > 0 ? sg_proctree_start_time(pid) : 0;
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec boot;
	gint64 since_boot, now_boot;

	if (ticks == 0 || hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return 0;
	since_boot = (gint64)(ticks * G_USEC_PER_SEC / (guint64)hz);
	now_boot = (gint64)boot.tv_sec * G_USEC_PER_SEC + boot.tv_nsec / 1000;
	return g_get_real_time() - (now_boot - since_boot);
}

/* ListServices: names in the supervisor's order, with their object paths. */
static gboolean
list_services(SgClientBus *client, GPtrArray *names, GPtrArray *paths, JsonArray *listed,
              GError **error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	const char *name, *kind, *state, *path;
	uint32_t pid;
	int r;

	if (!call(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "ListServices", &reply,
	          error, NULL))
		return FALSE;
	r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(sssuo)");
	while (r >= 0 &&
	       (r = sd_bus_message_read(reply, "(sssuo)", &name, &kind, &state, &pid, &path)) > 0) {
		if (names != NULL)
			g_ptr_array_add(names, g_strdup(name));
		if (paths != NULL)
			g_ptr_array_add(paths, g_strdup(path));
		if (listed != NULL) {
			JsonObject *entry = json_object_new();

			json_object_set_string_member(entry, "name", name);
			json_object_set_string_member(entry, "kind", kind);
			json_object_set_string_member(entry, "state", state);
			set_nullable_int(entry, "pid", pid, pid > 0);
			json_array_add_object_element(listed, entry);
		}
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	return r >= 0 || parse_error(error, r, "ListServices");
}

/* GetManagedObjects: path -> the org.systemg.Service properties. */
static GHashTable *
managed_objects(SgClientBus *client, GError **error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	g_autoptr(GHashTable) objects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                                      (GDestroyNotify)json_object_unref);
	int r;

	if (!call(client, SG_BUS_MANAGER_PATH, OBJECT_MANAGER, "GetManagedObjects", &reply, error,
	          NULL))
		return NULL;
	r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "{oa{sa{sv}}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_DICT_ENTRY,
	                                                     "oa{sa{sv}}")) > 0) {
		const char *path;

		r = sd_bus_message_read_basic(reply, 'o', &path);
		if (r >= 0)
			r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "{sa{sv}}");
		while (r >= 0 && (r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_DICT_ENTRY,
		                                                     "sa{sv}")) > 0) {
			const char *interface;
			JsonObject *props = NULL;

			r = sd_bus_message_read_basic(reply, 's', &interface);
			if (r >= 0 && g_str_equal(interface, SG_BUS_SERVICE_INTERFACE)) {
				r = read_properties(reply, &props);
				if (r >= 0)
					g_hash_table_replace(objects, g_strdup(path), props);
			} else if (r >= 0) {
				r = sd_bus_message_skip(reply, "a{sv}");
			}
			if (r >= 0)
				r = sd_bus_message_exit_container(reply);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r < 0) {
		parse_error(error, r, "GetManagedObjects");
		return NULL;
	}
	return g_steal_pointer(&objects);
}

static JsonNode *
bus_status(SgClientBus *client, GError **error)
{
	g_autoptr(JsonObject) manager = NULL;
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) objects = NULL;
	g_auto(Context) context = { 0 };
	JsonObject *root = json_object_new();
	JsonObject *supervisor = json_object_new();
	JsonArray *services = json_array_new();
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	const char *config_path, *state_dir;
	gint64 pid;

	json_node_take_object(node, root);
	json_object_set_object_member(root, "supervisor", supervisor);
	json_object_set_array_member(root, "services", services);
	manager = get_all(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, error);
	if (manager == NULL || !list_services(client, NULL, paths, NULL, error) ||
	    (objects = managed_objects(client, error)) == NULL) {
		json_node_unref(node);
		return NULL;
	}
	config_path = sg_json_object_get_string(manager, "ConfigPath");
	if (config_path != NULL && config_path[0] == '\0')
		config_path = NULL;
	state_dir = sg_json_object_get_string(manager, "StateDirectory");
	pid = prop_int(manager, "Pid", 0);
	json_object_set_boolean_member(supervisor, "running", TRUE);
	set_nullable_int(supervisor, "pid", pid, pid > 0);
	sg_json_object_set_string_or_null(supervisor, "config", config_path);
	sg_json_object_set_string_or_null(supervisor, "state_dir", state_dir);
	sg_json_object_set_string_or_null(supervisor, "version",
	                                  sg_json_object_get_string(manager, "Version"));
	set_time(supervisor, "started_at", process_started_at((pid_t)pid));

	context_init(&context, client->state_dir, config_path);
	for (guint i = 0; i < paths->len; i++) {
		JsonObject *props = g_hash_table_lookup(objects, paths->pdata[i]);

		/* Gone between the two calls: the next status shows it no more. */
		if (props != NULL)
			json_array_add_object_element(services, service_object(&context, props));
	}
	fill_tasks(services,
	           context.state_root != NULL
	                   ? json_object_get_string_member_with_default(
	                             json_node_get_object(context.state_root), "state_id", NULL)
	                   : NULL);
	return node;
}

static JsonNode *
bus_get_service(SgClientBus *client, const char *name, GError **error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	g_autoptr(JsonObject) props = NULL;
	g_autoptr(JsonObject) manager = NULL;
	g_auto(Context) context = { 0 };
	const char *path;
	JsonNode *node;
	int r;

	if (!call(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "GetService", &reply,
	          error, "s", name))
		return NULL;
	r = sd_bus_message_read_basic(reply, 'o', &path);
	if (r < 0) {
		parse_error(error, r, "GetService");
		return NULL;
	}
	props = get_all(client, path, SG_BUS_SERVICE_INTERFACE, error);
	if (props == NULL)
		return NULL;
	manager = get_all(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, error);
	if (manager == NULL)
		return NULL;
	context_init(&context, client->state_dir, sg_json_object_get_string(manager, "ConfigPath"));
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, service_object(&context, props));
	return node;
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
		return call(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, member, NULL,
		            error, "s", name);
	}
	return call(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, action, NULL, error,
	            NULL);
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
	if (!call(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "GetLogs", &reply, error,
	          "ssu", name != NULL ? name : "", kind != NULL ? kind : "",
	          (uint32_t)CLAMP(lines, 0, G_MAXUINT32))) {
		json_array_unref(array);
		return NULL;
	}
	r = sd_bus_message_read_strv(reply, &strv);
	if (r < 0) {
		json_array_unref(array);
		parse_error(error, r, "GetLogs");
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
		JsonArray *listed = json_array_new();

		result = json_node_new(JSON_NODE_ARRAY);
		json_node_take_array(result, listed);
		if (!list_services(client, NULL, NULL, listed, error))
			return FALSE;
	} else if (g_str_equal(method, "get_service")) {
		const char *name = param_string(params, "name");

		if (name == NULL) {
			g_set_error(error, SG_ERROR, SG_ERROR_USAGE,
			            _("parameter \"name\" is required"));
			return FALSE;
		}
		result = bus_get_service(client, name, error);
	} else if (g_str_equal(method, "start") || g_str_equal(method, "stop") ||
	           g_str_equal(method, "restart")) {
		const char *action = g_str_equal(method, "start")  ? "Start"
		                     : g_str_equal(method, "stop") ? "Stop"
		                                                   : "Restart";

		if (call_action(client, action, params, error))
			result = empty_object();
	} else if (g_str_equal(method, "reload")) {
		const char *config = param_string(params, "config");

		if (call(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "Reload", NULL,
		         error, "s", config != NULL ? config : ""))
			result = empty_object();
	} else if (g_str_equal(method, "shutdown")) {
		g_autoptr(GError) local = NULL;

		/* Gone before it could answer is what was asked for. */
		if (call(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "Shutdown", NULL,
		         &local, NULL) ||
		    sd_bus_is_open(client->bus) <= 0 || !sg_pid_file_query(client->state_dir, NULL))
			result = empty_object();
		else
			g_propagate_error(error, g_steal_pointer(&local));
	} else if (g_str_equal(method, "status")) {
		result = bus_status(client, error);
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
	        get_all(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, error);
	const char *path =
	        manager != NULL ? sg_json_object_get_string(manager, "ConfigPath") : NULL;

	return path != NULL && path[0] != '\0' ? g_strdup(path) : NULL;
}

/* ---- signals as events ---- */

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
