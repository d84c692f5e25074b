/* SPDX-License-Identifier: MIT */
/* Tests of containment in both modes: whole process trees stopped, escapes, deadlines. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "process/sg-contain.h"
#include "base/sg-error.h"
#include "process/sg-proctree.h"
#include "process/sg-reaper.h"
#include "process/sg-spawn.h"

#define DEADLINE_MS 10000
#define LONG_SLEEP  "60000"

typedef enum {
	MODE_MARKERS,
	MODE_CGROUP,
} Mode;

typedef struct {
	pid_t pid;
	guint64 start_time;
} Proc;

typedef struct {
	Mode mode;
	gboolean skipped;
	char *tmp_dir;
	char *state_id;
	SgClock *clock;
	SgContain *contain;
	char *original_cgroup; /* cgroup mode: where the test process came from */
	char *cgroup_root;     /* cgroup mode: the test's own cgroup, removed at the end */
	GArray *procs;         /* Proc: everything started, killed at the end if still alive */
} Fixture;

typedef struct {
	guint n_calls;
	char *service;
	gboolean killed;
	guint n_processes;
	gint64 at_usec;
} Done;

static SgReaper *reaper;
static char *helper;
static char *sh;
static guint serial;

/* What a failed assertion (abort) must not leave behind: set up before it could be needed. */
static Fixture *current;
static char abort_original_procs[4096];
static char abort_cgroup_kill[4096];
static char abort_self_pid[32];

static void
write_on_abort(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0) {
			/* Dying anyway. */
		}
		close(fd);
	}
}

/* Async-signal-safe: kills the processes of the test, and its cgroup's, then dies. */
static void
abort_cleanup(int sig)
{
	if (current != NULL && current->procs != NULL) {
		for (guint i = 0; i < current->procs->len; i++)
			kill(g_array_index(current->procs, Proc, i).pid, SIGKILL);
	}
	if (abort_cgroup_kill[0] != '\0') {
		write_on_abort(abort_original_procs, abort_self_pid);
		write_on_abort(abort_cgroup_kill, "1");
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- small helpers ---- */

static gboolean
proc_alive(const Proc *proc)
{
	/* A zombie has exited: its start time reads as 0, like a process that is gone. */
	return proc->start_time != 0 && sg_proctree_start_time(proc->pid) == proc->start_time;
}

/* Remembers a process for the clean-up; start time 0 when it is already gone. */
static Proc
track(Fixture *f, pid_t pid)
{
	Proc proc = { pid, sg_proctree_start_time(pid) };

	g_assert_cmpint(pid, >, 1);
	g_array_append_val(f->procs, proc);
	return proc;
}

static int
pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Kills what is still alive, waits for each to exit, and lets the reaper collect them. */
static void
kill_tracked(Fixture *f)
{
	for (guint i = 0; i < f->procs->len; i++) {
		const Proc *proc = &g_array_index(f->procs, Proc, i);
		struct pollfd pfd = { .events = POLLIN };

		pfd.fd = pidfd_open(proc->pid);
		if (pfd.fd < 0)
			continue;
		if (sg_proctree_start_time(proc->pid) == proc->start_time &&
		    syscall(SYS_pidfd_send_signal, pfd.fd, SIGKILL, NULL, 0) == 0)
			g_assert_cmpint(poll(&pfd, 1, DEADLINE_MS), ==, 1);
		close(pfd.fd);
	}
	g_array_set_size(f->procs, 0);
	sg_reaper_dispatch(reaper);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void
timed_out_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
}

/* Runs the main loop until *flag is set or DEADLINE_MS passes; returns *flag. */
static gboolean
iterate_until(SgClock *clock, const guint *flag)
{
	gboolean timed_out = FALSE;
	guint id = sg_clock_add_timeout(clock, DEADLINE_MS, timed_out_cb, &timed_out);

	while (*flag == 0 && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	sg_clock_cancel(clock, id);
	return *flag != 0;
}

static void
done_cb(const char *service, gboolean killed, guint n_processes, gpointer user_data)
{
	Done *done = user_data;

	done->n_calls++;
	g_free(done->service);
	done->service = g_strdup(service);
	done->killed = killed;
	done->n_processes = n_processes;
	done->at_usec = g_get_monotonic_time();
}

/* Starts a stop; NULL means done already ran (what was found died of the group's SIGTERM). */
static void
start_stop(Fixture *f, const char *service, pid_t sid, guint64 timeout_ms, Done *done)
{
	SgContainStop *stop = sg_contain_stop(f->contain, service, sid, timeout_ms, done_cb, done);

	g_assert_cmpuint(done->n_calls, ==, stop == NULL ? 1 : 0);
}

static void
done_clear(Done *done)
{
	g_free(done->service);
}

/* The pids a helper wrote to path; tracked for the clean-up when they are known alive. */
static GArray *
read_pids_file(Fixture *f, const char *path, gboolean alive)
{
	GArray *procs = g_array_new(FALSE, FALSE, sizeof(Proc));
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return procs;
	lines = g_strsplit(contents, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		Proc proc;

		if (**line == '\0')
			continue;
		if (alive) {
			proc = track(f, (pid_t)g_ascii_strtoll(*line, NULL, 10));
		} else {
			proc.pid = (pid_t)g_ascii_strtoll(*line, NULL, 10);
			proc.start_time = 0;
		}
		g_array_append_val(procs, proc);
	}
	return procs;
}

static gboolean
pids_contain(GArray *pids, pid_t pid)
{
	for (guint i = 0; i < pids->len; i++)
		if (g_array_index(pids, pid_t, i) == pid)
			return TRUE;
	return FALSE;
}

/* Waits until n "ready" lines have come through fd. */
static void
wait_ready(int fd, guint n)
{
	gint64 deadline = g_get_monotonic_time() + DEADLINE_MS * 1000;
	guint seen = 0;
	char buf[256];

	while (seen < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int timeout_ms = (int)MAX((deadline - g_get_monotonic_time()) / 1000, 0);
		ssize_t len;

		g_assert_cmpint(poll(&pfd, 1, timeout_ms), ==, 1);
		len = read(fd, buf, sizeof(buf));
		g_assert_cmpint(len, >, 0);
		for (ssize_t i = 0; i < len; i++)
			seen += buf[i] == '\n';
	}
	g_assert_cmpuint(seen, ==, n);
}

/*
 * Starts a service the way the supervisor does (own session, markers, its cgroup when
 * in_cgroup) and returns once its actions have printed n_ready lines. extra_env holds
 * NAME=VALUE strings (PIDS, ESCAPEES ...).
 */
static pid_t
start_service(Fixture *f, const char *state_id, const char *service, gboolean in_cgroup,
              const char *const *argv, const char *const *extra_env, guint n_ready)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) envp = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) args = g_strdupv((char **)argv);
	g_autofree char *message = NULL;
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	SgSpawnResult result;
	struct pollfd pfd = { .events = POLLIN };
	Proc proc;
	int out[2];

	g_ptr_array_add(envp, g_strconcat("PATH=", g_getenv("PATH"), NULL));
	g_ptr_array_add(envp, g_strconcat("HELPER=", helper, NULL));
	g_ptr_array_add(envp, g_strconcat("SYSTEMG_STATE_ID=", state_id, NULL));
	g_ptr_array_add(envp, g_strconcat("SYSTEMG_SERVICE=", service, NULL));
	g_ptr_array_add(envp, g_strdup_printf("SYSTEMG_INVOCATION_ID=inv%u", ++serial));
	for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i++)
		g_ptr_array_add(envp, g_strdup(extra_env[i]));
	g_ptr_array_add(envp, NULL);

	g_assert_no_errno(pipe2(out, O_CLOEXEC));
	options.argv = args;
	options.envp = (char **)envp->pdata;
	options.stdout_fd = out[1];
	options.new_session = TRUE;
	if (in_cgroup) {
		options.cgroup_fd = sg_contain_prepare(f->contain, service, &error);
		g_assert_no_error(error);
		g_assert_cmpint(options.cgroup_fd >= 0, ==, f->mode == MODE_CGROUP);
	}
	g_assert_true(sg_spawn(&options, &result, &error));
	g_assert_no_error(error);
	close(out[1]);
	if (options.cgroup_fd >= 0)
		close(options.cgroup_fd);

	pfd.fd = result.status_fd;
	g_assert_cmpint(poll(&pfd, 1, DEADLINE_MS), ==, 1);
	g_assert_cmpint(sg_spawn_read_status(result.status_fd, args[0], &message), ==, 1);
	close(result.status_fd);
	wait_ready(out[0], n_ready);
	close(out[0]);
	proc = track(f, result.pid);
	g_assert_true(proc_alive(&proc));
	return result.pid;
}

/* ---- cgroup plumbing of the tests ---- */

static char *
cgroup2_mount(void)
{
	g_autofree char *mountinfo = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents("/proc/self/mountinfo", &mountinfo, NULL, NULL))
		return NULL;
	lines = g_strsplit(mountinfo, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		g_auto(GStrv) fields = g_strsplit(*line, " ", 6);

		if (strstr(*line, " - cgroup2 ") != NULL && g_strv_length(fields) >= 6 &&
		    strcmp(fields[3], "/") == 0)
			return g_strdup(fields[4]);
	}
	return NULL;
}

/* The directory of our own cgroup v2, or NULL. */
static char *
own_cgroup(const char *mount)
{
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents("/proc/self/cgroup", &contents, NULL, NULL))
		return NULL;
	lines = g_strsplit(contents, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		if (g_str_has_prefix(*line, "0::/"))
			return g_build_filename(mount, *line + 3, NULL);
	}
	return NULL;
}

/* cgroup files are written in place: no temporary file and rename. */
static void
write_cgroup_file(const char *cgroup, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(cgroup, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, &error);
	g_assert_no_error(error);
}

static void
move_self(const char *cgroup)
{
	g_autofree char *pid = g_strdup_printf("%d", (int)getpid());

	write_cgroup_file(cgroup, "cgroup.procs", pid);
}

/* A fresh test cgroup, or NULL (with the reason) when we may not create one. */
static char *
make_test_cgroup(char **ret_original, char **ret_reason)
{
	g_autofree char *mount = cgroup2_mount();
	g_autofree char *original = NULL;
	const char *parents[2];

	if (mount == NULL) {
		*ret_reason = g_strdup("no cgroup v2 mount");
		return NULL;
	}
	original = own_cgroup(mount);
	g_assert_nonnull(original);
	/* The top of the hierarchy (root), or our own cgroup when it is delegated to us. */
	parents[0] = mount;
	parents[1] = original;
	for (guint i = 0; i < G_N_ELEMENTS(parents); i++) {
		g_autofree char *path =
		        g_strdup_printf("%s/sg-test-%d-%u", parents[i], (int)getpid(), ++serial);

		if (mkdir(path, 0755) == 0) {
			*ret_original = g_steal_pointer(&original);
			return g_steal_pointer(&path);
		}
	}
	*ret_reason = g_strdup_printf("cannot create a cgroup under %s (%s): needs root or a "
	                              "delegated cgroup",
	                              mount, g_strerror(errno));
	return NULL;
}

static void
wait_cgroup_empty(const char *cgroup)
{
	g_autofree char *events = g_build_filename(cgroup, "cgroup.events", NULL);
	gint64 deadline = g_get_monotonic_time() + DEADLINE_MS * 1000;
	struct pollfd pfd = { .events = POLLIN };

	pfd.fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	g_assert_cmpint(pfd.fd, >=, 0);
	g_assert_cmpint(inotify_add_watch(pfd.fd, events, IN_MODIFY), >=, 0);
	for (;;) {
		g_autofree char *contents = NULL;
		char buf[4096];

		g_assert_true(g_file_get_contents(events, &contents, NULL, NULL));
		if (strstr(contents, "populated 0") != NULL)
			break;
		g_assert_cmpint(
		        poll(&pfd, 1, (int)MAX((deadline - g_get_monotonic_time()) / 1000, 0)), ==,
		        1);
		while (read(pfd.fd, buf, sizeof(buf)) > 0)
			;
	}
	close(pfd.fd);
}

/* Moves us back, kills whatever is left below the test cgroup, and removes it. */
static void
remove_test_cgroup(const char *cgroup, const char *original)
{
	g_autofree char *kill_file = g_build_filename(cgroup, "cgroup.kill", NULL);
	g_autoptr(GDir) dir = NULL;
	const char *name;

	move_self(original);
	if (g_file_test(kill_file, G_FILE_TEST_EXISTS))
		write_cgroup_file(cgroup, "cgroup.kill", "1");
	wait_cgroup_empty(cgroup);
	sg_reaper_dispatch(reaper);
	dir = g_dir_open(cgroup, 0, NULL);
	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(cgroup, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			g_assert_no_errno(rmdir(child));
	}
	g_assert_no_errno(rmdir(cgroup));
}

/* ---- fixture ---- */

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->mode = GPOINTER_TO_INT(data);
	f->procs = g_array_new(FALSE, FALSE, sizeof(Proc));
	current = f;
	f->tmp_dir = g_dir_make_tmp("sg-contain-XXXXXX", &error);
	g_assert_no_error(error);
	g_assert_no_errno(chmod(f->tmp_dir, 0755));
	f->state_id = g_strdup_printf("test-%d-%u", (int)getpid(), ++serial);
	f->clock = sg_clock_new_real();
	if (f->mode == MODE_CGROUP) {
		g_autofree char *reason = NULL;

		f->cgroup_root = make_test_cgroup(&f->original_cgroup, &reason);
		if (f->cgroup_root == NULL) {
			g_test_skip(reason);
			f->skipped = TRUE;
			return;
		}
		g_snprintf(abort_original_procs, sizeof(abort_original_procs), "%s/cgroup.procs",
		           f->original_cgroup);
		g_snprintf(abort_cgroup_kill, sizeof(abort_cgroup_kill), "%s/cgroup.kill",
		           f->cgroup_root);
		f->contain = sg_contain_new(f->cgroup_root, f->state_id, f->clock, &error);
		g_assert_no_error(error);
		g_assert_true(sg_contain_uses_cgroups(f->contain));
		g_assert_cmpstr(sg_contain_cgroup_root(f->contain), ==, f->cgroup_root);
	} else {
		f->contain = sg_contain_open(NULL, f->state_id, f->clock, &error);
		g_assert_no_error(error);
		g_assert_false(sg_contain_uses_cgroups(f->contain));
		g_assert_null(sg_contain_cgroup_root(f->contain));
	}
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_autoptr(GDir) dir = NULL;
	const char *name;

	kill_tracked(f);
	g_clear_pointer(&f->contain, sg_contain_free);
	if (f->cgroup_root != NULL)
		remove_test_cgroup(f->cgroup_root, f->original_cgroup);
	abort_cgroup_kill[0] = '\0';
	current = NULL;
	dir = g_dir_open(f->tmp_dir, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(f->tmp_dir, name, NULL);
		g_remove(path);
	}
	g_rmdir(f->tmp_dir);
	g_free(f->tmp_dir);
	g_free(f->state_id);
	g_free(f->cgroup_root);
	g_free(f->original_cgroup);
	g_array_unref(f->procs);
	sg_clock_unref(f->clock);
}

static char *
tmp_path(Fixture *f, const char *name)
{
	return g_build_filename(f->tmp_dir, name, NULL);
}

static void
assert_all_gone(GArray *procs)
{
	for (guint i = 0; i < procs->len; i++) {
		const Proc *proc = &g_array_index(procs, Proc, i);
		if (proc_alive(proc))
			g_error("process %d is still alive", (int)proc->pid);
	}
}

static void
assert_all_alive(GArray *procs)
{
	for (guint i = 0; i < procs->len; i++)
		g_assert_true(proc_alive(&g_array_index(procs, Proc, i)));
}

/* ---- tests ---- */

/*
 * A service whose tree takes every usual route out: a background child, a grandchild
 * re-parented away from a shell, and a double-forked setsid daemon. Beside it, three
 * escapees: a daemon that re-executes with an empty environment (env -i setsid), one that
 * zeroes its environment (process-title rewriting), and a non-dumpable one. cgroup mode
 * stops all of them. Marker mode stops the tree; it cannot see the escapees that left the
 * session and lost their markers: the wiped and rewritten daemons always, the non-dumpable
 * one unless we may read its environment anyway (root). Those are the known escapes of
 * marker mode (SPEC section 4), so they are not asserted there, only killed at the end.
 */
static void
test_stop_tree(Fixture *f, gconstpointer data)
{
	g_autofree char *pids_file = NULL;
	g_autofree char *escapees_file = NULL;
	g_autofree char *pids_env = NULL;
	g_autofree char *escapees_env = NULL;
	g_autoptr(GArray) tree = NULL;
	g_autoptr(GArray) escapees = NULL;
	g_autoptr(GArray) listed = NULL;
	SgContainUsage usage;
	Done done = { 0 };
	Proc main_proc;
	pid_t main_pid;
	const char *script =
	        "\"$HELPER\" pids:\"$PIDS\" grandchild:" LONG_SLEEP " stdout:ready pause &\n"
	        "echo $! >> \"$PIDS\"\n"
	        "\"$HELPER\" pids:\"$ESCAPEES\" wiped-daemon:" LONG_SLEEP " stdout:ready &\n"
	        "\"$HELPER\" pids:\"$ESCAPEES\" rewrite-env daemon:" LONG_SLEEP " stdout:ready &\n"
	        "\"$HELPER\" pids:\"$ESCAPEES\" nondumpable daemon:" LONG_SLEEP " stdout:ready &\n"
	        "exec \"$HELPER\" pids:\"$PIDS\" bg:" LONG_SLEEP " daemon:" LONG_SLEEP
	        " stdout:ready pause\n";
	const char *argv[] = { sh, "-c", script, NULL };
	const char *env[3];

	if (f->skipped)
		return;
	pids_file = tmp_path(f, "pids");
	escapees_file = tmp_path(f, "escapees");
	pids_env = g_strconcat("PIDS=", pids_file, NULL);
	escapees_env = g_strconcat("ESCAPEES=", escapees_file, NULL);
	env[0] = pids_env;
	env[1] = escapees_env;
	env[2] = NULL;

	main_pid = start_service(f, f->state_id, "svc", TRUE, argv, env, 5);
	main_proc = g_array_index(f->procs, Proc, f->procs->len - 1);
	tree = read_pids_file(f, pids_file, TRUE);
	escapees = read_pids_file(f, escapees_file, TRUE);
	/* grandchild, its shell job, bg, daemon; the wiped, rewritten and non-dumpable ones. */
	g_assert_cmpuint(tree->len, ==, 4);
	g_assert_cmpuint(escapees->len, ==, 3);
	g_array_append_val(tree, main_proc);
	assert_all_alive(tree);
	assert_all_alive(escapees);

	listed = sg_contain_list(f->contain, "svc", main_pid);
	for (guint i = 0; i < tree->len; i++)
		g_assert_true(pids_contain(listed, g_array_index(tree, Proc, i).pid));
	if (f->mode == MODE_CGROUP) {
		for (guint i = 0; i < escapees->len; i++)
			g_assert_true(pids_contain(listed, g_array_index(escapees, Proc, i).pid));
	}

	/* Without the session, the markers (or the cgroup) still name the whole tree. */
	g_clear_pointer(&listed, g_array_unref);
	listed = sg_contain_list(f->contain, "svc", 0);
	for (guint i = 0; i < tree->len; i++)
		g_assert_true(pids_contain(listed, g_array_index(tree, Proc, i).pid));

	sg_contain_usage(f->contain, "svc", main_pid, &usage);
	g_assert_cmpint(usage.tasks, >=, tree->len);
	g_assert_cmpint(usage.memory_bytes, >, 0);
	g_assert_cmpint(usage.cpu_usec, >=, 0);

	start_stop(f, "svc", main_pid, 5000, &done);
	g_assert_true(iterate_until(f->clock, &done.n_calls));
	g_assert_cmpuint(done.n_calls, ==, 1);
	g_assert_cmpstr(done.service, ==, "svc");
	g_assert_false(done.killed);
	assert_all_gone(tree);
	if (f->mode == MODE_CGROUP) {
		g_autofree char *service_cgroup = g_build_filename(f->cgroup_root, "svc-svc", NULL);

		assert_all_gone(escapees);
		g_assert_cmpuint(done.n_processes, >=, tree->len + escapees->len);
		sg_reaper_dispatch(reaper);
		sg_contain_release(f->contain, "svc");
		g_assert_false(g_file_test(service_cgroup, G_FILE_TEST_EXISTS));
	} else {
		g_assert_cmpuint(done.n_processes, >=, tree->len);
	}
	done_clear(&done);
}

/* A service that ignores SIGTERM, and so do its children: SIGKILL after the timeout. */
static void
test_stop_timeout(Fixture *f, gconstpointer data)
{
	g_autofree char *pids_file = NULL;
	g_autofree char *pids_arg = NULL;
	g_autoptr(GArray) tree = NULL;
	Done done = { 0 };
	Proc main_proc;
	pid_t main_pid;
	gint64 start;
	SgContainStop *stop;

	if (f->skipped)
		return;
	pids_file = tmp_path(f, "pids");
	pids_arg = g_strconcat("pids:", pids_file, NULL);
	{
		const char *argv[] = { helper,
			               "ignore-term",
			               pids_arg,
			               "bg:" LONG_SLEEP,
			               "daemon:" LONG_SLEEP,
			               "stdout:ready",
			               "pause",
			               NULL };
		main_pid = start_service(f, f->state_id, "stubborn", TRUE, argv, NULL, 1);
	}
	main_proc = g_array_index(f->procs, Proc, f->procs->len - 1);
	tree = read_pids_file(f, pids_file, TRUE);
	g_assert_cmpuint(tree->len, ==, 2);
	g_array_append_val(tree, main_proc);

	start = g_get_monotonic_time();
	stop = sg_contain_stop(f->contain, "stubborn", main_pid, 300, done_cb, &done);
	g_assert_nonnull(stop);
	g_assert_true(iterate_until(f->clock, &done.n_calls));
	g_assert_cmpuint(done.n_calls, ==, 1);
	g_assert_true(done.killed);
	g_assert_cmpint(done.at_usec - start, >=, 300 * 1000);
	g_assert_cmpuint(done.n_processes, ==, tree->len);
	assert_all_gone(tree);
	done_clear(&done);
}

/*
 * A shell that, on SIGTERM, starts a setsid daemon and exits: the daemon appears after the
 * first pass. It must still get SIGTERM (no SIGKILL needed) before done.
 */
static void
test_stop_late_fork(Fixture *f, gconstpointer data)
{
	g_autofree char *pids_file = NULL;
	g_autofree char *pids_env = NULL;
	g_autoptr(GArray) late = NULL;
	g_autoptr(GArray) listed = NULL;
	Done done = { 0 };
	pid_t main_pid;
	const char *script =
	        "trap '\"$HELPER\" pids:\"$PIDS\" daemon:" LONG_SLEEP "; exit 0' TERM\n"
	        "\"$HELPER\" stdout:ready pause &\n"
	        "wait\n";
	const char *argv[] = { sh, "-c", script, NULL };
	const char *env[2];

	if (f->skipped)
		return;
	pids_file = tmp_path(f, "pids");
	pids_env = g_strconcat("PIDS=", pids_file, NULL);
	env[0] = pids_env;
	env[1] = NULL;
	main_pid = start_service(f, f->state_id, "late", TRUE, argv, env, 1);

	start_stop(f, "late", main_pid, 5000, &done);
	g_assert_true(iterate_until(f->clock, &done.n_calls));
	g_assert_false(done.killed);
	/* The late helper may itself have had a SIGTERM before it could start the daemon. */
	late = read_pids_file(f, pids_file, FALSE);
	g_assert_cmpuint(late->len, <=, 1);
	/* Its pid may already serve another process: ask the service's own view instead. */
	listed = sg_contain_list(f->contain, "late", 0);
	for (guint i = 0; i < listed->len; i++)
		track(f, g_array_index(listed, pid_t, i));
	g_assert_cmpuint(listed->len, ==, 0);
	/* The shell, its job, and the late helper or its daemon. */
	g_assert_cmpuint(done.n_processes, >=, 3);
	done_clear(&done);
}

/* Another service of ours, and a service of the same name under another state id. */
static void
test_stop_spares_others(Fixture *f, gconstpointer data)
{
	g_autofree char *other_state = g_strconcat(f->state_id, "-other", NULL);
	g_autofree char *pids_file = NULL;
	g_autofree char *pids_arg = NULL;
	g_autoptr(GArray) others = g_array_new(FALSE, FALSE, sizeof(Proc));
	g_autoptr(GArray) daemons = NULL;
	g_autoptr(GArray) listed = NULL;
	Done done = { 0 };
	pid_t main_pid;

	if (f->skipped)
		return;
	pids_file = tmp_path(f, "pids");
	pids_arg = g_strconcat("pids:", pids_file, NULL);
	{
		const char *mine[] = { helper, "bg:" LONG_SLEEP, "stdout:ready", "pause", NULL };
		const char *other[] = { helper,         pids_arg, "daemon:" LONG_SLEEP,
			                "stdout:ready", "pause",  NULL };

		main_pid = start_service(f, f->state_id, "svc", TRUE, mine, NULL, 1);
		start_service(f, f->state_id, "other", TRUE, other, NULL, 1);
		g_array_append_val(others, g_array_index(f->procs, Proc, f->procs->len - 1));
		start_service(f, other_state, "svc", FALSE, other, NULL, 1);
		g_array_append_val(others, g_array_index(f->procs, Proc, f->procs->len - 1));
	}
	daemons = read_pids_file(f, pids_file, TRUE);
	g_assert_cmpuint(daemons->len, ==, 2);
	g_array_append_vals(others, daemons->data, daemons->len);

	listed = sg_contain_list(f->contain, "svc", main_pid);
	g_assert_cmpuint(listed->len, ==, 2);
	g_assert_true(pids_contain(listed, main_pid));

	start_stop(f, "svc", main_pid, 5000, &done);
	g_assert_true(iterate_until(f->clock, &done.n_calls));
	g_assert_false(done.killed);
	g_assert_cmpuint(done.n_processes, ==, 2);
	assert_all_alive(others);
	done_clear(&done);
}

/* Nothing to stop: done runs before sg_contain_stop() returns, which then returns NULL. */
static void
test_stop_nothing(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) listed = NULL;
	SgContainUsage usage;
	Done done = { 0 };

	if (f->skipped)
		return;
	g_assert_null(sg_contain_stop(f->contain, "ghost", 0, 5000, done_cb, &done));
	g_assert_cmpuint(done.n_calls, ==, 1);
	g_assert_cmpstr(done.service, ==, "ghost");
	g_assert_false(done.killed);
	g_assert_cmpuint(done.n_processes, ==, 0);
	sg_contain_stop_cancel(NULL);

	listed = sg_contain_list(f->contain, "ghost", 0);
	g_assert_cmpuint(listed->len, ==, 0);
	sg_contain_usage(f->contain, "ghost", 0, &usage);
	g_assert_cmpint(usage.tasks, ==, 0);

	if (f->mode == MODE_CGROUP) {
		/* An empty cgroup: cgroup.events already says so. */
		int fd = sg_contain_prepare(f->contain, "empty", &error);

		g_assert_no_error(error);
		g_assert_cmpint(fd, >=, 0);
		close(fd);
		g_assert_null(sg_contain_stop(f->contain, "empty", 0, 5000, done_cb, &done));
		g_assert_cmpuint(done.n_calls, ==, 2);
		g_assert_cmpuint(done.n_processes, ==, 0);
		sg_contain_release(f->contain, "empty");
	}
	done_clear(&done);
}

static void
no_call_cb(gpointer data)
{
	*(guint *)data = 1;
}

/* A cancelled stop never calls done and signals nothing more. */
static void
test_stop_cancel(Fixture *f, gconstpointer data)
{
	g_autoptr(GArray) procs = g_array_new(FALSE, FALSE, sizeof(Proc));
	const char *argv[] = { helper, "ignore-term", "stdout:ready", "pause", NULL };
	Done done = { 0 };
	SgContainStop *stop;
	guint waited = 0;
	pid_t main_pid;

	if (f->skipped)
		return;
	main_pid = start_service(f, f->state_id, "svc", TRUE, argv, NULL, 1);
	g_array_append_val(procs, g_array_index(f->procs, Proc, f->procs->len - 1));
	stop = sg_contain_stop(f->contain, "svc", main_pid, 100, done_cb, &done);
	g_assert_nonnull(stop);
	sg_contain_stop_cancel(stop);
	/* Past the cancelled deadline: nothing may happen. */
	sg_clock_add_timeout(f->clock, 300, no_call_cb, &waited);
	g_assert_true(iterate_until(f->clock, &waited));
	g_assert_cmpuint(done.n_calls, ==, 0);
	assert_all_alive(procs);

	/* A stop still in progress is cancelled by sg_contain_free(). */
	stop = sg_contain_stop(f->contain, "svc", main_pid, 60000, done_cb, &done);
	g_assert_nonnull(stop);
	g_clear_pointer(&f->contain, sg_contain_free);
	g_assert_cmpuint(done.n_calls, ==, 0);
	done_clear(&done);
}

static void
test_prepare(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	int fd;

	if (f->skipped)
		return;
	fd = sg_contain_prepare(f->contain, "web", &error);
	g_assert_no_error(error);
	if (f->mode == MODE_MARKERS) {
		g_assert_cmpint(fd, ==, -1);
		sg_contain_release(f->contain, "web");
		return;
	}
	{
		g_autofree char *dir = g_build_filename(f->cgroup_root, "svc-web", NULL);
		g_autofree char *self = NULL;
		struct stat st;

		g_assert_cmpint(fd, >=, 0);
		g_assert_no_errno(fstat(fd, &st));
		g_assert_true(S_ISDIR(st.st_mode));
		close(fd);
		g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
		/* Twice is fine. */
		fd = sg_contain_prepare(f->contain, "web", &error);
		g_assert_no_error(error);
		close(fd);
		sg_contain_release(f->contain, "web");
		g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
		sg_contain_release(f->contain, "web");

		fd = sg_contain_prepare(f->contain, "a/b", &error);
		g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
		g_assert_cmpint(fd, ==, -1);
		g_clear_error(&error);
		fd = sg_contain_prepare(f->contain, "", &error);
		g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
		g_assert_cmpint(fd, ==, -1);

		/* The supervisor lives in ROOT/supervisor. */
		g_assert_true(g_file_get_contents("/proc/self/cgroup", &self, NULL, NULL));
		g_assert_nonnull(strstr(self, "/supervisor\n"));

		/* Opening the same root (as `sysg stop` would) moves nobody and sees the same. */
		g_clear_error(&error);
		fd = sg_contain_prepare(f->contain, "web", &error);
		g_assert_no_error(error);
		close(fd);
		{
			g_autoptr(SgContain) opened = NULL;
			g_autofree char *after = NULL;

			move_self(f->original_cgroup);
			opened = sg_contain_open(f->cgroup_root, f->state_id, f->clock, &error);
			g_assert_no_error(error);
			g_assert_true(sg_contain_uses_cgroups(opened));
			g_assert_true(g_file_get_contents("/proc/self/cgroup", &after, NULL, NULL));
			g_assert_null(strstr(after, "/supervisor\n"));
			sg_contain_release(opened, "web");
			g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
		}
	}
}

/* A directory that is not a cgroup v2 is refused, and nobody is moved. */
static void
test_not_cgroup(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	g_autoptr(GError) error = NULL;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;
	g_autofree char *dir = g_dir_make_tmp("sg-contain-XXXXXX", NULL);
	SgContain *contain;

	g_assert_true(g_file_get_contents("/proc/self/cgroup", &before, NULL, NULL));
	contain = sg_contain_new(dir, "x", clock, &error);
	g_assert_null(contain);
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_clear_error(&error);
	contain = sg_contain_new("/nonexistent-cgroup-dir", "x", clock, &error);
	g_assert_null(contain);
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_clear_error(&error);
	contain = sg_contain_open(dir, "x", clock, &error);
	g_assert_null(contain);
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_assert_true(g_file_get_contents("/proc/self/cgroup", &after, NULL, NULL));
	g_assert_cmpstr(before, ==, after);
	g_rmdir(dir);
}

/*
 * Detection: only our own cgroup when we are alone in it and may write it; the root cgroup
 * and a shared cgroup are refused. A supervisor started from ROOT/supervisor takes ROOT.
 */
static void
test_detect(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	g_autoptr(GError) error = NULL;
	g_autofree char *original = NULL;
	g_autofree char *reason = NULL;
	g_autofree char *test_cgroup = make_test_cgroup(&original, &reason);
	g_autofree char *self = NULL;
	SgContain *contain;
	pid_t sibling;

	if (test_cgroup == NULL) {
		g_test_skip(reason);
		return;
	}
	move_self(test_cgroup);
	contain = sg_contain_new(NULL, "x", clock, &error);
	g_assert_no_error(error);
	g_assert_true(sg_contain_uses_cgroups(contain));
	g_assert_cmpstr(sg_contain_cgroup_root(contain), ==, test_cgroup);
	sg_contain_free(contain);
	g_assert_true(g_file_get_contents("/proc/self/cgroup", &self, NULL, NULL));
	g_assert_nonnull(strstr(self, "/supervisor\n"));

	contain = sg_contain_new(NULL, "x", clock, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(sg_contain_cgroup_root(contain), ==, test_cgroup);
	sg_contain_free(contain);

	/* Sharing our cgroup with another process: not ours to rearrange. */
	move_self(test_cgroup);
	sibling = fork();
	g_assert_cmpint(sibling, >=, 0);
	if (sibling == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		pause();
		_exit(0);
	}
	contain = sg_contain_new(NULL, "x", clock, &error);
	g_assert_no_error(error);
	g_assert_false(sg_contain_uses_cgroups(contain));
	sg_contain_free(contain);
	kill(sibling, SIGKILL);
	remove_test_cgroup(test_cgroup, original);
}

/* In the root cgroup (as on many containers), detection falls back to markers. */
static void
test_detect_root(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	g_autoptr(GError) error = NULL;
	g_autofree char *self = NULL;
	SgContain *contain;

	g_assert_true(g_file_get_contents("/proc/self/cgroup", &self, NULL, NULL));
	if (strstr(self, "\n0::/\n") == NULL && !g_str_has_prefix(self, "0::/\n")) {
		g_test_skip("not in the root cgroup");
		return;
	}
	contain = sg_contain_new(NULL, "x", clock, &error);
	g_assert_no_error(error);
	g_assert_false(sg_contain_uses_cgroups(contain));
	sg_contain_free(contain);
}

static void
orphan_cb(pid_t pid, int wait_status, gpointer user_data)
{
}

static void
add_both(const char *name, void (*func)(Fixture *, gconstpointer))
{
	g_autofree char *markers = g_strdup_printf("/sg/contain/markers/%s", name);
	g_autofree char *cgroup = g_strdup_printf("/sg/contain/cgroup/%s", name);

	g_test_add(markers, Fixture, GINT_TO_POINTER(MODE_MARKERS), fixture_set_up, func,
	           fixture_tear_down);
	g_test_add(cgroup, Fixture, GINT_TO_POINTER(MODE_CGROUP), fixture_set_up, func,
	           fixture_tear_down);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	const char *env_helper = g_getenv("SG_TEST_HELPER_CHILD");
	g_autofree char *path = g_strconcat("PATH=", g_getenv("PATH"), NULL);
	char *path_env[] = { path, NULL };
	int status;

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_snprintf(abort_self_pid, sizeof(abort_self_pid), "%d", (int)getpid());
	signal(SIGABRT, abort_cleanup);
	signal(SIGTRAP, abort_cleanup);
	/* Before anything could start a thread: SIGCHLD blocked, subreaper. */
	reaper = sg_reaper_new(&error);
	g_assert_no_error(error);
	sg_reaper_set_orphan_func(reaper, orphan_cb, NULL);
	helper = env_helper != NULL ? g_strdup(env_helper)
	                            : g_test_build_filename(G_TEST_BUILT, "helper-child", NULL);
	sh = sg_spawn_find_program("sh", path_env, NULL, &error);
	g_assert_no_error(error);

	add_both("stop-tree", test_stop_tree);
	add_both("stop-timeout", test_stop_timeout);
	add_both("stop-late-fork", test_stop_late_fork);
	add_both("stop-spares-others", test_stop_spares_others);
	add_both("stop-nothing", test_stop_nothing);
	add_both("stop-cancel", test_stop_cancel);
	add_both("prepare", test_prepare);
	g_test_add_func("/sg/contain/not-cgroup", test_not_cgroup);
	g_test_add_func("/sg/contain/detect", test_detect);
	g_test_add_func("/sg/contain/detect-root", test_detect_root);

	status = g_test_run();
	sg_reaper_free(reaper);
	g_free(helper);
	g_free(sh);
	return status;
}
