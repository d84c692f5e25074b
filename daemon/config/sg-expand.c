/* SPDX-License-Identifier: MIT */
/* Expands ${VAR} in configuration strings at load time; knows which markers can be expanded. */
#include "config.h"

#include "config/sg-expand.h"

#include <glib/gi18n.h>
#include <string.h>

static gboolean
is_name_char(char c, gboolean first)
{
	return c == '_' || g_ascii_isalpha(c) || (!first && g_ascii_isdigit(c));
}

char *
sg_expand(const char *text, SgExpandLookupFunc lookup, gpointer user_data, char **ret_message)
{
	g_autoptr(GString) out = g_string_sized_new(strlen(text));

	*ret_message = NULL;
	for (const char *p = text; *p != '\0'; p++) {
		const char *end, *value;
		g_autofree char *name = NULL;
		char *refusal = NULL;

		if (p[0] != '$' || (p[1] != '$' && p[1] != '{')) {
			g_string_append_c(out, *p);
			continue;
		}
		if (p[1] == '$') {
			g_string_append_c(out, '$');
			p++;
			continue;
		}
		end = strchr(p + 2, '}');
		if (end == NULL) {
			*ret_message = g_strdup_printf(_("unterminated \"${\" in \"%s\""), text);
			return NULL;
		}
		name = g_strndup(p + 2, (gsize)(end - p - 2));
		for (const char *c = name; *c != '\0' || c == name; c++) {
			if (!is_name_char(*c, c == name)) {
				*ret_message = g_strdup_printf(_("invalid variable name \"${%s}\" "
				                                 "(use $$ for a literal $)"),
				                               name);
				return NULL;
			}
		}
		value = lookup(name, user_data, &refusal);
		if (refusal != NULL) {
			*ret_message = refusal;
			return NULL;
		}
		if (value == NULL) {
			*ret_message = g_strdup_printf(_("undefined variable \"%s\""), name);
			return NULL;
		}
		g_string_append(out, value);
		p = end;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

gboolean
sg_expand_marker(const char *name, const char *service, const char **ret_value, char **ret_refusal)
{
	*ret_value = NULL;
	*ret_refusal = NULL;
	if (g_str_equal(name, "SYSTEMG_SERVICE")) {
		if (service != NULL)
			*ret_value = service;
		else
			*ret_refusal = g_strdup(_(
			        "\"SYSTEMG_SERVICE\" differs per service and is not known outside "
			        "a service's definition; use ${SYSTEMG_SERVICE} in the service's "
			        "own env.vars, exec or working_dir"));
		return TRUE;
	}
	if (g_str_equal(name, "SYSTEMG_INVOCATION_ID")) {
		*ret_refusal = g_strdup(
		        _("\"SYSTEMG_INVOCATION_ID\" is new for every instance and not known when "
		          "the file is loaded; use $SYSTEMG_INVOCATION_ID in a shell command "
		          "(command:, hooks), which the shell expands at run time"));
		return TRUE;
	}
	if (g_str_equal(name, "SYSTEMG_STATE_ID")) {
		*ret_refusal = g_strdup(
		        _("\"SYSTEMG_STATE_ID\" belongs to the state directory, not to the file, "
		          "and is not known when the file is loaded; use $SYSTEMG_STATE_ID in a "
		          "shell command (command:, hooks), which the shell expands at run time"));
		return TRUE;
	}
	return FALSE;
}
