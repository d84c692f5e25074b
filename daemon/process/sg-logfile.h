/* SPDX-License-Identifier: MIT */
/* A service's stdout/stderr log file: opened for the child, rotated by size without polling. */
#pragma once

#include <glib.h>

#include "base/sg-clock.h"
#include "config/sg-config.h"
#include "base/sg-log.h"

typedef struct _SgLogWatch SgLogWatch;
typedef struct _SgLogFile SgLogFile;

/*
 * One inotify instance for every log file of the supervisor, on the thread-default main
 * context. A quiet file costs no wake-up: each file has a one-shot IN_MODIFY watch; the
 * first write after a check arms a 1 s timer (the clock's), which checks the size, rotates
 * when needed, and re-arms the one-shot watch. So a noisy file costs one check a second.
 */
SgLogWatch *sg_log_watch_new(SgClock *clock, GError **error);
void sg_log_watch_free(SgLogWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgLogWatch, sg_log_watch_free)

/* Where the files of this watch tell what the supervisor must know: a symbolic link or
 * another file put in place of a log, output dropped by a rotation. Borrowed; NULL: nowhere. */
void sg_log_watch_set_log(SgLogWatch *watch, SgLog *log);

/*
 * Opens (creates 0600, O_APPEND) path and starts watching it with these limits
 * (max_bytes 0: never rotate). The directory must exist and be ours; it is opened once, and
 * every later open, rename and unlink of the file and its rotated copies is relative to it
 * and never follows a symbolic link. A symbolic link, a FIFO or anything but a regular file
 * of ours at path is refused (error names it); one put there later is logged and left alone.
 */
SgLogFile *sg_log_file_open(SgLogWatch *watch, const char *path, const SgLogLimits *limits,
                            GError **error);
void sg_log_file_close(SgLogFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgLogFile, sg_log_file_close)

/* An O_WRONLY|O_APPEND fd to hand to a child as its stdout or stderr (owned by file). */
int sg_log_file_fd(SgLogFile *file);
void sg_log_file_set_limits(SgLogFile *file, const SgLogLimits *limits);

/*
 * Rotates now if the file is larger than max_bytes (sg_log_rotate(): copies of at most
 * max_bytes into PATH.1 .., the head removed in place by collapse-range or by a truncate
 * after catch-up; a burst larger than max_files x max_bytes keeps its newest part and the
 * rest is dropped). Runs synchronously (copy and fsync). Returns TRUE when it rotated.
 * Dropped bytes are told in one WARN line of the watch's log once a check finds the burst
 * over (at most a minute later while it lasts), and on close.
 */
gboolean sg_log_file_rotate_if_needed(SgLogFile *file, GError **error);

/* Bytes dropped by rotations since the file was opened. */
guint64 sg_log_file_get_dropped(SgLogFile *file);

/* For tests: skips collapse-range as if the file system lacked it, forcing the truncate path. */
void sg_log_file_set_force_truncate(SgLogFile *file, gboolean force);
