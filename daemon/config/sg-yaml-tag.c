/* SPDX-License-Identifier: MIT */
/* Which YAML tags a configuration may carry: the core schema's standard ones, nothing else. */
#include "config.h"

#include "config/sg-yaml-tag.h"

#include <glib/gi18n.h>
#include <string.h>

#define CORE_PREFIX "tag:yaml.org,2002:"

static const char *const scalar_tags[] = { "str", "int", "float", "bool", "null", NULL };
static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };

/* Whether value is what a plain scalar of this core type looks like to systemg: booleans
 * are true and false only (as everywhere in the file), numbers are written in decimal. */
static gboolean
value_fits(const char *type, const char *value)
{
	const char *p = value;
	char *end = NULL;

	if (g_str_equal(type, "null"))
		return g_strv_contains(nulls, value);
	if (g_str_equal(type, "bool"))
		return g_str_equal(value, "true") || g_str_equal(value, "false");
	if (g_str_equal(type, "int")) {
		if (*p == '-' || *p == '+')
			p++;
		if (*p == '\0')
			return FALSE;
		for (; *p != '\0'; p++)
			if (!g_ascii_isdigit(*p))
				return FALSE;
		return TRUE;
	}
	if (g_str_equal(type, "float")) {
		if (g_strv_contains((const char *const[]){ ".inf", "-.inf", "+.inf", ".nan", NULL },
		                    value))
			return TRUE;
		g_ascii_strtod(value, &end);
		return value[0] != '\0' && end != NULL && *end == '\0';
	}
	return TRUE; /* str */
}

gboolean
sg_yaml_tag_is_type(const char *tag)
{
	return tag != NULL && g_str_has_prefix(tag, CORE_PREFIX) &&
	       g_strv_contains((const char *const[]){ "int", "float", "bool", "null", NULL },
	                       tag + strlen(CORE_PREFIX));
}

char *
sg_yaml_tag_display(const char *tag)
{
	g_return_val_if_fail(tag != NULL, NULL);
	if (g_str_has_prefix(tag, CORE_PREFIX))
		return g_strconcat("!!", tag + strlen(CORE_PREFIX), NULL);
	if (tag[0] == '!')
		return g_strdup(tag);
	return g_strdup_printf("!<%s>", tag);
}

static const char *
kind_name(SgYamlKind kind)
{
	switch (kind) {
	case SG_YAML_MAPPING:
		return _("a mapping");
	case SG_YAML_SEQUENCE:
		return _("a sequence");
	case SG_YAML_SCALAR:
	default:
		return _("a scalar");
	}
}

char *
sg_yaml_tag_check(const char *tag, SgYamlKind kind, const char *value)
{
	g_autofree char *shown = NULL;
	const char *name;
	gboolean fits;

	if (tag == NULL)
		return NULL;
	shown = sg_yaml_tag_display(tag);
	if (!g_str_has_prefix(tag, CORE_PREFIX))
		return g_strdup_printf(_("unknown tag \"%s\": only !!str, !!int, !!float, !!bool, "
		                         "!!null, !!map and !!seq are allowed"),
		                       shown);
	name = tag + strlen(CORE_PREFIX);
	if (g_strv_contains(scalar_tags, name)) {
		fits = kind == SG_YAML_SCALAR;
		if (fits && value != NULL && !value_fits(name, value))
			return g_strdup_printf(_("\"%s\" is not a value of the tag \"%s\""), value,
			                       shown);
	} else if (g_str_equal(name, "map"))
		fits = kind == SG_YAML_MAPPING;
	else if (g_str_equal(name, "seq"))
		fits = kind == SG_YAML_SEQUENCE;
	else if (g_str_equal(name, "merge"))
		fits = kind == SG_YAML_SCALAR && g_strcmp0(value, "<<") == 0;
	else
		return g_strdup_printf(_("unknown tag \"%s\": only !!str, !!int, !!float, !!bool, "
		                         "!!null, !!map and !!seq are allowed"),
		                       shown);
	if (fits)
		return NULL;
	return g_strdup_printf(_("the tag \"%s\" cannot be put on %s"), shown, kind_name(kind));
}
