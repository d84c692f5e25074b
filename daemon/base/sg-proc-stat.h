/* SPDX-License-Identifier: MIT */
/* /proc/PID/stat read and parsed: the one parser, and whether a process is alive. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct {
	char state;
	pid_t ppid;
	pid_t pgid;
	pid_t sid;
	unsigned long flags;
	guint64 utime;
	guint64 stime;
	guint64 start_time;
	gint64 rss_pages;
} SgProcStat;

/* Reads and parses /proc/PID/stat: dir_fd is an open /proc (during a scan) or AT_FDCWD.
 * FALSE when the process is gone; a zombie is read like any process. */
gboolean sg_proc_stat_read_at(int dir_fd, pid_t pid, SgProcStat *ret_stat);

/* The start time of pid (with the PID, the identity of a process), 0 when it is gone; a
 * zombie has exited: it counts as gone, whoever reaps it later. */
guint64 sg_proc_stat_start_time(pid_t pid);
