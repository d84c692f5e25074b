/* SPDX-License-Identifier: MIT */
/* JSON helpers shared by sysgd and sysg: nullable members and RFC 3339 times. */
#pragma once

#include <json-glib/json-glib.h>

/* RFC 3339 UTC with microseconds ("2026-01-31T15:30:00.123456Z"); NULL for usec <= 0. */
char *sg_json_format_time(gint64 usec);

/* Adds member name: value, or null when value is NULL. */
void sg_json_builder_add_string_or_null(JsonBuilder *builder, const char *name, const char *value);

/* Adds member name: value, or null when present is FALSE. */
void sg_json_builder_add_int_or_null(JsonBuilder *builder, const char *name, gint64 value,
                                     gboolean present);

/* Adds member name: the time as sg_json_format_time() writes it, or null for usec <= 0. */
void sg_json_builder_add_time(JsonBuilder *builder, const char *name, gint64 usec);

/* Sets member name to value, or to null when value is NULL. */
void sg_json_object_set_string_or_null(JsonObject *object, const char *name, const char *value);

/* Sets member name to a copy of from's member of that name; null when from or it is missing. */
void sg_json_object_copy_member(JsonObject *to, JsonObject *from, const char *name);

/* The object member name of object (which may be NULL), or NULL when missing or no object. */
JsonObject *sg_json_object_get_object(JsonObject *object, const char *name);

/* The object member name of root when root is an object, else NULL. */
JsonObject *sg_json_root_get_object(JsonNode *root, const char *name);

/*
 * The string member name of object (which may be NULL), or NULL when it is missing or of
 * another type (files may be edited).
 */
const char *sg_json_object_get_string(JsonObject *object, const char *name);
