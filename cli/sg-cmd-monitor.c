/* SPDX-License-Identifier: MIT */
/* sysg monitor: one line per supervisor event, as it happens, until interrupted. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "sg-error.h"
#include "sg-output.h"
#include "sg-paths.h"

#define EXIT_USAGE 2

typedef struct {
	GMainLoop *loop;
	gboolean json;
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
	Monitor monitor = { loop, FALSE, FALSE };
	guint sigint, sigterm;

	if (!sg_cli_parse("monitor", NULL, _("Print supervisor events as they happen."), entries,
	                  &argc, &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg monitor --help'."));
		return EXIT_USAGE;
	}
	if (notify) {
		sg_cli_error(_("--notify needs desktop notifications over D-Bus, which this build "
		               "of sysg does not have yet"));
		return EXIT_USAGE;
	}
	monitor.json = globals->json;
	client = sg_client_connect(state_dir, &error);
	if (client == NULL) {
		if (g_error_matches(error, SG_ERROR, SG_ERROR_NO_SUPERVISOR))
			sg_cli_error(_("monitor needs a running supervisor: %s"), error->message);
		else
			sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
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
	if (monitor.gone) {
		if (!monitor.json)
			printf("%s\n", _("the supervisor went away"));
		fflush(stdout);
	}
	return 0;
}
