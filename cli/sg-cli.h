/* SPDX-License-Identifier: MIT */
/* What every sysg command shares: global options and the command table. */
#pragma once

#include <glib.h>

#include "sg-client.h"

typedef struct {
	char *config;    /* --config FILE, or NULL */
	char *log_level; /* --log-level LEVEL, or NULL */
	gboolean json;   /* --json */
	gboolean bus;    /* --bus */
} SgCliGlobals;

/* Runs a command on its own arguments (argv[0] is the command name); returns the exit status. */
typedef int (*SgCommandFunc)(int argc, char **argv, SgCliGlobals *globals);

/*
 * Parses a command's options together with the global ones. On a usage error prints a
 * one-line message and a hint to stderr and returns FALSE (the caller exits 2).
 */
gboolean sg_cli_parse(const char *command, const char *parameter_string, const char *summary,
                      GOptionEntry *entries, int *argc, char ***argv, SgCliGlobals *globals);

/* The transport the global options ask for: the socket, or D-Bus with --bus. */
SgClientTransport sg_cli_transport(const SgCliGlobals *globals);

/*
 * The checks sysgd makes on the state directory (sg_paths_check_state_dir), for root too:
 * a directory of another user is refused, with the error printed; a looser mode is
 * tightened with a warning. FALSE: the command exits 1.
 */
gboolean sg_cli_check_state_dir(const char *state_dir);

/* Prints "sysg: message" to stderr, control characters escaped (sg_escape()). */
void sg_cli_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* The exit status of a name that is no service (SPEC section 5). */
#define SG_CLI_EXIT_NO_SUCH_SERVICE 4

/*
 * Whether name may be a service: it is in the configuration at config_path, or (state_dir
 * not NULL) recorded in that state directory's state.json, as adopted orphans are. Checked
 * before anything else, supervisor or not; FALSE after printing "no such service" (the
 * caller exits 4). TRUE when no configuration can be read: nothing to judge by.
 */
gboolean sg_cli_service_exists(const char *name, const char *config_path, const char *state_dir);

int sg_cmd_validate(int argc, char **argv, SgCliGlobals *globals);
int sg_cmd_start(int argc, char **argv, SgCliGlobals *globals);
int sg_cmd_stop(int argc, char **argv, SgCliGlobals *globals);
int sg_cmd_restart(int argc, char **argv, SgCliGlobals *globals);
int sg_cmd_status(int argc, char **argv, SgCliGlobals *globals);
int sg_cmd_logs(int argc, char **argv, SgCliGlobals *globals);
int sg_cmd_monitor(int argc, char **argv, SgCliGlobals *globals);
int sg_cmd_purge(int argc, char **argv, SgCliGlobals *globals);

/*
 * Replaces this process with sysgd on config (sg-cmd-start.c), handing it startup_lock
 * (sg-startup-lock.h) unless it is -1; returns 1 only on failure.
 */
int sg_cli_exec_sysgd(const char *config, gboolean daemonize, const char *log_level,
                      int startup_lock);

/*
 * Stops the supervisor and every service and waits until they are gone: SIGTERM, or over
 * D-Bus the Shutdown method; with no supervisor, the processes recorded in pid.json
 * (sg-cmd-stop.c). Returns the exit status.
 */
int sg_cli_stop_everything(const char *state_dir, SgClientTransport transport);
