/* SPDX-License-Identifier: MIT */
/* Helpers every test binary shares. */
#include "config.h"

#include "sg-test.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/wait.h>

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

static void
abort_cleanup_cb(int sig)
{
	for (guint i = 0; i < G_N_ELEMENTS(tracked_pids); i++)
		if (tracked_pids[i] > 0)
			kill(tracked_pids[i], SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
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
