/* SPDX-License-Identifier: MIT */
/* Service log files: O_APPEND fds for children, rotated by size on one-shot inotify watches. */
#include "config.h"

#define G_LOG_DOMAIN "sg-logfile"

#include "process/sg-logfile.h"
#include "base/sg-error.h"
#include "base/sg-fileio.h"
#include "process/sg-logrotate.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* A write (or a deletion, a rename, a chmod) since the last check arms one check this late. */
#define CHECK_DELAY_MS 1000
/* Dropped output is told once a burst is over, or at least this often while it lasts. */
#define DROPPED_REPORT_USEC (60 * G_USEC_PER_SEC)
#define LOG_MODE            0600

struct _SgLogWatch {
	SgClock *clock;
	SgLog *log; /* borrowed, may be NULL: where refusals and dropped output are told */
	int inotify_fd;
	GSource *source;
	GHashTable *by_wd; /* wd -> GPtrArray of SgLogFile* (borrowed): files watching that inode */
	GHashTable *files; /* SgLogFile* set, to detach them if the watch goes first */
};

struct _SgLogFile {
	SgLogWatch *watch; /* NULL once the watch is freed */
	char *path;
	char *dir;  /* the log directory, for messages */
	char *name; /* the file's name in it */
	int dir_fd; /* every open, rename and unlink is relative to it, never through a link */
	int fd;
	SgLogLimits limits;
	int wd; /* -1 while no one-shot watch is armed for this file */
	guint32 watch_mask;
	guint check_id; /* the pending check's clock timeout */
	gboolean force_truncate;
	gboolean refusal_logged;   /* a link or another file in our place, said once */
	guint64 last_dropped;      /* by the last rotation */
	guint64 dropped_pending;   /* since the last report */
	gint64 dropped_since_usec; /* the first drop not reported yet (monotonic) */
	guint64 dropped_total;
};

static void file_schedule_check(SgLogFile *file);

/* ---- the inotify side ---- */

/* Forgets the file's one-shot watch; removes it from the kernel when no other file shares it
 * (watches are per inode: two files of the same path get the same wd). */
static void
file_unwatch(SgLogFile *file, gboolean remove_from_kernel)
{
	GPtrArray *files;

	if (file->wd < 0 || file->watch == NULL) {
		file->wd = -1;
		return;
	}
	files = g_hash_table_lookup(file->watch->by_wd, GINT_TO_POINTER(file->wd));
	if (files != NULL) {
		g_ptr_array_remove_fast(files, file);
		if (files->len == 0) {
			g_hash_table_remove(file->watch->by_wd, GINT_TO_POINTER(file->wd));
			/* EINVAL: the one-shot already fired and the kernel dropped it. */
			if (remove_from_kernel)
				(void)inotify_rm_watch(file->watch->inotify_fd, file->wd);
		}
	}
	file->wd = -1;
}

static int
file_watch(SgLogFile *file)
{
	/* Rotation off: only a deletion or a rename away needs us (to recreate the file). */
	guint32 mask = IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF | IN_ONESHOT | IN_MASK_ADD;
	GPtrArray *files;
	int wd;

	if (file->limits.max_bytes > 0)
		mask |= IN_MODIFY;
	/* Still armed as wanted (a check that only told of a drop): removing it to add it
	 * again would cost an IN_IGNORED wake-up. */
	if (file->wd >= 0 && file->watch_mask == mask)
		return 0;
	file_unwatch(file, TRUE);
	/* IN_MASK_ADD: a second file of the same inode must not take the first one's bits.
	 * IN_DONT_FOLLOW: a link put in place of the file is watched itself, then refused. */
	wd = inotify_add_watch(file->watch->inotify_fd, file->path, mask | IN_DONT_FOLLOW);
	if (wd < 0)
		return -errno;
	files = g_hash_table_lookup(file->watch->by_wd, GINT_TO_POINTER(wd));
	if (files == NULL) {
		files = g_ptr_array_new();
		g_hash_table_insert(file->watch->by_wd, GINT_TO_POINTER(wd), files);
	}
	if (!g_ptr_array_find(files, file, NULL))
		g_ptr_array_add(files, file);
	file->wd = wd;
	file->watch_mask = mask;
	return 0;
}

/* Every event of a one-shot watch (the event itself, then IN_IGNORED; or IN_IGNORED alone
 * when the inode went away or its file system was unmounted) means the watch is gone. */
static void
watch_handle_wd(SgLogWatch *watch, int wd)
{
	GPtrArray *files;

	if (!g_hash_table_steal_extended(watch->by_wd, GINT_TO_POINTER(wd), NULL,
	                                 (gpointer *)&files))
		return;
	for (guint i = 0; i < files->len; i++) {
		SgLogFile *file = g_ptr_array_index(files, i);
		file->wd = -1;
		file_schedule_check(file);
	}
	g_ptr_array_unref(files);
}

static void
watch_handle_overflow(SgLogWatch *watch)
{
	GHashTableIter iter;
	gpointer key;

	/* Events were lost: every file gets a check, which re-arms its watch. */
	g_hash_table_iter_init(&iter, watch->files);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		file_schedule_check(key);
}

static gboolean
watch_readable_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgLogWatch *watch = user_data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *event = (const struct inotify_event *)p;
			if (event->mask & IN_Q_OVERFLOW)
				watch_handle_overflow(watch);
			else
				watch_handle_wd(watch, event->wd);
			p += sizeof(struct inotify_event) + event->len;
		}
	}
	return G_SOURCE_CONTINUE;
}

SgLogWatch *
sg_log_watch_new(SgClock *clock, GError **error)
{
	g_autoptr(SgLogWatch) watch = g_new0(SgLogWatch, 1);

	g_return_val_if_fail(clock != NULL, NULL);
	watch->clock = sg_clock_ref(clock);
	watch->by_wd = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);
	watch->files = g_hash_table_new(NULL, NULL);
	watch->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (watch->inotify_fd < 0) {
		sg_error_set_errno(error, -errno, _("Cannot watch log files"));
		return NULL;
	}
	watch->source = g_unix_fd_source_new(watch->inotify_fd, G_IO_IN);
	g_source_set_callback(watch->source, G_SOURCE_FUNC(watch_readable_cb), watch, NULL);
	g_source_set_static_name(watch->source, "sg-logfile inotify");
	g_source_attach(watch->source, g_main_context_get_thread_default());
	return g_steal_pointer(&watch);
}

void
sg_log_watch_set_log(SgLogWatch *watch, SgLog *log)
{
	g_return_if_fail(watch != NULL);
	watch->log = log;
}

void
sg_log_watch_free(SgLogWatch *watch)
{
	GHashTableIter iter;
	gpointer key;

	if (watch == NULL)
		return;
	/* Files outliving the watch keep their fds and can still rotate by hand. */
	if (watch->files != NULL) {
		g_hash_table_iter_init(&iter, watch->files);
		while (g_hash_table_iter_next(&iter, &key, NULL)) {
			SgLogFile *file = key;
			sg_clock_clear(watch->clock, &file->check_id);
			file->wd = -1;
			file->watch = NULL;
		}
		g_hash_table_unref(watch->files);
	}
	if (watch->source != NULL) {
		g_source_destroy(watch->source);
		g_source_unref(watch->source);
	}
	if (watch->inotify_fd >= 0)
		close(watch->inotify_fd);
	g_clear_pointer(&watch->by_wd, g_hash_table_unref);
	g_clear_pointer(&watch->clock, sg_clock_unref);
	g_free(watch);
}

/* ---- files ---- */

/* Opens the file for a child's output, created 0600 (an older file of ours is set to 0600);
 * a symbolic link, a FIFO or anything but a regular file of ours is refused. Returns the fd
 * or a negative errno with error set. */
static int
open_log(SgLogFile *file, GError **error)
{
	return sg_fileio_openat(file->dir_fd, file->dir, file->name, O_WRONLY | O_APPEND | O_CREAT,
	                        LOG_MODE, error);
}

/* Logs once, as one line, what rotations dropped since the last time it was said. */
static void
file_report_dropped(SgLogFile *file)
{
	if (file->dropped_pending == 0)
		return;
	if (file->watch != NULL && file->watch->log != NULL)
		sg_log_write(file->watch->log, SG_LOG_WARN,
		             "%s: a burst of output: dropped %" G_GUINT64_FORMAT
		             " bytes, kept the newest (logs.max_files %u x logs.max_bytes "
		             "%" G_GUINT64_FORMAT ")",
		             file->path, file->dropped_pending, file->limits.max_files,
		             file->limits.max_bytes);
	file->dropped_pending = 0;
}

gboolean
sg_log_file_rotate_if_needed(SgLogFile *file, GError **error)
{
	SgLogRotation rotation = { 0 };
	SgLogRotationResult result = { 0 };
	int r;

	g_return_val_if_fail(file != NULL, FALSE);
	rotation.dir_fd = file->dir_fd;
	rotation.dir = file->dir;
	rotation.name = file->name;
	rotation.fd = file->fd;
	rotation.max_bytes = file->limits.max_bytes;
	rotation.max_files = file->limits.max_files;
	rotation.force_truncate = file->force_truncate;
	file->last_dropped = 0;
	r = sg_log_rotate(&rotation, &result);
	if (r < 0)
		return sg_error_set_errno(error, r, _("Cannot rotate the log file %s"), file->path);
	if (r == 0)
		return FALSE;
	if (result.dropped > 0 && file->dropped_pending == 0 && file->watch != NULL)
		file->dropped_since_usec = sg_clock_monotonic_usec(file->watch->clock);
	/* Not worth trying again on this file system. */
	if (result.collapse_unsupported)
		file->force_truncate = TRUE;
	file->last_dropped = result.dropped;
	file->dropped_pending += result.dropped;
	file->dropped_total += result.dropped;
	g_debug("rotated %s (%s, %u copies, %" G_GUINT64_FORMAT " bytes dropped)", file->path,
	        result.collapsed ? "collapse" : "truncate", result.n_copies, result.dropped);
	return TRUE;
}

/* A file deleted or renamed away is created again at its path, for the next child. What
 * cannot be (a link put there) is logged once; the children keep the file they have. */
static void
file_reopen_if_replaced(SgLogFile *file)
{
	g_autoptr(GError) error = NULL;
	int fd;

	if (sg_fileio_is_at(file->fd, file->dir_fd, file->name) != 0)
		return;
	fd = open_log(file, &error);
	if (fd < 0) {
		if (!file->refusal_logged && file->watch->log != NULL)
			sg_log_write(file->watch->log, SG_LOG_ERROR, "%s", error->message);
		file->refusal_logged = TRUE;
		return;
	}
	file->refusal_logged = FALSE;
	file_unwatch(file, TRUE);
	close(file->fd);
	file->fd = fd;
	g_debug("%s was replaced: reopened", file->path);
}

static gboolean
file_is_regular(SgLogFile *file, struct stat *st)
{
	return fstat(file->fd, st) == 0 && S_ISREG(st->st_mode);
}

/* Rotates if needed, then re-arms the one-shot watch. */
static void
file_check(SgLogFile *file)
{
	g_autoptr(GError) error = NULL;
	gboolean failed = FALSE;
	struct stat st;
	int r;

	if (file->watch != NULL)
		file_reopen_if_replaced(file);
	if (!file_is_regular(file, &st))
		return; /* a device such as /dev/null: nothing to rotate, nothing to watch */
	if (!sg_log_file_rotate_if_needed(file, &error) && error != NULL) {
		g_debug("%s", error->message);
		failed = TRUE;
	}
	if (file->watch == NULL)
		return;
	/* A burst is told in one line once a check finds it over (or every minute while it
	 * lasts): a check that dropped nothing ends it. */
	if (file->last_dropped == 0 ||
	    sg_clock_monotonic_usec(file->watch->clock) - file->dropped_since_usec >=
	            DROPPED_REPORT_USEC)
		file_report_dropped(file);
	r = file_watch(file);
	if (r == -ENOENT) {
		file_reopen_if_replaced(file);
		r = file_watch(file);
	}
	if (r < 0) {
		g_debug("Cannot watch %s: %s", file->path, g_strerror(-r));
		return;
	}
	/* A write between the size check and the new watch went unseen. A failed rotation is
	 * retried on the next write, not every second. */
	if (!failed && file->limits.max_bytes > 0 && file_is_regular(file, &st) &&
	    (guint64)st.st_size > file->limits.max_bytes)
		file_schedule_check(file);
	/* One more check after a drop, even if all is quiet, to tell it. */
	if (file->dropped_pending > 0)
		file_schedule_check(file);
}

static void
file_check_cb(gpointer user_data)
{
	SgLogFile *file = user_data;

	file->check_id = 0;
	file_check(file);
}

static void
file_schedule_check(SgLogFile *file)
{
	if (file->check_id == 0 && file->watch != NULL)
		file->check_id = sg_clock_add_timeout(file->watch->clock, CHECK_DELAY_MS,
		                                      file_check_cb, file);
}

SgLogFile *
sg_log_file_open(SgLogWatch *watch, const char *path, const SgLogLimits *limits, GError **error)
{
	g_autoptr(SgLogFile) file = NULL;

	g_return_val_if_fail(path != NULL && limits != NULL, NULL);
	file = g_new0(SgLogFile, 1);
	file->path = g_strdup(path);
	file->dir = g_path_get_dirname(path);
	file->name = g_path_get_basename(path);
	file->wd = -1;
	file->fd = -1;
	file->dir_fd = sg_fileio_open_dir(file->dir, error);
	if (file->dir_fd < 0) {
		g_prefix_error(error, _("Cannot open the log file %s: "), path);
		return NULL;
	}
	file->fd = open_log(file, error);
	if (file->fd < 0)
		return NULL;
	file->watch = watch;
	file->limits = *limits;
	if (watch != NULL)
		g_hash_table_add(watch->files, file);
	/* A file already too big rotates now. */
	file_check(file);
	return g_steal_pointer(&file);
}

void
sg_log_file_close(SgLogFile *file)
{
	if (file == NULL)
		return;
	file_report_dropped(file);
	if (file->watch != NULL) {
		file_unwatch(file, TRUE);
		sg_clock_clear(file->watch->clock, &file->check_id);
		g_hash_table_remove(file->watch->files, file);
	}
	if (file->fd >= 0)
		close(file->fd);
	if (file->dir_fd >= 0)
		close(file->dir_fd);
	g_free(file->path);
	g_free(file->dir);
	g_free(file->name);
	g_free(file);
}

int
sg_log_file_fd(SgLogFile *file)
{
	g_return_val_if_fail(file != NULL, -1);
	return file->fd;
}

void
sg_log_file_set_limits(SgLogFile *file, const SgLogLimits *limits)
{
	g_return_if_fail(file != NULL && limits != NULL);
	file->limits = *limits;
	/* New limits apply now: a lower max_bytes may rotate, and the watch mask may change. */
	if (file->check_id == 0)
		file_check(file);
}

guint64
sg_log_file_get_dropped(SgLogFile *file)
{
	g_return_val_if_fail(file != NULL, 0);
	return file->dropped_total;
}

void
sg_log_file_set_force_truncate(SgLogFile *file, gboolean force)
{
	g_return_if_fail(file != NULL);
	file->force_truncate = force;
}
