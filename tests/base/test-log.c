/* SPDX-License-Identifier: MIT */
/* Tests of supervisor.log: line format, levels, escaping, mirror, rotation, write errors. */
#include "config.h"

#include "base/sg-error.h"
#include "base/sg-log.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2026-01-31T15:30:00.123Z, with sub-millisecond digits that must be truncated. */
#define TEST_TIME_USEC G_GINT64_CONSTANT(1769873400123456)

static gint64 fake_now = TEST_TIME_USEC;

static gint64
fake_clock(void)
{
	return fake_now;
}

/* A fresh directory per test (ISOLATE_DIRS gives each test its own data dir). */
static char *
test_path(const char *name)
{
	g_autofree char *dir = g_build_filename(g_get_user_data_dir(), "log", NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	return g_build_filename(dir, name, NULL);
}

static char *
read_file(const char *path)
{
	g_autoptr(GError) error = NULL;
	char *contents = NULL;

	g_file_get_contents(path, &contents, NULL, &error);
	g_assert_no_error(error);
	return contents;
}

static SgLog *
open_log(const char *path, SgLogLevel level)
{
	g_autoptr(GError) error = NULL;
	SgLog *log = sg_log_open(path, level, &error);

	g_assert_no_error(error);
	g_assert_nonnull(log);
	fake_now = TEST_TIME_USEC;
	sg_log_set_clock(log, fake_clock);
	return log;
}

static void
test_format(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autoptr(SgLog) log = open_log(path, SG_LOG_TRACE);
	g_autofree char *contents = NULL;
	struct stat st;

	fake_now = TEST_TIME_USEC;
	sg_log_write(log, SG_LOG_INFO, "service %s started (pid %d)", "api", 42);
	sg_log_write(log, SG_LOG_ERROR, "e");
	sg_log_write(log, SG_LOG_WARN, "w");
	sg_log_write(log, SG_LOG_DEBUG, "d");
	sg_log_write(log, SG_LOG_TRACE, "t");
	fake_now = G_GINT64_CONSTANT(1769873400000999);
	sg_log_write(log, SG_LOG_INFO, "%s", "");
	fake_now = G_GINT64_CONSTANT(946684799999999);
	sg_log_write(log, SG_LOG_INFO, "100%% done");

	contents = read_file(path);
	g_assert_cmpstr(contents, ==,
	                "2026-01-31T15:30:00.123Z INFO  service api started (pid 42)\n"
	                "2026-01-31T15:30:00.123Z ERROR e\n"
	                "2026-01-31T15:30:00.123Z WARN  w\n"
	                "2026-01-31T15:30:00.123Z DEBUG d\n"
	                "2026-01-31T15:30:00.123Z TRACE t\n"
	                "2026-01-31T15:30:00.000Z INFO  \n"
	                "1999-12-31T23:59:59.999Z INFO  100% done\n");

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpuint(sg_log_get_n_errors(log), ==, 0);
}

static void
test_append(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autoptr(GError) error = NULL;
	g_autofree char *contents = NULL;

	g_file_set_contents(path, "old line\n", -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(path, 0644), ==, 0);
	{
		g_autoptr(SgLog) log = open_log(path, SG_LOG_INFO);
		struct stat st;

		sg_log_write(log, SG_LOG_INFO, "new line");
		g_assert_cmpint(g_stat(path, &st), ==, 0);
		/* A file from before the 0600 rule is tightened. */
		g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	}
	contents = read_file(path);
	g_assert_cmpstr(contents, ==, "old line\n2026-01-31T15:30:00.123Z INFO  new line\n");
}

static void
test_open_error(void)
{
	g_autofree char *path = test_path("missing-dir/supervisor.log");
	g_autoptr(GError) error = NULL;
	g_autoptr(SgLog) log = sg_log_open(path, SG_LOG_INFO, &error);

	g_assert_null(log);
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_nonnull(strstr(error->message, g_strerror(ENOENT)));
}

static void
test_levels(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autoptr(SgLog) log = open_log(path, SG_LOG_INFO);
	g_autofree char *contents = NULL;

	fake_now = TEST_TIME_USEC;
	g_assert_cmpint(sg_log_get_level(log), ==, SG_LOG_INFO);
	g_assert_true(sg_log_enabled(log, SG_LOG_ERROR));
	g_assert_true(sg_log_enabled(log, SG_LOG_WARN));
	g_assert_true(sg_log_enabled(log, SG_LOG_INFO));
	g_assert_false(sg_log_enabled(log, SG_LOG_DEBUG));
	g_assert_false(sg_log_enabled(log, SG_LOG_TRACE));
	g_assert_false(sg_log_enabled(log, SG_LOG_OFF));
	g_assert_false(sg_log_enabled(NULL, SG_LOG_ERROR));

	sg_log_write(log, SG_LOG_ERROR, "1");
	sg_log_write(log, SG_LOG_WARN, "2");
	sg_log_write(log, SG_LOG_INFO, "3");
	sg_log_write(log, SG_LOG_DEBUG, "hidden");
	sg_log_write(log, SG_LOG_TRACE, "hidden");
	sg_log_write(log, SG_LOG_OFF, "hidden");

	sg_log_set_level(log, SG_LOG_DEBUG);
	sg_log_write(log, SG_LOG_DEBUG, "4");
	sg_log_write(log, SG_LOG_TRACE, "hidden");

	sg_log_set_level(log, SG_LOG_ERROR);
	sg_log_write(log, SG_LOG_WARN, "hidden");
	sg_log_write(log, SG_LOG_ERROR, "5");

	sg_log_set_level(log, SG_LOG_OFF);
	g_assert_false(sg_log_enabled(log, SG_LOG_ERROR));
	sg_log_write(log, SG_LOG_ERROR, "hidden");

	/* A NULL log is a silent sink. */
	sg_log_write(NULL, SG_LOG_ERROR, "hidden");

	contents = read_file(path);
	g_assert_cmpstr(contents, ==,
	                "2026-01-31T15:30:00.123Z ERROR 1\n"
	                "2026-01-31T15:30:00.123Z WARN  2\n"
	                "2026-01-31T15:30:00.123Z INFO  3\n"
	                "2026-01-31T15:30:00.123Z DEBUG 4\n"
	                "2026-01-31T15:30:00.123Z ERROR 5\n");
}

static void
test_multiline(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autoptr(SgLog) log = open_log(path, SG_LOG_INFO);
	g_autofree char *contents = NULL;

	fake_now = TEST_TIME_USEC;
	sg_log_write(log, SG_LOG_INFO, "hook output:\nline one\nline two\n");
	sg_log_write(log, SG_LOG_WARN, "crlf\r\nend");
	sg_log_write(log, SG_LOG_INFO, "a\n\nb");
	sg_log_write(log, SG_LOG_INFO, "\n");
	sg_log_write(log, SG_LOG_INFO, "x\n\n");

	contents = read_file(path);
	g_assert_cmpstr(contents, ==,
	                "2026-01-31T15:30:00.123Z INFO  hook output:\n"
	                "2026-01-31T15:30:00.123Z INFO  line one\n"
	                "2026-01-31T15:30:00.123Z INFO  line two\n"
	                "2026-01-31T15:30:00.123Z WARN  crlf\n"
	                "2026-01-31T15:30:00.123Z WARN  end\n"
	                "2026-01-31T15:30:00.123Z INFO  a\n"
	                "2026-01-31T15:30:00.123Z INFO  \n"
	                "2026-01-31T15:30:00.123Z INFO  b\n"
	                "2026-01-31T15:30:00.123Z INFO  \n"
	                "2026-01-31T15:30:00.123Z INFO  x\n"
	                "2026-01-31T15:30:00.123Z INFO  \n");
}

static void
test_escaping(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autoptr(SgLog) log = open_log(path, SG_LOG_INFO);
	g_autofree char *contents = NULL;

	fake_now = TEST_TIME_USEC;
	sg_log_write(log, SG_LOG_INFO, "tab\tkept, bell\a, esc\033[31m, cr\rx, del\x7f");
	sg_log_write(log, SG_LOG_INFO, "utf8 caf\xC3\xA9 \xE2\x9C\x93, c1 \xC2\x9B, bad \xFF\xC3");

	contents = read_file(path);
	g_assert_cmpstr(contents, ==,
	                "2026-01-31T15:30:00.123Z INFO  tab\tkept, bell\\x07, esc\\x1b[31m, "
	                "cr\\rx, del\\x7f\n"
	                "2026-01-31T15:30:00.123Z INFO  utf8 caf\xC3\xA9 \xE2\x9C\x93, c1 \\u009b, "
	                "bad \\xff\\xc3\n");
	g_assert_true(g_utf8_validate(contents, -1, NULL));
}

static void
test_level_parse(void)
{
	static const struct {
		const char *text;
		SgLogLevel level;
	} good[] = {
		{ "off", SG_LOG_OFF },      { "error", SG_LOG_ERROR },  { "warn", SG_LOG_WARN },
		{ "warning", SG_LOG_WARN }, { "info", SG_LOG_INFO },    { "debug", SG_LOG_DEBUG },
		{ "trace", SG_LOG_TRACE },  { "OFF", SG_LOG_OFF },      { "Error", SG_LOG_ERROR },
		{ "WARN", SG_LOG_WARN },    { "WaRnInG", SG_LOG_WARN }, { "INFO", SG_LOG_INFO },
		{ "Debug", SG_LOG_DEBUG },  { "TRACE", SG_LOG_TRACE },  { "0", SG_LOG_OFF },
		{ "1", SG_LOG_ERROR },      { "2", SG_LOG_WARN },       { "3", SG_LOG_INFO },
		{ "4", SG_LOG_DEBUG },      { "5", SG_LOG_TRACE },
	};
	static const char *const bad[] = {
		"", "6", "-1", "05", "3 ", " info", "inf", "information", "verbose", "err", "10",
	};

	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		SgLogLevel level = (SgLogLevel)99;

		g_assert_true(sg_log_level_parse(good[i].text, &level));
		g_assert_cmpint(level, ==, good[i].level);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		SgLogLevel level = (SgLogLevel)99;

		g_assert_false(sg_log_level_parse(bad[i], &level));
		g_assert_cmpint(level, ==, 99);
	}
	g_assert_false(sg_log_level_parse(NULL, NULL));

	g_assert_cmpstr(sg_log_level_to_string(SG_LOG_ERROR), ==, "ERROR");
	g_assert_cmpstr(sg_log_level_to_string(SG_LOG_WARN), ==, "WARN ");
	g_assert_cmpstr(sg_log_level_to_string(SG_LOG_INFO), ==, "INFO ");
	g_assert_cmpstr(sg_log_level_to_string(SG_LOG_DEBUG), ==, "DEBUG");
	g_assert_cmpstr(sg_log_level_to_string(SG_LOG_TRACE), ==, "TRACE");
}

static void
test_mirror(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autoptr(SgLog) log = open_log(path, SG_LOG_INFO);
	g_autofree char *contents = NULL;
	char buffer[4096];
	ssize_t n;
	int fds[2];

	g_assert_cmpint(pipe2(fds, O_CLOEXEC | O_NONBLOCK), ==, 0);
	fake_now = TEST_TIME_USEC;
	sg_log_write(log, SG_LOG_INFO, "before");
	sg_log_set_mirror(log, fds[1]);
	sg_log_write(log, SG_LOG_INFO, "one");
	sg_log_write(log, SG_LOG_DEBUG, "filtered");
	sg_log_write(log, SG_LOG_WARN, "two\nthree");
	sg_log_set_mirror(log, -1);
	sg_log_write(log, SG_LOG_INFO, "after");
	close(fds[1]);

	n = read(fds[0], buffer, sizeof(buffer) - 1);
	g_assert_cmpint(n, >, 0);
	buffer[n] = '\0';
	close(fds[0]);
	g_assert_cmpstr(buffer, ==,
	                "2026-01-31T15:30:00.123Z INFO  one\n"
	                "2026-01-31T15:30:00.123Z WARN  two\n"
	                "2026-01-31T15:30:00.123Z WARN  three\n");

	contents = read_file(path);
	g_assert_cmpstr(contents, ==,
	                "2026-01-31T15:30:00.123Z INFO  before\n"
	                "2026-01-31T15:30:00.123Z INFO  one\n"
	                "2026-01-31T15:30:00.123Z WARN  two\n"
	                "2026-01-31T15:30:00.123Z WARN  three\n"
	                "2026-01-31T15:30:00.123Z INFO  after\n");

	/* A mirror that is gone does not count as a log error. */
	sg_log_set_mirror(log, fds[1]);
	sg_log_write(log, SG_LOG_INFO, "closed mirror");
	g_assert_cmpuint(sg_log_get_n_errors(log), ==, 0);
}

/* Each line is "TIMESTAMP INFO  line NNNN\n": 41 bytes. */
#define LINE_BYTES 41

static guint
parse_line_number(const char *line)
{
	const char *p = strstr(line, "line ");

	g_assert_nonnull(p);
	return (guint)g_ascii_strtoull(p + 5, NULL, 10);
}

static void
test_rotation(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autoptr(SgLog) log = open_log(path, SG_LOG_INFO);
	g_autofree char *six = g_strdup_printf("%s.6", path);
	guint expected = 0;

	fake_now = TEST_TIME_USEC;
	/* More than three lines rotate, so each old file holds four lines. */
	sg_log_set_rotation(log, 3 * LINE_BYTES, 5);
	for (guint i = 0; i < 40; i++)
		sg_log_write(log, SG_LOG_INFO, "line %04u", i);

	/* 40 lines: 10 rotations of 4 lines, the last one leaving an empty file. Oldest
	 * first, the files hold a contiguous run that ends with the last line written. */
	expected = 40 - 5 * 4;
	for (guint i = 5; i >= 1; i--) {
		g_autofree char *name = g_strdup_printf("%s.%u", path, i);
		g_autofree char *contents = read_file(name);
		g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
		struct stat st;

		g_assert_cmpint(g_stat(name, &st), ==, 0);
		g_assert_cmpint(st.st_mode & 0777, ==, 0600);
		g_assert_cmpuint(strlen(contents), ==, 4 * LINE_BYTES);
		g_assert_cmpuint(g_strv_length(lines), ==, 5);
		for (guint j = 0; j < 4; j++) {
			g_assert_cmpuint(strlen(lines[j]) + 1, ==, LINE_BYTES);
			g_assert_cmpuint(parse_line_number(lines[j]), ==, expected);
			expected++;
		}
	}
	g_assert_cmpuint(expected, ==, 40);
	g_assert_false(g_file_test(six, G_FILE_TEST_EXISTS));

	{
		g_autofree char *contents = read_file(path);
		struct stat st;

		g_assert_cmpstr(contents, ==, "");
		g_assert_cmpint(g_stat(path, &st), ==, 0);
		g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	}

	/* The next line goes to the new file. */
	sg_log_write(log, SG_LOG_INFO, "line %04u", 40);
	{
		g_autofree char *contents = read_file(path);

		g_assert_cmpuint(parse_line_number(contents), ==, 40);
	}
	g_assert_cmpuint(sg_log_get_n_errors(log), ==, 0);
}

static void
test_rotation_size_at_open(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autofree char *one = g_strdup_printf("%s.1", path);
	g_autofree char *old = g_strnfill(3 * LINE_BYTES - 1, 'x');
	g_autoptr(GError) error = NULL;
	g_autoptr(SgLog) log = NULL;

	g_file_set_contents(path, old, -1, &error);
	g_assert_no_error(error);
	log = open_log(path, SG_LOG_INFO);
	sg_log_set_rotation(log, 3 * LINE_BYTES, 2);

	/* The size found at open counts: one line passes the limit. */
	sg_log_write(log, SG_LOG_INFO, "line %04u", 0);
	g_assert_true(g_file_test(one, G_FILE_TEST_EXISTS));
	{
		g_autofree char *contents = read_file(one);

		g_assert_true(g_str_has_prefix(contents, old));
		g_assert_cmpuint(strlen(contents), ==, strlen(old) + LINE_BYTES);
	}
}

static void
test_rotation_off(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autofree char *one = g_strdup_printf("%s.1", path);
	g_autoptr(SgLog) log = open_log(path, SG_LOG_INFO);
	g_autofree char *contents = NULL;

	sg_log_set_rotation(log, 0, 5);
	for (guint i = 0; i < 100; i++)
		sg_log_write(log, SG_LOG_INFO, "line %04u", i);
	g_assert_false(g_file_test(one, G_FILE_TEST_EXISTS));
	contents = read_file(path);
	g_assert_cmpuint(strlen(contents), ==, 100 * LINE_BYTES);
}

static void
test_rotation_no_old_files(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autofree char *one = g_strdup_printf("%s.1", path);
	g_autoptr(SgLog) log = open_log(path, SG_LOG_INFO);
	g_autofree char *contents = NULL;

	sg_log_set_rotation(log, LINE_BYTES, 0);
	for (guint i = 0; i < 5; i++)
		sg_log_write(log, SG_LOG_INFO, "line %04u", i);
	g_assert_false(g_file_test(one, G_FILE_TEST_EXISTS));
	contents = read_file(path);
	g_assert_cmpuint(parse_line_number(contents), ==, 4);
}

static void
test_rotated_away(void)
{
	g_autofree char *path = test_path("supervisor.log");
	g_autofree char *moved = test_path("moved.log");
	g_autofree char *one = g_strdup_printf("%s.1", path);
	g_autoptr(SgLog) log = open_log(path, SG_LOG_INFO);
	g_autofree char *contents = NULL;
	g_autofree char *moved_contents = NULL;

	sg_log_set_rotation(log, 2 * LINE_BYTES, 5);
	sg_log_write(log, SG_LOG_INFO, "line %04u", 0);
	g_assert_cmpint(g_rename(path, moved), ==, 0);

	/* Below the limit nothing is checked: the line follows the open file. */
	sg_log_write(log, SG_LOG_INFO, "line %04u", 1);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	/* Past it, the file is found gone and a new one is started, not rotated. */
	sg_log_write(log, SG_LOG_INFO, "line %04u", 2);
	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(one, G_FILE_TEST_EXISTS));
	sg_log_write(log, SG_LOG_INFO, "line %04u", 3);

	moved_contents = read_file(moved);
	g_assert_cmpuint(strlen(moved_contents), ==, 3 * LINE_BYTES);
	contents = read_file(path);
	g_assert_cmpuint(strlen(contents), ==, LINE_BYTES);
	g_assert_cmpuint(parse_line_number(contents), ==, 3);
	g_assert_cmpuint(sg_log_get_n_errors(log), ==, 0);
}

typedef struct {
	SgLog *log;
	guint id;
} WriterData;

static gpointer
writer_thread(gpointer user_data)
{
	WriterData *data = user_data;
	/* Long lines, so a torn write would show. */
	g_autofree char *filler = g_strnfill(1000, (char)('a' + data->id));

	for (guint i = 0; i < 300; i++)
		sg_log_write(data->log, SG_LOG_INFO, "writer %u line %u %s\nsecond %u", data->id, i,
		             filler, data->id);
	return NULL;
}

static void
test_concurrent_writers(void)
{
	g_autofree char *path = test_path("supervisor.log");
	/* Two logs on one file stand for two processes; two threads share each log. */
	g_autoptr(SgLog) log_a = open_log(path, SG_LOG_INFO);
	g_autoptr(SgLog) log_b = open_log(path, SG_LOG_INFO);
	WriterData data[4] = { { log_a, 0 }, { log_a, 1 }, { log_b, 2 }, { log_b, 3 } };
	GThread *threads[4];
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	guint counts[4] = { 0 };

	for (guint i = 0; i < 4; i++)
		threads[i] = g_thread_new("writer", writer_thread, &data[i]);
	for (guint i = 0; i < 4; i++)
		g_thread_join(threads[i]);

	contents = read_file(path);
	lines = g_strsplit(contents, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 4 * 300 * 2 + 1);
	for (guint i = 0; lines[i + 1] != NULL; i += 2) {
		guint id;
		g_autofree char *filler = NULL;
		g_autofree char *expected_second = NULL;
		const char *p = lines[i] + strlen("2026-01-31T15:30:00.123Z INFO  ");

		g_assert_true(g_str_has_prefix(p, "writer "));
		id = (guint)(p[strlen("writer ")] - '0');
		g_assert_cmpuint(id, <, 4);
		filler = g_strnfill(1000, (char)('a' + id));
		g_assert_true(g_str_has_suffix(p, filler));
		/* The second line of a message follows it directly. */
		expected_second = g_strdup_printf("2026-01-31T15:30:00.123Z INFO  second %u", id);
		g_assert_cmpstr(lines[i + 1], ==, expected_second);
		counts[id]++;
	}
	for (guint i = 0; i < 4; i++)
		g_assert_cmpuint(counts[i], ==, 300);
}

/* A full disk, as the file size limit makes it: every write fails, reported once. */
static void
test_write_errors(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SgLog) log = NULL;

	if (g_test_subprocess()) {
		g_autofree char *path = test_path("full.log");
		struct rlimit limit = { 0, 0 };

		log = sg_log_open(path, SG_LOG_INFO, &error);
		g_assert_no_error(error);
		signal(SIGXFSZ, SIG_IGN);
		g_assert_no_errno(setrlimit(RLIMIT_FSIZE, &limit));
		for (guint i = 0; i < 3; i++)
			sg_log_write(log, SG_LOG_ERROR, "lost %u", i);
		g_assert_cmpuint(sg_log_get_n_errors(log), ==, 3);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	/* Reported once, not once per line. */
	g_test_trap_assert_stderr("*full.log*");
	g_test_trap_assert_stderr_unmatched("*full.log*full.log*");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/sg/log/format", test_format);
	g_test_add_func("/sg/log/append", test_append);
	g_test_add_func("/sg/log/open-error", test_open_error);
	g_test_add_func("/sg/log/levels", test_levels);
	g_test_add_func("/sg/log/multiline", test_multiline);
	g_test_add_func("/sg/log/escaping", test_escaping);
	g_test_add_func("/sg/log/level-parse", test_level_parse);
	g_test_add_func("/sg/log/mirror", test_mirror);
	g_test_add_func("/sg/log/rotation", test_rotation);
	g_test_add_func("/sg/log/rotation-size-at-open", test_rotation_size_at_open);
	g_test_add_func("/sg/log/rotation-off", test_rotation_off);
	g_test_add_func("/sg/log/rotation-no-old-files", test_rotation_no_old_files);
	g_test_add_func("/sg/log/rotated-away", test_rotated_away);
	g_test_add_func("/sg/log/concurrent-writers", test_concurrent_writers);
	g_test_add_func("/sg/log/write-errors", test_write_errors);

	return g_test_run();
}
