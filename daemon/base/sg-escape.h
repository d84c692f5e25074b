/* SPDX-License-Identifier: MIT */
/* Text from outside (names, keys, paths, values) made safe to print: control bytes made visible. */
#pragma once

#include <glib.h>

typedef enum {
	SG_ESCAPE_DEFAULT = 0,
	SG_ESCAPE_KEEP_TAB = 1 << 0,     /* a tab stays a tab (lines of a log) */
	SG_ESCAPE_KEEP_NEWLINE = 1 << 1, /* a message of several lines, each escaped */
} SgEscapeFlags;

/*
 * Appends length bytes of text (-1: up to its NUL) to out, with everything that could move
 * a terminal's cursor, change its colours or split a line made visible: a newline, a
 * carriage return and a tab as \n, \r and \t, other C0 controls and DEL as \xHH, C1
 * controls (U+0080 to U+009F) as \u00HH, and bytes that are not UTF-8 as \xHH. Everything
 * else, backslashes included, is copied as it is.
 */
void sg_escape_append(GString *out, const char *text, gssize length, SgEscapeFlags flags);

/* The same into a new string; NULL gives NULL. */
char *sg_escape(const char *text);

/* The same, but newlines kept: a message of several lines. */
char *sg_escape_lines(const char *text);
