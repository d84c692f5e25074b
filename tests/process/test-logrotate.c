/* SPDX-License-Identifier: MIT */
/* Tests of log rotation under bursts and planted links: bounded disk, counted drops, no links. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sg-clock.h"
#include "base/sg-error.h"
#include "base/sg-log.h"
#include "process/sg-logfile.h"
#include "process/sg-logrotate.h"
#include "lib/sg-test.h"

#define MAX_BYTES (64 * 1024)
#define MAX_FILES 3
#define BURST     (4 * 1024 * 1024)

typedef struct {
	char *dir;
	char *path;
	GMainContext *context;
	SgClock *clock;
	SgLogWatch *watch;
	SgLog *log;
	char *log_path;
} Fixture;

static void
fixture_init(Fixture *f)
{
	g_autoptr(GError) error = NULL;

	/* Under the build tree, a disk file system where collapse-range usually works. */
	f->dir = g_build_filename(g_getenv("G_TEST_BUILDDIR") != NULL ? g_getenv("G_TEST_BUILDDIR")
	                                                              : g_get_tmp_dir(),
	                          "sg-logrotate-XXXXXX", NULL);
	g_assert_nonnull(g_mkdtemp(f->dir));
	f->path = g_build_filename(f->dir, "svc_stdout.log", NULL);
	f->log_path = g_build_filename(f->dir, "supervisor.log", NULL);
	f->context = g_main_context_new();
	g_main_context_push_thread_default(f->context);
	f->clock = sg_clock_new_fake(0, 0);
	f->watch = sg_log_watch_new(f->clock, &error);
	g_assert_no_error(error);
	f->log = sg_log_open(f->log_path, SG_LOG_INFO, &error);
	g_assert_no_error(error);
	sg_log_watch_set_log(f->watch, f->log);
}

static void
fixture_clear(Fixture *f)
{
	g_clear_pointer(&f->watch, sg_log_watch_free);
	g_clear_pointer(&f->log, sg_log_free);
	g_clear_pointer(&f->clock, sg_clock_unref);
	g_main_context_pop_thread_default(f->context);
	g_clear_pointer(&f->context, g_main_context_unref);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
	g_free(f->path);
	g_free(f->log_path);
}

static guint64
size_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (guint64)st.st_size : 0;
}

/* Lines "line N\n" for N in [first, first + count), as one write each 64 KiB. */
static guint64
write_lines(int fd, guint64 first, guint64 bytes)
{
	g_autoptr(GString) buf = g_string_new(NULL);
	guint64 n = first, written = 0;

	while (written < bytes) {
		g_string_truncate(buf, 0);
		while (buf->len < 65536)
			g_string_append_printf(buf, "line %" G_GUINT64_FORMAT "\n", n++);
		g_assert_cmpint(write(fd, buf->str, buf->len), ==, (gssize)buf->len);
		written += buf->len;
	}
	return n;
}

/* Every kept file, oldest first, holds consecutive lines ending with last - 1, each file
 * within max_bytes plus a block; returns their total size. */
static guint64
check_kept(const char *path, guint64 last, guint64 block)
{
	g_autoptr(GString) all = g_string_new(NULL);
	guint64 total = 0, expected = G_MAXUINT64;
	const char *p;

	for (guint n = MAX_FILES + 1; n >= 1; n--) {
		g_autofree char *name =
		        n > MAX_FILES ? g_strdup(path) : g_strdup_printf("%s.%u", path, n);
		g_autofree char *contents = NULL;
		gsize len = 0;

		if (n > MAX_FILES) {
			g_autofree char *beyond = g_strdup_printf("%s.%u", path, n);
			g_assert_false(g_file_test(beyond, G_FILE_TEST_EXISTS));
			continue;
		}
		g_assert_true(g_file_get_contents(name, &contents, &len, NULL));
		g_assert_cmpuint(len, <=, MAX_BYTES + block);
		g_string_append_len(all, contents, (gssize)len);
		total += len;
	}
	{
		g_autofree char *live = NULL;
		gsize len = 0;

		g_assert_true(g_file_get_contents(path, &live, &len, NULL));
		g_assert_cmpuint(len, <=, MAX_BYTES + block);
		g_string_append_len(all, live, (gssize)len);
		total += len;
	}
	/* The oldest kept file starts at a line; from there every line, in order. */
	g_assert_true(g_str_has_prefix(all->str, "line "));
	for (p = all->str; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		guint64 n;

		g_assert_nonnull(nl);
		n = g_ascii_strtoull(p + 5, NULL, 10);
		if (expected != G_MAXUINT64)
			g_assert_cmpuint(n, ==, expected);
		expected = n + 1;
		p = nl + 1;
	}
	g_assert_cmpuint(expected, ==, last);
	g_assert_cmpuint(total, <=, (MAX_FILES + 1) * (MAX_BYTES + block));
	return total;
}

static void
run_burst(gboolean force_truncate)
{
	Fixture f = { 0 };
	SgLogLimits limits = { MAX_BYTES, MAX_FILES };
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	SgLogFile *file;
	guint64 last, kept, dropped;
	struct stat st;

	fixture_init(&f);
	file = sg_log_file_open(f.watch, f.path, &limits, &error);
	g_assert_no_error(error);
	sg_log_file_set_force_truncate(file, force_truncate);
	last = write_lines(sg_log_file_fd(file), 0, BURST);
	g_assert_no_errno(fstat(sg_log_file_fd(file), &st));

	/* The check a second after the burst began, then the one that finds it over. */
	while (sg_clock_fake_pending(f.clock) == 0)
		g_main_context_iteration(f.context, TRUE);
	sg_clock_fake_advance(f.clock, 1000);
	dropped = sg_log_file_get_dropped(file);
	g_assert_cmpuint(dropped, >, 0);
	g_assert_true(g_file_get_contents(f.log_path, &text, NULL, NULL));
	g_assert_null(strstr(text, "dropped"));
	g_clear_pointer(&text, g_free);
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 1);
	sg_clock_fake_advance(f.clock, 1000);
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 0);

	kept = check_kept(f.path, last, (guint64)st.st_blksize);
	g_assert_cmpuint(kept + dropped, ==, (guint64)st.st_size);
	g_assert_true(g_file_get_contents(f.log_path, &text, NULL, NULL));
	{
		g_autofree char *expected = g_strdup_printf(
		        "%s: a burst of output: dropped %" G_GUINT64_FORMAT " bytes", f.path,
		        dropped);
		g_assert_nonnull(strstr(text, expected));
		/* One line for the whole burst. */
		g_assert_null(strstr(strstr(text, "dropped") + 1, "dropped"));
	}
	sg_log_file_close(file);
	fixture_clear(&f);
}

static void
test_burst_collapse(void)
{
	run_burst(FALSE);
}

static void
test_burst_truncate(void)
{
	run_burst(TRUE);
}

/* sg_log_rotate() alone: a head of several copies' worth below the burst size keeps whole
 * copies and leaves the rest live; nothing is dropped. */
static void
test_whole_copies(void)
{
	Fixture f = { 0 };
	SgLogRotation rotation = { 0 };
	SgLogRotationResult result = { 0 };
	struct stat st;
	guint64 block, before;
	int dir_fd, fd;

	fixture_init(&f);
	dir_fd = open(f.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = open(f.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	write_lines(fd, 0, 2 * MAX_BYTES + 1000);
	g_assert_no_errno(fstat(fd, &st));
	block = (guint64)st.st_blksize;
	before = (guint64)st.st_size;
	rotation =
	        (SgLogRotation){ dir_fd, f.dir, "svc_stdout.log", fd, MAX_BYTES, MAX_FILES, FALSE };
	g_assert_cmpint(sg_log_rotate(&rotation, &result), ==, 1);
	g_assert_cmpuint(result.dropped, ==, 0);
	if (result.collapsed) {
		guint64 chunk = MAX_BYTES + block, len = (before - 1) / block * block;
		guint64 n = len / chunk;

		g_assert_cmpuint(len, >, chunk);
		g_assert_cmpuint(len, <=, MAX_FILES * chunk);
		g_assert_cmpuint(result.n_copies, ==, n);
		for (guint i = 1; i <= n; i++) {
			g_autofree char *copy = g_strdup_printf("%s.%u", f.path, i);
			g_assert_cmpuint(size_of(copy), ==, chunk);
		}
		g_assert_cmpuint(size_of(f.path), ==, before - n * chunk);
	}
	close(fd);
	close(dir_fd);
	fixture_clear(&f);
}

/* Links planted among the rotated names are moved or removed, never written through. */
static void
test_rotated_links(void)
{
	Fixture f = { 0 };
	SgLogLimits limits = { MAX_BYTES, 2 };
	g_autoptr(GError) error = NULL;
	g_autofree char *target = NULL, *first = NULL, *second = NULL, *contents = NULL;
	SgLogFile *file;
	struct stat st;

	fixture_init(&f);
	target = g_build_filename(f.dir, "precious", NULL);
	first = g_strdup_printf("%s.1", f.path);
	second = g_strdup_printf("%s.2", f.path);
	g_assert_true(g_file_set_contents(target, "precious\n", -1, NULL));
	g_assert_no_errno(chmod(target, 0644));
	g_assert_no_errno(symlink(target, first));
	g_assert_no_errno(symlink(target, second));

	file = sg_log_file_open(f.watch, f.path, &limits, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 3; i++) {
		write_lines(sg_log_file_fd(file), 0, 2 * MAX_BYTES);
		g_assert_true(sg_log_file_rotate_if_needed(file, &error));
		g_assert_no_error(error);
	}
	g_assert_true(g_file_get_contents(target, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "precious\n");
	g_assert_no_errno(stat(target, &st));
	g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
	g_assert_no_errno(lstat(first, &st));
	g_assert_true(S_ISREG(st.st_mode));
	sg_log_file_close(file);
	fixture_clear(&f);
}

/* A link put in place of a live log: logged once, never followed; writers keep their file. */
static void
test_replaced_by_link(void)
{
	Fixture f = { 0 };
	SgLogLimits limits = { MAX_BYTES, 2 };
	g_autoptr(GError) error = NULL;
	g_autofree char *target = NULL, *contents = NULL, *text = NULL, *moved = NULL;
	SgLogFile *file;
	const char *line;

	fixture_init(&f);
	target = g_build_filename(f.dir, "precious", NULL);
	moved = g_build_filename(f.dir, "moved.log", NULL);
	g_assert_true(g_file_set_contents(target, "precious\n", -1, NULL));
	file = sg_log_file_open(f.watch, f.path, &limits, &error);
	g_assert_no_error(error);
	g_assert_no_errno(rename(f.path, moved));
	g_assert_no_errno(symlink(target, f.path));
	/* The move wakes a check, which finds the link; a second check says nothing new. */
	while (sg_clock_fake_pending(f.clock) == 0)
		g_main_context_iteration(f.context, TRUE);
	sg_clock_fake_advance(f.clock, 1000);
	sg_log_file_set_limits(file, &limits);
	for (guint i = 0; i < 2; i++)
		g_assert_cmpint(write(sg_log_file_fd(file), "x\n", 2), ==, 2);
	g_assert_true(g_file_get_contents(target, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "precious\n");
	g_clear_pointer(&contents, g_free);
	g_assert_true(g_file_get_contents(moved, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "x\nx\n");
	g_assert_true(g_file_get_contents(f.log_path, &text, NULL, NULL));
	line = strstr(text, "ERROR refusing ");
	g_assert_nonnull(line);
	g_assert_nonnull(strstr(line, "svc_stdout.log: it is a symbolic link"));
	g_assert_null(strstr(line + strlen("ERROR refusing"), "refusing"));
	sg_log_file_close(file);
	fixture_clear(&f);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/sg/logrotate/burst-collapse", test_burst_collapse);
	g_test_add_func("/sg/logrotate/burst-truncate", test_burst_truncate);
	g_test_add_func("/sg/logrotate/whole-copies", test_whole_copies);
	g_test_add_func("/sg/logrotate/rotated-links", test_rotated_links);
	g_test_add_func("/sg/logrotate/replaced-by-link", test_replaced_by_link);
	return g_test_run();
}
