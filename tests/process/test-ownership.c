/* SPDX-License-Identifier: MIT */
/* Tests of which processes are ours: the rule, one scan, the door for signals, the supervisor. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "process/sg-contain.h"
#include "base/sg-error.h"
#include "process/sg-ownership.h"
#include "base/sg-paths.h"
#include "process/sg-proctree.h"
#include "process/sg-reaper.h"
#include "process/sg-spawn.h"

#define DEADLINE_MS 10000
#define LONG_SLEEP  "60000"
#define STATE_ID    "0123456789abcdef0123456789abcdef"

static SgReaper *reaper;
static char *helper;
/* Everything a test started, killed when it ends, pass or fail. */
static GArray *tracked;

static void
track(pid_t pid)
{
	g_array_append_val(tracked, pid);
}

static gboolean
alive(pid_t pid)
{
	return sg_proctree_start_time(pid) != 0;
}

/* Waits (pidfd, no polling) until pid has exited or DEADLINE_MS passed; TRUE if it did. */
static gboolean
wait_gone(pid_t pid)
{
	struct pollfd pfd = { .events = POLLIN };
	gboolean gone;

	pfd.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd.fd < 0)
		return errno == ESRCH;
	gone = poll(&pfd, 1, DEADLINE_MS) == 1;
	close(pfd.fd);
	return gone;
}

static void
kill_tracked(void)
{
	for (guint i = 0; i < tracked->len; i++) {
		pid_t pid = g_array_index(tracked, pid_t, i);

		/* Tests own these PIDs: they are our children or re-parented to us. */
		if (alive(pid) && kill(pid, SIGKILL) == 0)
			g_assert_true(wait_gone(pid));
	}
	g_array_set_size(tracked, 0);
	sg_reaper_dispatch(reaper);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void
wait_lines(int fd, guint n)
{
	gint64 deadline = g_get_monotonic_time() + DEADLINE_MS * 1000;
	guint seen = 0;
	char buf[256];

	while (seen < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t len;

		g_assert_cmpint(
		        poll(&pfd, 1, (int)MAX((deadline - g_get_monotonic_time()) / 1000, 0)), ==,
		        1);
		len = read(fd, buf, sizeof(buf));
		g_assert_cmpint(len, >, 0);
		for (ssize_t i = 0; i < len; i++)
			seen += buf[i] == '\n';
	}
}

/* helper-child with args, in its own session; with service, our markers. Returns once it
 * printed one line (its last action before pause is "stdout:ready"). */
static pid_t
start(const char *service, const char *const *args)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GPtrArray) envp = g_ptr_array_new_with_free_func(g_free);
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	SgSpawnResult result;
	int out[2];

	g_ptr_array_add(argv, helper);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (char *)args[i]);
	g_ptr_array_add(argv, NULL);
	g_ptr_array_add(envp, g_strdup("PATH=/usr/bin:/bin"));
	if (service != NULL) {
		g_ptr_array_add(envp, g_strdup("SYSTEMG_STATE_ID=" STATE_ID));
		g_ptr_array_add(envp, g_strconcat("SYSTEMG_SERVICE=", service, NULL));
	}
	g_ptr_array_add(envp, NULL);
	g_assert_no_errno(pipe2(out, O_CLOEXEC));
	options.argv = (char **)argv->pdata;
	options.envp = (char **)envp->pdata;
	options.stdout_fd = out[1];
	options.new_session = TRUE;
	g_assert_true(sg_spawn(&options, &result, &error));
	g_assert_no_error(error);
	close(out[1]);
	close(result.status_fd);
	track(result.pid);
	wait_lines(out[0], 1);
	close(out[0]);
	return result.pid;
}

static GArray *
read_pids(const char *path)
{
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;

	g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	lines = g_strsplit(contents, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		pid_t pid = (pid_t)g_ascii_strtoll(*line, NULL, 10);

		if (pid > 0) {
			g_array_append_val(pids, pid);
			track(pid);
		}
	}
	return pids;
}

static SgProcInfo *
find(GPtrArray *procs, pid_t pid)
{
	for (guint i = 0; i < procs->len; i++)
		if (((SgProcInfo *)procs->pdata[i])->pid == pid)
			return procs->pdata[i];
	return NULL;
}

typedef struct {
	char *dir;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("sg-ownership-XXXXXX", &error);
	g_assert_no_error(error);
	g_assert_no_errno(chmod(f->dir, 0755));
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
	const char *name;

	kill_tracked();
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(f->dir, name, NULL);
		g_remove(path);
	}
	g_rmdir(f->dir);
	g_free(f->dir);
}

/* ---- the rule ---- */

/* A recorded main process: its start time must be the recorded one, its markers agree. */
static void
test_recorded(void)
{
	SgProcInfo info = { .pid = 42, .start_time = 1000, .markers = SG_MARKERS_NONE };
	g_autofree char *why = NULL;

	g_assert_cmpint(sg_ownership_check_recorded(&info, "web", 0, &why), ==, SG_PROOF_NONE);
	g_assert_nonnull(strstr(why, "no process start time was recorded"));
	g_clear_pointer(&why, g_free);
	g_assert_cmpint(sg_ownership_check_recorded(&info, "web", 999, &why), ==, SG_PROOF_NONE);
	g_assert_nonnull(strstr(why, "start time is not the one recorded"));
	g_clear_pointer(&why, g_free);
	/* Wiped or unreadable markers: the start time alone vouches for it. */
	g_assert_cmpint(sg_ownership_check_recorded(&info, "web", 1000, &why), ==,
	                SG_PROOF_RECORDED);
	info.markers = SG_MARKERS_UNREAD;
	g_assert_cmpint(sg_ownership_check_recorded(&info, "web", 1000, NULL), ==,
	                SG_PROOF_RECORDED);
	info.markers = SG_MARKERS_OTHER;
	g_assert_cmpint(sg_ownership_check_recorded(&info, "web", 1000, &why), ==, SG_PROOF_NONE);
	g_assert_nonnull(strstr(why, "another state directory"));
	g_clear_pointer(&why, g_free);
	info.markers = SG_MARKERS_OURS;
	info.service = (char *)"db";
	g_assert_cmpint(sg_ownership_check_recorded(&info, "web", 1000, &why), ==, SG_PROOF_NONE);
	g_assert_nonnull(strstr(why, "another service"));
	info.service = (char *)"web";
	g_assert_cmpint(sg_ownership_check_recorded(&info, "web", 1000, NULL), ==,
	                SG_PROOF_RECORDED);
}

/*
 * Children that leave the session and run with an empty environment while their parent
 * lives (PostgreSQL's backends): the markers and the session miss them, the parent PID does
 * not. A child marked for another service stays that service's.
 */
static void
test_descendants(Fixture *f, gconstpointer data)
{
	g_autofree char *pids_file = g_build_filename(f->dir, "pids", NULL);
	g_autofree char *pids_arg = g_strconcat("pids:", pids_file, NULL);
	const char *args[] = { pids_arg,
		               "wiped-child:" LONG_SLEEP,
		               "wiped-child:" LONG_SLEEP,
		               "stdout:ready",
		               "pause",
		               NULL };
	const char *other_args[] = { "stdout:ready", "pause", NULL };
	g_autoptr(GArray) children = NULL;
	g_autoptr(GPtrArray) scan = NULL;
	g_autoptr(GPtrArray) members = NULL;
	g_autofree guint *owners = NULL;
	pid_t main_pid = start("db", args);
	pid_t other_pid = start("api", other_args);
	SgOwnedService services[] = { { "db", main_pid, 0, FALSE },
		                      { "api", other_pid, 0, FALSE } };

	children = read_pids(pids_file);
	g_assert_cmpuint(children->len, ==, 2);
	scan = sg_proctree_scan_all(STATE_ID);
	for (guint i = 0; i < children->len; i++) {
		SgProcInfo *child = find(scan, g_array_index(children, pid_t, i));

		g_assert_nonnull(child);
		g_assert_cmpint(child->markers, ==, SG_MARKERS_NONE);
		g_assert_cmpint(child->sid, ==, child->pid);
		g_assert_cmpint(child->ppid, ==, main_pid);
	}
	members = sg_ownership_members(scan, &services[0], SG_OWNERSHIP_NONE);
	g_assert_cmpuint(members->len, ==, 3);
	g_assert_cmpint(((SgProcInfo *)members->pdata[0])->pid, ==, main_pid);
	g_assert_cmpint(((SgProcInfo *)members->pdata[0])->proof, ==, SG_PROOF_MARKERS);
	for (guint i = 0; i < children->len; i++)
		g_assert_cmpint(find(members, g_array_index(children, pid_t, i))->proof, ==,
		                SG_PROOF_DESCENDANT);
	g_assert_null(find(members, other_pid));

	/* Both services in one pass: each process counted once, for its own service. */
	owners = sg_ownership_assign(scan, services, G_N_ELEMENTS(services), SG_OWNERSHIP_NONE);
	for (guint i = 0; i < scan->len; i++) {
		const SgProcInfo *info = scan->pdata[i];
		guint want = info->pid == other_pid ? 2 : find(members, info->pid) != NULL ? 1 : 0;

		g_assert_cmpuint(owners[i], ==, want);
	}
}

/* A main process whose environment was rewritten: its recorded start time proves it. */
static void
test_recorded_leader(Fixture *f, gconstpointer data)
{
	const char *args[] = { "rewrite-env", "stdout:ready", "pause", NULL };
	pid_t main_pid = start("web", args);
	g_autoptr(GPtrArray) scan = sg_proctree_scan_all(STATE_ID);
	SgOwnedService service = { "web", main_pid, 0, FALSE };
	g_autoptr(GPtrArray) members = NULL;

	g_assert_cmpint(find(scan, main_pid)->markers, ==, SG_MARKERS_NONE);
	members = sg_ownership_members(scan, &service, SG_OWNERSHIP_NONE);
	g_assert_cmpuint(members->len, ==, 0);
	g_clear_pointer(&members, g_ptr_array_unref);
	service.leader_start_time = sg_proctree_start_time(main_pid) + 1;
	members = sg_ownership_members(scan, &service, SG_OWNERSHIP_NONE);
	g_assert_cmpuint(members->len, ==, 0);
	g_clear_pointer(&members, g_ptr_array_unref);
	service.leader_start_time = sg_proctree_start_time(main_pid);
	members = sg_ownership_members(scan, &service, SG_OWNERSHIP_NONE);
	g_assert_cmpuint(members->len, ==, 1);
	g_assert_cmpint(((SgProcInfo *)members->pdata[0])->proof, ==, SG_PROOF_RECORDED);
	g_clear_pointer(&members, g_ptr_array_unref);
	/* The supervisor's children are its own, markers or not. */
	service.leader_start_time = 0;
	members = sg_ownership_members(scan, &service, SG_OWNERSHIP_CHILDREN);
	g_assert_cmpuint(members->len, ==, 1);
	g_assert_cmpint(((SgProcInfo *)members->pdata[0])->proof, ==, SG_PROOF_CHILD);
}

typedef struct {
	guint n_calls;
	guint n_processes;
} Done;

static void
done_cb(const char *service, gboolean killed, guint n_processes, gpointer user_data)
{
	Done *done = user_data;

	done->n_calls++;
	done->n_processes = n_processes;
}

static void
timed_out_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
}

/* Stops service as `sysg stop` does, sid its main process. */
static Done
stop_as_client(const char *service, pid_t sid, guint64 recorded_start_time)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	g_autoptr(GError) error = NULL;
	g_autoptr(SgContain) contain = sg_contain_open(NULL, STATE_ID, clock, &error);
	gboolean timed_out = FALSE;
	Done done = { 0 };
	guint timer;

	g_assert_no_error(error);
	sg_contain_set_recorded(contain, service, recorded_start_time);
	timer = sg_clock_add_timeout(clock, DEADLINE_MS, timed_out_cb, &timed_out);
	(void)sg_contain_stop(contain, service, sid, 5000, done_cb, &done);
	while (done.n_calls == 0 && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	sg_clock_cancel(clock, timer);
	g_assert_cmpuint(done.n_calls, ==, 1);
	return done;
}

/*
 * A session leader that is not ours (no markers, no record, not our child), named as a
 * service's main process: it is not signalled. Once its start time is given as recorded it
 * is proven, and stopped. Then a marked one with its children that left the session: all
 * stopped, and nothing else.
 */
static void
test_stop_proven_only(Fixture *f, gconstpointer data)
{
	g_autofree char *pids_file = g_build_filename(f->dir, "pids", NULL);
	g_autofree char *pids_arg = g_strconcat("pids:", pids_file, NULL);
	/* Its wiped child leads a session, has no markers and is not our child. */
	const char *foreign_args[] = { pids_arg, "wiped-child:" LONG_SLEEP, "stdout:ready", "pause",
		                       NULL };
	const char *marked_args[] = { pids_arg, "wiped-child:" LONG_SLEEP, "stdout:ready", "pause",
		                      NULL };
	g_autoptr(GArray) pids = NULL;
	pid_t parent = start(NULL, foreign_args);
	pid_t foreign, marked;
	Done done;

	pids = read_pids(pids_file);
	foreign = g_array_index(pids, pid_t, 0);
	done = stop_as_client("web", foreign, 0);
	g_assert_cmpuint(done.n_processes, ==, 0);
	g_assert_true(alive(foreign));
	done = stop_as_client("web", foreign, sg_proctree_start_time(foreign) + 1);
	g_assert_cmpuint(done.n_processes, ==, 0);
	g_assert_true(alive(foreign));
	done = stop_as_client("web", foreign, sg_proctree_start_time(foreign));
	g_assert_cmpuint(done.n_processes, ==, 1);
	g_assert_true(wait_gone(foreign));
	g_assert_true(alive(parent));

	g_assert_no_errno(g_unlink(pids_file));
	g_clear_pointer(&pids, g_array_unref);
	marked = start("web", marked_args);
	pids = read_pids(pids_file);
	done = stop_as_client("web", marked, 0);
	g_assert_cmpuint(done.n_processes, ==, 2);
	g_assert_true(wait_gone(marked));
	g_assert_true(wait_gone(g_array_index(pids, pid_t, 0)));
	g_assert_true(alive(parent));
}

/* ---- the door ---- */

static void
test_door(Fixture *f, gconstpointer data)
{
	g_autofree char *pids_file = g_build_filename(f->dir, "pids", NULL);
	g_autofree char *pids_arg = g_strconcat("pids:", pids_file, NULL);
	const char *args[] = { pids_arg, "daemon:" LONG_SLEEP, "stdout:ready", "pause", NULL };
	pid_t pid = start(NULL, args);
	g_autoptr(GArray) pids = read_pids(pids_file);
	pid_t grandchild = g_array_index(pids, pid_t, 0);
	SgProcInfo info = { 0 };

	g_assert_true(sg_proctree_read_stat(pid, &info));
	/* Not proven: refused, whatever the signal. */
	g_assert_cmpint(sg_ownership_signal(&info, -1, SIGKILL), ==, -EPERM);
	g_assert_cmpint(sg_ownership_signal_group(&info, -1, SIGKILL), ==, -EPERM);
	info.proof = SG_PROOF_VOUCHED;
	g_assert_cmpint(sg_ownership_signal(&info, -1, SIGKILL), ==, -EPERM);
	/* Proven, but for another process: the start time differs. */
	info.proof = SG_PROOF_MARKERS;
	info.start_time++;
	g_assert_cmpint(sg_ownership_signal(&info, -1, SIGKILL), ==, -ESRCH);
	g_assert_cmpint(sg_ownership_signal_group(&info, -1, SIGKILL), ==, -ESRCH);
	g_assert_true(alive(pid));
	/* The grandchild was re-parented to us (the subreaper) only after its parent left:
	 * it is our child now; a process of another parent is not. */
	g_assert_cmpint(sg_ownership_signal_child(getppid(), FALSE, 0), ==, -EPERM);
	g_assert_cmpint(sg_ownership_signal_child(pid, TRUE, 0), ==, 0);
	info.start_time--;
	g_assert_cmpint(sg_ownership_signal(&info, -1, 0), ==, 0);
	/* Ourselves and our own group: never. */
	g_assert_true(sg_proctree_read_stat(getpid(), &info));
	info.proof = SG_PROOF_MARKERS;
	g_assert_cmpint(sg_ownership_signal(&info, -1, 0), ==, -EPERM);
	g_assert_cmpint(sg_ownership_signal_child(getpgrp(), TRUE, 0), ==, -EPERM);
	/* A group only through its leader: the grandchild is in the group its parent led
	 * (daemon: setsid, then fork), which has no leader any more. */
	g_assert_true(sg_proctree_read_stat(grandchild, &info));
	g_assert_cmpint(info.pgid, !=, grandchild);
	info.proof = SG_PROOF_MARKERS;
	g_assert_cmpint(sg_ownership_signal_group(&info, -1, SIGTERM), ==, -ESRCH);
	g_assert_true(alive(grandchild));
	g_assert_cmpint(sg_ownership_signal(&info, -1, SIGTERM), ==, 0);
	g_assert_true(wait_gone(grandchild));
	g_assert_cmpint(sg_ownership_signal_child(pid, TRUE, SIGTERM), ==, 0);
	g_assert_true(wait_gone(pid));
}

/* ---- the supervisor ---- */

typedef enum {
	FAKE_LOCK = 1 << 0,   /* takes the lock on sysg.pid */
	FAKE_SOCKET = 1 << 1, /* listens on control.sock */
} FakeFlags;

/* A child that plays (part of) a supervisor of dir, writing names (0: itself) to sysg.pid. */
static pid_t
start_fake_supervisor(const char *dir, FakeFlags flags, pid_t names)
{
	g_autofree char *pid_path = g_build_filename(dir, SG_STATE_PID_FILE, NULL);
	g_autofree char *socket_path = g_build_filename(dir, SG_STATE_SOCKET, NULL);
	int ready[2];
	char byte;
	pid_t child;

	g_assert_no_errno(pipe2(ready, O_CLOEXEC));
	child = fork();
	g_assert_cmpint(child, >=, 0);
	if (child == 0) {
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		g_autofree char *text = NULL;
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		fd = open(pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || ((flags & FAKE_LOCK) && flock(fd, LOCK_EX) < 0))
			_exit(1);
		text = g_strdup_printf("%d\n", names > 0 ? (int)names : (int)getpid());
		if (write(fd, text, strlen(text)) < 0)
			_exit(1);
		if (flags & FAKE_SOCKET) {
			int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			g_strlcpy(addr.sun_path, socket_path, sizeof(addr.sun_path));
			if (sock < 0 || bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
			    listen(sock, 4) < 0)
				_exit(1);
		}
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	track(child);
	close(ready[1]);
	g_assert_cmpint(read(ready[0], &byte, 1), ==, 1);
	close(ready[0]);
	return child;
}

static void
clear_state_dir(const char *dir)
{
	g_autofree char *pid_path = g_build_filename(dir, SG_STATE_PID_FILE, NULL);
	g_autofree char *socket_path = g_build_filename(dir, SG_STATE_SOCKET, NULL);

	kill_tracked();
	g_unlink(pid_path);
	g_unlink(socket_path);
}

static void
test_supervisor(Fixture *f, gconstpointer data)
{
	const char *args[] = { "stdout:ready", "pause", NULL };
	g_autoptr(GError) error = NULL;
	pid_t other, fake;

	/* sysg.pid names a process that does not hold its lock. */
	other = start(NULL, args);
	fake = start_fake_supervisor(f->dir, FAKE_LOCK | FAKE_SOCKET, other);
	g_assert_false(sg_ownership_signal_supervisor(f->dir, other, SIGTERM, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "does not hold the lock"));
	g_clear_error(&error);
	g_assert_true(alive(other));
	clear_state_dir(f->dir);

	/* It holds the lock but serves no control.sock: not a supervisor. */
	fake = start_fake_supervisor(f->dir, FAKE_LOCK, 0);
	g_assert_false(sg_ownership_signal_supervisor(f->dir, fake, SIGTERM, &error));
	g_assert_nonnull(strstr(error->message, "does not serve"));
	g_clear_error(&error);
	g_assert_true(alive(fake));
	clear_state_dir(f->dir);

	/* It serves the socket but holds no lock. */
	fake = start_fake_supervisor(f->dir, FAKE_SOCKET, 0);
	g_assert_false(sg_ownership_signal_supervisor(f->dir, fake, SIGTERM, &error));
	g_assert_nonnull(strstr(error->message, "does not hold the lock"));
	g_clear_error(&error);
	g_assert_true(alive(fake));
	clear_state_dir(f->dir);

	/* Both: the supervisor of this state directory. */
	fake = start_fake_supervisor(f->dir, FAKE_LOCK | FAKE_SOCKET, 0);
	g_assert_true(sg_ownership_signal_supervisor(f->dir, fake, SIGTERM, &error));
	g_assert_no_error(error);
	g_assert_true(wait_gone(fake));
	clear_state_dir(f->dir);
}

static void
orphan_cb(pid_t pid, int wait_status, gpointer user_data)
{
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	const char *env_helper = g_getenv("SG_TEST_HELPER_CHILD");
	int status;

	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	/* Before anything could start a thread: SIGCHLD blocked, subreaper. */
	reaper = sg_reaper_new(&error);
	g_assert_no_error(error);
	sg_reaper_set_orphan_func(reaper, orphan_cb, NULL);
	helper = env_helper != NULL ? g_strdup(env_helper)
	                            : g_test_build_filename(G_TEST_BUILT, "helper-child", NULL);
	tracked = g_array_new(FALSE, FALSE, sizeof(pid_t));

	g_test_add_func("/sg/ownership/recorded", test_recorded);
	g_test_add("/sg/ownership/descendants", Fixture, NULL, fixture_set_up, test_descendants,
	           fixture_tear_down);
	g_test_add("/sg/ownership/recorded-leader", Fixture, NULL, fixture_set_up,
	           test_recorded_leader, fixture_tear_down);
	g_test_add("/sg/ownership/stop-proven-only", Fixture, NULL, fixture_set_up,
	           test_stop_proven_only, fixture_tear_down);
	g_test_add("/sg/ownership/door", Fixture, NULL, fixture_set_up, test_door,
	           fixture_tear_down);
	g_test_add("/sg/ownership/supervisor", Fixture, NULL, fixture_set_up, test_supervisor,
	           fixture_tear_down);

	status = g_test_run();
	sg_reaper_free(reaper);
	g_array_unref(tracked);
	g_free(helper);
	return status;
}
