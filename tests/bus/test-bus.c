/* SPDX-License-Identifier: MIT */
/* org.systemg's objects over a socketpair (no bus daemon), with a real supervisor. */
#include "config.h"

#include <glib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "base/sg-bus-autoptr.h"
#include "base/sg-bus-names.h"
#include "base/sg-bus-source.h"
#include "bus/sg-bus.h"
#include "config/sg-config.h"
#include "engine/sg-supervisor.h"
#include "lib/sg-test-engine.h"
#include "lib/sg-test.h"

static SgReaper *reaper; /* one per process: it reaps with waitpid(-1) */

typedef struct {
	char *dir;
	SgContext context;
	SgConfig *config;
	SgSupervisor *supervisor;
	sd_bus *server;
	sd_bus *client;
	GSource *client_source;
	SgApi *api;
	SgBus *bus;
	GString *transitions; /* "name:old>new " as the engine saw them */
	GString *signals;     /* "member:args " as the client received them */
	gboolean client_lost;
	gboolean shutdown_asked;
} Fixture;

/* One call in flight: its reply, once there. */
typedef struct {
	sd_bus_message *reply;
} Pending;

#define WAIT_FOR(cond) SG_TEST_WAIT_FOR(cond, f->transitions->str)

static void
client_lost_cb(int errno_value, gpointer user_data)
{
	((Fixture *)user_data)->client_lost = TRUE;
}

static void
shutdown_cb(gpointer user_data)
{
	((Fixture *)user_data)->shutdown_asked = TRUE;
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("sg-bus-XXXXXX", &error);
	g_assert_no_error(error);
	sg_test_context_init(&f->context, f->dir, reaper);
	f->transitions = g_string_new(NULL);
	f->signals = g_string_new(NULL);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_clear_pointer(&f->bus, sg_bus_free);
	g_clear_pointer(&f->api, sg_api_free);
	if (f->client_source != NULL) {
		g_source_destroy(f->client_source);
		g_source_unref(f->client_source);
	}
	f->client = sd_bus_flush_close_unref(f->client);
	f->server = sd_bus_flush_close_unref(f->server);
	if (f->supervisor != NULL)
		sg_test_stop_all(f->supervisor, f->context.clock);
	g_clear_object(&f->supervisor);
	g_clear_pointer(&f->config, sg_config_unref);
	sg_test_context_clear(&f->context);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
	g_string_free(f->transitions, TRUE);
	g_string_free(f->signals, TRUE);
}

/* Two ends of a socketpair: the server serves the objects, the client calls them. */
static void
connect_pair(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	sd_id128_t id;
	int fds[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), ==,
	                0);
	g_assert_cmpint(sd_id128_randomize(&id), >=, 0);
	g_assert_cmpint(sd_bus_new(&f->server), >=, 0);
	g_assert_cmpint(sd_bus_set_fd(f->server, fds[0], fds[0]), >=, 0);
	g_assert_cmpint(sd_bus_set_server(f->server, 1, id), >=, 0);
	g_assert_cmpint(sd_bus_set_anonymous(f->server, 1), >=, 0);
	g_assert_cmpint(sd_bus_start(f->server), >=, 0);
	g_assert_cmpint(sd_bus_new(&f->client), >=, 0);
	g_assert_cmpint(sd_bus_set_fd(f->client, fds[1], fds[1]), >=, 0);
	g_assert_cmpint(sd_bus_set_anonymous(f->client, 1), >=, 0);
	g_assert_cmpint(sd_bus_start(f->client), >=, 0);
	f->api = sg_api_new(f->supervisor, g_get_real_time(), shutdown_cb, f);
	f->bus = sg_bus_new_for_connection(f->api, f->server, &error);
	g_assert_no_error(error);
	/* The client runs on the same loop: its calls are asynchronous. */
	f->client_source = sg_bus_source_attach(f->client, client_lost_cb, f);
}

/* Loads the YAML (with ${HELPER} and ${DIR} defined), builds the supervisor and serves it. */
static void
load(Fixture *f, const char *yaml)
{
	f->config = sg_test_load_config(f->dir, yaml);
	f->supervisor = sg_supervisor_new(&f->context, f->config);
	sg_test_record_transitions(f->supervisor, f->transitions);
	connect_pair(f);
}

static SgService *
svc(Fixture *f, const char *name)
{
	return sg_test_service(f->supervisor, name);
}

/* Whether the current instance of name wrote "up" (its helper got past its set-up). */
static gboolean
said_up(Fixture *f, const char *name)
{
	g_autofree char *path = g_strdup_printf("%s/%s_stdout.log", f->context.log_dir, name);
	g_autofree char *contents = NULL;
	gsize len = 0;

	return g_file_get_contents(path, &contents, &len, NULL) && len >= 3 &&
	       strcmp(contents + len - 3, "up\n") == 0;
}

static gboolean
tick_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/*
 * Starts everything and moves the fake clock until every service is running, then waits
 * for each program to say it is set up: the fake clock runs ahead of the real processes.
 */
static void
start_all_running(Fixture *f)
{
	GPtrArray *services = sg_supervisor_get_services(f->supervisor);

	sg_supervisor_start_all(f->supervisor);
	for (guint round = 0; round < 20; round++) {
		gboolean all = TRUE;

		for (guint i = 0; i < services->len; i++)
			if (sg_service_get_state(services->pdata[i]) != SG_SERVICE_RUNNING)
				all = FALSE;
		if (all) {
			/* A file gives no event to wait for: look again every 10 ms. */
			guint tick = g_timeout_add(10, tick_cb, NULL);

			for (guint i = 0; i < services->len; i++)
				WAIT_FOR(said_up(f, sg_service_get_name(services->pdata[i])));
			g_source_remove(tick);
			return;
		}
		g_main_context_iteration(NULL, FALSE);
		sg_clock_fake_advance(f->context.clock, 100);
	}
	g_error("services did not come up: %s", f->transitions->str);
}

/* ---- the client side ---- */

static int
reply_cb(sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	Pending *pending = userdata;

	pending->reply = sd_bus_message_ref(reply);
	return 0;
}

static Pending *
call_async_v(Fixture *f, const char *path, const char *interface, const char *member,
             const char *types, va_list args)
{
	g_autoptr(sd_bus_message) message = NULL;
	Pending *pending = g_new0(Pending, 1);

	g_assert_cmpint(
	        sd_bus_message_new_method_call(f->client, &message, NULL, path, interface, member),
	        >=, 0);
	if (types != NULL)
		g_assert_cmpint(sd_bus_message_appendv(message, types, args), >=, 0);
	g_assert_cmpint(sd_bus_call_async(f->client, NULL, message, reply_cb, pending, 0), >=, 0);
	return pending;
}

static Pending *
call_async(Fixture *f, const char *path, const char *interface, const char *member,
           const char *types, ...)
{
	Pending *pending;
	va_list args;

	va_start(args, types);
	pending = call_async_v(f, path, interface, member, types, args);
	va_end(args);
	return pending;
}

static sd_bus_message *
pending_wait(Fixture *f, Pending *pending)
{
	sd_bus_message *reply;

	WAIT_FOR(pending->reply != NULL);
	reply = pending->reply;
	g_free(pending);
	return reply;
}

/* Calls and waits for the reply (an error reply included). */
static sd_bus_message *
call(Fixture *f, const char *path, const char *interface, const char *member, const char *types,
     ...)
{
	Pending *pending;
	va_list args;

	va_start(args, types);
	pending = call_async_v(f, path, interface, member, types, args);
	va_end(args);
	return pending_wait(f, pending);
}

static sd_bus_message *
manager_call(Fixture *f, const char *member, const char *types, ...)
{
	Pending *pending;
	va_list args;

	va_start(args, types);
	pending =
	        call_async_v(f, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, member, types, args);
	va_end(args);
	return pending_wait(f, pending);
}

static void
assert_ok(sd_bus_message *reply)
{
	const sd_bus_error *error = sd_bus_message_get_error(reply);

	if (error != NULL)
		g_error("unexpected error %s: %s", error->name, error->message);
}

static void
assert_error(sd_bus_message *reply, const char *name)
{
	const sd_bus_error *error = sd_bus_message_get_error(reply);

	g_assert_nonnull(error);
	g_assert_cmpstr(error->name, ==, name);
	g_assert_nonnull(error->message);
}

/* A property's reply, positioned at the value (of type). */
static sd_bus_message *
get_property(Fixture *f, const char *path, const char *interface, const char *name,
             const char *type)
{
	sd_bus_message *reply =
	        call(f, path, "org.freedesktop.DBus.Properties", "Get", "ss", interface, name);

	assert_ok(reply);
	g_assert_cmpint(sd_bus_message_enter_container(reply, 'v', type), >, 0);
	return reply;
}

static char *
service_path(const char *name)
{
	char *path = NULL;

	g_assert_cmpint(sd_bus_path_encode(SG_BUS_SERVICE_PATH_BASE, name, &path), >=, 0);
	return path;
}

static char *
get_string(Fixture *f, const char *name, const char *property)
{
	g_autofree char *path = service_path(name);
	g_autoptr(sd_bus_message) reply =
	        get_property(f, path, SG_BUS_SERVICE_INTERFACE, property, "s");
	const char *value;

	g_assert_cmpint(sd_bus_message_read(reply, "s", &value), >, 0);
	return g_strdup(value);
}

static guint64
get_number(Fixture *f, const char *name, const char *property, char type)
{
	g_autofree char *path = service_path(name);
	char signature[2] = { type, '\0' };
	g_autoptr(sd_bus_message) reply =
	        get_property(f, path, SG_BUS_SERVICE_INTERFACE, property, signature);
	guint64 t = 0;
	guint32 u = 0;
	gint32 i = 0;

	switch (type) {
	case 't':
		g_assert_cmpint(sd_bus_message_read(reply, "t", &t), >, 0);
		return t;
	case 'u':
		g_assert_cmpint(sd_bus_message_read(reply, "u", &u), >, 0);
		return u;
	default:
		g_assert_cmpint(sd_bus_message_read(reply, "i", &i), >, 0);
		return (guint64)(gint64)i;
	}
}

static int
signal_cb(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	Fixture *f = userdata;
	const char *member = sd_bus_message_get_member(message);

	if (strcmp(member, "ServiceStateChanged") == 0) {
		const char *name, *old_state, *new_state;

		g_assert_cmpint(sd_bus_message_read(message, "sss", &name, &old_state, &new_state),
		                >, 0);
		g_string_append_printf(f->signals, "%s:%s>%s ", name, old_state, new_state);
	} else if (strcmp(member, "ServiceAdded") == 0 || strcmp(member, "ServiceRemoved") == 0) {
		const char *name, *path;

		g_assert_cmpint(sd_bus_message_read(message, "so", &name, &path), >, 0);
		g_string_append_printf(f->signals, "%s:%s:%s ", member, name, path);
	} else if (strcmp(member, "Reloaded") == 0) {
		const char *path;

		g_assert_cmpint(sd_bus_message_read(message, "s", &path), >, 0);
		g_string_append_printf(f->signals, "Reloaded:%s ", path);
	} else if (strcmp(member, "CronJobFinished") == 0) {
		const char *name, *result;
		gint32 code;
		guint64 started, finished;

		g_assert_cmpint(sd_bus_message_read(message, "ssitt", &name, &result, &code,
		                                    &started, &finished),
		                >, 0);
		g_string_append_printf(f->signals,
		                       "CronJobFinished:%s:%s:%d:%" G_GUINT64_FORMAT
		                       ":%" G_GUINT64_FORMAT " ",
		                       name, result, code, started, finished);
	} else if (strcmp(member, "InterfacesAdded") == 0 ||
	           strcmp(member, "InterfacesRemoved") == 0) {
		const char *path;

		g_assert_cmpint(sd_bus_message_read(message, "o", &path), >, 0);
		g_string_append_printf(f->signals, "%s:%s ", member, path);
	} else if (strcmp(member, "PropertiesChanged") == 0 &&
	           strcmp(sd_bus_message_get_path(message), SG_BUS_MANAGER_PATH) == 0) {
		g_string_append(f->signals, "ManagerPropertiesChanged ");
	} else if (strcmp(member, "PropertiesChanged") == 0) {
		const char *interface, *property;

		g_assert_cmpint(sd_bus_message_read(message, "s", &interface), >, 0);
		g_assert_cmpstr(interface, ==, SG_BUS_SERVICE_INTERFACE);
		g_string_append_printf(f->signals, "%s{", sd_bus_message_get_path(message));
		g_assert_cmpint(sd_bus_message_enter_container(message, 'a', "{sv}"), >, 0);
		while (sd_bus_message_enter_container(message, 'e', "sv") > 0) {
			g_assert_cmpint(sd_bus_message_read(message, "s", &property), >, 0);
			if (strcmp(property, "State") == 0) {
				const char *state;
				g_assert_cmpint(sd_bus_message_read(message, "v", "s", &state), >,
				                0);
				g_string_append_printf(f->signals, "State=%s,", state);
			} else {
				g_string_append_printf(f->signals, "%s,", property);
				g_assert_cmpint(sd_bus_message_skip(message, "v"), >=, 0);
			}
			g_assert_cmpint(sd_bus_message_exit_container(message), >=, 0);
		}
		g_string_append(f->signals, "} ");
	}
	return 0;
}

#define CONFIG_BASIC                                                                               \
	"version: \"1\"\nservices:\n"                                                              \
	"  api:\n    command: \"exec ${HELPER} stdout:up pause\"\n    restart_policy: always\n"    \
	"  db.main:\n    exec: [\"${HELPER}\", \"ignore-term\", \"stdout:up\", \"pause\"]\n"       \
	"    stop_timeout: \"5s\"\n    depends_on: [api]\n"

/* ---- tests ---- */

static void
test_list_services(Fixture *f, gconstpointer data)
{
	g_autoptr(sd_bus_message) reply = NULL;
	g_autoptr(sd_bus_message) get = NULL;
	g_autoptr(sd_bus_message) missing = NULL;
	const char *name, *kind, *state, *path;
	guint32 pid;
	guint n = 0;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	reply = manager_call(f, "ListServices", NULL);
	assert_ok(reply);
	g_assert_cmpint(sd_bus_message_enter_container(reply, 'a', "(sssuo)"), >, 0);
	while (sd_bus_message_read(reply, "(sssuo)", &name, &kind, &state, &pid, &path) > 0) {
		g_autofree char *expected = service_path(name);

		g_assert_cmpstr(name, ==, n == 0 ? "api" : "db.main");
		g_assert_cmpstr(kind, ==, "service");
		g_assert_cmpstr(state, ==, "running");
		g_assert_cmpint(pid, ==, sg_service_get_pid(svc(f, name)));
		g_assert_cmpstr(path, ==, expected);
		n++;
	}
	g_assert_cmpuint(n, ==, 2);

	get = manager_call(f, "GetService", "s", "db.main");
	assert_ok(get);
	g_assert_cmpint(sd_bus_message_read(get, "o", &path), >, 0);
	g_assert_cmpstr(path, ==, SG_BUS_SERVICE_PATH_BASE "/db_2emain");

	missing = manager_call(f, "GetService", "s", "nope");
	assert_error(missing, SG_BUS_ERROR_NO_SUCH_SERVICE);
}

static void
test_properties(Fixture *f, gconstpointer data)
{
	g_autofree char *state = NULL;
	g_autofree char *command = NULL;
	g_autofree char *policy = NULL;
	g_autofree char *kind = NULL;
	g_autofree char *db_path = service_path("db.main");
	g_autoptr(sd_bus_message) depends = NULL;
	g_autoptr(sd_bus_message) version = NULL;
	g_autoptr(sd_bus_message) state_dir = NULL;
	g_autoptr(sd_bus_message) missing = NULL;
	const char *text;
	guint32 pid;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	state = get_string(f, "api", "State");
	g_assert_cmpstr(state, ==, "running");
	kind = get_string(f, "api", "Kind");
	g_assert_cmpstr(kind, ==, "service");
	command = get_string(f, "api", "Command");
	g_assert_true(g_str_has_prefix(command, "exec "));
	policy = get_string(f, "api", "RestartPolicy");
	g_assert_cmpstr(policy, ==, "always");
	g_assert_cmpuint(get_number(f, "api", "Pid", 'u'), ==, sg_service_get_pid(svc(f, "api")));
	g_assert_cmpint((gint64)get_number(f, "api", "ExitCode", 'i'), ==, -1);
	g_assert_cmpint((gint64)get_number(f, "api", "ExitSignal", 'i'), ==, 0);
	g_assert_cmpuint(get_number(f, "api", "StartedAt", 't'), ==,
	                 sg_service_get_started_at(svc(f, "api")));
	g_assert_cmpuint(get_number(f, "api", "RestartCount", 'u'), ==, 0);
	g_assert_cmpuint(get_number(f, "api", "NextRun", 't'), ==, 0);
	/* A live process has some resident memory. */
	WAIT_FOR(get_number(f, "api", "MemoryBytes", 't') > 0);

	depends = get_property(f, db_path, SG_BUS_SERVICE_INTERFACE, "DependsOn", "as");
	g_assert_cmpint(sd_bus_message_enter_container(depends, 'a', "s"), >, 0);
	g_assert_cmpint(sd_bus_message_read(depends, "s", &text), >, 0);
	g_assert_cmpstr(text, ==, "api");
	g_assert_cmpint(sd_bus_message_read(depends, "s", &text), ==, 0);

	version = get_property(f, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "Version", "s");
	g_assert_cmpint(sd_bus_message_read(version, "s", &text), >, 0);
	g_assert_cmpstr(text, ==, PACKAGE_VERSION);
	state_dir = get_property(f, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "StateDirectory",
	                         "s");
	g_assert_cmpint(sd_bus_message_read(state_dir, "s", &text), >, 0);
	g_assert_cmpstr(text, ==, f->dir);
	{
		g_autoptr(sd_bus_message) reply =
		        get_property(f, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "Pid", "u");
		g_assert_cmpint(sd_bus_message_read(reply, "u", &pid), >, 0);
		g_assert_cmpint(pid, ==, getpid());
	}
	/* No object for a name that is not a service. */
	missing = call(f, SG_BUS_SERVICE_PATH_BASE "/nope", "org.freedesktop.DBus.Properties",
	               "Get", "ss", SG_BUS_SERVICE_INTERFACE, "State");
	assert_error(missing, "org.freedesktop.DBus.Error.UnknownObject");
}

static void
test_stop_waits(Fixture *f, gconstpointer data)
{
	g_autoptr(sd_bus_message) reply = NULL;
	g_autofree char *state = NULL;
	Pending *pending;
	pid_t pid;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	pid = sg_service_get_pid(svc(f, "db.main"));
	g_assert_true(sg_test_alive(pid));
	/* db.main ignores SIGTERM: the answer waits for the kill after stop_timeout. */
	pending = call_async(f, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "StopService", "s",
	                     "db.main");
	WAIT_FOR(sg_service_get_state(svc(f, "db.main")) == SG_SERVICE_STOPPING);
	for (guint i = 0; i < 20; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_null(pending->reply);
	g_assert_true(sg_test_alive(pid));
	sg_clock_fake_advance(f->context.clock, 5000);
	reply = pending_wait(f, pending);
	assert_ok(reply);
	g_assert_false(sg_test_alive(pid));
	state = get_string(f, "db.main", "State");
	g_assert_cmpstr(state, ==, "stopped");
	/* Its dependency keeps running. */
	g_assert_cmpint(sg_service_get_state(svc(f, "api")), ==, SG_SERVICE_RUNNING);
}

static void
test_start_restart(Fixture *f, gconstpointer data)
{
	g_autofree char *path = service_path("api");
	g_autoptr(sd_bus_message) stop = NULL;
	g_autoptr(sd_bus_message) start = NULL;
	g_autoptr(sd_bus_message) restart = NULL;
	Pending *pending;
	pid_t pid;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	pid = sg_service_get_pid(svc(f, "api"));
	/* The per-service object's methods. */
	stop = call(f, path, SG_BUS_SERVICE_INTERFACE, "Stop", NULL);
	assert_ok(stop);
	g_assert_false(sg_test_alive(pid));
	g_assert_cmpint(sg_service_get_state(svc(f, "api")), ==, SG_SERVICE_STOPPED);
	/* Start answers once the service is ready: 100 ms alive on the fake clock. */
	pending = call_async(f, path, SG_BUS_SERVICE_INTERFACE, "Start", NULL);
	WAIT_FOR(sg_service_get_state(svc(f, "api")) == SG_SERVICE_STARTING);
	g_assert_null(pending->reply);
	sg_clock_fake_advance(f->context.clock, 100);
	start = pending_wait(f, pending);
	assert_ok(start);
	g_assert_cmpint(sg_service_get_state(svc(f, "api")), ==, SG_SERVICE_RUNNING);
	pid = sg_service_get_pid(svc(f, "api"));
	pending = call_async(f, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "RestartService",
	                     "s", "api");
	WAIT_FOR(sg_service_get_state(svc(f, "api")) == SG_SERVICE_STARTING);
	sg_clock_fake_advance(f->context.clock, 100);
	restart = pending_wait(f, pending);
	assert_ok(restart);
	g_assert_false(sg_test_alive(pid));
	g_assert_true(sg_test_alive(sg_service_get_pid(svc(f, "api"))));
}

static void
test_start_fails(Fixture *f, gconstpointer data)
{
	g_autoptr(sd_bus_message) reply = NULL;
	const sd_bus_error *error;

	load(f, "version: \"1\"\nservices:\n"
	        "  bad:\n    exec: [\"${HELPER}\", \"exit:3\"]\n");
	reply = manager_call(f, "StartService", "s", "bad");
	assert_error(reply, SG_BUS_ERROR_FAILED);
	error = sd_bus_message_get_error(reply);
	/* The socket's text: name, state and cause. */
	g_assert_nonnull(strstr(error->message, "bad did not start: failed"));
}

/* While everything stops, and once the daemon is leaving, starts are refused. */
static void
test_start_refused(Fixture *f, gconstpointer data)
{
	g_autoptr(sd_bus_message) during = NULL;
	g_autoptr(sd_bus_message) stopped = NULL;
	g_autoptr(sd_bus_message) leaving = NULL;
	Pending *stop;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	/* db.main ignores SIGTERM: Stop lasts until its stop_timeout. */
	stop = call_async(f, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, "Stop", NULL);
	WAIT_FOR(sg_service_get_state(svc(f, "db.main")) == SG_SERVICE_STOPPING);
	during = manager_call(f, "StartService", "s", "api");
	assert_error(during, SG_BUS_ERROR_FAILED);
	g_assert_nonnull(strstr(sd_bus_message_get_error(during)->message, "being stopped"));
	sg_clock_fake_advance(f->context.clock, 5000);
	stopped = pending_wait(f, stop);
	assert_ok(stopped);
	g_assert_cmpint(sg_service_get_state(svc(f, "api")), ==, SG_SERVICE_STOPPED);
	sg_api_shutdown(f->api, "test");
	leaving = manager_call(f, "Start", NULL);
	assert_error(leaving, SG_BUS_ERROR_FAILED);
	g_assert_nonnull(strstr(sd_bus_message_get_error(leaving)->message, "shutting down"));
	g_assert_cmpint(sg_service_get_state(svc(f, "api")), ==, SG_SERVICE_STOPPED);
}

static void
test_errors(Fixture *f, gconstpointer data)
{
	static const char *const named[] = { "StartService", "StopService", "RestartService" };
	g_autoptr(sd_bus_message) logs = NULL;
	g_autoptr(sd_bus_message) stream = NULL;
	g_autoptr(sd_bus_message) unknown = NULL;
	g_autoptr(sd_bus_message) reload = NULL;

	load(f, CONFIG_BASIC);
	for (guint i = 0; i < G_N_ELEMENTS(named); i++) {
		g_autoptr(sd_bus_message) reply = manager_call(f, named[i], "s", "nope");
		assert_error(reply, SG_BUS_ERROR_NO_SUCH_SERVICE);
	}
	logs = manager_call(f, "GetLogs", "ssu", "nope", "", 10);
	assert_error(logs, SG_BUS_ERROR_NO_SUCH_SERVICE);
	stream = manager_call(f, "GetLogs", "ssu", "", "stdout", 10);
	assert_error(stream, "org.freedesktop.DBus.Error.InvalidArgs");
	unknown = manager_call(f, "GetLogs", "ssu", "api", "journal", 10);
	assert_error(unknown, "org.freedesktop.DBus.Error.InvalidArgs");
	/* An invalid file changes nothing. */
	{
		g_autofree char *bad = g_build_filename(f->dir, "bad.yaml", NULL);
		const sd_bus_error *error;

		g_assert_true(g_file_set_contents(bad, "version: \"2\"\n", -1, NULL));
		reload = manager_call(f, "Reload", "s", bad);
		error = sd_bus_message_get_error(reload);
		g_assert_nonnull(error);
		/* Until reload exists, it answers Failed; then InvalidConfig. */
		g_assert_true(strcmp(error->name, SG_BUS_ERROR_INVALID_CONFIG) == 0 ||
		              strcmp(error->name, SG_BUS_ERROR_FAILED) == 0);
	}
	g_assert_nonnull(svc(f, "api"));
}

static void
test_logs(Fixture *f, gconstpointer data)
{
	g_autoptr(sd_bus_message) both = NULL;
	g_autoptr(sd_bus_message) last = NULL;
	g_autoptr(sd_bus_message) supervisor = NULL;
	g_autofree char *out = g_build_filename(f->context.log_dir, "api_stdout.log", NULL);
	g_autofree char *err = g_build_filename(f->context.log_dir, "api_stderr.log", NULL);
	const char *line;

	load(f, CONFIG_BASIC);
	g_assert_true(g_file_set_contents(out, "o1\no2\no3\n", -1, NULL));
	g_assert_true(g_file_set_contents(err, "e1\n\xff\n", -1, NULL));
	both = manager_call(f, "GetLogs", "ssu", "api", "", 2);
	assert_ok(both);
	g_assert_cmpint(sd_bus_message_enter_container(both, 'a', "s"), >, 0);
	/* stdout first, then stderr; bytes that are not UTF-8 are replaced. */
	g_assert_cmpint(sd_bus_message_read(both, "s", &line), >, 0);
	g_assert_cmpstr(line, ==, "o2");
	g_assert_cmpint(sd_bus_message_read(both, "s", &line), >, 0);
	g_assert_cmpstr(line, ==, "o3");
	g_assert_cmpint(sd_bus_message_read(both, "s", &line), >, 0);
	g_assert_cmpstr(line, ==, "e1");
	g_assert_cmpint(sd_bus_message_read(both, "s", &line), >, 0);
	g_assert_cmpstr(line, ==, "\xef\xbf\xbd");
	g_assert_cmpint(sd_bus_message_read(both, "s", &line), ==, 0);

	last = manager_call(f, "GetLogs", "ssu", "api", "stdout", 1);
	assert_ok(last);
	g_assert_cmpint(sd_bus_message_read(last, "as", 1, &line), >, 0);
	g_assert_cmpstr(line, ==, "o3");

	sg_context_log(&f->context, SG_LOG_INFO, "a line for GetLogs");
	supervisor = manager_call(f, "GetLogs", "ssu", "", "", 1);
	assert_ok(supervisor);
	g_assert_cmpint(sd_bus_message_read(supervisor, "as", 1, &line), >, 0);
	g_assert_nonnull(strstr(line, "a line for GetLogs"));
}

static void
test_access_denied(Fixture *f, gconstpointer data)
{
	static const char *const plain[] = { "ListServices", "Start", "Stop", "Restart",
		                             "Shutdown" };
	g_autofree char *path = service_path("api");
	g_autoptr(sd_bus_message) named = NULL;
	g_autoptr(sd_bus_message) object = NULL;
	g_autoptr(sd_bus_message) logs = NULL;
	g_autoptr(sd_bus_message) allowed = NULL;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	/* This process is now someone else to the daemon. */
	sg_bus_set_owner_uid(f->bus, geteuid() + 1);
	for (guint i = 0; i < G_N_ELEMENTS(plain); i++) {
		g_autoptr(sd_bus_message) reply = manager_call(f, plain[i], NULL);
		assert_error(reply, SG_BUS_ERROR_ACCESS_DENIED);
	}
	named = manager_call(f, "StopService", "s", "api");
	assert_error(named, SG_BUS_ERROR_ACCESS_DENIED);
	object = call(f, path, SG_BUS_SERVICE_INTERFACE, "Stop", NULL);
	assert_error(object, SG_BUS_ERROR_ACCESS_DENIED);
	logs = manager_call(f, "GetLogs", "ssu", "", "", 10);
	assert_error(logs, SG_BUS_ERROR_ACCESS_DENIED);
	/* Properties say what runs and how (command lines): the owner's too. */
	{
		g_autoptr(sd_bus_message) get =
		        call(f, path, "org.freedesktop.DBus.Properties", "Get", "ss",
		             SG_BUS_SERVICE_INTERFACE, "Command");
		g_autoptr(sd_bus_message) get_all =
		        call(f, SG_BUS_MANAGER_PATH, "org.freedesktop.DBus.Properties", "GetAll",
		             "s", SG_BUS_MANAGER_INTERFACE);
		g_autoptr(sd_bus_message) managed =
		        call(f, SG_BUS_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
		             "GetManagedObjects", NULL);
		g_autoptr(sd_bus_message) introspect =
		        call(f, path, "org.freedesktop.DBus.Introspectable", "Introspect", NULL);

		assert_error(get, SG_BUS_ERROR_ACCESS_DENIED);
		assert_error(get_all, SG_BUS_ERROR_ACCESS_DENIED);
		assert_error(managed, SG_BUS_ERROR_ACCESS_DENIED);
		/* The shape of the objects is no secret. */
		assert_ok(introspect);
	}
	/* Nothing happened. */
	g_assert_cmpint(sg_service_get_state(svc(f, "api")), ==, SG_SERVICE_RUNNING);
	g_assert_false(f->shutdown_asked);
	sg_bus_set_owner_uid(f->bus, geteuid());
	allowed = manager_call(f, "ListServices", NULL);
	assert_ok(allowed);
}

static void
test_properties_changed(Fixture *f, gconstpointer data)
{
	g_autoptr(sd_bus_message) stop = NULL;
	g_autofree char *path = service_path("api");
	g_autofree char *expected = NULL;
	pid_t pid;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	/* A round trip: the signals of the start are behind us. */
	g_clear_pointer(&stop, sd_bus_message_unref);
	stop = manager_call(f, "ListServices", NULL);
	g_clear_pointer(&stop, sd_bus_message_unref);
	g_string_truncate(f->transitions, 0);
	g_assert_cmpint(sd_bus_match_signal(f->client, NULL, NULL, NULL, NULL, NULL, signal_cb, f),
	                >=, 0);
	/* A crash of api: restarted after its backoff (always). */
	pid = sg_service_get_pid(svc(f, "api"));
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	WAIT_FOR(sg_service_get_state(svc(f, "api")) == SG_SERVICE_BACKOFF);
	sg_clock_fake_advance(f->context.clock, 5000);
	WAIT_FOR(sg_service_get_state(svc(f, "api")) == SG_SERVICE_STARTING);
	sg_clock_fake_advance(f->context.clock, 100);
	WAIT_FOR(sg_service_get_state(svc(f, "api")) == SG_SERVICE_RUNNING);
	/* Signals are in order: wait for the last one, then compare them all. */
	WAIT_FOR(strstr(f->signals->str, "api:starting>running") != NULL &&
	         g_str_has_suffix(f->signals->str, "} "));
	g_test_message("signals: %s", f->signals->str);
	g_assert_true(g_str_has_prefix(f->signals->str, "api:running>failed ") ||
	              g_str_has_prefix(f->signals->str, "api:running>backoff "));
	g_assert_nonnull(strstr(f->signals->str, "api:backoff>starting "));
	expected = g_strdup_printf("%s{State=backoff,", path);
	g_assert_nonnull(strstr(f->signals->str, expected));
	g_clear_pointer(&expected, g_free);
	expected = g_strdup_printf("%s{State=running,", path);
	g_assert_nonnull(strstr(f->signals->str, expected));
	/* Pid, ExitSignal and RestartCount changed along the way, and were said to. */
	g_assert_nonnull(strstr(f->signals->str, "Pid,"));
	g_assert_nonnull(strstr(f->signals->str, "ExitSignal,"));
	g_assert_nonnull(strstr(f->signals->str, "RestartCount,"));
	/* Exactly the engine's transitions, in its order. */
	g_assert_cmpstr(strstr(f->transitions->str, "api:running>"), !=, NULL);
	{
		g_autoptr(GString) only = g_string_new(NULL);
		g_auto(GStrv) words = g_strsplit(f->signals->str, " ", -1);
		const char *since = strstr(f->transitions->str, "api:running>");

		for (guint i = 0; words[i] != NULL; i++)
			if (g_str_has_prefix(words[i], "api:") || g_str_has_prefix(words[i], "db"))
				g_string_append_printf(only, "%s ", words[i]);
		g_assert_cmpstr(only->str, ==, since);
	}
	stop = manager_call(f, "StopService", "s", "api");
	assert_ok(stop);
}

/* The supervisor's reload and cron events, as the bus announces them. */
static void
test_engine_signals(Fixture *f, gconstpointer data)
{
	g_autoptr(sd_bus_message) reply = NULL;
	g_autofree char *api_path = service_path("api");
	g_autofree char *ghost_path = service_path("ghost-1");
	g_autofree char *expected = NULL;

	load(f, CONFIG_BASIC);
	reply = manager_call(f, "ListServices", NULL);
	g_assert_cmpint(sd_bus_match_signal(f->client, NULL, NULL, NULL, NULL, NULL, signal_cb, f),
	                >=, 0);
	g_signal_emit_by_name(f->supervisor, "service-added", svc(f, "api"));
	g_signal_emit_by_name(f->supervisor, "service-removed", "ghost-1");
	g_signal_emit_by_name(f->supervisor, "reloaded", "/etc/new.yaml");
	g_signal_emit_by_name(f->supervisor, "cron-job-finished", svc(f, "api"), "failed", 3,
	                      (gint64)1000, (gint64)2000);
	WAIT_FOR(strstr(f->signals->str, "CronJobFinished") != NULL);
	expected = g_strdup_printf("InterfacesAdded:%s ServiceAdded:api:%s "
	                           "InterfacesRemoved:%s ServiceRemoved:ghost-1:%s "
	                           "ManagerPropertiesChanged Reloaded:/etc/new.yaml "
	                           "CronJobFinished:api:failed:3:1000:2000 ",
	                           api_path, api_path, ghost_path, ghost_path);
	g_assert_cmpstr(f->signals->str, ==, expected);
}

static void
test_object_manager(Fixture *f, gconstpointer data)
{
	g_autoptr(sd_bus_message) reply = NULL;
	g_autoptr(GString) seen = g_string_new(NULL);
	const char *path, *interface;

	load(f, CONFIG_BASIC);
	start_all_running(f);
	reply = call(f, SG_BUS_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
	             "GetManagedObjects", NULL);
	assert_ok(reply);
	g_assert_cmpint(sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}"), >, 0);
	while (sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}") > 0) {
		g_assert_cmpint(sd_bus_message_read(reply, "o", &path), >, 0);
		g_assert_cmpint(sd_bus_message_enter_container(reply, 'a', "{sa{sv}}"), >, 0);
		while (sd_bus_message_enter_container(reply, 'e', "sa{sv}") > 0) {
			g_assert_cmpint(sd_bus_message_read(reply, "s", &interface), >, 0);
			if (strcmp(interface, SG_BUS_SERVICE_INTERFACE) == 0)
				g_string_append_printf(seen, "%s ", path);
			g_assert_cmpint(sd_bus_message_skip(reply, "a{sv}"), >=, 0);
			g_assert_cmpint(sd_bus_message_exit_container(reply), >=, 0);
		}
		g_assert_cmpint(sd_bus_message_exit_container(reply), >=, 0);
		g_assert_cmpint(sd_bus_message_exit_container(reply), >=, 0);
	}
	g_assert_cmpstr(seen->str, ==,
	                SG_BUS_SERVICE_PATH_BASE "/api " SG_BUS_SERVICE_PATH_BASE "/db_2emain ");
}

static gboolean
log_contains(Fixture *f, const char *text)
{
	g_autofree char *path = g_build_filename(f->dir, "supervisor.log", NULL);
	g_autofree char *contents = NULL;

	return g_file_get_contents(path, &contents, NULL, NULL) && strstr(contents, text) != NULL;
}

static void
test_peer_lost(Fixture *f, gconstpointer data)
{
	g_autoptr(sd_bus_message) reply = NULL;
	load(f, CONFIG_BASIC);
	start_all_running(f);
	reply = manager_call(f, "ListServices", NULL);
	assert_ok(reply);
	/* The other end goes away: the daemon goes on without it. */
	g_source_destroy(f->client_source);
	g_clear_pointer(&f->client_source, g_source_unref);
	f->client = sd_bus_close_unref(f->client);
	WAIT_FOR(log_contains(f, "lost the D-Bus connection"));
	sg_test_stop_all(f->supervisor, f->context.clock);
	g_assert_cmpint(sg_service_get_state(svc(f, "api")), ==, SG_SERVICE_STOPPED);
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/bus/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	int status;

	reaper = sg_test_init_with_reaper(&argc, &argv);
	signal(SIGPIPE, SIG_IGN);

	ADD("list-services", test_list_services);
	ADD("properties", test_properties);
	ADD("stop-waits", test_stop_waits);
	ADD("start-restart", test_start_restart);
	ADD("start-fails", test_start_fails);
	ADD("start-refused", test_start_refused);
	ADD("errors", test_errors);
	ADD("logs", test_logs);
	ADD("access-denied", test_access_denied);
	ADD("properties-changed", test_properties_changed);
	ADD("engine-signals", test_engine_signals);
	ADD("object-manager", test_object_manager);
	ADD("peer-lost", test_peer_lost);
	status = g_test_run();
	sg_reaper_free(reaper);
	return status;
}
