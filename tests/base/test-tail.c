/* SPDX-License-Identifier: MIT */
/* sg-tail: the last lines of a file within a byte limit, long lines and odd endings. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/sg-error.h"
#include "base/sg-limits.h"
#include "base/sg-tail.h"
#include "lib/sg-test.h"

typedef struct {
	char *dir;
	char *path;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("sg-tail-XXXXXX", &error);
	g_assert_no_error(error);
	f->path = g_build_filename(f->dir, "log", NULL);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	sg_test_remove_tree(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

static void
write_file(Fixture *f, const char *text, gssize length)
{
	g_autoptr(GError) error = NULL;

	g_file_set_contents(f->path, text, length, &error);
	g_assert_no_error(error);
}

static SgTail *
read_tail(Fixture *f, guint n, gsize max_bytes)
{
	g_autoptr(GError) error = NULL;
	SgTail *tail = sg_tail_read(f->path, n, max_bytes, &error);

	g_assert_no_error(error);
	g_assert_nonnull(tail);
	return tail;
}

static const char *
line(SgTail *tail, guint i)
{
	return tail->lines->pdata[i];
}

static void
test_last_lines(Fixture *f, gconstpointer data)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(SgTail) last = NULL;
	g_autoptr(SgTail) all = NULL;
	g_autoptr(SgTail) none = NULL;

	/* Enough to span several blocks. */
	for (int i = 1; i <= 50000; i++)
		g_string_append_printf(text, "line %d\n", i);
	write_file(f, text->str, (gssize)text->len);
	last = read_tail(f, 3, SG_LOGS_BYTES_MAX);
	g_assert_cmpuint(last->lines->len, ==, 3);
	g_assert_cmpstr(line(last, 0), ==, "line 49998");
	g_assert_cmpstr(line(last, 2), ==, "line 50000");
	g_assert_cmpuint(last->bytes, ==, 3 * strlen("line 50000\n"));
	g_assert_false(last->capped);

	all = read_tail(f, 100000, SG_LOGS_BYTES_MAX);
	g_assert_cmpuint(all->lines->len, ==, 50000);
	g_assert_cmpstr(line(all, 0), ==, "line 1");
	g_assert_cmpuint(all->bytes, ==, text->len);
	g_assert_false(all->capped);

	none = read_tail(f, 0, SG_LOGS_BYTES_MAX);
	g_assert_cmpuint(none->lines->len, ==, 0);
}

static void
test_missing_and_odd_endings(Fixture *f, gconstpointer data)
{
	g_autoptr(SgTail) missing = read_tail(f, 10, 4096);
	g_autoptr(SgTail) partial = NULL;
	g_autoptr(SgTail) empty_lines = NULL;
	g_autoptr(SgTail) leading = NULL;

	g_assert_cmpuint(missing->lines->len, ==, 0);
	/* A final line without its newline counts; fewer lines than asked is fine. */
	write_file(f, "a\nb", -1);
	partial = read_tail(f, 10, 4096);
	g_assert_cmpuint(partial->lines->len, ==, 2);
	g_assert_cmpstr(line(partial, 0), ==, "a");
	g_assert_cmpstr(line(partial, 1), ==, "b");
	write_file(f, "a\n\nb\n", -1);
	empty_lines = read_tail(f, 10, 4096);
	g_assert_cmpuint(empty_lines->lines->len, ==, 3);
	g_assert_cmpstr(line(empty_lines, 1), ==, "");
	write_file(f, "\nb\n", -1);
	leading = read_tail(f, 10, 4096);
	g_assert_cmpuint(leading->lines->len, ==, 2);
	g_assert_cmpstr(line(leading, 0), ==, "");
	g_assert_cmpstr(line(leading, 1), ==, "b");
}

static void
test_byte_limit(Fixture *f, gconstpointer data)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(SgTail) exact = NULL;
	g_autoptr(SgTail) less = NULL;

	/* 100 lines of 1,000 bytes with their newlines. */
	for (int i = 0; i < 100; i++) {
		g_string_append_printf(text, "%03d ", i);
		for (int j = 0; j < 995; j++)
			g_string_append_c(text, 'x');
		g_string_append_c(text, '\n');
	}
	write_file(f, text->str, (gssize)text->len);
	exact = read_tail(f, 50, 10000);
	g_assert_cmpuint(exact->lines->len, ==, 10);
	g_assert_true(g_str_has_prefix(line(exact, 0), "090 "));
	g_assert_true(g_str_has_prefix(line(exact, 9), "099 "));
	g_assert_cmpuint(exact->bytes, ==, 10000);
	g_assert_true(exact->capped);
	/* One byte less: one line less, never a cut older line. */
	less = read_tail(f, 50, 9999);
	g_assert_cmpuint(less->lines->len, ==, 9);
	g_assert_true(g_str_has_prefix(line(less, 0), "091 "));
	g_assert_true(less->capped);
}

static void
test_long_line_keeps_its_end(Fixture *f, gconstpointer data)
{
	g_autoptr(GString) text = g_string_new("short\n");
	g_autoptr(SgTail) tail = NULL;
	const char *cut;

	/* A newest line of 1 MiB of two-byte characters, longer than the limit. */
	for (int i = 0; i < 512 * 1024; i++)
		g_string_append(text, "\xc3\xa9");
	g_string_append(text, "|END\n");
	write_file(f, text->str, (gssize)text->len);
	tail = read_tail(f, 10, 4097);
	g_assert_cmpuint(tail->lines->len, ==, 1);
	cut = line(tail, 0);
	g_assert_true(g_str_has_prefix(cut, SG_TAIL_CUT_MARK));
	g_assert_true(g_str_has_suffix(cut, "\xc3\xa9|END"));
	g_assert_true(g_utf8_validate(cut, -1, NULL));
	g_assert_cmpuint(strlen(cut) + 1, <=, 4097);
	g_assert_cmpuint(strlen(cut) + 1, >=, 4090);
	g_assert_cmpuint(tail->bytes, ==, strlen(cut) + 1);
	g_assert_true(tail->capped);
}

static void
test_not_a_regular_file(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SgTail) tail = NULL;

	/* A FIFO with no writer: refused at once, not waited on (as any file of the state
	 * directory that is not a regular file, by sg-fileio). */
	g_assert_cmpint(mkfifo(f->path, 0600), ==, 0);
	tail = sg_tail_read(f->path, 10, 4096, &error);
	g_assert_null(tail);
	g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
	g_assert_nonnull(strstr(error->message, "not a regular file"));
}

static void
test_report_lines(Fixture *f, gconstpointer data)
{
	g_auto(GStrv) lines = NULL;

	write_file(f, "one\ntwo\nthree\n", -1);
	lines = sg_tail_lines(f->path, 2, NULL);
	g_assert_cmpuint(g_strv_length(lines), ==, 2);
	g_assert_cmpstr(lines[0], ==, "two");
	g_assert_cmpstr(lines[1], ==, "three");
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/tail/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	ADD("last-lines", test_last_lines);
	ADD("missing-and-odd-endings", test_missing_and_odd_endings);
	ADD("byte-limit", test_byte_limit);
	ADD("long-line-keeps-its-end", test_long_line_keeps_its_end);
	ADD("not-a-regular-file", test_not_a_regular_file);
	ADD("report-lines", test_report_lines);
	return g_test_run();
}
