/* SPDX-License-Identifier: MIT */
/* The configuration loader's problems, typed readers and ${VAR} expansion. */
#include "config.h"

#include "config/sg-loader.h"

#include <glib/gi18n.h>
#include <string.h>

#include "config/sg-expand.h"
#include "config/sg-problem.h"

void
sg_loader_error(SgLoader *loader, const SgYamlNode *node, const char *path, const char *format, ...)
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

void
sg_loader_warning(SgLoader *loader, const SgYamlNode *node, const char *path, const char *format,
                  ...)
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

char *
sg_loader_child_path(const char *parent, const char *key)
{
	if (parent == NULL || parent[0] == '\0')
		return g_strdup(key);
	return g_strdup_printf("%s.%s", parent, key);
}

char *
sg_loader_index_path(const char *parent, guint index)
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

const char *
sg_loader_closest(const char *word, const char *const *candidates)
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

const char *
sg_loader_kind_name(const SgYamlNode *node)
{
	if (node->kind == SG_YAML_SCALAR)
		return sg_yaml_node_is_null(node) ? _("nothing") : _("a scalar");
	return node->kind == SG_YAML_MAPPING ? _("a mapping") : _("a sequence");
}

/* ---- typed readers: each reports its own problem and returns FALSE on a bad value ---- */

gboolean
sg_loader_expect_mapping(SgLoader *loader, const SgYamlNode *node, const char *path)
{
	if (node->kind == SG_YAML_MAPPING)
		return TRUE;
	sg_loader_error(loader, node, path, _("expected a mapping, found %s"),
	                sg_loader_kind_name(node));
	return FALSE;
}

gboolean
sg_loader_expect_sequence(SgLoader *loader, const SgYamlNode *node, const char *path)
{
	if (node->kind == SG_YAML_SEQUENCE)
		return TRUE;
	sg_loader_error(loader, node, path, _("expected a list, found %s"),
	                sg_loader_kind_name(node));
	return FALSE;
}

gboolean
sg_loader_check_keys(SgLoader *loader, const SgYamlNode *mapping, const char *path,
                     const char *const *known)
{
	gboolean ok = TRUE;

	for (guint i = 0; i < mapping->items->len; i++) {
		const SgYamlPair *pair = g_ptr_array_index(mapping->items, i);
		const char *key = pair->key->value;
		g_autofree char *key_path = NULL;
		const char *hint;

		if (g_strv_contains(known, key))
			continue;
		key_path = sg_loader_child_path(path, key);
		hint = sg_loader_closest(key, known);
		if (hint != NULL)
			sg_loader_error(loader, pair->key, key_path,
			                _("unknown key \"%s\" (did you mean \"%s\"?)"), key, hint);
		else
			sg_loader_error(loader, pair->key, key_path, _("unknown key \"%s\""), key);
		ok = FALSE;
	}
	return ok;
}

gboolean
sg_loader_is_plain(const SgYamlNode *node)
{
	return node->kind == SG_YAML_SCALAR && !node->quoted && node->tag == NULL;
}

gboolean
sg_loader_read_string(SgLoader *loader, const SgYamlNode *node, const char *path,
                      gboolean allow_empty, char **out)
{
	if (node->kind != SG_YAML_SCALAR || sg_yaml_node_is_null(node)) {
		sg_loader_error(loader, node, path, _("expected a string, found %s"),
		                sg_loader_kind_name(node));
		return FALSE;
	}
	if (!allow_empty && node->value[0] == '\0') {
		sg_loader_error(loader, node, path, _("must not be empty"));
		return FALSE;
	}
	*out = node->value;
	return TRUE;
}

gboolean
sg_loader_read_bool(SgLoader *loader, const SgYamlNode *node, const char *path, gboolean *out)
{
	static const char *const yaml11[] = { "yes", "no", "on", "off", "y", "n", NULL };

	if (sg_loader_is_plain(node) && g_str_equal(node->value, "true")) {
		*out = TRUE;
		return TRUE;
	}
	if (sg_loader_is_plain(node) && g_str_equal(node->value, "false")) {
		*out = FALSE;
		return TRUE;
	}
	if (sg_loader_is_plain(node)) {
		g_autofree char *lower = g_ascii_strdown(node->value, -1);
		if (g_strv_contains(yaml11, lower) || g_str_equal(lower, "true") ||
		    g_str_equal(lower, "false")) {
			sg_loader_error(
			        loader, node, path,
			        _("\"%s\" is not a boolean in YAML 1.2: write true or false"),
			        node->value);
			return FALSE;
		}
	}
	sg_loader_error(loader, node, path, _("expected true or false, found %s"),
	                node->kind == SG_YAML_SCALAR ? node->value : sg_loader_kind_name(node));
	return FALSE;
}

gboolean
sg_loader_parse_uint(const char *text, guint64 max, guint64 *out)
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

gboolean
sg_loader_read_uint(SgLoader *loader, const SgYamlNode *node, const char *path, guint64 max,
                    guint64 *out)
{
	if (!sg_loader_is_plain(node) || sg_yaml_node_is_null(node)) {
		sg_loader_error(loader, node, path, _("expected a whole number, found %s"),
		                node->kind == SG_YAML_SCALAR && !sg_yaml_node_is_null(node)
		                        ? _("a string")
		                        : sg_loader_kind_name(node));
		return FALSE;
	}
	if (!sg_loader_parse_uint(node->value, max, out)) {
		sg_loader_error(loader, node, path,
		                _("\"%s\" is not a whole number between 0 and %llu"), node->value,
		                (unsigned long long)max);
		return FALSE;
	}
	return TRUE;
}

/* A whole number with unit ms, s, m or h; a bare number is seconds; at most 30 days. */
gboolean
sg_loader_read_duration(SgLoader *loader, const SgYamlNode *node, const char *path,
                        gboolean allow_zero, guint64 *out_ms)
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
		sg_loader_error(loader, node, path,
		                _("expected a duration such as \"5s\", found %s"),
		                sg_loader_kind_name(node));
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
	if (!sg_loader_parse_uint(digits, SG_DURATION_MAX_MS, &value) ||
	    value > SG_DURATION_MAX_MS / scale) {
		sg_loader_error(
		        loader, node, path,
		        _("invalid duration \"%s\": use a whole number with unit ms, s, m or h "
		          "(at most 30 days)"),
		        text);
		return FALSE;
	}
	if (value == 0 && !allow_zero) {
		sg_loader_error(loader, node, path, _("must be longer than 0"));
		return FALSE;
	}
	*out_ms = value * scale;
	return TRUE;
}

/* ---- ${VAR} expansion ---- */

const char *
sg_loader_lookup(SgLoader *loader, SgEnvLayer below, const char *name)
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
	SgLoader *loader;
	SgEnvLayer below; /* the layers a value sees: those below its own */
} Scope;

/* The markers first: they are the last layer, whatever the layers below say. */
static const char *
scope_lookup_cb(const char *name, gpointer user_data, char **ret_refusal)
{
	Scope *scope = user_data;
	const char *value;

	if (sg_expand_marker(name, scope->loader->service, &value, ret_refusal))
		return value;
	return sg_loader_lookup(scope->loader, scope->below, name);
}

/* Expands text from the layers below `below`, reporting a bad reference at node. */
char *
sg_loader_expand(SgLoader *loader, const SgYamlNode *node, const char *path, const char *text,
                 SgEnvLayer below)
{
	Scope scope = { loader, below };
	g_autofree char *message = NULL;
	char *expanded = sg_expand(text, scope_lookup_cb, &scope, &message);

	if (expanded == NULL)
		sg_loader_error(loader, node, path, "%s", message);
	return expanded;
}

char *
sg_loader_resolve_path(const char *base_dir, const char *path)
{
	return g_canonicalize_filename(path, base_dir);
}
