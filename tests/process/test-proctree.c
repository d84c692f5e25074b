/* SPDX-License-Identifier: MIT */
/* Tests of the /proc readers against real processes: odd names, sessions, markers, zombies. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "process/sg-proctree.h"

#define DEADLINE_MS 10000

/* The processes a test started, killed and reaped when it ends, pass or fail. */
static GArray *tracked;

static void
track(pid_t pid)
{
	g_array_append_val(tracked, pid);
}

static void
cleanup_tracked(void)
{
	for (guint i = 0; i < tracked->len; i++)
		(void)kill(g_array_index(tracked, pid_t, i), SIGKILL);
	/* We are a subreaper: grandchildren come back to us and are reaped here too. */
	for (guint i = 0; i < tracked->len; i++)
		(void)waitpid(g_array_index(tracked, pid_t, i), NULL, 0);
	g_array_set_size(tracked, 0);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Reads a pid written by a child, waiting at most DEADLINE_MS. */
static pid_t
read_pid(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	pid_t pid = 0;

	g_assert_cmpint(poll(&pfd, 1, DEADLINE_MS), ==, 1);
	g_assert_cmpint(read(fd, &pid, sizeof(pid)), ==, sizeof(pid));
	return pid;
}

/* Waits until pid (any process) has exited, through a pidfd. */
static void
wait_exited(pid_t pid)
{
	struct pollfd pfd = { .events = POLLIN };

	pfd.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd.fd < 0 && errno == ESRCH)
		return;
	g_assert_cmpint(pfd.fd, >=, 0);
	g_assert_cmpint(poll(&pfd, 1, DEADLINE_MS), ==, 1);
	close(pfd.fd);
}

/* In a forked child: dies with its parent, so a failed test leaves nothing behind. */
static void
child_setup(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(1);
}

static void
write_pid(int fd, pid_t pid)
{
	if (write(fd, &pid, sizeof(pid)) != sizeof(pid))
		_exit(1);
}

static void
test_stat_self(void)
{
	SgProcInfo info;

	g_assert_true(sg_proctree_read_stat(getpid(), &info));
	g_assert_cmpint(info.pid, ==, getpid());
	g_assert_cmpint(info.ppid, ==, getppid());
	g_assert_cmpint(info.pgid, ==, getpgrp());
	g_assert_cmpint(info.sid, ==, getsid(0));
	g_assert_cmpuint(info.start_time, >, 0);
	g_assert_null(info.service);
	g_assert_cmpuint(sg_proctree_start_time(getpid()), ==, info.start_time);
	g_assert_false(sg_proctree_read_stat(0, &info));
	g_assert_false(sg_proctree_read_stat(-1, &info));
}

/* comm may hold ") (" and spaces: the fields are counted from the last ')'. */
static void
test_stat_odd_comm(void)
{
	static const char *const names[] = { "a) (b) c", ") (", "x (1) S 2 3 (", "((" };

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		int pipe_fds[2];
		SgProcInfo info;
		pid_t child;
		char comm[64] = "";
		g_autofree char *comm_path = NULL;
		g_autofree char *comm_text = NULL;

		g_assert_no_errno(pipe2(pipe_fds, O_CLOEXEC));
		child = fork();
		g_assert_cmpint(child, >=, 0);
		if (child == 0) {
			child_setup();
			if (setpgid(0, 0) < 0 || prctl(PR_SET_NAME, names[i], 0, 0, 0) < 0)
				_exit(1);
			write_pid(pipe_fds[1], getpid());
			pause();
			_exit(0);
		}
		track(child);
		close(pipe_fds[1]);
		g_assert_cmpint(read_pid(pipe_fds[0]), ==, child);
		close(pipe_fds[0]);

		comm_path = g_strdup_printf("/proc/%d/comm", (int)child);
		g_assert_true(g_file_get_contents(comm_path, &comm_text, NULL, NULL));
		g_strlcpy(comm, names[i], sizeof(comm));
		g_assert_true(g_str_has_prefix(comm_text, comm));

		g_assert_true(sg_proctree_read_stat(child, &info));
		g_assert_cmpint(info.pid, ==, child);
		g_assert_cmpint(info.ppid, ==, getpid());
		g_assert_cmpint(info.pgid, ==, child);
		g_assert_cmpint(info.sid, ==, getsid(0));
		g_assert_cmpuint(info.start_time, >, 0);
		g_assert_cmpuint(sg_proctree_start_time(child), ==, info.start_time);
		cleanup_tracked();
	}
}

/* A zombie has exited: it reads as gone, like a reaped process. */
static void
test_stat_gone(void)
{
	siginfo_t si = { 0 };
	SgProcInfo info;
	pid_t child = fork();

	g_assert_cmpint(child, >=, 0);
	if (child == 0)
		_exit(3);
	track(child);
	g_assert_no_errno(waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT));
	g_assert_false(sg_proctree_read_stat(child, &info));
	g_assert_cmpuint(sg_proctree_start_time(child), ==, 0);
	g_assert_cmpint(waitpid(child, NULL, 0), ==, child);
	g_assert_false(sg_proctree_read_stat(child, &info));
	g_array_set_size(tracked, 0);
}

static void
test_usage_self(void)
{
	gint64 cpu = -1, rss = -1;
	volatile guint64 sink = 0;

	/* Burn a little CPU so that at least one tick is likely; only >= 0 is guaranteed. */
	for (guint64 i = 0; i < 20000000; i++)
		sink += i;
	g_assert_cmpuint(sink, >, 0);
	g_assert_true(sg_proctree_read_usage(getpid(), &cpu, &rss));
	g_assert_cmpint(cpu, >=, 0);
	g_assert_cmpint(rss, >, 4096);
	g_assert_false(sg_proctree_read_usage(-1, &cpu, &rss));
}

static gboolean
scan_has(GPtrArray *found, pid_t pid, const SgProcInfo **ret_info)
{
	for (guint i = 0; i < found->len; i++) {
		const SgProcInfo *info = found->pdata[i];
		if (info->pid == pid) {
			if (ret_info != NULL)
				*ret_info = info;
			return TRUE;
		}
	}
	return FALSE;
}

/* A new session with a child, a grandchild in another group of it, and a zombie. */
static void
test_scan_session(void)
{
	g_autoptr(GHashTable) sessions = g_hash_table_new(NULL, NULL);
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GPtrArray) none = NULL;
	const SgProcInfo *info = NULL;
	int pipe_fds[2];
	pid_t leader, grandchild, zombie;

	g_assert_no_errno(pipe2(pipe_fds, O_CLOEXEC));
	leader = fork();
	g_assert_cmpint(leader, >=, 0);
	if (leader == 0) {
		pid_t pid;

		child_setup();
		if (setsid() < 0)
			_exit(1);
		pid = fork();
		if (pid == 0) {
			child_setup();
			pause();
			_exit(0);
		}
		/* Its own process group, still in the session. */
		if (setpgid(pid, pid) < 0)
			_exit(1);
		write_pid(pipe_fds[1], pid);
		pid = fork();
		if (pid == 0)
			_exit(0);
		write_pid(pipe_fds[1], pid);
		pause();
		_exit(0);
	}
	track(leader);
	close(pipe_fds[1]);
	grandchild = read_pid(pipe_fds[0]);
	zombie = read_pid(pipe_fds[0]);
	close(pipe_fds[0]);
	track(grandchild);

	/* The leader never reaps its second child: a pidfd says when it has exited. */
	wait_exited(zombie);

	g_hash_table_add(sessions, GINT_TO_POINTER(leader));
	found = sg_proctree_scan(NULL, sessions);
	g_assert_cmpuint(found->len, ==, 2);
	g_assert_true(scan_has(found, leader, &info));
	g_assert_cmpint(info->sid, ==, leader);
	g_assert_cmpint(info->pgid, ==, leader);
	g_assert_cmpint(info->ppid, ==, getpid());
	g_assert_null(info->service);
	g_assert_true(scan_has(found, grandchild, &info));
	g_assert_cmpint(info->sid, ==, leader);
	g_assert_cmpint(info->pgid, ==, grandchild);
	g_assert_cmpint(info->ppid, ==, leader);
	g_assert_false(scan_has(found, zombie, NULL));

	/* Nothing to look for: nothing found, and ourselves never. */
	none = sg_proctree_scan(NULL, NULL);
	g_assert_cmpuint(none->len, ==, 0);
	g_hash_table_add(sessions, GINT_TO_POINTER(getsid(0)));
	g_clear_pointer(&found, g_ptr_array_unref);
	found = sg_proctree_scan(NULL, sessions);
	g_assert_false(scan_has(found, getpid(), NULL));
	cleanup_tracked();
}

static const char *self_exe;

/* Runs this binary as a paused child with exactly envp; returns once it has exec'd. */
static pid_t
spawn_marked(char **envp, gboolean new_session, gboolean nondumpable)
{
	int pipe_fds[2];
	pid_t child;

	g_assert_no_errno(pipe2(pipe_fds, 0));
	child = fork();
	g_assert_cmpint(child, >=, 0);
	if (child == 0) {
		char fd_text[16];
		char *argv[] = { (char *)self_exe, (char *)"--pause-child", fd_text,
			         (char *)(nondumpable ? "nondumpable" : "dumpable"), NULL };

		close(pipe_fds[0]);
		child_setup();
		if (new_session && setsid() < 0)
			_exit(1);
		g_snprintf(fd_text, sizeof(fd_text), "%d", pipe_fds[1]);
		execve(self_exe, argv, envp);
		_exit(127);
	}
	track(child);
	close(pipe_fds[1]);
	g_assert_cmpint(read_pid(pipe_fds[0]), ==, child);
	close(pipe_fds[0]);
	return child;
}

static void
test_scan_markers(void)
{
	g_autofree char *state_id = g_strdup_printf("test-%d", (int)getpid());
	g_autofree char *state_marker = g_strconcat("SYSTEMG_STATE_ID=", state_id, NULL);
	g_autofree char *other_marker = g_strconcat("SYSTEMG_STATE_ID=", state_id, "x", NULL);
	char *mine_env[] = { (char *)"A=1",
		             state_marker,
		             (char *)"SYSTEMG_SERVICE=web",
		             (char *)"SYSTEMG_INVOCATION_ID=abc123",
		             (char *)"Z=2",
		             NULL };
	char *no_invocation_env[] = { (char *)"SYSTEMG_SERVICE=db", state_marker, NULL };
	char *other_env[] = { other_marker, (char *)"SYSTEMG_SERVICE=web", NULL };
	char *prefix_env[] = { (char *)"SYSTEMG_STATE_ID=test", (char *)"SYSTEMG_SERVICE=web",
		               NULL };
	g_autoptr(GHashTable) sessions = g_hash_table_new(NULL, NULL);
	g_autoptr(GPtrArray) found = NULL;
	const SgProcInfo *info = NULL;
	pid_t mine, no_invocation, other, prefix, other_in_session;

	mine = spawn_marked(mine_env, TRUE, FALSE);
	no_invocation = spawn_marked(no_invocation_env, TRUE, FALSE);
	other = spawn_marked(other_env, TRUE, FALSE);
	prefix = spawn_marked(prefix_env, TRUE, FALSE);
	other_in_session = spawn_marked(other_env, TRUE, FALSE);

	found = sg_proctree_scan(state_id, NULL);
	g_assert_true(scan_has(found, mine, &info));
	g_assert_cmpstr(info->service, ==, "web");
	g_assert_cmpstr(info->invocation_id, ==, "abc123");
	g_assert_cmpint(info->sid, ==, mine);
	g_assert_cmpuint(info->start_time, ==, sg_proctree_start_time(mine));
	g_assert_true(scan_has(found, no_invocation, &info));
	g_assert_cmpstr(info->service, ==, "db");
	g_assert_null(info->invocation_id);
	g_assert_false(scan_has(found, other, NULL));
	g_assert_false(scan_has(found, prefix, NULL));
	g_assert_false(scan_has(found, other_in_session, NULL));

	/* Found through its session, another state's markers are not taken for ours. */
	g_hash_table_add(sessions, GINT_TO_POINTER(other_in_session));
	g_clear_pointer(&found, g_ptr_array_unref);
	found = sg_proctree_scan(state_id, sessions);
	g_assert_true(scan_has(found, other_in_session, &info));
	g_assert_null(info->service);
	g_assert_null(info->invocation_id);
	g_assert_true(scan_has(found, mine, NULL));
	g_assert_false(scan_has(found, other, NULL));
	cleanup_tracked();
}

/*
 * Markers are looked for in the first 256 KiB of an environment only. A non-dumpable
 * process hides its environment from everyone but root (with CAP_SYS_PTRACE); its session
 * still finds it.
 */
static void
test_scan_limits(void)
{
	g_autofree char *state_id = g_strdup_printf("limit-%d", (int)getpid());
	g_autofree char *state_marker = g_strconcat("SYSTEMG_STATE_ID=", state_id, NULL);
	g_autofree char *filler = NULL;
	g_autoptr(GPtrArray) early_env = g_ptr_array_new();
	g_autoptr(GPtrArray) late_env = g_ptr_array_new();
	g_autoptr(GHashTable) sessions = g_hash_table_new(NULL, NULL);
	g_autoptr(GPtrArray) found = NULL;
	char *hidden_env[] = { state_marker, (char *)"SYSTEMG_SERVICE=hidden", NULL };
	pid_t early, late, hidden;

	filler = g_strnfill(100 * 1024, 'x');
	memcpy(filler, "FILLER=", 7);
	g_ptr_array_add(early_env, state_marker);
	for (int i = 0; i < 3; i++) {
		g_ptr_array_add(early_env, filler);
		g_ptr_array_add(late_env, filler);
	}
	g_ptr_array_add(late_env, state_marker);
	g_ptr_array_add(early_env, NULL);
	g_ptr_array_add(late_env, NULL);

	early = spawn_marked((char **)early_env->pdata, TRUE, FALSE);
	late = spawn_marked((char **)late_env->pdata, TRUE, FALSE);
	hidden = spawn_marked(hidden_env, TRUE, TRUE);

	found = sg_proctree_scan(state_id, NULL);
	g_assert_true(scan_has(found, early, NULL));
	g_assert_false(scan_has(found, late, NULL));
	if (geteuid() != 0)
		g_assert_false(scan_has(found, hidden, NULL));

	g_hash_table_add(sessions, GINT_TO_POINTER(hidden));
	g_clear_pointer(&found, g_ptr_array_unref);
	found = sg_proctree_scan(state_id, sessions);
	g_assert_true(scan_has(found, hidden, NULL));
	cleanup_tracked();
}

/* The paused child of spawn_marked(): reports that it has exec'd, then waits for SIGKILL. */
static int
pause_child(int argc, char **argv)
{
	pid_t self = getpid();

	if (argc < 4)
		return 2;
	if (strcmp(argv[3], "nondumpable") == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return 1;
	if (write(atoi(argv[2]), &self, sizeof(self)) != sizeof(self))
		return 1;
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	int status;

	if (argc > 1 && strcmp(argv[1], "--pause-child") == 0)
		return pause_child(argc, argv);

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	self_exe = g_file_read_link("/proc/self/exe", NULL);
	g_assert_nonnull(self_exe);
	tracked = g_array_new(FALSE, FALSE, sizeof(pid_t));
	/* Grandchildren of the tests re-parent to us, so they are reaped too. */
	g_assert_no_errno(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));

	g_test_add_func("/sg/proctree/stat-self", test_stat_self);
	g_test_add_func("/sg/proctree/stat-odd-comm", test_stat_odd_comm);
	g_test_add_func("/sg/proctree/stat-gone", test_stat_gone);
	g_test_add_func("/sg/proctree/usage-self", test_usage_self);
	g_test_add_func("/sg/proctree/scan-session", test_scan_session);
	g_test_add_func("/sg/proctree/scan-markers", test_scan_markers);
	g_test_add_func("/sg/proctree/scan-limits", test_scan_limits);

	status = g_test_run();
	cleanup_tracked();
	g_array_unref(tracked);
	g_free((char *)self_exe);
	return status;
}
