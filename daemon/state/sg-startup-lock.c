/* SPDX-License-Identifier: MIT */
/* A flock(2) on the state directory, held while a supervisor starts (docs/state.md). */
#include "config.h"

#include "state/sg-startup-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sg-error.h"

/* SIGALRM only interrupts the blocking flock() at the deadline. */
static void
alarm_cb(int signo)
{
}

/* flock(fd, LOCK_EX), waiting at most timeout_sec: 0 or a negative errno (-ETIMEDOUT). */
static int
lock_with_deadline(int fd, guint timeout_sec)
{
	struct sigaction action = { .sa_handler = alarm_cb }, previous;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_sec * G_USEC_PER_SEC;
	int r;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -errno;
	/* No SA_RESTART: the alarm makes flock() return EINTR. */
	sigemptyset(&action.sa_mask);
	sigaction(SIGALRM, &action, &previous);
	for (;;) {
		gint64 left = deadline - g_get_monotonic_time();

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		alarm((unsigned)((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));
		r = flock(fd, LOCK_EX) == 0 ? 0 : -errno;
		if (r != -EINTR)
			break;
	}
	alarm(0);
	sigaction(SIGALRM, &previous, NULL);
	return r;
}

int
sg_startup_lock_take(const char *state_dir, guint timeout_sec, GError **error)
{
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0) {
		sg_error_set_errno(error, -errno, _("could not open %s"), state_dir);
		return -1;
	}
	r = lock_with_deadline(fd, timeout_sec);
	if (r == -ETIMEDOUT) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("a supervisor has been starting on %s for %u s and does not answer"),
		            state_dir, timeout_sec);
		close(fd);
		return -1;
	}
	if (r < 0) {
		sg_error_set_errno(error, r, _("could not lock %s"), state_dir);
		close(fd);
		return -1;
	}
	return fd;
}

int
sg_startup_lock_handed(void)
{
	g_autofree char *value = g_strdup(g_getenv(SG_STARTUP_LOCK_ENV));
	char *end = NULL;
	long fd;

	g_unsetenv(SG_STARTUP_LOCK_ENV);
	if (value == NULL)
		return -1;
	fd = strtol(value, &end, 10);
	if (end == value || *end != '\0' || fd <= STDERR_FILENO || fd > G_MAXINT)
		return -1;
	/* Whatever it is, the services must not inherit it. */
	if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	return (int)fd;
}

int
sg_startup_lock_adopt(int fd, const char *state_dir)
{
	struct stat ours, theirs;

	if (fd < 0)
		return -1;
	/* Only a descriptor of this very directory, whose lock its holder (us) already has:
	 * taking it again on the same open file succeeds at once. */
	if (fstat(fd, &theirs) < 0 || stat(state_dir, &ours) < 0 || !S_ISDIR(theirs.st_mode) ||
	    theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino ||
	    flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

char **
sg_startup_lock_pass(int fd, char **envp)
{
	g_autofree char *number = g_strdup_printf("%d", fd);
	int flags = fcntl(fd, F_GETFD);

	if (flags >= 0)
		fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
	return g_environ_setenv(envp, SG_STARTUP_LOCK_ENV, number, TRUE);
}

void
sg_startup_lock_release(int fd)
{
	if (fd < 0)
		return;
	/* LOCK_UN, not just close: a parent that forked us may still hold the descriptor. */
	flock(fd, LOCK_UN);
	close(fd);
}
