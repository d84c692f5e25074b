/* SPDX-License-Identifier: MIT */
/* The startup lock: one supervisor starts at a time, and whoever waits for it is let in
 * once it answers. */
#pragma once

#include <glib.h>

/* How sysg hands the lock it holds to the sysgd it runs: the descriptor's number. */
#define SG_STARTUP_LOCK_ENV "SYSTEMG_STARTUP_LOCK_FD"

/*
 * Takes the startup lock of state_dir: an exclusive flock(2) on the directory itself,
 * which a supervisor holds from before it takes sysg.pid until its control socket (and
 * its bus name) answer. Blocks, without polling, while another supervisor starts, for up
 * to timeout_sec. Returns the locked descriptor (close-on-exec) or -1 with error set. The
 * lock dies with its last descriptor, so a supervisor that crashes while starting never
 * blocks anyone.
 */
int sg_startup_lock_take(const char *state_dir, guint timeout_sec, GError **error);

/*
 * The descriptor sysg handed over through SG_STARTUP_LOCK_ENV, made close-on-exec, or -1.
 * The variable is removed, so call this before anything copies the environment (the
 * configuration does, for the services).
 */
int sg_startup_lock_handed(void);
/* fd (from sg_startup_lock_handed) when it is the startup lock of state_dir and is held;
 * else -1, and fd is closed. */
int sg_startup_lock_adopt(int fd, const char *state_dir);

/* Lets fd survive an exec and names it in envp (consumed); returns the new environment. */
char **sg_startup_lock_pass(int fd, char **envp);

/* Releases the lock for every holder of the descriptor (a forked parent too) and closes it. */
void sg_startup_lock_release(int fd);
