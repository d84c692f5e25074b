/* SPDX-License-Identifier: MIT */
/* Following log files as they grow, through inotify, across rotation and replacement. */
#include "config.h"

#include "sg-follow.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sg-cli.h"
#include "base/sg-error.h"
#include "base/sg-fileio.h"
#include "base/sg-paths.h"

struct _SgFollow {
	GPtrArray *files; /* SgFollowFile* */
	SgFollowLineFunc line;
	SgFollowCreatedFunc created;
	SgFollowFailedFunc failed;
	gpointer user_data;
	int inotify_fd;
	int dir_wd;
	int state_wd;
	guint watch;
};

SgFollowFile *
sg_follow_file_new(const char *path, const char *label, gpointer data, GDestroyNotify data_free)
{
	SgFollowFile *file = g_new0(SgFollowFile, 1);

	file->path = g_strdup(path);
	file->label = g_strdup(label);
	file->data = data;
	file->data_free = data_free;
	file->fd = -1;
	file->wd = -1;
	file->partial = g_string_new(NULL);
	return file;
}

void
sg_follow_file_free(SgFollowFile *file)
{
	if (file->fd >= 0)
		close(file->fd);
	if (file->data_free != NULL)
		file->data_free(file->data);
	g_string_free(file->partial, TRUE);
	g_free(file->path);
	g_free(file->label);
	g_free(file);
}

static void
remember_signature(SgFollowFile *file)
{
	gsize want = file->offset < SG_FOLLOW_SIGNATURE_BYTES ? (gsize)file->offset
	                                                      : SG_FOLLOW_SIGNATURE_BYTES;
	ssize_t n =
	        want > 0 ? pread(file->fd, file->signature, want, (off_t)(file->offset - want)) : 0;

	file->signature_len = n > 0 ? (gsize)n : 0;
}

void
sg_follow_file_open_at_end(SgFollowFile *file)
{
	struct stat st;

	if (file->fd < 0)
		file->fd = sg_fileio_open_path(file->path, O_RDONLY, 0, NULL);
	if (file->fd >= 0 && fstat(file->fd, &st) == 0) {
		file->offset = (guint64)st.st_size;
		file->dev = st.st_dev;
		file->ino = st.st_ino;
		remember_signature(file);
	}
}

/* Whether the bytes before our offset are still those we read: a rotation shifts them. */
static gboolean
signature_matches(SgFollowFile *file)
{
	char now[SG_FOLLOW_SIGNATURE_BYTES];
	ssize_t n;

	if (file->signature_len == 0)
		return TRUE;
	n = pread(file->fd, now, file->signature_len, (off_t)(file->offset - file->signature_len));
	return n == (ssize_t)file->signature_len && memcmp(now, file->signature, (gsize)n) == 0;
}

/* Passes on the complete lines of [from, to) of fd. */
static void
print_range(SgFollow *follow, SgFollowFile *file, int fd, guint64 from, guint64 to)
{
	char buffer[65536];

	while (from < to) {
		gsize want = MIN(sizeof(buffer), (gsize)(to - from));
		ssize_t n = pread(fd, buffer, want, (off_t)from);
		char *start, *newline;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		from += (guint64)n;
		g_string_append_len(file->partial, buffer, n);
		start = file->partial->str;
		while ((newline = memchr(start, '\n',
		                         file->partial->len -
		                                 (gsize)(start - file->partial->str))) != NULL) {
			*newline = '\0';
			follow->line(file, start, follow->user_data);
			start = newline + 1;
		}
		g_string_erase(file->partial, 0, start - file->partial->str);
	}
	fflush(stdout);
}

/*
 * The file was rotated in place: its first S bytes were copied to PATH.1 and removed (by
 * collapse-range or truncation), S being the size of PATH.1. What we had not read of them
 * is in .1; the rest is at our offset minus S.
 */
static void
handle_rotation(SgFollow *follow, SgFollowFile *file)
{
	g_autofree char *first = g_strconcat(file->path, ".1", NULL);
	struct stat st;
	int fd = sg_fileio_open_path(first, O_RDONLY, 0, NULL);

	if (fd >= 0 && fstat(fd, &st) == 0) {
		guint64 copied = (guint64)st.st_size;

		if (file->offset < copied)
			print_range(follow, file, fd, file->offset, copied);
		file->offset = file->offset > copied ? file->offset - copied : 0;
	} else {
		file->offset = 0;
	}
	if (fd >= 0)
		close(fd);
}

/* Opens the file (when it exists) and watches it; the offset is kept. */
static void
add_file_watch(SgFollow *follow, SgFollowFile *file)
{
	struct stat st;

	file->fd = sg_fileio_open_path(file->path, O_RDONLY, 0, NULL);
	if (file->fd < 0)
		return;
	if (fstat(file->fd, &st) < 0) {
		close(file->fd);
		file->fd = -1;
		return;
	}
	file->dev = st.st_dev;
	file->ino = st.st_ino;
	file->wd = inotify_add_watch(follow->inotify_fd, file->path,
	                             IN_MODIFY | IN_ATTRIB | IN_DONT_FOLLOW);
}

static void
read_new(SgFollow *follow, SgFollowFile *file)
{
	struct stat st, path_st;

	if (file->fd < 0) {
		add_file_watch(follow, file);
		if (file->fd < 0)
			return;
	}
	if (fstat(file->fd, &st) < 0)
		return;
	if ((guint64)st.st_size < file->offset || !signature_matches(file)) {
		handle_rotation(follow, file);
		if (fstat(file->fd, &st) < 0)
			return;
		if (file->offset > (guint64)st.st_size)
			file->offset = 0;
	}
	if ((guint64)st.st_size > file->offset) {
		print_range(follow, file, file->fd, file->offset, (guint64)st.st_size);
		file->offset = (guint64)st.st_size;
	}
	remember_signature(file);
	/* Replaced by another file (renamed away, deleted and recreated): go on with that one. */
	if (lstat(file->path, &path_st) == 0 &&
	    (path_st.st_dev != file->dev || path_st.st_ino != file->ino)) {
		close(file->fd);
		file->fd = -1;
		file->offset = 0;
		file->signature_len = 0;
		add_file_watch(follow, file);
		if (file->fd >= 0)
			read_new(follow, file);
	}
}

static gboolean
inotify_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgFollow *follow = user_data;
	char buffer[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buffer, sizeof(buffer));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		sg_cli_error(_("cannot watch the log files: %s"),
		             n < 0 ? g_strerror(errno) : _("end of events"));
		follow->watch = 0;
		if (follow->failed != NULL)
			follow->failed(follow->user_data);
		return G_SOURCE_REMOVE;
	}
	for (char *p = buffer; p < buffer + n;) {
		struct inotify_event *event = (struct inotify_event *)p;

		p += sizeof(struct inotify_event) + event->len;
		for (guint i = 0; i < follow->files->len; i++) {
			SgFollowFile *file = g_ptr_array_index(follow->files, i);
			g_autofree char *base = g_path_get_basename(file->path);

			if (event->wd == file->wd ||
			    (event->len > 0 && g_str_has_prefix(event->name, base)) ||
			    (event->mask & IN_Q_OVERFLOW))
				read_new(follow, file);
		}
		if (follow->created == NULL)
			continue;
		if (event->mask & IN_Q_OVERFLOW)
			follow->created(follow, NULL, follow->user_data);
		else if (event->wd == follow->dir_wd && event->len > 0 &&
		         (event->mask & (IN_CREATE | IN_MOVED_TO)))
			follow->created(follow, event->name, follow->user_data);
	}
	return G_SOURCE_CONTINUE;
}

SgFollow *
sg_follow_new(const char *state_dir, SgFollowLineFunc line, SgFollowCreatedFunc created,
              SgFollowFailedFunc failed, gpointer user_data, GError **error)
{
	g_autofree char *log_dir = sg_paths_state_file(state_dir, SG_STATE_LOG_DIR);
	const guint32 dir_events = IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY;
	SgFollow *follow;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0) {
		sg_error_set_errno(error, -errno, _("cannot watch the log files"));
		return NULL;
	}
	follow = g_new0(SgFollow, 1);
	follow->files = g_ptr_array_new_with_free_func((GDestroyNotify)sg_follow_file_free);
	follow->line = line;
	follow->created = created;
	follow->failed = failed;
	follow->user_data = user_data;
	follow->inotify_fd = fd;
	/* The directories tell us about files created, rotated or replaced. */
	follow->dir_wd = inotify_add_watch(fd, log_dir, dir_events);
	follow->state_wd = inotify_add_watch(fd, state_dir, IN_CREATE | IN_MOVED_TO);
	if (follow->dir_wd < 0 && follow->state_wd < 0) {
		sg_error_set_errno(error, -errno, _("cannot watch %s"), state_dir);
		sg_follow_free(follow);
		return NULL;
	}
	follow->watch = g_unix_fd_add(fd, G_IO_IN, inotify_cb, follow);
	return follow;
}

void
sg_follow_free(SgFollow *follow)
{
	if (follow->watch != 0)
		g_source_remove(follow->watch);
	g_ptr_array_unref(follow->files);
	close(follow->inotify_fd);
	g_free(follow);
}

void
sg_follow_add(SgFollow *follow, SgFollowFile *file)
{
	g_ptr_array_add(follow->files, file);
	if (file->fd >= 0)
		file->wd = inotify_add_watch(follow->inotify_fd, file->path,
		                             IN_MODIFY | IN_ATTRIB | IN_DONT_FOLLOW);
	read_new(follow, file);
}

gboolean
sg_follow_has(SgFollow *follow, const char *path)
{
	for (guint i = 0; i < follow->files->len; i++)
		if (g_str_equal(((SgFollowFile *)follow->files->pdata[i])->path, path))
			return TRUE;
	return FALSE;
}

void
sg_follow_read_all(SgFollow *follow, gboolean finish)
{
	for (guint i = 0; i < follow->files->len; i++) {
		SgFollowFile *file = g_ptr_array_index(follow->files, i);

		read_new(follow, file);
		if (finish && file->partial->len > 0) {
			follow->line(file, file->partial->str, follow->user_data);
			g_string_truncate(file->partial, 0);
		}
	}
	fflush(stdout);
}
