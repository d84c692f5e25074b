/* SPDX-License-Identifier: MIT */
/* Containment: the processes of a service, signalling them, and knowing when none is left. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "base/sg-clock.h"

typedef struct _SgContain SgContain;
typedef struct _SgContainStop SgContainStop;

/* Called once when no process of the service is left; killed says whether SIGKILL was needed. */
typedef void (*SgContainDoneFunc)(const char *service, gboolean killed, guint n_processes,
                                  gpointer user_data);

/*
 * cgroup_root: a cgroup v2 directory we may write (sysgd --cgroup PATH), or NULL to detect a
 * delegated subtree from /proc/self/cgroup, falling back to markers. In cgroup mode the
 * supervisor moves itself into ROOT/supervisor and each service gets ROOT/svc-NAME.
 * state_id is the SYSTEMG_STATE_ID every service carries (marker mode). The caller's own
 * children are its own (the supervisor is the child subreaper that starts the services).
 */
SgContain *sg_contain_new(const char *cgroup_root, const char *state_id, SgClock *clock,
                          GError **error);
/*
 * Uses cgroup_root as it is, or markers when it is NULL: no detection, and the caller is
 * not moved into ROOT/supervisor. For tests, and for stopping services without a
 * supervisor (`sysg stop`).
 */
SgContain *sg_contain_open(const char *cgroup_root, const char *state_id, SgClock *clock,
                           GError **error);
void sg_contain_free(SgContain *contain);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgContain, sg_contain_free)

gboolean sg_contain_uses_cgroups(SgContain *contain);
/* The cgroup directory in use, or NULL in marker mode. */
const char *sg_contain_cgroup_root(SgContain *contain);

/* Before a spawn: an fd of the service's cgroup (created if needed) for the child to join,
 * or -1 in marker mode. The caller closes it. */
int sg_contain_prepare(SgContain *contain, const char *service, GError **error);

/*
 * The live processes of a service: its cgroup's members; or those that carry the service's
 * markers, those in the session or process group of sid when that main process is proven
 * ours (docs/engine.md, "Which processes are ours"), and every descendant of them by parent
 * PID. GArray of pid_t.
 */
GArray *sg_contain_list(SgContain *contain, const char *service, pid_t sid);

/*
 * Stops every process of a service (as sg_contain_list() finds them, each proven ours):
 * SIGTERM to all of them (and to the process group of sid, while that main process lives
 * and is proven ours), SIGKILL (cgroup.kill in cgroup mode) to whatever is left after timeout_ms,
 * then done() once none is left. Processes that appear meanwhile are caught too. Exit is
 * watched through pidfds (or cgroup.events), never polled. Returns a handle that may be
 * cancelled (done is then not called); done may run before this returns when nothing is
 * left to stop.
 */
SgContainStop *sg_contain_stop(SgContain *contain, const char *service, pid_t sid,
                               guint64 timeout_ms, SgContainDoneFunc done, gpointer user_data);
void sg_contain_stop_cancel(SgContainStop *stop);

/* Removes the service's cgroup when it is empty (after a stop; no-op in marker mode). */
void sg_contain_release(SgContain *contain, const char *service);

/* Resource figures for status: from the cgroup when there is one, else summed over
 * sg_contain_list(). A figure that cannot be known is -1. */
typedef struct {
	gint64 memory_bytes;
	gint64 cpu_usec;
	gint64 tasks;
} SgContainUsage;
void sg_contain_usage(SgContain *contain, const char *service, pid_t sid,
                      SgContainUsage *ret_usage);

/*
 * Tells whether the supervisor (a child subreaper) has children it did not start. When
 * every watched process of a stop has exited and there is no such child, the stop is done
 * without another /proc scan: anything the service forked meanwhile would have been
 * re-parented to us.
 */
typedef gboolean (*SgContainStrayFunc)(gpointer user_data);
void sg_contain_set_stray_func(SgContain *contain, SgContainStrayFunc func, gpointer user_data);

/*
 * The start time recorded for the main process of a service (0: none), for a caller that is
 * not its parent (`sysg stop` with no supervisor): the PID passed as sid is then proven
 * ours by that start time, even when its environment no longer shows the markers.
 */
void sg_contain_set_recorded(SgContain *contain, const char *service, guint64 start_time);

/*
 * Marks the processes of a service as not descended from us (adopted from an earlier
 * supervisor): what they fork is not re-parented to us, so their stops always end with a
 * confirming look, never on the stray-children shortcut.
 */
void sg_contain_set_foreign(SgContain *contain, const char *service, gboolean foreign);
