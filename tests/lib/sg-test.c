/* SPDX-License-Identifier: MIT */
/* Helpers every test binary shares. */
#include "config.h"

#include "lib/sg-test.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void
sg_test_remove_tree(const char *path)
{
	g_autoptr(GDir) dir = NULL;
	const char *name;
	struct stat st;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		g_unlink(path);
		return;
	}
	/* Tests of permissions leave directories we could not otherwise empty. */
	g_chmod(path, 0700);
	dir = g_dir_open(path, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);
		sg_test_remove_tree(child);
	}
	g_rmdir(path);
}

const char *
sg_test_helper_path(void)
{
	static char *path;

	if (path == NULL) {
		const char *env = g_getenv("SG_TEST_HELPER_CHILD");

		path = env != NULL ? g_strdup(env)
		                   : g_test_build_filename(G_TEST_BUILT, "helper-child", NULL);
	}
	return path;
}

/* A fixed array: the abort handler must not allocate. */
static pid_t tracked_pids[1024];

void
sg_test_track_pid(pid_t pid)
{
	for (guint i = 0; i < G_N_ELEMENTS(tracked_pids); i++) {
		if (tracked_pids[i] == 0) {
			tracked_pids[i] = pid;
			return;
		}
	}
	g_assert_not_reached();
}

void
sg_test_untrack_pid(pid_t pid)
{
	for (guint i = 0; i < G_N_ELEMENTS(tracked_pids); i++)
		if (tracked_pids[i] == pid)
			tracked_pids[i] = 0;
}

void
sg_test_kill_tracked(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(tracked_pids); i++) {
		/* Still our unreaped child, so the pid cannot have been reused. */
		if (tracked_pids[i] > 0) {
			kill(tracked_pids[i], SIGKILL);
			waitpid(tracked_pids[i], NULL, 0);
			tracked_pids[i] = 0;
		}
	}
}

void
sg_test_forget_tracked(void)
{
	memset(tracked_pids, 0, sizeof tracked_pids);
}

static gboolean kill_all_children;

/* The parent PID in a /proc/PID/stat line (after the last ')'), or -1. */
static pid_t
stat_ppid(const char *line)
{
	const char *p = strrchr(line, ')');

	if (p == NULL || p[1] != ' ' || p[2] == '\0' || p[3] != ' ')
		return -1;
	return (pid_t)strtol(p + 4, NULL, 10);
}

/*
 * SIGKILLs every child of this process, with raw system calls only (it runs from a signal
 * handler); a few passes catch what the killed ones leave to a subreaper.
 */
static void
kill_children(void)
{
	static char entries[8192];
	static char line[512];
	pid_t self = getpid();

	for (int pass = 0; pass < 3; pass++) {
		int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		long n;

		if (dir < 0)
			return;
		while ((n = syscall(SYS_getdents64, dir, entries, sizeof(entries))) > 0) {
			for (long off = 0; off < n;) {
				struct {
					guint64 ino;
					gint64 off;
					unsigned short reclen;
					unsigned char type;
					char name[];
				} *entry = (void *)(entries + off);
				char path[64];
				pid_t pid = (pid_t)strtol(entry->name, NULL, 10);
				ssize_t got;
				int fd;

				off += entry->reclen;
				if (pid <= 0 || pid == self)
					continue;
				g_snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
				fd = open(path, O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					continue;
				got = read(fd, line, sizeof(line) - 1);
				close(fd);
				if (got <= 0)
					continue;
				line[got] = '\0';
				if (stat_ppid(line) == self)
					kill(pid, SIGKILL);
			}
		}
		close(dir);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
}

static void
abort_cleanup_cb(int sig)
{
	for (guint i = 0; i < G_N_ELEMENTS(tracked_pids); i++)
		if (tracked_pids[i] > 0)
			kill(tracked_pids[i], SIGKILL);
	if (kill_all_children)
		kill_children();
	signal(sig, SIG_DFL);
	raise(sig);
}

void
sg_test_install_abort_cleanup_children(void)
{
	kill_all_children = TRUE;
	sg_test_install_abort_cleanup();
}

void
sg_test_install_abort_cleanup(void)
{
	struct sigaction action = { .sa_handler = abort_cleanup_cb };

	sigemptyset(&action.sa_mask);
	sigaction(SIGABRT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGINT, &action, NULL);
}

char *
sg_test_read_file(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

guint
sg_test_count_lines(const char *dir, const char *name)
{
	g_autofree char *text = sg_test_read_file(dir, name);
	guint lines = 0;

	for (const char *p = text; *p != '\0'; p++)
		lines += *p == '\n';
	return lines;
}

GFileMonitor *
sg_test_monitor_dir(const char *dir)
{
	g_autoptr(GFile) file = g_file_new_for_path(dir);
	g_autoptr(GError) error = NULL;
	GFileMonitor *monitor = g_file_monitor_directory(file, G_FILE_MONITOR_NONE, NULL, &error);

	g_assert_no_error(error);
	g_file_monitor_set_rate_limit(monitor, 0);
	return monitor;
}

gboolean
sg_test_deadline_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}
