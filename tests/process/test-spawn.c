/* SPDX-License-Identifier: MIT */
/* Tests of sg-spawn with real children: what reaches them, and how failures are reported. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sg-error.h"
#include "process/sg-reaper.h"
#include "process/sg-spawn.h"
#include "lib/sg-test.h"

#define DEADLINE_SECONDS 10

typedef struct {
	SgReaper *reaper;
	char *dir;
} Fixture;

/* What happened to one child: its exec report and its end. */
typedef struct {
	pid_t pid;
	int exec_result; /* sg_spawn_read_status(): 1 exec'd, -1 failed */
	char *message;
	gboolean reaped;
	int status;
} Run;

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

/* Runs the main loop until cond holds, failing the test when the deadline passes first. */
#define WAIT_UNTIL(cond)                                                                           \
	G_STMT_START                                                                               \
	{                                                                                          \
		Deadline deadline_ = { FALSE, 0 };                                                 \
		deadline_.id = g_timeout_add_seconds(DEADLINE_SECONDS, deadline_cb, &deadline_);   \
		while (!(cond) && !deadline_.timed_out)                                            \
			g_main_context_iteration(NULL, TRUE);                                      \
		g_clear_handle_id(&deadline_.id, g_source_remove);                                 \
		g_assert_true(cond);                                                               \
	}                                                                                          \
	G_STMT_END

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->reaper = sg_reaper_new(&error);
	g_assert_no_error(error);
	f->dir = g_dir_make_tmp("sg-spawn-XXXXXX", &error);
	g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	sg_reaper_free(f->reaper);
	sg_test_kill_tracked();
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
}

static void
run_free(Run *run)
{
	g_free(run->message);
	g_free(run);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Run, run_free)

static void
reaped_cb(pid_t pid, int status, gpointer user_data)
{
	Run *run = user_data;

	g_assert_cmpint(pid, ==, run->pid);
	run->reaped = TRUE;
	run->status = status;
	sg_test_untrack_pid(pid);
}

/* The child's exec report, waiting for it no longer than the deadline. */
static int
wait_exec(int status_fd, const char *program, char **ret_message)
{
	gint64 deadline = g_get_monotonic_time() + DEADLINE_SECONDS * G_USEC_PER_SEC;
	struct pollfd pfd = { .fd = status_fd, .events = POLLIN };
	int result;

	while ((result = sg_spawn_read_status(status_fd, program, ret_message)) == 0) {
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;

		g_assert_cmpint(left_ms, >, 0);
		poll(&pfd, 1, (int)left_ms);
	}
	return result;
}

/* Spawns, waits for the exec report, and watches the child. */
static Run *
spawn(Fixture *f, SgSpawnOptions *options)
{
	g_autoptr(GError) error = NULL;
	SgSpawnResult result = { -1, -1 };
	Run *run = g_new0(Run, 1);

	g_assert_true(sg_spawn(options, &result, &error));
	g_assert_no_error(error);
	g_assert_cmpint(result.pid, >, 0);
	g_assert_cmpint(result.status_fd, >=, 0);
	sg_test_track_pid(result.pid);
	run->pid = result.pid;
	sg_reaper_watch(f->reaper, run->pid, reaped_cb, run);

	g_assert_cmpint(fcntl(result.status_fd, F_GETFD), ==, FD_CLOEXEC);
	g_assert_cmpint(fcntl(result.status_fd, F_GETFL) & O_NONBLOCK, ==, O_NONBLOCK);
	run->exec_result = wait_exec(result.status_fd, options->argv[0], &run->message);
	close(result.status_fd);
	return run;
}

/* Runs program (helper-child when NULL) with these actions as arguments to its end, and
 * returns what it wrote to stdout. */
static char *
run_program(Fixture *f, SgSpawnOptions *options, const char *program, const char *const *actions,
            int *ret_status)
{
	g_autofree char *out_path = g_build_filename(f->dir, "stdout", NULL);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(Run) run = NULL;
	char *contents = NULL;
	int out_fd;

	g_ptr_array_add(argv, (gpointer)(program != NULL ? program : sg_test_helper_path()));
	for (guint i = 0; actions[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)actions[i]);
	g_ptr_array_add(argv, NULL);
	out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	g_assert_cmpint(out_fd, >=, 0);

	options->argv = (char **)argv->pdata;
	options->stdout_fd = out_fd;
	run = spawn(f, options);
	close(out_fd);
	g_assert_cmpstr(run->message, ==, NULL);
	g_assert_cmpint(run->exec_result, ==, 1);
	WAIT_UNTIL(run->reaped);
	if (ret_status != NULL)
		*ret_status = run->status;
	else
		g_assert_cmpint(run->status, ==, 0);
	g_assert_true(g_file_get_contents(out_path, &contents, NULL, NULL));
	return contents;
}

static char *
run_helper(Fixture *f, SgSpawnOptions *options, const char *const *actions, int *ret_status)
{
	return run_program(f, options, NULL, actions, ret_status);
}

static void
test_argv_env_cwd(Fixture *f, gconstpointer data)
{
	const char *const actions[] = { "stdout:hello,  world", "env:FOO", "env:HOME", "cwd",
		                        NULL };
	char *envp[] = { "FOO=bar baz", "EMPTY=", NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autofree char *expected = NULL;
	g_autofree char *output = NULL;

	options.envp = envp;
	options.cwd = f->dir;
	output = run_helper(f, &options, actions, NULL);
	/* The environment is exactly envp: nothing of ours leaks in. */
	expected = g_strdup_printf("hello,  world\nFOO=bar baz\nHOME unset\n%s\n", f->dir);
	g_assert_cmpstr(output, ==, expected);
}

static void
test_stdio(Fixture *f, gconstpointer data)
{
	g_autofree char *out_path = g_build_filename(f->dir, "out.log", NULL);
	g_autofree char *err_path = g_build_filename(f->dir, "err.log", NULL);
	g_autofree char *fd0 = NULL;
	g_autofree char *link = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *go = g_build_filename(f->dir, "go", NULL);
	g_autofree char *wait_action = g_strconcat("wait-file:", go, NULL);
	char *argv[] = { (char *)sg_test_helper_path(), "stdout:to out", "stderr:to err",
		         wait_action, NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autoptr(Run) run = NULL;
	int out_fd;
	int err_fd;

	g_assert_true(g_file_set_contents(out_path, "old out\n", -1, NULL));
	g_assert_true(g_file_set_contents(err_path, "old err\n", -1, NULL));
	out_fd = open(out_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	err_fd = open(err_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	g_assert_cmpint(out_fd, >=, 0);
	g_assert_cmpint(err_fd, >=, 0);

	options.argv = argv;
	options.stdout_fd = out_fd;
	options.stderr_fd = err_fd;
	run = spawn(f, &options);
	close(out_fd);
	close(err_fd);
	g_assert_cmpint(run->exec_result, ==, 1);

	/* stdin is /dev/null; stdout and stderr are our files, still in append mode. */
	fd0 = g_strdup_printf("/proc/%d/fd/0", (int)run->pid);
	link = g_file_read_link(fd0, NULL);
	g_assert_cmpstr(link, ==, "/dev/null");
	for (int fd = 1; fd <= 2; fd++) {
		g_autofree char *info_path =
		        g_strdup_printf("/proc/%d/fdinfo/%d", (int)run->pid, fd);
		g_autofree char *info = NULL;
		const char *flags;

		g_assert_true(g_file_get_contents(info_path, &info, NULL, NULL));
		flags = strstr(info, "flags:");
		g_assert_nonnull(flags);
		g_assert_cmpuint(g_ascii_strtoull(flags + 6, NULL, 8) & O_APPEND, ==, O_APPEND);
	}

	g_assert_true(g_file_set_contents(go, "", 0, NULL));
	WAIT_UNTIL(run->reaped);
	g_assert_cmpint(run->status, ==, 0);
	g_assert_true(g_file_get_contents(out_path, &out, NULL, NULL));
	g_assert_true(g_file_get_contents(err_path, &err, NULL, NULL));
	g_assert_cmpstr(out, ==, "old out\nto out\n");
	g_assert_cmpstr(err, ==, "old err\nto err\n");
}

static void
test_stdio_low_fds(Fixture *f, gconstpointer data)
{
	g_autofree char *path = g_build_filename(f->dir, "both.log", NULL);
	g_autofree char *contents = NULL;
	char *argv[] = { (char *)sg_test_helper_path(), "stdout:one", "stderr:two", "stdout:three",
		         NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autoptr(Run) run = NULL;
	int saved_stdin = fcntl(0, F_DUPFD_CLOEXEC, 3);
	int fd;

	/* The file is our fd 0, and both of the child's outputs come from it: setting up the
	 * child's stdin (/dev/null) first must not clobber its source. Our fd 0 may be closed. */
	g_assert_true(saved_stdin >= 0 || errno == EBADF);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(dup2(fd, 0), ==, 0);
	close(fd);

	options.argv = argv;
	options.stdout_fd = 0;
	options.stderr_fd = 0;
	run = spawn(f, &options);
	if (saved_stdin >= 0) {
		g_assert_cmpint(dup2(saved_stdin, 0), ==, 0);
		close(saved_stdin);
	} else {
		close(0);
	}

	g_assert_cmpint(run->exec_result, ==, 1);
	WAIT_UNTIL(run->reaped);
	g_assert_cmpint(run->status, ==, 0);
	g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "one\ntwo\nthree\n");
}

static void
test_session(Fixture *f, gconstpointer data)
{
	char *argv[] = { (char *)sg_test_helper_path(), "pause", NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autoptr(Run) own = NULL;
	g_autoptr(Run) shared = NULL;

	options.argv = argv;
	options.new_session = TRUE;
	own = spawn(f, &options);
	g_assert_cmpint(own->exec_result, ==, 1);
	g_assert_cmpint(getsid(own->pid), ==, own->pid);
	g_assert_cmpint(getpgid(own->pid), ==, own->pid);

	options.new_session = FALSE;
	shared = spawn(f, &options);
	g_assert_cmpint(shared->exec_result, ==, 1);
	g_assert_cmpint(getsid(shared->pid), ==, getsid(0));
	g_assert_cmpint(getpgid(shared->pid), ==, getpgid(0));

	kill(own->pid, SIGKILL);
	kill(shared->pid, SIGKILL);
	WAIT_UNTIL(own->reaped && shared->reaped);
}

static void
test_fds_closed(Fixture *f, gconstpointer data)
{
	const char *const actions[] = { "fds", NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autofree char *output = NULL;
	int leaky = open("/dev/null", O_RDONLY);
	int high;
	int pipe_fds[2];

	/* Inheritable fds of ours, low and high, must not reach the child. */
	g_assert_cmpint(leaky, >=, 0);
	high = dup2(leaky, 900);
	g_assert_cmpint(high, ==, 900);
	g_assert_cmpint(pipe(pipe_fds), ==, 0);

	output = run_helper(f, &options, actions, NULL);
	g_assert_cmpstr(output, ==, "0 1 2\n");
	close(leaky);
	close(high);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
}

static void
test_nofile(Fixture *f, gconstpointer data)
{
	const char *const actions[] = { "nofile", NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autofree char *inherited = NULL;
	g_autofree char *restored = NULL;
	g_autofree char *expected = NULL;
	struct rlimit ours;
	struct rlimit theirs;

	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &ours), ==, 0);
	g_assert_cmpuint(ours.rlim_cur, >, 64);
	inherited = run_helper(f, &options, actions, NULL);
	expected = g_strdup_printf("%llu\n", (unsigned long long)ours.rlim_cur);
	g_assert_cmpstr(inherited, ==, expected);

	/* What sysgd does: it raised its own soft limit and gives services the original back. */
	theirs.rlim_cur = 64;
	theirs.rlim_max = ours.rlim_max;
	options.nofile = &theirs;
	restored = run_helper(f, &options, actions, NULL);
	g_assert_cmpstr(restored, ==, "64\n");
}

/* Spawns argv (which must fail before or at exec) and returns the report. */
static Run *
spawn_failing(Fixture *f, SgSpawnOptions *options)
{
	Run *run = spawn(f, options);

	g_assert_cmpint(run->exec_result, ==, -1);
	WAIT_UNTIL(run->reaped);
	g_assert_true(WIFEXITED(run->status));
	g_assert_cmpint(WEXITSTATUS(run->status), ==, 127);
	return run;
}

static void
test_exec_missing(Fixture *f, gconstpointer data)
{
	char *argv[] = { "/nonexistent", NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autoptr(Run) run = NULL;

	options.argv = argv;
	run = spawn_failing(f, &options);
	g_assert_cmpstr(run->message, ==, "cannot execute /nonexistent: No such file or directory");
}

static void
test_exec_not_executable(Fixture *f, gconstpointer data)
{
	g_autofree char *path = g_build_filename(f->dir, "script", NULL);
	g_autofree char *expected = NULL;
	char *argv[] = { path, NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autoptr(Run) run = NULL;

	/* No execute bit at all: refused even to root. */
	g_assert_true(g_file_set_contents(path, "#!/bin/sh\nexit 0\n", -1, NULL));
	g_assert_cmpint(chmod(path, 0644), ==, 0);
	options.argv = argv;
	run = spawn_failing(f, &options);
	expected = g_strdup_printf("cannot execute %s: Permission denied", path);
	g_assert_cmpstr(run->message, ==, expected);
}

static void
test_bad_cwd(Fixture *f, gconstpointer data)
{
	g_autofree char *missing = g_build_filename(f->dir, "no such dir", NULL);
	g_autofree char *expected = NULL;
	char *argv[] = { (char *)sg_test_helper_path(), NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autoptr(Run) run = NULL;

	options.argv = argv;
	options.cwd = missing;
	run = spawn_failing(f, &options);
	expected = g_strdup_printf("cannot change directory to %s: No such file or directory",
	                           missing);
	g_assert_cmpstr(run->message, ==, expected);
}

static void
test_bad_stdio(Fixture *f, gconstpointer data)
{
	char *argv[] = { (char *)sg_test_helper_path(), NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autoptr(Run) run = NULL;

	options.argv = argv;
	options.stdout_fd = 999; /* not open */
	run = spawn_failing(f, &options);
	g_assert_cmpstr(run->message, ==, "cannot set up standard streams: Bad file descriptor");
}

static void
test_bad_nofile(Fixture *f, gconstpointer data)
{
	char *argv[] = { (char *)sg_test_helper_path(), NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	struct rlimit limit = { .rlim_cur = 100, .rlim_max = 10 };
	g_autoptr(Run) run = NULL;

	options.argv = argv;
	options.nofile = &limit;
	run = spawn_failing(f, &options);
	g_assert_cmpstr(run->message, ==, "cannot set the open-file limit: Invalid argument");
}

static void
test_cgroup(Fixture *f, gconstpointer data)
{
	g_autofree char *cgroup = g_build_filename(f->dir, "cgroup", NULL);
	g_autofree char *procs = g_build_filename(cgroup, "cgroup.procs", NULL);
	g_autofree char *written = NULL;
	const char *const actions[] = { "stdout:joined", NULL };
	char *argv[] = { (char *)sg_test_helper_path(), NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autofree char *output = NULL;
	g_autoptr(Run) run = NULL;
	int dir_fd;

	/* A plain directory stands in for a cgroup: the child writes "0" to its cgroup.procs. */
	g_assert_cmpint(g_mkdir(cgroup, 0700), ==, 0);
	dir_fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	g_assert_cmpint(dir_fd, >=, 0);
	options.cgroup_fd = dir_fd;
	options.argv = argv;
	run = spawn_failing(f, &options);
	g_assert_cmpstr(run->message, ==,
	                "cannot join the service's cgroup: No such file or directory");

	g_assert_true(g_file_set_contents(procs, "", 0, NULL));
	output = run_helper(f, &options, actions, NULL);
	g_assert_cmpstr(output, ==, "joined\n");
	g_assert_true(g_file_get_contents(procs, &written, NULL, NULL));
	g_assert_cmpstr(written, ==, "0");
	close(dir_fd);
}

static void
test_signals_reset(Fixture *f, gconstpointer data)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN };
	struct sigaction saved_term;
	sigset_t block;
	sigset_t saved_mask;
	char *argv[] = { (char *)sg_test_helper_path(), "pause", NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autoptr(Run) run = NULL;
	g_autofree char *status_path = NULL;
	g_autofree char *status = NULL;

	/* A parent that ignores SIGTERM and blocks SIGCHLD (as sysgd does) and SIGTERM. */
	sigemptyset(&ignore.sa_mask);
	g_assert_cmpint(sigaction(SIGTERM, &ignore, &saved_term), ==, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	g_assert_cmpint(pthread_sigmask(SIG_BLOCK, &block, &saved_mask), ==, 0);

	options.argv = argv;
	run = spawn(f, &options);

	g_assert_cmpint(pthread_sigmask(SIG_SETMASK, &saved_mask, NULL), ==, 0);
	g_assert_cmpint(sigaction(SIGTERM, &saved_term, NULL), ==, 0);
	g_assert_cmpint(run->exec_result, ==, 1);

	status_path = g_strdup_printf("/proc/%d/status", (int)run->pid);
	g_assert_true(g_file_get_contents(status_path, &status, NULL, NULL));
	g_assert_nonnull(strstr(status, "\nSigBlk:\t0000000000000000\n"));
	g_assert_nonnull(strstr(status, "\nSigIgn:\t0000000000000000\n"));

	g_assert_cmpint(kill(run->pid, SIGTERM), ==, 0);
	WAIT_UNTIL(run->reaped);
	g_assert_true(WIFSIGNALED(run->status));
	g_assert_cmpint(WTERMSIG(run->status), ==, SIGTERM);
}

static void
test_read_status(Fixture *f, gconstpointer data)
{
	g_autofree char *message = NULL;
	int fds[2];

	/* Nothing yet while the write end is open; EOF means the exec happened. */
	g_assert_cmpint(pipe2(fds, O_CLOEXEC | O_NONBLOCK), ==, 0);
	g_assert_cmpint(sg_spawn_read_status(fds[0], "x", &message), ==, 0);
	g_assert_null(message);
	close(fds[1]);
	g_assert_cmpint(sg_spawn_read_status(fds[0], "x", &message), ==, 1);
	g_assert_null(message);
	close(fds[0]);
}

static void
make_file(const char *path, int mode)
{
	g_assert_true(g_file_set_contents(path, "#!/bin/sh\n", -1, NULL));
	g_assert_cmpint(chmod(path, mode), ==, 0);
}

static void
test_find_program(Fixture *f, gconstpointer data)
{
	g_autofree char *a = g_build_filename(f->dir, "a", NULL);
	g_autofree char *b = g_build_filename(f->dir, "b", NULL);
	g_autofree char *c = g_build_filename(f->dir, "c", NULL);
	g_autofree char *a_prog = g_build_filename(a, "prog", NULL);
	g_autofree char *b_prog = g_build_filename(b, "prog", NULL);
	g_autofree char *c_prog = g_build_filename(c, "prog", NULL);
	g_autofree char *path_var = g_strdup_printf("PATH=%s:%s:%s", a, b, c);
	g_autofree char *short_path_var = g_strdup_printf("PATH=%s:%s", a, b);
	g_autofree char *expected = NULL;
	g_autofree char *relative = NULL;
	g_autofree char *found = NULL;
	g_autoptr(GError) error = NULL;
	char *envp[] = { path_var, NULL };
	char *short_envp[] = { short_path_var, NULL };
	char *empty_envp[] = { NULL };
	char *relative_envp[] = { "PATH=b:c", NULL };

	g_assert_cmpint(g_mkdir(a, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(b, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(c, 0700), ==, 0);
	make_file(a_prog, 0644);                       /* not executable: skipped */
	g_assert_cmpint(g_mkdir(b_prog, 0755), ==, 0); /* a directory: skipped */
	make_file(c_prog, 0755);

	/* Our own PATH has nothing to do with it. */
	g_setenv("PATH", a, TRUE);
	found = sg_spawn_find_program("prog", envp, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(found, ==, c_prog);
	g_clear_pointer(&found, g_free);

	found = sg_spawn_find_program("prog", short_envp, NULL, &error);
	g_assert_null(found);
	expected = g_strdup_printf("program \"prog\" not found in PATH=%s:%s", a, b);
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_assert_cmpstr(error->message, ==, expected);
	g_clear_error(&error);

	/* No PATH at all: the usual default. */
	found = sg_spawn_find_program("prog", empty_envp, NULL, &error);
	g_assert_null(found);
	g_assert_cmpstr(error->message, ==,
	                "program \"prog\" not found in PATH=/usr/local/bin:/usr/bin:/bin");
	g_clear_error(&error);
	found = sg_spawn_find_program("sh", empty_envp, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_suffix(found, "/bin/sh"));
	g_clear_pointer(&found, g_free);

	/* Relative PATH entries start in the child's working directory. */
	found = sg_spawn_find_program("prog", relative_envp, f->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(found, ==, c_prog);
	g_clear_pointer(&found, g_free);

	/* A name with a slash is not searched: made absolute against cwd, existence unchecked. */
	found = sg_spawn_find_program("./c/prog", envp, f->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(found, ==, c_prog);
	g_clear_pointer(&found, g_free);
	found = sg_spawn_find_program("missing/prog", envp, f->dir, &error);
	g_assert_no_error(error);
	relative = g_build_filename(f->dir, "missing", "prog", NULL);
	g_assert_cmpstr(found, ==, relative);
	g_clear_pointer(&found, g_free);
	found = sg_spawn_find_program("/x/y", envp, f->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(found, ==, "/x/y");
	g_clear_pointer(&found, g_free);

	found = sg_spawn_find_program("", envp, NULL, &error);
	g_assert_null(found);
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
}

static void
test_find_and_run(Fixture *f, gconstpointer data)
{
	g_autofree char *bin = g_build_filename(f->dir, "bin", NULL);
	g_autofree char *link = g_build_filename(bin, "helper", NULL);
	g_autofree char *path_var = g_strdup_printf("PATH=%s", bin);
	g_autoptr(GError) error = NULL;
	const char *const actions[] = { "env:PATH", NULL };
	char *envp[] = { path_var, NULL };
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autofree char *program = NULL;
	g_autofree char *output = NULL;
	g_autofree char *expected = NULL;

	/* The way sysgd starts an exec service: look up in its PATH, then spawn. */
	g_assert_cmpint(g_mkdir(bin, 0700), ==, 0);
	g_assert_cmpint(symlink(sg_test_helper_path(), link), ==, 0);
	program = sg_spawn_find_program("helper", envp, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(program, ==, link);

	options.envp = envp;
	output = run_program(f, &options, program, actions, NULL);
	expected = g_strdup_printf("%s\n", path_var);
	g_assert_cmpstr(output, ==, expected);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	sg_test_install_abort_cleanup();

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/sg/spawn/argv-env-cwd", test_argv_env_cwd);
	ADD("/sg/spawn/stdio", test_stdio);
	ADD("/sg/spawn/stdio-low-fds", test_stdio_low_fds);
	ADD("/sg/spawn/session", test_session);
	ADD("/sg/spawn/fds-closed", test_fds_closed);
	ADD("/sg/spawn/nofile", test_nofile);
	ADD("/sg/spawn/exec-missing", test_exec_missing);
	ADD("/sg/spawn/exec-not-executable", test_exec_not_executable);
	ADD("/sg/spawn/bad-cwd", test_bad_cwd);
	ADD("/sg/spawn/bad-stdio", test_bad_stdio);
	ADD("/sg/spawn/bad-nofile", test_bad_nofile);
	ADD("/sg/spawn/cgroup", test_cgroup);
	ADD("/sg/spawn/signals-reset", test_signals_reset);
	ADD("/sg/spawn/read-status", test_read_status);
	ADD("/sg/spawn/find-program", test_find_program);
	ADD("/sg/spawn/find-and-run", test_find_and_run);
#undef ADD
	return g_test_run();
}
