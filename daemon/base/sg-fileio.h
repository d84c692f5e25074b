/* SPDX-License-Identifier: MIT */
/* File access that cannot be misled: bounded reads, EINTR loops, no symlinks, no FIFOs. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Writes all of data, going on after EINTR and short writes; 0 or a negative errno. */
int sg_fileio_write_all(int fd, const void *data, gsize length);

/*
 * Reads fd to its end into ret_data (NUL-terminated, the NUL not counted); -EFBIG as soon
 * as more than max bytes come, whatever the file's size said. 0 or a negative errno.
 */
int sg_fileio_read_all(int fd, gsize max, GByteArray **ret_data);

/*
 * Reads into buf until size bytes came or the file ended, going on after EINTR and short
 * reads. Returns the count (below size only at the end), or a negative errno.
 */
gssize sg_fileio_read_up_to(int fd, void *buf, gsize size);

/* What kind of file a mode is, for messages: "a FIFO", "a directory", "a symbolic link"... */
const char *sg_fileio_type_name(mode_t mode);

/*
 * Opens a file a user names (the configuration, an env file) for reading. It must be a
 * regular file: it is opened O_NONBLOCK so that a FIFO cannot hang open(), checked with
 * fstat, and O_NONBLOCK is then cleared. Returns the fd, or a negative errno with error
 * set to "DISPLAY: not a regular file (a FIFO)" or "DISPLAY: <strerror>".
 */
int sg_fileio_open_user_file(const char *path, const char *display, GError **error);

/*
 * Opens a directory of the state directory (O_RDONLY | O_DIRECTORY): symlinks in path are
 * followed (the state directory itself may be a link, checked once at start), but the
 * directory must be owned by us. Returns the fd, or a negative errno with error set.
 */
int sg_fileio_open_dir(const char *path, GError **error);

/*
 * Opens name, one path component, in the directory dir_fd (whose path is dir_path, for
 * messages) as a file of the state directory: never through a symbolic link (O_NOFOLLOW),
 * never hanging on a FIFO (O_NONBLOCK, cleared after the checks unless flags has it), and
 * only a regular file owned by us. O_CLOEXEC and O_NOCTTY are added. With O_CREAT a file
 * that exists with another mode than `mode` is set to it (fchmod, on the fd).
 * Returns the fd, or a negative errno (-ENOENT when missing, -ELOOP for a symbolic link,
 * -ENXIO for anything but a regular file, -EPERM for a file of another user) with error
 * (may be NULL) set to a message naming DIR_PATH/NAME.
 */
int sg_fileio_openat(int dir_fd, const char *dir_path, const char *name, int flags, mode_t mode,
                     GError **error);

/* sg_fileio_open_dir() of path's directory, then sg_fileio_openat() of its last component. */
int sg_fileio_open_path(const char *path, int flags, mode_t mode, GError **error);

/*
 * Creates a new file PREFIXxxxxxx (six random characters) in dir_fd, O_RDWR | O_EXCL |
 * O_NOFOLLOW | O_CLOEXEC, mode 0600 whatever the umask. Returns the fd and its name in
 * ret_name, or a negative errno.
 */
int sg_fileio_mkstemp_at(int dir_fd, const char *prefix, char **ret_name);

/*
 * Whether fd is still the file called name in dir_fd (same device and inode, looked up
 * without following a symlink): 1 yes, 0 gone or replaced, or a negative errno.
 */
int sg_fileio_is_at(int fd, int dir_fd, const char *name);
