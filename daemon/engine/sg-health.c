/* SPDX-License-Identifier: MIT */
/* Readiness probes: repeated url, tcp and command attempts on the clock until a verdict. */
#include "config.h"

#define G_LOG_DOMAIN "sg-health"

#include "engine/sg-health.h"

#include "process/sg-ownership.h"
#include "process/sg-spawn.h"
#include "base/sg-limits.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* An attempt gets at least this long unless the whole timeout is shorter. */
#define ATTEMPT_MIN_MS 1000

typedef struct _Attempt Attempt;

struct _SgHealthProbe {
	int refcount; /* the owner's (until done or cancel) plus one per pending attempt */
	gboolean owner_released;
	gboolean finished; /* done called or cancelled: nothing more happens */

	SgCheckKind kind;
	char *target;
	guint64 interval_ms;
	guint64 timeout_ms;
	guint64 limit_ms; /* cut-off of one attempt */
	guint retries;
	SgHealthDoneFunc done;
	gpointer user_data;
	SgClock *clock;

	gint64 start_usec;
	guint attempts;
	guint failures;
	char *last_error;
	guint wake_id;  /* the next attempt, or the verdict at the deadline */
	guint limit_id; /* cut-off of the current attempt */
	Attempt *current;

	/* url and tcp */
	GSocketClient *client;
	GSocketConnectable *connectable; /* NULL when the target does not parse */
	char *request;                   /* url: the HTTP request */
	char *invalid;                   /* why the target does not parse */

	/* command */
	char **envp;
	char *cwd;
	SgReaper *reaper;
	GList *commands; /* Attempt*: spawned and not reaped yet, cut-off ones included */
};

struct _Attempt {
	SgHealthProbe *probe; /* a reference */
	gint64 start_usec;

	/* url and tcp */
	GCancellable *cancellable;
	GSocketConnection *connection;
	char *head;
	gsize head_len;

	/* command */
	pid_t pid;
	int status_fd;
	int stderr_fd;
	GSource *stderr_source;
	GString *stderr_tail;
};

static void attempt_begin(SgHealthProbe *probe);

static SgHealthProbe *
probe_ref(SgHealthProbe *probe)
{
	probe->refcount++;
	return probe;
}

static void
probe_unref(SgHealthProbe *probe)
{
	if (--probe->refcount > 0)
		return;
	g_assert(probe->current == NULL && probe->commands == NULL);
	g_free(probe->target);
	g_free(probe->last_error);
	g_clear_object(&probe->client);
	g_clear_object(&probe->connectable);
	g_free(probe->request);
	g_free(probe->invalid);
	g_strfreev(probe->envp);
	g_free(probe->cwd);
	sg_clock_unref(probe->clock);
	g_free(probe);
}

static const char *
kind_name(SgCheckKind kind)
{
	switch (kind) {
	case SG_CHECK_URL:
		return "url";
	case SG_CHECK_TCP:
		return "tcp";
	case SG_CHECK_COMMAND:
		return "command";
	default:
		return "?";
	}
}

static char *
format_ms(guint64 ms)
{
	if (ms < 1000)
		return g_strdup_printf("%" G_GUINT64_FORMAT "ms", ms);
	if (ms % 1000 == 0 || ms >= 10000)
		return g_strdup_printf("%" G_GUINT64_FORMAT "s", (ms + 500) / 1000);
	/* Not printf's %f: its decimal point follows the locale. */
	ms = (ms + 50) / 100;
	return g_strdup_printf("%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT "s", ms / 10, ms % 10);
}

static guint64
elapsed_ms(SgHealthProbe *probe)
{
	gint64 usec = sg_clock_monotonic_usec(probe->clock) - probe->start_usec;
	return usec > 0 ? (guint64)usec / 1000 : 0;
}

/* ---- attempts ---- */

static Attempt *
attempt_new(SgHealthProbe *probe)
{
	Attempt *attempt = g_new0(Attempt, 1);

	attempt->probe = probe_ref(probe);
	attempt->start_usec = sg_clock_monotonic_usec(probe->clock);
	attempt->status_fd = -1;
	attempt->stderr_fd = -1;
	return attempt;
}

static void
attempt_close_stderr(Attempt *attempt)
{
	if (attempt->stderr_source != NULL) {
		g_source_destroy(attempt->stderr_source);
		g_clear_pointer(&attempt->stderr_source, g_source_unref);
	}
	if (attempt->stderr_fd >= 0) {
		close(attempt->stderr_fd);
		attempt->stderr_fd = -1;
	}
}

static void
attempt_free(Attempt *attempt)
{
	SgHealthProbe *probe = attempt->probe;

	g_clear_object(&attempt->cancellable);
	g_clear_object(&attempt->connection);
	g_free(attempt->head);
	attempt_close_stderr(attempt);
	if (attempt->status_fd >= 0)
		close(attempt->status_fd);
	if (attempt->stderr_tail != NULL)
		g_string_free(attempt->stderr_tail, TRUE);
	g_free(attempt);
	probe_unref(probe);
}

static void
command_kill(Attempt *attempt)
{
	/* The group for what the shell started, the pid itself in case the child has not
	 * reached setsid() yet. */
	(void)sg_ownership_signal_child(attempt->pid, TRUE, SIGKILL);
	(void)sg_ownership_signal_child(attempt->pid, FALSE, SIGKILL);
}

/* Drops every command the probe still waits for; they are killed and reaped as orphans. */
static void
probe_forget_commands(SgHealthProbe *probe)
{
	while (probe->commands != NULL) {
		Attempt *attempt = probe->commands->data;

		probe->commands = g_list_delete_link(probe->commands, probe->commands);
		command_kill(attempt);
		sg_reaper_unwatch(probe->reaper, attempt->pid);
		attempt_free(attempt);
	}
}

/*
 * Makes the current attempt stop mattering. A pending asynchronous step finds that it is
 * no longer current and frees its attempt; a command is killed and stays watched so that
 * its exit is still reaped here.
 */
static void
probe_abandon_current(SgHealthProbe *probe)
{
	Attempt *attempt = probe->current;

	if (attempt == NULL)
		return;
	probe->current = NULL;
	sg_clock_clear(probe->clock, &probe->limit_id);
	if (probe->kind == SG_CHECK_COMMAND) {
		command_kill(attempt);
		attempt_close_stderr(attempt);
	} else {
		/* May run the pending callback at once, which frees the attempt. */
		g_cancellable_cancel(attempt->cancellable);
	}
}

static void
probe_finish(SgHealthProbe *probe, gboolean passed, const char *cause)
{
	probe_ref(probe);
	probe->finished = TRUE;
	sg_clock_clear(probe->clock, &probe->wake_id);
	probe_abandon_current(probe);
	probe_forget_commands(probe);

	probe->done(passed, cause, probe->user_data);
	if (!probe->owner_released) {
		probe->owner_released = TRUE;
		probe_unref(probe);
	}
	probe_unref(probe);
}

static void
probe_fail(SgHealthProbe *probe)
{
	g_autofree char *over = format_ms(elapsed_ms(probe));
	g_autofree char *cause = NULL;

	cause = g_strdup_printf(ngettext("%s health check \"%s\" failed after %u attempt over %s: "
	                                 "%s",
	                                 "%s health check \"%s\" failed after %u attempts over %s: "
	                                 "%s",
	                                 probe->attempts),
	                        kind_name(probe->kind), probe->target, probe->attempts, over,
	                        probe->last_error);
	probe_finish(probe, FALSE, cause);
}

static gboolean
probe_verdict_due(SgHealthProbe *probe)
{
	return probe->failures > 0 && probe->failures >= probe->retries &&
	       elapsed_ms(probe) >= probe->timeout_ms;
}

static void
wake_cb(gpointer user_data)
{
	SgHealthProbe *probe = user_data;

	probe->wake_id = 0;
	if (probe_verdict_due(probe))
		probe_fail(probe);
	else
		attempt_begin(probe);
}

/*
 * Counts an attempt that started at start_usec (error NULL: it passed). Then either the
 * verdict, or the next attempt interval_ms after this one started (at once if it took
 * longer); once enough attempts have failed, the deadline may come first.
 */
static void
probe_record(SgHealthProbe *probe, gint64 start_usec, const char *error)
{
	gint64 now, wake_usec, deadline_usec;

	sg_clock_clear(probe->clock, &probe->limit_id);
	if (error == NULL) {
		probe_finish(probe, TRUE, NULL);
		return;
	}
	probe->failures++;
	g_free(probe->last_error);
	probe->last_error = g_strdup(error);
	g_debug("%s check %s: attempt %u failed: %s", kind_name(probe->kind), probe->target,
	        probe->attempts, error);
	if (probe_verdict_due(probe)) {
		probe_fail(probe);
		return;
	}
	now = sg_clock_monotonic_usec(probe->clock);
	wake_usec = start_usec + (gint64)probe->interval_ms * 1000;
	deadline_usec = probe->start_usec + (gint64)probe->timeout_ms * 1000;
	if (probe->failures >= probe->retries && deadline_usec < wake_usec)
		wake_usec = deadline_usec;
	wake_usec = MAX(wake_usec, now);
	/* Rounded up: never wake before the instant. */
	probe->wake_id = sg_clock_add_timeout(probe->clock, (guint64)(wake_usec - now + 999) / 1000,
	                                      wake_cb, probe);
}

/* Ends the current attempt from its own last step: frees it and counts it. */
static void
attempt_end(Attempt *attempt, const char *error)
{
	SgHealthProbe *probe = probe_ref(attempt->probe);
	gint64 start_usec = attempt->start_usec;

	g_assert(probe->current == attempt);
	probe->current = NULL;
	attempt_free(attempt);
	probe_record(probe, start_usec, error);
	probe_unref(probe);
}

static void
limit_cb(gpointer user_data)
{
	SgHealthProbe *probe = user_data;
	g_autofree char *limit = format_ms(probe->limit_ms);
	g_autofree char *error = g_strdup_printf(_("timed out after %s"), limit);
	gint64 start_usec = probe->current->start_usec;

	probe->limit_id = 0;
	/* Abandoning may free the attempt, and with it a reference to the probe. */
	probe_ref(probe);
	probe_abandon_current(probe);
	probe_record(probe, start_usec, error);
	probe_unref(probe);
}

/* ---- url and tcp ---- */

static char *
describe_io_error(const GError *error)
{
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
		return g_strdup(_("connection refused"));
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE))
		return g_strdup(_("host unreachable"));
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
		return g_strdup(_("network unreachable"));
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
		return g_strdup(_("connection closed"));
	return g_strdup(error->message);
}

/* A step of the async chain: FALSE (and the attempt freed) when it no longer matters. */
static gboolean
attempt_still_current(Attempt *attempt)
{
	if (attempt->probe->current == attempt && !attempt->probe->finished)
		return TRUE;
	attempt_free(attempt);
	return FALSE;
}

/* "HTTP/1.1 200 OK" -> 200; -1 when it is not a status line. */
static int
http_status(const char *line, gsize len)
{
	gsize i = 5;
	int code = 0;

	if (len < 5 || memcmp(line, "HTTP/", 5) != 0)
		return -1;
	while (i < len && line[i] != ' ')
		i++;
	while (i < len && line[i] == ' ')
		i++;
	for (int digits = 0; digits < 3; digits++, i++) {
		if (i >= len || !g_ascii_isdigit(line[i]))
			return -1;
		code = code * 10 + (line[i] - '0');
	}
	if (i < len && line[i] != ' ' && line[i] != '\r' && line[i] != '\n')
		return -1;
	return code;
}

static void
url_finish_head(Attempt *attempt, gboolean eof)
{
	const char *eol = memchr(attempt->head, '\n', attempt->head_len);
	gsize len = eol != NULL ? (gsize)(eol - attempt->head) : attempt->head_len;
	int code;
	g_autofree char *error = NULL;

	if (attempt->head_len == 0 && eof) {
		attempt_end(attempt, _("connection closed without a response"));
		return;
	}
	code = http_status(attempt->head, len);
	if (code < 0)
		error = g_strdup(_("not an HTTP response"));
	else if (code < 200 || code > 299)
		error = g_strdup_printf(_("HTTP %d"), code);
	attempt_end(attempt, error);
}

static void
url_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Attempt *attempt = user_data;
	g_autoptr(GError) error = NULL;
	gssize n;

	n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
	if (!attempt_still_current(attempt))
		return;
	if (n < 0) {
		g_autofree char *text = describe_io_error(error);
		attempt_end(attempt, text);
		return;
	}
	attempt->head_len += (gsize)n;
	if (n == 0 || memchr(attempt->head, '\n', attempt->head_len) != NULL ||
	    attempt->head_len == SG_HEALTH_HTTP_HEAD_MAX) {
		url_finish_head(attempt, n == 0);
		return;
	}
	g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(attempt->connection)),
	                          attempt->head + attempt->head_len,
	                          SG_HEALTH_HTTP_HEAD_MAX - attempt->head_len, G_PRIORITY_DEFAULT,
	                          attempt->cancellable, url_read_cb, attempt);
}

static void
url_write_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Attempt *attempt = user_data;
	g_autoptr(GError) error = NULL;

	g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, &error);
	if (!attempt_still_current(attempt))
		return;
	if (error != NULL) {
		g_autofree char *text = describe_io_error(error);
		attempt_end(attempt, text);
		return;
	}
	attempt->head = g_malloc(SG_HEALTH_HTTP_HEAD_MAX);
	g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(attempt->connection)),
	                          attempt->head, SG_HEALTH_HTTP_HEAD_MAX, G_PRIORITY_DEFAULT,
	                          attempt->cancellable, url_read_cb, attempt);
}

static void
connect_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Attempt *attempt = user_data;
	SgHealthProbe *probe = attempt->probe;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) connection = NULL;

	connection = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
	if (!attempt_still_current(attempt))
		return;
	if (connection == NULL) {
		g_autofree char *text = describe_io_error(error);
		attempt_end(attempt, text);
		return;
	}
	if (probe->kind == SG_CHECK_TCP) {
		attempt_end(attempt, NULL);
		return;
	}
	attempt->connection = g_steal_pointer(&connection);
	g_output_stream_write_all_async(
	        g_io_stream_get_output_stream(G_IO_STREAM(attempt->connection)), probe->request,
	        strlen(probe->request), G_PRIORITY_DEFAULT, attempt->cancellable, url_write_cb,
	        attempt);
}

static void
network_attempt_begin(Attempt *attempt)
{
	SgHealthProbe *probe = attempt->probe;

	if (probe->connectable == NULL) {
		attempt_end(attempt, probe->invalid);
		return;
	}
	attempt->cancellable = g_cancellable_new();
	g_socket_client_connect_async(probe->client, probe->connectable, attempt->cancellable,
	                              connect_cb, attempt);
}

static gboolean
has_control_chars(const char *text)
{
	for (const char *p = text; p != NULL && *p != '\0'; p++) {
		if ((guchar)*p <= 0x20 || (guchar)*p == 0x7f)
			return TRUE;
	}
	return FALSE;
}

static void
url_prepare(SgHealthProbe *probe)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GUri) uri = NULL;
	g_autofree char *host_header = NULL;
	const char *host, *path, *query;
	int port;

	uri = g_uri_parse(probe->target, G_URI_FLAGS_ENCODED_PATH | G_URI_FLAGS_ENCODED_QUERY,
	                  &error);
	if (uri == NULL) {
		probe->invalid = g_strdup_printf(_("invalid URL: %s"), error->message);
		return;
	}
	host = g_uri_get_host(uri);
	path = g_uri_get_path(uri);
	query = g_uri_get_query(uri);
	if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "http") != 0 || host == NULL ||
	    host[0] == '\0' || has_control_chars(host) || has_control_chars(path) ||
	    has_control_chars(query)) {
		probe->invalid = g_strdup(_("invalid URL: expected http://HOST[:PORT]/PATH"));
		return;
	}
	port = g_uri_get_port(uri);
	if (port <= 0)
		port = 80;
	if (strchr(host, ':') != NULL)
		host_header = g_strdup_printf("[%s]:%d", host, port);
	else
		host_header = g_strdup_printf("%s:%d", host, port);
	probe->request = g_strdup_printf("GET %s%s%s HTTP/1.0\r\n"
	                                 "Host: %s\r\n"
	                                 "User-Agent: systemg\r\n"
	                                 "Connection: close\r\n"
	                                 "\r\n",
	                                 path[0] != '\0' ? path : "/", query != NULL ? "?" : "",
	                                 query != NULL ? query : "", host_header);
	probe->connectable = g_network_address_new(host, (guint16)port);
}

static void
tcp_prepare(SgHealthProbe *probe)
{
	g_autoptr(GError) error = NULL;

	probe->connectable = g_network_address_parse(probe->target, 0, &error);
	if (probe->connectable == NULL) {
		probe->invalid = g_strdup_printf(_("invalid address: %s"), error->message);
	} else if (g_network_address_get_port(G_NETWORK_ADDRESS(probe->connectable)) == 0) {
		g_clear_object(&probe->connectable);
		probe->invalid = g_strdup(_("invalid address: expected HOST:PORT"));
	}
}

/* ---- command ---- */

static void
stderr_drain(Attempt *attempt)
{
	char buf[4096];

	while (attempt->stderr_fd >= 0) {
		ssize_t n = read(attempt->stderr_fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 && attempt->stderr_source != NULL) {
				g_source_destroy(attempt->stderr_source);
				g_clear_pointer(&attempt->stderr_source, g_source_unref);
			}
			return;
		}
		g_string_append_len(attempt->stderr_tail, buf, n);
		if (attempt->stderr_tail->len > SG_HEALTH_STDERR_TAIL_MAX)
			g_string_erase(
			        attempt->stderr_tail, 0,
			        (gssize)(attempt->stderr_tail->len - SG_HEALTH_STDERR_TAIL_MAX));
	}
}

static gboolean
stderr_readable_cb(int fd, GIOCondition condition, gpointer user_data)
{
	Attempt *attempt = user_data;

	stderr_drain(attempt);
	/* stderr_drain() destroyed the source at EOF. */
	return attempt->stderr_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* The last non-blank line of the command's stderr, shortened, or NULL. */
static char *
stderr_last_line(Attempt *attempt)
{
	g_autofree char *text = NULL;
	char *line;

	if (attempt->stderr_tail == NULL)
		return NULL;
	text = g_utf8_make_valid(attempt->stderr_tail->str, (gssize)attempt->stderr_tail->len);
	g_strchomp(text);
	line = strrchr(text, '\n');
	line = g_strstrip(line != NULL ? line + 1 : text);
	if (line[0] == '\0')
		return NULL;
	if (strlen(line) > SG_HEALTH_CAUSE_LINE_MAX) {
		char *cut = g_utf8_find_prev_char(line, line + SG_HEALTH_CAUSE_LINE_MAX + 1);
		*cut = '\0';
	}
	return g_strdup(line);
}

static void
command_reaped_cb(pid_t pid, int wait_status, gpointer user_data)
{
	Attempt *attempt = user_data;
	SgHealthProbe *probe = attempt->probe;
	g_autofree char *spawn_error = NULL;
	g_autofree char *line = NULL;
	g_autofree char *error = NULL;

	/* Nothing a check started outlives it: the reaper killed its group (watch_group). */
	probe->commands = g_list_remove(probe->commands, attempt);
	if (probe->current != attempt || probe->finished) {
		attempt_free(attempt);
		return;
	}
	stderr_drain(attempt);
	line = stderr_last_line(attempt);
	if (sg_spawn_read_status(attempt->status_fd, "/bin/sh", &spawn_error) < 0)
		error = g_steal_pointer(&spawn_error);
	else if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0)
		error = NULL;
	else if (WIFEXITED(wait_status))
		error = g_strdup_printf(_("exit status %d"), WEXITSTATUS(wait_status));
	else if (WIFSIGNALED(wait_status))
		error = g_strdup_printf(_("killed by signal %d"), WTERMSIG(wait_status));
	else
		error = g_strdup_printf(_("wait status %d"), wait_status);
	if (error != NULL && line != NULL) {
		char *with_line = g_strdup_printf(_("%s (stderr: %s)"), error, line);
		g_free(error);
		error = with_line;
	}
	attempt_end(attempt, error);
}

static void
command_attempt_begin(Attempt *attempt)
{
	SgHealthProbe *probe = attempt->probe;
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	SgSpawnResult result;
	g_autoptr(GError) error = NULL;
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", probe->target, NULL };
	int pipe_fds[2];

	/* Only our end is non-blocking: the command writes to its stderr as usual. */
	if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
		g_autofree char *text =
		        g_strdup_printf(_("cannot create a pipe: %s"), g_strerror(errno));
		attempt_end(attempt, text);
		return;
	}
	g_unix_set_fd_nonblocking(pipe_fds[0], TRUE, NULL);
	options.argv = argv;
	options.envp = probe->envp;
	options.cwd = probe->cwd;
	options.stderr_fd = pipe_fds[1];
	options.new_session = TRUE;
	if (!sg_spawn(&options, &result, &error)) {
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		attempt_end(attempt, error->message);
		return;
	}
	close(pipe_fds[1]);
	attempt->pid = result.pid;
	attempt->status_fd = result.status_fd;
	attempt->stderr_fd = pipe_fds[0];
	attempt->stderr_tail = g_string_new(NULL);
	attempt->stderr_source = g_unix_fd_source_new(attempt->stderr_fd, G_IO_IN);
	g_source_set_callback(attempt->stderr_source, G_SOURCE_FUNC(stderr_readable_cb), attempt,
	                      NULL);
	g_source_set_static_name(attempt->stderr_source, "sg-health-stderr");
	g_source_attach(attempt->stderr_source, g_main_context_get_thread_default());
	probe->commands = g_list_prepend(probe->commands, attempt);
	sg_reaper_watch_group(probe->reaper, attempt->pid, command_reaped_cb, attempt);
}

/* ---- the probe ---- */

static void
attempt_begin(SgHealthProbe *probe)
{
	Attempt *attempt = attempt_new(probe);

	probe->attempts++;
	probe->current = attempt;
	probe->limit_id = sg_clock_add_timeout(probe->clock, probe->limit_ms, limit_cb, probe);
	if (probe->kind == SG_CHECK_COMMAND)
		command_attempt_begin(attempt);
	else
		network_attempt_begin(attempt);
}

SgHealthProbe *
sg_health_probe_start(const SgHealthCheck *check, const SgHealthContext *context,
                      SgHealthDoneFunc done, gpointer user_data)
{
	SgHealthProbe *probe;

	g_return_val_if_fail(check != NULL && context != NULL && done != NULL, NULL);
	g_return_val_if_fail(check->kind == SG_CHECK_URL || check->kind == SG_CHECK_TCP ||
	                             check->kind == SG_CHECK_COMMAND,
	                     NULL);
	g_return_val_if_fail(check->target != NULL && context->clock != NULL, NULL);
	g_return_val_if_fail(check->kind != SG_CHECK_COMMAND || context->reaper != NULL, NULL);

	probe = g_new0(SgHealthProbe, 1);
	probe->refcount = 1;
	probe->kind = check->kind;
	probe->target = g_strdup(check->target);
	probe->interval_ms = MAX(check->interval_ms, 1);
	probe->timeout_ms = check->timeout_ms;
	/* Long enough for a slow answer, short enough that the next attempt runs on time
	 * and that a hung attempt does not outlast the whole timeout. */
	probe->limit_ms = MAX(probe->interval_ms, MIN(ATTEMPT_MIN_MS, check->timeout_ms));
	probe->retries = check->retries;
	probe->done = done;
	probe->user_data = user_data;
	probe->clock = sg_clock_ref(context->clock);
	probe->start_usec = sg_clock_monotonic_usec(probe->clock);

	if (probe->kind == SG_CHECK_COMMAND) {
		probe->envp = context->envp != NULL ? g_strdupv(context->envp) : g_get_environ();
		if (context->extra_env != NULL) {
			const char *eq = strchr(context->extra_env, '=');
			if (eq != NULL && eq > context->extra_env) {
				g_autofree char *name = g_strndup(context->extra_env,
				                                  (gsize)(eq - context->extra_env));
				probe->envp = g_environ_setenv(probe->envp, name, eq + 1, TRUE);
			}
		}
		probe->cwd = g_strdup(context->cwd);
		probe->reaper = context->reaper;
	} else {
		probe->client = g_socket_client_new();
		/* Probes aim at the service itself: a proxy from the environment would lie. */
		g_socket_client_set_enable_proxy(probe->client, FALSE);
		if (probe->kind == SG_CHECK_URL)
			url_prepare(probe);
		else
			tcp_prepare(probe);
	}
	/* Through the clock, so done is never called from inside this function. */
	probe->wake_id = sg_clock_add_timeout(probe->clock, 0, wake_cb, probe);
	return probe;
}

void
sg_health_probe_cancel(SgHealthProbe *probe)
{
	if (probe == NULL || probe->owner_released)
		return;
	probe->owner_released = TRUE;
	probe->finished = TRUE;
	probe_ref(probe);
	sg_clock_clear(probe->clock, &probe->wake_id);
	probe_abandon_current(probe);
	probe_forget_commands(probe);
	probe_unref(probe); /* the temporary one */
	probe_unref(probe); /* the owner's */
}
