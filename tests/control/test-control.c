/* SPDX-License-Identifier: MIT */
/* The control socket against an in-process supervisor with real processes and a fake clock. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/sg-config.h"
#include "control/sg-control.h"
#include "engine/sg-persist.h"
#include "process/sg-proctree.h"
#include "base/sg-sockaddr.h"
#include "engine/sg-supervisor.h"
#include "lib/sg-test-engine.h"
#include "lib/sg-test.h"

static SgReaper *reaper; /* one per process: it reaps with waitpid(-1) */

typedef struct {
	char *root; /* what to remove at the end */
	char *dir;  /* the state directory */
	SgContext context;
	SgConfig *config;
	SgSupervisor *supervisor;
	SgPersist *persist;
	SgApi *api;
	SgControl *control;
	GString *transitions; /* "name:old>new " */
	gboolean shutdown_asked;
	GPtrArray *conns;
} Fixture;

typedef struct {
	int fd;
	GString *in;
	gboolean closed;
	guint watch;
} Conn;

static void
conn_free(Conn *conn)
{
	g_clear_handle_id(&conn->watch, g_source_remove);
	if (conn->fd >= 0)
		close(conn->fd);
	g_string_free(conn->in, TRUE);
	g_free(conn);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->root = g_dir_make_tmp("sg-control-XXXXXX", &error);
	g_assert_no_error(error);
	if (data != NULL) {
		/* A state directory whose socket path does not fit in sun_path. */
		f->dir = g_build_filename(f->root, "a-state-directory-with-a-long-name",
		                          "that-goes-on-and-on-past-the-108-bytes-of-sun-path",
		                          "systemg", NULL);
		g_assert_cmpint(g_mkdir_with_parents(f->dir, 0700), ==, 0);
		g_assert_cmpuint(strlen(f->dir) + strlen("/control.sock"), >=, 108);
	} else {
		f->dir = g_strdup(f->root);
	}
	sg_test_context_init(&f->context, f->dir, reaper);
	f->transitions = g_string_new(NULL);
	f->conns = g_ptr_array_new_with_free_func((GDestroyNotify)conn_free);
}

/* Iterates the loop until cond holds; fails the test after a deadline. */
#define WAIT_FOR(cond) SG_TEST_WAIT_FOR(cond, f->transitions->str)

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_ptr_array_unref(f->conns);
	g_clear_pointer(&f->control, sg_control_free);
	g_clear_pointer(&f->api, sg_api_free);
	if (f->supervisor != NULL)
		sg_test_stop_all(f->supervisor, f->context.clock);
	g_clear_pointer(&f->persist, sg_persist_free);
	g_clear_object(&f->supervisor);
	g_clear_pointer(&f->config, sg_config_unref);
	sg_test_context_clear(&f->context);
	sg_test_remove_tree(f->dir);
	sg_test_remove_tree(f->root);
	g_free(f->dir);
	g_free(f->root);
	g_string_free(f->transitions, TRUE);
}

static void
shutdown_cb(gpointer user_data)
{
	((Fixture *)user_data)->shutdown_asked = TRUE;
}

/* Loads the YAML (with ${HELPER} and ${DIR} defined), builds the supervisor and the server. */
static void
load(Fixture *f, const char *yaml)
{
	g_autoptr(GError) error = NULL;

	f->config = sg_test_load_config(f->dir, yaml);
	f->supervisor = sg_supervisor_new(&f->context, f->config);
	f->persist = sg_persist_new(f->supervisor);
	sg_test_record_transitions(f->supervisor, f->transitions);
	f->api = sg_api_new(f->supervisor, g_get_real_time(), shutdown_cb, f);
	f->control = sg_control_new(f->api, &error);
	g_assert_no_error(error);
}

static SgService *
svc(Fixture *f, const char *name)
{
	return sg_test_service(f->supervisor, name);
}

static SgServiceState
state_of(Fixture *f, const char *name)
{
	return sg_service_get_state(svc(f, name));
}

static gboolean
session_led(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/comm", (int)pid);
	g_autofree char *comm = NULL;
	SgProcInfo info;

	if (pid <= 0)
		return TRUE;
	/* Executed the helper, in its own session. */
	return sg_proctree_read_stat(pid, &info) && info.sid == pid &&
	       g_file_get_contents(path, &comm, NULL, NULL) &&
	       g_str_has_prefix(comm, "helper-child");
}

/* Starts everything and moves the clock until every named service is running. */
static gboolean
log_contains(Fixture *f, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(f->context.log_dir, name, NULL);
	g_autofree char *contents = NULL;

	return g_file_get_contents(path, &contents, NULL, NULL) && strstr(contents, text) != NULL;
}

static void
start_all_running(Fixture *f)
{
	GPtrArray *services = sg_supervisor_get_services(f->supervisor);

	sg_supervisor_start_all(f->supervisor);
	for (guint round = 0; round < 20; round++) {
		gboolean all = TRUE;

		for (guint i = 0; i < services->len; i++) {
			SgService *service = services->pdata[i];
			if (sg_service_get_config(service)->cron == NULL &&
			    sg_service_get_state(service) != SG_SERVICE_RUNNING)
				all = FALSE;
		}
		if (all) {
			/* The fake clock runs ahead: wait for each child to have its session. */
			for (guint i = 0; i < services->len; i++)
				WAIT_FOR(session_led(sg_service_get_pid(services->pdata[i])));
			return;
		}
		g_main_context_iteration(NULL, FALSE);
		sg_clock_fake_advance(f->context.clock, 100);
	}
	g_error("services did not come up: %s", f->transitions->str);
}

/* ---- a line-based test client ---- */

static gboolean
conn_readable_cb(int fd, GIOCondition condition, gpointer user_data)
{
	Conn *conn = user_data;
	char buffer[65536];

	for (;;) {
		ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
		if (n > 0) {
			g_string_append_len(conn->in, buffer, n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return G_SOURCE_CONTINUE;
		conn->closed = TRUE;
		conn->watch = 0;
		return G_SOURCE_REMOVE;
	}
}

static int
connect_fd(const char *state_dir)
{
	g_autoptr(GError) error = NULL;
	struct sockaddr_un addr;
	socklen_t len;
	int dir_fd;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_true(sg_sockaddr_control(state_dir, &addr, &len, &dir_fd, &error));
	g_assert_no_error(error);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, len), ==, 0);
	if (dir_fd >= 0)
		close(dir_fd);
	return fd;
}

/* A connection read by a watch (no reads unless asked: pass watch FALSE). */
static Conn *
conn_new(Fixture *f, gboolean watch)
{
	Conn *conn = g_new0(Conn, 1);

	conn->fd = connect_fd(f->dir);
	g_unix_set_fd_nonblocking(conn->fd, TRUE, NULL);
	conn->in = g_string_new(NULL);
	if (watch)
		conn->watch = g_unix_fd_add(conn->fd, G_IO_IN, conn_readable_cb, conn);
	g_ptr_array_add(f->conns, conn);
	return conn;
}

/* Writes everything, iterating the loop while the socket is full; FALSE once refused. */
static gboolean
conn_write(Fixture *f, Conn *conn, const char *data, gsize len)
{
	gsize done = 0;

	while (done < len) {
		ssize_t n = send(conn->fd, data + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += n;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			g_main_context_iteration(NULL, TRUE);
		} else {
			return FALSE;
		}
	}
	return TRUE;
}

static void
conn_send(Fixture *f, Conn *conn, const char *line)
{
	g_autofree char *text = g_strconcat(line, "\n", NULL);
	g_assert_true(conn_write(f, conn, text, strlen(text)));
}

static gboolean
conn_has_line(Conn *conn)
{
	return memchr(conn->in->str, '\n', conn->in->len) != NULL;
}

/* The next message, parsed; NULL when the server closed the connection. */
static JsonNode *
conn_receive(Fixture *f, Conn *conn)
{
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) error = NULL;
	char *newline;
	gsize len;

	WAIT_FOR(conn_has_line(conn) || conn->closed);
	newline = memchr(conn->in->str, '\n', conn->in->len);
	if (newline == NULL)
		return NULL;
	len = newline - conn->in->str;
	json_parser_load_from_data(parser, conn->in->str, len, &error);
	g_assert_no_error(error);
	g_string_erase(conn->in, 0, len + 1);
	return json_node_ref(json_parser_get_root(parser));
}

/* Sends one request with id 1 and returns the whole response object. */
static JsonNode *
rpc(Fixture *f, Conn *conn, const char *method, const char *params)
{
	g_autofree char *line = g_strdup_printf(
	        "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"%s\"%s%s}", method,
	        params != NULL ? ", \"params\": " : "", params != NULL ? params : "");
	JsonNode *reply;

	conn_send(f, conn, line);
	reply = conn_receive(f, conn);
	g_assert_nonnull(reply);
	return reply;
}

static JsonNode *
result_node(JsonNode *reply)
{
	JsonObject *object = json_node_get_object(reply);

	if (json_object_has_member(object, "error"))
		g_error("unexpected error: %s", json_to_string(reply, FALSE));
	g_assert_cmpstr(json_object_get_string_member(object, "jsonrpc"), ==, "2.0");
	g_assert_true(json_object_has_member(object, "id"));
	return json_object_get_member(object, "result");
}

static JsonObject *
result_object(JsonNode *reply)
{
	return json_node_get_object(result_node(reply));
}

static void
assert_error(JsonNode *reply, int code, const char *dbus_name)
{
	JsonObject *object = json_node_get_object(reply);
	JsonObject *error;

	g_assert_true(json_object_has_member(object, "error"));
	g_assert_false(json_object_has_member(object, "result"));
	error = json_object_get_object_member(object, "error");
	g_assert_cmpint(json_object_get_int_member(error, "code"), ==, code);
	g_assert_nonnull(json_object_get_string_member(error, "message"));
	if (dbus_name != NULL)
		g_assert_cmpstr(json_object_get_string_member(
		                        json_object_get_object_member(error, "data"), "name"),
		                ==, dbus_name);
}

static void
assert_keys(JsonObject *object, const char *const *keys)
{
	for (guint i = 0; keys[i] != NULL; i++)
		if (!json_object_has_member(object, keys[i]))
			g_error("missing key %s", keys[i]);
}

static const char *const service_keys[] = {
	"name",       "kind",          "state",        "pid",         "pgid",
	"started_at", "restart_count", "exit_code",    "exit_signal", "restart_policy",
	"depends_on", "health",        "memory_bytes", "cpu_seconds", "tasks",
	"command",    "orphaned",      NULL,
};

#define CONFIG_BASIC                                                                               \
	"version: \"1\"\nservices:\n"                                                              \
	"  a:\n    command: \"exec ${HELPER} stdout:hello pause\"\n"                               \
	"  b:\n    exec: [\"${HELPER}\", \"stdout:ready\", \"pause\"]\n    depends_on: [a]\n"      \
	"  c:\n    command: \"true\"\n"                                                            \
	"    cron: { expression: \"0 0 3 * * *\", timezone: \"UTC\" }\n"

/* ---- the methods ---- */

static void
test_status(Fixture *f, gconstpointer data)
{
	static const char *const supervisor_keys[] = { "running",   "pid",     "config",
		                                       "state_dir", "version", "started_at",
		                                       NULL };
	static const char *const cron_keys[] = { "expression", "timezone", "next_run", "history",
		                                 NULL };
	g_autoptr(JsonNode) reply = NULL;
	JsonObject *result, *supervisor;
	JsonArray *services;
	Conn *conn;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	/* Memory is only there once the programs run (their first output says so). */
	WAIT_FOR(log_contains(f, "a_stdout.log", "hello") &&
	         log_contains(f, "b_stdout.log", "ready"));
	conn = conn_new(f, TRUE);
	reply = rpc(f, conn, "status", NULL);
	result = result_object(reply);
	supervisor = json_object_get_object_member(result, "supervisor");
	assert_keys(supervisor, supervisor_keys);
	g_assert_true(json_object_get_boolean_member(supervisor, "running"));
	g_assert_cmpint(json_object_get_int_member(supervisor, "pid"), ==, getpid());
	g_assert_cmpstr(json_object_get_string_member(supervisor, "state_dir"), ==, f->dir);
	services = json_object_get_array_member(result, "services");
	g_assert_cmpuint(json_array_get_length(services), ==, 3);
	for (guint i = 0; i < 3; i++) {
		JsonObject *service = json_array_get_object_element(services, i);
		const char *name = json_object_get_string_member(service, "name");

		assert_keys(service, service_keys);
		if (strcmp(name, "c") == 0) {
			JsonObject *cron = json_object_get_object_member(service, "cron");
			assert_keys(cron, cron_keys);
			g_assert_cmpstr(json_object_get_string_member(service, "kind"), ==, "cron");
			g_assert_cmpstr(json_object_get_string_member(service, "state"), ==,
			                "scheduled");
			g_assert_true(json_object_get_null_member(service, "pid"));
			g_assert_true(json_object_get_null_member(service, "tasks"));
			g_assert_true(
			        g_str_has_suffix(json_object_get_string_member(cron, "next_run"),
			                         "T03:00:00.000000Z"));
			g_assert_cmpuint(json_array_get_length(
			                         json_object_get_array_member(cron, "history")),
			                 ==, 0);
			continue;
		}
		g_assert_false(json_object_has_member(service, "cron"));
		g_assert_cmpstr(json_object_get_string_member(service, "state"), ==, "running");
		g_assert_cmpint(json_object_get_int_member(service, "pid"), ==,
		                sg_service_get_pid(svc(f, name)));
		g_assert_cmpint(json_object_get_int_member(service, "pgid"), ==,
		                sg_service_get_pid(svc(f, name)));
		g_assert_cmpint(json_object_get_int_member(service, "tasks"), ==, 1);
		g_assert_cmpint(json_object_get_int_member(service, "memory_bytes"), >, 0);
		g_assert_true(g_str_has_suffix(json_object_get_string_member(service, "started_at"),
		                               "Z"));
		g_assert_cmpstr(json_object_get_string_member(service, "health"), ==, "none");
		g_assert_true(json_object_get_null_member(service, "exit_code"));
		if (strcmp(name, "b") == 0) {
			JsonArray *argv = json_object_get_array_member(service, "argv");
			g_assert_cmpuint(json_array_get_length(argv), ==, 3);
			g_assert_cmpstr(json_array_get_string_element(argv, 2), ==, "pause");
			g_assert_cmpstr(
			        json_array_get_string_element(
			                json_object_get_array_member(service, "depends_on"), 0),
			        ==, "a");
		} else {
			g_assert_false(json_object_has_member(service, "argv"));
		}
	}
}

static void
test_methods(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(JsonNode) one = NULL;
	g_autoptr(JsonNode) logs = NULL;
	g_autoptr(JsonNode) reload = NULL;
	g_autoptr(JsonNode) down = NULL;
	JsonArray *array;
	JsonObject *object;
	Conn *conn;
	pid_t pid_a;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	conn = conn_new(f, TRUE);

	list = rpc(f, conn, "list_services", NULL);
	array = json_node_get_array(json_object_get_member(json_node_get_object(list), "result"));
	g_assert_cmpuint(json_array_get_length(array), ==, 3);
	object = json_array_get_object_element(array, 0);
	g_assert_cmpstr(json_object_get_string_member(object, "name"), ==, "a");
	g_assert_cmpstr(json_object_get_string_member(object, "kind"), ==, "service");
	g_assert_cmpstr(json_object_get_string_member(object, "state"), ==, "running");
	g_assert_cmpint(json_object_get_int_member(object, "pid"), ==,
	                sg_service_get_pid(svc(f, "a")));
	g_assert_cmpuint(json_object_get_size(object), ==, 4);

	one = rpc(f, conn, "get_service", "{\"name\": \"b\"}");
	object = result_object(one);
	assert_keys(object, service_keys);
	g_assert_cmpstr(json_object_get_string_member(object, "name"), ==, "b");

	/* Running says nothing of what the program has written yet. */
	WAIT_FOR(log_contains(f, "a_stdout.log", "hello"));
	logs = rpc(f, conn, "logs", "{\"name\": \"a\", \"kind\": \"stdout\", \"lines\": 5}");
	array = json_object_get_array_member(result_object(logs), "lines");
	g_assert_cmpuint(json_array_get_length(array), ==, 1);
	g_assert_cmpstr(json_array_get_string_element(array, 0), ==, "hello");
	g_clear_pointer(&logs, json_node_unref);
	logs = rpc(f, conn, "logs", "{\"lines\": 1000}");
	array = json_object_get_array_member(result_object(logs), "lines");
	g_assert_cmpuint(json_array_get_length(array), >, 2);
	g_clear_pointer(&logs, json_node_unref);
	logs = rpc(f, conn, "logs", "{\"name\": \"a\"}");
	array = json_object_get_array_member(result_object(logs), "files");
	g_assert_cmpuint(json_array_get_length(array), ==, 2);

	/* The same file again: nothing changed, nothing restarted. */
	pid_a = sg_service_get_pid(svc(f, "a"));
	reload = rpc(f, conn, "reload", NULL);
	g_assert_cmpuint(json_object_get_size(result_object(reload)), ==, 0);
	g_assert_cmpint(sg_service_get_pid(svc(f, "a")), ==, pid_a);

	down = rpc(f, conn, "shutdown", NULL);
	g_assert_cmpuint(json_object_get_size(result_object(down)), ==, 0);
	WAIT_FOR(f->shutdown_asked);
}

static void
test_stop_start_restart(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) reply = NULL;
	Conn *conn;
	pid_t pid, old_b;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	conn = conn_new(f, TRUE);

	/* stop answers once the process is gone */
	pid = sg_service_get_pid(svc(f, "a"));
	reply = rpc(f, conn, "stop", "{\"name\": \"a\"}");
	g_assert_cmpuint(json_object_get_size(result_object(reply)), ==, 0);
	g_assert_false(sg_test_alive(pid));
	g_assert_cmpint(state_of(f, "a"), ==, SG_SERVICE_STOPPED);
	g_assert_cmpint(state_of(f, "b"), ==, SG_SERVICE_RUNNING);
	g_clear_pointer(&reply, json_node_unref);

	/* start answers once the service is ready: not before the clock says 100 ms */
	conn_send(f, conn,
	          "{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"start\", "
	          "\"params\": {\"name\": \"a\"}}");
	WAIT_FOR(sg_service_get_pid(svc(f, "a")) > 0);
	for (int i = 0; i < 5; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_false(conn_has_line(conn));
	sg_clock_fake_advance(f->context.clock, 100);
	reply = conn_receive(f, conn);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(reply), "id"), ==, 2);
	result_object(reply);
	g_assert_cmpint(state_of(f, "a"), ==, SG_SERVICE_RUNNING);
	g_clear_pointer(&reply, json_node_unref);

	/* restart: a new process, answered when it is ready */
	old_b = sg_service_get_pid(svc(f, "b"));
	conn_send(f, conn,
	          "{\"jsonrpc\": \"2.0\", \"id\": 3, \"method\": \"restart\", "
	          "\"params\": {\"name\": \"b\"}}");
	WAIT_FOR(sg_service_get_pid(svc(f, "b")) > 0 && sg_service_get_pid(svc(f, "b")) != old_b);
	g_assert_false(sg_test_alive(old_b));
	sg_clock_fake_advance(f->context.clock, 100);
	reply = conn_receive(f, conn);
	result_object(reply);
	g_clear_pointer(&reply, json_node_unref);

	/* stop without a name: everything, the server stays */
	pid = sg_service_get_pid(svc(f, "a"));
	reply = rpc(f, conn, "stop", NULL);
	result_object(reply);
	g_assert_false(sg_test_alive(pid));
	g_assert_cmpint(state_of(f, "a"), ==, SG_SERVICE_STOPPED);
	g_assert_cmpint(state_of(f, "b"), ==, SG_SERVICE_STOPPED);
	g_clear_pointer(&reply, json_node_unref);

	/* start without a name: everything, answered when all are ready */
	conn_send(f, conn, "{\"jsonrpc\": \"2.0\", \"id\": 4, \"method\": \"start\"}");
	WAIT_FOR(sg_service_get_pid(svc(f, "a")) > 0);
	sg_clock_fake_advance(f->context.clock, 100);
	sg_clock_fake_advance(f->context.clock, 100);
	reply = conn_receive(f, conn);
	result_object(reply);
}

static void
test_errors(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) reply = NULL;
	Conn *conn;

	load(f, CONFIG_BASIC);
	conn = conn_new(f, TRUE);

	reply = rpc(f, conn, "get_service", "{\"name\": \"nope\"}");
	assert_error(reply, -32001, "org.systemg.Error.NoSuchService");
	g_clear_pointer(&reply, json_node_unref);
	reply = rpc(f, conn, "stop", "{\"name\": \"nope\"}");
	assert_error(reply, -32001, "org.systemg.Error.NoSuchService");
	g_clear_pointer(&reply, json_node_unref);

	conn_send(f, conn, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ");
	reply = conn_receive(f, conn);
	assert_error(reply, -32700, NULL);
	g_assert_true(json_object_get_null_member(json_node_get_object(reply), "id"));
	g_clear_pointer(&reply, json_node_unref);
	/* the connection still serves */
	reply = rpc(f, conn, "list_services", NULL);
	result_node(reply);
	g_clear_pointer(&reply, json_node_unref);

	reply = rpc(f, conn, "frobnicate", NULL);
	assert_error(reply, -32601, NULL);
	g_clear_pointer(&reply, json_node_unref);
	reply = rpc(f, conn, "get_service", "{\"name\": 42}");
	assert_error(reply, -32602, NULL);
	g_clear_pointer(&reply, json_node_unref);
	reply = rpc(f, conn, "logs", "{\"lines\": \"many\"}");
	assert_error(reply, -32602, NULL);
	g_clear_pointer(&reply, json_node_unref);
	reply = rpc(f, conn, "status", "[1, 2]");
	assert_error(reply, -32602, NULL);
	g_clear_pointer(&reply, json_node_unref);
	reply = rpc(f, conn, "status", "{\"verbose\": true}");
	assert_error(reply, -32602, NULL);
	g_clear_pointer(&reply, json_node_unref);

	conn_send(f, conn, "[1, 2, 3]");
	reply = conn_receive(f, conn);
	assert_error(reply, -32600, NULL);
	g_clear_pointer(&reply, json_node_unref);
	conn_send(f, conn, "{\"id\": 7, \"method\": \"status\"}");
	reply = conn_receive(f, conn);
	assert_error(reply, -32600, NULL);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(reply), "id"), ==, 7);
	g_clear_pointer(&reply, json_node_unref);

	/* a notification gets no answer: the next line is the next request's */
	conn_send(f, conn, "{\"jsonrpc\": \"2.0\", \"method\": \"status\"}");
	conn_send(f, conn, "{\"jsonrpc\": \"2.0\", \"method\": \"frobnicate\"}");
	conn_send(f, conn, "{\"jsonrpc\": \"2.0\", \"id\": \"x\", \"method\": \"list_services\"}");
	reply = conn_receive(f, conn);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(reply), "id"), ==, "x");
	result_node(reply);
}

static void
test_long_line(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) reply = NULL;
	gsize size = 2 * 1024 * 1024;
	g_autofree char *line = g_malloc(size + 1);
	Conn *big, *other;

	load(f, CONFIG_BASIC);
	big = conn_new(f, TRUE);
	other = conn_new(f, TRUE);
	memset(line, ' ', size);
	line[size] = '\n';
	/* The server may close before it has read everything: a failed write is fine. */
	conn_write(f, big, line, size + 1);
	WAIT_FOR(big->closed);
	g_assert_cmpuint(big->in->len, ==, 0);
	reply = rpc(f, other, "list_services", NULL);
	result_node(reply);
	g_assert_cmpuint(sg_control_client_count(f->control), ==, 1);
}

static void
test_concurrent_clients(Fixture *f, gconstpointer data)
{
	Conn *conns[100];
	guint answered = 0;
	guint restarts_before;

	load(f, "version: \"1\"\nservices:\n"
	        "  crash:\n    exec: [\"${HELPER}\", \"sleep:5\", \"exit:1\"]\n"
	        "    restart_policy: always\n    backoff: 0s\n"
	        "  steady:\n    exec: [\"${HELPER}\", \"pause\"]\n");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(strstr(f->transitions->str, "crash:running>") != NULL ||
	         strstr(f->transitions->str, "crash:starting>backoff") != NULL);
	restarts_before = (guint)strlen(f->transitions->str);
	for (guint i = 0; i < G_N_ELEMENTS(conns); i++) {
		conns[i] = conn_new(f, TRUE);
		conn_send(f, conns[i], "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"status\"}");
	}
	{
		gboolean expired = FALSE;
		guint id = g_timeout_add_seconds(SG_TEST_DEADLINE_S, sg_test_deadline_cb, &expired);

		while (answered < G_N_ELEMENTS(conns) && !expired) {
			g_main_context_iteration(NULL, TRUE);
			sg_clock_fake_advance(f->context.clock, 1);
			answered = 0;
			for (guint i = 0; i < G_N_ELEMENTS(conns); i++)
				answered += conn_has_line(conns[i]);
		}
		if (!expired)
			g_source_remove(id);
	}
	g_assert_cmpuint(answered, ==, G_N_ELEMENTS(conns));
	for (guint i = 0; i < G_N_ELEMENTS(conns); i++) {
		g_autoptr(JsonNode) reply = conn_receive(f, conns[i]);
		JsonObject *result = result_object(reply);
		g_assert_cmpuint(
		        json_array_get_length(json_object_get_array_member(result, "services")), ==,
		        2);
	}
	/* The service went on crashing and restarting meanwhile. */
	g_assert_cmpuint(strlen(f->transitions->str), >, restarts_before);
}

static void
test_slow_reader(Fixture *f, gconstpointer data)
{
	const char *request = "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"status\"}\n";
	Conn *slow, *fast;
	gboolean refused = FALSE;
	guint sent = 0;
	g_autofree char *log = NULL;
	g_autofree char *log_path = g_build_filename(f->dir, "supervisor.log", NULL);

	load(f, CONFIG_BASIC);
	slow = conn_new(f, FALSE);
	fast = conn_new(f, TRUE);
	while (!refused && sent < 100000) {
		g_autoptr(JsonNode) reply = NULL;

		for (guint i = 0; i < 50 && !refused; i++, sent++)
			refused = !conn_write(f, slow, request, strlen(request));
		/* Other clients keep being served all along. */
		reply = rpc(f, fast, "list_services", NULL);
		result_node(reply);
		if (sg_control_client_count(f->control) == 1)
			refused = TRUE;
	}
	g_assert_true(refused);
	WAIT_FOR(sg_control_client_count(f->control) == 1);
	g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
	g_assert_nonnull(strstr(log, "does not read its answers"));
}

static void
test_subscribe(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) reply = NULL;
	g_autoptr(GString) seen = g_string_new(NULL);
	g_autofree char *crash = NULL;
	gsize mark;
	Conn *conn;

	load(f, "version: \"1\"\nservices:\n"
	        "  x:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/crash\", \"exit:3\"]\n"
	        "    restart_policy: always\n    backoff: 1s\n");
	start_all_running(f);
	conn = conn_new(f, TRUE);
	reply = rpc(f, conn, "subscribe", NULL);
	g_assert_cmpuint(json_object_get_size(result_object(reply)), ==, 0);
	mark = f->transitions->len;

	crash = g_build_filename(f->dir, "crash", NULL);
	g_assert_true(g_file_set_contents(crash, "", -1, NULL));
	WAIT_FOR(state_of(f, "x") == SG_SERVICE_BACKOFF);
	g_unlink(crash);
	sg_clock_fake_advance(f->context.clock, 1000);
	WAIT_FOR(sg_service_get_pid(svc(f, "x")) > 0);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "x"), ==, SG_SERVICE_RUNNING);

	/* Every change, in the engine's order. */
	while (seen->len < f->transitions->len - mark) {
		g_autoptr(JsonNode) note = conn_receive(f, conn);
		JsonObject *object = json_node_get_object(note);
		JsonObject *params = json_object_get_object_member(object, "params");

		g_assert_false(json_object_has_member(object, "id"));
		g_assert_cmpstr(json_object_get_string_member(object, "method"), ==,
		                "service_state_changed");
		g_string_append_printf(seen, "%s:%s>%s ",
		                       json_object_get_string_member(params, "name"),
		                       json_object_get_string_member(params, "old_state"),
		                       json_object_get_string_member(params, "new_state"));
	}
	g_assert_cmpstr(seen->str, ==, f->transitions->str + mark);
	g_assert_nonnull(strstr(seen->str, "x:running>"));
	g_assert_nonnull(strstr(seen->str, ">running"));
}

/* The next notification of method on conn, skipping others. */
static JsonObject *
next_notification(Fixture *f, Conn *conn, const char *method, JsonNode **ret_node)
{
	for (;;) {
		JsonNode *note = conn_receive(f, conn);
		JsonObject *object;

		g_assert_nonnull(note);
		object = json_node_get_object(note);
		if (g_strcmp0(json_object_get_string_member_with_default(object, "method", NULL),
		              method) == 0) {
			*ret_node = note;
			return json_object_get_object_member(object, "params");
		}
		json_node_unref(note);
	}
}

/* A cron job through the socket: start runs it now, stop kills the run, subscribers hear. */
static void
test_cron_job(Fixture *f, gconstpointer data)
{
	static const char *const finished_keys[] = { "name",       "result",      "exit_code",
		                                     "started_at", "finished_at", NULL };
	g_autoptr(JsonNode) reply = NULL;
	g_autoptr(JsonNode) note = NULL;
	g_autofree char *go = g_build_filename(f->dir, "go", NULL);
	JsonObject *params, *cron;
	JsonArray *history;
	Conn *watcher, *conn;

	load(f, "version: \"1\"\nservices:\n"
	        "  job:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/go\", \"exit:5\"]\n"
	        "    cron: { expression: \"@daily\" }\n");
	sg_supervisor_start_all(f->supervisor);
	watcher = conn_new(f, TRUE);
	reply = rpc(f, watcher, "subscribe", NULL);
	g_clear_pointer(&reply, json_node_unref);
	conn = conn_new(f, TRUE);

	reply = rpc(f, conn, "start", "{\"name\": \"job\"}");
	g_assert_cmpuint(json_object_get_size(result_object(reply)), ==, 0);
	g_clear_pointer(&reply, json_node_unref);
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_RUNNING);
	g_assert_true(g_file_set_contents(go, "", -1, NULL));
	params = next_notification(f, watcher, "cron_job_finished", &note);
	assert_keys(params, finished_keys);
	g_assert_cmpstr(json_object_get_string_member(params, "name"), ==, "job");
	g_assert_cmpstr(json_object_get_string_member(params, "result"), ==, "failed");
	g_assert_cmpint(json_object_get_int_member(params, "exit_code"), ==, 5);
	g_assert_true(g_str_has_suffix(json_object_get_string_member(params, "started_at"), "Z"));
	g_assert_true(g_str_has_suffix(json_object_get_string_member(params, "finished_at"), "Z"));
	g_clear_pointer(&note, json_node_unref);

	/* stop ends a running run: killed, with no exit code. */
	g_unlink(go);
	reply = rpc(f, conn, "start", "{\"name\": \"job\"}");
	g_clear_pointer(&reply, json_node_unref);
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_RUNNING);
	reply = rpc(f, conn, "stop", "{\"name\": \"job\"}");
	g_assert_cmpuint(json_object_get_size(result_object(reply)), ==, 0);
	g_clear_pointer(&reply, json_node_unref);
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_SCHEDULED);
	params = next_notification(f, watcher, "cron_job_finished", &note);
	g_assert_cmpstr(json_object_get_string_member(params, "result"), ==, "killed");
	g_assert_true(json_object_get_null_member(params, "exit_code"));
	g_clear_pointer(&note, json_node_unref);

	reply = rpc(f, conn, "get_service", "{\"name\": \"job\"}");
	cron = json_object_get_object_member(result_object(reply), "cron");
	history = json_object_get_array_member(cron, "history");
	g_assert_cmpuint(json_array_get_length(history), ==, 2);
	g_assert_cmpstr(
	        json_object_get_string_member(json_array_get_object_element(history, 1), "result"),
	        ==, "killed");
	g_assert_true(
	        g_str_has_suffix(json_object_get_string_member(cron, "next_run"), "00:00.000000Z"));
}

static void
refused_child_cb(pid_t pid, int wait_status, gpointer user_data)
{
	*(int *)user_data = wait_status;
}

static void
test_peer_uid(Fixture *f, gconstpointer data)
{
	g_autofree char *socket_path = NULL;
	g_autofree char *log = NULL;
	g_autofree char *log_path = NULL;
	g_autoptr(JsonNode) reply = NULL;
	int status = -1;
	pid_t pid;
	Conn *conn;

	if (geteuid() != 0) {
		g_test_skip("needs root to connect as another user");
		return;
	}
	load(f, CONFIG_BASIC);
	/* The file modes let the other user in: only the credentials check can refuse. */
	g_assert_cmpint(chmod(f->dir, 0711), ==, 0);
	socket_path = g_build_filename(f->dir, "control.sock", NULL);
	g_assert_cmpint(chmod(socket_path, 0666), ==, 0);

	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		const char request[] =
		        "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"status\"}\n";
		char buffer[64];
		ssize_t n;
		int fd;

		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		strncpy(addr.sun_path, socket_path, sizeof(addr.sun_path) - 1);
		if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			_exit(11);
		if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) < 0 && errno != EPIPE &&
		    errno != ECONNRESET)
			_exit(12);
		n = read(fd, buffer, sizeof(buffer));
		/* Closed without an answer: EOF, or a reset because our request went unread. */
		_exit(n == 0 || (n < 0 && errno == ECONNRESET) ? 0 : 13);
	}
	sg_reaper_watch(reaper, pid, refused_child_cb, &status);
	WAIT_FOR(status != -1);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	log_path = g_build_filename(f->dir, "supervisor.log", NULL);
	g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
	g_assert_nonnull(strstr(log, "refused a client of UID 65534"));

	/* Our own user is still served. */
	conn = conn_new(f, TRUE);
	reply = rpc(f, conn, "list_services", NULL);
	result_node(reply);
}

static void
test_long_path(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) reply = NULL;
	g_autofree char *socket_path = NULL;
	JsonObject *result;
	struct stat st;
	Conn *conn;

	load(f, CONFIG_BASIC);
	socket_path = g_build_filename(f->dir, "control.sock", NULL);
	g_assert_cmpint(stat(socket_path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	conn = conn_new(f, TRUE);
	reply = rpc(f, conn, "status", NULL);
	result = result_object(reply);
	g_assert_cmpstr(json_object_get_string_member(
	                        json_object_get_object_member(result, "supervisor"), "state_dir"),
	                ==, f->dir);
	g_clear_pointer(&f->control, sg_control_free);
	g_assert_false(g_file_test(socket_path, G_FILE_TEST_EXISTS));
}

#define ADD(path, func, data)                                                                      \
	g_test_add("/sg/control/" path, Fixture, data, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	int status;

	reaper = sg_test_init_with_reaper(&argc, &argv);
	signal(SIGPIPE, SIG_IGN);

	ADD("status", test_status, NULL);
	ADD("methods", test_methods, NULL);
	ADD("stop-start-restart", test_stop_start_restart, NULL);
	ADD("errors", test_errors, NULL);
	ADD("long-line", test_long_line, NULL);
	ADD("concurrent-clients", test_concurrent_clients, NULL);
	ADD("slow-reader", test_slow_reader, NULL);
	ADD("subscribe", test_subscribe, NULL);
	ADD("cron-job", test_cron_job, NULL);
	ADD("peer-uid", test_peer_uid, NULL);
	ADD("long-path", test_long_path, "long");
	status = g_test_run();
	sg_reaper_free(reaper);
	return status;
}
