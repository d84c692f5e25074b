/* SPDX-License-Identifier: MIT */
/* Tests of the readiness probes against real servers and commands, on real and fake clocks. */
#include "config.h"

#include "engine/sg-health.h"
#include "process/sg-reaper.h"
#include "process/sg-spawn.h"
#include "lib/sg-test-engine.h"
#include "lib/sg-test.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_SECONDS 10

static SgReaper *reaper;
static GArray *children; /* pid_t: helper processes still to be killed and reaped */

typedef struct {
	guint calls;
	gboolean passed;
	char *cause;
	gint64 at_usec;
} Result;

static void
result_clear(Result *result)
{
	g_clear_pointer(&result->cause, g_free);
	memset(result, 0, sizeof(*result));
}

static void
done_cb(gboolean passed, const char *cause, gpointer user_data)
{
	Result *result = user_data;

	result->calls++;
	result->passed = passed;
	g_free(result->cause);
	result->cause = g_strdup(cause);
	result->at_usec = g_get_monotonic_time();
	g_test_message("probe %s%s%s", passed ? "passed" : "failed", cause != NULL ? ": " : "",
	               cause != NULL ? cause : "");
	g_assert_true(passed == (cause == NULL));
}

/* Iterates the loop until cond holds or the deadline passes; returns cond. */
#define WAIT_FOR(cond)                                                                             \
	G_STMT_START                                                                               \
	{                                                                                          \
		gboolean timed_out_ = FALSE;                                                       \
		guint id_ = g_timeout_add_seconds(WAIT_SECONDS, sg_test_deadline_cb, &timed_out_); \
		while (!(cond) && !timed_out_)                                                     \
			g_main_context_iteration(NULL, TRUE);                                      \
		if (!timed_out_)                                                                   \
			g_source_remove(id_);                                                      \
		g_assert_true(cond);                                                               \
	}                                                                                          \
	G_STMT_END

/* Runs whatever is ready now: cancelled asynchronous steps return this way. */
static void
drain(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static gboolean
process_gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/* ---- helper processes ---- */

static void
child_reaped_cb(pid_t pid, int wait_status, gpointer user_data)
{
	for (guint i = 0; i < children->len; i++) {
		if (g_array_index(children, pid_t, i) == pid) {
			g_array_remove_index_fast(children, i);
			return;
		}
	}
}

/* Starts helper-child with actions; its stdout goes to *ret_stdout_fd when asked. */
static pid_t
helper_start(const char *const *actions, int *ret_stdout_fd)
{
	const char *helper = g_getenv("SG_TEST_HELPER_CHILD");
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	SgSpawnResult result;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_auto(GStrv) envp = g_get_environ();
	int out[2] = { -1, -1 };

	g_assert_nonnull(helper);
	g_ptr_array_add(argv, (char *)helper);
	for (guint i = 0; actions[i] != NULL; i++)
		g_ptr_array_add(argv, (char *)actions[i]);
	g_ptr_array_add(argv, NULL);
	if (ret_stdout_fd != NULL) {
		g_assert_cmpint(pipe2(out, O_CLOEXEC), ==, 0);
		options.stdout_fd = out[1];
	}
	options.argv = (char **)argv->pdata;
	options.envp = envp;
	options.new_session = TRUE;
	g_assert_true(sg_spawn(&options, &result, &error));
	g_assert_no_error(error);
	close(result.status_fd);
	if (ret_stdout_fd != NULL) {
		close(out[1]);
		*ret_stdout_fd = out[0];
	}
	g_array_append_val(children, result.pid);
	sg_reaper_watch(reaper, result.pid, child_reaped_cb, NULL);
	return result.pid;
}

static void
helpers_stop(void)
{
	for (guint i = 0; i < children->len; i++)
		kill(g_array_index(children, pid_t, i), SIGKILL);
	WAIT_FOR(children->len == 0);
}

/* Reads the port a helper serving on port 0 prints once it listens. */
static guint16
read_port(int fd)
{
	char buf[32];
	gsize len = 0;
	gssize n;
	guint64 port;

	/* A blocking read: the helper writes the line as soon as it listens. */
	while (len < sizeof(buf) - 1 && (len == 0 || buf[len - 1] != '\n')) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(n, >, 0);
		len += (gsize)n;
	}
	buf[len] = '\0';
	close(fd);
	g_assert_true(g_ascii_string_to_unsigned(g_strstrip(buf), 10, 1, 65535, &port, NULL));
	return (guint16)port;
}

static guint16
helper_serve(const char *kind, const char *extra)
{
	g_autofree char *action = g_strdup_printf("%s:0%s", kind, extra != NULL ? extra : "");
	const char *actions[] = { action, NULL };
	int fd;

	helper_start(actions, &fd);
	return read_port(fd);
}

/* A port nobody listens on right now. */
static guint16
free_port(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
		                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
	close(fd);
	return ntohs(addr.sin_port);
}

/* A listener that never accepts: connections complete but nothing ever answers. */
static int
silent_listener(guint16 *ret_port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
		                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	g_assert_cmpint(listen(fd, 64), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
	*ret_port = ntohs(addr.sin_port);
	return fd;
}

/* ---- probes ---- */

static SgHealthProbe *
probe_start_full(SgCheckKind kind, const char *target, guint64 interval_ms, guint64 timeout_ms,
                 guint retries, SgClock *clock, char **envp, const char *cwd, Result *result)
{
	SgHealthCheck check = {
		.kind = kind,
		.target = (char *)target,
		.interval_ms = interval_ms,
		.timeout_ms = timeout_ms,
		.retries = retries,
	};
	SgHealthContext context = {
		.envp = envp,
		.cwd = cwd,
		.extra_env = "SYSTEMG_PID=4242",
		.reaper = reaper,
		.clock = clock,
	};

	return sg_health_probe_start(&check, &context, done_cb, result);
}

/* Runs a probe on the real clock to its verdict; returns how long it took in ms. */
static gint64
run_probe(SgCheckKind kind, const char *target, guint64 interval_ms, guint64 timeout_ms,
          guint retries, Result *result)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	gint64 start = g_get_monotonic_time();

	probe_start_full(kind, target, interval_ms, timeout_ms, retries, clock, NULL, NULL, result);
	/* Never from inside start. */
	g_assert_cmpuint(result->calls, ==, 0);
	WAIT_FOR(result->calls > 0);
	drain();
	g_assert_cmpuint(result->calls, ==, 1);
	return (result->at_usec - start) / 1000;
}

static guint
cause_attempts(const char *cause)
{
	const char *p = strstr(cause, " failed after ");

	g_assert_nonnull(p);
	return (guint)strtoul(p + strlen(" failed after "), NULL, 10);
}

static void
assert_contains(const char *haystack, const char *needle)
{
	if (haystack == NULL || strstr(haystack, needle) == NULL)
		g_error("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void
test_url_pass(void)
{
	guint16 port = helper_serve("http", NULL);
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/health?x=1", port);
	Result result = { 0 };

	run_probe(SG_CHECK_URL, url, 50, 5000, 3, &result);
	g_assert_true(result.passed);
	result_clear(&result);
	helpers_stop();
}

static void
test_url_status(void)
{
	guint16 port = helper_serve("http-status", ":503");
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/", port);
	g_autofree char *expected = NULL;
	Result result = { 0 };
	gint64 ms;

	ms = run_probe(SG_CHECK_URL, url, 50, 300, 2, &result);
	g_assert_false(result.passed);
	expected = g_strdup_printf("url health check \"%s\" failed after ", url);
	assert_contains(result.cause, expected);
	g_assert_true(g_str_has_suffix(result.cause, ": HTTP 503"));
	g_assert_cmpuint(cause_attempts(result.cause), >=, 2);
	g_assert_cmpint(ms, >=, 300);
	result_clear(&result);
	helpers_stop();
}

static void
test_url_refused(void)
{
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/", free_port());
	Result result = { 0 };
	gint64 ms;

	/* Two failures come fast; the probe keeps trying until the timeout has run out. */
	ms = run_probe(SG_CHECK_URL, url, 50, 300, 2, &result);
	g_assert_false(result.passed);
	g_assert_true(g_str_has_suffix(result.cause, ": connection refused"));
	g_assert_cmpint(ms, >=, 300);
	g_assert_cmpint(ms, <, 3000);
	g_assert_cmpuint(cause_attempts(result.cause), >=, 2);
	result_clear(&result);
}

static void
test_retries_rule(void)
{
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/", free_port());
	Result result = { 0 };
	gint64 ms;

	/* The timeout runs out first: exactly `retries` attempts, one interval apart. */
	ms = run_probe(SG_CHECK_URL, url, 50, 60, 4, &result);
	g_assert_false(result.passed);
	g_assert_cmpuint(cause_attempts(result.cause), ==, 4);
	g_assert_cmpint(ms, >=, 150);
	result_clear(&result);
}

static void
test_timeout_rule_fake(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_fake(1000000, 1700000000000000);
	g_autofree char *url = NULL;
	g_autofree char *expected = NULL;
	Result result = { 0 };
	guint16 port;
	int listener = silent_listener(&port);

	url = g_strdup_printf("http://127.0.0.1:%u/", port);
	/* Every attempt hangs and is cut off after min(timeout, max(interval, 1 s)) = 1 s. One
	 * failure is enough, but the 3 s timeout must run out too: 3 attempts. */
	probe_start_full(SG_CHECK_URL, url, 100, 3000, 1, clock, NULL, NULL, &result);
	sg_clock_fake_advance(clock, 2999);
	g_assert_cmpuint(result.calls, ==, 0);
	sg_clock_fake_advance(clock, 1);
	g_assert_cmpuint(result.calls, ==, 1);
	g_assert_false(result.passed);
	expected = g_strdup_printf("url health check \"%s\" failed after 3 attempts over 3s: "
	                           "timed out after 1s",
	                           url);
	g_assert_cmpstr(result.cause, ==, expected);
	g_assert_cmpuint(sg_clock_fake_pending(clock), ==, 0);
	drain();
	g_assert_cmpuint(result.calls, ==, 1);
	result_clear(&result);

	/* Retries run out last: the 250 ms timeout is one attempt, but two must fail. */
	probe_start_full(SG_CHECK_URL, url, 100, 250, 2, clock, NULL, NULL, &result);
	sg_clock_fake_advance(clock, 499);
	g_assert_cmpuint(result.calls, ==, 0);
	sg_clock_fake_advance(clock, 1);
	g_assert_cmpuint(result.calls, ==, 1);
	assert_contains(result.cause, "failed after 2 attempts over 500ms: timed out after 250ms");
	drain();
	result_clear(&result);
	close(listener);
}

static void
test_tcp(void)
{
	guint16 port;
	int listener = silent_listener(&port);
	g_autofree char *target = g_strdup_printf("127.0.0.1:%u", port);
	g_autofree char *by_name = g_strdup_printf("localhost:%u", port);
	g_autofree char *closed = NULL;
	g_autofree char *expected = NULL;
	Result result = { 0 };

	run_probe(SG_CHECK_TCP, target, 50, 2000, 3, &result);
	g_assert_true(result.passed);
	result_clear(&result);

	/* Through the resolver (which may offer ::1 first: nobody listens there). */
	run_probe(SG_CHECK_TCP, by_name, 50, 2000, 3, &result);
	g_assert_true(result.passed);
	result_clear(&result);
	close(listener);

	/* helper-child listen: accepts and closes at once: still a pass. */
	port = helper_serve("listen", NULL);
	g_free(target);
	target = g_strdup_printf("127.0.0.1:%u", port);
	run_probe(SG_CHECK_TCP, target, 50, 2000, 3, &result);
	g_assert_true(result.passed);
	result_clear(&result);
	helpers_stop();

	closed = g_strdup_printf("127.0.0.1:%u", free_port());
	run_probe(SG_CHECK_TCP, closed, 50, 300, 2, &result);
	g_assert_false(result.passed);
	expected = g_strdup_printf("tcp health check \"%s\" failed after ", closed);
	assert_contains(result.cause, expected);
	g_assert_true(g_str_has_suffix(result.cause, ": connection refused"));
	result_clear(&result);
}

static void
test_command_pass(void)
{
	Result result = { 0 };

	run_probe(SG_CHECK_COMMAND, "true", 50, 2000, 3, &result);
	g_assert_true(result.passed);
	result_clear(&result);
}

static void
test_command_fail(void)
{
	Result result = { 0 };

	run_probe(SG_CHECK_COMMAND, "echo first >&2; echo 'not ready yet' >&2; exit 3", 50, 200, 2,
	          &result);
	g_assert_false(result.passed);
	assert_contains(result.cause, "command health check \"echo first");
	g_assert_true(g_str_has_suffix(result.cause, ": exit status 3 (stderr: not ready yet)"));
	g_assert_cmpuint(cause_attempts(result.cause), >=, 2);
	result_clear(&result);

	run_probe(SG_CHECK_COMMAND, "no-such-command-for-systemg-tests", 50, 100, 1, &result);
	g_assert_false(result.passed);
	/* The shell's own words ("not found", or "Permission denied" for a PATH entry we may
	 * not search). */
	assert_contains(result.cause, "exit status 127 (stderr: ");
	assert_contains(result.cause, ": no-such-command-for-systemg-tests: ");
	result_clear(&result);
}

static void
test_command_context(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	g_autofree char *dir = g_dir_make_tmp("sg-health-XXXXXX", NULL);
	g_autofree char *marker = g_build_filename(dir, "marker", NULL);
	g_auto(GStrv) envp = g_environ_setenv(g_get_environ(), "FOO", "bar baz", TRUE);
	Result result = { 0 };

	g_assert_true(g_file_set_contents(marker, "", 0, NULL));
	/* The service's environment and directory, plus SYSTEMG_PID. */
	probe_start_full(
	        SG_CHECK_COMMAND,
	        "test \"$FOO\" = 'bar baz' && test \"$SYSTEMG_PID\" = 4242 && test -f marker", 50,
	        2000, 1, clock, envp, dir, &result);
	WAIT_FOR(result.calls > 0);
	g_assert_true(result.passed);
	result_clear(&result);
	g_unlink(marker);
	g_rmdir(dir);
}

/* A command that reports its pid through a FIFO, then hangs. */
typedef struct {
	char *dir;
	char *fifo;
	int fd;
	GString *data;
	guint source;
} PidReport;

static gboolean
fifo_readable_cb(int fd, GIOCondition condition, gpointer user_data)
{
	PidReport *report = user_data;
	char buf[64];
	gssize n = read(fd, buf, sizeof(buf));

	if (n > 0)
		g_string_append_len(report->data, buf, n);
	if (n != 0)
		return G_SOURCE_CONTINUE;
	/* The writer is gone: a FIFO then stays readable (EOF) forever. */
	report->source = 0;
	return G_SOURCE_REMOVE;
}

static char *
pid_report_init(PidReport *report, const char *then)
{
	report->dir = g_dir_make_tmp("sg-health-XXXXXX", NULL);
	report->fifo = g_build_filename(report->dir, "pids", NULL);
	g_assert_cmpint(mkfifo(report->fifo, 0600), ==, 0);
	report->fd = open(report->fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	g_assert_cmpint(report->fd, >=, 0);
	report->data = g_string_new(NULL);
	report->source = g_unix_fd_add(report->fd, G_IO_IN, fifo_readable_cb, report);
	/* The shell and a child of its own: both must be gone after a kill. */
	return g_strdup_printf("sleep 100 & echo $$ $! > '%s'; %s", report->fifo, then);
}

static void
pid_report_wait(PidReport *report, pid_t *ret_shell, pid_t *ret_child)
{
	g_auto(GStrv) fields = NULL;

	WAIT_FOR(strchr(report->data->str, '\n') != NULL);
	fields = g_strsplit(g_strstrip(report->data->str), " ", 0);
	g_assert_cmpuint(g_strv_length(fields), ==, 2);
	*ret_shell = (pid_t)atoi(fields[0]);
	*ret_child = (pid_t)atoi(fields[1]);
	g_assert_cmpint(*ret_shell, >, 0);
	g_assert_cmpint(*ret_child, >, 0);
}

static void
pid_report_clear(PidReport *report)
{
	if (report->source != 0)
		g_source_remove(report->source);
	close(report->fd);
	g_unlink(report->fifo);
	g_rmdir(report->dir);
	g_free(report->fifo);
	g_free(report->dir);
	g_string_free(report->data, TRUE);
}

static void
test_command_hang(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	PidReport report = { 0 };
	g_autofree char *command = pid_report_init(&report, "wait");
	Result result = { 0 };
	pid_t shell, child;
	gint64 start = g_get_monotonic_time();

	probe_start_full(SG_CHECK_COMMAND, command, 50, 300, 1, clock, NULL, NULL, &result);
	pid_report_wait(&report, &shell, &child);
	WAIT_FOR(result.calls > 0);
	g_assert_false(result.passed);
	assert_contains(result.cause, "failed after 1 attempt over ");
	g_assert_true(g_str_has_suffix(result.cause, ": timed out after 300ms"));
	g_assert_cmpint(result.at_usec - start, >=, 300 * 1000);
	/* Killed with its group and reaped: nothing is left. */
	WAIT_FOR(process_gone(shell) && process_gone(child));
	drain();
	g_assert_cmpuint(result.calls, ==, 1);
	result_clear(&result);
	pid_report_clear(&report);
}

static void
test_command_leftovers(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	PidReport report = { 0 };
	g_autofree char *command = pid_report_init(&report, "exit 0");
	Result result = { 0 };
	pid_t shell, child;

	/* It passes, and what it left running in the background is stopped with it. */
	probe_start_full(SG_CHECK_COMMAND, command, 50, 2000, 1, clock, NULL, NULL, &result);
	pid_report_wait(&report, &shell, &child);
	WAIT_FOR(result.calls > 0);
	g_assert_true(result.passed);
	WAIT_FOR(process_gone(shell) && process_gone(child));
	result_clear(&result);
	pid_report_clear(&report);
}

static void
test_cancel_command(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	PidReport report = { 0 };
	g_autofree char *command = pid_report_init(&report, "wait");
	Result result = { 0 };
	SgHealthProbe *probe;
	pid_t shell, child;

	probe = probe_start_full(SG_CHECK_COMMAND, command, 50, 5000, 3, clock, NULL, NULL,
	                         &result);
	pid_report_wait(&report, &shell, &child);
	sg_health_probe_cancel(probe);
	WAIT_FOR(process_gone(shell) && process_gone(child));
	drain();
	g_assert_cmpuint(result.calls, ==, 0);
	pid_report_clear(&report);
}

static void
test_cancel_connect(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_fake(1000000, 1700000000000000);
	g_autofree char *url = NULL;
	g_autofree char *refused = NULL;
	Result result = { 0 };
	SgHealthProbe *probe;
	guint16 port;
	int listener = silent_listener(&port);

	url = g_strdup_printf("http://127.0.0.1:%u/", port);
	refused = g_strdup_printf("127.0.0.1:%u", free_port());

	/* Before the first attempt. */
	probe = probe_start_full(SG_CHECK_URL, url, 100, 3000, 1, clock, NULL, NULL, &result);
	sg_health_probe_cancel(probe);
	g_assert_cmpuint(sg_clock_fake_pending(clock), ==, 0);

	/* With the connect in flight: it has started, and the loop has not run since. */
	probe = probe_start_full(SG_CHECK_URL, url, 100, 3000, 1, clock, NULL, NULL, &result);
	sg_clock_fake_advance(clock, 0);
	sg_health_probe_cancel(probe);
	g_assert_cmpuint(sg_clock_fake_pending(clock), ==, 0);
	drain();

	/* While the request waits for its answer. */
	probe = probe_start_full(SG_CHECK_URL, url, 100, 3000, 1, clock, NULL, NULL, &result);
	sg_clock_fake_advance(clock, 0);
	drain();
	sg_health_probe_cancel(probe);
	drain();

	/* With a refusal on its way. */
	probe = probe_start_full(SG_CHECK_TCP, refused, 100, 3000, 1, clock, NULL, NULL, &result);
	sg_clock_fake_advance(clock, 0);
	sg_health_probe_cancel(probe);
	drain();

	g_assert_cmpuint(result.calls, ==, 0);
	close(listener);
}

/* Done of one probe cancels the other probe, and itself. */
typedef struct {
	SgHealthProbe *self;
	SgHealthProbe *other;
	guint calls;
} CrossCancel;

static void
cross_done_cb(gboolean passed, const char *cause, gpointer user_data)
{
	CrossCancel *cross = user_data;

	cross->calls++;
	sg_health_probe_cancel(cross->other);
	sg_health_probe_cancel(cross->self);
}

static void
never_done_cb(gboolean passed, const char *cause, gpointer user_data)
{
	g_error("a cancelled probe reported: %s", cause != NULL ? cause : "passed");
}

static void
test_cancel_from_done(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	SgHealthCheck pass = { .kind = SG_CHECK_COMMAND,
		               .target = (char *)"true",
		               .interval_ms = 50,
		               .timeout_ms = 2000,
		               .retries = 1 };
	SgHealthCheck hang = { .kind = SG_CHECK_COMMAND,
		               .target = (char *)"exec sleep 100",
		               .interval_ms = 5000,
		               .timeout_ms = 5000,
		               .retries = 1 };
	SgHealthCheck answer = { .kind = SG_CHECK_URL,
		                 .target = NULL,
		                 .interval_ms = 5000,
		                 .timeout_ms = 5000,
		                 .retries = 1 };
	SgHealthContext context = { .reaper = reaper, .clock = clock };
	g_autofree char *target = NULL;
	CrossCancel first = { 0 }, second = { 0 };
	guint16 port;
	int listener = silent_listener(&port);

	/* Connected, then waiting for an answer that never comes. */
	target = g_strdup_printf("http://127.0.0.1:%u/", port);
	answer.target = target;

	first.self = sg_health_probe_start(&pass, &context, cross_done_cb, &first);
	first.other = sg_health_probe_start(&hang, &context, never_done_cb, NULL);
	WAIT_FOR(first.calls > 0);
	drain();

	second.self = sg_health_probe_start(&pass, &context, cross_done_cb, &second);
	second.other = sg_health_probe_start(&answer, &context, never_done_cb, NULL);
	WAIT_FOR(second.calls > 0);
	drain();
	close(listener);
}

static void
test_late_server(void)
{
	guint16 port = free_port();
	g_autofree char *serve = g_strdup_printf("http:%u", port);
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/", port);
	const char *actions[] = { "sleep:300", serve, NULL };
	Result result = { 0 };
	gint64 ms;

	/* Attempts at 0, 150 and maybe 300 ms are refused; a later one passes. */
	helper_start(actions, NULL);
	ms = run_probe(SG_CHECK_URL, url, 150, 5000, 3, &result);
	g_assert_true(result.passed);
	g_assert_cmpint(ms, >=, 250);
	result_clear(&result);
	helpers_stop();
}

static void
test_bad_targets(void)
{
	Result result = { 0 };

	run_probe(SG_CHECK_URL, "ftp://127.0.0.1/", 50, 100, 1, &result);
	g_assert_false(result.passed);
	assert_contains(result.cause, "invalid URL");
	result_clear(&result);

	run_probe(SG_CHECK_TCP, "no port here", 50, 100, 1, &result);
	g_assert_false(result.passed);
	assert_contains(result.cause, "invalid address");
	result_clear(&result);
}

int
main(int argc, char **argv)
{
	int status;

	reaper = sg_test_init_with_reaper(&argc, &argv);
	children = g_array_new(FALSE, FALSE, sizeof(pid_t));

	g_test_add_func("/sg/health/url-pass", test_url_pass);
	g_test_add_func("/sg/health/url-status", test_url_status);
	g_test_add_func("/sg/health/url-refused", test_url_refused);
	g_test_add_func("/sg/health/retries-rule", test_retries_rule);
	g_test_add_func("/sg/health/timeout-rule-fake", test_timeout_rule_fake);
	g_test_add_func("/sg/health/tcp", test_tcp);
	g_test_add_func("/sg/health/command-pass", test_command_pass);
	g_test_add_func("/sg/health/command-fail", test_command_fail);
	g_test_add_func("/sg/health/command-context", test_command_context);
	g_test_add_func("/sg/health/command-hang", test_command_hang);
	g_test_add_func("/sg/health/command-leftovers", test_command_leftovers);
	g_test_add_func("/sg/health/cancel-command", test_cancel_command);
	g_test_add_func("/sg/health/cancel-connect", test_cancel_connect);
	g_test_add_func("/sg/health/cancel-from-done", test_cancel_from_done);
	g_test_add_func("/sg/health/late-server", test_late_server);
	g_test_add_func("/sg/health/bad-targets", test_bad_targets);
	status = g_test_run();

	/* Whatever a failed test left behind. */
	for (guint i = 0; i < children->len; i++)
		kill(g_array_index(children, pid_t, i), SIGKILL);
	g_array_unref(children);
	sg_reaper_free(reaper);
	return status;
}
