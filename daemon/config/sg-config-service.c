/* SPDX-License-Identifier: MIT */
/* One service block of systemg.yaml read into its SgServiceConfig. */
#include "config.h"

#include "config/sg-config-service.h"

#include <glib/gi18n.h>
#include <string.h>

#include "config/sg-config-blocks.h"
#include "config/sg-config-env.h"

static const char *const service_keys[] = {
	"command",    "exec",        "working_dir",  "env",          "depends_on", "restart_policy",
	"backoff",    "backoff_max", "max_restarts", "stop_timeout", "skip",       "health_check",
	"deployment", "hooks",       "logs",         "cron",         NULL,
};
static const char *const dependency_keys[] = { "service", "condition", NULL };
static const char *const cron_keys[] = { "expression", "timezone", NULL };
/* Keys that make no sense on a cron job: it is started at its times, never restarted. */
static const char *const cron_forbidden_keys[] = { "restart_policy", "backoff",    "backoff_max",
	                                           "max_restarts",   "deployment", "health_check",
	                                           "depends_on",     NULL };

#define DEFAULT_BACKOFF_MS      5000
#define DEFAULT_STOP_TIMEOUT_MS 10000
#define DEFAULT_HOOK_TIMEOUT_MS 30000
#define MAX_RESTARTS_LIMIT      G_MAXINT32

void
sg_service_config_free(SgServiceConfig *service)
{
	if (service == NULL)
		return;
	g_free(service->name);
	g_free(service->command);
	g_strfreev(service->argv);
	g_free(service->working_dir);
	g_strfreev(service->env);
	for (guint i = 0; i < service->n_depends_on; i++)
		g_free(service->depends_on[i].service);
	g_free(service->depends_on);
	g_free(service->skip_command);
	g_free(service->health_check.target);
	g_free(service->deployment.pre_start);
	g_free(service->deployment.health_check.target);
	for (guint i = 0; i < SG_HOOK_N; i++)
		g_free(service->hooks[i].command);
	g_free(service->cron_expression);
	g_free(service->cron_timezone);
	g_clear_pointer(&service->cron, sg_cron_schedule_free);
	g_free(service);
}

void
sg_dep_ref_free(SgDepRef *ref)
{
	g_free(ref->path);
	g_free(ref);
}

void
sg_service_draft_free(SgServiceDraft *draft)
{
	sg_service_config_free(draft->config);
	g_ptr_array_unref(draft->dep_refs);
	g_free(draft);
}

static void
load_dependencies(SgLoader *loader, const SgYamlNode *node, const char *path, SgServiceDraft *draft)
{
	SgServiceConfig *service = draft->config;

	if (!sg_loader_expect_sequence(loader, node, path))
		return;
	if (node->items->len > SG_CONFIG_MAX_ITEMS) {
		sg_loader_error(loader, node, path, _("more than %d dependencies"),
		                SG_CONFIG_MAX_ITEMS);
		return;
	}
	service->depends_on = g_new0(SgDependency, node->items->len);
	for (guint i = 0; i < node->items->len; i++) {
		const SgYamlNode *item = g_ptr_array_index(node->items, i);
		const SgYamlNode *name_node = item;
		g_autofree char *ipath = sg_loader_index_path(path, i);
		g_autofree char *name_path = NULL;
		SgCondition condition = SG_CONDITION_READY;
		SgDepRef *ref;
		char *name;

		if (item->kind == SG_YAML_MAPPING) {
			SgYamlPair *spair = sg_yaml_mapping_lookup(item, "service");
			SgYamlPair *cpair = sg_yaml_mapping_lookup(item, "condition");

			sg_loader_check_keys(loader, item, ipath, dependency_keys);
			if (cpair != NULL) {
				g_autofree char *cpath = sg_loader_child_path(ipath, "condition");
				char *text;
				if (sg_loader_read_string(loader, cpair->value, cpath, FALSE,
				                          &text)) {
					if (g_str_equal(text, "completed"))
						condition = SG_CONDITION_COMPLETED;
					else if (!g_str_equal(text, "ready"))
						sg_loader_error(
						        loader, cpair->value, cpath,
						        _("unknown condition \"%s\": use ready "
						          "or completed"),
						        text);
				}
			}
			if (spair == NULL) {
				sg_loader_error(loader, item, ipath,
				                _("a dependency needs the key \"service\""));
				continue;
			}
			name_node = spair->value;
			name_path = sg_loader_child_path(ipath, "service");
		} else {
			name_path = g_strdup(ipath);
		}
		if (!sg_loader_read_string(loader, name_node, name_path, FALSE, &name))
			continue;
		for (guint j = 0; j < service->n_depends_on; j++) {
			if (g_str_equal(service->depends_on[j].service, name)) {
				sg_loader_error(loader, name_node, name_path,
				                _("\"%s\" is listed twice"), name);
				name = NULL;
				break;
			}
		}
		if (name == NULL)
			continue;
		service->depends_on[service->n_depends_on].service = g_strdup(name);
		service->depends_on[service->n_depends_on].condition = condition;
		service->n_depends_on++;
		ref = g_new0(SgDepRef, 1);
		ref->node = name_node;
		ref->path = g_steal_pointer(&name_path);
		g_ptr_array_add(draft->dep_refs, ref);
	}
}

static void
load_exec(SgLoader *loader, const SgYamlNode *node, const char *path, SgServiceConfig *service)
{
	GPtrArray *argv;

	if (!sg_loader_expect_sequence(loader, node, path))
		return;
	if (node->items->len == 0) {
		sg_loader_error(loader, node, path, _("needs at least the program to run"));
		return;
	}
	if (node->items->len > SG_CONFIG_MAX_ITEMS) {
		sg_loader_error(loader, node, path, _("more than %d arguments"),
		                SG_CONFIG_MAX_ITEMS);
		return;
	}
	argv = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < node->items->len; i++) {
		const SgYamlNode *item = g_ptr_array_index(node->items, i);
		g_autofree char *ipath = sg_loader_index_path(path, i);
		char *raw, *expanded;

		if (!sg_loader_read_string(loader, item, ipath, i > 0, &raw) ||
		    (expanded = sg_loader_expand(loader, item, ipath, raw, SG_N_LAYERS)) == NULL) {
			g_ptr_array_unref(argv);
			return;
		}
		g_ptr_array_add(argv, expanded);
	}
	g_ptr_array_add(argv, NULL);
	service->argv = (char **)g_ptr_array_free(argv, FALSE);
}

static void
load_cron(SgLoader *loader, const SgYamlNode *node, const char *path, SgServiceConfig *service)
{
	SgYamlPair *pair;
	char *text;

	if (!sg_loader_expect_mapping(loader, node, path))
		return;
	sg_loader_check_keys(loader, node, path, cron_keys);
	pair = sg_yaml_mapping_lookup(node, "expression");
	if (pair == NULL) {
		sg_loader_error(loader, node, path, _("a cron job needs an expression"));
	} else {
		g_autofree char *p = sg_loader_child_path(path, "expression");
		g_autoptr(GError) local_error = NULL;

		if (sg_loader_read_string(loader, pair->value, p, FALSE, &text)) {
			service->cron = sg_cron_parse(text, &local_error);
			if (service->cron == NULL)
				sg_loader_error(loader, pair->value, p, "%s", local_error->message);
			service->cron_expression = g_strdup(text);
		}
	}
	if ((pair = sg_yaml_mapping_lookup(node, "timezone")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "timezone");
		if (sg_loader_read_string(loader, pair->value, p, FALSE, &text)) {
			if (!sg_cron_timezone_is_valid(text))
				sg_loader_error(
				        loader, pair->value, p,
				        _("unknown time zone \"%s\": use an IANA name such as "
				          "Europe/Paris"),
				        text);
			else
				service->cron_timezone = g_strdup(text);
		}
	}
	/* A job that failed to parse still counts as a cron job for the other rules. */
	if (service->cron_expression == NULL)
		service->cron_expression = g_strdup("");
}

static void
load_skip(SgLoader *loader, const SgYamlNode *node, const char *path, SgServiceConfig *service)
{
	/* A plain true/false is the flag; a string (quoted or not) is a command. */
	if (sg_loader_is_plain(node)) {
		g_autofree char *lower = g_ascii_strdown(node->value, -1);
		static const char *const flags[] = { "true", "false", "yes", "no", "on",
			                             "off",  "y",     "n",   NULL };
		if (g_strv_contains(flags, lower)) {
			sg_loader_read_bool(loader, node, path, &service->skip);
			return;
		}
	}
	if (node->kind != SG_YAML_SCALAR || sg_yaml_node_is_null(node) || node->value[0] == '\0') {
		sg_loader_error(loader, node, path,
		                _("expected true, false or a command, found %s"),
		                sg_loader_kind_name(node));
		return;
	}
	service->skip_command = g_strdup(node->value);
}

static void
load_restart_policy(SgLoader *loader, const SgYamlNode *node, const char *path,
                    SgServiceConfig *service)
{
	static const char *const policies[] = { "never", "on-failure", "always", NULL };
	char *text;

	if (!sg_loader_read_string(loader, node, path, FALSE, &text))
		return;
	for (guint i = 0; policies[i] != NULL; i++) {
		if (g_str_equal(text, policies[i])) {
			service->restart_policy = (SgRestartPolicy)i;
			return;
		}
	}
	{
		const char *hint = sg_loader_closest(text, policies);
		if (hint != NULL)
			sg_loader_error(loader, node, path,
			                _("unknown restart policy \"%s\" (did you mean \"%s\"?)"),
			                text, hint);
		else
			sg_loader_error(
			        loader, node, path,
			        _("unknown restart policy \"%s\": use always, on-failure or "
			          "never"),
			        text);
	}
}

static char *
find_in_path(const char *program, const char *search_path)
{
	g_auto(GStrv) dirs = NULL;

	if (search_path == NULL)
		return NULL;
	dirs = g_strsplit(search_path, ":", -1);
	for (guint i = 0; dirs[i] != NULL; i++) {
		g_autofree char *candidate =
		        g_build_filename(dirs[i][0] != '\0' ? dirs[i] : ".", program, NULL);
		if (g_file_test(candidate, G_FILE_TEST_IS_EXECUTABLE) &&
		    !g_file_test(candidate, G_FILE_TEST_IS_DIR))
			return g_steal_pointer(&candidate);
	}
	return NULL;
}

/* validate's warnings: things that may exist by the time the service starts. */
static void
warn_missing_files(SgLoader *loader, const SgYamlNode *exec_node, const SgYamlNode *wd_node,
                   const char *service_path, SgServiceConfig *service)
{
	if (wd_node != NULL && service->working_dir != NULL &&
	    !g_file_test(service->working_dir, G_FILE_TEST_IS_DIR)) {
		g_autofree char *p = sg_loader_child_path(service_path, "working_dir");
		sg_loader_warning(loader, wd_node, p,
		                  _("working directory %s does not exist (yet)"),
		                  service->working_dir);
	}
	if (service->argv != NULL) {
		const char *program = service->argv[0];
		const SgYamlNode *node = g_ptr_array_index(exec_node->items, 0);
		g_autofree char *p = sg_loader_child_path(service_path, "exec[0]");
		g_autofree char *found = NULL;

		if (strchr(program, '/') == NULL) {
			found = find_in_path(program,
			                     sg_loader_lookup(loader, SG_N_LAYERS, "PATH"));
			if (found == NULL)
				sg_loader_warning(
				        loader, node, p,
				        _("program \"%s\" is not in the service's PATH (yet)"),
				        program);
		} else {
			found = sg_loader_resolve_path(service->working_dir, program);
			if (!g_file_test(found, G_FILE_TEST_IS_EXECUTABLE) ||
			    g_file_test(found, G_FILE_TEST_IS_DIR))
				sg_loader_warning(
				        loader, node, p,
				        _("program %s does not exist or is not executable "
				          "(yet)"),
				        found);
		}
	}
}

void
sg_config_load_service(SgLoader *loader, const SgYamlNode *key, const SgYamlNode *node,
                       const SgLogLimits *root_logs, SgServiceDraft *draft)
{
	SgServiceConfig *service = draft->config;
	g_autofree char *path = sg_loader_child_path("services", key->value);
	const SgYamlNode *exec_node = NULL, *wd_node = NULL;
	SgYamlPair *pair, *command_pair, *exec_pair;
	char *text;

	service->backoff_ms = DEFAULT_BACKOFF_MS;
	service->max_restarts = -1;
	service->stop_timeout_ms = DEFAULT_STOP_TIMEOUT_MS;
	service->logs = *root_logs;
	for (guint i = 0; i < SG_HOOK_N; i++)
		service->hooks[i].timeout_ms = DEFAULT_HOOK_TIMEOUT_MS;
	service->deployment.health_check.interval_ms = DEFAULT_CHECK_INTERVAL_MS;
	service->deployment.health_check.timeout_ms = DEFAULT_CHECK_TIMEOUT_MS;
	service->deployment.health_check.retries = DEFAULT_CHECK_RETRIES;

	if (!sg_loader_expect_mapping(loader, node, path))
		return;
	sg_loader_check_keys(loader, node, path, service_keys);

	/* The environment first: exec and working_dir expand from it. */
	if ((pair = sg_yaml_mapping_lookup(node, "env")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "env");
		sg_config_env_load_block(loader, pair->value, p, SG_LAYER_SERVICE_FILE);
	}

	command_pair = sg_yaml_mapping_lookup(node, "command");
	exec_pair = sg_yaml_mapping_lookup(node, "exec");
	if (command_pair != NULL && exec_pair != NULL) {
		const SgYamlPair *second =
		        command_pair->key->line > exec_pair->key->line ||
		                        (command_pair->key->line == exec_pair->key->line &&
		                         command_pair->key->column > exec_pair->key->column)
		                ? command_pair
		                : exec_pair;
		g_autofree char *p = sg_loader_child_path(path, second->key->value);
		sg_loader_error(loader, second->key, p,
		                _("a service has either command or exec, not both"));
	} else if (command_pair == NULL && exec_pair == NULL) {
		sg_loader_error(loader, key, path, _("a service needs a command or an exec"));
	} else if (command_pair != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "command");
		if (sg_loader_read_string(loader, command_pair->value, p, FALSE, &text))
			service->command = g_strdup(text);
	} else {
		g_autofree char *p = sg_loader_child_path(path, "exec");
		exec_node = exec_pair->value;
		load_exec(loader, exec_node, p, service);
	}

	if ((pair = sg_yaml_mapping_lookup(node, "working_dir")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "working_dir");
		g_autofree char *expanded = NULL;
		if (sg_loader_read_string(loader, pair->value, p, FALSE, &text) &&
		    (expanded = sg_loader_expand(loader, pair->value, p, text, SG_N_LAYERS)) !=
		            NULL) {
			service->working_dir = sg_loader_resolve_path(loader->dir, expanded);
			wd_node = pair->value;
		}
	}
	if (service->working_dir == NULL)
		service->working_dir = g_strdup(loader->dir);

	if ((pair = sg_yaml_mapping_lookup(node, "depends_on")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "depends_on");
		load_dependencies(loader, pair->value, p, draft);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "restart_policy")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "restart_policy");
		load_restart_policy(loader, pair->value, p, service);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "backoff")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "backoff");
		sg_loader_read_duration(loader, pair->value, p, TRUE, &service->backoff_ms);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "backoff_max")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "backoff_max");
		if (sg_loader_read_duration(loader, pair->value, p, FALSE,
		                            &service->backoff_max_ms) &&
		    service->backoff_max_ms < service->backoff_ms)
			sg_loader_error(loader, pair->value, p,
			                _("backoff_max must not be shorter than backoff"));
	}
	if ((pair = sg_yaml_mapping_lookup(node, "max_restarts")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "max_restarts");
		guint64 value;
		if (sg_loader_read_uint(loader, pair->value, p, MAX_RESTARTS_LIMIT, &value))
			service->max_restarts = (gint64)value;
	}
	if ((pair = sg_yaml_mapping_lookup(node, "stop_timeout")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "stop_timeout");
		sg_loader_read_duration(loader, pair->value, p, TRUE, &service->stop_timeout_ms);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "skip")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "skip");
		load_skip(loader, pair->value, p, service);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "health_check")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "health_check");
		sg_config_load_health_check(loader, pair->value, p, &service->health_check);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "deployment")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "deployment");
		sg_config_load_deployment(loader, pair->value, p, &service->deployment);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "hooks")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "hooks");
		sg_config_load_hooks(loader, pair->value, p, service->hooks);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "logs")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "logs");
		sg_config_load_logs(loader, pair->value, p, &service->logs);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "cron")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "cron");
		load_cron(loader, pair->value, p, service);
		for (guint i = 0; cron_forbidden_keys[i] != NULL; i++) {
			SgYamlPair *bad = sg_yaml_mapping_lookup(node, cron_forbidden_keys[i]);
			g_autofree char *bp = NULL;
			if (bad == NULL)
				continue;
			bp = sg_loader_child_path(path, cron_forbidden_keys[i]);
			sg_loader_error(loader, bad->key, bp,
			                _("\"%s\" is not allowed on a cron job"),
			                cron_forbidden_keys[i]);
		}
	}

	warn_missing_files(loader, exec_node, wd_node, path, service);
}
