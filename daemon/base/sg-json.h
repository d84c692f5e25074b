/* SPDX-License-Identifier: MIT */
/* JSON shared by sysgd and sysg: the one reader with limits, nullable members, RFC 3339 times. */
#pragma once

#include <json-glib/json-glib.h>

#include "base/sg-limits.h"

typedef enum {
	SG_JSON_PARSE_DEFAULT = 0,
	/* Immutable nodes (cheaper to copy and share); the default gives nodes to edit. */
	SG_JSON_PARSE_IMMUTABLE = 1 << 0,
} SgJsonParseFlags;

/*
 * The one way systemg reads JSON: length bytes of text (no NUL needed), one JSON value.
 * Before json-glib (which recurses without a limit) sees the text, a linear scan refuses,
 * naming the line and column: more than max_bytes bytes or arrays and objects nested
 * deeper than SG_JSON_MAX_DEPTH (SG_ERROR_LIMIT); text that is not strict RFC 8259 JSON
 * in valid UTF-8 (json-glib's comments and single quotes, control characters, bad
 * escapes, "\u0000" and unpaired surrogates, which json-glib cannot keep), an integer
 * beyond 64 bits or another number that is not 0 or between 0.0001 and 2^53 in magnitude
 * (json-glib would wrap them, or write them back in a form that is not JSON), and text holding no
 * value (SG_ERROR_CORRUPT). A leading byte order mark is skipped. Returns the root (never NULL on
 * success).
 */
JsonNode *sg_json_parse(const char *text, gsize length, gsize max_bytes, SgJsonParseFlags flags,
                        GError **error);

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
