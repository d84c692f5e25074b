/* SPDX-License-Identifier: MIT */
/* The last lines of a file, read backwards in blocks (logs can be large). */
#pragma once

#include <glib.h>

/* At most n complete or final lines, oldest first, without their newlines. A missing file
 * gives an empty array. Lines longer than 64 KiB are cut. NULL-terminated. */
char **sg_tail_lines(const char *path, guint n, GError **error);
