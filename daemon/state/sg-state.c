/* SPDX-License-Identifier: MIT */
/* State files: atomic JSON writes, quarantine of corrupt files, the state lock, sysg.pid. */
#include "config.h"

#define G_LOG_DOMAIN "sg-state"

#include "state/sg-state.h"
#include "state/sg-state-private.h"

#include "base/sg-error.h"
#include "base/sg-fileio.h"
#include "base/sg-json.h"
#include "base/sg-paths.h"
#include "base/sg-proc-stat.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config_hint is one path: anything longer is not ours. */
#define CONFIG_HINT_MAX_SIZE (64 * 1024)
/* How long sg_pid_file_acquire() lets shared probes of sysg.pid come and go. */
#define PID_FILE_SHARED_WAIT_USEC (2 * G_USEC_PER_SEC)
/* How long a reader waits for a new holder of sysg.pid to write its PID. */
#define PID_FILE_SETTLE_TRIES    50
#define PID_FILE_SETTLE_INTERVAL 2000
#define QUARANTINE_MAX_SUFFIX    1000

struct _SgPidFile {
	int fd;
	char *path;
};

static gboolean
name_is_valid(const char *name)
{
	return name != NULL && name[0] != '\0' && strchr(name, '/') == NULL &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int
fsync_dir(int dir_fd)
{
	int r = fsync(dir_fd) < 0 ? -errno : 0;

	/* Some file systems cannot sync a directory: the rename is all they offer. */
	if (r == -EINVAL || r == -EROFS)
		r = 0;
	return r;
}

static int
flock_retry(int fd, int operation)
{
	while (flock(fd, operation) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* 1 when fd is still the file at path, 0 when path was removed or replaced since (by a
 * link too: path is looked up without following one). */
static int
fd_is_path(int fd, const char *path)
{
	struct stat fd_st;
	struct stat path_st;

	if (fstat(fd, &fd_st) < 0)
		return -errno;
	if (lstat(path, &path_st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fd_st.st_dev == path_st.st_dev && fd_st.st_ino == path_st.st_ino;
}

/* Opens dir/name (created 0600; never a link, a FIFO or a file of another user) and takes an
 * exclusive flock, waiting; the fd or -errno with error set. */
static int
lock_file_open(const char *dir, const char *name, GError **error)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	int dir_fd = sg_fileio_open_dir(dir, error);

	if (dir_fd < 0)
		return dir_fd;
	for (;;) {
		int fd;
		int r;

		fd = sg_fileio_openat(dir_fd, dir, name, O_RDWR | O_CREAT, 0600, error);
		if (fd < 0) {
			close(dir_fd);
			return fd;
		}
		r = flock_retry(fd, LOCK_EX);
		if (r == 0)
			r = sg_fileio_is_at(fd, dir_fd, name);
		if (r > 0) {
			close(dir_fd);
			return fd;
		}
		close(fd);
		if (r < 0) {
			close(dir_fd);
			sg_error_set_errno(error, r, _("could not lock %s"), path);
			return r;
		}
		/* Someone removed the lock file while we waited: lock the one now in place. */
	}
}

gboolean
sg_state_write_data(const char *dir, const char *name, const char *data, gsize length,
                    GError **error)
{
	g_autofree char *path = NULL;
	g_autofree char *prefix = NULL;
	g_autofree char *tmp_name = NULL;
	int dir_fd;
	int fd;
	int r;

	g_return_val_if_fail(dir != NULL, FALSE);
	g_return_val_if_fail(name_is_valid(name), FALSE);
	g_return_val_if_fail(data != NULL || length == 0, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	path = g_build_filename(dir, name, NULL);
	dir_fd = sg_fileio_open_dir(dir, error);
	if (dir_fd < 0)
		return FALSE;
	/* Same directory, so that the rename is atomic; hidden, so that nobody reads it. The
	 * rename replaces whatever name is, a link included, and never writes through it. */
	prefix = g_strdup_printf(".%s.tmp-", name);
	fd = sg_fileio_mkstemp_at(dir_fd, prefix, &tmp_name);
	if (fd < 0) {
		close(dir_fd);
		return sg_error_set_errno(error, fd, _("could not create a temporary file in %s"),
		                          dir);
	}

	r = sg_fileio_write_all(fd, data, length);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dir_fd, tmp_name, dir_fd, name) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(dir_fd, tmp_name, 0);
		close(dir_fd);
		return sg_error_set_errno(error, r, _("could not write %s"), path);
	}

	/* Makes the rename itself durable. */
	r = fsync_dir(dir_fd);
	close(dir_fd);
	if (r < 0)
		return sg_error_set_errno(error, r, _("could not sync directory %s"), dir);
	return TRUE;
}

gboolean
sg_state_write_json(const char *dir, const char *name, JsonNode *root, GError **error)
{
	g_autoptr(JsonGenerator) generator = NULL;
	g_autoptr(GString) text = g_string_new(NULL);

	g_return_val_if_fail(root != NULL, FALSE);

	generator = json_generator_new();
	json_generator_set_pretty(generator, TRUE);
	json_generator_set_indent(generator, 2);
	json_generator_set_indent_char(generator, ' ');
	json_generator_set_root(generator, root);
	json_generator_to_gstring(generator, text);
	g_string_append_c(text, '\n');
	return sg_state_write_data(dir, name, text->str, text->len, error);
}

/* rename(2) that never replaces an existing to; -EEXIST when to exists. */
static int
rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;

	/* A file system without RENAME_NOREPLACE: link(2) never replaces either. */
	if (link(from, to) < 0)
		return -errno;
	if (unlink(from) < 0) {
		int r = -errno;
		(void)unlink(to);
		return r;
	}
	return 0;
}

/* Renames dir/name to dir/name.corrupt-TIMESTAMP[-N]; the new path, or NULL with error. */
static char *
quarantine_file(const char *dir, const char *name, GError **error)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
	g_autofree char *path = g_build_filename(dir, name, NULL);

	for (guint i = 1; i <= QUARANTINE_MAX_SUFFIX; i++) {
		g_autofree char *target = NULL;
		int r;

		if (i == 1)
			target = g_strdup_printf("%s.corrupt-%s", path, stamp);
		else
			target = g_strdup_printf("%s.corrupt-%s-%u", path, stamp, i);

		r = rename_noreplace(path, target);
		if (r == 0)
			return g_steal_pointer(&target);
		if (r != -EEXIST) {
			sg_error_set_errno(error, r, _("could not set aside corrupt file %s"),
			                   path);
			return NULL;
		}
	}
	g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
	            _("could not set aside corrupt file %s: too many corrupt copies already"),
	            path);
	return NULL;
}

/* Parses the file open on fd; a root object, or NULL with SG_ERROR_CORRUPT or _FAILED. */
static JsonNode *
parse_state_file(int fd, const char *path, GError **error)
{
	g_autoptr(GByteArray) data = NULL;
	g_autoptr(GError) parse_error = NULL;
	struct stat st;
	JsonNode *root;
	int r;

	if (fstat(fd, &st) < 0) {
		sg_error_set_errno(error, -errno, _("could not read %s"), path);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SG_ERROR, SG_ERROR_CORRUPT,
		            _("corrupt state file %s: not a regular file"), path);
		return NULL;
	}

	r = st.st_size > SG_STATE_MAX_FILE_SIZE
	            ? -EFBIG
	            : sg_fileio_read_all(fd, SG_STATE_MAX_FILE_SIZE, &data);
	if (r == -EFBIG) {
		g_set_error(error, SG_ERROR, SG_ERROR_CORRUPT,
		            _("corrupt state file %s: larger than %u MiB"), path,
		            (unsigned)(SG_STATE_MAX_FILE_SIZE / (1024 * 1024)));
		return NULL;
	}
	if (r < 0) {
		sg_error_set_errno(error, r, _("could not read %s"), path);
		return NULL;
	}

	/* Mutable nodes: sg_state_update_json() edits the tree it reads. */
	root = sg_json_parse((const char *)data->data, data->len, SG_STATE_MAX_FILE_SIZE,
	                     SG_JSON_PARSE_DEFAULT, &parse_error);
	if (root == NULL) {
		/* Too deep or too large is corrupt too: nothing we wrote looks like that. */
		g_set_error(error, SG_ERROR, SG_ERROR_CORRUPT, _("corrupt state file %s: %s"), path,
		            parse_error->message);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		json_node_unref(root);
		g_set_error(error, SG_ERROR, SG_ERROR_CORRUPT,
		            _("corrupt state file %s: the top level is not an object"), path);
		return NULL;
	}
	return root;
}

JsonNode *
sg_state_read_json(const char *dir, const char *name, SgStateReadFlags flags,
                   char **ret_quarantined, GError **error)
{
	g_autofree char *path = NULL;
	g_autoptr(GError) local_error = NULL;
	g_autofree char *quarantined = NULL;
	JsonNode *root;
	int fd;

	g_return_val_if_fail(dir != NULL, NULL);
	g_return_val_if_fail(name_is_valid(name), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (ret_quarantined != NULL)
		*ret_quarantined = NULL;

	path = g_build_filename(dir, name, NULL);
	/* Never through a link, never hanging on a FIFO. */
	fd = sg_fileio_open_path(path, O_RDONLY, 0, &local_error);
	if (fd == -ENOENT)
		return NULL;
	/* A link, a FIFO or a file of another user where a state file should be: as corrupt
	 * as a file that does not parse, set aside by a lock holder. */
	if (fd == -ELOOP || fd == -ENXIO || fd == -EPERM)
		local_error->code = SG_ERROR_CORRUPT;
	if (fd < 0 && local_error->code != SG_ERROR_CORRUPT) {
		g_clear_error(&local_error);
		sg_error_set_errno(error, fd, _("could not read %s"), path);
		return NULL;
	}
	if (fd >= 0) {
		root = parse_state_file(fd, path, &local_error);
		close(fd);
		if (root != NULL)
			return root;
	}

	if (!g_error_matches(local_error, SG_ERROR, SG_ERROR_CORRUPT) ||
	    (flags & SG_STATE_READ_QUARANTINE) == 0) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}

	quarantined = quarantine_file(dir, name, error);
	if (quarantined == NULL)
		return NULL;
	g_debug("%s; set aside as %s", local_error->message, quarantined);
	if (ret_quarantined != NULL)
		*ret_quarantined = g_steal_pointer(&quarantined);
	return NULL;
}

int
sg_state_lock(const char *dir, GError **error)
{
	int fd;

	g_return_val_if_fail(dir != NULL, -1);
	g_return_val_if_fail(error == NULL || *error == NULL, -1);

	fd = lock_file_open(dir, SG_STATE_LOCK, error);
	return fd < 0 ? -1 : fd;
}

void
sg_state_unlock(int fd)
{
	if (fd < 0)
		return;
	/* Explicit: a forked child sharing this open file must not keep the lock alive. */
	(void)flock_retry(fd, LOCK_UN);
	close(fd);
}

static JsonNode *
new_empty_object(void)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, json_object_new());
	return node;
}

JsonNode *
sg_state_read_locked(const char *dir, const char *name, char **ret_quarantined, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	JsonNode *root;

	root = sg_state_read_json(dir, name, SG_STATE_READ_QUARANTINE, ret_quarantined,
	                          &local_error);
	if (local_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	return root != NULL ? root : new_empty_object();
}

gboolean
sg_state_update_json(const char *dir, const char *name, SgStateUpdateFunc func, gpointer user_data,
                     char **ret_quarantined, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *quarantined = NULL;
	gboolean ok;
	int lock_fd;

	g_return_val_if_fail(dir != NULL, FALSE);
	g_return_val_if_fail(name_is_valid(name), FALSE);
	g_return_val_if_fail(func != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (ret_quarantined != NULL)
		*ret_quarantined = NULL;

	lock_fd = sg_state_lock(dir, error);
	if (lock_fd < 0)
		return FALSE;

	root = sg_state_read_locked(dir, name, &quarantined, error);
	ok = root != NULL && func(json_node_get_object(root), user_data, error) &&
	     sg_state_write_json(dir, name, root, error);
	sg_state_unlock(lock_fd);

	/* Reported even when the update fails: the rename has happened. */
	if (ret_quarantined != NULL)
		*ret_quarantined = g_steal_pointer(&quarantined);
	return ok;
}

guint
sg_state_remove_stale_temp_files(const char *dir, guint min_age_seconds)
{
	g_autoptr(GDir) handle = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	const char *entry;
	guint removed = 0;

	g_return_val_if_fail(dir != NULL, 0);

	handle = g_dir_open(dir, 0, NULL);
	if (handle == NULL)
		return 0;

	while ((entry = g_dir_read_name(handle)) != NULL) {
		g_autofree char *path = NULL;
		const char *suffix;
		struct stat st;

		/* The names sg_state_write_data() makes: .NAME.tmp-XXXXXX */
		suffix = g_strrstr(entry, ".tmp-");
		if (entry[0] != '.' || suffix == NULL || suffix == entry ||
		    strlen(suffix) != strlen(".tmp-XXXXXX"))
			continue;

		path = g_build_filename(dir, entry, NULL);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (now - (gint64)st.st_mtime < (gint64)min_age_seconds)
			continue;
		if (unlink(path) < 0) {
			g_debug("could not remove %s: %s", path, g_strerror(errno));
			continue;
		}
		g_debug("removed stale temporary file %s", path);
		removed++;
	}
	return removed;
}

gboolean
sg_state_write_config_hint(const char *dir, const char *abs_path, GError **error)
{
	g_autofree char *line = NULL;

	g_return_val_if_fail(dir != NULL, FALSE);
	g_return_val_if_fail(abs_path != NULL, FALSE);

	if (!g_path_is_absolute(abs_path)) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("configuration path %s is not absolute"), abs_path);
		return FALSE;
	}
	/* The file is one line: a path with a newline cannot be stored in it. */
	if (strchr(abs_path, '\n') != NULL) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("configuration path %s contains a newline"), abs_path);
		return FALSE;
	}
	line = g_strconcat(abs_path, "\n", NULL);
	return sg_state_write_data(dir, SG_STATE_CONFIG_HINT, line, strlen(line), error);
}

char *
sg_state_read_config_hint(const char *dir)
{
	g_autofree char *path = NULL;
	g_autoptr(GByteArray) data = NULL;
	char *newline;
	int fd;
	int r;

	g_return_val_if_fail(dir != NULL, NULL);

	path = g_build_filename(dir, SG_STATE_CONFIG_HINT, NULL);
	fd = sg_fileio_open_path(path, O_RDONLY, 0, NULL);
	if (fd < 0)
		return NULL;
	r = sg_fileio_read_all(fd, CONFIG_HINT_MAX_SIZE, &data);
	close(fd);
	if (r < 0) {
		g_debug("could not read %s: %s", path, g_strerror(-r));
		return NULL;
	}

	newline = memchr(data->data, '\n', data->len);
	if (newline != NULL)
		*newline = '\0';
	if (data->data[0] == '\0')
		return NULL;
	return g_strdup((const char *)data->data);
}

/*
 * The PID in a sysg.pid: decimal digits and a newline, 0 for anything else. A writer
 * truncates before writing, so a file caught half-written lacks the newline and is
 * rejected; require_newline FALSE accepts a hand-written file.
 */
static pid_t
pid_file_parse(int fd, gboolean require_newline)
{
	char buffer[32];
	guint64 value;
	ssize_t n;

	do
		n = pread(fd, buffer, sizeof(buffer) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	buffer[n] = '\0';

	if (buffer[n - 1] == '\n')
		buffer[n - 1] = '\0';
	else if (require_newline)
		return 0;
	if (!g_ascii_string_to_unsigned(buffer, 10, 1, G_MAXINT32, &value, NULL))
		return 0;
	return (pid_t)value;
}

/* A zombie has exited: it does not hold anything for anyone. */
static gboolean
pid_is_alive(pid_t pid)
{
	return sg_proc_stat_start_time(pid) != 0;
}

/*
 * The PID of the process holding the lock on fd. It writes its PID just after taking the
 * lock, so until a live PID shows up the file may still hold its predecessor's: wait a
 * little for it, then give whatever is there.
 */
static pid_t
pid_file_read_holder(int fd)
{
	for (guint i = 0; i < PID_FILE_SETTLE_TRIES; i++) {
		pid_t pid = pid_file_parse(fd, TRUE);
		if (pid > 0 && pid_is_alive(pid))
			return pid;
		g_usleep(PID_FILE_SETTLE_INTERVAL);
	}
	return pid_file_parse(fd, FALSE);
}

static int
pid_file_write(int fd, pid_t pid)
{
	char line[32];
	int length;

	length = g_snprintf(line, sizeof(line), "%d\n", (int)pid);
	if (ftruncate(fd, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = pwrite(fd, line, (size_t)length, 0);
		if (n == length)
			break;
		if (n >= 0)
			return -EIO;
		if (errno != EINTR)
			return -errno;
	}
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

/*
 * Who holds the lock of sysg.pid tells whether a supervisor is alive. The supervisor holds
 * LOCK_EX for its whole life; sg_pid_file_query() probes with LOCK_SH|LOCK_NB (which fails
 * only while an exclusive holder exists) and drops it at once. Such a probe makes our
 * LOCK_EX|LOCK_NB fail too, so on EWOULDBLOCK we probe the same way: if a shared lock is
 * granted, only probes were in the way, and we retry after a short random pause within a
 * bounded time; if it is refused, a supervisor holds the file. Not waiting on LOCK_EX keeps
 * two supervisors starting at once from queueing behind each other: exactly one wins.
 * After locking, the file must still be the one at the path: a supervisor exiting removes
 * it, and we may have opened it just before.
 */
SgPidFile *
sg_pid_file_acquire(const char *dir, pid_t *ret_stale_pid, GError **error)
{
	g_autofree char *path = NULL;
	gint64 deadline = g_get_monotonic_time() + PID_FILE_SHARED_WAIT_USEC;
	SgPidFile *pid_file;
	pid_t stale_pid;
	int fd;
	int r;

	g_return_val_if_fail(dir != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	path = g_build_filename(dir, SG_STATE_PID_FILE, NULL);
	for (;;) {
		/* Created 0600; a link, a FIFO or a file of another user there is refused. */
		fd = sg_fileio_open_path(path, O_RDWR | O_CREAT, 0600, error);
		if (fd < 0)
			return NULL;

		r = flock_retry(fd, LOCK_EX | LOCK_NB);
		if (r == 0) {
			r = fd_is_path(fd, path);
			if (r > 0)
				break;
		} else if (r == -EWOULDBLOCK) {
			r = flock_retry(fd, LOCK_SH | LOCK_NB);
			if (r == -EWOULDBLOCK) {
				pid_t pid = pid_file_read_holder(fd);

				/* The supervisor it names is dead: a child it was starting holds
				 * the inherited lock until its exec, an instant. */
				if (pid > 0 && !pid_is_alive(pid) &&
				    g_get_monotonic_time() < deadline) {
					close(fd);
					g_usleep((gulong)g_random_int_range(200, 2000));
					continue;
				}
				close(fd);
				if (pid > 0)
					g_set_error(error, SG_ERROR, SG_ERROR_ALREADY_RUNNING,
					            _("a supervisor (PID %d) already runs on state "
					              "directory %s"),
					            (int)pid, dir);
				else
					g_set_error(error, SG_ERROR, SG_ERROR_ALREADY_RUNNING,
					            _("a supervisor already runs on state "
					              "directory %s"),
					            dir);
				return NULL;
			}
		}
		close(fd);
		if (r < 0) {
			sg_error_set_errno(error, r, _("could not lock %s"), path);
			return NULL;
		}
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
			            _("could not lock %s: another process keeps a shared lock on "
			              "it"),
			            path);
			return NULL;
		}
		g_usleep((gulong)g_random_int_range(200, 2000));
	}

	stale_pid = pid_file_parse(fd, FALSE);
	r = pid_file_write(fd, getpid());
	/* Every file of the state directory is 0600, even one left by someone else. */
	if (r == 0 && fchmod(fd, 0600) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(path);
		close(fd);
		sg_error_set_errno(error, r, _("could not write %s"), path);
		return NULL;
	}

	if (stale_pid > 0)
		g_debug("%s held PID %d from a supervisor that did not exit cleanly", path,
		        (int)stale_pid);
	pid_file = g_new0(SgPidFile, 1);
	pid_file->fd = fd;
	pid_file->path = g_steal_pointer(&path);
	if (ret_stale_pid != NULL)
		*ret_stale_pid = stale_pid;
	return pid_file;
}

void
sg_pid_file_free(SgPidFile *pid_file)
{
	if (pid_file == NULL)
		return;
	/* No LOCK_UN: in a forked child that would unlock the parent too. */
	if (pid_file->fd >= 0)
		close(pid_file->fd);
	g_free(pid_file->path);
	g_free(pid_file);
}

void
sg_pid_file_release(SgPidFile *pid_file)
{
	if (pid_file == NULL)
		return;
	/*
	 * Removed while still locked: a starting supervisor that opened it just before finds
	 * it gone once it gets the lock, and takes the new file at the path instead.
	 */
	if (unlink(pid_file->path) < 0)
		g_debug("could not remove %s: %s", pid_file->path, g_strerror(errno));
	sg_pid_file_free(pid_file);
}

gboolean
sg_pid_file_query(const char *dir, pid_t *ret_pid)
{
	g_autofree char *path = NULL;
	pid_t pid;
	int fd;
	int r;

	g_return_val_if_fail(dir != NULL, FALSE);

	path = g_build_filename(dir, SG_STATE_PID_FILE, NULL);
	fd = sg_fileio_open_path(path, O_RDONLY, 0, NULL);
	if (fd < 0)
		return FALSE;

	/* Granted only when no exclusive holder exists; closing drops it at once. */
	r = flock_retry(fd, LOCK_SH | LOCK_NB);
	if (r != -EWOULDBLOCK) {
		if (r < 0)
			g_debug("could not probe the lock of %s: %s", path, g_strerror(-r));
		close(fd);
		return FALSE;
	}

	pid = pid_file_read_holder(fd);
	close(fd);
	if (ret_pid != NULL)
		*ret_pid = pid;
	return TRUE;
}
