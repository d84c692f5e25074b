/* SPDX-License-Identifier: MIT */
/* Helper commands of a service (hooks, skip, pre_start): sh -c, output logged or in files. */
#pragma once

#include <glib.h>

#include "process/sg-context.h"

typedef struct _SgCommand SgCommand;

/*
 * Called once when the command ended: wait_status as waitpid() gives it, or -1 when it
 * could not be started or was killed at its timeout (then cause says which).
 */
typedef void (*SgCommandDoneFunc)(int wait_status, const char *cause, gpointer user_data);

/*
 * Runs `/bin/sh -c command` in its own session with envp and cwd, stdin on /dev/null,
 * stdout and stderr read line by line into supervisor.log as "LABEL: line". Killed (the
 * whole session) after timeout_ms (0: no timeout). Never blocks the loop.
 */
SgCommand *sg_command_run(SgContext *context, const char *label, const char *command, char **envp,
                          const char *cwd, guint64 timeout_ms, SgCommandDoneFunc done,
                          gpointer user_data);
/* The same with stdout and stderr written to the given descriptors (a service's log files,
 * for pre_start) instead of supervisor.log. */
SgCommand *sg_command_run_to(SgContext *context, const char *label, const char *command,
                             char **envp, const char *cwd, guint64 timeout_ms, int stdout_fd,
                             int stderr_fd, SgCommandDoneFunc done, gpointer user_data);
/* Kills the command if it still runs; done is not called. */
void sg_command_cancel(SgCommand *command);
/* Lets the command run on unwatched (supervisor shutdown); done is not called. */
void sg_command_detach(SgCommand *command);

/* "exit status N", "killed by signal N (NAME)" for a waitpid() status. */
char *sg_command_describe_status(int wait_status);
