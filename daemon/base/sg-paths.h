/* SPDX-License-Identifier: MIT */
/* Where the state directory lives, its file names, and making it safe to use (SPEC section 2). */
#pragma once

#include <glib.h>

#define SG_STATE_PID_FILE       "sysg.pid"
#define SG_STATE_SOCKET         "control.sock"
#define SG_STATE_CONFIG_HINT    "config_hint"
#define SG_STATE_PID_JSON       "pid.json"
#define SG_STATE_LOCK           "pid.json.lock"
#define SG_STATE_STATE_JSON     "state.json"
#define SG_STATE_CRON_JSON      "cron_state.json"
#define SG_STATE_SUPERVISOR_LOG "supervisor.log"
#define SG_STATE_LOG_DIR        "logs"

/*
 * The state directory, first that applies: $SYSTEMG_STATE_DIR (non-empty; a relative value
 * is taken from the current directory), $XDG_DATA_HOME/systemg (only when XDG_DATA_HOME is
 * absolute), $HOME/.local/share/systemg. Reads the environment on every call. Always an
 * absolute path; nothing is created.
 */
char *sg_paths_state_dir(void);

/*
 * Creates dir (missing parents with the default mode, dir itself 0700) and dir/logs (0700).
 * Refuses (SG_ERROR_STATE_DIR) a directory owned by another user, a path that is not a
 * directory, and a logs/ that is a symbolic link (dir itself may be one). A directory of ours with
 * any mode other than 0700 is set to 0700; on success ret_warning (may be NULL) receives a
 * description of every such change, e.g. "tightened permissions of DIR from 0755 to 0700", or NULL
 * when nothing was changed.
 */
gboolean sg_paths_ensure_state_dir(const char *dir, char **ret_warning, GError **error);

/*
 * The same checks on an existing state directory, creating nothing (for sysg, root
 * included): a directory owned by another user, a shared sticky one or a path that is not a
 * directory is refused (SG_ERROR_STATE_DIR); a looser mode on dir or dir/logs is tightened
 * to 0700 and described in ret_warning (may be NULL; NULL when nothing changed). A missing
 * directory passes: there is nothing in it to act on.
 */
gboolean sg_paths_check_state_dir(const char *dir, char **ret_warning, GError **error);

/* dir/name, newly allocated. */
char *sg_paths_state_file(const char *dir, const char *name);
