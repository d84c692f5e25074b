/* SPDX-License-Identifier: MIT */
/* The one owner of SIGCHLD: a signalfd on the main loop that reaps every child and orphan. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct _SgReaper SgReaper;

/* wait_status is waitpid()'s status (WIFEXITED, WEXITSTATUS, WIFSIGNALED, WTERMSIG). */
typedef void (*SgReaperFunc)(pid_t pid, int wait_status, gpointer user_data);

/*
 * Blocks SIGCHLD in the calling thread (threads created later inherit the mask; sysgd's
 * main() blocks it before any thread exists), makes the process a child subreaper, and
 * reaps through a signalfd attached to the thread-default main context: each wake-up
 * calls waitpid(-1, WNOHANG) until nothing is left, so orphans that re-parent to us are
 * reaped too. Never polls.
 */
SgReaper *sg_reaper_new(GError **error);
void sg_reaper_free(SgReaper *reaper);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgReaper, sg_reaper_free)

/* Calls func once when pid (a child of ours) has been reaped. One watch per pid. */
void sg_reaper_watch(SgReaper *reaper, pid_t pid, SgReaperFunc func, gpointer user_data);
void sg_reaper_unwatch(SgReaper *reaper, pid_t pid);
/*
 * The same for a child that leads its own process group (a helper command): once it has
 * exited, and before it is reaped, SIGKILL goes to whatever is left in its group, so
 * nothing the command started outlives it. Its unreaped zombie keeps the group's id from
 * being reused meanwhile.
 */
void sg_reaper_watch_group(SgReaper *reaper, pid_t pid, SgReaperFunc func, gpointer user_data);

/* Called for every reaped pid that has no watch (orphans re-parented to the subreaper). */
void sg_reaper_set_orphan_func(SgReaper *reaper, SgReaperFunc func, gpointer user_data);

/*
 * Watches a process that is not our child (an adopted one) through a pidfd; func gets
 * wait_status -1 because its exit status cannot be known. Returns FALSE with errno text
 * when the process is already gone or pidfd_open fails.
 */
gboolean sg_reaper_watch_pidfd(SgReaper *reaper, pid_t pid, SgReaperFunc func, gpointer user_data,
                               GError **error);

/* Runs pending reaps now (tests and shutdown paths that must not wait for the loop). */
void sg_reaper_dispatch(SgReaper *reaper);
