/* SPDX-License-Identifier: MIT */
/* sysg purge: stops everything, then deletes the state directory, only when it is ours. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sg-cli.h"
#include "base/sg-paths.h"
#include "state/sg-state.h"

#define EXIT_USAGE 2
/* Deeper than anything systemg creates (it creates two levels). */
#define MAX_DEPTH 16

/*
 * Removes everything inside the directory dir_fd, never following a symbolic link (a
 * link is removed, not what it points to). Returns 0 or a negative errno; *ret_path names
 * what could not be removed.
 */
static int
remove_contents(int dir_fd, const char *path, guint depth, char **ret_path)
{
	DIR *dir;
	struct dirent *entry;
	int r = 0;
	int fd = dup(dir_fd);

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (dir == NULL) {
		r = -errno;
		close(fd);
		return r;
	}
	while (r == 0 && (errno = 0, entry = readdir(dir)) != NULL) {
		g_autofree char *child = NULL;
		struct stat st;

		if (g_str_equal(entry->d_name, ".") || g_str_equal(entry->d_name, ".."))
			continue;
		child = g_build_filename(path, entry->d_name, NULL);
		if (fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dir_fd, entry->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0)
				r = -errno;
			else if (depth >= MAX_DEPTH)
				r = -ELOOP;
			else
				r = remove_contents(sub, child, depth + 1, ret_path);
			if (sub >= 0)
				close(sub);
			if (r == 0 && unlinkat(dir_fd, entry->d_name, AT_REMOVEDIR) < 0)
				r = -errno;
		} else if (unlinkat(dir_fd, entry->d_name, 0) < 0) {
			r = -errno;
		}
		if (r < 0 && *ret_path == NULL)
			*ret_path = g_steal_pointer(&child);
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(dir);
	return r;
}

/* A systemg state directory has at least one of the files it creates. */
static gboolean
looks_like_state_dir(int dir_fd)
{
	const char *markers[] = { SG_STATE_STATE_JSON, SG_STATE_PID_FILE, SG_STATE_PID_JSON,
		                  SG_STATE_LOG_DIR };
	struct stat st;

	for (guint i = 0; i < G_N_ELEMENTS(markers); i++)
		if (fstatat(dir_fd, markers[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (i != 3 || S_ISDIR(st.st_mode)))
			return TRUE;
	return FALSE;
}

int
sg_cmd_purge(int argc, char **argv, SgCliGlobals *globals)
{
	g_autofree char *state_dir = sg_paths_state_dir();
	g_autofree char *failed_path = NULL;
	struct stat st;
	int dir_fd, r, status;

	if (!sg_cli_parse("purge", NULL,
	                  _("Stop the supervisor and every service, then delete the state "
	                    "directory."),
	                  NULL, &argc, &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg purge --help'."));
		return EXIT_USAGE;
	}
	if (lstat(state_dir, &st) < 0) {
		if (errno == ENOENT) {
			printf(_("nothing to purge: %s does not exist\n"), state_dir);
			return 0;
		}
		sg_cli_error(_("cannot examine %s: %s"), state_dir, g_strerror(errno));
		return 1;
	}
	if (S_ISLNK(st.st_mode)) {
		sg_cli_error(
		        _("refusing to purge %s: it is a symbolic link, not a state directory"),
		        state_dir);
		return 1;
	}
	if (!sg_cli_check_state_dir(state_dir))
		return 1;
	dir_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0) {
		sg_cli_error(_("cannot open %s: %s"), state_dir, g_strerror(errno));
		return 1;
	}
	if (fstat(dir_fd, &st) < 0 || st.st_uid != geteuid()) {
		sg_cli_error(_("refusing to purge %s: it belongs to another user"), state_dir);
		close(dir_fd);
		return 1;
	}
	if (!looks_like_state_dir(dir_fd)) {
		sg_cli_error(_("refusing to purge %s: it does not look like a systemg state "
		               "directory (no state.json, sysg.pid, pid.json or logs/)"),
		             state_dir);
		close(dir_fd);
		return 1;
	}

	status = sg_cli_stop_everything(state_dir, sg_cli_transport(globals));
	if (status != 0 || sg_pid_file_query(state_dir, NULL)) {
		sg_cli_error(_("not purging %s: the supervisor or its services could not be "
		               "stopped"),
		             state_dir);
		close(dir_fd);
		return status != 0 ? status : 1;
	}
	r = remove_contents(dir_fd, state_dir, 0, &failed_path);
	close(dir_fd);
	if (r == 0 && rmdir(state_dir) < 0)
		r = -errno;
	if (r < 0) {
		sg_cli_error(_("cannot remove %s: %s"),
		             failed_path != NULL ? failed_path : state_dir, g_strerror(-r));
		return 1;
	}
	printf(_("removed the state directory %s\n"), state_dir);
	return 0;
}
