/* SPDX-License-Identifier: MIT */
/* The last lines of a file, read backwards in blocks (logs can be large). */
#pragma once

#include <glib.h>

/* At most n complete or final lines, oldest first, without their newlines. A missing file
 * gives an empty array. Lines longer than 64 KiB are cut. NULL-terminated. */
char **sg_tail_lines(const char *path, guint n, GError **error);

/* How many lines of its stderr log tell why a service did not start (SPEC section 4). */
#define SG_TAIL_FAILURE_LINES 10

/*
 * Appends "  last lines of PATH:" and the last n lines of path, indented, to out: how a
 * failure is shown with its service's output. Nothing when the file is empty or missing.
 */
void sg_tail_append_indented(GString *out, const char *path, guint n);
