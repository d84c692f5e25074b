/* SPDX-License-Identifier: MIT */
/* supervisor.log: one timestamped line per event, filtered by level, rotated by size. */
#pragma once

#include <glib.h>

#include "base/sg-limits.h"

/* The numeric values are those of `--log-level 0-5`. */
typedef enum {
	SG_LOG_OFF,
	SG_LOG_ERROR,
	SG_LOG_WARN,
	SG_LOG_INFO,
	SG_LOG_DEBUG,
	SG_LOG_TRACE,
} SgLogLevel;

typedef struct _SgLog SgLog;

/* Microseconds since the epoch, UTC. */
typedef gint64 (*SgLogClockFunc)(void);

/*
 * Accepts off error warn warning info debug trace in any case, and 0 to 5. ret_level is
 * set only on success.
 */
gboolean sg_log_level_parse(const char *text, SgLogLevel *ret_level);
/* The name as written in a line, padded to 5 columns: "ERROR", "WARN ", "INFO " ... */
const char *sg_log_level_to_string(SgLogLevel level);

/*
 * Opens path for appending (created 0600), remembering its size for rotation. Its directory
 * is opened once: every later open, rename and unlink is relative to it and never follows a
 * symbolic link. Fails naming the path, also when it is a symbolic link, not a regular file
 * or a file of another user (sg_fileio_openat()).
 */
SgLog *sg_log_open(const char *path, SgLogLevel level, GError **error);
void sg_log_free(SgLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgLog, sg_log_free)

void sg_log_set_level(SgLog *log, SgLogLevel level);
SgLogLevel sg_log_get_level(SgLog *log);
/* Whether a message of this level would be written; FALSE for SG_LOG_OFF or a NULL log. */
gboolean sg_log_enabled(SgLog *log, SgLogLevel level);

/*
 * Writes "2026-01-31T15:30:00.123Z INFO  message\n" with one write(2), so lines of
 * concurrent writers never mix. Each line of a multi-line message gets its own prefix (a
 * single trailing newline is dropped); control characters other than tab, and bytes that
 * are not UTF-8, are written as \r, \xHH or \u00HH escapes. A NULL log writes nothing.
 * Failures never abort: they are counted and the first one is reported on stderr.
 */
void sg_log_write(SgLog *log, SgLogLevel level, const char *format, ...) G_GNUC_PRINTF(3, 4);
void sg_log_writev(SgLog *log, SgLogLevel level, const char *format, va_list args)
        G_GNUC_PRINTF(3, 0);

/* A second destination for the same lines (the foreground terminal), borrowed, not
 * closed; -1 disables it. Errors writing to it are ignored (the terminal may be gone). */
void sg_log_set_mirror(SgLog *log, int fd);

/*
 * Rotates once the file passes max_bytes (0: never): .N-1 -> .N (the old .N is dropped)
 * ... .1 -> .2, the file -> .1, and a new empty file. max_files 0 keeps no old file.
 */
void sg_log_set_rotation(SgLog *log, guint64 max_bytes, guint max_files);

/* The clock for timestamps; NULL restores g_get_real_time(). */
void sg_log_set_clock(SgLog *log, SgLogClockFunc now_usec);

/* How many writes or rotations failed since sg_log_open(). */
guint64 sg_log_get_n_errors(SgLog *log);
