/* SPDX-License-Identifier: MIT */
/* Turns the YAML tree of systemg.yaml into the checked, resolved and immutable SgConfig. */
#include "config.h"

#include "config/sg-config.h"
#include "config/sg-config-hash.h"

#include <glib/gi18n.h>
#include <string.h>

#include "config/sg-envfile.h"
#include "base/sg-error.h"
#include "config/sg-expand.h"
#include "config/sg-problem.h"
#include "config/sg-yaml.h"

/* Layers of a service's environment, lowest first (SPEC section 3). */
typedef enum {
	LAYER_BASE,
	LAYER_ROOT_FILE,
	LAYER_ROOT_VARS,
	LAYER_SERVICE_FILE,
	LAYER_SERVICE_VARS,
	N_LAYERS,
} EnvLayer;

typedef struct {
	GPtrArray *problems;
	const char *file; /* display name */
	const char *dir;
	char **base_env;
	GHashTable *layers[N_LAYERS]; /* name -> value; the root layers are shared */
	const char *service;          /* the service being loaded; NULL at the top level */
} Loader;

static const char *const top_keys[] = { "version", "project_dir", "env", "logs", "services", NULL };
static const char *const env_keys[] = { "file", "vars", NULL };
static const char *const logs_keys[] = { "max_bytes", "max_files", NULL };
static const char *const service_keys[] = {
	"command",    "exec",        "working_dir",  "env",          "depends_on", "restart_policy",
	"backoff",    "backoff_max", "max_restarts", "stop_timeout", "skip",       "health_check",
	"deployment", "hooks",       "logs",         "cron",         NULL,
};
static const char *const health_check_keys[] = { "url",      "tcp",     "command", "notify",
	                                         "interval", "timeout", "retries", NULL };
static const char *const deployment_keys[] = { "strategy", "pre_start", "health_check",
	                                       "grace_period", NULL };
static const char *const hooks_keys[] = { "on_start", "on_stop", "on_restart", NULL };
static const char *const hook_outcome_keys[] = { "success", "error", NULL };
static const char *const hook_keys[] = { "command", "timeout", NULL };
static const char *const dependency_keys[] = { "service", "condition", NULL };
static const char *const cron_keys[] = { "expression", "timezone", NULL };
/* Keys that make no sense on a cron job: it is started at its times, never restarted. */
static const char *const cron_forbidden_keys[] = { "restart_policy", "backoff",    "backoff_max",
	                                           "max_restarts",   "deployment", "health_check",
	                                           "depends_on",     NULL };
/* Variables of the supervisor's own service manager, never passed to services (DBUS_STARTER_
 * says how D-Bus activation started sysgd). */
static const char *const manager_vars[] = { "NOTIFY_SOCKET", "INVOCATION_ID", "JOURNAL_STREAM",
	                                    NULL };
static const char *const manager_prefixes[] = { "LISTEN_", "WATCHDOG_", "DBUS_STARTER_", NULL };

static const char *const hook_names[SG_HOOK_N] = {
	[SG_HOOK_ON_START_SUCCESS] = "on_start.success",
	[SG_HOOK_ON_START_ERROR] = "on_start.error",
	[SG_HOOK_ON_STOP_SUCCESS] = "on_stop.success",
	[SG_HOOK_ON_STOP_ERROR] = "on_stop.error",
	[SG_HOOK_ON_RESTART_SUCCESS] = "on_restart.success",
	[SG_HOOK_ON_RESTART_ERROR] = "on_restart.error",
};

#define DEFAULT_BACKOFF_MS        5000
#define DEFAULT_STOP_TIMEOUT_MS   10000
#define DEFAULT_HOOK_TIMEOUT_MS   30000
#define DEFAULT_CHECK_INTERVAL_MS 1000
#define DEFAULT_CHECK_TIMEOUT_MS  30000
#define DEFAULT_CHECK_RETRIES     3
#define DEFAULT_LOG_MAX_BYTES     ((guint64)10 * 1024 * 1024)
#define DEFAULT_LOG_MAX_FILES     5
#define MAX_LOG_BYTES             ((guint64)1 << 40)
#define MAX_RETRIES               1000000
#define MAX_RESTARTS_LIMIT        G_MAXINT32

/* ---- problems ---- */

static void G_GNUC_PRINTF(4, 5)
        error_at(Loader *loader, const SgYamlNode *node, const char *path, const char *format, ...)
{
	va_list args;
	g_autofree char *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	sg_problem_list_add(loader->problems, SG_PROBLEM_ERROR, loader->file,
	                    node != NULL ? node->line : 0, node != NULL ? node->column : 0, path,
	                    "%s", message);
}

static void G_GNUC_PRINTF(4, 5) warning_at(Loader *loader, const SgYamlNode *node, const char *path,
                                           const char *format, ...)
{
	va_list args;
	g_autofree char *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	sg_problem_list_add(loader->problems, SG_PROBLEM_WARNING, loader->file,
	                    node != NULL ? node->line : 0, node != NULL ? node->column : 0, path,
	                    "%s", message);
}

static char *
child_path(const char *parent, const char *key)
{
	if (parent == NULL || parent[0] == '\0')
		return g_strdup(key);
	return g_strdup_printf("%s.%s", parent, key);
}

static char *
index_path(const char *parent, guint index)
{
	return g_strdup_printf("%s[%u]", parent, index);
}

/* Levenshtein distance, for "did you mean" hints on short key names. */
static guint
edit_distance(const char *a, const char *b)
{
	gsize la = strlen(a), lb = strlen(b);
	g_autofree guint *row = g_new(guint, lb + 1);

	for (gsize j = 0; j <= lb; j++)
		row[j] = (guint)j;
	for (gsize i = 1; i <= la; i++) {
		guint diagonal = row[0];
		row[0] = (guint)i;
		for (gsize j = 1; j <= lb; j++) {
			guint above = row[j];
			guint cost = a[i - 1] == b[j - 1] ? 0 : 1;
			guint best = MIN(row[j] + 1, row[j - 1] + 1);
			row[j] = MIN(best, diagonal + cost);
			diagonal = above;
		}
	}
	return row[lb];
}

static const char *
closest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	guint best_distance = G_MAXUINT;
	guint limit = MAX(2, (guint)strlen(word) / 3);

	for (guint i = 0; candidates[i] != NULL; i++) {
		guint d = edit_distance(word, candidates[i]);
		if (d < best_distance) {
			best_distance = d;
			best = candidates[i];
		}
	}
	return best_distance <= limit ? best : NULL;
}

static const char *
kind_name(const SgYamlNode *node)
{
	if (node->kind == SG_YAML_SCALAR)
		return sg_yaml_node_is_null(node) ? _("nothing") : _("a scalar");
	return node->kind == SG_YAML_MAPPING ? _("a mapping") : _("a sequence");
}

/* ---- typed readers: each reports its own problem and returns FALSE on a bad value ---- */

static gboolean
expect_mapping(Loader *loader, const SgYamlNode *node, const char *path)
{
	if (node->kind == SG_YAML_MAPPING)
		return TRUE;
	error_at(loader, node, path, _("expected a mapping, found %s"), kind_name(node));
	return FALSE;
}

static gboolean
expect_sequence(Loader *loader, const SgYamlNode *node, const char *path)
{
	if (node->kind == SG_YAML_SEQUENCE)
		return TRUE;
	error_at(loader, node, path, _("expected a list, found %s"), kind_name(node));
	return FALSE;
}

static gboolean
check_keys(Loader *loader, const SgYamlNode *mapping, const char *path, const char *const *known)
{
	gboolean ok = TRUE;

	for (guint i = 0; i < mapping->items->len; i++) {
		const SgYamlPair *pair = g_ptr_array_index(mapping->items, i);
		const char *key = pair->key->value;
		g_autofree char *key_path = NULL;
		const char *hint;

		if (g_strv_contains(known, key))
			continue;
		key_path = child_path(path, key);
		hint = closest(key, known);
		if (hint != NULL)
			error_at(loader, pair->key, key_path,
			         _("unknown key \"%s\" (did you mean \"%s\"?)"), key, hint);
		else
			error_at(loader, pair->key, key_path, _("unknown key \"%s\""), key);
		ok = FALSE;
	}
	return ok;
}

static gboolean
is_plain(const SgYamlNode *node)
{
	return node->kind == SG_YAML_SCALAR && !node->quoted && node->tag == NULL;
}

static gboolean
read_string(Loader *loader, const SgYamlNode *node, const char *path, gboolean allow_empty,
            char **out)
{
	if (node->kind != SG_YAML_SCALAR || sg_yaml_node_is_null(node)) {
		error_at(loader, node, path, _("expected a string, found %s"), kind_name(node));
		return FALSE;
	}
	if (!allow_empty && node->value[0] == '\0') {
		error_at(loader, node, path, _("must not be empty"));
		return FALSE;
	}
	*out = node->value;
	return TRUE;
}

static gboolean
read_bool(Loader *loader, const SgYamlNode *node, const char *path, gboolean *out)
{
	static const char *const yaml11[] = { "yes", "no", "on", "off", "y", "n", NULL };

	if (is_plain(node) && g_str_equal(node->value, "true")) {
		*out = TRUE;
		return TRUE;
	}
	if (is_plain(node) && g_str_equal(node->value, "false")) {
		*out = FALSE;
		return TRUE;
	}
	if (is_plain(node)) {
		g_autofree char *lower = g_ascii_strdown(node->value, -1);
		if (g_strv_contains(yaml11, lower) || g_str_equal(lower, "true") ||
		    g_str_equal(lower, "false")) {
			error_at(loader, node, path,
			         _("\"%s\" is not a boolean in YAML 1.2: write true or false"),
			         node->value);
			return FALSE;
		}
	}
	error_at(loader, node, path, _("expected true or false, found %s"),
	         node->kind == SG_YAML_SCALAR ? node->value : kind_name(node));
	return FALSE;
}

static gboolean
parse_uint(const char *text, guint64 max, guint64 *out)
{
	guint64 value = 0;

	if (text[0] == '\0')
		return FALSE;
	for (const char *p = text; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
		if (value > (max - (guint64)(*p - '0')) / 10)
			return FALSE;
		value = value * 10 + (guint64)(*p - '0');
	}
	*out = value;
	return TRUE;
}

static gboolean
read_uint(Loader *loader, const SgYamlNode *node, const char *path, guint64 max, guint64 *out)
{
	if (!is_plain(node) || sg_yaml_node_is_null(node)) {
		error_at(loader, node, path, _("expected a whole number, found %s"),
		         node->kind == SG_YAML_SCALAR && !sg_yaml_node_is_null(node)
		                 ? _("a string")
		                 : kind_name(node));
		return FALSE;
	}
	if (!parse_uint(node->value, max, out)) {
		error_at(loader, node, path, _("\"%s\" is not a whole number between 0 and %llu"),
		         node->value, (unsigned long long)max);
		return FALSE;
	}
	return TRUE;
}

/* A whole number with unit ms, s, m or h; a bare number is seconds; at most 30 days. */
static gboolean
read_duration(Loader *loader, const SgYamlNode *node, const char *path, gboolean allow_zero,
              guint64 *out_ms)
{
	static const struct {
		const char *suffix;
		guint64 ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
	g_autofree char *digits = NULL;
	guint64 scale = 1000, value;
	const char *text;
	gsize len;

	if (node->kind != SG_YAML_SCALAR || sg_yaml_node_is_null(node)) {
		error_at(loader, node, path, _("expected a duration such as \"5s\", found %s"),
		         kind_name(node));
		return FALSE;
	}
	text = node->value;
	len = strlen(text);
	for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
		gsize slen = strlen(units[i].suffix);
		if (len > slen && g_str_has_suffix(text, units[i].suffix) &&
		    g_ascii_isdigit(text[len - slen - 1])) {
			scale = units[i].ms;
			len -= slen;
			break;
		}
	}
	digits = g_strndup(text, len);
	if (!parse_uint(digits, SG_DURATION_MAX_MS, &value) || value > SG_DURATION_MAX_MS / scale) {
		error_at(loader, node, path,
		         _("invalid duration \"%s\": use a whole number with unit ms, s, m or h "
		           "(at most 30 days)"),
		         text);
		return FALSE;
	}
	if (value == 0 && !allow_zero) {
		error_at(loader, node, path, _("must be longer than 0"));
		return FALSE;
	}
	*out_ms = value * scale;
	return TRUE;
}

/* ---- ${VAR} expansion ---- */

static const char *
layered_lookup(Loader *loader, EnvLayer below, const char *name)
{
	for (int layer = (int)below - 1; layer >= 0; layer--) {
		const char *value;
		if (loader->layers[layer] == NULL)
			continue;
		value = g_hash_table_lookup(loader->layers[layer], name);
		if (value != NULL)
			return value;
	}
	return NULL;
}

typedef struct {
	Loader *loader;
	EnvLayer below; /* the layers a value sees: those below its own */
} Scope;

/* The markers first: they are the last layer, whatever the layers below say. */
static const char *
scope_lookup_cb(const char *name, gpointer user_data, char **ret_refusal)
{
	Scope *scope = user_data;
	const char *value;

	if (sg_expand_marker(name, scope->loader->service, &value, ret_refusal))
		return value;
	return layered_lookup(scope->loader, scope->below, name);
}

/* Expands text from the layers below `below`, reporting a bad reference at node. */
static char *
expand(Loader *loader, const SgYamlNode *node, const char *path, const char *text, EnvLayer below)
{
	Scope scope = { loader, below };
	g_autofree char *message = NULL;
	char *expanded = sg_expand(text, scope_lookup_cb, &scope, &message);

	if (expanded == NULL)
		error_at(loader, node, path, "%s", message);
	return expanded;
}

static char *
resolve_path(const char *base_dir, const char *path)
{
	return g_canonicalize_filename(path, base_dir);
}

/* ---- env blocks ---- */

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
static void
load_env_block(Loader *loader, const SgYamlNode *node, const char *path, EnvLayer file_layer)
{
	EnvLayer vars_layer = file_layer + 1;
	SgYamlPair *file_pair, *vars_pair;

	loader->layers[file_layer] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	loader->layers[vars_layer] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (!expect_mapping(loader, node, path))
		return;
	check_keys(loader, node, path, env_keys);

	file_pair = sg_yaml_mapping_lookup(node, "file");
	if (file_pair != NULL) {
		g_autofree char *fpath = child_path(path, "file");
		g_autofree char *expanded = NULL;
		g_autofree char *absolute = NULL;
		g_autoptr(GPtrArray) vars = NULL;
		g_autoptr(GError) local_error = NULL;
		char *raw;
		int line = 0;

		if (read_string(loader, file_pair->value, fpath, FALSE, &raw) &&
		    (expanded = expand(loader, file_pair->value, fpath, raw, file_layer)) != NULL) {
			absolute = resolve_path(loader->dir, expanded);
			if (!sg_envfile_parse_file(absolute, expanded, &vars, &line,
			                           &local_error)) {
				error_at(loader, file_pair->value, fpath, "%s",
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
		g_autofree char *vpath = child_path(path, "vars");
		const SgYamlNode *vars = vars_pair->value;

		if (!expect_mapping(loader, vars, vpath))
			return;
		if (vars->items->len > SG_CONFIG_MAX_ITEMS) {
			error_at(loader, vars, vpath, _("more than %d variables"),
			         SG_CONFIG_MAX_ITEMS);
			return;
		}
		for (guint i = 0; i < vars->items->len; i++) {
			const SgYamlPair *pair = g_ptr_array_index(vars->items, i);
			g_autofree char *key_path = child_path(vpath, pair->key->value);
			char *value;

			if (!sg_envfile_key_is_valid(pair->key->value)) {
				error_at(loader, pair->key, key_path,
				         _("invalid variable name \"%s\": use letters, digits "
				           "and _, not starting with a digit"),
				         pair->key->value);
				continue;
			}
			if (pair->value->kind != SG_YAML_SCALAR) {
				error_at(loader, pair->value, key_path,
				         _("expected a value, found %s"), kind_name(pair->value));
				continue;
			}
			/* Any scalar becomes a string: PORT: 8080 gives "8080", null gives "". */
			value = sg_yaml_node_is_null(pair->value)
			                ? g_strdup("")
			                : expand(loader, pair->value, key_path, pair->value->value,
			                         vars_layer);
			if (value != NULL)
				g_hash_table_replace(loader->layers[vars_layer],
				                     g_strdup(pair->key->value), value);
		}
	}
}

static void
clear_layer(Loader *loader, EnvLayer layer)
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
static char **
flatten_file_layers(Loader *loader)
{
	g_autoptr(GHashTable) merged = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *out = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key, value;

	for (int layer = LAYER_ROOT_FILE; layer < N_LAYERS; layer++)
		merge_layer_into(merged, loader->layers[layer]);
	g_hash_table_iter_init(&iter, merged);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_ptr_array_add(out, g_strdup_printf("%s=%s", (char *)key, (char *)value));
	g_ptr_array_sort(out, compare_strings);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* ---- logs ---- */

static void
load_logs(Loader *loader, const SgYamlNode *node, const char *path, SgLogLimits *limits)
{
	SgYamlPair *pair;

	if (!expect_mapping(loader, node, path))
		return;
	check_keys(loader, node, path, logs_keys);
	if ((pair = sg_yaml_mapping_lookup(node, "max_bytes")) != NULL) {
		g_autofree char *p = child_path(path, "max_bytes");
		read_uint(loader, pair->value, p, MAX_LOG_BYTES, &limits->max_bytes);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "max_files")) != NULL) {
		g_autofree char *p = child_path(path, "max_files");
		guint64 files;
		if (read_uint(loader, pair->value, p, SG_LOG_FILES_MAX, &files))
			limits->max_files = (guint)files;
	}
}

/* ---- health checks ---- */

static gboolean
check_tcp_target(const char *target)
{
	const char *colon = strrchr(target, ':');
	g_autofree char *host = NULL;
	guint64 port;

	if (colon == NULL || colon == target)
		return FALSE;
	host = g_strndup(target, (gsize)(colon - target));
	if (host[0] == '[' && !g_str_has_suffix(host, "]"))
		return FALSE;
	return parse_uint(colon + 1, 65535, &port) && port > 0;
}

static gboolean
check_url_target(const char *target)
{
	g_autoptr(GUri) uri = g_uri_parse(target, G_URI_FLAGS_NONE, NULL);
	const char *scheme;

	if (uri == NULL)
		return FALSE;
	scheme = g_uri_get_scheme(uri);
	return (g_ascii_strcasecmp(scheme, "http") == 0) && g_uri_get_host(uri) != NULL &&
	       g_uri_get_host(uri)[0] != '\0';
}

static void
load_health_check(Loader *loader, const SgYamlNode *node, const char *path, SgHealthCheck *check)
{
	static const char *const kinds[] = { "url", "tcp", "command", "notify", NULL };
	const SgYamlPair *chosen = NULL;
	SgYamlPair *pair;
	guint n_kinds = 0;

	check->interval_ms = DEFAULT_CHECK_INTERVAL_MS;
	check->timeout_ms = DEFAULT_CHECK_TIMEOUT_MS;
	check->retries = DEFAULT_CHECK_RETRIES;
	if (!expect_mapping(loader, node, path))
		return;
	check_keys(loader, node, path, health_check_keys);

	for (guint i = 0; kinds[i] != NULL; i++) {
		pair = sg_yaml_mapping_lookup(node, kinds[i]);
		if (pair == NULL)
			continue;
		if (++n_kinds == 2) {
			g_autofree char *p = child_path(path, kinds[i]);
			error_at(loader, pair->key, p,
			         _("a health check has exactly one of url, tcp, command or notify; "
			           "\"%s\" is already given"),
			         chosen->key->value);
		}
		if (chosen == NULL)
			chosen = pair;
	}
	if (n_kinds == 0) {
		error_at(loader, node, path,
		         _("a health check needs one of url, tcp, command or notify"));
	} else if (n_kinds == 1) {
		const char *kind = chosen->key->value;
		g_autofree char *p = child_path(path, kind);
		char *raw;

		if (g_str_equal(kind, "notify")) {
			gboolean on;
			if (read_bool(loader, chosen->value, p, &on)) {
				if (on)
					check->kind = SG_CHECK_NOTIFY;
				else
					error_at(loader, chosen->value, p,
					         _("notify: false is no health check; remove "
					           "health_check or use another kind"));
			}
		} else if (g_str_equal(kind, "command")) {
			if (read_string(loader, chosen->value, p, FALSE, &raw)) {
				check->kind = SG_CHECK_COMMAND;
				check->target = g_strdup(raw);
			}
		} else if (read_string(loader, chosen->value, p, FALSE, &raw)) {
			g_autofree char *target = expand(loader, chosen->value, p, raw, N_LAYERS);
			gboolean is_url = g_str_equal(kind, "url");

			if (target == NULL) {
				/* reported by expand() */
			} else if (is_url && !check_url_target(target)) {
				error_at(loader, chosen->value, p,
				         _("invalid URL \"%s\": expected http://HOST[:PORT]/PATH"),
				         target);
			} else if (!is_url && !check_tcp_target(target)) {
				error_at(loader, chosen->value, p,
				         _("invalid address \"%s\": expected HOST:PORT"), target);
			} else {
				check->kind = is_url ? SG_CHECK_URL : SG_CHECK_TCP;
				check->target = g_steal_pointer(&target);
			}
		}
	}

	if ((pair = sg_yaml_mapping_lookup(node, "interval")) != NULL) {
		g_autofree char *p = child_path(path, "interval");
		read_duration(loader, pair->value, p, FALSE, &check->interval_ms);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "timeout")) != NULL) {
		g_autofree char *p = child_path(path, "timeout");
		read_duration(loader, pair->value, p, FALSE, &check->timeout_ms);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "retries")) != NULL) {
		g_autofree char *p = child_path(path, "retries");
		guint64 retries;
		if (read_uint(loader, pair->value, p, MAX_RETRIES, &retries))
			check->retries = (guint)retries;
	}
}

/* ---- hooks ---- */

static void
load_hooks(Loader *loader, const SgYamlNode *node, const char *path, SgHook *hooks)
{
	static const char *const events[] = { "on_start", "on_stop", "on_restart" };

	if (!expect_mapping(loader, node, path))
		return;
	check_keys(loader, node, path, hooks_keys);
	for (guint e = 0; e < G_N_ELEMENTS(events); e++) {
		SgYamlPair *event = sg_yaml_mapping_lookup(node, events[e]);
		g_autofree char *epath = child_path(path, events[e]);

		if (event == NULL || !expect_mapping(loader, event->value, epath))
			continue;
		check_keys(loader, event->value, epath, hook_outcome_keys);
		for (guint o = 0; o < 2; o++) {
			SgHook *hook = &hooks[e * 2 + o];
			SgYamlPair *outcome =
			        sg_yaml_mapping_lookup(event->value, hook_outcome_keys[o]);
			g_autofree char *opath = child_path(epath, hook_outcome_keys[o]);
			SgYamlPair *pair;

			if (outcome == NULL || !expect_mapping(loader, outcome->value, opath))
				continue;
			check_keys(loader, outcome->value, opath, hook_keys);
			pair = sg_yaml_mapping_lookup(outcome->value, "command");
			if (pair == NULL) {
				error_at(loader, outcome->key, opath, _("a hook needs a command"));
			} else {
				g_autofree char *p = child_path(opath, "command");
				char *raw;
				if (read_string(loader, pair->value, p, FALSE, &raw))
					hook->command = g_strdup(raw);
			}
			if ((pair = sg_yaml_mapping_lookup(outcome->value, "timeout")) != NULL) {
				g_autofree char *p = child_path(opath, "timeout");
				read_duration(loader, pair->value, p, FALSE, &hook->timeout_ms);
			}
		}
	}
}

/* ---- one service ---- */

static void
service_config_free(SgServiceConfig *service)
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

/* Where a dependency was written, for problems found once every service is known. */
typedef struct {
	const SgYamlNode *node;
	char *path;
} DepRef;

static void
dep_ref_free(DepRef *ref)
{
	g_free(ref->path);
	g_free(ref);
}

typedef struct {
	SgServiceConfig *config;
	const SgYamlNode *key;
	GPtrArray *dep_refs; /* DepRef*, parallel to config->depends_on */
} ServiceDraft;

static void
service_draft_free(ServiceDraft *draft)
{
	service_config_free(draft->config);
	g_ptr_array_unref(draft->dep_refs);
	g_free(draft);
}

static void
load_dependencies(Loader *loader, const SgYamlNode *node, const char *path, ServiceDraft *draft)
{
	SgServiceConfig *service = draft->config;

	if (!expect_sequence(loader, node, path))
		return;
	if (node->items->len > SG_CONFIG_MAX_ITEMS) {
		error_at(loader, node, path, _("more than %d dependencies"), SG_CONFIG_MAX_ITEMS);
		return;
	}
	service->depends_on = g_new0(SgDependency, node->items->len);
	for (guint i = 0; i < node->items->len; i++) {
		const SgYamlNode *item = g_ptr_array_index(node->items, i);
		const SgYamlNode *name_node = item;
		g_autofree char *ipath = index_path(path, i);
		g_autofree char *name_path = NULL;
		SgCondition condition = SG_CONDITION_READY;
		DepRef *ref;
		char *name;

		if (item->kind == SG_YAML_MAPPING) {
			SgYamlPair *spair = sg_yaml_mapping_lookup(item, "service");
			SgYamlPair *cpair = sg_yaml_mapping_lookup(item, "condition");

			check_keys(loader, item, ipath, dependency_keys);
			if (cpair != NULL) {
				g_autofree char *cpath = child_path(ipath, "condition");
				char *text;
				if (read_string(loader, cpair->value, cpath, FALSE, &text)) {
					if (g_str_equal(text, "completed"))
						condition = SG_CONDITION_COMPLETED;
					else if (!g_str_equal(text, "ready"))
						error_at(loader, cpair->value, cpath,
						         _("unknown condition \"%s\": use ready "
						           "or completed"),
						         text);
				}
			}
			if (spair == NULL) {
				error_at(loader, item, ipath,
				         _("a dependency needs the key \"service\""));
				continue;
			}
			name_node = spair->value;
			name_path = child_path(ipath, "service");
		} else {
			name_path = g_strdup(ipath);
		}
		if (!read_string(loader, name_node, name_path, FALSE, &name))
			continue;
		for (guint j = 0; j < service->n_depends_on; j++) {
			if (g_str_equal(service->depends_on[j].service, name)) {
				error_at(loader, name_node, name_path, _("\"%s\" is listed twice"),
				         name);
				name = NULL;
				break;
			}
		}
		if (name == NULL)
			continue;
		service->depends_on[service->n_depends_on].service = g_strdup(name);
		service->depends_on[service->n_depends_on].condition = condition;
		service->n_depends_on++;
		ref = g_new0(DepRef, 1);
		ref->node = name_node;
		ref->path = g_steal_pointer(&name_path);
		g_ptr_array_add(draft->dep_refs, ref);
	}
}

static void
load_exec(Loader *loader, const SgYamlNode *node, const char *path, SgServiceConfig *service)
{
	GPtrArray *argv;

	if (!expect_sequence(loader, node, path))
		return;
	if (node->items->len == 0) {
		error_at(loader, node, path, _("needs at least the program to run"));
		return;
	}
	if (node->items->len > SG_CONFIG_MAX_ITEMS) {
		error_at(loader, node, path, _("more than %d arguments"), SG_CONFIG_MAX_ITEMS);
		return;
	}
	argv = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < node->items->len; i++) {
		const SgYamlNode *item = g_ptr_array_index(node->items, i);
		g_autofree char *ipath = index_path(path, i);
		char *raw, *expanded;

		if (!read_string(loader, item, ipath, i > 0, &raw) ||
		    (expanded = expand(loader, item, ipath, raw, N_LAYERS)) == NULL) {
			g_ptr_array_unref(argv);
			return;
		}
		g_ptr_array_add(argv, expanded);
	}
	g_ptr_array_add(argv, NULL);
	service->argv = (char **)g_ptr_array_free(argv, FALSE);
}

static void
load_cron(Loader *loader, const SgYamlNode *node, const char *path, SgServiceConfig *service)
{
	SgYamlPair *pair;
	char *text;

	if (!expect_mapping(loader, node, path))
		return;
	check_keys(loader, node, path, cron_keys);
	pair = sg_yaml_mapping_lookup(node, "expression");
	if (pair == NULL) {
		error_at(loader, node, path, _("a cron job needs an expression"));
	} else {
		g_autofree char *p = child_path(path, "expression");
		g_autoptr(GError) local_error = NULL;

		if (read_string(loader, pair->value, p, FALSE, &text)) {
			service->cron = sg_cron_parse(text, &local_error);
			if (service->cron == NULL)
				error_at(loader, pair->value, p, "%s", local_error->message);
			service->cron_expression = g_strdup(text);
		}
	}
	if ((pair = sg_yaml_mapping_lookup(node, "timezone")) != NULL) {
		g_autofree char *p = child_path(path, "timezone");
		if (read_string(loader, pair->value, p, FALSE, &text)) {
			if (!sg_cron_timezone_is_valid(text))
				error_at(loader, pair->value, p,
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
load_deployment(Loader *loader, const SgYamlNode *node, const char *path, SgDeployment *deploy)
{
	SgYamlPair *pair;
	char *text;

	if (!expect_mapping(loader, node, path))
		return;
	check_keys(loader, node, path, deployment_keys);
	if ((pair = sg_yaml_mapping_lookup(node, "strategy")) != NULL) {
		g_autofree char *p = child_path(path, "strategy");
		if (read_string(loader, pair->value, p, FALSE, &text)) {
			if (g_str_equal(text, "rolling"))
				deploy->strategy = SG_STRATEGY_ROLLING;
			else if (!g_str_equal(text, "immediate"))
				error_at(loader, pair->value, p,
				         _("unknown strategy \"%s\": use immediate or rolling"),
				         text);
		}
	}
	if ((pair = sg_yaml_mapping_lookup(node, "pre_start")) != NULL) {
		g_autofree char *p = child_path(path, "pre_start");
		if (read_string(loader, pair->value, p, FALSE, &text))
			deploy->pre_start = g_strdup(text);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "health_check")) != NULL) {
		g_autofree char *p = child_path(path, "health_check");
		load_health_check(loader, pair->value, p, &deploy->health_check);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "grace_period")) != NULL) {
		g_autofree char *p = child_path(path, "grace_period");
		read_duration(loader, pair->value, p, TRUE, &deploy->grace_period_ms);
	}
}

static void
load_skip(Loader *loader, const SgYamlNode *node, const char *path, SgServiceConfig *service)
{
	/* A plain true/false is the flag; a string (quoted or not) is a command. */
	if (is_plain(node)) {
		g_autofree char *lower = g_ascii_strdown(node->value, -1);
		static const char *const flags[] = { "true", "false", "yes", "no", "on",
			                             "off",  "y",     "n",   NULL };
		if (g_strv_contains(flags, lower)) {
			read_bool(loader, node, path, &service->skip);
			return;
		}
	}
	if (node->kind != SG_YAML_SCALAR || sg_yaml_node_is_null(node) || node->value[0] == '\0') {
		error_at(loader, node, path, _("expected true, false or a command, found %s"),
		         kind_name(node));
		return;
	}
	service->skip_command = g_strdup(node->value);
}

static void
load_restart_policy(Loader *loader, const SgYamlNode *node, const char *path,
                    SgServiceConfig *service)
{
	static const char *const policies[] = { "never", "on-failure", "always", NULL };
	char *text;

	if (!read_string(loader, node, path, FALSE, &text))
		return;
	for (guint i = 0; policies[i] != NULL; i++) {
		if (g_str_equal(text, policies[i])) {
			service->restart_policy = (SgRestartPolicy)i;
			return;
		}
	}
	{
		const char *hint = closest(text, policies);
		if (hint != NULL)
			error_at(loader, node, path,
			         _("unknown restart policy \"%s\" (did you mean \"%s\"?)"), text,
			         hint);
		else
			error_at(loader, node, path,
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
warn_missing_files(Loader *loader, const SgYamlNode *exec_node, const SgYamlNode *wd_node,
                   const char *service_path, SgServiceConfig *service)
{
	if (wd_node != NULL && service->working_dir != NULL &&
	    !g_file_test(service->working_dir, G_FILE_TEST_IS_DIR)) {
		g_autofree char *p = child_path(service_path, "working_dir");
		warning_at(loader, wd_node, p, _("working directory %s does not exist (yet)"),
		           service->working_dir);
	}
	if (service->argv != NULL) {
		const char *program = service->argv[0];
		const SgYamlNode *node = g_ptr_array_index(exec_node->items, 0);
		g_autofree char *p = child_path(service_path, "exec[0]");
		g_autofree char *found = NULL;

		if (strchr(program, '/') == NULL) {
			found = find_in_path(program, layered_lookup(loader, N_LAYERS, "PATH"));
			if (found == NULL)
				warning_at(loader, node, p,
				           _("program \"%s\" is not in the service's PATH (yet)"),
				           program);
		} else {
			found = resolve_path(service->working_dir, program);
			if (!g_file_test(found, G_FILE_TEST_IS_EXECUTABLE) ||
			    g_file_test(found, G_FILE_TEST_IS_DIR))
				warning_at(loader, node, p,
				           _("program %s does not exist or is not executable "
				             "(yet)"),
				           found);
		}
	}
}

static void
load_service(Loader *loader, const SgYamlNode *key, const SgYamlNode *node,
             const SgLogLimits *root_logs, ServiceDraft *draft)
{
	SgServiceConfig *service = draft->config;
	g_autofree char *path = child_path("services", key->value);
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

	if (!expect_mapping(loader, node, path))
		return;
	check_keys(loader, node, path, service_keys);

	/* The environment first: exec and working_dir expand from it. */
	if ((pair = sg_yaml_mapping_lookup(node, "env")) != NULL) {
		g_autofree char *p = child_path(path, "env");
		load_env_block(loader, pair->value, p, LAYER_SERVICE_FILE);
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
		g_autofree char *p = child_path(path, second->key->value);
		error_at(loader, second->key, p,
		         _("a service has either command or exec, not both"));
	} else if (command_pair == NULL && exec_pair == NULL) {
		error_at(loader, key, path, _("a service needs a command or an exec"));
	} else if (command_pair != NULL) {
		g_autofree char *p = child_path(path, "command");
		if (read_string(loader, command_pair->value, p, FALSE, &text))
			service->command = g_strdup(text);
	} else {
		g_autofree char *p = child_path(path, "exec");
		exec_node = exec_pair->value;
		load_exec(loader, exec_node, p, service);
	}

	if ((pair = sg_yaml_mapping_lookup(node, "working_dir")) != NULL) {
		g_autofree char *p = child_path(path, "working_dir");
		g_autofree char *expanded = NULL;
		if (read_string(loader, pair->value, p, FALSE, &text) &&
		    (expanded = expand(loader, pair->value, p, text, N_LAYERS)) != NULL) {
			service->working_dir = resolve_path(loader->dir, expanded);
			wd_node = pair->value;
		}
	}
	if (service->working_dir == NULL)
		service->working_dir = g_strdup(loader->dir);

	if ((pair = sg_yaml_mapping_lookup(node, "depends_on")) != NULL) {
		g_autofree char *p = child_path(path, "depends_on");
		load_dependencies(loader, pair->value, p, draft);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "restart_policy")) != NULL) {
		g_autofree char *p = child_path(path, "restart_policy");
		load_restart_policy(loader, pair->value, p, service);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "backoff")) != NULL) {
		g_autofree char *p = child_path(path, "backoff");
		read_duration(loader, pair->value, p, TRUE, &service->backoff_ms);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "backoff_max")) != NULL) {
		g_autofree char *p = child_path(path, "backoff_max");
		if (read_duration(loader, pair->value, p, FALSE, &service->backoff_max_ms) &&
		    service->backoff_max_ms < service->backoff_ms)
			error_at(loader, pair->value, p,
			         _("backoff_max must not be shorter than backoff"));
	}
	if ((pair = sg_yaml_mapping_lookup(node, "max_restarts")) != NULL) {
		g_autofree char *p = child_path(path, "max_restarts");
		guint64 value;
		if (read_uint(loader, pair->value, p, MAX_RESTARTS_LIMIT, &value))
			service->max_restarts = (gint64)value;
	}
	if ((pair = sg_yaml_mapping_lookup(node, "stop_timeout")) != NULL) {
		g_autofree char *p = child_path(path, "stop_timeout");
		read_duration(loader, pair->value, p, TRUE, &service->stop_timeout_ms);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "skip")) != NULL) {
		g_autofree char *p = child_path(path, "skip");
		load_skip(loader, pair->value, p, service);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "health_check")) != NULL) {
		g_autofree char *p = child_path(path, "health_check");
		load_health_check(loader, pair->value, p, &service->health_check);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "deployment")) != NULL) {
		g_autofree char *p = child_path(path, "deployment");
		load_deployment(loader, pair->value, p, &service->deployment);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "hooks")) != NULL) {
		g_autofree char *p = child_path(path, "hooks");
		load_hooks(loader, pair->value, p, service->hooks);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "logs")) != NULL) {
		g_autofree char *p = child_path(path, "logs");
		load_logs(loader, pair->value, p, &service->logs);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "cron")) != NULL) {
		g_autofree char *p = child_path(path, "cron");
		load_cron(loader, pair->value, p, service);
		for (guint i = 0; cron_forbidden_keys[i] != NULL; i++) {
			SgYamlPair *bad = sg_yaml_mapping_lookup(node, cron_forbidden_keys[i]);
			g_autofree char *bp = NULL;
			if (bad == NULL)
				continue;
			bp = child_path(path, cron_forbidden_keys[i]);
			error_at(loader, bad->key, bp, _("\"%s\" is not allowed on a cron job"),
			         cron_forbidden_keys[i]);
		}
	}

	warn_missing_files(loader, exec_node, wd_node, path, service);
}

/* ---- the dependency graph ---- */

static ServiceDraft *
find_draft(GPtrArray *drafts, GHashTable *by_name, const char *name)
{
	gpointer index;

	if (!g_hash_table_lookup_extended(by_name, name, NULL, &index))
		return NULL;
	return g_ptr_array_index(drafts, GPOINTER_TO_UINT(index));
}

static void
check_dependency_targets(Loader *loader, GPtrArray *drafts, GHashTable *by_name,
                         const char *const *names)
{
	for (guint i = 0; i < drafts->len; i++) {
		ServiceDraft *draft = g_ptr_array_index(drafts, i);

		for (guint d = 0; d < draft->config->n_depends_on; d++) {
			const char *target = draft->config->depends_on[d].service;
			const DepRef *ref = g_ptr_array_index(draft->dep_refs, d);
			ServiceDraft *dep = find_draft(drafts, by_name, target);

			if (dep == NULL) {
				const char *hint = closest(target, names);
				if (hint != NULL)
					error_at(loader, ref->node, ref->path,
					         _("unknown service \"%s\" (did you mean "
					           "\"%s\"?)"),
					         target, hint);
				else
					error_at(loader, ref->node, ref->path,
					         _("unknown service \"%s\""), target);
			} else if (dep->config->cron_expression != NULL) {
				error_at(loader, ref->node, ref->path,
				         _("\"%s\" is a cron job; no service may depend on it"),
				         target);
			}
		}
	}
}

enum { WHITE, GREY, BLACK };

/* Depth-first search; a grey node reached again closes a cycle, reported once. */
static void
visit(Loader *loader, GPtrArray *drafts, GHashTable *by_name, guint index, guint8 *colour,
      GArray *stack)
{
	ServiceDraft *draft = g_ptr_array_index(drafts, index);

	colour[index] = GREY;
	g_array_append_val(stack, index);
	for (guint d = 0; d < draft->config->n_depends_on; d++) {
		gpointer target_index;
		guint t;

		if (!g_hash_table_lookup_extended(by_name, draft->config->depends_on[d].service,
		                                  NULL, &target_index))
			continue;
		t = GPOINTER_TO_UINT(target_index);
		if (colour[t] == GREY) {
			GString *cycle = g_string_new(NULL);
			const DepRef *ref = g_ptr_array_index(draft->dep_refs, d);
			guint start = stack->len;

			while (g_array_index(stack, guint, start - 1) != t)
				start--;
			for (guint s = start - 1; s < stack->len; s++) {
				ServiceDraft *member =
				        g_ptr_array_index(drafts, g_array_index(stack, guint, s));
				g_string_append_printf(cycle, "%s -> ", member->config->name);
			}
			g_string_append(
			        cycle,
			        ((ServiceDraft *)g_ptr_array_index(drafts, t))->config->name);
			error_at(loader, ref->node, ref->path, _("dependency cycle: %s"),
			         cycle->str);
			g_string_free(cycle, TRUE);
		} else if (colour[t] == WHITE) {
			visit(loader, drafts, by_name, t, colour, stack);
		}
	}
	g_array_set_size(stack, stack->len - 1);
	colour[index] = BLACK;
}

static void
check_cycles(Loader *loader, GPtrArray *drafts, GHashTable *by_name)
{
	g_autofree guint8 *colour = g_new0(guint8, drafts->len);
	g_autoptr(GArray) stack = g_array_new(FALSE, FALSE, sizeof(guint));

	for (guint i = 0; i < drafts->len; i++)
		if (colour[i] == WHITE)
			visit(loader, drafts, by_name, i, colour, stack);
}

/* ---- the whole file ---- */

static char **
strip_manager_vars(char **env)
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

static GHashTable *
environ_to_table(char **env)
{
	GHashTable *table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	for (guint i = 0; env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');
		g_hash_table_replace(table, g_strndup(env[i], (gsize)(eq - env[i])),
		                     g_strdup(eq + 1));
	}
	return table;
}

static void
load_version(Loader *loader, const SgYamlNode *root)
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
		error_at(loader, pair->value, "version",
		         _("unsupported version %s: this systemg reads version \"1\""),
		         pair->value->kind == SG_YAML_SCALAR ? pair->value->value
		                                             : kind_name(pair->value));
}

static GPtrArray *
load_services(Loader *loader, const SgYamlNode *root, const SgLogLimits *root_logs,
              GHashTable *by_name)
{
	GPtrArray *drafts = g_ptr_array_new_with_free_func((GDestroyNotify)service_draft_free);
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
	if (!expect_mapping(loader, services, "services"))
		return drafts;
	if (services->items->len > SG_CONFIG_MAX_SERVICES) {
		error_at(loader, services, "services", _("more than %d services"),
		         SG_CONFIG_MAX_SERVICES);
		return drafts;
	}
	for (guint i = 0; i < services->items->len; i++) {
		const SgYamlPair *service_pair = g_ptr_array_index(services->items, i);
		const char *name = service_pair->key->value;
		ServiceDraft *draft;

		if (!sg_config_name_is_valid(name)) {
			g_autofree char *p = child_path("services", name);
			error_at(loader, service_pair->key, p,
			         _("invalid service name \"%s\": use 1 to %d of A-Z a-z 0-9 _ - "
			           "., not starting with . or -"),
			         name, SG_SERVICE_NAME_MAX);
			continue;
		}
		draft = g_new0(ServiceDraft, 1);
		draft->config = g_new0(SgServiceConfig, 1);
		draft->config->name = g_strdup(name);
		draft->config->line = service_pair->key->line;
		draft->config->column = service_pair->key->column;
		draft->key = service_pair->key;
		draft->dep_refs = g_ptr_array_new_with_free_func((GDestroyNotify)dep_ref_free);
		loader->service = name;
		load_service(loader, service_pair->key, service_pair->value, root_logs, draft);
		loader->service = NULL;
		draft->config->env = flatten_file_layers(loader);
		clear_layer(loader, LAYER_SERVICE_FILE);
		clear_layer(loader, LAYER_SERVICE_VARS);
		sg_config_hash_service(draft->config);
		g_hash_table_insert(by_name, draft->config->name, GUINT_TO_POINTER(drafts->len));
		g_ptr_array_add(drafts, draft);
	}
	return drafts;
}

/* Where relative paths resolve and services run by default; it sees only the supervisor's
 * environment, since the root env.file itself resolves against it. */
static void
load_project_dir(Loader *loader, const SgYamlNode *node, SgConfig *config)
{
	g_autofree char *expanded = NULL;
	char *text, *dir;

	if (!read_string(loader, node, "project_dir", FALSE, &text) ||
	    (expanded = expand(loader, node, "project_dir", text, LAYER_ROOT_FILE)) == NULL)
		return;
	/* Relative to the file's directory, which loader->dir and config->dir are until now. */
	dir = resolve_path(config->dir, expanded);
	g_free(config->dir);
	loader->dir = config->dir = dir;
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
		warning_at(loader, node, "project_dir",
		           _("project directory %s does not exist (yet)"), dir);
}

static void
load_root(Loader *loader, const SgYamlNode *root, SgConfig *config)
{
	g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) drafts = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	SgYamlPair *pair;

	config->logs.max_bytes = DEFAULT_LOG_MAX_BYTES;
	config->logs.max_files = DEFAULT_LOG_MAX_FILES;
	if (!expect_mapping(loader, root, ""))
		return;
	check_keys(loader, root, "", top_keys);
	load_version(loader, root);
	if ((pair = sg_yaml_mapping_lookup(root, "project_dir")) != NULL)
		load_project_dir(loader, pair->value, config);
	if ((pair = sg_yaml_mapping_lookup(root, "env")) != NULL)
		load_env_block(loader, pair->value, "env", LAYER_ROOT_FILE);
	if ((pair = sg_yaml_mapping_lookup(root, "logs")) != NULL)
		load_logs(loader, pair->value, "logs", &config->logs);

	drafts = load_services(loader, root, &config->logs, by_name);
	for (guint i = 0; i < drafts->len; i++)
		g_ptr_array_add(names,
		                ((ServiceDraft *)g_ptr_array_index(drafts, i))->config->name);
	g_ptr_array_add(names, NULL);
	check_dependency_targets(loader, drafts, by_name, (const char *const *)names->pdata);
	check_cycles(loader, drafts, by_name);

	for (guint i = 0; i < drafts->len; i++) {
		ServiceDraft *draft = g_ptr_array_index(drafts, i);
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
	config->services = g_ptr_array_new_with_free_func((GDestroyNotify)service_config_free);
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
	Loader loader = { 0 };
	guint errors_before = sg_problem_list_count(problems, SG_PROBLEM_ERROR);
	guint n_errors;

	if (base_env == NULL)
		base_env = own_env = g_get_environ();
	config->base_env = strip_manager_vars(base_env);

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
		loader.layers[LAYER_BASE] = environ_to_table(config->base_env);
		load_root(&loader, root, config);
		for (guint i = 0; i < N_LAYERS; i++)
			clear_layer(&loader, (EnvLayer)i);
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
	config->base_env = strip_manager_vars(env);
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

const char *
sg_hook_kind_to_string(SgHookKind kind)
{
	g_return_val_if_fail(kind < SG_HOOK_N, "");
	return hook_names[kind];
}

const char *
sg_restart_policy_to_string(SgRestartPolicy policy)
{
	switch (policy) {
	case SG_RESTART_ALWAYS:
		return "always";
	case SG_RESTART_ON_FAILURE:
		return "on-failure";
	case SG_RESTART_NEVER:
	default:
		return "never";
	}
}

const char *
sg_check_kind_to_string(SgCheckKind kind)
{
	switch (kind) {
	case SG_CHECK_URL:
		return "url";
	case SG_CHECK_TCP:
		return "tcp";
	case SG_CHECK_COMMAND:
		return "command";
	case SG_CHECK_NOTIFY:
		return "notify";
	case SG_CHECK_NONE:
	default:
		return "none";
	}
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
