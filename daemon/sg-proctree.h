/* SPDX-License-Identifier: MIT */
/* Readers of /proc: process start times, sessions, markers found in one scan. No polling. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct {
	pid_t pid;
	pid_t ppid;
	pid_t pgid;
	pid_t sid;
	guint64 start_time;  /* field 22 of /proc/PID/stat, clock ticks since boot */
	char *service;       /* SYSTEMG_SERVICE, or NULL */
	char *invocation_id; /* SYSTEMG_INVOCATION_ID, or NULL */
} SgProcInfo;

void sg_proc_info_free(SgProcInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgProcInfo, sg_proc_info_free)

/* Reads /proc/PID/stat. FALSE when the process is gone; a zombie counts as gone. */
gboolean sg_proctree_read_stat(pid_t pid, SgProcInfo *ret_info);

/* The start time of pid, 0 when it is gone: with the PID, the identity of a process. */
guint64 sg_proctree_start_time(pid_t pid);

/* CPU time (utime + stime) and resident memory of a live process; FALSE when it is gone. */
gboolean sg_proctree_read_usage(pid_t pid, gint64 *ret_cpu_usec, gint64 *ret_rss_bytes);

/*
 * One scan of /proc. Returns SgProcInfo* for every live (non-zombie) process other than the
 * caller that either carries SYSTEMG_STATE_ID=state_id in its environment (then service
 * and invocation_id are filled), or whose session or process group is in sessions
 * (a set of pid_t as GINT_TO_POINTER; may be NULL). Environments we may not read are
 * skipped silently.
 */
GPtrArray *sg_proctree_scan(const char *state_id, GHashTable *sessions);

/* The same scan, returning every live process (markers filled where state_id matches):
 * one scan serves every service of a supervisor at once. */
GPtrArray *sg_proctree_scan_all(const char *state_id);

SgProcInfo *sg_proc_info_copy(const SgProcInfo *info);
