/* SPDX-License-Identifier: MIT */
/* The one way sysgd starts a process: fork, set up the child, exec, report failure by pipe. */
#pragma once

#include <glib.h>
#include <sys/resource.h>
#include <sys/types.h>

typedef struct {
	char **argv;          /* argv[0] must already be a path (see sg_spawn_find_program) */
	char **envp;          /* the complete environment */
	const char *cwd;      /* NULL: inherit */
	int stdin_fd;         /* -1: /dev/null */
	int stdout_fd;        /* -1: /dev/null */
	int stderr_fd;        /* -1: /dev/null */
	gboolean new_session; /* setsid(): own session and process group */
	const struct rlimit *nofile; /* RLIMIT_NOFILE to restore in the child, or NULL */
	int cgroup_fd;               /* a cgroup v2 directory the child moves itself into, or -1 */
} SgSpawnOptions;

#define SG_SPAWN_OPTIONS_INIT                                                                      \
	{                                                                                          \
		.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .cgroup_fd = -1                  \
	}

typedef struct {
	pid_t pid;
	/* Read end of the close-on-exec status pipe (O_NONBLOCK, O_CLOEXEC): EOF without data
	 * means the exec succeeded; data means the child failed before exec. */
	int status_fd;
} SgSpawnResult;

/*
 * Forks and execs. The child resets every signal disposition and its signal mask, joins
 * cgroup_fd, starts a session if asked, sets up fds 0-2 (every other fd is closed),
 * restores RLIMIT_NOFILE, changes directory and execs. fork() failing is the only error
 * reported here; everything after is reported through status_fd.
 */
gboolean sg_spawn(const SgSpawnOptions *options, SgSpawnResult *ret_result, GError **error);

/*
 * Reads the child's report from status_fd without blocking. Returns 1 when the exec
 * succeeded (EOF), 0 when nothing is known yet (EAGAIN), -1 when the child failed: then
 * *ret_message says what failed in words, e.g. "cannot execute /x/y: Permission denied" or
 * "cannot change directory to /srv: No such file or directory". Closes nothing.
 */
int sg_spawn_read_status(int status_fd, const char *program, char **ret_message);

/*
 * Looks program up like execvp() would, but in the PATH of envp (not the supervisor's own),
 * and returns an absolute path, or NULL with an error naming program and the PATH searched.
 * A name containing '/' is resolved against cwd and returned as is (existence is for exec
 * to report).
 */
char *sg_spawn_find_program(const char *program, char **envp, const char *cwd, GError **error);
