/* SPDX-License-Identifier: MIT */
/* JSON helpers shared by sysgd and sysg: nullable members and RFC 3339 times. */
#include "config.h"

#include "sg-json.h"

char *
sg_json_format_time(gint64 usec)
{
	g_autoptr(GDateTime) time = NULL;
	g_autoptr(GDateTime) exact = NULL;

	if (usec <= 0)
		return NULL;
	time = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);
	if (time == NULL)
		return NULL;
	exact = g_date_time_add(time, usec % G_USEC_PER_SEC);
	return g_date_time_format(exact, "%Y-%m-%dT%H:%M:%S.%fZ");
}

void
sg_json_builder_add_string_or_null(JsonBuilder *builder, const char *name, const char *value)
{
	json_builder_set_member_name(builder, name);
	if (value != NULL)
		json_builder_add_string_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

void
sg_json_builder_add_int_or_null(JsonBuilder *builder, const char *name, gint64 value,
                                gboolean present)
{
	json_builder_set_member_name(builder, name);
	if (present)
		json_builder_add_int_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

void
sg_json_builder_add_time(JsonBuilder *builder, const char *name, gint64 usec)
{
	g_autofree char *text = sg_json_format_time(usec);

	sg_json_builder_add_string_or_null(builder, name, text);
}

void
sg_json_object_set_string_or_null(JsonObject *object, const char *name, const char *value)
{
	if (value != NULL)
		json_object_set_string_member(object, name, value);
	else
		json_object_set_null_member(object, name);
}

void
sg_json_object_copy_member(JsonObject *to, JsonObject *from, const char *name)
{
	JsonNode *node = from != NULL ? json_object_get_member(from, name) : NULL;

	if (node != NULL)
		json_object_set_member(to, name, json_node_copy(node));
	else
		json_object_set_null_member(to, name);
}

JsonObject *
sg_json_object_get_object(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

JsonObject *
sg_json_root_get_object(JsonNode *root, const char *name)
{
	return root != NULL && JSON_NODE_HOLDS_OBJECT(root)
	               ? sg_json_object_get_object(json_node_get_object(root), name)
	               : NULL;
}

const char *
sg_json_object_get_string(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}
