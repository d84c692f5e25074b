/* SPDX-License-Identifier: MIT */
/* sg-log-limit: one line a second per kind, the others counted, on a fake clock. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "process/sg-log-limit.h"
#include "lib/sg-test.h"

typedef struct {
	char *dir;
	SgContext context;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	f->dir = g_dir_make_tmp("sg-log-limit-XXXXXX", &error);
	g_assert_no_error(error);
	path = g_build_filename(f->dir, "supervisor.log", NULL);
	f->context.clock = sg_clock_new_fake(1000 * G_USEC_PER_SEC, g_get_real_time());
	f->context.log = sg_log_open(path, SG_LOG_TRACE, &error);
	g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_clear_pointer(&f->context.log, sg_log_free);
	g_clear_pointer(&f->context.clock, sg_clock_unref);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
}

static guint
lines(Fixture *f)
{
	return sg_test_count_lines(f->dir, "supervisor.log");
}

static gboolean
last_line_says(Fixture *f, const char *text)
{
	g_autofree char *log = sg_test_read_file(f->dir, "supervisor.log");
	g_auto(GStrv) all = g_strsplit(log, "\n", -1);
	guint n = g_strv_length(all);

	/* The file ends with a newline: the last line is the one before the empty tail. */
	return n >= 2 && strstr(all[n - 2], text) != NULL;
}

static void
test_once_a_second(Fixture *f, gconstpointer data)
{
	SgLogLimit limit;

	sg_log_limit_init(&limit, &f->context, SG_LOG_WARN, "refused callers");
	sg_log_limit_log(&limit, "refused %d", 1);
	g_assert_cmpuint(lines(f), ==, 1);
	g_assert_true(last_line_says(f, "refused 1"));
	/* A flood within the second: held, counted, one timeout for them all. */
	for (int i = 2; i <= 500; i++)
		sg_log_limit_log(&limit, "refused %d", i);
	g_assert_cmpuint(lines(f), ==, 1);
	g_assert_cmpuint(sg_clock_fake_pending(f->context.clock), ==, 1);
	sg_clock_fake_advance(f->context.clock, 999);
	g_assert_cmpuint(lines(f), ==, 1);
	sg_clock_fake_advance(f->context.clock, 1);
	g_assert_cmpuint(lines(f), ==, 2);
	g_assert_true(last_line_says(f, "refused callers: 499 more in the last second"));
	g_assert_cmpuint(sg_clock_fake_pending(f->context.clock), ==, 0);
	/* Right after the count, the next is held again. */
	sg_log_limit_log(&limit, "refused %d", 501);
	g_assert_cmpuint(lines(f), ==, 2);
	sg_clock_fake_advance(f->context.clock, 1000);
	g_assert_true(last_line_says(f, "refused callers: 1 more in the last second"));
	/* Quiet: no timeout is left, and the next one goes out at once. */
	sg_clock_fake_advance(f->context.clock, 5000);
	g_assert_cmpuint(sg_clock_fake_pending(f->context.clock), ==, 0);
	g_assert_cmpuint(lines(f), ==, 3);
	sg_log_limit_log(&limit, "refused %d", 502);
	g_assert_cmpuint(lines(f), ==, 4);
	g_assert_true(last_line_says(f, "refused 502"));
	/* What is held when it goes away is counted too. */
	sg_log_limit_log(&limit, "refused %d", 503);
	sg_log_limit_clear(&limit);
	g_assert_true(last_line_says(f, "refused callers: 1 more"));
	g_assert_cmpuint(sg_clock_fake_pending(f->context.clock), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add("/sg/log-limit/once-a-second", Fixture, NULL, fixture_set_up, test_once_a_second,
	           fixture_tear_down);
	return g_test_run();
}
