/* SPDX-License-Identifier: MIT */
/* Tests of sg-reaper with real processes: statuses, orphans, bursts, re-entrancy, pidfds. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process/sg-reaper.h"
#include "process/sg-spawn.h"
#include "lib/sg-test.h"

#define DEADLINE_SECONDS 10

typedef struct _Fixture Fixture;

/* A process a test started or learnt about: killed and reaped at teardown unless reported. */
typedef struct {
	Fixture *f;
	pid_t pid;
	gboolean reported;
	int status;
	guint n_reports;
} Child;

struct _Fixture {
	SgReaper *reaper;
	GPtrArray *children; /* Child*, every process to clean up */
	GHashTable *orphans; /* pid -> wait status given to the orphan func */
	guint n_orphan_reports;
	guint n_reports; /* every report to a Child watch */
	char *dir;
	/* the re-entrancy test */
	Child *chained;
	Child *unwatched;
	Child *second;
	guint generation;
};

typedef struct {
	gboolean timed_out;
	guint id;
} Deadline;

static gboolean
deadline_cb(gpointer user_data)
{
	Deadline *deadline = user_data;

	deadline->timed_out = TRUE;
	deadline->id = 0;
	return G_SOURCE_REMOVE;
}

static void
deadline_start(Deadline *deadline)
{
	deadline->timed_out = FALSE;
	deadline->id = g_timeout_add_seconds(DEADLINE_SECONDS, deadline_cb, deadline);
}

static void
deadline_stop(Deadline *deadline)
{
	g_clear_handle_id(&deadline->id, g_source_remove);
}

/* Runs the main loop until cond holds, failing the test when the deadline passes first. */
#define WAIT_UNTIL(cond)                                                                           \
	G_STMT_START                                                                               \
	{                                                                                          \
		Deadline deadline_;                                                                \
		deadline_start(&deadline_);                                                        \
		while (!(cond) && !deadline_.timed_out)                                            \
			g_main_context_iteration(NULL, TRUE);                                      \
		deadline_stop(&deadline_);                                                         \
		g_assert_true(cond);                                                               \
	}                                                                                          \
	G_STMT_END

static void
orphan_cb(pid_t pid, int status, gpointer user_data)
{
	Fixture *f = user_data;

	g_assert_false(g_hash_table_contains(f->orphans, GINT_TO_POINTER(pid)));
	f->n_orphan_reports++;
	sg_test_untrack_pid(pid);
	g_hash_table_insert(f->orphans, GINT_TO_POINTER(pid), GINT_TO_POINTER(status));
}

static gboolean
orphan_reported(Fixture *f, pid_t pid)
{
	return g_hash_table_contains(f->orphans, GINT_TO_POINTER(pid));
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->reaper = sg_reaper_new(&error);
	g_assert_no_error(error);
	g_assert_nonnull(f->reaper);
	f->children = g_ptr_array_new_with_free_func(g_free);
	f->orphans = g_hash_table_new(NULL, NULL);
	sg_reaper_set_orphan_func(f->reaper, orphan_cb, f);
	f->dir = g_dir_make_tmp("sg-reaper-XXXXXX", &error);
	g_assert_no_error(error);
}

/* Kills what is left, reaps our own children and waits for the others through a pidfd. */
static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	const struct timespec no_wait = { 0 };
	sigset_t sigchld;

	sg_reaper_free(f->reaper);
	for (guint i = 0; i < f->children->len; i++) {
		Child *child = f->children->pdata[i];
		int fd;

		if (child->reported || orphan_reported(f, child->pid))
			continue;
		fd = (int)syscall(SYS_pidfd_open, child->pid, 0);
		if (fd < 0)
			continue;
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		if (waitpid(child->pid, NULL, 0) < 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			poll(&pfd, 1, DEADLINE_SECONDS * 1000);
		}
		close(fd);
	}
	/* Orphans that re-parented to us meanwhile. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	/* SIGCHLDs nobody read (the reaper may be gone): the next test starts with none. */
	sigemptyset(&sigchld);
	sigaddset(&sigchld, SIGCHLD);
	while (sigtimedwait(&sigchld, NULL, &no_wait) == SIGCHLD)
		;
	sg_test_forget_tracked();
	g_ptr_array_unref(f->children);
	g_hash_table_unref(f->orphans);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
}

static Child *
track(Fixture *f, pid_t pid)
{
	Child *child = g_new0(Child, 1);

	child->f = f;
	child->pid = pid;
	g_ptr_array_add(f->children, child);
	sg_test_track_pid(pid);
	return child;
}

static void
child_cb(pid_t pid, int status, gpointer user_data)
{
	Child *child = user_data;

	g_assert_cmpint(pid, ==, child->pid);
	sg_test_untrack_pid(pid);
	child->reported = TRUE;
	child->status = status;
	child->n_reports++;
	child->f->n_reports++;
}

/* Starts helper-child with these actions (NULL-terminated), stdout to stdout_fd or /dev/null. */
static Child *
start_helperv(Fixture *f, int stdout_fd, const char *first_action, va_list args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) envp = g_get_environ();
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	SgSpawnResult result = { 0 };

	g_ptr_array_add(argv, (gpointer)sg_test_helper_path());
	for (const char *action = first_action; action != NULL; action = va_arg(args, const char *))
		g_ptr_array_add(argv, (gpointer)action);
	g_ptr_array_add(argv, NULL);

	options.argv = (char **)argv->pdata;
	options.envp = envp;
	options.stdout_fd = stdout_fd;
	g_assert_true(sg_spawn(&options, &result, &error));
	g_assert_no_error(error);
	close(result.status_fd);
	return track(f, result.pid);
}

static Child *G_GNUC_NULL_TERMINATED
start_helper(Fixture *f, const char *first_action, ...)
{
	va_list args;
	Child *child;

	va_start(args, first_action);
	child = start_helperv(f, -1, first_action, args);
	va_end(args);
	return child;
}

static Child *G_GNUC_NULL_TERMINATED
start_helper_to(Fixture *f, int stdout_fd, const char *first_action, ...)
{
	va_list args;
	Child *child;

	va_start(args, first_action);
	child = start_helperv(f, stdout_fd, first_action, args);
	va_end(args);
	return child;
}

static Child *G_GNUC_NULL_TERMINATED
start_watched(Fixture *f, const char *first_action, ...)
{
	va_list args;
	Child *child;

	va_start(args, first_action);
	child = start_helperv(f, -1, first_action, args);
	va_end(args);
	sg_reaper_watch(f->reaper, child->pid, child_cb, child);
	return child;
}

/* One line from fd, waiting for it no longer than the deadline. */
static char *
read_line(int fd)
{
	GString *line = g_string_new(NULL);
	gint64 deadline = g_get_monotonic_time() + DEADLINE_SECONDS * G_USEC_PER_SEC;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		char c;

		if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) <= 0)
			break;
		if (read(fd, &c, 1) != 1 || c == '\n')
			break;
		g_string_append_c(line, c);
	}
	return g_string_free(line, FALSE);
}

static GArray *
read_pids(const char *path)
{
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));

	g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	lines = g_strsplit(contents, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (*lines[i] != '\0') {
			pid_t pid = (pid_t)g_ascii_strtoll(lines[i], NULL, 10);

			g_array_append_val(pids, pid);
		}
	}
	return pids;
}

/*
 * Asserts that nothing is due, now or later: one full main-context cycle without blocking
 * finds no ready fd and no timer. A SIGCHLD that lands between the drain and the last
 * waitpid() of a burst leaves one spurious wake-up, and GLib wakes itself when fds are
 * added: those settle in a few non-blocking iterations that report nothing.
 */
static void
assert_idle(Fixture *f)
{
	GMainContext *context = g_main_context_default();
	guint n_reports = f->n_reports;
	guint n_orphan_reports = f->n_orphan_reports;
	GPollFD fds[64];
	gint priority = 0;
	gint timeout = 0;
	gint n_fds;
	guint settled = 0;

	while (settled < 3 && g_main_context_iteration(NULL, FALSE))
		settled++;
	g_assert_cmpuint(settled, <, 3);
	g_assert_cmpuint(f->n_reports, ==, n_reports);
	g_assert_cmpuint(f->n_orphan_reports, ==, n_orphan_reports);

	g_assert_true(g_main_context_acquire(context));
	g_assert_false(g_main_context_prepare(context, &priority));
	n_fds = g_main_context_query(context, priority, &timeout, fds, G_N_ELEMENTS(fds));
	g_assert_cmpint(n_fds, <=, (gint)G_N_ELEMENTS(fds));
	/* No timer of any kind: an idle reaper sleeps until a child dies. */
	g_assert_cmpint(timeout, ==, -1);
	g_assert_cmpint(g_poll(fds, (guint)n_fds, 0), ==, 0);
	g_assert_false(g_main_context_check(context, priority, fds, n_fds));
	g_main_context_dispatch(context);
	g_main_context_release(context);
}

static void
test_exit_status(Fixture *f, gconstpointer data)
{
	Child *child = start_watched(f, "exit:3", NULL);

	WAIT_UNTIL(child->reported);
	g_assert_true(WIFEXITED(child->status));
	g_assert_cmpint(WEXITSTATUS(child->status), ==, 3);
	g_assert_cmpuint(child->n_reports, ==, 1);
	g_assert_cmpuint(f->n_orphan_reports, ==, 0);
}

static void
test_signal_status(Fixture *f, gconstpointer data)
{
	Child *raised = start_watched(f, "signal:15", NULL);
	Child *paused = start_watched(f, "pause", NULL);

	WAIT_UNTIL(raised->reported);
	g_assert_true(WIFSIGNALED(raised->status));
	g_assert_cmpint(WTERMSIG(raised->status), ==, SIGTERM);

	g_assert_false(paused->reported);
	g_assert_cmpint(kill(paused->pid, SIGKILL), ==, 0);
	WAIT_UNTIL(paused->reported);
	g_assert_true(WIFSIGNALED(paused->status));
	g_assert_cmpint(WTERMSIG(paused->status), ==, SIGKILL);
	g_assert_cmpuint(f->n_orphan_reports, ==, 0);
}

static void
test_orphan(Fixture *f, gconstpointer data)
{
	g_autofree char *pids_path = g_build_filename(f->dir, "pids", NULL);
	g_autofree char *pids_action = g_strconcat("pids:", pids_path, NULL);
	g_autoptr(GArray) pids = NULL;
	Child *helper;
	Child *orphan;
	int subreaper = 0;
	int status;

	g_assert_cmpint(prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0), ==, 0);
	g_assert_cmpint(subreaper, ==, 1);

	/* The grandchild's parent exits at once: it re-parents to us, the subreaper, and the
	 * helper has reaped that parent before it exits itself. */
	helper = start_watched(f, pids_action, "grandchild:200", NULL);
	WAIT_UNTIL(helper->reported);
	g_assert_true(WIFEXITED(helper->status));
	g_assert_cmpint(WEXITSTATUS(helper->status), ==, 0);
	pids = read_pids(pids_path);
	g_assert_cmpuint(pids->len, ==, 1);
	orphan = track(f, g_array_index(pids, pid_t, 0));

	WAIT_UNTIL(orphan_reported(f, orphan->pid));
	g_assert_cmpuint(f->n_orphan_reports, ==, 1);
	status = GPOINTER_TO_INT(g_hash_table_lookup(f->orphans, GINT_TO_POINTER(orphan->pid)));
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_cmpuint(f->n_reports, ==, 1);
}

static void
test_many(Fixture *f, gconstpointer data)
{
	static const int signals[] = { SIGTERM, SIGKILL, SIGINT,  SIGHUP,
		                       SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE };
	Child *children[200];
	const guint n = G_N_ELEMENTS(children);

	for (guint i = 0; i < n; i++)
		children[i] = start_watched(f, "pause", NULL);
	/* Back to back: the SIGCHLDs coalesce, and each wake-up must reap all that died. */
	for (guint i = 0; i < n; i++)
		g_assert_cmpint(kill(children[i]->pid, signals[i % G_N_ELEMENTS(signals)]), ==, 0);
	WAIT_UNTIL(f->n_reports >= n);

	for (guint i = 0; i < n; i++) {
		g_assert_cmpuint(children[i]->n_reports, ==, 1);
		g_assert_true(WIFSIGNALED(children[i]->status));
		g_assert_cmpint(WTERMSIG(children[i]->status), ==,
		                signals[i % G_N_ELEMENTS(signals)]);
	}
	g_assert_cmpuint(f->n_reports, ==, n);
	g_assert_cmpuint(f->n_orphan_reports, ==, 0);
	assert_idle(f);
}

static void
test_many_exits(Fixture *f, gconstpointer data)
{
	Child *children[100];
	const guint n = G_N_ELEMENTS(children);

	/* Children exiting on their own while more are being started. */
	for (guint i = 0; i < n; i++) {
		g_autofree char *action = g_strdup_printf("exit:%u", i);

		children[i] = start_watched(f, action, NULL);
	}
	WAIT_UNTIL(f->n_reports >= n);
	for (guint i = 0; i < n; i++) {
		g_assert_cmpuint(children[i]->n_reports, ==, 1);
		g_assert_true(WIFEXITED(children[i]->status));
		g_assert_cmpint(WEXITSTATUS(children[i]->status), ==, (int)i);
	}
	g_assert_cmpuint(f->n_orphan_reports, ==, 0);
}

static void
chained_cb(pid_t pid, int status, gpointer user_data)
{
	Child *child = user_data;
	Fixture *f = child->f;

	child_cb(pid, status, child);
	/* Watching our own dead pid again, then dropping it, must not disturb the dispatch. */
	sg_reaper_watch(f->reaper, pid, child_cb, child);
	sg_reaper_unwatch(f->reaper, pid);
	if (++f->generation < 5) {
		g_autofree char *action = g_strdup_printf("exit:%u", 10 + f->generation);

		f->chained = start_helper(f, action, NULL);
		sg_reaper_watch(f->reaper, f->chained->pid, chained_cb, f->chained);
	}
}

static void
first_cb(pid_t pid, int status, gpointer user_data)
{
	Child *child = user_data;
	Fixture *f = child->f;

	child_cb(pid, status, child);
	/* A live child loses its watch: its death goes to the orphan func. */
	sg_reaper_unwatch(f->reaper, f->unwatched->pid);
	g_assert_cmpint(kill(f->unwatched->pid, SIGKILL), ==, 0);
	/* The other child of the same burst may be reaped already, or not yet. */
	sg_reaper_unwatch(f->reaper, f->second->pid);
	f->chained = start_helper(f, "exit:10", NULL);
	sg_reaper_watch(f->reaper, f->chained->pid, chained_cb, f->chained);
}

static guint
second_reports(Fixture *f)
{
	return f->second->n_reports + (orphan_reported(f, f->second->pid) ? 1 : 0);
}

static void
test_reentrant(Fixture *f, gconstpointer data)
{
	g_autofree char *go = g_build_filename(f->dir, "go", NULL);
	g_autofree char *wait_action = g_strconcat("wait-file:", go, NULL);
	Child *first;

	first = start_helper(f, wait_action, "exit:1", NULL);
	sg_reaper_watch(f->reaper, first->pid, first_cb, first);
	f->second = start_watched(f, wait_action, "exit:2", NULL);
	f->unwatched = start_watched(f, "pause", NULL);

	/* Both wake on the same inotify event and exit together. */
	g_assert_true(g_file_set_contents(go, "", 0, NULL));
	WAIT_UNTIL(f->generation == 5);
	WAIT_UNTIL(orphan_reported(f, f->unwatched->pid));
	WAIT_UNTIL(second_reports(f) >= 1);

	g_assert_cmpuint(first->n_reports, ==, 1);
	g_assert_true(WIFEXITED(first->status));
	g_assert_cmpint(WEXITSTATUS(first->status), ==, 1);
	g_assert_cmpuint(f->chained->n_reports, ==, 1);
	g_assert_cmpint(WEXITSTATUS(f->chained->status), ==, 14);
	g_assert_cmpuint(f->unwatched->n_reports, ==, 0);
	g_assert_cmpuint(second_reports(f), ==, 1);
	/* first, five generations and maybe the second child */
	g_assert_cmpuint(f->n_reports, ==, 6 + f->second->n_reports);
}

static void
test_pidfd_foreign(Fixture *f, gconstpointer data)
{
	g_autofree char *pids_path = g_build_filename(f->dir, "pids", NULL);
	g_autofree char *pids_action = g_strconcat("pids:", pids_path, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) pids = NULL;
	g_autofree char *ready = NULL;
	Child *parent;
	Child *foreign;
	int out[2];

	/* A child of our child: not ours to reap, so only its pidfd tells when it dies. */
	g_assert_cmpint(pipe2(out, O_CLOEXEC), ==, 0);
	parent = start_helper_to(f, out[1], pids_action, "bg:200", "stdout:ready", "pause", NULL);
	close(out[1]);
	sg_reaper_watch(f->reaper, parent->pid, child_cb, parent);
	ready = read_line(out[0]);
	close(out[0]);
	g_assert_cmpstr(ready, ==, "ready");
	pids = read_pids(pids_path);
	g_assert_cmpuint(pids->len, ==, 1);
	foreign = track(f, g_array_index(pids, pid_t, 0));

	g_assert_true(sg_reaper_watch_pidfd(f->reaper, foreign->pid, child_cb, foreign, &error));
	g_assert_no_error(error);
	WAIT_UNTIL(foreign->reported);
	g_assert_cmpint(foreign->status, ==, -1);
	g_assert_cmpuint(foreign->n_reports, ==, 1);
	g_assert_false(parent->reported);
	g_assert_cmpuint(f->n_orphan_reports, ==, 0);

	g_assert_cmpint(kill(parent->pid, SIGKILL), ==, 0);
	WAIT_UNTIL(parent->reported);
	g_assert_cmpint(WTERMSIG(parent->status), ==, SIGKILL);
	/* The reaped watch is gone: the dead process is not reported again (its zombie comes back
	 * to us, the subreaper, and goes to the orphan func). */
	g_assert_cmpuint(foreign->n_reports, ==, 1);
}

static void
test_pidfd_own_child(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	Child *child = start_helper(f, "exit:5", NULL);

	/* Our own child through a pidfd only: whichever path sees the death first, the status
	 * is known and reported once. */
	g_assert_true(sg_reaper_watch_pidfd(f->reaper, child->pid, child_cb, child, &error));
	g_assert_no_error(error);
	WAIT_UNTIL(child->reported);
	g_assert_true(WIFEXITED(child->status));
	g_assert_cmpint(WEXITSTATUS(child->status), ==, 5);
	g_assert_cmpuint(child->n_reports, ==, 1);
	g_assert_cmpuint(f->n_orphan_reports, ==, 0);
	assert_idle(f);
}

static void
test_pidfd_unwatch(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	Child *child = start_helper(f, "pause", NULL);

	g_assert_true(sg_reaper_watch_pidfd(f->reaper, child->pid, child_cb, child, &error));
	g_assert_no_error(error);
	sg_reaper_unwatch(f->reaper, child->pid);
	g_assert_cmpint(kill(child->pid, SIGKILL), ==, 0);
	WAIT_UNTIL(orphan_reported(f, child->pid));
	g_assert_cmpuint(child->n_reports, ==, 0);
	assert_idle(f);
}

static void
test_pidfd_gone(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	/* Above any pid_max: no such process can exist. */
	g_assert_false(sg_reaper_watch_pidfd(f->reaper, INT_MAX, child_cb, NULL, &error));
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, g_strerror(ESRCH)));
}

static void
test_idle(Fixture *f, gconstpointer data)
{
	Child *child;

	/* With nothing to reap, the loop has nothing to do and no timer to wake it. */
	g_assert_false(g_main_context_iteration(NULL, FALSE));
	assert_idle(f);

	/* After a death, the signalfd is drained: idle again. */
	child = start_watched(f, "exit:0", NULL);
	WAIT_UNTIL(child->reported);
	assert_idle(f);
	g_assert_cmpuint(f->n_reports, ==, 1);
	g_assert_cmpuint(f->n_orphan_reports, ==, 0);
}

static void
test_dispatch(Fixture *f, gconstpointer data)
{
	Child *child = start_watched(f, "exit:4", NULL);
	int fd = (int)syscall(SYS_pidfd_open, child->pid, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	/* Wait for the death without reaping, then reap without the loop. */
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(poll(&pfd, 1, DEADLINE_SECONDS * 1000), ==, 1);
	close(fd);
	g_assert_false(child->reported);
	sg_reaper_dispatch(f->reaper);
	g_assert_true(child->reported);
	g_assert_cmpint(WEXITSTATUS(child->status), ==, 4);
}

static void
free_cb(pid_t pid, int status, gpointer user_data)
{
	Child *child = user_data;
	Fixture *f = child->f;

	child_cb(pid, status, child);
	g_clear_pointer(&f->reaper, sg_reaper_free);
}

static void
test_free_in_callback(Fixture *f, gconstpointer data)
{
	Child *children[4];

	for (guint i = 0; i < G_N_ELEMENTS(children); i++) {
		children[i] = start_helper(f, "pause", NULL);
		sg_reaper_watch(f->reaper, children[i]->pid, free_cb, children[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(children); i++)
		g_assert_cmpint(kill(children[i]->pid, SIGKILL), ==, 0);
	WAIT_UNTIL(f->n_reports >= 1);
	/* The first callback freed the reaper: nothing else is reported, and nothing crashes. */
	g_assert_null(f->reaper);
	g_assert_cmpuint(f->n_reports, ==, 1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	sg_test_install_abort_cleanup();

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/sg/reaper/exit-status", test_exit_status);
	ADD("/sg/reaper/signal-status", test_signal_status);
	ADD("/sg/reaper/orphan", test_orphan);
	ADD("/sg/reaper/many", test_many);
	ADD("/sg/reaper/many-exits", test_many_exits);
	ADD("/sg/reaper/reentrant", test_reentrant);
	ADD("/sg/reaper/pidfd-foreign", test_pidfd_foreign);
	ADD("/sg/reaper/pidfd-own-child", test_pidfd_own_child);
	ADD("/sg/reaper/pidfd-unwatch", test_pidfd_unwatch);
	ADD("/sg/reaper/pidfd-gone", test_pidfd_gone);
	ADD("/sg/reaper/idle", test_idle);
	ADD("/sg/reaper/dispatch", test_dispatch);
	ADD("/sg/reaper/free-in-callback", test_free_in_callback);
#undef ADD
	return g_test_run();
}
