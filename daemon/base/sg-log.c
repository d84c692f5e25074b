/* SPDX-License-Identifier: MIT */
/* supervisor.log: line formatting, level filtering, a mirror fd and size-based rotation. */
#include "config.h"

#include "base/sg-log.h"
#include "base/sg-error.h"
#include "base/sg-escape.h"
#include "base/sg-fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct _SgLog {
	GMutex lock; /* guards everything below but level, for writers on other threads */
	char *path;
	char *dir;  /* the state directory, for messages */
	char *name; /* the file's name in it */
	int dir_fd; /* every open, rename and unlink is relative to it, never through a link */
	int fd;
	int mirror_fd;
	int level; /* SgLogLevel, read without the lock */
	guint64 size;
	guint64 max_bytes;
	guint max_files;
	SgLogClockFunc now_usec;
	guint64 n_errors;
	gboolean error_reported;
};

static const struct {
	const char *padded;
	const char *name;
} level_names[] = {
	[SG_LOG_OFF] = { "OFF  ", "off" },     [SG_LOG_ERROR] = { "ERROR", "error" },
	[SG_LOG_WARN] = { "WARN ", "warn" },   [SG_LOG_INFO] = { "INFO ", "info" },
	[SG_LOG_DEBUG] = { "DEBUG", "debug" }, [SG_LOG_TRACE] = { "TRACE", "trace" },
};

gboolean
sg_log_level_parse(const char *text, SgLogLevel *ret_level)
{
	if (text == NULL)
		return FALSE;
	if (text[0] >= '0' && text[0] <= '5' && text[1] == '\0') {
		*ret_level = (SgLogLevel)(text[0] - '0');
		return TRUE;
	}
	if (g_ascii_strcasecmp(text, "warning") == 0) {
		*ret_level = SG_LOG_WARN;
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(level_names); i++) {
		if (g_ascii_strcasecmp(text, level_names[i].name) == 0) {
			*ret_level = (SgLogLevel)i;
			return TRUE;
		}
	}
	return FALSE;
}

const char *
sg_log_level_to_string(SgLogLevel level)
{
	if ((guint)level >= G_N_ELEMENTS(level_names))
		return "?????";
	return level_names[level].padded;
}

/* Called with the lock held. Only the first failure is shown: a full disk must not turn
 * into a flood on the terminal. */
static void
record_error(SgLog *log, const char *path, int errnum)
{
	log->n_errors++;
	if (log->error_reported)
		return;
	log->error_reported = TRUE;
	g_printerr(_("Cannot write the supervisor log %s: %s (further errors are not shown)\n"),
	           path, g_strerror(errnum));
}

/* The same for a refusal that has its own message. */
static void
record_refusal(SgLog *log, const GError *error)
{
	log->n_errors++;
	if (log->error_reported)
		return;
	log->error_reported = TRUE;
	g_printerr(_("Cannot write the supervisor log: %s (further errors are not shown)\n"),
	           error->message);
}

/* Opens the log for appending (created 0600, an older file of ours set to 0600); a
 * symbolic link, a FIFO or a file of another user in its place is refused. */
static int
open_file(SgLog *log, guint64 *ret_size, GError **error)
{
	struct stat st;
	int fd;

	fd = sg_fileio_openat(log->dir_fd, log->dir, log->name, O_WRONLY | O_APPEND | O_CREAT, 0600,
	                      error);
	if (fd < 0)
		return fd;
	*ret_size = fstat(fd, &st) == 0 ? (guint64)st.st_size : 0;
	return fd;
}

SgLog *
sg_log_open(const char *path, SgLogLevel level, GError **error)
{
	g_autoptr(SgLog) log = NULL;
	guint64 size = 0;

	g_return_val_if_fail(path != NULL, NULL);

	log = g_new0(SgLog, 1);
	g_mutex_init(&log->lock);
	log->path = g_strdup(path);
	log->dir = g_path_get_dirname(path);
	log->name = g_path_get_basename(path);
	log->fd = -1;
	log->dir_fd = sg_fileio_open_dir(log->dir, error);
	if (log->dir_fd < 0) {
		g_prefix_error(error, _("Cannot open %s: "), path);
		return NULL;
	}
	log->fd = open_file(log, &size, error);
	if (log->fd < 0)
		return NULL;
	log->mirror_fd = -1;
	log->level = level;
	log->size = size;
	log->max_bytes = SG_LOG_MAX_BYTES;
	log->max_files = SG_LOG_MAX_FILES;
	log->now_usec = g_get_real_time;
	return g_steal_pointer(&log);
}

void
sg_log_free(SgLog *log)
{
	if (log == NULL)
		return;
	if (log->fd >= 0)
		close(log->fd);
	if (log->dir_fd >= 0)
		close(log->dir_fd);
	g_mutex_clear(&log->lock);
	g_free(log->path);
	g_free(log->dir);
	g_free(log->name);
	g_free(log);
}

void
sg_log_set_level(SgLog *log, SgLogLevel level)
{
	g_return_if_fail(log != NULL);
	g_atomic_int_set(&log->level, (int)level);
}

SgLogLevel
sg_log_get_level(SgLog *log)
{
	g_return_val_if_fail(log != NULL, SG_LOG_OFF);
	return (SgLogLevel)g_atomic_int_get(&log->level);
}

gboolean
sg_log_enabled(SgLog *log, SgLogLevel level)
{
	if (log == NULL || level <= SG_LOG_OFF || level > SG_LOG_TRACE)
		return FALSE;
	return (int)level <= g_atomic_int_get(&log->level);
}

void
sg_log_set_mirror(SgLog *log, int fd)
{
	g_return_if_fail(log != NULL);
	g_mutex_lock(&log->lock);
	log->mirror_fd = fd;
	g_mutex_unlock(&log->lock);
}

void
sg_log_set_rotation(SgLog *log, guint64 max_bytes, guint max_files)
{
	g_return_if_fail(log != NULL);
	g_mutex_lock(&log->lock);
	log->max_bytes = max_bytes;
	log->max_files = max_files;
	g_mutex_unlock(&log->lock);
}

void
sg_log_set_clock(SgLog *log, SgLogClockFunc now_usec)
{
	g_return_if_fail(log != NULL);
	g_mutex_lock(&log->lock);
	log->now_usec = now_usec != NULL ? now_usec : g_get_real_time;
	g_mutex_unlock(&log->lock);
}

guint64
sg_log_get_n_errors(SgLog *log)
{
	guint64 n;

	g_return_val_if_fail(log != NULL, 0);
	g_mutex_lock(&log->lock);
	n = log->n_errors;
	g_mutex_unlock(&log->lock);
	return n;
}

/* "2026-01-31T15:30:00.123Z ": milliseconds truncated, as clocks are read. */
static void
append_timestamp(GString *out, gint64 usec)
{
	gint64 seconds = usec / G_USEC_PER_SEC;
	gint64 rest = usec % G_USEC_PER_SEC;
	time_t t;
	struct tm tm;

	if (rest < 0) {
		rest += G_USEC_PER_SEC;
		seconds--;
	}
	t = (time_t)seconds;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	g_string_append_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900,
	                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                       (int)(rest / 1000));
}

static void
format_lines(GString *out, gint64 usec, SgLogLevel level, const char *message)
{
	g_autoptr(GString) prefix = g_string_new(NULL);
	const char *p = message;
	const char *end = message + strlen(message);

	append_timestamp(prefix, usec);
	g_string_append(prefix, sg_log_level_to_string(level));
	g_string_append_c(prefix, ' ');

	/* Output captured from a command usually ends with a newline: no empty line for it. */
	if (end > p && end[-1] == '\n')
		end--;
	for (;;) {
		const char *newline = memchr(p, '\n', end - p);
		const char *line_end = newline != NULL ? newline : end;

		g_string_append_len(out, prefix->str, prefix->len);
		/* One event per line, the file valid UTF-8 and safe to cat to a terminal. */
		if (line_end > p && line_end[-1] == '\r')
			sg_escape_append(out, p, line_end - 1 - p, SG_ESCAPE_KEEP_TAB);
		else
			sg_escape_append(out, p, line_end - p, SG_ESCAPE_KEEP_TAB);
		g_string_append_c(out, '\n');
		if (newline == NULL)
			break;
		p = newline + 1;
	}
}

/* Returns 0 or a negative errno. A regular file takes an O_APPEND write whole unless the
 * disk is full; the loop only finishes what a signal or a pipe interrupted. */
static int
write_all(int fd, const char *data, gsize length)
{
	while (length > 0) {
		ssize_t n = write(fd, data, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		data += n;
		length -= (gsize)n;
	}
	return 0;
}

/* Called with the lock held. Keeps the old fd when no new file can be opened, so lines
 * still land somewhere and the next write tries again. */
static gboolean
reopen(SgLog *log)
{
	g_autoptr(GError) error = NULL;
	guint64 size = 0;
	int fd = open_file(log, &size, &error);

	if (fd < 0) {
		record_refusal(log, error);
		return FALSE;
	}
	close(log->fd);
	log->fd = fd;
	log->size = size;
	return TRUE;
}

/* Renames in the state directory: a link there is moved, never followed. */
static gboolean
rename_if_exists(SgLog *log, const char *from, const char *to)
{
	if (renameat(log->dir_fd, from, log->dir_fd, to) < 0 && errno != ENOENT) {
		g_autofree char *path = g_build_filename(log->dir, from, NULL);

		record_error(log, path, errno);
		return FALSE;
	}
	return TRUE;
}

/* Called with the lock held, after a write. */
static void
maybe_rotate(SgLog *log)
{
	if (log->max_bytes == 0 || log->size <= log->max_bytes)
		return;

	/* Someone else moved the file away: start a new one at path rather than rotating
	 * whatever now has that name. */
	if (sg_fileio_is_at(log->fd, log->dir_fd, log->name) != 1) {
		reopen(log);
		return;
	}

	/* Oldest first, so each rename replaces a file already moved on (or dropped). */
	for (guint i = log->max_files; i >= 2; i--) {
		g_autofree char *from = g_strdup_printf("%s.%u", log->name, i - 1);
		g_autofree char *to = g_strdup_printf("%s.%u", log->name, i);

		if (!rename_if_exists(log, from, to))
			return;
	}
	if (log->max_files > 0) {
		g_autofree char *to = g_strdup_printf("%s.1", log->name);

		if (!rename_if_exists(log, log->name, to))
			return;
	} else if (unlinkat(log->dir_fd, log->name, 0) < 0 && errno != ENOENT) {
		record_error(log, log->path, errno);
		return;
	}
	reopen(log);
}

void
sg_log_writev(SgLog *log, SgLogLevel level, const char *format, va_list args)
{
	g_autofree char *message = NULL;
	g_autoptr(GString) out = NULL;
	int r;

	if (!sg_log_enabled(log, level))
		return;

	message = g_strdup_vprintf(format, args);
	out = g_string_sized_new(64 + strlen(message));

	g_mutex_lock(&log->lock);
	format_lines(out, log->now_usec(), level, message);
	r = write_all(log->fd, out->str, out->len);
	if (r < 0)
		record_error(log, log->path, -r);
	else
		log->size += out->len;
	/* The daemon ignores SIGPIPE, so a vanished reader only makes this fail. */
	if (log->mirror_fd >= 0)
		(void)write_all(log->mirror_fd, out->str, out->len);
	maybe_rotate(log);
	g_mutex_unlock(&log->lock);
}

void
sg_log_write(SgLog *log, SgLogLevel level, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	sg_log_writev(log, level, format, args);
	va_end(args);
}
