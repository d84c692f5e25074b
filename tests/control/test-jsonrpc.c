/* SPDX-License-Identifier: MIT */
/* sg-jsonrpc: idle and stalled clients and the client limit, on a fake clock with real sockets. */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/sg-jsonrpc.h"
#include "base/sg-sockaddr.h"
#include "lib/sg-test.h"

typedef struct {
	char *dir;
	SgContext context;
	SgJsonrpc *server;
	GPtrArray *held; /* SgJsonrpcCall* of "hold", answered by release() */
	GPtrArray *conns;
} Fixture;

typedef struct {
	int fd;
	GString *in;
	gboolean closed;
} Conn;

/* The test's clients are no sources of the loop: poll them, with a deadline. */
#define WAIT_FOR(cond)                                                                             \
	G_STMT_START                                                                               \
	{                                                                                          \
		gint64 end_ = g_get_monotonic_time() + SG_TEST_DEADLINE_S * G_USEC_PER_SEC;        \
		while (!(cond)) {                                                                  \
			if (g_get_monotonic_time() > end_)                                         \
				g_error("timed out waiting for: %s", #cond);                       \
			if (!g_main_context_iteration(NULL, FALSE))                                \
				g_usleep(1000);                                                    \
		}                                                                                  \
	}                                                                                          \
	G_STMT_END

static const gint64 IDLE_MS = SG_CONTROL_IDLE_TIMEOUT_S * 1000;

/* ---- a server with a small method table ---- */

static void
method_ping(SgJsonrpcCall *call, JsonObject *params)
{
	sg_jsonrpc_call_return_empty(call);
}

/* Answers only when the test says so: a call in progress. */
static void
method_hold(SgJsonrpcCall *call, JsonObject *params)
{
	Fixture *f = sg_jsonrpc_call_get_user_data(call);

	g_ptr_array_add(f->held, call);
}

/* Answers a string of "bytes" bytes. */
static void
method_big(SgJsonrpcCall *call, JsonObject *params)
{
	guint bytes = 0;
	g_autofree char *text = NULL;
	JsonNode *result = json_node_new(JSON_NODE_VALUE);

	if (!sg_jsonrpc_param_uint(call, params, "bytes", 64 * 1024 * 1024, &bytes))
		return;
	text = g_malloc(bytes + 1);
	memset(text, 'x', bytes);
	text[bytes] = '\0';
	json_node_set_string(result, text);
	sg_jsonrpc_call_return(call, result);
}

static void
method_subscribe(SgJsonrpcCall *call, JsonObject *params)
{
	sg_jsonrpc_call_subscribe(call);
	sg_jsonrpc_call_return_empty(call);
}

static const SgJsonrpcMethod methods[] = {
	{ "ping", method_ping, { NULL } },
	{ "hold", method_hold, { NULL } },
	{ "big", method_big, { "bytes", NULL } },
	{ "subscribe", method_subscribe, { NULL } },
};

static void
release(Fixture *f)
{
	SgJsonrpcCall *call = g_ptr_array_steal_index(f->held, 0);

	sg_jsonrpc_call_return_empty(call);
}

static void
conn_free(Conn *conn)
{
	if (conn->fd >= 0)
		close(conn->fd);
	g_string_free(conn->in, TRUE);
	g_free(conn);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *log_path = NULL;

	f->dir = g_dir_make_tmp("sg-jsonrpc-XXXXXX", &error);
	g_assert_no_error(error);
	log_path = g_build_filename(f->dir, "supervisor.log", NULL);
	f->context.state_dir = g_strdup(f->dir);
	f->context.clock = sg_clock_new_fake(1000 * G_USEC_PER_SEC, g_get_real_time());
	f->context.log = sg_log_open(log_path, SG_LOG_TRACE, &error);
	g_assert_no_error(error);
	f->held = g_ptr_array_new();
	f->conns = g_ptr_array_new_with_free_func((GDestroyNotify)conn_free);
	f->server = sg_jsonrpc_new(&f->context, methods, G_N_ELEMENTS(methods), f, &error);
	g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_clear_pointer(&f->server, sg_jsonrpc_free);
	g_ptr_array_unref(f->held);
	g_ptr_array_unref(f->conns);
	g_clear_pointer(&f->context.log, sg_log_free);
	g_clear_pointer(&f->context.clock, sg_clock_unref);
	g_free(f->context.state_dir);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
}

/* ---- clients: plain sockets, read only when the test says so ---- */

static Conn *
conn_new(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	Conn *conn = g_new0(Conn, 1);
	struct sockaddr_un addr;
	socklen_t len;
	int dir_fd;

	conn->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	g_assert_cmpint(conn->fd, >=, 0);
	g_assert_true(sg_sockaddr_control(f->dir, &addr, &len, &dir_fd, &error));
	g_assert_no_error(error);
	g_assert_cmpint(connect(conn->fd, (struct sockaddr *)&addr, len), ==, 0);
	if (dir_fd >= 0)
		close(dir_fd);
	conn->in = g_string_new(NULL);
	g_ptr_array_add(f->conns, conn);
	return conn;
}

static void
conn_send(Conn *conn, const char *method, const char *params)
{
	g_autofree char *line = g_strdup_printf(
	        "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"%s\"%s%s}\n", method,
	        params != NULL ? ", \"params\": " : "", params != NULL ? params : "");

	g_assert_cmpint(send(conn->fd, line, strlen(line), MSG_NOSIGNAL), ==, strlen(line));
}

/* Reads what is there, at most max bytes; notices the end. */
static void
conn_read(Conn *conn, gsize max)
{
	char buffer[65536];

	while (!conn->closed && max > 0) {
		ssize_t n = recv(conn->fd, buffer, MIN(sizeof(buffer), max), MSG_DONTWAIT);

		if (n > 0) {
			g_string_append_len(conn->in, buffer, n);
			max -= (gsize)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			conn->closed = TRUE;
		} else if (errno == EAGAIN) {
			break;
		}
	}
}

/* Whether the daemon closed the connection (reading everything it sent). */
static gboolean
conn_closed(Conn *conn)
{
	g_main_context_iteration(NULL, FALSE);
	conn_read(conn, G_MAXSIZE);
	return conn->closed;
}

static gboolean
conn_answered(Conn *conn)
{
	g_main_context_iteration(NULL, FALSE);
	conn_read(conn, G_MAXSIZE);
	return strchr(conn->in->str, '\n') != NULL;
}

/* Moves the fake clock by ms, letting the loop see what falls due. */
static void
advance(Fixture *f, gint64 ms)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
	sg_clock_fake_advance(f->context.clock, (guint64)ms);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static guint
log_lines_with(Fixture *f, const char *text)
{
	g_autofree char *log = sg_test_read_file(f->dir, "supervisor.log");
	guint count = 0;

	for (const char *p = strstr(log, text); p != NULL; p = strstr(p + 1, text))
		count++;
	return count;
}

/* ---- tests ---- */

static void
test_idle_timeout(Fixture *f, gconstpointer data)
{
	Conn *quiet = conn_new(f);
	Conn *talker = conn_new(f);
	Conn *subscriber = conn_new(f);
	Conn *waiting = conn_new(f);

	conn_send(subscriber, "subscribe", NULL);
	conn_send(waiting, "hold", NULL);
	WAIT_FOR(conn_answered(subscriber) && f->held->len == 1);
	g_assert_cmpuint(sg_jsonrpc_client_count(f->server), ==, 4);
	/* Quiet for just under the timeout: still there; a request moves its deadline. */
	advance(f, IDLE_MS - 1);
	g_assert_false(conn_closed(quiet));
	conn_send(talker, "ping", NULL);
	WAIT_FOR(conn_answered(talker));
	advance(f, 1);
	WAIT_FOR(conn_closed(quiet));
	g_assert_cmpuint(sg_jsonrpc_client_count(f->server), ==, 3);
	g_assert_cmpuint(log_lines_with(f, "sent nothing for 30 s; disconnected"), ==, 1);
	/* The talker goes 30 s after its answer. */
	advance(f, IDLE_MS - 2);
	g_assert_false(conn_closed(talker));
	advance(f, 2);
	WAIT_FOR(conn_closed(talker));
	/* Waiting for events or for an answer is not idle, however long. */
	advance(f, 10 * IDLE_MS);
	g_assert_false(conn_closed(subscriber));
	g_assert_false(conn_closed(waiting));
	/* Answered at last, it has the whole timeout to say more. */
	release(f);
	WAIT_FOR(conn_answered(waiting));
	advance(f, IDLE_MS - 1);
	g_assert_false(conn_closed(waiting));
	advance(f, 1);
	WAIT_FOR(conn_closed(waiting));
	g_assert_cmpuint(sg_jsonrpc_client_count(f->server), ==, 1);
	/* With no client left that can time out, no timer is left. */
	g_assert_cmpuint(sg_clock_fake_pending(f->context.clock), ==, 0);
}

static void
test_stalled_reader(Fixture *f, gconstpointer data)
{
	Conn *stalled = conn_new(f);
	Conn *slow = conn_new(f);

	/* 8 MiB answers: far more than the sockets hold. */
	conn_send(stalled, "big", "{\"bytes\": 8388608}");
	conn_send(slow, "big", "{\"bytes\": 8388608}");
	WAIT_FOR(conn_answered(slow) || slow->in->len > 0);
	/* The slow one reads what is there every 20 s and is kept; the other goes after 30 s. */
	conn_read(slow, G_MAXSIZE);
	advance(f, 20000);
	g_assert_false(conn_closed(stalled));
	for (guint i = 0; i < 5; i++) {
		conn_read(slow, G_MAXSIZE);
		advance(f, 20000);
	}
	g_assert_cmpuint(log_lines_with(f, "did not read its answers for 30 s"), ==, 1);
	g_assert_cmpuint(sg_jsonrpc_client_count(f->server), ==, 1);
	WAIT_FOR(conn_closed(stalled));
	/* The slow reader gets its whole answer. */
	WAIT_FOR(conn_answered(slow));
	g_assert_cmpuint(slow->in->len, >, 8388608);
	g_assert_false(conn_closed(slow));
}

/* Room for limit clients and their server ends; FALSE when the hard limit is too low. */
static gboolean
enough_files(guint clients)
{
	struct rlimit limit;
	rlim_t want = 2 * clients + 100;

	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &limit), ==, 0);
	if (limit.rlim_cur >= want)
		return TRUE;
	if (limit.rlim_max < want)
		return FALSE;
	limit.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

static void
test_client_limit(Fixture *f, gconstpointer data)
{
	Conn *first, *newcomer, *late;
	Conn *conns[SG_CONTROL_CLIENTS_MAX];

	if (!enough_files(SG_CONTROL_CLIENTS_MAX + 20)) {
		g_test_skip("the open-file limit is too low");
		return;
	}
	/* Every client in a call: a newcomer waits. */
	for (guint i = 0; i < SG_CONTROL_CLIENTS_MAX; i++) {
		conns[i] = conn_new(f);
		conn_send(conns[i], "hold", NULL);
	}
	first = conns[0];
	WAIT_FOR(f->held->len == SG_CONTROL_CLIENTS_MAX);
	newcomer = conn_new(f);
	conn_send(newcomer, "ping", NULL);
	for (guint i = 0; i < 100; i++)
		g_assert_false(conn_answered(newcomer));
	g_assert_cmpuint(log_lines_with(f, "each in a call; new clients wait"), ==, 1);
	/* One answered (the first, the one quiet longest): it makes room, a second later. */
	advance(f, 1000);
	release(f);
	WAIT_FOR(conn_answered(newcomer));
	g_assert_cmpuint(sg_jsonrpc_client_count(f->server), ==, SG_CONTROL_CLIENTS_MAX);
	WAIT_FOR(conn_closed(first));
	g_assert_cmpuint(log_lines_with(f, "to make room for"), ==, 1);
	/* The newcomer is now the one quiet longest with nothing in progress. */
	late = conn_new(f);
	conn_send(late, "ping", NULL);
	WAIT_FOR(conn_answered(late));
	WAIT_FOR(conn_closed(newcomer));
	/* Those drops within the second make one line, and a count after it. */
	g_assert_cmpuint(log_lines_with(f, "to make room for"), ==, 1);
	advance(f, 1000);
	g_assert_cmpuint(log_lines_with(f, "dropped clients to make room: 1 more"), ==, 1);
	while (f->held->len > 0)
		release(f);
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/jsonrpc/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	signal(SIGPIPE, SIG_IGN);
	ADD("idle-timeout", test_idle_timeout);
	ADD("stalled-reader", test_stalled_reader);
	ADD("client-limit", test_client_limit);
	return g_test_run();
}
