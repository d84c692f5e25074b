/* SPDX-License-Identifier: MIT */
/* The environment layers of a configuration: env blocks, env files, the manager's variables. */
#include "config.h"

#include "config/sg-config-env.h"

#include <glib/gi18n.h>
#include <string.h>

#include "config/sg-envfile.h"

static const char *const env_keys[] = { "file", "vars", NULL };
/* Variables of the supervisor's own service manager, never passed to services (DBUS_STARTER_
 * says how D-Bus activation started sysgd). */
static const char *const manager_vars[] = { "NOTIFY_SOCKET", "INVOCATION_ID", "JOURNAL_STREAM",
	                                    NULL };
static const char *const manager_prefixes[] = { "LISTEN_", "WATCHDOG_", "DBUS_STARTER_", NULL };

static gboolean
is_manager_var(const char *name)
{
	if (g_strv_contains(manager_vars, name))
		return TRUE;
	for (guint i = 0; manager_prefixes[i] != NULL; i++)
		if (g_str_has_prefix(name, manager_prefixes[i]))
			return TRUE;
	return FALSE;
}

/* Reads `env: {file, vars}` into two fresh layers; file_layer and vars_layer. */
void
sg_config_env_load_block(SgLoader *loader, const SgYamlNode *node, const char *path,
                         SgEnvLayer file_layer)
{
	SgEnvLayer vars_layer = file_layer + 1;
	SgYamlPair *file_pair, *vars_pair;

	loader->layers[file_layer] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	loader->layers[vars_layer] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (!sg_loader_expect_mapping(loader, node, path))
		return;
	sg_loader_check_keys(loader, node, path, env_keys);

	file_pair = sg_yaml_mapping_lookup(node, "file");
	if (file_pair != NULL) {
		g_autofree char *fpath = sg_loader_child_path(path, "file");
		g_autofree char *expanded = NULL;
		g_autofree char *absolute = NULL;
		g_autoptr(GPtrArray) vars = NULL;
		g_autoptr(GError) local_error = NULL;
		char *raw;
		int line = 0;

		if (sg_loader_read_string(loader, file_pair->value, fpath, FALSE, &raw) &&
		    (expanded = sg_loader_expand(loader, file_pair->value, fpath, raw,
		                                 file_layer)) != NULL) {
			absolute = sg_loader_resolve_path(loader->dir, expanded);
			if (!sg_envfile_parse_file(absolute, expanded, &vars, &line,
			                           &local_error)) {
				sg_loader_error(loader, file_pair->value, fpath, "%s",
				                local_error->message);
			} else {
				for (guint i = 0; i + 1 < vars->len; i += 2)
					g_hash_table_replace(
					        loader->layers[file_layer],
					        g_strdup(g_ptr_array_index(vars, i)),
					        g_strdup(g_ptr_array_index(vars, i + 1)));
			}
		}
	}

	vars_pair = sg_yaml_mapping_lookup(node, "vars");
	if (vars_pair != NULL) {
		g_autofree char *vpath = sg_loader_child_path(path, "vars");
		const SgYamlNode *vars = vars_pair->value;

		if (!sg_loader_expect_mapping(loader, vars, vpath))
			return;
		if (vars->items->len > SG_CONFIG_MAX_ITEMS) {
			sg_loader_error(loader, vars, vpath, _("more than %d variables"),
			                SG_CONFIG_MAX_ITEMS);
			return;
		}
		for (guint i = 0; i < vars->items->len; i++) {
			const SgYamlPair *pair = g_ptr_array_index(vars->items, i);
			g_autofree char *key_path = sg_loader_child_path(vpath, pair->key->value);
			char *value;

			if (!sg_envfile_key_is_valid(pair->key->value)) {
				sg_loader_error(
				        loader, pair->key, key_path,
				        _("invalid variable name \"%s\": use letters, digits "
				          "and _, not starting with a digit"),
				        pair->key->value);
				continue;
			}
			if (pair->value->kind != SG_YAML_SCALAR) {
				sg_loader_error(loader, pair->value, key_path,
				                _("expected a value, found %s"),
				                sg_loader_kind_name(pair->value));
				continue;
			}
			/* Any scalar becomes a string: PORT: 8080 gives "8080", null gives "". */
			value = sg_yaml_node_is_null(pair->value)
			                ? g_strdup("")
			                : sg_loader_expand(loader, pair->value, key_path,
			                                   pair->value->value, vars_layer);
			if (value != NULL)
				g_hash_table_replace(loader->layers[vars_layer],
				                     g_strdup(pair->key->value), value);
		}
	}
}

void
sg_config_env_clear_layer(SgLoader *loader, SgEnvLayer layer)
{
	g_clear_pointer(&loader->layers[layer], g_hash_table_unref);
}

static void
merge_layer_into(GHashTable *target, GHashTable *layer)
{
	GHashTableIter iter;
	gpointer key, value;

	if (layer == NULL)
		return;
	g_hash_table_iter_init(&iter, layer);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_hash_table_replace(target, key, value);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The file's layers flattened into sorted KEY=VALUE strings. */
char **
sg_config_env_flatten(SgLoader *loader)
{
	g_autoptr(GHashTable) merged = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *out = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key, value;

	for (int layer = SG_LAYER_ROOT_FILE; layer < SG_N_LAYERS; layer++)
		merge_layer_into(merged, loader->layers[layer]);
	g_hash_table_iter_init(&iter, merged);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_ptr_array_add(out, g_strdup_printf("%s=%s", (char *)key, (char *)value));
	g_ptr_array_sort(out, compare_strings);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

char **
sg_config_env_strip_manager_vars(char **env)
{
	GPtrArray *out = g_ptr_array_new();

	for (guint i = 0; env != NULL && env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');
		g_autofree char *name = eq != NULL ? g_strndup(env[i], (gsize)(eq - env[i])) : NULL;
		if (name == NULL || is_manager_var(name))
			continue;
		g_ptr_array_add(out, g_strdup(env[i]));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

GHashTable *
sg_config_env_to_table(char **env)
{
	GHashTable *table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	for (guint i = 0; env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');
		g_hash_table_replace(table, g_strndup(env[i], (gsize)(eq - env[i])),
		                     g_strdup(eq + 1));
	}
	return table;
}
