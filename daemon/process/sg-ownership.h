/* SPDX-License-Identifier: MIT */
/* Which processes are ours, and the one door every signal goes through (docs/engine.md). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "process/sg-proctree.h"

/*
 * Why a recorded main process is, or is not, the one we started: SG_PROOF_RECORDED when its
 * start time is the one recorded and its markers do not say it is another's (a main process
 * that rewrote its environment, or whose environment we may not read, is vouched for by the
 * start time alone). info comes from a scan that read markers. Otherwise SG_PROOF_NONE and,
 * when ret_why is not NULL, a sentence saying why (for the user).
 */
SgProof sg_ownership_check_recorded(const SgProcInfo *info, const char *service,
                                    guint64 recorded_start_time, char **ret_why);

/* A service to find in a scan. */
typedef struct {
	const char *name;          /* its SYSTEMG_SERVICE */
	pid_t leader;              /* its main process (the leader of its session), or 0 */
	guint64 leader_start_time; /* the leader's start time as recorded, or 0 */
	gboolean leader_vouched;   /* the supervisor says leader is its main process: for status */
} SgOwnedService;

typedef enum {
	SG_OWNERSHIP_NONE = 0,
	/* The caller is the child subreaper that started the services (sysgd): its children
	 * are its own, and their session says whose they are. */
	SG_OWNERSHIP_CHILDREN = 1 << 0,
} SgOwnershipFlags;

/*
 * Gives every process of scan (SgProcInfo*, from sg_proctree_scan_all with markers read)
 * to the service it belongs to, in one pass: a process marked for a service is that
 * service's; else one in the session or process group of a proven leader; else (with
 * SG_OWNERSHIP_CHILDREN) a child of ours in the session of a leader that is gone; else
 * whatever its parent is (a descendant, by parent PID). A process marked for a service not
 * in services, and its unmarked descendants, belong to none of them. Sets the proof of
 * every process given; returns, per process of scan, the index of its service + 1, or 0.
 */
guint *sg_ownership_assign(GPtrArray *scan, const SgOwnedService *services, guint n_services,
                           SgOwnershipFlags flags);

/*
 * A scan indexed by PID, parent, session and markers, so that the processes of one service
 * cost what that service has, not a walk over the whole scan: many stops of one main-loop
 * turn share one index. Holds a reference on scan.
 */
typedef struct _SgProcIndex SgProcIndex;
SgProcIndex *sg_proc_index_new(GPtrArray *scan);
void sg_proc_index_free(SgProcIndex *index);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgProcIndex, sg_proc_index_free)

/*
 * The processes of one service by the rule of sg_ownership_assign(), each with its proof:
 * borrowed SgProcInfo* of the scan, the leader first.
 */
GPtrArray *sg_proc_index_members(SgProcIndex *index, const SgOwnedService *service,
                                 SgOwnershipFlags flags);
/* The same without an index kept: one is made for the call. */
GPtrArray *sg_ownership_members(GPtrArray *scan, const SgOwnedService *service,
                                SgOwnershipFlags flags);

/*
 * The door for signals: sends sig to the process info names, proven ours (info->proof), and
 * pinned by pidfd (-1: opened here for the call). The process must still be the one the
 * proof was made for: alive, not a zombie, same start time. Returns 0 or a negative errno;
 * -EPERM when info is not proven ours.
 */
int sg_ownership_signal(const SgProcInfo *info, int pidfd, int sig);

/*
 * kill(-pgid) for the process group info leads: only when info is proven ours, is pinned
 * as above and still leads its group, so the group id cannot be another's.
 */
int sg_ownership_signal_group(const SgProcInfo *info, int pidfd, int sig);

/*
 * For processes we started ourselves and have not reaped (hooks, checks, a foreground
 * sysgd): our child cannot hand its PID to another process before we reap it. With group,
 * its process group, which it must lead. Returns 0 or a negative errno (-EPERM: not our
 * child).
 */
int sg_ownership_signal_child(pid_t pid, gboolean group, int sig);

/*
 * Sends sig to the supervisor of state_dir, PID pid as sysg.pid names it, once it is proven
 * to be that supervisor: it holds the exclusive lock on that sysg.pid (/proc/locks), and it
 * is the process listening on that state directory's control.sock (SO_PEERCRED). Anything
 * else is refused with an error naming what did not hold.
 */
gboolean sg_ownership_signal_supervisor(const char *state_dir, pid_t pid, int sig, GError **error);
