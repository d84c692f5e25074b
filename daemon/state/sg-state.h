/* SPDX-License-Identifier: MIT */
/* State files: atomic JSON writes, quarantine of corrupt files, the state lock, sysg.pid. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

#include "base/sg-limits.h"

typedef enum {
	SG_STATE_READ_NONE = 0,
	/* Rename a corrupt file aside instead of failing; only for a holder of the lock. */
	SG_STATE_READ_QUARANTINE = 1 << 0,
} SgStateReadFlags;

/*
 * Replaces dir/name with data so that a crash at any instant leaves either the old or the
 * new content: a temporary .NAME.tmp-XXXXXX (mode 0600) in dir, written, fsynced, renamed
 * over name, then dir fsynced. The temporary file is removed on failure.
 */
gboolean sg_state_write_data(const char *dir, const char *name, const char *data, gsize length,
                             GError **error);

/* sg_state_write_data() of root as indented JSON ending with a newline. */
gboolean sg_state_write_json(const char *dir, const char *name, JsonNode *root, GError **error);

/*
 * Reads dir/name, whose root must be a JSON object. A missing file returns NULL with no
 * error. A corrupt file (not JSON, root not an object, empty, larger than
 * SG_STATE_MAX_FILE_SIZE): without SG_STATE_READ_QUARANTINE, NULL with SG_ERROR_CORRUPT
 * naming the file and the parse error, the file left in place; with it, the file is
 * renamed to NAME.corrupt-YYYYMMDDTHHMMSSZ (then -2, -3...; never over an existing file),
 * ret_quarantined (may be NULL) receives the new path and NULL is returned with no error.
 * ret_quarantined is set to NULL when nothing was renamed. Other read failures:
 * NULL with SG_ERROR_FAILED.
 */
JsonNode *sg_state_read_json(const char *dir, const char *name, SgStateReadFlags flags,
                             char **ret_quarantined, GError **error);

/*
 * Takes the state lock (flock LOCK_EX on dir/pid.json.lock, created 0600), waiting for it.
 * Returns the fd to pass to sg_state_unlock(), or -1 with error set. Not recursive: a
 * process that holds it and asks again waits forever.
 */
int sg_state_lock(const char *dir, GError **error);
void sg_state_unlock(int fd);

/*
 * Changes root in place. Returning FALSE (with error set) abandons the update: nothing is
 * written.
 */
typedef gboolean (*SgStateUpdateFunc)(JsonObject *root, gpointer user_data, GError **error);

/*
 * Read-modify-write of dir/name under the state lock: a missing file starts as {}, a
 * corrupt one is quarantined (its new path in ret_quarantined, else NULL) and starts as {}.
 * func changes the object, which is then written atomically.
 */
gboolean sg_state_update_json(const char *dir, const char *name, SgStateUpdateFunc func,
                              gpointer user_data, char **ret_quarantined, GError **error);

/*
 * Removes temporary files (.NAME.tmp-XXXXXX) left in dir by writers that died mid-write and
 * that were last modified at least min_age_seconds ago (a write in progress is younger).
 * Returns how many were removed; failures are only logged at debug level.
 */
guint sg_state_remove_stale_temp_files(const char *dir, guint min_age_seconds);

/* Writes dir/config_hint atomically: abs_path and a newline. */
gboolean sg_state_write_config_hint(const char *dir, const char *abs_path, GError **error);
/* The path in dir/config_hint, or NULL when the file is missing, unreadable or empty. */
char *sg_state_read_config_hint(const char *dir);

/* The supervisor's sysg.pid, locked for as long as it is held. */
typedef struct _SgPidFile SgPidFile;

/*
 * Creates or opens dir/sysg.pid (0600, close-on-exec) and locks it (flock LOCK_EX) without
 * waiting for a supervisor; it waits at most 2 s for clients' brief shared probes (see
 * sg_pid_file_query()) to go, then fails with SG_ERROR_FAILED. A live supervisor holding it:
 * SG_ERROR_ALREADY_RUNNING naming its PID. On success the file holds our PID and a
 * newline, and ret_stale_pid (may be NULL) receives the PID a crashed supervisor had left
 * in it, or 0.
 */
SgPidFile *sg_pid_file_acquire(const char *dir, pid_t *ret_stale_pid, GError **error);
/* Removes the file, then closes it, releasing the lock: the clean exit of the supervisor. */
void sg_pid_file_release(SgPidFile *pid_file);
/* Closes without removing: for a forked child, the lock stays with the parent. */
void sg_pid_file_free(SgPidFile *pid_file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgPidFile, sg_pid_file_free)

/*
 * Whether a live supervisor holds dir/sysg.pid; its PID in ret_pid (may be NULL; 0 when
 * the file does not say). Probes with a shared lock held for an instant, which
 * sg_pid_file_acquire() tells apart from a supervisor. Waits up to 0.1 s for a supervisor
 * that has just taken the lock to write its PID.
 */
gboolean sg_pid_file_query(const char *dir, pid_t *ret_pid);
