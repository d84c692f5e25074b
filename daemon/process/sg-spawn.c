/* SPDX-License-Identifier: MIT */
/* The one way sysgd starts a process: fork, set the child up with async-signal-safe calls, exec. */
#include "config.h"

#define G_LOG_DOMAIN "sg-spawn"

#include "process/sg-spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/sg-error.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* What the child was doing when it failed, in the order it does them. */
typedef enum {
	STAGE_CGROUP = 1,
	STAGE_SESSION,
	STAGE_STDIO,
	STAGE_NOFILE,
	STAGE_CHDIR,
	STAGE_EXEC,
} Stage;

/* The child's failure report: this header, then `length` bytes naming the subject (the
 * working directory for STAGE_CHDIR). One write of at most PIPE_BUF bytes, so it arrives
 * whole. */
typedef struct {
	gint32 stage;
	gint32 error;
	guint32 length;
} Report;

#define REPORT_MAX_SUBJECT (PIPE_BUF - sizeof(Report))

/* Everything the child needs, prepared before vfork() so the child only makes system calls. */
typedef struct {
	char **argv;
	char **envp;
	const char *cwd;
	size_t cwd_length;
	int std_fds[3];
	int report_fd;
	gboolean new_session;
	const struct rlimit *nofile;
	int cgroup_fd;
} ChildSetup;

static G_NORETURN void
child_fail(const ChildSetup *setup, int report_fd, Stage stage, int error)
{
	Report report = { .stage = stage, .error = error };
	struct iovec iov[2] = { { &report, sizeof report } };
	int n_iov = 1;

	if (stage == STAGE_CHDIR) {
		report.length = (guint32)setup->cwd_length;
		iov[1].iov_base = (void *)setup->cwd;
		iov[1].iov_len = setup->cwd_length;
		n_iov = 2;
	}
	while (writev(report_fd, iov, n_iov) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* A dirent64 name as an fd number, or -1; by hand, since strtol() is not async-signal-safe. */
static int
child_parse_fd(const char *name)
{
	int fd = 0;

	if (*name == '\0')
		return -1;
	for (; *name != '\0'; name++) {
		if (*name < '0' || *name > '9' || fd > (INT_MAX - 9) / 10)
			return -1;
		fd = fd * 10 + (*name - '0');
	}
	return fd;
}

/* Closes every fd from 3 up, except keep. */
static void
child_close_fds(int keep)
{
	union {
		struct dirent64 entry;
		char bytes[4096];
	} buffer;
	struct rlimit limit;
	int dir_fd;
	long n;

	if ((keep <= 3 || syscall(SYS_close_range, 3U, (unsigned int)keep - 1, 0U) == 0) &&
	    syscall(SYS_close_range, (unsigned int)keep + 1, ~0U, 0U) == 0)
		return;

	/* Kernels before 5.9: the fds that are open, as /proc lists them (numbered positions, so
	 * closing while reading skips nothing). */
	dir_fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd >= 0) {
		while ((n = syscall(SYS_getdents64, dir_fd, buffer.bytes, sizeof buffer)) > 0) {
			for (long offset = 0; offset < n;) {
				const struct dirent64 *entry =
				        (const struct dirent64 *)(buffer.bytes + offset);
				int fd = child_parse_fd(entry->d_name);

				offset += entry->d_reclen;
				if (fd >= 3 && fd != keep && fd != dir_fd)
					close(fd);
			}
		}
		close(dir_fd);
		return;
	}

	/* No /proc: every number below the limit. */
	if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur == RLIM_INFINITY ||
	    limit.rlim_cur > INT_MAX)
		limit.rlim_cur = 65536;
	for (int fd = 3; fd < (int)limit.rlim_cur; fd++)
		if (fd != keep)
			close(fd);
}

static G_NORETURN void
child_run(const ChildSetup *setup)
{
	struct sigaction action = { .sa_handler = SIG_DFL };
	int report_fd = setup->report_fd;
	int std_fds[3];
	sigset_t none;

	/* Handlers are reset by exec anyway, but ignored signals and the mask are inherited, and
	 * a handler of the parent must not run in the child before exec. Signals stay blocked
	 * (by the parent, around fork) until this is done. glibc refuses its internal signals:
	 * nothing to reset there. */
	sigemptyset(&action.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &action, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (setup->cgroup_fd >= 0) {
		int fd = openat(setup->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1)
			child_fail(setup, report_fd, STAGE_CGROUP, errno);
		close(fd);
	}

	if (setup->new_session && setsid() < 0)
		child_fail(setup, report_fd, STAGE_SESSION, errno);

	/* Move the report fd and every source above 2 first, so that no dup2() onto 0-2 can
	 * clobber a source still needed (a source may itself be 0, 1 or 2). */
	if (report_fd < 3) {
		report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 3);
		if (report_fd < 0)
			_exit(127);
	}
	for (int i = 0; i < 3; i++) {
		std_fds[i] = setup->std_fds[i];
		if (std_fds[i] < 3) {
			std_fds[i] = fcntl(std_fds[i], F_DUPFD_CLOEXEC, 3);
			if (std_fds[i] < 0)
				child_fail(setup, report_fd, STAGE_STDIO, errno);
		}
	}
	for (int i = 0; i < 3; i++)
		if (dup2(std_fds[i], i) < 0)
			child_fail(setup, report_fd, STAGE_STDIO, errno);
	child_close_fds(report_fd);

	if (setup->nofile != NULL && setrlimit(RLIMIT_NOFILE, setup->nofile) < 0)
		child_fail(setup, report_fd, STAGE_NOFILE, errno);

	if (setup->cwd != NULL && chdir(setup->cwd) < 0)
		child_fail(setup, report_fd, STAGE_CHDIR, errno);

	execve(setup->argv[0], setup->argv, setup->envp);
	child_fail(setup, report_fd, STAGE_EXEC, errno);
}

/*
 * Blocks every signal across vfork() so that none reaches the child while it still has our
 * handlers; the child unblocks them once its dispositions are reset.
 * vfork(), not fork(): the child borrows our memory until its exec, so starting a service
 * copies no page tables and causes no copy-on-write faults afterwards (about half the
 * supervisor's cost per spawn). The child only makes system calls on its own frames and
 * never returns here; its signal dispositions are its own (no CLONE_SIGHAND). Kept in a
 * function of its own so that no variable of the caller lives across vfork().
 */
static pid_t
vfork_child(const ChildSetup *setup, int *ret_errno)
{
	sigset_t all, saved_mask;
	pid_t pid;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved_mask);
	pid = vfork();
	if (pid == 0)
		child_run(setup);
	*ret_errno = errno;
	pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	return pid;
}

gboolean
sg_spawn(const SgSpawnOptions *options, SgSpawnResult *ret_result, GError **error)
{
	/* No environment given means an empty one, never the supervisor's by accident. */
	static char *empty_environment[] = { NULL };
	ChildSetup setup = { 0 };
	int pipe_fds[2];
	int null_fd = -1;
	pid_t pid;
	int fork_errno = 0;

	g_return_val_if_fail(options != NULL && ret_result != NULL, FALSE);
	g_return_val_if_fail(options->argv != NULL && options->argv[0] != NULL, FALSE);

	if (options->stdin_fd < 0 || options->stdout_fd < 0 || options->stderr_fd < 0) {
		null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null_fd < 0)
			return sg_error_set_errno(error, -errno, _("cannot open %s"), "/dev/null");
	}
	if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
		int saved = errno;

		if (null_fd >= 0)
			close(null_fd);
		return sg_error_set_errno(error, -saved, _("cannot create a pipe"));
	}
	/* Only the read end: the child's single small write must never be refused. */
	fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);

	setup.argv = options->argv;
	setup.envp = options->envp != NULL ? options->envp : empty_environment;
	setup.cwd = options->cwd;
	setup.cwd_length = options->cwd != NULL ? MIN(strlen(options->cwd), REPORT_MAX_SUBJECT) : 0;
	setup.std_fds[0] = options->stdin_fd >= 0 ? options->stdin_fd : null_fd;
	setup.std_fds[1] = options->stdout_fd >= 0 ? options->stdout_fd : null_fd;
	setup.std_fds[2] = options->stderr_fd >= 0 ? options->stderr_fd : null_fd;
	setup.report_fd = pipe_fds[1];
	setup.new_session = options->new_session;
	setup.nofile = options->nofile;
	setup.cgroup_fd = options->cgroup_fd;

	pid = vfork_child(&setup, &fork_errno);

	close(pipe_fds[1]);
	if (null_fd >= 0)
		close(null_fd);
	if (pid < 0) {
		close(pipe_fds[0]);
		return sg_error_set_errno(error, -fork_errno, _("cannot start %s"),
		                          options->argv[0]);
	}
	ret_result->pid = pid;
	ret_result->status_fd = pipe_fds[0];
	return TRUE;
}

int
sg_spawn_read_status(int status_fd, const char *program, char **ret_message)
{
	union {
		Report report;
		char bytes[PIPE_BUF];
	} buffer;
	g_autofree char *subject = NULL;
	const char *reason;
	char *message;
	ssize_t n;

	if (program == NULL)
		program = _("the program");
	do
		n = read(status_fd, &buffer, sizeof buffer);
	while (n < 0 && errno == EINTR);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n == 0)
		return 1;
	if (n < 0) {
		message = g_strdup_printf(_("cannot read the status of %s: %s"), program,
		                          g_strerror(errno));
	} else if ((size_t)n < sizeof(Report)) {
		message = g_strdup_printf(_("%s failed before it could be executed"), program);
	} else {
		reason = g_strerror(buffer.report.error);
		switch (buffer.report.stage) {
		case STAGE_CGROUP:
			message =
			        g_strdup_printf(_("cannot join the service's cgroup: %s"), reason);
			break;
		case STAGE_SESSION:
			message = g_strdup_printf(_("cannot start a session: %s"), reason);
			break;
		case STAGE_STDIO:
			message = g_strdup_printf(_("cannot set up standard streams: %s"), reason);
			break;
		case STAGE_NOFILE:
			message = g_strdup_printf(_("cannot set the open-file limit: %s"), reason);
			break;
		case STAGE_CHDIR:
			n -= sizeof(Report);
			if (buffer.report.length > 0 && (size_t)n >= buffer.report.length) {
				subject = g_utf8_make_valid(buffer.bytes + sizeof(Report),
				                            buffer.report.length);
				message = g_strdup_printf(_("cannot change directory to %s: %s"),
				                          subject, reason);
			} else {
				message = g_strdup_printf(
				        _("cannot change to the working directory: %s"), reason);
			}
			break;
		case STAGE_EXEC:
			message = g_strdup_printf(_("cannot execute %s: %s"), program, reason);
			break;
		default:
			message = g_strdup_printf(_("%s failed before it could be executed: %s"),
			                          program, reason);
			break;
		}
	}

	if (ret_message != NULL)
		*ret_message = message;
	else
		g_free(message);
	return -1;
}

static gboolean
is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* dir/name with dir made absolute against base (the child's working directory). */
static char *
build_absolute(const char *base, const char *dir, const char *name)
{
	g_autofree char *current = NULL;

	/* "./" adds nothing but noise to messages; ".." is kept: it means what the kernel says. */
	while (dir == NULL && name[0] == '.' && name[1] == '/') {
		name += 2;
		while (*name == '/')
			name++;
	}
	if (dir != NULL && g_path_is_absolute(dir))
		return g_build_filename(dir, name, NULL);
	if (base == NULL || !g_path_is_absolute(base)) {
		current = g_get_current_dir();
		if (base != NULL) {
			char *joined = g_build_filename(current, base, NULL);

			g_free(current);
			current = joined;
		}
		base = current;
	}
	if (dir == NULL || g_str_equal(dir, "") || g_str_equal(dir, "."))
		return g_build_filename(base, name, NULL);
	return g_build_filename(base, dir, name, NULL);
}

char *
sg_spawn_find_program(const char *program, char **envp, const char *cwd, GError **error)
{
	g_auto(GStrv) dirs = NULL;
	const char *path = NULL;

	g_return_val_if_fail(program != NULL, NULL);

	if (*program == '\0') {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED, _("the program name is empty"));
		return NULL;
	}
	if (strchr(program, '/') != NULL) {
		if (g_path_is_absolute(program))
			return g_strdup(program);
		return build_absolute(cwd, NULL, program);
	}

	if (envp != NULL)
		path = g_environ_getenv(envp, "PATH");
	if (path == NULL)
		path = DEFAULT_PATH;
	/* As execvp(): an empty entry is the working directory; relative ones start there. */
	dirs = g_strsplit(path, ":", -1);
	for (guint i = 0; dirs[i] != NULL; i++) {
		g_autofree char *candidate = build_absolute(cwd, dirs[i], program);

		if (is_executable_file(candidate))
			return g_steal_pointer(&candidate);
	}
	g_set_error(error, SG_ERROR, SG_ERROR_FAILED, _("program \"%s\" not found in PATH=%s"),
	            program, path);
	return NULL;
}
