/* SPDX-License-Identifier: MIT */
/* Rotating a live log file in place, keeping the disk it takes bounded whatever comes in. */
#include "config.h"

#define G_LOG_DOMAIN "sg-logrotate"

#include "process/sg-logrotate.h"

#include "base/sg-fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* Catch-up copies before truncating: a writer faster than the copy must not hold us forever. */
#define MAX_CATCH_UP 4
/* How far into a burst's kept part a line start is looked for. */
#define LINE_SEARCH 4096

/* A reading fd on the live file (whose fd is write-only, for the children). */
static int
open_for_reading(const SgLogRotation *rotation, const struct stat *st)
{
	struct stat rst;
	int fd = sg_fileio_openat(rotation->dir_fd, rotation->dir, rotation->name, O_RDONLY, 0,
	                          NULL);

	if (fd < 0)
		return fd;
	if (fstat(fd, &rst) < 0 || rst.st_dev != st->st_dev || rst.st_ino != st->st_ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* Copies [from, to) of in_fd to out_fd's position; stops early if the source got shorter. */
static int
copy_range(int in_fd, guint64 from, guint64 to, int out_fd)
{
	off_t in_off = (off_t)from;
	gboolean use_cfr = TRUE;
	char buf[65536];

	while ((guint64)in_off < to) {
		size_t want = (size_t)MIN(to - (guint64)in_off, (guint64)1 << 30);
		ssize_t n;

		if (use_cfr) {
			n = copy_file_range(in_fd, &in_off, out_fd, NULL, want, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			              errno == EOPNOTSUPP || errno == EBADF)) {
				use_cfr = FALSE;
				continue;
			}
		} else {
			n = pread(in_fd, buf, MIN(want, sizeof(buf)), in_off);
			if (n > 0) {
				int r = sg_fileio_write_all(out_fd, buf, (gsize)n);
				if (r < 0)
					return r;
				in_off += n;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
	}
	return 0;
}

static char *
rotated_name(const char *name, guint64 n)
{
	return g_strdup_printf("%s.%" G_GUINT64_FORMAT, name, n);
}

/* .1 .. .N move up by k, those that would pass max_files are dropped, and so is any file a
 * larger max_files left. Names are unlinked and renamed in the directory: a link among them
 * is moved or removed, never followed. */
static int
shift_rotated(const SgLogRotation *rotation, guint k)
{
	int dir_fd = rotation->dir_fd;

	for (guint64 n = (guint64)rotation->max_files + 1;; n++) {
		g_autofree char *stale = rotated_name(rotation->name, n);
		if (unlinkat(dir_fd, stale, 0) < 0) {
			if (errno == ENOENT)
				break;
			return -errno;
		}
	}
	if (k == 0)
		return 0;
	/* Highest first, so each rename goes to a name already moved on or dropped. */
	for (guint n = rotation->max_files; n >= 1; n--) {
		g_autofree char *from = rotated_name(rotation->name, n);
		g_autofree char *to = rotated_name(rotation->name, (guint64)n + k);

		if ((guint64)n + k > rotation->max_files) {
			if (unlinkat(dir_fd, from, 0) < 0 && errno != ENOENT)
				return -errno;
		} else if (renameat(dir_fd, from, dir_fd, to) < 0 && errno != ENOENT) {
			return -errno;
		}
	}
	return 0;
}

/* Writes [from, to) of the live file to a new hidden file beside it, synced, mode 0600. */
static int
copy_to_temp(const SgLogRotation *rotation, int read_fd, guint64 from, guint64 to,
             char **ret_tmp_name)
{
	g_autofree char *prefix = g_strdup_printf(".%s.", rotation->name);
	g_autofree char *tmp_name = NULL;
	int fd = sg_fileio_mkstemp_at(rotation->dir_fd, prefix, &tmp_name);
	int r;

	if (fd < 0)
		return fd;
	r = copy_range(read_fd, from, to, fd);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(rotation->dir_fd, tmp_name, 0);
		close(fd);
		return r;
	}
	*ret_tmp_name = g_steal_pointer(&tmp_name);
	return fd;
}

/* The unit of collapse-range: the file system block (st_blksize may be a larger multiple). */
static guint64
block_size(int fd, const struct stat *st)
{
	struct statfs sfs;
	guint64 blk = st->st_blksize > 0 ? (guint64)st->st_blksize : 4096;

	if (fstatfs(fd, &sfs) == 0 && sfs.f_bsize > 0 && (guint64)sfs.f_bsize > blk &&
	    (guint64)sfs.f_bsize % blk == 0)
		blk = (guint64)sfs.f_bsize;
	return blk;
}

/* The first line start in [start, start + 4 KiB), before end; start when there is none
 * (output without lines), so that a copy starts with a whole line where it can. */
static guint64
line_start(int read_fd, guint64 start, guint64 end)
{
	char buf[LINE_SEARCH];
	ssize_t n;

	if (end - start < 2)
		return start;
	do
		n = pread(read_fd, buf, (size_t)MIN((guint64)sizeof(buf), end - start - 1),
		          (off_t)start);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		const char *newline = memchr(buf, '\n', (size_t)n);
		if (newline != NULL)
			return start + (guint64)(newline - buf) + 1;
	}
	return start;
}

/*
 * Copies the end of [0, end) of src_fd into at most max_copies temporary files of at most
 * chunk bytes, cut from the end, the newest first in tmp_names; with at_lines each cut is
 * moved to a line start, else only the last one when something is left over (a burst).
 * *ret_start receives where the oldest copy starts: the bytes before it are dropped. The
 * newest copy stays open in *ret_newest_fd when that is not NULL.
 */
static int
copy_tail(const SgLogRotation *rotation, int src_fd, guint64 end, guint64 chunk, guint max_copies,
          gboolean at_lines, GPtrArray *tmp_names, int *ret_newest_fd, guint64 *ret_start)
{
	guint64 chunk_end = end;

	while (chunk_end > 0 && tmp_names->len < max_copies) {
		guint64 chunk_start = chunk_end > chunk ? chunk_end - chunk : 0;
		char *tmp_name = NULL;
		int fd;

		if (chunk_start > 0 && (at_lines || tmp_names->len + 1 == max_copies))
			chunk_start = line_start(src_fd, chunk_start, chunk_end);
		fd = copy_to_temp(rotation, src_fd, chunk_start, chunk_end, &tmp_name);
		if (fd < 0)
			return fd;
		g_ptr_array_add(tmp_names, tmp_name);
		if (ret_newest_fd != NULL && *ret_newest_fd < 0)
			*ret_newest_fd = fd;
		else
			close(fd);
		chunk_end = chunk_start;
	}
	*ret_start = chunk_end;
	return 0;
}

/* Renames the copies (newest first) to NAME.1 .. NAME.k, removing each name it takes from
 * tmp_names. Runs after shift_rotated() made room. */
static int
install_copies(const SgLogRotation *rotation, GPtrArray *tmp_names)
{
	for (guint i = 0; i < tmp_names->len; i++) {
		g_autofree char *to = rotated_name(rotation->name, (guint64)i + 1);

		if (renameat(rotation->dir_fd, tmp_names->pdata[i], rotation->dir_fd, to) < 0)
			return -errno;
		g_clear_pointer(&tmp_names->pdata[i], g_free);
	}
	return 0;
}

static void
remove_temps(const SgLogRotation *rotation, GPtrArray *tmp_names)
{
	for (guint i = 0; i < tmp_names->len; i++)
		if (tmp_names->pdata[i] != NULL)
			(void)unlinkat(rotation->dir_fd, tmp_names->pdata[i], 0);
	g_ptr_array_set_size(tmp_names, 0);
}

/*
 * The truncate path: copies what was appended since `copied` into NAME.1 (open as out_fd),
 * a few rounds while writers keep going, then truncates. Whatever a writer appends between
 * the last size check and the truncate is lost: two system calls, plus the wait for the
 * inode lock, which a writer that never pauses can stretch to milliseconds.
 */
static int
catch_up_and_truncate(const SgLogRotation *rotation, int read_fd, int out_fd, guint64 copied)
{
	for (int round = 0; out_fd >= 0 && round < MAX_CATCH_UP; round++) {
		struct stat st;
		int r;

		if (fstat(rotation->fd, &st) < 0)
			return -errno;
		if ((guint64)st.st_size <= copied)
			break;
		r = copy_range(read_fd, copied, (guint64)st.st_size, out_fd);
		if (r < 0)
			return r;
		copied = (guint64)st.st_size;
	}
	if (ftruncate(rotation->fd, 0) < 0)
		return -errno;
	/* The copied bytes now exist only in the copy. */
	if (out_fd >= 0 && fsync(out_fd) < 0)
		return -errno;
	return 0;
}

/* The size of NAME.n, 0 when missing. */
static guint64
rotated_size(const SgLogRotation *rotation, guint n)
{
	g_autofree char *name = rotated_name(rotation->name, n);
	struct stat st;

	if (fstatat(rotation->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (guint64)st.st_size;
}

/*
 * NAME.1 (open as newest_fd) grew past a copy's size while catching up: it is cut, from its
 * end and at lines, into at most max_files copies; the others move up to make room, and the
 * oldest of the new copies replaces the long NAME.1 where it lands, so that its lines are
 * in some file at every instant. What the copies cannot hold is added to *dropped, and so
 * are the older copies of this same rotation (NAME.2 .. NAME.n_new) pushed out.
 */
static int
split_newest(const SgLogRotation *rotation, int newest_fd, guint n_new, guint64 chunk,
             guint64 *dropped)
{
	g_autoptr(GPtrArray) tmp_names = g_ptr_array_new_with_free_func(g_free);
	struct stat st;
	guint64 start = 0, pushed_out = 0;
	int r;

	if (fstat(newest_fd, &st) < 0)
		return -errno;
	if ((guint64)st.st_size <= chunk)
		return 0;
	r = copy_tail(rotation, newest_fd, (guint64)st.st_size, chunk, rotation->max_files, TRUE,
	              tmp_names, NULL, &start);
	for (guint n = 2; r == 0 && n <= n_new; n++)
		if (n + tmp_names->len - 1 > rotation->max_files)
			pushed_out += rotated_size(rotation, n);
	if (r == 0)
		r = shift_rotated(rotation, tmp_names->len - 1);
	if (r == 0)
		r = install_copies(rotation, tmp_names);
	remove_temps(rotation, tmp_names);
	if (r == 0)
		*dropped += start + pushed_out;
	return r;
}

int
sg_log_rotate(const SgLogRotation *rotation, SgLogRotationResult *ret_result)
{
	g_autoptr(GPtrArray) tmp_names = g_ptr_array_new_with_free_func(g_free);
	SgLogRotationResult result = { 0 };
	struct stat st;
	guint64 size, blk, chunk, len = 0, end, start = 0;
	int read_fd = -1, out_fd = -1, r = 0;

	g_return_val_if_fail(rotation != NULL && ret_result != NULL, -EINVAL);
	if (fstat(rotation->fd, &st) < 0)
		return -errno;
	size = (guint64)st.st_size;
	if (!S_ISREG(st.st_mode) || rotation->max_bytes == 0 || size <= rotation->max_bytes)
		return 0;

	/* What one copy may hold: max_bytes, and the block by which a check may find the file
	 * past it. */
	blk = block_size(rotation->fd, &st);
	chunk = rotation->max_bytes + blk;
	/* Collapse must end before EOF, so at least one byte stays in the live file. A file
	 * smaller than a block cannot collapse at all and takes the truncate path. Past one
	 * copy, only whole copies are taken and the rest stays live for the next check, so that
	 * copies are full (and whole blocks when max_bytes is); past max_files copies (a burst),
	 * everything is taken and the oldest part dropped. */
	if (!rotation->force_truncate)
		len = (size - 1) / blk * blk;
	if (len == 0)
		end = size;
	else if (len <= chunk || len > (guint64)MAX(rotation->max_files, 1) * chunk)
		end = len;
	else
		end = len / chunk * chunk;

	/* With max_files 0 nothing is kept by design: that is rotation, not loss. */
	if (rotation->max_files > 0) {
		read_fd = open_for_reading(rotation, &st);
		if (read_fd < 0) {
			r = read_fd;
			goto out;
		}
		/* The truncate path makes one copy (of what max_files copies can hold at most),
		 * catches up into it and cuts it afterwards. */
		if (len > 0)
			r = copy_tail(rotation, read_fd, end, chunk, rotation->max_files, FALSE,
			              tmp_names, &out_fd, &start);
		else
			r = copy_tail(rotation, read_fd, end, (guint64)rotation->max_files * chunk,
			              1, TRUE, tmp_names, &out_fd, &start);
		if (r < 0)
			goto out;
		result.dropped = start;
	}
	/* Shift and rename before touching the live file: a crash in between duplicates
	 * lines, it never loses them. */
	result.n_copies = tmp_names->len;
	r = shift_rotated(rotation, tmp_names->len);
	if (r == 0)
		r = install_copies(rotation, tmp_names);
	if (r < 0)
		goto out;

	if (len > 0) {
		if (fallocate(rotation->fd, FALLOC_FL_COLLAPSE_RANGE, 0, (off_t)end) == 0)
			result.collapsed = TRUE;
		else if (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS)
			result.collapse_unsupported = TRUE;
		else
			r = -errno;
	}
	if (r == 0 && !result.collapsed) {
		r = catch_up_and_truncate(rotation, read_fd, out_fd, end);
		if (r == 0 && out_fd >= 0)
			r = split_newest(rotation, out_fd, result.n_copies, chunk, &result.dropped);
	}

out:
	remove_temps(rotation, tmp_names);
	if (out_fd >= 0)
		close(out_fd);
	if (read_fd >= 0)
		close(read_fd);
	if (r < 0)
		return r;
	*ret_result = result;
	return 1;
}
