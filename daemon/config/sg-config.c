/* SPDX-License-Identifier: MIT */
/* Turns the YAML tree of systemg.yaml into the checked, resolved and immutable SgConfig. */
#include "config.h"

#include "config/sg-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "base/sg-error.h"
#include "config/sg-config-blocks.h"
#include "config/sg-config-env.h"
#include "config/sg-config-graph.h"
#include "config/sg-config-hash.h"
#include "config/sg-config-service.h"
#include "config/sg-loader.h"
#include "config/sg-problem.h"
#include "config/sg-yaml.h"

static const char *const top_keys[] = { "version", "project_dir", "env", "logs", "services", NULL };

#define DEFAULT_LOG_MAX_BYTES ((guint64)10 * 1024 * 1024)
#define DEFAULT_LOG_MAX_FILES 5

/* ---- the whole file ---- */

static void
load_version(SgLoader *loader, const SgYamlNode *root)
{
	SgYamlPair *pair = sg_yaml_mapping_lookup(root, "version");

	if (pair == NULL) {
		sg_problem_list_add(loader->problems, SG_PROBLEM_ERROR, loader->file, 1, 1,
		                    "version",
		                    _("the key \"version\" is required (version: \"1\")"));
		return;
	}
	/* "1" quoted, or a bare 1 that YAML would read as a number. */
	if (pair->value->kind != SG_YAML_SCALAR || !g_str_equal(pair->value->value, "1"))
		sg_loader_error(loader, pair->value, "version",
		                _("unsupported version %s: this systemg reads version \"1\""),
		                pair->value->kind == SG_YAML_SCALAR
		                        ? pair->value->value
		                        : sg_loader_kind_name(pair->value));
}

static GPtrArray *
load_services(SgLoader *loader, const SgYamlNode *root, const SgLogLimits *root_logs,
              GHashTable *by_name)
{
	GPtrArray *drafts = g_ptr_array_new_with_free_func((GDestroyNotify)sg_service_draft_free);
	SgYamlPair *pair = sg_yaml_mapping_lookup(root, "services");
	const SgYamlNode *services;

	if (pair == NULL) {
		sg_problem_list_add(loader->problems, SG_PROBLEM_ERROR, loader->file, 1, 1,
		                    "services", _("the key \"services\" is required"));
		return drafts;
	}
	services = pair->value;
	if (sg_yaml_node_is_null(services))
		return drafts; /* "services:" with nothing under it: no services yet */
	if (!sg_loader_expect_mapping(loader, services, "services"))
		return drafts;
	if (services->items->len > SG_CONFIG_MAX_SERVICES) {
		sg_loader_error(loader, services, "services", _("more than %d services"),
		                SG_CONFIG_MAX_SERVICES);
		return drafts;
	}
	for (guint i = 0; i < services->items->len; i++) {
		const SgYamlPair *service_pair = g_ptr_array_index(services->items, i);
		const char *name = service_pair->key->value;
		SgServiceDraft *draft;

		if (!sg_config_name_is_valid(name)) {
			g_autofree char *p = sg_loader_child_path("services", name);
			sg_loader_error(
			        loader, service_pair->key, p,
			        _("invalid service name \"%s\": use 1 to %d of A-Z a-z 0-9 _ - "
			          "., not starting with . or -"),
			        name, SG_SERVICE_NAME_MAX);
			continue;
		}
		draft = g_new0(SgServiceDraft, 1);
		draft->config = g_new0(SgServiceConfig, 1);
		draft->config->name = g_strdup(name);
		draft->config->line = service_pair->key->line;
		draft->config->column = service_pair->key->column;
		draft->key = service_pair->key;
		draft->dep_refs = g_ptr_array_new_with_free_func((GDestroyNotify)sg_dep_ref_free);
		loader->service = name;
		sg_config_load_service(loader, service_pair->key, service_pair->value, root_logs,
		                       draft);
		loader->service = NULL;
		draft->config->env = sg_config_env_flatten(loader);
		sg_config_env_clear_layer(loader, SG_LAYER_SERVICE_FILE);
		sg_config_env_clear_layer(loader, SG_LAYER_SERVICE_VARS);
		sg_config_hash_service(draft->config);
		g_hash_table_insert(by_name, draft->config->name, GUINT_TO_POINTER(drafts->len));
		g_ptr_array_add(drafts, draft);
	}
	return drafts;
}

/* Where relative paths resolve and services run by default; it sees only the supervisor's
 * environment, since the root env.file itself resolves against it. */
static void
load_project_dir(SgLoader *loader, const SgYamlNode *node, SgConfig *config)
{
	g_autofree char *expanded = NULL;
	char *text, *dir;

	if (!sg_loader_read_string(loader, node, "project_dir", FALSE, &text) ||
	    (expanded = sg_loader_expand(loader, node, "project_dir", text, SG_LAYER_ROOT_FILE)) ==
	            NULL)
		return;
	/* Relative to the file's directory, which loader->dir and config->dir are until now. */
	dir = sg_loader_resolve_path(config->dir, expanded);
	g_free(config->dir);
	loader->dir = config->dir = dir;
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
		sg_loader_warning(loader, node, "project_dir",
		                  _("project directory %s does not exist (yet)"), dir);
}

static void
load_root(SgLoader *loader, const SgYamlNode *root, SgConfig *config)
{
	g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) drafts = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	SgYamlPair *pair;

	config->logs.max_bytes = DEFAULT_LOG_MAX_BYTES;
	config->logs.max_files = DEFAULT_LOG_MAX_FILES;
	if (!sg_loader_expect_mapping(loader, root, ""))
		return;
	sg_loader_check_keys(loader, root, "", top_keys);
	load_version(loader, root);
	if ((pair = sg_yaml_mapping_lookup(root, "project_dir")) != NULL)
		load_project_dir(loader, pair->value, config);
	if ((pair = sg_yaml_mapping_lookup(root, "env")) != NULL)
		sg_config_env_load_block(loader, pair->value, "env", SG_LAYER_ROOT_FILE);
	if ((pair = sg_yaml_mapping_lookup(root, "logs")) != NULL)
		sg_config_load_logs(loader, pair->value, "logs", &config->logs);

	drafts = load_services(loader, root, &config->logs, by_name);
	for (guint i = 0; i < drafts->len; i++)
		g_ptr_array_add(names,
		                ((SgServiceDraft *)g_ptr_array_index(drafts, i))->config->name);
	g_ptr_array_add(names, NULL);
	sg_config_graph_check_targets(loader, drafts, by_name, (const char *const *)names->pdata);
	sg_config_graph_check_cycles(loader, drafts, by_name);

	for (guint i = 0; i < drafts->len; i++) {
		SgServiceDraft *draft = g_ptr_array_index(drafts, i);
		SgServiceConfig *service = g_steal_pointer(&draft->config);
		g_ptr_array_add(config->services, service);
		g_hash_table_insert(config->by_name, service->name, service);
	}
}

static SgConfig *
config_new(const char *path, const char *display_name)
{
	SgConfig *config = g_new0(SgConfig, 1);

	config->refcount = 1;
	config->path = g_canonicalize_filename(path, NULL);
	config->display_name = g_strdup(display_name != NULL ? display_name : path);
	config->dir = g_path_get_dirname(config->path);
	config->services = g_ptr_array_new_with_free_func((GDestroyNotify)sg_service_config_free);
	config->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	config->logs.max_bytes = DEFAULT_LOG_MAX_BYTES;
	config->logs.max_files = DEFAULT_LOG_MAX_FILES;
	return config;
}

SgConfig *
sg_config_load(const char *path, const char *display_name, char **base_env, GPtrArray *problems,
               GError **error)
{
	g_autoptr(SgConfig) config = config_new(path, display_name);
	g_autoptr(SgYamlNode) root = NULL;
	g_auto(GStrv) own_env = NULL;
	g_autoptr(GError) read_error = NULL;
	SgLoader loader = { 0 };
	guint errors_before = sg_problem_list_count(problems, SG_PROBLEM_ERROR);
	guint n_errors;

	if (base_env == NULL)
		base_env = own_env = g_get_environ();
	config->base_env = sg_config_env_strip_manager_vars(base_env);

	root = sg_yaml_load_file(config->path, config->display_name, problems, &read_error);
	if (read_error != NULL) {
		g_set_error_literal(error, SG_ERROR, SG_ERROR_INVALID_CONFIG, read_error->message);
		return NULL;
	}
	if (root != NULL) {
		loader.problems = problems;
		loader.file = config->display_name;
		loader.dir = config->dir;
		loader.base_env = config->base_env;
		loader.layers[SG_LAYER_BASE] = sg_config_env_to_table(config->base_env);
		load_root(&loader, root, config);
		for (guint i = 0; i < SG_N_LAYERS; i++)
			sg_config_env_clear_layer(&loader, (SgEnvLayer)i);
	}
	sg_problem_list_sort(problems);
	n_errors = sg_problem_list_count(problems, SG_PROBLEM_ERROR) - errors_before;
	if (n_errors > 0) {
		g_set_error(
		        error, SG_ERROR, SG_ERROR_INVALID_CONFIG,
		        g_dngettext(GETTEXT_PACKAGE, "%s: %u problem", "%s: %u problems", n_errors),
		        config->display_name, n_errors);
		return NULL;
	}
	return g_steal_pointer(&config);
}

SgConfig *
sg_config_new_empty(void)
{
	g_autofree char *cwd = g_get_current_dir();
	SgConfig *config = config_new(cwd, "");
	g_auto(GStrv) env = g_get_environ();

	g_free(config->path);
	config->path = g_strdup("");
	g_free(config->dir);
	config->dir = g_steal_pointer(&cwd);
	config->base_env = sg_config_env_strip_manager_vars(env);
	return config;
}

SgConfig *
sg_config_ref(SgConfig *config)
{
	g_return_val_if_fail(config != NULL, NULL);
	config->refcount++;
	return config;
}

void
sg_config_unref(SgConfig *config)
{
	if (config == NULL || --config->refcount > 0)
		return;
	g_free(config->path);
	g_free(config->display_name);
	g_free(config->dir);
	g_strfreev(config->base_env);
	g_hash_table_unref(config->by_name);
	g_ptr_array_unref(config->services);
	g_free(config);
}

const SgServiceConfig *
sg_config_lookup(const SgConfig *config, const char *name)
{
	return g_hash_table_lookup(config->by_name, name);
}

char **
sg_config_service_environ(const SgConfig *config, const SgServiceConfig *service)
{
	char **env = g_strdupv(config->base_env);

	for (guint i = 0; service->env[i] != NULL; i++) {
		const char *eq = strchr(service->env[i], '=');
		g_autofree char *name = g_strndup(service->env[i], (gsize)(eq - service->env[i]));
		env = g_environ_setenv(env, name, eq + 1, TRUE);
	}
	return env;
}

gboolean
sg_config_name_is_valid(const char *name)
{
	gsize len = strlen(name);

	if (len == 0 || len > SG_SERVICE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return FALSE;
	for (const char *p = name; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
			return FALSE;
	return TRUE;
}
char *
sg_config_discover(const char *explicit_path, const char *hint, GError **error)
{
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *xdg = NULL;
	const char *xdg_home = g_getenv("XDG_CONFIG_HOME");
	const char *names[] = { "systemg.yaml", "sysg.yaml" };
	g_autoptr(GString) tried = g_string_new(NULL);

	if (explicit_path != NULL)
		return g_strdup(explicit_path);
	if (hint != NULL && g_file_test(hint, G_FILE_TEST_IS_REGULAR))
		return g_strdup(hint);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *candidate = g_build_filename(cwd, names[i], NULL);
		if (g_file_test(candidate, G_FILE_TEST_IS_REGULAR))
			return g_steal_pointer(&candidate);
		g_string_append_printf(tried, "%s, ", candidate);
	}
	if (xdg_home != NULL && g_path_is_absolute(xdg_home))
		xdg = g_build_filename(xdg_home, "systemg", "systemg.yaml", NULL);
	else
		xdg = g_build_filename(g_get_home_dir(), ".config", "systemg", "systemg.yaml",
		                       NULL);
	if (g_file_test(xdg, G_FILE_TEST_IS_REGULAR))
		return g_steal_pointer(&xdg);
	g_string_append(tried, xdg);
	g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG,
	            _("no configuration file found (looked for %s); give one with --config FILE"),
	            tried->str);
	return NULL;
}
