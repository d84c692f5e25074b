/* SPDX-License-Identifier: MIT */
/* Tests of service log files: rotation under a live writer, both paths, and no idle wake-ups. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sg-clock.h"
#include "base/sg-error.h"
#include "process/sg-logfile.h"

#define DEADLINE_MS 10000
#define PROBE_CHUNK 65536
/* The live-writer rounds: a burst of lines is about twice MAX_BYTES. */
#define ROUNDS    30
#define BURST     3000
#define MAX_BYTES 16384
/* Enough old files for every round: a burst of about twice MAX_BYTES makes two copies. */
#define KEEP_ALL (2 * ROUNDS + 2)

typedef struct {
	char *dir;
	char *path;
	GMainContext *context;
	SgClock *clock;
	SgLogWatch *watch;
} Fixture;

static void
fixture_init_in(Fixture *f, char *dir)
{
	g_autoptr(GError) error = NULL;

	f->dir = dir;
	f->path = g_build_filename(dir, "svc_stdout.log", NULL);
	f->context = g_main_context_new();
	/* The watch must land on the thread-default context, not the global one. */
	g_main_context_push_thread_default(f->context);
	f->clock = sg_clock_new_fake(0, 0);
	f->watch = sg_log_watch_new(f->clock, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->watch);
}

static void
fixture_init(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("sg-logfile-XXXXXX", &error);

	g_assert_no_error(error);
	fixture_init_in(f, dir);
}

static void
remove_dir(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (d == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(dir, name, NULL);
		g_assert_no_errno(unlink(p));
	}
	g_assert_no_errno(rmdir(dir));
}

static void
fixture_clear(Fixture *f)
{
	g_clear_pointer(&f->watch, sg_log_watch_free);
	g_clear_pointer(&f->clock, sg_clock_unref);
	/* Nothing of ours may be left on the context. */
	g_assert_false(g_main_context_iteration(f->context, FALSE));
	g_main_context_pop_thread_default(f->context);
	g_clear_pointer(&f->context, g_main_context_unref);
	remove_dir(f->dir);
	g_clear_pointer(&f->dir, g_free);
	g_clear_pointer(&f->path, g_free);
}

static SgLogFile *
open_file(Fixture *f, const char *path, guint64 max_bytes, guint max_files)
{
	g_autoptr(GError) error = NULL;
	SgLogLimits limits = { max_bytes, max_files };
	SgLogFile *file = sg_log_file_open(f->watch, path, &limits, &error);

	g_assert_no_error(error);
	g_assert_nonnull(file);
	return file;
}

static gboolean
set_flag_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Iterates the context until n checks are pending (the inotify events have been read). */
static void
wait_for_pending(Fixture *f, guint n)
{
	gboolean timed_out = FALSE;
	GSource *deadline = g_timeout_source_new(DEADLINE_MS);

	g_source_set_callback(deadline, set_flag_cb, &timed_out, NULL);
	g_source_attach(deadline, f->context);
	while (sg_clock_fake_pending(f->clock) < n && !timed_out)
		g_main_context_iteration(f->context, TRUE);
	g_source_destroy(deadline);
	g_source_unref(deadline);
	g_assert_false(timed_out);
	g_assert_cmpuint(sg_clock_fake_pending(f->clock), ==, n);
}

static void
drain(Fixture *f)
{
	while (g_main_context_iteration(f->context, FALSE))
		;
}

static void
write_all(int fd, const void *data, gsize len)
{
	g_assert_cmpint(write(fd, data, len), ==, (gssize)len);
}

static void
write_bytes(int fd, char c, gsize len)
{
	g_autofree char *buf = g_malloc(len);

	memset(buf, c, len);
	write_all(fd, buf, len);
}

static guint64
file_size(const char *path)
{
	GStatBuf st;

	g_assert_no_errno(g_stat(path, &st));
	return (guint64)st.st_size;
}

static guint
file_mode(const char *path)
{
	GStatBuf st;

	g_assert_no_errno(g_stat(path, &st));
	return st.st_mode & 07777;
}

static char *
rotated(const char *path, guint n)
{
	return g_strdup_printf("%s.%u", path, n);
}

static gboolean
exists(const char *path)
{
	return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* ---- the writer child ---- */

typedef struct {
	pid_t pid;
	int go_fd;  /* 'g': write one more burst; anything else: exit */
	int ack_fd; /* one byte per burst written */
} Writer;

static size_t
format_line(char *buf, guint64 n)
{
	char digits[24];
	size_t len, i = 0;

	do {
		digits[i++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	memcpy(buf, "line ", 5);
	len = 5;
	while (i > 0)
		buf[len++] = digits[--i];
	buf[len++] = '\n';
	return len;
}

/* Only async-signal-safe calls: the child of a forked test. Each line is one O_APPEND
 * write of its own. */
static G_NORETURN void
writer_main(int go_fd, int ack_fd, int log_fd, guint burst)
{
	guint64 next = 0;
	char c;

	while (read(go_fd, &c, 1) == 1 && c == 'g') {
		for (guint i = 0; i < burst; i++) {
			char line[32];
			size_t len = format_line(line, next);
			if (write(log_fd, line, len) != (ssize_t)len)
				_exit(2);
			next++;
		}
		if (write(ack_fd, "a", 1) != 1)
			_exit(3);
	}
	_exit(0);
}

static void
writer_start(Writer *w, int log_fd, guint burst)
{
	int go[2], ack[2];

	g_assert_no_errno(pipe2(go, O_CLOEXEC));
	g_assert_no_errno(pipe2(ack, O_CLOEXEC));
	w->pid = fork();
	g_assert_cmpint(w->pid, >=, 0);
	if (w->pid == 0) {
		close(go[1]);
		close(ack[0]);
		/* A failing test aborts the parent: the writer must not outlive it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(4);
		writer_main(go[0], ack[1], log_fd, burst);
	}
	close(go[0]);
	close(ack[1]);
	w->go_fd = go[1];
	w->ack_fd = ack[0];
}

static void
writer_burst(Writer *w)
{
	write_all(w->go_fd, "g", 1);
}

/* Waits (with a deadline) until the writer has finished one more burst. */
static void
writer_wait_burst(Writer *w)
{
	struct pollfd pfd = { w->ack_fd, POLLIN, 0 };
	char c;

	g_assert_cmpint(poll(&pfd, 1, DEADLINE_MS), ==, 1);
	g_assert_cmpint(read(w->ack_fd, &c, 1), ==, 1);
}

static void
writer_finish(Writer *w)
{
	int status = 0;

	write_all(w->go_fd, "q", 1);
	g_assert_cmpint(waitpid(w->pid, &status, 0), ==, w->pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	close(w->go_fd);
	close(w->ack_fd);
}

/* ---- reading the result back ---- */

static gboolean
parse_line(const char *line, gsize len, guint64 *ret_n)
{
	guint64 n = 0;

	if (len < 6 || memcmp(line, "line ", 5) != 0)
		return FALSE;
	for (gsize i = 5; i < len; i++) {
		if (!g_ascii_isdigit(line[i]))
			return FALSE;
		n = n * 10 + (guint64)(line[i] - '0');
	}
	*ret_n = n;
	return TRUE;
}

/* The contents of PATH.N ... PATH.1 PATH, oldest first, checking that .1 .. .n exist
 * without holes, are 0600, and that nothing lies beyond max_files. */
static GPtrArray *
read_rotated_set(const char *path, guint max_files)
{
	GPtrArray *files = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	g_autofree char *beyond = rotated(path, max_files + 1);
	guint n_rotated = 0;

	g_assert_false(exists(beyond));
	for (guint n = 1; n <= max_files; n++) {
		g_autofree char *p = rotated(path, n);
		if (!exists(p))
			break;
		n_rotated = n;
	}
	for (guint n = n_rotated + 1; n >= 1; n--) {
		g_autofree char *p = n > n_rotated ? g_strdup(path) : rotated(path, n);
		char *contents = NULL;
		gsize len = 0;

		g_assert_true(g_file_get_contents(p, &contents, &len, NULL));
		g_assert_cmpuint(file_mode(p), ==, 0600);
		g_ptr_array_add(files, g_bytes_new_take(contents, len));
	}
	/* The live file came first in the loop: put it last. */
	g_ptr_array_add(files, g_ptr_array_steal_index(files, 0));
	/* And no temporary copy was left behind. */
	{
		g_autofree char *dir = g_path_get_dirname(path);
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		guint n_entries = 0;

		g_assert_nonnull(d);
		while (g_dir_read_name(d) != NULL)
			n_entries++;
		g_assert_cmpuint(n_entries, ==, files->len);
	}
	return files;
}

/*
 * Collapse path: collapse-range removes exactly the whole blocks that were copied, so the
 * old files are whole blocks and their concatenation with the live file is every line,
 * once, in order (lines may straddle two files).
 */
static void
check_exact(GPtrArray *files, guint64 block, guint64 total)
{
	g_autoptr(GString) all = g_string_new(NULL);
	const char *p, *end;
	guint64 expected = 0;

	for (guint i = 0; i < files->len; i++) {
		gsize len;
		const char *data = g_bytes_get_data(files->pdata[i], &len);
		if (i + 1 < files->len)
			g_assert_cmpuint(len % block, ==, 0);
		g_string_append_len(all, data, (gssize)len);
	}
	p = all->str;
	end = all->str + all->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		guint64 n = 0;

		g_assert_nonnull(nl);
		g_assert_true(parse_line(p, (gsize)(nl - p), &n));
		g_assert_cmpuint(n, ==, expected);
		expected++;
		p = nl + 1;
	}
	g_assert_cmpuint(expected, ==, total);
}

/*
 * Truncate path: each file starts at a line (after the truncate, a writer appends whole
 * lines); lines are lost only in the window between the last catch-up size check and the
 * truncate, so a gap may appear only at the start of a file, and a line seen half
 * written by that size check only at the end of one. Inside a file: every line, in order.
 * Returns the number of lines lost.
 */
static guint64
check_losses_at_boundaries(GPtrArray *files, guint64 total, guint64 *ret_n_torn)
{
	guint64 expected = 0, lost = 0, torn = 0;

	for (guint i = 0; i < files->len; i++) {
		gsize len;
		const char *data = g_bytes_get_data(files->pdata[i], &len);
		const char *p = data, *end = data + len;
		gboolean first = TRUE;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			guint64 n = 0;

			if (nl == NULL) {
				/* Only an old file can end torn: the writer finished whole lines.
				 */
				g_assert_cmpuint(i + 1, <, files->len);
				torn++;
				break;
			}
			g_assert_true(parse_line(p, (gsize)(nl - p), &n));
			if (first && n > expected) {
				/* The writer pauses after each burst until the rotation is over, so
				 * one window can lose the rest of one burst at most. */
				g_assert_cmpuint(n - expected, <=, BURST);
				lost += n - expected;
				expected = n;
			}
			g_assert_cmpuint(n, ==, expected);
			expected++;
			first = FALSE;
			p = nl + 1;
		}
	}
	if (expected < total) {
		/* The writer finished before the last truncate: the live file is left empty. */
		g_assert_cmpuint(g_bytes_get_size(files->pdata[files->len - 1]), ==, 0);
		g_assert_cmpuint(total - expected, <=, BURST);
		lost += total - expected;
	}
	*ret_n_torn = torn;
	return lost;
}

/* ---- collapse-range support ---- */

static gboolean
collapse_works_in(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "probe", NULL);
	g_autofree char *buf = g_malloc0(3 * PROBE_CHUNK);
	gboolean works;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	g_assert_cmpint(fd, >=, 0);
	write_all(fd, buf, 3 * PROBE_CHUNK);
	works = fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, PROBE_CHUNK) == 0;
	close(fd);
	g_assert_no_errno(unlink(path));
	return works;
}

/* A new directory where collapse-range works (want) or does not (!want), or NULL. */
static char *
make_dir_where_collapse(gboolean want, char **ret_tried)
{
	const char *candidates[] = { g_get_tmp_dir(), g_getenv("G_TEST_BUILDDIR"), "/dev/shm",
		                     "/var/tmp" };
	GString *tried = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
		g_autofree char *dir = NULL;

		if (candidates[i] == NULL)
			continue;
		dir = g_build_filename(candidates[i], "sg-logfile-XXXXXX", NULL);
		if (g_mkdtemp(dir) == NULL)
			continue;
		g_string_append_printf(tried, "%s%s", tried->len ? ", " : "", candidates[i]);
		if (collapse_works_in(dir) == want) {
			g_string_free(tried, TRUE);
			return g_steal_pointer(&dir);
		}
		g_assert_no_errno(rmdir(dir));
	}
	*ret_tried = g_string_free(tried, FALSE);
	return NULL;
}

/* ---- tests ---- */

static void
test_quiet(void)
{
	Fixture f = { 0 };
	g_autofree char *first = NULL;
	SgLogFile *file;
	int fd;

	fixture_init(&f);
	first = rotated(f.path, 1);
	file = open_file(&f, f.path, 65536, 3);
	fd = sg_log_file_fd(file);
	g_assert_cmpint(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND), ==, O_WRONLY | O_APPEND);
	g_assert_cmpint(fcntl(fd, F_GETFL) & O_NONBLOCK, ==, 0);
	g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);

	/* A quiet file: nothing to dispatch and nothing pending. */
	g_assert_false(g_main_context_iteration(f.context, FALSE));
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 0);

	/* The first write arms one check; more writes add none. */
	write_all(fd, "hello\n", 6);
	wait_for_pending(&f, 1);
	for (int i = 0; i < 100; i++)
		write_all(fd, "more\n", 5);
	drain(&f);
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 1);

	/* The check finds nothing to do, re-arms the watch, and the file is quiet again. */
	sg_clock_fake_advance(f.clock, 1000);
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 0);
	g_assert_false(g_main_context_iteration(f.context, FALSE));
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 0);
	g_assert_false(exists(first));

	/* And the re-armed watch works. */
	write_all(fd, "again\n", 6);
	wait_for_pending(&f, 1);
	sg_clock_fake_advance(f.clock, 1000);
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 0);

	sg_log_file_close(file);
	fixture_clear(&f);
}

static void
test_too_big_at_open(void)
{
	Fixture f = { 0 };
	g_autofree char *first = NULL, *second = NULL;
	SgLogFile *file;
	int fd;

	fixture_init(&f);
	first = rotated(f.path, 1);
	fd = open(f.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(fd, >=, 0);
	write_bytes(fd, 'a', 100000);
	close(fd);

	/* More than max_files x (max_bytes + a block): the newest are kept, the rest counted as
	 * dropped. */
	file = open_file(&f, f.path, 16384, 2);
	second = rotated(f.path, 2);
	g_assert_true(exists(first));
	g_assert_cmpuint(file_size(first), <=, 16384 + 4096);
	g_assert_cmpuint(file_size(first), >, 16384);
	g_assert_cmpuint(file_size(second), ==, file_size(first));
	g_assert_cmpuint(file_size(f.path), <, 16384);
	g_assert_cmpuint(file_size(f.path) + file_size(first) + file_size(second) +
	                         sg_log_file_get_dropped(file),
	                 ==, 100000);
	/* Our own rotation does not wake us up; one check comes to tell the drop, then none. */
	g_assert_false(g_main_context_iteration(f.context, FALSE));
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 1);
	sg_clock_fake_advance(f.clock, 1000);
	g_assert_false(g_main_context_iteration(f.context, FALSE));
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 0);

	sg_log_file_close(file);
	fixture_clear(&f);
}

static void
test_order(void)
{
	Fixture f = { 0 };
	g_autofree char *stale4 = NULL, *stale5 = NULL;
	g_autoptr(GError) error = NULL;
	SgLogFile *file;
	int fd;

	fixture_init(&f);
	/* Left by an earlier max_files of 5. */
	stale4 = rotated(f.path, 4);
	stale5 = rotated(f.path, 5);
	g_assert_true(g_file_set_contents(stale4, "old", -1, NULL));
	g_assert_true(g_file_set_contents(stale5, "older", -1, NULL));

	file = open_file(&f, f.path, 50, 3);
	sg_log_file_set_force_truncate(file, TRUE);
	fd = sg_log_file_fd(file);
	for (guint round = 1; round <= 5; round++) {
		g_autofree char *line = g_strdup_printf("round %u %0100u\n", round, 0);
		write_all(fd, line, strlen(line));
		g_assert_true(sg_log_file_rotate_if_needed(file, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(file_size(f.path), ==, 0);
	}
	for (guint n = 1; n <= 3; n++) {
		g_autofree char *p = rotated(f.path, n);
		g_autofree char *contents = NULL;
		g_autofree char *expected = g_strdup_printf("round %u %0100u\n", 6 - n, 0);

		g_assert_true(g_file_get_contents(p, &contents, NULL, NULL));
		g_assert_cmpstr(contents, ==, expected);
		g_assert_cmpuint(file_mode(p), ==, 0600);
	}
	g_assert_false(exists(stale4));
	g_assert_false(exists(stale5));

	/* Under the limit: nothing to do. */
	write_all(fd, "x\n", 2);
	g_assert_false(sg_log_file_rotate_if_needed(file, &error));
	g_assert_no_error(error);

	sg_log_file_close(file);
	fixture_clear(&f);
}

static void
test_max_bytes_zero(void)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *first = NULL;
	SgLogFile *file;

	fixture_init(&f);
	first = rotated(f.path, 1);
	file = open_file(&f, f.path, 0, 5);
	write_bytes(sg_log_file_fd(file), 'z', 200000);
	/* Rotation off: writes do not even wake us up. */
	g_assert_false(g_main_context_iteration(f.context, FALSE));
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 0);
	g_assert_false(sg_log_file_rotate_if_needed(file, &error));
	g_assert_no_error(error);
	g_assert_false(exists(first));
	g_assert_cmpuint(file_size(f.path), ==, 200000);

	/* Turning rotation on applies at once. */
	sg_log_file_set_limits(file, &(SgLogLimits){ 16384, 2 });
	g_assert_true(exists(first));
	g_assert_cmpuint(file_size(f.path), <, 16384);

	sg_log_file_close(file);
	fixture_clear(&f);
}

static void
test_max_files_zero(void)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *first = NULL;
	SgLogFile *file;

	fixture_init(&f);
	first = rotated(f.path, 1);
	g_assert_true(g_file_set_contents(first, "from before", -1, NULL));
	file = open_file(&f, f.path, 16384, 0);
	write_bytes(sg_log_file_fd(file), 'z', 100000);
	g_assert_true(sg_log_file_rotate_if_needed(file, &error));
	g_assert_no_error(error);
	g_assert_false(exists(first));
	g_assert_cmpuint(file_size(f.path), <, 16384);

	sg_log_file_close(file);
	fixture_clear(&f);
}

static void
test_modes(void)
{
	Fixture f = { 0 };
	g_autofree char *other = NULL, *other_first = NULL;
	SgLogFile *file, *file2;
	mode_t old_umask = umask(0);
	int fd;

	fixture_init(&f);
	fd = open(f.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	g_assert_cmpint(fd, >=, 0);
	close(fd);
	g_assert_cmpuint(file_mode(f.path), ==, 0644);
	file = open_file(&f, f.path, 16384, 2);
	g_assert_cmpuint(file_mode(f.path), ==, 0600);

	other = g_build_filename(f.dir, "svc_stderr.log", NULL);
	file2 = open_file(&f, other, 16384, 2);
	g_assert_cmpuint(file_mode(other), ==, 0600);
	write_bytes(sg_log_file_fd(file2), 'q', 50000);
	g_assert_true(sg_log_file_rotate_if_needed(file2, NULL));
	other_first = rotated(other, 1);
	g_assert_cmpuint(file_mode(other_first), ==, 0600);

	umask(old_umask);
	sg_log_file_close(file);
	sg_log_file_close(file2);
	fixture_clear(&f);
}

static void
check_recreated(Fixture *f, SgLogFile *file, gboolean rotating)
{
	struct stat fst, pst;

	wait_for_pending(f, 1);
	sg_clock_fake_advance(f->clock, 1000);
	g_assert_true(exists(f->path));
	g_assert_cmpuint(file_mode(f->path), ==, 0600);
	g_assert_no_errno(fstat(sg_log_file_fd(file), &fst));
	g_assert_no_errno(stat(f->path, &pst));
	g_assert_cmpuint(fst.st_ino, ==, pst.st_ino);
	write_all(sg_log_file_fd(file), "after\n", 6);
	g_assert_cmpuint(file_size(f->path), ==, 6);
	/* The new file is watched (for writes only when it rotates), and quiet costs nothing. */
	if (rotating) {
		wait_for_pending(f, 1);
		sg_clock_fake_advance(f->clock, 1000);
	}
	g_assert_false(g_main_context_iteration(f->context, FALSE));
	g_assert_cmpuint(sg_clock_fake_pending(f->clock), ==, 0);
}

static void
test_recreated(void)
{
	Fixture f = { 0 };
	g_autofree char *moved = NULL;
	SgLogFile *file;

	fixture_init(&f);
	file = open_file(&f, f.path, 65536, 2);
	write_all(sg_log_file_fd(file), "before\n", 7);
	wait_for_pending(&f, 1);
	sg_clock_fake_advance(f.clock, 1000);

	/* Deleted while quiet: the unlink alone wakes us. */
	g_assert_no_errno(unlink(f.path));
	check_recreated(&f, file, TRUE);

	/* Renamed away. */
	moved = g_build_filename(f.dir, "moved.log", NULL);
	g_assert_no_errno(rename(f.path, moved));
	check_recreated(&f, file, TRUE);

	/* Deleted with rotation off. */
	sg_log_file_set_limits(file, &(SgLogLimits){ 0, 2 });
	g_assert_no_errno(unlink(f.path));
	check_recreated(&f, file, FALSE);

	sg_log_file_close(file);
	fixture_clear(&f);
}

static void
test_same_inode(void)
{
	Fixture f = { 0 };
	g_autofree char *first = NULL;
	SgLogFile *a, *b;
	int fd;

	fixture_init(&f);
	first = rotated(f.path, 1);
	a = open_file(&f, f.path, 16384, 3);
	b = open_file(&f, f.path, 16384, 3);
	fd = sg_log_file_fd(a);

	/* One inode, one kernel watch, two files: each gets its check. */
	write_all(fd, "x\n", 2);
	wait_for_pending(&f, 2);
	sg_clock_fake_advance(f.clock, 1000);
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 0);
	write_all(fd, "x\n", 2);
	wait_for_pending(&f, 2);
	sg_clock_fake_advance(f.clock, 1000);

	/* Closing one keeps the other's watch. */
	sg_log_file_close(a);
	fd = sg_log_file_fd(b);
	write_bytes(fd, 'y', 40000);
	wait_for_pending(&f, 1);
	sg_clock_fake_advance(f.clock, 1000);
	/* More than one copy's worth: whole copies now, the rest at the next check. */
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 1);
	sg_clock_fake_advance(f.clock, 1000);
	g_assert_true(exists(first));
	g_assert_cmpuint(file_size(f.path), <, 16384);
	write_all(fd, "z\n", 2);
	wait_for_pending(&f, 1);
	sg_clock_fake_advance(f.clock, 1000);

	sg_log_file_close(b);
	fixture_clear(&f);
}

/* A FIFO with no reader in place of the log is refused; the supervisor does not hang. */
static void
test_fifo(void)
{
	Fixture f = { 0 };
	g_autoptr(GError) error = NULL;
	SgLogLimits limits = { 16384, 2 };
	SgLogFile *file;

	fixture_init(&f);
	g_assert_no_errno(mkfifo(f.path, 0600));
	file = sg_log_file_open(f.watch, f.path, &limits, &error);
	g_assert_null(file);
	g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
	g_assert_nonnull(strstr(error->message, "not a regular file (a FIFO)"));
	fixture_clear(&f);
}

static void
test_watch_freed_first(void)
{
	Fixture f = { 0 };
	SgLogFile *file;

	fixture_init(&f);
	file = open_file(&f, f.path, 16384, 2);
	write_all(sg_log_file_fd(file), "x\n", 2);
	wait_for_pending(&f, 1);
	g_clear_pointer(&f.watch, sg_log_watch_free);
	g_assert_cmpuint(sg_clock_fake_pending(f.clock), ==, 0);
	write_bytes(sg_log_file_fd(file), 'y', 40000);
	g_assert_true(sg_log_file_rotate_if_needed(file, NULL));
	sg_log_file_close(file);
	fixture_clear(&f);
}

/*
 * Each round: once the writer has finished a burst, start the next one and fire the check
 * (whose inotify event the finished burst caused) while that next burst is being written.
 * A burst is about twice MAX_BYTES, so most rounds rotate. Returns the number of lines
 * written.
 */
static guint64
run_rotations(Fixture *f, gboolean force_truncate, SgLogFile **ret_file)
{
	SgLogFile *file = open_file(f, f->path, MAX_BYTES, KEEP_ALL);
	Writer w;

	sg_log_file_set_force_truncate(file, force_truncate);
	writer_start(&w, sg_log_file_fd(file), BURST);
	writer_burst(&w);
	for (guint round = 0; round < ROUNDS; round++) {
		writer_wait_burst(&w);
		writer_burst(&w);
		/* Exactly one check pending however many writes arrive. */
		wait_for_pending(f, 1);
		drain(f);
		g_assert_cmpuint(sg_clock_fake_pending(f->clock), ==, 1);
		sg_clock_fake_advance(f->clock, 1000);
		g_assert_cmpuint(sg_clock_fake_pending(f->clock), <=, 1);
	}
	writer_wait_burst(&w);
	writer_finish(&w);
	*ret_file = file;
	return (guint64)(ROUNDS + 1) * BURST;
}

static void
test_rotate_collapse(void)
{
	Fixture f = { 0 };
	g_autofree char *tried = NULL;
	g_autoptr(GPtrArray) files = NULL;
	char *dir = make_dir_where_collapse(TRUE, &tried);
	SgLogFile *file;
	guint64 total;
	struct stat st;

	if (dir == NULL) {
		g_autofree char *msg = g_strdup_printf(
		        "no file system here supports collapse-range (tried %s)", tried);
		g_test_skip(msg);
		return;
	}
	fixture_init_in(&f, dir);
	total = run_rotations(&f, FALSE, &file);
	g_assert_no_errno(fstat(sg_log_file_fd(file), &st));
	files = read_rotated_set(f.path, KEEP_ALL);
	g_test_message("%" G_GUINT64_FORMAT " lines, %u rotations", total, files->len - 1);
	g_assert_cmpuint(files->len, >=, 2);
	check_exact(files, (guint64)st.st_blksize, total);

	sg_log_file_close(file);
	fixture_clear(&f);
}

/* How much is lost depends on scheduling, so only where it is lost is asserted; the count
 * is reported: a few lines per rotation for a writer in a tight loop, more when it keeps
 * the inode lock busy while the truncate waits for it. */
static void
check_truncate_result(Fixture *f, guint64 total)
{
	g_autoptr(GPtrArray) files = read_rotated_set(f->path, KEEP_ALL);
	guint64 lost, torn;

	g_assert_cmpuint(files->len, >=, 2);
	lost = check_losses_at_boundaries(files, total, &torn);
	g_test_message("%" G_GUINT64_FORMAT " lines, %u rotations, %" G_GUINT64_FORMAT
	               " lost, %" G_GUINT64_FORMAT " torn",
	               total, files->len - 1, lost, torn);
}

static void
test_rotate_truncate(void)
{
	Fixture f = { 0 };
	SgLogFile *file;
	guint64 total;

	fixture_init(&f);
	total = run_rotations(&f, TRUE, &file);
	check_truncate_result(&f, total);
	sg_log_file_close(file);
	fixture_clear(&f);
}

/* The fallback chosen by the file system itself rather than forced. */
static void
test_rotate_no_collapse(void)
{
	Fixture f = { 0 };
	g_autofree char *tried = NULL;
	char *dir = make_dir_where_collapse(FALSE, &tried);
	SgLogFile *file;
	guint64 total;

	if (dir == NULL) {
		g_autofree char *msg = g_strdup_printf(
		        "every file system here supports collapse-range (tried %s)", tried);
		g_test_skip(msg);
		return;
	}
	fixture_init_in(&f, dir);
	total = run_rotations(&f, FALSE, &file);
	check_truncate_result(&f, total);
	sg_log_file_close(file);
	fixture_clear(&f);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/sg/logfile/quiet", test_quiet);
	g_test_add_func("/sg/logfile/too-big-at-open", test_too_big_at_open);
	g_test_add_func("/sg/logfile/order", test_order);
	g_test_add_func("/sg/logfile/max-bytes-zero", test_max_bytes_zero);
	g_test_add_func("/sg/logfile/max-files-zero", test_max_files_zero);
	g_test_add_func("/sg/logfile/modes", test_modes);
	g_test_add_func("/sg/logfile/recreated", test_recreated);
	g_test_add_func("/sg/logfile/same-inode", test_same_inode);
	g_test_add_func("/sg/logfile/fifo", test_fifo);
	g_test_add_func("/sg/logfile/watch-freed-first", test_watch_freed_first);
	g_test_add_func("/sg/logfile/rotate-collapse", test_rotate_collapse);
	g_test_add_func("/sg/logfile/rotate-truncate", test_rotate_truncate);
	g_test_add_func("/sg/logfile/rotate-no-collapse", test_rotate_no_collapse);
	return g_test_run();
}
