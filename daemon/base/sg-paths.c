/* SPDX-License-Identifier: MIT */
/* The state directory: its location from the environment, its creation and ownership checks. */
#include "config.h"

#define G_LOG_DOMAIN "sg-paths"

#include "base/sg-paths.h"

#include "base/sg-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
sg_paths_state_dir(void)
{
	const char *value;

	value = g_getenv("SYSTEMG_STATE_DIR");
	if (value != NULL && value[0] != '\0') {
		g_autofree char *cwd = NULL;

		if (g_path_is_absolute(value))
			return g_strdup(value);
		/* The daemon may change directory later: pin a relative value now. */
		cwd = g_get_current_dir();
		return g_build_filename(cwd, value, NULL);
	}

	/* The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored. */
	value = g_getenv("XDG_DATA_HOME");
	if (value != NULL && g_path_is_absolute(value))
		return g_build_filename(value, "systemg", NULL);

	return g_build_filename(g_get_home_dir(), ".local", "share", "systemg", NULL);
}

char *
sg_paths_state_file(const char *dir, const char *name)
{
	g_return_val_if_fail(dir != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);

	return g_build_filename(dir, name, NULL);
}

/*
 * The checks sysgd and sysg make on a directory of the state directory, open as fd: ours
 * (whoever we are, root included), not a shared sticky directory, and mode 0700, which a
 * looser mode is tightened to (the change appended to warnings unless we just created it).
 */
static gboolean
check_private_dir(int fd, const char *display, gboolean created, GString *warnings, GError **error)
{
	struct stat st;
	mode_t mode;

	if (fstat(fd, &st) < 0) {
		int saved_errno = errno;
		g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
		            _("could not examine state directory %s: %s"), display,
		            g_strerror(saved_errno));
		return FALSE;
	}
	if (st.st_uid != geteuid()) {
		g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
		            _("refusing state directory %s: it is owned by uid %u, and we run as "
		              "uid %u"),
		            display, (unsigned)st.st_uid, (unsigned)geteuid());
		return FALSE;
	}
	mode = st.st_mode & 07777;
	if (mode == 0700)
		return TRUE;
	/* A sticky directory is shared by design (/tmp): never make it private. */
	if (!created && (mode & S_ISVTX) != 0) {
		g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
		            _("refusing state directory %s: it is a shared directory (mode %04o)"),
		            display, (unsigned)mode);
		return FALSE;
	}
	if (fchmod(fd, 0700) < 0) {
		int saved_errno = errno;
		g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
		            _("could not set permissions of state directory %s to 0700: %s"),
		            display, g_strerror(saved_errno));
		return FALSE;
	}
	/* A directory we just made only differs by the umask: nothing to report. */
	if (!created) {
		if (warnings->len > 0)
			g_string_append(warnings, "; ");
		g_string_append_printf(warnings, _("tightened permissions of %s from %04o to 0700"),
		                       display, (unsigned)mode);
	}
	return TRUE;
}

/*
 * Opens at_fd/path as a directory. The state directory may be a link (follow TRUE): every
 * check is on the directory actually used. What it holds may not: logs/ as a link would
 * send output elsewhere.
 */
static int
open_dir(int at_fd, const char *path, const char *display, gboolean follow, GError **error)
{
	int fd =
	        openat(at_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));

	if (fd < 0) {
		int saved_errno = errno;
		struct stat st;

		if (!follow && fstatat(at_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
			            _("refusing %s: it is a symbolic link"), display);
		else if (saved_errno == ENOTDIR)
			g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
			            _("state directory %s exists and is not a directory"), display);
		else
			g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
			            _("could not open state directory %s: %s"), display,
			            g_strerror(saved_errno));
	}
	return fd;
}

/*
 * Makes at_fd/path a directory of ours with mode 0700, creating it if missing. Returns an
 * open fd on it, or a negative value with error set. Changes of mode on a directory that
 * already existed are appended to warnings. With follow FALSE a symbolic link at path is
 * refused.
 */
static int
ensure_private_dir(int at_fd, const char *path, const char *display, gboolean follow,
                   GString *warnings, GError **error)
{
	gboolean created;
	int fd;

	created = mkdirat(at_fd, path, 0700) == 0;
	if (!created && errno != EEXIST) {
		int saved_errno = errno;
		g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
		            _("could not create state directory %s: %s"), display,
		            g_strerror(saved_errno));
		return -1;
	}
	fd = open_dir(at_fd, path, display, follow, error);
	if (fd < 0)
		return -1;
	if (!check_private_dir(fd, display, created, warnings, error)) {
		close(fd);
		return -1;
	}
	return fd;
}

gboolean
sg_paths_check_state_dir(const char *dir, char **ret_warning, GError **error)
{
	g_autoptr(GString) warnings = g_string_new(NULL);
	g_autofree char *logs_display = NULL;
	struct stat st;
	int dir_fd, logs_fd;
	gboolean ok;

	g_return_val_if_fail(dir != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (ret_warning != NULL)
		*ret_warning = NULL;
	/* Nothing there yet: nothing of anyone's to act on. */
	if (stat(dir, &st) < 0 && errno == ENOENT)
		return TRUE;
	dir_fd = open_dir(AT_FDCWD, dir, dir, TRUE, error);
	if (dir_fd < 0)
		return FALSE;
	ok = check_private_dir(dir_fd, dir, FALSE, warnings, error);
	logs_display = g_build_filename(dir, SG_STATE_LOG_DIR, NULL);
	if (ok && fstatat(dir_fd, SG_STATE_LOG_DIR, &st, 0) == 0 && S_ISDIR(st.st_mode)) {
		logs_fd = open_dir(dir_fd, SG_STATE_LOG_DIR, logs_display, FALSE, error);
		ok = logs_fd >= 0 &&
		     check_private_dir(logs_fd, logs_display, FALSE, warnings, error);
		if (logs_fd >= 0)
			close(logs_fd);
	}
	close(dir_fd);
	if (ok && ret_warning != NULL && warnings->len > 0)
		*ret_warning = g_strdup(warnings->str);
	return ok;
}

gboolean
sg_paths_ensure_state_dir(const char *dir, char **ret_warning, GError **error)
{
	g_autoptr(GString) warnings = g_string_new(NULL);
	g_autofree char *path = NULL;
	g_autofree char *parent = NULL;
	g_autofree char *logs_display = NULL;
	gsize len;
	int dir_fd;
	int logs_fd;

	g_return_val_if_fail(dir != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (dir[0] == '\0') {
		g_set_error_literal(error, SG_ERROR, SG_ERROR_STATE_DIR,
		                    _("the state directory path is empty"));
		return FALSE;
	}

	/* "a/b/" would make "a/b" a parent created with the default mode. */
	path = g_strdup(dir);
	len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';

	parent = g_path_get_dirname(path);
	if (g_mkdir_with_parents(parent, 0777) < 0) {
		int saved_errno = errno;
		g_set_error(error, SG_ERROR, SG_ERROR_STATE_DIR,
		            _("could not create %s, parent of the state directory: %s"), parent,
		            g_strerror(saved_errno));
		return FALSE;
	}

	dir_fd = ensure_private_dir(AT_FDCWD, path, path, TRUE, warnings, error);
	if (dir_fd < 0)
		return FALSE;

	logs_display = g_build_filename(path, SG_STATE_LOG_DIR, NULL);
	logs_fd =
	        ensure_private_dir(dir_fd, SG_STATE_LOG_DIR, logs_display, FALSE, warnings, error);
	close(dir_fd);
	if (logs_fd < 0)
		return FALSE;
	close(logs_fd);

	if (warnings->len > 0)
		g_debug("%s", warnings->str);
	if (ret_warning != NULL)
		*ret_warning = warnings->len > 0 ? g_strdup(warnings->str) : NULL;
	return TRUE;
}
