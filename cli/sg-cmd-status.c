/* SPDX-License-Identifier: MIT */
/* sysg status: the supervisor's view over its socket, or the state files when none runs. */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "config/sg-config.h"
#include "base/sg-error.h"
#include "base/sg-json.h"
#include "sg-output.h"
#include "process/sg-ownership.h"
#include "base/sg-paths.h"
#include "config/sg-problem.h"
#include "process/sg-proctree.h"
#include "base/sg-shell.h"
#include "state/sg-state.h"

#define EXIT_USAGE 2

static gboolean
int_member(JsonObject *object, const char *name, gint64 *ret_value)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_INT64)
		return FALSE;
	*ret_value = json_node_get_int(node);
	return TRUE;
}

/*
 * The recorded main PID when that process still runs and is the one recorded (sg-ownership:
 * same start time, markers that agree; or our markers naming the service), else 0. A
 * zombie is not running: the scan leaves it out.
 */
static pid_t
live_recorded_pid(JsonObject *state, JsonObject *pids, const char *name, GHashTable *by_pid)
{
	gint64 pid = 0, start_time = 0;
	const SgProcInfo *info;

	if (!int_member(state, "pid", &pid) && !int_member(pids, name, &pid))
		return 0;
	if (pid <= 0 || pid > G_MAXINT)
		return 0;
	info = g_hash_table_lookup(by_pid, GINT_TO_POINTER((int)pid));
	if (info == NULL)
		return 0;
	if (!int_member(state, "process_start_time", &start_time))
		start_time = 0;
	if (sg_ownership_check_recorded(info, name, (guint64)MAX(start_time, 0), NULL) !=
	    SG_PROOF_NONE)
		return info->pid;
	return info->markers == SG_MARKERS_OURS && g_strcmp0(info->service, name) == 0 ? info->pid
	                                                                               : 0;
}

static JsonObject *
offline_service(const char *name, const SgServiceConfig *config, JsonObject *state,
                JsonObject *pids, JsonObject *cron_jobs, gboolean have_config, GHashTable *by_pid)
{
	JsonObject *service = json_object_new();
	const char *status = NULL;
	pid_t pid = live_recorded_pid(state, pids, name, by_pid);
	SgProcInfo info = { 0 };
	JsonNode *status_node = state != NULL ? json_object_get_member(state, "status") : NULL;
	gint64 restarts = 0;

	if (status_node != NULL && JSON_NODE_HOLDS_VALUE(status_node) &&
	    json_node_get_value_type(status_node) == G_TYPE_STRING)
		status = json_node_get_string(status_node);
	json_object_set_string_member(service, "name", name);
	json_object_set_string_member(
	        service, "kind",
	        config != NULL ? (config->cron_expression != NULL ? "cron" : "service")
	                       : "service");
	json_object_set_string_member(service, "state", status != NULL ? status : "stopped");
	if (pid > 0 && sg_proctree_read_stat(pid, &info)) {
		json_object_set_int_member(service, "pid", pid);
		json_object_set_int_member(service, "pgid", info.pgid);
	} else {
		json_object_set_null_member(service, "pid");
		json_object_set_null_member(service, "pgid");
	}
	g_free(info.service);
	g_free(info.invocation_id);
	sg_json_object_copy_member(service, state, "started_at");
	int_member(state, "restart_count", &restarts);
	json_object_set_int_member(service, "restart_count", restarts);
	sg_json_object_copy_member(service, state, "exit_code");
	sg_json_object_copy_member(service, state, "exit_signal");
	if (config != NULL) {
		JsonArray *depends = json_array_new();

		json_object_set_string_member(service, "restart_policy",
		                              sg_restart_policy_to_string(config->restart_policy));
		for (guint i = 0; i < config->n_depends_on; i++)
			json_array_add_string_element(depends, config->depends_on[i].service);
		json_object_set_array_member(service, "depends_on", depends);
		/* Without a supervisor, whether a check passed is unknown. */
		if (config->health_check.kind == SG_CHECK_NONE)
			json_object_set_string_member(service, "health", "none");
		else
			json_object_set_null_member(service, "health");
	} else {
		json_object_set_null_member(service, "restart_policy");
		json_object_set_array_member(service, "depends_on", json_array_new());
		json_object_set_null_member(service, "health");
	}
	json_object_set_null_member(service, "memory_bytes");
	json_object_set_null_member(service, "cpu_seconds");
	json_object_set_null_member(service, "tasks");
	if (config != NULL && config->argv != NULL) {
		g_autofree char *joined = sg_shell_join(config->argv);
		JsonArray *argv = json_array_new();

		json_object_set_string_member(service, "command", joined);
		for (guint i = 0; config->argv[i] != NULL; i++)
			json_array_add_string_element(argv, config->argv[i]);
		json_object_set_array_member(service, "argv", argv);
	} else {
		sg_json_object_set_string_or_null(service, "command",
		                                  config != NULL ? config->command : NULL);
	}
	json_object_set_boolean_member(service, "orphaned", have_config && config == NULL);
	if (config != NULL && config->cron_expression != NULL) {
		JsonObject *job = sg_json_object_get_object(cron_jobs, name);
		JsonObject *cron = json_object_new();

		json_object_set_string_member(cron, "expression", config->cron_expression);
		sg_json_object_set_string_or_null(cron, "timezone", config->cron_timezone);
		sg_json_object_copy_member(cron, job, "next_run");
		if (job != NULL && json_object_has_member(job, "history"))
			sg_json_object_copy_member(cron, job, "history");
		else
			json_object_set_array_member(cron, "history", json_array_new());
		json_object_set_object_member(service, "cron", cron);
	}
	if (status_node == NULL && state != NULL)
		json_object_set_string_member(service, "state", "stopped");
	/* The cause the supervisor recorded, for the text output only. */
	if (state != NULL && json_object_has_member(state, "cause"))
		sg_json_object_copy_member(service, state, "cause");
	return service;
}

/* Memory, CPU time and task count from one /proc scan, for services whose process runs. */
static void
fill_usage(JsonObject *status, GPtrArray *processes)
{
	JsonArray *services = json_object_get_array_member(status, "services");

	for (guint i = 0; i < json_array_get_length(services); i++) {
		JsonObject *service = json_array_get_object_element(services, i);
		GPtrArray *procs = processes->pdata[i];
		gint64 pid = 0, cpu_total = 0, rss_total = 0;

		if (!int_member(service, "pid", &pid))
			continue;
		for (guint j = 0; j < procs->len; j++) {
			const SgProcInfo *info = g_ptr_array_index(procs, j);

			cpu_total += info->cpu_usec;
			rss_total += info->rss_bytes;
		}
		json_object_set_int_member(service, "memory_bytes", rss_total);
		json_object_set_double_member(service, "cpu_seconds", (double)cpu_total / 1e6);
		json_object_set_int_member(service, "tasks", procs->len);
	}
}

static char *
read_state_id(const char *state_dir)
{
	g_autoptr(JsonNode) root =
	        sg_state_read_json(state_dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, NULL);

	/* A hand-edited file may hold anything there: only a string is an id. */
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
		return NULL;
	return g_strdup(sg_json_object_get_string(json_node_get_object(root), "state_id"));
}

/* Reads a state file without changing anything; a corrupt one is reported and skipped. */
static JsonNode *
read_state_file(const char *state_dir, const char *name)
{
	g_autoptr(GError) error = NULL;
	JsonNode *root = sg_state_read_json(state_dir, name, SG_STATE_READ_NONE, NULL, &error);

	if (root == NULL && error != NULL)
		sg_cli_error(_("warning: %s"), error->message);
	return root;
}

/* The status object built from the state files, as sysgd would give it. */
static JsonNode *
offline_status(const char *state_dir, SgConfig *config, gboolean all, GPtrArray *scan)
{
	g_autoptr(GHashTable) by_pid = g_hash_table_new(NULL, NULL);
	g_autoptr(JsonNode) states = read_state_file(state_dir, SG_STATE_STATE_JSON);
	g_autoptr(JsonNode) pids = read_state_file(state_dir, SG_STATE_PID_JSON);
	g_autoptr(JsonNode) crons = read_state_file(state_dir, SG_STATE_CRON_JSON);
	JsonObject *state_services = sg_json_root_get_object(states, "services");
	JsonObject *pid_services = sg_json_root_get_object(pids, "services");
	JsonObject *cron_jobs = sg_json_root_get_object(crons, "jobs");
	JsonObject *root = json_object_new();
	JsonObject *supervisor = json_object_new();
	JsonArray *services = json_array_new();
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GList) names = NULL;

	for (guint i = 0; i < scan->len; i++)
		g_hash_table_insert(by_pid, GINT_TO_POINTER(((SgProcInfo *)scan->pdata[i])->pid),
		                    scan->pdata[i]);
	json_object_set_boolean_member(supervisor, "running", FALSE);
	json_object_set_null_member(supervisor, "pid");
	sg_json_object_set_string_or_null(supervisor, "config",
	                                  config != NULL ? config->path : NULL);
	json_object_set_string_member(supervisor, "state_dir", state_dir);
	json_object_set_string_member(supervisor, "version", PACKAGE_VERSION);
	json_object_set_null_member(supervisor, "started_at");
	json_object_set_object_member(root, "supervisor", supervisor);

	for (guint i = 0; config != NULL && i < config->services->len; i++) {
		const SgServiceConfig *service = g_ptr_array_index(config->services, i);

		g_hash_table_add(seen, service->name);
		json_array_add_object_element(
		        services,
		        offline_service(service->name, service,
		                        sg_json_object_get_object(state_services, service->name),
		                        pid_services, cron_jobs, TRUE, by_pid));
	}
	/* Services only the state files know: with --all, or when no configuration is known. */
	if (all || config == NULL) {
		names = state_services != NULL ? json_object_get_members(state_services) : NULL;
		for (GList *l = names; l != NULL; l = l->next) {
			if (g_hash_table_contains(seen, l->data))
				continue;
			g_hash_table_add(seen, l->data);
			json_array_add_object_element(
			        services,
			        offline_service(l->data, NULL,
			                        sg_json_object_get_object(state_services, l->data),
			                        pid_services, cron_jobs, config != NULL, by_pid));
		}
		g_clear_pointer(&names, g_list_free);
		names = pid_services != NULL ? json_object_get_members(pid_services) : NULL;
		for (GList *l = names; l != NULL; l = l->next) {
			if (g_hash_table_contains(seen, l->data))
				continue;
			g_hash_table_add(seen, l->data);
			json_array_add_object_element(
			        services, offline_service(l->data, NULL, NULL, pid_services,
			                                  cron_jobs, config != NULL, by_pid));
		}
	}
	json_object_set_array_member(root, "services", services);
	json_node_take_object(node, root);
	return node;
}

/* Keeps only the named service (FALSE when it is not there), or drops orphans without --all. */
static gboolean
filter_services(JsonObject *status, const char *only, gboolean all)
{
	JsonArray *services = json_object_get_array_member(status, "services");
	JsonArray *kept = json_array_new();
	gboolean found = FALSE;

	for (guint i = 0; services != NULL && i < json_array_get_length(services); i++) {
		JsonObject *service = json_array_get_object_element(services, i);
		const char *name = json_object_get_string_member_with_default(service, "name", "");
		gboolean orphaned =
		        json_object_get_boolean_member_with_default(service, "orphaned", FALSE);

		if (only != NULL ? g_str_equal(name, only) : (all || !orphaned)) {
			json_array_add_element(kept, json_array_dup_element(services, i));
			found = TRUE;
		}
	}
	json_object_set_array_member(status, "services", kept);
	return only == NULL || found;
}

int
sg_cmd_status(int argc, char **argv, SgCliGlobals *globals)
{
	g_autofree char *service = NULL;
	gboolean all = FALSE;
	GOptionEntry entries[] = {
		{ "service", 0, 0, G_OPTION_ARG_STRING, &service, N_("Show only this service"),
		  N_("NAME") },
		{ "all", 0, 0, G_OPTION_ARG_NONE, &all,
		  N_("Also show services found in the state files but not in the configuration"),
		  NULL },
		{ NULL },
	};
	g_autofree char *state_dir = sg_paths_state_dir();
	g_autofree char *state_id = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(SgClient) client = NULL;
	g_autoptr(JsonNode) status = NULL;
	g_autoptr(GPtrArray) scan = NULL;
	g_autoptr(GPtrArray) processes = NULL;

	if (!sg_cli_parse("status", NULL, _("Show the state of the supervisor and its services."),
	                  entries, &argc, &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg status --help'."));
		return EXIT_USAGE;
	}
	if (!sg_cli_check_state_dir(state_dir))
		return 1;
	if (service != NULL) {
		g_autofree char *where =
		        sg_client_discover_config(globals->config, NULL, state_dir, NULL);

		if (!sg_cli_service_exists(service, where, state_dir))
			return SG_CLI_EXIT_NO_SUCH_SERVICE;
	}
	client = sg_client_connect(state_dir, sg_cli_transport(globals), &error);
	if (client != NULL) {
		status = sg_client_status(client, &error);
		if (status == NULL) {
			sg_cli_error("%s", error->message);
			return sg_error_exit_code_for(error);
		}
	} else if (g_error_matches(error, SG_ERROR, SG_ERROR_NO_SUPERVISOR)) {
		g_autoptr(SgConfig) config = NULL;
		g_autoptr(GPtrArray) problems = sg_problem_list_new();
		g_autofree char *path = NULL;

		g_clear_error(&error);
		path = sg_client_discover_config(globals->config, NULL, state_dir, &error);
		if (path != NULL)
			config = sg_config_load(path, path, NULL, problems, &error);
		if (config == NULL && globals->config != NULL) {
			for (guint i = 0; i < problems->len; i++) {
				g_autofree char *line = sg_problem_format(problems->pdata[i]);
				fprintf(stderr, "%s\n", line);
			}
			sg_cli_error("%s", error->message);
			return sg_error_exit_code(SG_ERROR_INVALID_CONFIG);
		}
		/* No usable configuration: the state files alone still say what ran. One scan
		 * tells which recorded processes still run and what belongs to them. */
		g_clear_error(&error);
		state_id = read_state_id(state_dir);
		scan = sg_output_scan_processes(state_id);
		status = offline_status(state_dir, config, all, scan);
	} else {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	if (!filter_services(json_node_get_object(status), service, all)) {
		sg_cli_error(_("no such service \"%s\""), service);
		return sg_error_exit_code(SG_ERROR_NO_SUCH_SERVICE);
	}
	if (scan == NULL && !globals->json) {
		state_id = read_state_id(state_dir);
		scan = sg_output_scan_processes(state_id);
	}
	processes = sg_output_service_processes(scan, json_node_get_object(status));
	if (client == NULL)
		fill_usage(json_node_get_object(status), processes);
	if (globals->json)
		sg_output_print_json(stdout, status);
	else
		sg_output_print_status(stdout, json_node_get_object(status), processes,
		                       sg_output_use_color(stdout));
	g_clear_pointer(&processes, g_ptr_array_unref);
	return 0;
}
