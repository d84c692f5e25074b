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
#include "base/sg-fileio.h"
#include "sg-client.h"
#include "config/sg-config.h"
#include "base/sg-error.h"
#include "state/sg-boot.h"
#include "base/sg-clock.h"
#include "process/sg-contain.h"
#include "base/sg-json.h"
#include "process/sg-ownership.h"
#include "base/sg-paths.h"
#include "config/sg-problem.h"
#include "process/sg-proctree.h"
#include "state/sg-state.h"

#define EXIT_USAGE              2
#define OFFLINE_STOP_TIMEOUT_MS 10000

/* Blocks until the supervisor releases its lock, that is, until it has exited. */
static void
wait_for_exit(const char *state_dir)
{
	g_autofree char *path = sg_paths_state_file(state_dir, SG_STATE_PID_FILE);
	int fd = sg_fileio_open_path(path, O_RDONLY, 0, NULL);

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

/* The start time state.json records for the service's main process pid, or 0. */
static guint64
recorded_start_time(JsonObject *states, const char *name, gint64 pid)
{
	JsonObject *state = sg_json_object_get_object(states, name);
	JsonNode *node;

	if (state == NULL)
		return 0;
	node = json_object_get_member(state, "pid");
	if (node == NULL || json_node_get_value_type(node) != G_TYPE_INT64 ||
	    json_node_get_int(node) != pid)
		return 0;
	node = json_object_get_member(state, "process_start_time");
	if (node == NULL || json_node_get_value_type(node) != G_TYPE_INT64)
		return 0;
	return (guint64)MAX(json_node_get_int(node), 0);
}

static gint64
recorded_pid(JsonObject *pids, const char *name)
{
	JsonNode *node = json_object_get_member(pids, name);

	if (node == NULL || json_node_get_value_type(node) != G_TYPE_INT64)
		return 0;
	return json_node_get_int(node);
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
	return sg_error_exit_code(SG_ERROR_NO_SUCH_SERVICE);
}

static gboolean
pids_contain(GArray *pids, pid_t pid)
{
	for (guint i = 0; pids != NULL && i < pids->len; i++)
		if (g_array_index(pids, pid_t, i) == pid)
			return TRUE;
	return FALSE;
}

/*
 * The main process pid.json records for name, when it is proven ours (docs/engine.md):
 * its recorded start time with markers that agree, or a member of the service by its cgroup
 * or its markers. Otherwise 0, and the user is told why it is left alone.
 */
static pid_t
proven_main(SgContain *contain, GHashTable *by_pid, JsonObject *pids, JsonObject *states,
            const char *name)
{
	gint64 pid = recorded_pid(pids, name);
	guint64 start_time = recorded_start_time(states, name, pid);
	const SgProcInfo *info = pid > 0 && pid <= G_MAXINT
	                                 ? g_hash_table_lookup(by_pid, GINT_TO_POINTER(pid))
	                                 : NULL;
	g_autofree char *why = NULL;
	g_autoptr(GArray) members = NULL;

	if (info == NULL)
		return 0;
	if (sg_ownership_check_recorded(info, name, start_time, &why) != SG_PROOF_NONE) {
		sg_contain_set_recorded(contain, name, start_time);
		return info->pid;
	}
	members = sg_contain_list(contain, name, 0);
	if (pids_contain(members, info->pid))
		return info->pid;
	sg_cli_error(_("warning: %s: not stopping PID %d named in %s: %s"), name, (int)info->pid,
	             SG_STATE_PID_JSON, why);
	return 0;
}

typedef struct {
	GHashTable *dead; /* name -> recorded PID (GINT_TO_POINTER) to remove */
} Cleanup;

static gboolean
remove_dead_cb(JsonObject *root, gpointer user_data, GError **error)
{
	Cleanup *cleanup = user_data;
	JsonObject *services = sg_json_object_get_object(root, "services");
	GHashTableIter iter;
	gpointer name, pid;

	g_hash_table_iter_init(&iter, cleanup->dead);
	while (services != NULL && g_hash_table_iter_next(&iter, &name, &pid)) {
		/* Only the entry we judged: a supervisor may have written a new one since. */
		if (recorded_pid(services, name) == GPOINTER_TO_INT(pid))
			json_object_remove_member(services, name);
	}
	return TRUE;
}

/* What an offline stop did, for the next supervisor (docs/persistence.md). */
typedef struct {
	GPtrArray *names; /* the services stopped */
	gboolean all;     /* every service: the run is over */
} OfflineRecord;

static gboolean
record_in_state_json_cb(JsonObject *root, gpointer user_data, GError **error)
{
	OfflineRecord *record = user_data;
	JsonNode *services = json_object_get_member(root, "services");

	/* Stopped on purpose: not crashes; and when all were, not held stopped either. */
	if (record->all)
		json_object_set_boolean_member(root, "run_ended", TRUE);
	if (services == NULL || !JSON_NODE_HOLDS_OBJECT(services))
		return TRUE;
	for (guint i = 0; i < record->names->len; i++) {
		JsonNode *node = json_object_get_member(json_node_get_object(services),
		                                        record->names->pdata[i]);
		JsonObject *state;

		if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
			continue;
		state = json_node_get_object(node);
		json_object_set_string_member(state, "status", "stopped");
		json_object_set_null_member(state, "pid");
		json_object_set_null_member(state, "process_start_time");
		json_object_set_null_member(state, "invocation_id");
	}
	return TRUE;
}

/* Only files that could be read are updated: a corrupt one is the supervisor's to set aside. */
/* pid.json is cleaned by remove_dead_pids: it keeps a process that survived the stop. */
static void
record_offline_stop(const char *state_dir, OfflineRecord *record, gboolean has_states)
{
	g_autoptr(GError) error = NULL;

	if (has_states && !sg_state_update_json(state_dir, SG_STATE_STATE_JSON,
	                                        record_in_state_json_cb, record, NULL, &error))
		sg_cli_error(_("warning: the stop is not recorded: %s"), error->message);
}

/*
 * Removes from pid.json the entries of names (NULL: all) whose recorded process is no
 * longer a live process of ours: pid.json lists live processes only.
 */
static void
remove_dead_pids(const char *state_dir, JsonObject *pids, JsonObject *states, const char *only)
{
	g_autoptr(GList) names = json_object_get_members(pids);
	g_autoptr(GHashTable) dead = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	Cleanup cleanup = { dead };

	for (GList *l = names; l != NULL; l = l->next) {
		const char *name = l->data;
		gint64 pid = recorded_pid(pids, name);
		guint64 start_time = recorded_start_time(states, name, pid);
		guint64 now = pid > 0 && pid <= G_MAXINT ? sg_proctree_start_time((pid_t)pid) : 0;

		if (only != NULL && g_strcmp0(only, name) != 0)
			continue;
		/* Still running and ours (it survived even SIGKILL): the entry stays true. */
		if (now != 0 && now == start_time)
			continue;
		g_hash_table_insert(dead, (gpointer)name, GINT_TO_POINTER((int)pid));
	}
	if (g_hash_table_size(dead) > 0 &&
	    !sg_state_update_json(state_dir, SG_STATE_PID_JSON, remove_dead_cb, &cleanup, NULL,
	                          &error))
		sg_cli_error(_("warning: %s"), error->message);
}

/*
 * With no supervisor: every recorded service whose main process is proven ours, by its
 * session, its markers and its descendants; and services whose processes carry our markers
 * but are missing from pid.json (spawned just before a supervisor was killed). One /proc
 * scan decides.
 */
static int
stop_offline(const char *state_dir, const char *only)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) pid_root =
	        sg_state_read_json(state_dir, SG_STATE_PID_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_autoptr(JsonNode) states = NULL;
	g_autoptr(SgClock) clock = sg_clock_new_real();
	g_autoptr(SgContain) contain = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GHashTable) marked = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) by_pid = g_hash_table_new(NULL, NULL);
	g_autoptr(GPtrArray) scan = NULL;
	OfflineStop stop = { loop, 1, 0 };
	g_autoptr(GPtrArray) stopped = g_ptr_array_new_with_free_func(g_free);
	OfflineRecord record = { stopped, only == NULL };
	JsonObject *services = NULL, *state_services = NULL, *start_times = NULL;
	const char *state_id = NULL;
	const char *cgroup_root = NULL;
	GHashTableIter iter;
	gpointer key;

	if (pid_root == NULL && error != NULL) {
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
		state_id = sg_json_object_get_string(root, "state_id");
		/* A hand-edited file may hold anything there: only a string is a path. */
		cgroup_root = sg_json_object_get_string(root, "cgroup_root");
		state_services = sg_json_object_get_object(root, "services");
		/* PIDs and start times of another boot prove nothing (docs/engine.md). */
		if (!sg_boot_id_is_other(sg_json_object_get_string(root, "boot_id")))
			start_times = state_services;
	}
	services = sg_json_root_get_object(pid_root, "services");
	scan = sg_proctree_scan_all(state_id);
	for (guint i = 0; i < scan->len; i++) {
		const SgProcInfo *info = scan->pdata[i];

		g_hash_table_insert(by_pid, GINT_TO_POINTER(info->pid), (gpointer)info);
		if (info->service != NULL)
			g_hash_table_add(marked, info->service);
	}
	if (services == NULL && g_hash_table_size(marked) == 0) {
		if (only != NULL)
			return no_such_service(state_dir, only);
		record_offline_stop(state_dir, &record, state_services != NULL);
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
		/* Asked to be stopped: the next supervisor leaves it stopped. */
		g_ptr_array_add(stopped, g_strdup(only));
		record_offline_stop(state_dir, &record, TRUE);
		printf(_("%s is not running\n"), only);
		return 0;
	}
	if (services != NULL) {
		g_autoptr(GList) names = json_object_get_members(services);
		for (GList *l = names; l != NULL; l = l->next) {
			const char *name = l->data;

			g_hash_table_remove(marked, name);
			if (only != NULL && g_strcmp0(only, name) != 0)
				continue;
			stop.pending++;
			g_ptr_array_add(stopped, g_strdup(name));
			sg_contain_stop(contain, name,
			                proven_main(contain, by_pid, services, start_times, name),
			                OFFLINE_STOP_TIMEOUT_MS, offline_done_cb, &stop);
		}
	}
	g_hash_table_iter_init(&iter, marked);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (only != NULL && g_strcmp0(only, key) != 0)
			continue;
		stop.pending++;
		g_ptr_array_add(stopped, g_strdup(key));
		sg_contain_stop(contain, key, 0, OFFLINE_STOP_TIMEOUT_MS, offline_done_cb, &stop);
	}
	if (--stop.pending > 0)
		g_main_loop_run(loop);
	if (services != NULL)
		remove_dead_pids(state_dir, services, start_times, only);
	record_offline_stop(state_dir, &record, state_services != NULL);
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
	g_autoptr(GError) error = NULL;
	pid_t running = 0;
	int status;

	if (!sg_pid_file_query(state_dir, &running))
		return stop_offline(state_dir, NULL);
	if (transport == SG_CLIENT_BUS) {
		status = shutdown_over_bus(state_dir);
		if (status != 0)
			return status;
	} else if (!sg_ownership_signal_supervisor(state_dir, running, SIGTERM, &error)) {
		sg_cli_error("%s", error->message);
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
	if (!sg_cli_check_state_dir(state_dir))
		return 1;
	if (service != NULL) {
		if (!sg_pid_file_query(state_dir, NULL))
			return stop_offline(state_dir, service);
		return stop_one(state_dir, service, sg_cli_transport(globals));
	}
	return sg_cli_stop_everything(state_dir, sg_cli_transport(globals));
}
