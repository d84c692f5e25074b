/* SPDX-License-Identifier: MIT */
/* The one owner of SIGCHLD: a signalfd that reaps children and orphans, and pidfd watches. */
#include "config.h"

#define G_LOG_DOMAIN "sg-reaper"

#include "process/sg-reaper.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sg-error.h"
#include "process/sg-ownership.h"

typedef struct {
	SgReaperFunc func;
	gpointer user_data;
	gboolean kill_group; /* SIGKILL to what is left of its group before it is reaped */
} ChildWatch;

typedef struct {
	SgReaper *reaper;
	pid_t pid;
	int fd;
	GSource *source;
	SgReaperFunc func;
	gpointer user_data;
} PidfdWatch;

struct _SgReaper {
	GMainContext *context;
	int signal_fd;
	GSource *source;
	GHashTable *children; /* pid -> ChildWatch* */
	GHashTable *pidfds;   /* pid -> PidfdWatch* */
	SgReaperFunc orphan_func;
	gpointer orphan_data;
	/* Callbacks may free the reaper: the last frame on the stack then finishes the job. */
	guint depth;
	gboolean free_pending;
};

static void
pidfd_watch_free(gpointer data)
{
	PidfdWatch *watch = data;

	g_source_destroy(watch->source);
	g_source_unref(watch->source);
	close(watch->fd);
	g_free(watch);
}

static void
reaper_finalize(SgReaper *reaper)
{
	g_hash_table_unref(reaper->children);
	g_hash_table_unref(reaper->pidfds);
	g_main_context_unref(reaper->context);
	g_free(reaper);
}

static void
reaper_enter(SgReaper *reaper)
{
	reaper->depth++;
}

/* After this, a reaper freed by a callback is gone: the caller must not touch it. */
static void
reaper_leave(SgReaper *reaper)
{
	reaper->depth--;
	if (reaper->free_pending && reaper->depth == 0)
		reaper_finalize(reaper);
}

/*
 * The one place a death is reported, whichever path noticed it. Both watches are taken out
 * of their tables before the callback runs, so the callback may add or remove any watch,
 * its own pid's included.
 */
static void
reaper_deliver(SgReaper *reaper, pid_t pid, int wait_status)
{
	gpointer key = GINT_TO_POINTER(pid);
	ChildWatch *child = NULL;
	PidfdWatch *pidfd = NULL;

	g_hash_table_steal_extended(reaper->children, key, NULL, (gpointer *)&child);
	g_hash_table_steal_extended(reaper->pidfds, key, NULL, (gpointer *)&pidfd);
	if (pidfd != NULL) {
		g_source_destroy(pidfd->source);
		close(g_steal_fd(&pidfd->fd));
	}

	reaper_enter(reaper);
	if (child != NULL)
		child->func(pid, wait_status, child->user_data);
	else if (pidfd != NULL)
		pidfd->func(pid, wait_status, pidfd->user_data);
	else if (reaper->orphan_func != NULL && !reaper->free_pending)
		reaper->orphan_func(pid, wait_status, reaper->orphan_data);
	reaper_leave(reaper);

	g_free(child);
	if (pidfd != NULL) {
		g_source_unref(pidfd->source);
		g_free(pidfd);
	}
}

/*
 * Looks at each exited child before reaping it (WNOWAIT): while its zombie stands, its PID
 * and the id of the group it leads cannot be reused, so what is left of that group can be
 * killed safely for a watch that asks for it.
 */
static void
reaper_reap(SgReaper *reaper)
{
	reaper_enter(reaper);
	while (!reaper->free_pending) {
		siginfo_t info = { 0 };
		ChildWatch *watch;
		int status = 0;
		pid_t pid;

		if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (info.si_pid <= 0)
			break;
		watch = g_hash_table_lookup(reaper->children, GINT_TO_POINTER(info.si_pid));
		if (watch != NULL && watch->kill_group)
			(void)sg_ownership_signal_child(info.si_pid, TRUE, SIGKILL);
		do
			pid = waitpid(info.si_pid, &status, WNOHANG);
		while (pid < 0 && errno == EINTR);
		if (pid != info.si_pid)
			break;
		reaper_deliver(reaper, pid, status);
	}
	reaper_leave(reaper);
}

static void
reaper_drain(SgReaper *reaper)
{
	struct signalfd_siginfo infos[16];

	/* The infos say nothing waitpid() does not: SIGCHLDs coalesce, so only the wake-up counts.
	 */
	for (;;) {
		ssize_t n = read(reaper->signal_fd, infos, sizeof infos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
	}
}

static gboolean
signal_ready_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgReaper *reaper = user_data;

	reaper_drain(reaper);
	reaper_reap(reaper);
	return G_SOURCE_CONTINUE;
}

/* waitid()'s siginfo as the status word waitpid() would have given. */
static int
status_from_siginfo(const siginfo_t *info)
{
	switch (info->si_code) {
	case CLD_EXITED:
		return W_EXITCODE(info->si_status & 0xff, 0);
	case CLD_KILLED:
		return W_EXITCODE(0, info->si_status & 0x7f);
	case CLD_DUMPED:
		return W_EXITCODE(0, info->si_status & 0x7f) | WCOREFLAG;
	default:
		return -1;
	}
}

static gboolean
pidfd_ready_cb(int fd, GIOCondition condition, gpointer user_data)
{
	PidfdWatch *watch = user_data;
	siginfo_t info = { 0 };
	int status = -1;

	/* When the process happens to be our child, reap it here: the status is then known and
	 * the SIGCHLD path will not report the same death a second time. */
	if (waitid(P_PIDFD, (id_t)fd, &info, WEXITED | WNOHANG) == 0 && info.si_pid == watch->pid)
		status = status_from_siginfo(&info);
	reaper_deliver(watch->reaper, watch->pid, status);
	return G_SOURCE_REMOVE;
}

SgReaper *
sg_reaper_new(GError **error)
{
	g_autoptr(GMainContext) context = g_main_context_ref_thread_default();
	struct sigaction action = { 0 };
	SgReaper *reaper;
	sigset_t mask;
	int fd;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	r = pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if (r != 0) {
		sg_error_set_errno(error, -r, _("cannot block SIGCHLD"));
		return NULL;
	}
	/* An ignored SIGCHLD (inherited across exec) makes the kernel reap children itself, and
	 * their exit status would be lost. */
	if (sigaction(SIGCHLD, NULL, &action) == 0 &&
	    (action.sa_handler == SIG_IGN || (action.sa_flags & SA_NOCLDWAIT) != 0)) {
		action = (struct sigaction){ .sa_handler = SIG_DFL };
		sigemptyset(&action.sa_mask);
		if (sigaction(SIGCHLD, &action, NULL) < 0) {
			sg_error_set_errno(error, -errno, _("cannot reset SIGCHLD"));
			return NULL;
		}
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		sg_error_set_errno(error, -errno, _("cannot become a child subreaper"));
		return NULL;
	}
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		sg_error_set_errno(error, -errno, _("cannot create a signalfd for SIGCHLD"));
		return NULL;
	}

	reaper = g_new0(SgReaper, 1);
	reaper->context = g_steal_pointer(&context);
	reaper->signal_fd = fd;
	reaper->children = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	reaper->pidfds = g_hash_table_new_full(NULL, NULL, NULL, pidfd_watch_free);
	reaper->source = g_unix_fd_source_new(fd, G_IO_IN);
	g_source_set_callback(reaper->source, G_SOURCE_FUNC(signal_ready_cb), reaper, NULL);
	g_source_set_static_name(reaper->source, "sg-reaper");
	g_source_attach(reaper->source, reaper->context);
	return reaper;
}

void
sg_reaper_free(SgReaper *reaper)
{
	if (reaper == NULL || reaper->free_pending)
		return;
	g_source_destroy(reaper->source);
	g_clear_pointer(&reaper->source, g_source_unref);
	close(g_steal_fd(&reaper->signal_fd));
	g_hash_table_remove_all(reaper->pidfds);
	if (reaper->depth > 0) {
		reaper->free_pending = TRUE;
		return;
	}
	reaper_finalize(reaper);
}

static void
watch_child(SgReaper *reaper, pid_t pid, SgReaperFunc func, gpointer user_data, gboolean kill_group)
{
	ChildWatch *watch;

	g_return_if_fail(reaper != NULL && pid > 0 && func != NULL);

	watch = g_new0(ChildWatch, 1);
	watch->func = func;
	watch->user_data = user_data;
	watch->kill_group = kill_group;
	g_hash_table_replace(reaper->children, GINT_TO_POINTER(pid), watch);
}

void
sg_reaper_watch(SgReaper *reaper, pid_t pid, SgReaperFunc func, gpointer user_data)
{
	watch_child(reaper, pid, func, user_data, FALSE);
}

void
sg_reaper_watch_group(SgReaper *reaper, pid_t pid, SgReaperFunc func, gpointer user_data)
{
	watch_child(reaper, pid, func, user_data, TRUE);
}

void
sg_reaper_unwatch(SgReaper *reaper, pid_t pid)
{
	g_return_if_fail(reaper != NULL);

	g_hash_table_remove(reaper->children, GINT_TO_POINTER(pid));
	g_hash_table_remove(reaper->pidfds, GINT_TO_POINTER(pid));
}

void
sg_reaper_set_orphan_func(SgReaper *reaper, SgReaperFunc func, gpointer user_data)
{
	g_return_if_fail(reaper != NULL);

	reaper->orphan_func = func;
	reaper->orphan_data = user_data;
}

gboolean
sg_reaper_watch_pidfd(SgReaper *reaper, pid_t pid, SgReaperFunc func, gpointer user_data,
                      GError **error)
{
	PidfdWatch *watch;
	int fd;

	g_return_val_if_fail(reaper != NULL && func != NULL, FALSE);

	/* Called through syscall(): older C libraries lack the wrapper. The fd is close-on-exec. */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return sg_error_set_errno(error, -errno, _("cannot watch process %d"), (int)pid);

	watch = g_new0(PidfdWatch, 1);
	watch->reaper = reaper;
	watch->pid = pid;
	watch->fd = fd;
	watch->func = func;
	watch->user_data = user_data;
	watch->source = g_unix_fd_source_new(fd, G_IO_IN);
	g_source_set_callback(watch->source, G_SOURCE_FUNC(pidfd_ready_cb), watch, NULL);
	g_source_set_static_name(watch->source, "sg-reaper-pidfd");
	g_source_attach(watch->source, reaper->context);
	g_hash_table_replace(reaper->pidfds, GINT_TO_POINTER(pid), watch);
	return TRUE;
}

void
sg_reaper_dispatch(SgReaper *reaper)
{
	g_return_if_fail(reaper != NULL);

	reaper_drain(reaper);
	reaper_reap(reaper);
}
