/* SPDX-License-Identifier: MIT */
/* sysg stop: stops the supervisor and its services, or without one the recorded processes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "sg-config.h"
#include "sg-error.h"
#include "sg-clock.h"
#include "sg-contain.h"
#include "sg-paths.h"
#include "sg-problem.h"
#include "sg-proctree.h"
#include "sg-state.h"

#define EXIT_USAGE              2
#define OFFLINE_STOP_TIMEOUT_MS 10000

/* Blocks until the supervisor releases its lock, that is, until it has exited. */
static void
wait_for_exit(const char *state_dir)
{
	g_autofree char *path = sg_paths_state_file(state_dir, SG_STATE_PID_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
		;
	close(fd);
}

typedef struct {
	GMainLoop *loop;
	guint pending;
	guint stopped;
} OfflineStop;

static void
offline_done_cb(const char *service, gboolean killed, guint n_processes, gpointer user_data)
{
	OfflineStop *stop = user_data;

	if (n_processes > 0) {
		printf(_("%s: stopped %u process(es)%s\n"), service, n_processes,
		       killed ? _(" (killed after the timeout)") : "");
		stop->stopped++;
	}
	if (--stop->pending == 0)
		g_main_loop_quit(stop->loop);
}

/* The service's recorded process, when it is still the same process (start time). */
static pid_t
recorded_pid(JsonObject *states, const char *name, gint64 pid)
{
	JsonObject *state;
	gint64 start_time;

	if (states == NULL || !json_object_has_member(states, name))
		return (pid_t)pid;
	state = json_object_get_object_member(states, name);
	if (state == NULL || !json_object_has_member(state, "process_start_time") ||
	    json_object_get_null_member(state, "process_start_time"))
		return (pid_t)pid;
	start_time = json_object_get_int_member(state, "process_start_time");
	return sg_proctree_start_time((pid_t)pid) == (guint64)start_time ? (pid_t)pid : 0;
}

/* Exit 4 for a name neither configured nor recorded; a configured one is just not running. */
static int
no_such_service(const char *state_dir, const char *name)
{
	g_autofree char *path = sg_client_discover_config(NULL, NULL, state_dir, NULL);
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(SgConfig) config =
	        path != NULL ? sg_config_load(path, path, NULL, problems, NULL) : NULL;

	if (config != NULL && sg_config_lookup(config, name) != NULL) {
		printf(_("%s is not running\n"), name);
		return 0;
	}
	sg_cli_error(_("no such service \"%s\""), name);
	return 4;
}

/* The services whose processes carry our markers: spawned just before a supervisor was
 * killed, they may be missing from pid.json. */
static GHashTable *
marked_services(const char *state_id)
{
	GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) found = NULL;

	if (state_id == NULL)
		return names;
	found = sg_proctree_scan(state_id, NULL);
	for (guint i = 0; i < found->len; i++) {
		const SgProcInfo *info = found->pdata[i];
		if (info->service != NULL)
			g_hash_table_add(names, g_strdup(info->service));
	}
	return names;
}

/* With no supervisor: every recorded service, by its session and its markers. */
static int
stop_offline(const char *state_dir, const char *only)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) pids =
	        sg_state_read_json(state_dir, SG_STATE_PID_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_autoptr(JsonNode) states = NULL;
	g_autoptr(SgClock) clock = sg_clock_new_real();
	g_autoptr(SgContain) contain = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GHashTable) marked = NULL;
	OfflineStop stop = { loop, 1, 0 };
	JsonObject *services = NULL, *state_services = NULL;
	const char *state_id = NULL;
	const char *cgroup_root = NULL;
	GHashTableIter iter;
	gpointer key;

	if (pids == NULL && error != NULL) {
		sg_cli_error("%s", error->message);
		return 1;
	}
	/* Reported, not fatal: pid.json and the markers still say what to stop. */
	states = sg_state_read_json(state_dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL,
	                            &error);
	if (states == NULL && error != NULL) {
		sg_cli_error(_("warning: %s"), error->message);
		g_clear_error(&error);
	}
	if (states != NULL && JSON_NODE_HOLDS_OBJECT(states)) {
		JsonObject *root = json_node_get_object(states);
		state_id = json_object_get_string_member_with_default(root, "state_id", NULL);
		if (json_object_has_member(root, "cgroup_root") &&
		    !json_object_get_null_member(root, "cgroup_root"))
			cgroup_root = json_object_get_string_member(root, "cgroup_root");
		if (json_object_has_member(root, "services"))
			state_services = json_object_get_object_member(root, "services");
	}
	if (pids != NULL)
		services = json_object_get_object_member(json_node_get_object(pids), "services");
	marked = marked_services(state_id);
	if (services == NULL && g_hash_table_size(marked) == 0) {
		if (only != NULL)
			return no_such_service(state_dir, only);
		printf("%s\n", _("no supervisor is running and no service is recorded"));
		return 0;
	}
	/* open, not new: the client must never move itself into the services' cgroup. */
	contain = sg_contain_open(cgroup_root, state_id != NULL ? state_id : "", clock, &error);
	if (contain == NULL) {
		sg_cli_error("%s", error->message);
		return 1;
	}
	if (only != NULL && (services == NULL || !json_object_has_member(services, only)) &&
	    !g_hash_table_contains(marked, only)) {
		if (state_services == NULL || !json_object_has_member(state_services, only))
			return no_such_service(state_dir, only);
		printf(_("%s is not running\n"), only);
		return 0;
	}
	if (services != NULL) {
		g_autoptr(GList) names = json_object_get_members(services);
		for (GList *l = names; l != NULL; l = l->next) {
			const char *name = l->data;
			pid_t pid = recorded_pid(state_services, name,
			                         json_object_get_int_member(services, name));
			g_hash_table_remove(marked, name);
			if (only != NULL && g_strcmp0(only, name) != 0)
				continue;
			stop.pending++;
			sg_contain_stop(contain, name, pid, OFFLINE_STOP_TIMEOUT_MS,
			                offline_done_cb, &stop);
		}
	}
	g_hash_table_iter_init(&iter, marked);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (only != NULL && g_strcmp0(only, key) != 0)
			continue;
		stop.pending++;
		sg_contain_stop(contain, key, 0, OFFLINE_STOP_TIMEOUT_MS, offline_done_cb, &stop);
	}
	if (--stop.pending > 0)
		g_main_loop_run(loop);
	if (stop.stopped == 0)
		printf("%s\n", _("no recorded process was running"));
	return 0;
}

/* One service of a running supervisor. */
static int
stop_one(const char *state_dir, const char *service, SgClientTransport transport)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SgClient) client = sg_client_connect(state_dir, transport, &error);
	g_autoptr(JsonObject) params = json_object_new();

	if (client == NULL) {
		/* It exited in between: stop what it left, as with no supervisor. */
		if (g_error_matches(error, SG_ERROR, SG_ERROR_NO_SUPERVISOR))
			return stop_offline(state_dir, service);
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	json_object_set_string_member(params, "name", service);
	if (!sg_client_call(client, "stop", params, NULL, &error)) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	printf(_("stopped %s\n"), service);
	return 0;
}

/* Over D-Bus: the Shutdown method, answered once the services are stopped. */
static int
shutdown_over_bus(const char *state_dir)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SgClient) client = sg_client_connect(state_dir, SG_CLIENT_BUS, &error);

	if (client == NULL) {
		if (g_error_matches(error, SG_ERROR, SG_ERROR_NO_SUPERVISOR))
			return stop_offline(state_dir, NULL);
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	if (!sg_client_call(client, "shutdown", NULL, NULL, &error)) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	return 0;
}

int
sg_cli_stop_everything(const char *state_dir, SgClientTransport transport)
{
	pid_t running = 0;
	int status;

	if (!sg_pid_file_query(state_dir, &running))
		return stop_offline(state_dir, NULL);
	if (transport == SG_CLIENT_BUS) {
		status = shutdown_over_bus(state_dir);
		if (status != 0)
			return status;
	} else if (running <= 0 || kill(running, SIGTERM) < 0) {
		sg_cli_error(_("cannot signal the supervisor (PID %d): %s"), running,
		             running <= 0 ? _("its PID is unknown") : g_strerror(errno));
		return 1;
	}
	wait_for_exit(state_dir);
	printf(_("stopped the supervisor (PID %d) and its services\n"), running);
	return 0;
}

int
sg_cmd_stop(int argc, char **argv, SgCliGlobals *globals)
{
	g_autofree char *service = NULL;
	GOptionEntry entries[] = {
		{ "service", 0, 0, G_OPTION_ARG_STRING, &service, N_("Stop only this service"),
		  N_("NAME") },
		{ NULL },
	};
	g_autofree char *state_dir = sg_paths_state_dir();

	if (!sg_cli_parse("stop", NULL, _("Stop the supervisor and every service."), entries, &argc,
	                  &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg stop --help'."));
		return EXIT_USAGE;
	}
	if (service != NULL) {
		if (!sg_pid_file_query(state_dir, NULL))
			return stop_offline(state_dir, service);
		return stop_one(state_dir, service, sg_cli_transport(globals));
	}
	return sg_cli_stop_everything(state_dir, sg_cli_transport(globals));
}
