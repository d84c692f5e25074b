/* SPDX-License-Identifier: MIT */
/* File access that cannot be misled: bounded reads, EINTR loops, no symlinks, no FIFOs. */
#include "config.h"

#define G_LOG_DOMAIN "sg-fileio"

#include "base/sg-fileio.h"

#include "base/sg-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MKSTEMP_TRIES 100

int
sg_fileio_write_all(int fd, const void *data, gsize length)
{
	const char *p = data;

	while (length > 0) {
		ssize_t n = write(fd, p, MIN(length, (gsize)G_MAXSSIZE));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		length -= (gsize)n;
	}
	return 0;
}

int
sg_fileio_read_all(int fd, gsize max, GByteArray **ret_data)
{
	g_autoptr(GByteArray) data = g_byte_array_new();
	guint8 buffer[65536];

	for (;;) {
		gsize room = max - MIN(max, (gsize)data->len);
		/* One byte past max is enough to know the file is too big. */
		ssize_t n = read(fd, buffer, room >= sizeof(buffer) ? sizeof(buffer) : room + 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if (data->len + (gsize)n > max)
			return -EFBIG;
		g_byte_array_append(data, buffer, (guint)n);
	}
	g_byte_array_append(data, (const guint8 *)"", 1);
	g_byte_array_set_size(data, data->len - 1);
	*ret_data = g_steal_pointer(&data);
	return 0;
}

gssize
sg_fileio_read_up_to(int fd, void *buf, gsize size)
{
	gsize done = 0;

	size = MIN(size, (gsize)G_MAXSSIZE);
	while (done < size) {
		ssize_t n = read(fd, (char *)buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (gsize)n;
	}
	return (gssize)done;
}

const char *
sg_fileio_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return _("a regular file");
	case S_IFDIR:
		return _("a directory");
	case S_IFLNK:
		return _("a symbolic link");
	case S_IFIFO:
		return _("a FIFO");
	case S_IFSOCK:
		return _("a socket");
	case S_IFCHR:
		return _("a character device");
	case S_IFBLK:
		return _("a block device");
	default:
		return _("a file of unknown type");
	}
}

static void
clear_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK) != 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

int
sg_fileio_open_user_file(const char *path, const char *display, GError **error)
{
	struct stat st;
	int fd, r;

	g_return_val_if_fail(path != NULL, -EINVAL);
	if (display == NULL)
		display = path;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG, "%s: %s", display,
		            g_strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG, "%s: %s", display,
		            g_strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG,
		            _("%s: not a regular file (%s)"), display,
		            sg_fileio_type_name(st.st_mode));
		return -ENXIO;
	}
	clear_nonblock(fd);
	return fd;
}

static int
refuse_owner(GError **error, const char *what, uid_t owner)
{
	g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
	            _("refusing %s: it is owned by uid %u, and we run as uid %u"), what,
	            (unsigned)owner, (unsigned)geteuid());
	return -EPERM;
}

int
sg_fileio_open_dir(const char *path, GError **error)
{
	struct stat st;
	int fd, r;

	g_return_val_if_fail(path != NULL, -EINVAL);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOTDIR)
			g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
			            _("refusing %s: not a directory"), path);
		else
			sg_error_set_errno(error, r, _("cannot open %s"), path);
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		sg_error_set_errno(error, r, _("cannot examine %s"), path);
		return r;
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return refuse_owner(error, path, st.st_uid);
	}
	return fd;
}

/* Sets error for a file that is not what a state file must be; returns the errno to give. */
static int
refuse_type(GError **error, const char *what, mode_t mode)
{
	if (S_ISLNK(mode)) {
		g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
		            _("refusing %s: it is a symbolic link"), what);
		return -ELOOP;
	}
	g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR, _("refusing %s: not a regular file (%s)"),
	            what, sg_fileio_type_name(mode));
	return -ENXIO;
}

int
sg_fileio_openat(int dir_fd, const char *dir_path, const char *name, int flags, mode_t mode,
                 GError **error)
{
	g_autofree char *what = NULL;
	struct stat st;
	int fd, r;

	g_return_val_if_fail(name != NULL && name[0] != '\0' && strchr(name, '/') == NULL, -EINVAL);
	what = g_build_filename(dir_path != NULL ? dir_path : ".", name, NULL);
	fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
	if (fd < 0) {
		r = -errno;
		/* A link (ELOOP), a FIFO with no reader or a socket (ENXIO), a directory
		 * opened for writing (EISDIR): say what is there instead. */
		if ((r == -ELOOP || r == -ENXIO || r == -EISDIR || r == -EOPNOTSUPP) &&
		    fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
			return refuse_type(error, what, st.st_mode);
		sg_error_set_errno(error, r, _("cannot open %s"), what);
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		sg_error_set_errno(error, r, _("cannot examine %s"), what);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return refuse_type(error, what, st.st_mode);
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return refuse_owner(error, what, st.st_uid);
	}
	if ((flags & O_NONBLOCK) == 0)
		clear_nonblock(fd);
	if ((flags & O_CREAT) != 0 && (st.st_mode & 07777) != mode && fchmod(fd, mode) < 0) {
		r = -errno;
		close(fd);
		sg_error_set_errno(error, r, _("cannot set the permissions of %s"), what);
		return r;
	}
	return fd;
}

int
sg_fileio_open_path(const char *path, int flags, mode_t mode, GError **error)
{
	g_autofree char *dir = NULL;
	g_autofree char *base = NULL;
	int dir_fd, fd;

	g_return_val_if_fail(path != NULL, -EINVAL);
	dir = g_path_get_dirname(path);
	base = g_path_get_basename(path);
	dir_fd = sg_fileio_open_dir(dir, error);
	if (dir_fd < 0)
		return dir_fd;
	fd = sg_fileio_openat(dir_fd, dir, base, flags, mode, error);
	close(dir_fd);
	return fd;
}

int
sg_fileio_mkstemp_at(int dir_fd, const char *prefix, char **ret_name)
{
	static const char chars[] =
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	g_return_val_if_fail(prefix != NULL && strchr(prefix, '/') == NULL, -EINVAL);
	for (int i = 0; i < MKSTEMP_TRIES; i++) {
		g_autoptr(GString) name = g_string_new(prefix);
		int fd;

		for (int j = 0; j < 6; j++)
			g_string_append_c(name, chars[g_random_int_range(0, sizeof(chars) - 1)]);
		fd = openat(dir_fd, name->str,
		            O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -errno;
		/* The umask may have taken bits away: a file of the state directory is 0600. */
		if (fchmod(fd, 0600) < 0) {
			int r = -errno;
			(void)unlinkat(dir_fd, name->str, 0);
			close(fd);
			return r;
		}
		*ret_name = g_string_free(g_steal_pointer(&name), FALSE);
		return fd;
	}
	return -EEXIST;
}

int
sg_fileio_is_at(int fd, int dir_fd, const char *name)
{
	struct stat fd_st, path_st;

	if (fstat(fd, &fd_st) < 0)
		return -errno;
	if (fstatat(dir_fd, name, &path_st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fd_st.st_dev == path_st.st_dev && fd_st.st_ino == path_st.st_ino;
}
