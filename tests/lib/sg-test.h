/* SPDX-License-Identifier: MIT */
/* Helpers every test binary shares: temporary trees and waiting with a deadline. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#define SG_TEST_DEADLINE_S 15

#include <sys/types.h>

/* Removes a tree (never following symlinks; directories made writable first). */
void sg_test_remove_tree(const char *path);

/* The helper-child program (SG_TEST_HELPER_CHILD, else beside the test binary). */
const char *sg_test_helper_path(void);

/*
 * Children a test started, killed if the test aborts (a failed assertion must not leave
 * them behind): install the handlers once in main(), track every child, untrack it once
 * reaped. sg_test_kill_tracked() kills and reaps those still tracked (teardown).
 */
void sg_test_install_abort_cleanup(void);
/* The same, and every child of the test process is killed too: for tests whose children
 * are started by the engine (a subreaper), not tracked one by one. */
void sg_test_install_abort_cleanup_children(void);
void sg_test_track_pid(pid_t pid);
void sg_test_untrack_pid(pid_t pid);
void sg_test_kill_tracked(void);
void sg_test_forget_tracked(void);

/* The text of the file name in dir, or "" when it cannot be read. */
char *sg_test_read_file(const char *dir, const char *name);

/* How many lines the file name in dir holds (0 when it cannot be read). */
guint sg_test_count_lines(const char *dir, const char *name);

/* A monitor of dir with no rate limit: wakes the loop when a child writes a file there. */
GFileMonitor *sg_test_monitor_dir(const char *dir);

/* A GSourceFunc that sets the gboolean it points to. */
gboolean sg_test_deadline_cb(gpointer user_data);

/*
 * Iterates the main loop until cond holds, failing the test after SG_TEST_DEADLINE_S
 * seconds with detail (a string) in the message. Something must wake the loop when cond
 * may have changed (a child exit, a file monitor, a socket): no polling.
 */
#define SG_TEST_WAIT_FOR(cond, detail)                                                             \
	G_STMT_START                                                                               \
	{                                                                                          \
		gboolean expired_ = FALSE;                                                         \
		guint id_ =                                                                        \
		        g_timeout_add_seconds(SG_TEST_DEADLINE_S, sg_test_deadline_cb, &expired_); \
		while (!(cond) && !expired_)                                                       \
			g_main_context_iteration(NULL, TRUE);                                      \
		if (!expired_)                                                                     \
			g_source_remove(id_);                                                      \
		if (!(cond))                                                                       \
			g_error("timed out waiting for: %s (%s)", #cond, (detail));                \
	}                                                                                          \
	G_STMT_END
