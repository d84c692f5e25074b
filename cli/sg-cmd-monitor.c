/* SPDX-License-Identifier: MIT */
/* sysg monitor: one line per supervisor event, as it happens, until interrupted. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "sg-desktop-notify.h"
#include "base/sg-error.h"
#include "base/sg-json.h"
#include "sg-output.h"
#include "base/sg-paths.h"
#include "state/sg-service-state.h"

#define EXIT_USAGE 2

typedef struct {
	GMainLoop *loop;
	SgClient *client;
	SgDesktopNotify *notify; /* --notify, or NULL */
	GHashTable *troubled;    /* names that failed or wait to restart since they last ran */
	GQueue failures;         /* names whose failure is yet to be told, with its cause */
	guint failures_idle;
	gboolean json;
	gboolean bus;
	gboolean gone;
} Monitor;

static const char *
member_string(JsonObject *params, const char *name)
{
	JsonNode *node = json_object_get_member(params, name);

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return "?";
	return json_node_get_string(node);
}

static void
print_json_event(const char *time, const char *event, JsonObject *params)
{
	g_autoptr(JsonObject) object = json_object_new();
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(GList) members = json_object_get_members(params);
	g_autofree char *text = NULL;

	json_object_set_string_member(object, "time", time);
	json_object_set_string_member(object, "event", event);
	for (GList *l = members; l != NULL; l = l->next)
		if (!json_object_has_member(object, l->data))
			json_object_set_member(
			        object, l->data,
			        json_node_copy(json_object_get_member(params, l->data)));
	json_node_set_object(node, object);
	json_generator_set_root(generator, node);
	text = json_generator_to_data(generator, NULL);
	printf("%s\n", text);
}

/* "exited with status 3", "killed by signal 9 (Killed)", or NULL. */
static char *
describe_exit(JsonObject *service)
{
	gint64 code = json_object_get_int_member_with_default(service, "exit_code", -1);
	gint64 sig = json_object_get_int_member_with_default(service, "exit_signal", 0);

	if (sig > 0)
		return g_strdup_printf(_("killed by signal %d (%s)"), (int)sig,
		                       g_strsignal((int)sig));
	if (code >= 0)
		return g_strdup_printf(_("exited with status %d"), (int)code);
	return NULL;
}

/*
 * A failure, told once its details are known. Over the socket the cause says whether
 * restarting was given up. The bus has no cause property (the one in state.json may lag
 * the signal): there the exit comes from the properties, and a failed service with a
 * restart policy gave up, unless its program could not run at all (status 126 or 127).
 */
static void
notify_failure(Monitor *monitor, const char *name)
{
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(JsonNode) result = NULL;
	g_autofree char *summary = NULL;
	g_autofree char *body = NULL;
	const char *cause = NULL;
	gboolean gave_up = FALSE;

	json_object_set_string_member(params, "name", name);
	if (sg_client_call(monitor->client, "get_service", params, &result, NULL) &&
	    JSON_NODE_HOLDS_OBJECT(result)) {
		JsonObject *service = json_node_get_object(result);
		const char *policy = sg_json_object_get_string(service, "restart_policy");
		gint64 code = json_object_get_int_member_with_default(service, "exit_code", -1);
		gint64 restarts =
		        json_object_get_int_member_with_default(service, "restart_count", 0);
		g_autofree char *exit = describe_exit(service);

		cause = sg_json_object_get_string(service, "cause");
		if (!monitor->bus) {
			gave_up = cause != NULL && g_str_has_prefix(cause, "gave up");
			body = g_strdup(cause != NULL ? cause : exit);
		} else {
			gave_up = policy != NULL && !g_str_equal(policy, "never") && code != 126 &&
			          code != 127;
			if (gave_up && exit != NULL)
				body = g_strdup_printf(_("gave up after %d restarts: %s"),
				                       (int)restarts, exit);
			else
				body = g_strdup(exit != NULL ? exit : cause);
		}
	}
	if (gave_up)
		summary = g_strdup_printf(_("%s gave up restarting"), name);
	else
		summary = g_strdup_printf(_("%s failed"), name);
	sg_desktop_notify_post(monitor->notify, name, summary,
	                       body != NULL ? body : _("The service is now failed."),
	                       SG_DESKTOP_URGENCY_CRITICAL);
}

static gboolean
failures_cb(gpointer user_data)
{
	Monitor *monitor = user_data;
	char *name;

	monitor->failures_idle = 0;
	while ((name = g_queue_pop_head(&monitor->failures)) != NULL) {
		notify_failure(monitor, name);
		g_free(name);
	}
	return G_SOURCE_REMOVE;
}

/* Failures and recoveries as desktop notifications; a recovery replaces its failure. */
static void
notify_event(Monitor *monitor, const char *event, JsonObject *params)
{
	const char *name = sg_json_object_get_string(params, "name");
	const char *new_state = sg_json_object_get_string(params, "new_state");
	SgServiceState state;

	if (name == NULL)
		return;
	if (g_str_equal(event, "service_removed")) {
		g_hash_table_remove(monitor->troubled, name);
		return;
	}
	if (!g_str_equal(event, "service_state_changed") ||
	    !sg_service_state_from_string(new_state, &state))
		return;
	if (sg_service_state_is_troubled(state)) {
		g_hash_table_add(monitor->troubled, g_strdup(name));
		if (state == SG_SERVICE_FAILED) {
			/* Asked outside the event: a call cannot nest in the delivery. */
			g_queue_push_tail(&monitor->failures, g_strdup(name));
			if (monitor->failures_idle == 0)
				monitor->failures_idle = g_idle_add(failures_cb, monitor);
		}
	} else if (state == SG_SERVICE_RUNNING && g_hash_table_remove(monitor->troubled, name)) {
		g_autofree char *summary = g_strdup_printf(_("%s recovered"), name);
		g_autofree char *body = g_strdup_printf(_("%s is running again."), name);

		sg_desktop_notify_post(monitor->notify, name, summary, body,
		                       SG_DESKTOP_URGENCY_NORMAL);
	} else if (state == SG_SERVICE_STOPPED) {
		g_hash_table_remove(monitor->troubled, name);
	}
}

static void
event_cb(const char *event, JsonObject *params, gpointer user_data)
{
	Monitor *monitor = user_data;
	g_autofree char *now = sg_output_now_rfc3339();
	const char *name = member_string(params, "name");

	if (monitor->json) {
		print_json_event(now, event, params);
	} else if (g_str_equal(event, "service_state_changed")) {
		printf("%s %s: %s -> %s\n", now, name, member_string(params, "old_state"),
		       member_string(params, "new_state"));
	} else if (g_str_equal(event, "service_added")) {
		printf(_("%s %s: added\n"), now, name);
	} else if (g_str_equal(event, "service_removed")) {
		printf(_("%s %s: removed\n"), now, name);
	} else if (g_str_equal(event, "cron_job_finished")) {
		JsonNode *code = json_object_get_member(params, "exit_code");

		if (code != NULL && JSON_NODE_HOLDS_VALUE(code))
			printf(_("%s %s: cron run %s (exit status %d)\n"), now, name,
			       member_string(params, "result"), (int)json_node_get_int(code));
		else
			printf(_("%s %s: cron run %s\n"), now, name,
			       member_string(params, "result"));
	} else if (g_str_equal(event, "reloaded")) {
		printf(_("%s reloaded %s\n"), now, member_string(params, "config"));
	} else {
		printf("%s %s\n", now, event);
	}
	fflush(stdout);
	if (monitor->notify != NULL)
		notify_event(monitor, event, params);
}

static void
closed_cb(gpointer user_data)
{
	Monitor *monitor = user_data;

	monitor->gone = TRUE;
	g_main_loop_quit(monitor->loop);
}

static gboolean
quit_cb(gpointer user_data)
{
	Monitor *monitor = user_data;

	g_main_loop_quit(monitor->loop);
	return G_SOURCE_CONTINUE;
}

int
sg_cmd_monitor(int argc, char **argv, SgCliGlobals *globals)
{
	gboolean notify = FALSE;
	GOptionEntry entries[] = {
		{ "notify", 0, 0, G_OPTION_ARG_NONE, &notify,
		  N_("Also post desktop notifications for failures and recoveries"), NULL },
		{ NULL },
	};
	g_autofree char *state_dir = sg_paths_state_dir();
	g_autoptr(GError) error = NULL;
	g_autoptr(SgClient) client = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(SgDesktopNotify) desktop = NULL;
	g_autoptr(GHashTable) troubled =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	Monitor monitor = { 0 };
	guint sigint, sigterm;

	if (!sg_cli_parse("monitor", NULL, _("Print supervisor events as they happen."), entries,
	                  &argc, &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg monitor --help'."));
		return EXIT_USAGE;
	}
	if (!sg_cli_check_state_dir(state_dir))
		return 1;
	monitor.loop = loop;
	monitor.troubled = troubled;
	g_queue_init(&monitor.failures);
	monitor.json = globals->json;
	monitor.bus = globals->bus;
	client = sg_client_connect(state_dir, sg_cli_transport(globals), &error);
	if (client == NULL) {
		if (g_error_matches(error, SG_ERROR, SG_ERROR_NO_SUPERVISOR))
			sg_cli_error(_("monitor needs a running supervisor: %s"), error->message);
		else
			sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	monitor.client = client;
	if (notify) {
		desktop = sg_desktop_notify_new(&error);
		if (desktop == NULL) {
			sg_cli_error("%s", error->message);
			return 1;
		}
		monitor.notify = desktop;
	}
	if (!sg_client_subscribe(client, event_cb, closed_cb, &monitor, &error)) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	sigint = g_unix_signal_add(SIGINT, quit_cb, &monitor);
	sigterm = g_unix_signal_add(SIGTERM, quit_cb, &monitor);
	g_main_loop_run(loop);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	/* Failures still to be told are told before leaving. */
	g_clear_handle_id(&monitor.failures_idle, g_source_remove);
	if (monitor.notify != NULL)
		failures_cb(&monitor);
	g_queue_clear_full(&monitor.failures, g_free);
	if (monitor.gone) {
		if (!monitor.json)
			printf("%s\n", _("the supervisor went away"));
		fflush(stdout);
	}
	return 0;
}
