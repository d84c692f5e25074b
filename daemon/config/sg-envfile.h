/* SPDX-License-Identifier: MIT */
/* The KEY=VALUE env-file grammar of SPEC section 3 (quotes, export, comments; no expansion). */
#pragma once

#include <glib.h>

#include "base/sg-limits.h"

/*
 * Parses an env file into an ordered list of (key, value) pairs, the last duplicate
 * winning (it keeps the position of its first occurrence). Values are never expanded.
 * On failure returns FALSE with an error "FILE:LINE: message" (SG_ERROR_INVALID_CONFIG),
 * naming the file as display_name; ret_line receives the failing line (0 when the file
 * could not be read at all). ret_vars is set only on success: a GPtrArray of
 * char* alternating key, value.
 */
gboolean sg_envfile_parse_file(const char *path, const char *display_name, GPtrArray **ret_vars,
                               int *ret_line, GError **error);
gboolean sg_envfile_parse_data(const char *data, gsize length, const char *display_name,
                               GPtrArray **ret_vars, int *ret_line, GError **error);

/* Whether key matches [A-Za-z_][A-Za-z0-9_]*. */
gboolean sg_envfile_key_is_valid(const char *key);
