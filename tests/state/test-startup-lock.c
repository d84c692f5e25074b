/* SPDX-License-Identifier: MIT */
/* Tests of sg-startup-lock: one holder at a time, a deadline, and the hand-over to sysgd. */
#include "config.h"

#include "base/sg-error.h"
#include "state/sg-startup-lock.h"
#include "lib/sg-test.h"

#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static char *
make_tmp_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("sg-startup-lock-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

static void
test_one_holder(void)
{
	g_autofree char *dir = make_tmp_dir();
	g_autoptr(GError) error = NULL;
	int holder = sg_startup_lock_take(dir, 1, &error);
	gint64 before;
	int second;

	g_assert_no_error(error);
	g_assert_cmpint(holder, >=, 0);
	g_assert_cmpint(fcntl(holder, F_GETFD) & FD_CLOEXEC, !=, 0);

	/* Another open file of the directory waits for it, here until the deadline. */
	before = g_get_monotonic_time();
	second = sg_startup_lock_take(dir, 1, &error);
	g_assert_cmpint(second, ==, -1);
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "does not answer"));
	g_assert_cmpint(g_get_monotonic_time() - before, >=, G_USEC_PER_SEC / 2);
	g_clear_error(&error);

	/* Released for every holder of the descriptor, a forked copy included. */
	second = dup(holder);
	sg_startup_lock_release(holder);
	holder = sg_startup_lock_take(dir, 1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(holder, >=, 0);
	sg_startup_lock_release(holder);
	close(second);

	g_assert_cmpint(sg_startup_lock_take("/nonexistent/sg-state", 1, &error), ==, -1);
	g_assert_nonnull(error);
	g_assert_no_errno(rmdir(dir));
}

static void
test_hand_over(void)
{
	g_autofree char *dir = make_tmp_dir();
	g_autofree char *other = make_tmp_dir();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) env = NULL;
	int lock = sg_startup_lock_take(dir, 1, &error);
	int handed;

	g_assert_no_error(error);
	/* sysg's side: the descriptor survives exec and is named in the environment. */
	env = sg_startup_lock_pass(lock, g_new0(char *, 1));
	g_assert_cmpint(fcntl(lock, F_GETFD) & FD_CLOEXEC, ==, 0);
	g_assert_cmpint(atoi(g_environ_getenv(env, SG_STARTUP_LOCK_ENV)), ==, lock);

	/* sysgd's side: taken from the environment at once, never passed on. */
	g_setenv(SG_STARTUP_LOCK_ENV, g_environ_getenv(env, SG_STARTUP_LOCK_ENV), TRUE);
	handed = sg_startup_lock_handed();
	g_assert_cmpint(handed, ==, lock);
	g_assert_null(g_getenv(SG_STARTUP_LOCK_ENV));
	g_assert_cmpint(fcntl(handed, F_GETFD) & FD_CLOEXEC, !=, 0);
	g_assert_cmpint(sg_startup_lock_adopt(handed, dir), ==, lock);

	/* Not the lock of this state directory: refused and closed. */
	g_assert_cmpint(sg_startup_lock_adopt(dup(lock), other), ==, -1);
	g_assert_cmpint(sg_startup_lock_adopt(-1, dir), ==, -1);
	sg_startup_lock_release(lock);
	g_assert_no_errno(rmdir(dir));
	g_assert_no_errno(rmdir(other));
}

static void
test_handed_garbage(void)
{
	const char *values[] = { "", "x", "2", "-3", "12x", "999999" };

	for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
		g_setenv(SG_STARTUP_LOCK_ENV, values[i], TRUE);
		g_assert_cmpint(sg_startup_lock_handed(), ==, -1);
		g_assert_null(g_getenv(SG_STARTUP_LOCK_ENV));
	}
	g_assert_cmpint(sg_startup_lock_handed(), ==, -1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/sg/startup-lock/one-holder", test_one_holder);
	g_test_add_func("/sg/startup-lock/hand-over", test_hand_over);
	g_test_add_func("/sg/startup-lock/handed-garbage", test_handed_garbage);
	return g_test_run();
}
