/* SPDX-License-Identifier: MIT */
/* The last lines of a file, read backwards in blocks (logs can be large). */
#pragma once

#include <glib.h>

/* What a line whose beginning was left out for the byte limit starts with. */
#define SG_TAIL_CUT_MARK "[truncated] "

typedef struct {
	GPtrArray *lines; /* char*, oldest first, without their newlines */
	gsize bytes;      /* what the lines take, a newline counted for each */
	gboolean capped;  /* the byte limit left out older lines or the start of the only one */
} SgTail;

/*
 * The last n lines of path (the final one may lack its newline), within max_bytes (at least
 * 64) with a newline counted for each: older lines that do not fit are left out. A newest
 * line longer than max_bytes on its own keeps its end, after SG_TAIL_CUT_MARK and from a
 * UTF-8 character boundary. Reads backwards from the end no more than it returns (plus
 * one block), so the cost is linear in the answer. A missing file gives no lines; anything
 * but a regular file is an error.
 */
SgTail *sg_tail_read(const char *path, guint n, gsize max_bytes, GError **error);
void sg_tail_free(SgTail *tail);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgTail, sg_tail_free)

/* sg_tail_read() within SG_TAIL_REPORT_BYTES_MAX, as a NULL-terminated array (for
 * the lines quoted in failure reports). */
char **sg_tail_lines(const char *path, guint n, GError **error);

/* How many lines of its stderr log tell why a service did not start (SPEC section 4). */
#define SG_TAIL_FAILURE_LINES 10

/*
 * Appends "  last lines of PATH:" and the last n lines of path, indented, to out: how a
 * failure is shown with its service's output. Nothing when the file is empty or missing.
 */
void sg_tail_append_indented(GString *out, const char *path, guint n);
