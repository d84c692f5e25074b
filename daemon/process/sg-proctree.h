/* SPDX-License-Identifier: MIT */
/* Readers of /proc: process start times, sessions, markers found in one scan. No polling. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* What the environment of a process says about whose it is. */
typedef enum {
	SG_MARKERS_UNREAD, /* not read, or not readable (another user, non-dumpable, a kernel
	                      thread) */
	SG_MARKERS_NONE,   /* readable, with no SYSTEMG_STATE_ID (never had one, or wiped) */
	SG_MARKERS_OURS,   /* the SYSTEMG_STATE_ID asked for: service and invocation_id are set */
	SG_MARKERS_OTHER,  /* the SYSTEMG_STATE_ID of another state directory */
} SgMarkers;

/* Why a process is ours, as sg-ownership proved it (docs/engine.md, "Which processes are
 * ours"); SG_PROOF_NONE: it is not, and nothing may signal it. */
typedef enum {
	SG_PROOF_NONE,
	SG_PROOF_CHILD,      /* our own child, not yet reaped: its PID cannot be reused */
	SG_PROOF_RECORDED,   /* the PID and start time we recorded, markers not contradicting */
	SG_PROOF_MARKERS,    /* it carries our SYSTEMG_STATE_ID and the service's name */
	SG_PROOF_CGROUP,     /* a member of the service's cgroup */
	SG_PROOF_SESSION,    /* in the session or process group of a leader proven ours */
	SG_PROOF_DESCENDANT, /* a descendant, by parent PID, of a process proven ours */
	SG_PROOF_SUPERVISOR, /* holds the lock on sysg.pid and serves control.sock */
	SG_PROOF_VOUCHED,    /* status only: the supervisor names it as the service's main */
} SgProof;

typedef struct {
	pid_t pid;
	pid_t ppid;
	pid_t pgid;
	pid_t sid;
	guint64 start_time; /* field 22 of /proc/PID/stat, clock ticks since boot */
	gint64 cpu_usec;    /* utime + stime */
	gint64 rss_bytes;   /* resident memory */
	SgMarkers markers;
	char *service;       /* SYSTEMG_SERVICE (with our SYSTEMG_STATE_ID only), or NULL */
	char *invocation_id; /* SYSTEMG_INVOCATION_ID (with our SYSTEMG_STATE_ID only), or NULL */
	SgProof proof;       /* set by sg-ownership; SG_PROOF_NONE from the readers here */
} SgProcInfo;

void sg_proc_info_free(SgProcInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgProcInfo, sg_proc_info_free)

/* Reads /proc/PID/stat (markers unread). FALSE when the process is gone; a zombie counts as
 * gone, everywhere: it has exited, whoever reaps it later. */
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
 * skipped silently (markers SG_MARKERS_UNREAD).
 */
GPtrArray *sg_proctree_scan(const char *state_id, GHashTable *sessions);

/* The same scan, returning every live process (markers read when state_id is not NULL):
 * one scan serves every service of a supervisor at once, and shows who is whose parent. */
GPtrArray *sg_proctree_scan_all(const char *state_id);

SgProcInfo *sg_proc_info_copy(const SgProcInfo *info);
