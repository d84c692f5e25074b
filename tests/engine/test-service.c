/* SPDX-License-Identifier: MIT */
/* One service's state machine with real processes and a fake clock: its transitions, and the
 * exit actions of each state (no restart timer, health check or helper left behind). */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "config/sg-config.h"
#include "engine/sg-supervisor.h"
#include "lib/sg-test-engine.h"
#include "lib/sg-test.h"

static SgReaper *reaper; /* one per process: it reaps with waitpid(-1) */

typedef SgTestEngineFixture Fixture;

#define WAIT_FOR(cond) SG_TEST_WAIT_FOR(cond, f->transitions->str)

#define assert_contains(haystack, needle)                                                          \
	G_STMT_START                                                                               \
	{                                                                                          \
		const char *h_ = (haystack);                                                       \
		if (h_ == NULL || strstr(h_, (needle)) == NULL)                                    \
			g_error("\"%s\" does not contain \"%s\"", h_ != NULL ? h_ : "(null)",      \
			        (needle));                                                         \
	}                                                                                          \
	G_STMT_END

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	sg_test_engine_fixture_set_up(f, "sg-service", reaper);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	sg_test_engine_fixture_tear_down(f);
}

static void
load(Fixture *f, const char *yaml)
{
	sg_test_engine_fixture_load(f, yaml);
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

static void
touch(Fixture *f, const char *name)
{
	g_autofree char *path = g_build_filename(f->dir, name, NULL);

	g_assert_true(g_file_set_contents(path, "", -1, NULL));
}

static void
remove_file(Fixture *f, const char *name)
{
	g_autofree char *path = g_build_filename(f->dir, name, NULL);

	g_assert_cmpint(g_unlink(path), ==, 0);
}

/* Timers of the fake clock still armed: a state's timers and its health check's. */
static guint
timers(Fixture *f)
{
	return sg_clock_fake_pending(f->context.clock);
}

static void
stop(Fixture *f, const char *name)
{
	gboolean stopped = FALSE;

	g_assert_true(sg_supervisor_stop_service(f->supervisor, name, sg_test_stopped_cb, &stopped,
	                                         NULL));
	WAIT_FOR(stopped);
}

static const char crasher_yaml[] =
        "version: \"1\"\nservices:\n"
        "  web:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/crash\", \"exit:3\"]\n"
        "    restart_policy: on-failure\n    backoff: 1s\n";

/* ---- transitions ---- */

static void
test_start_to_running(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n  web:\n    exec: [\"${HELPER}\", \"pause\"]\n");
	sg_supervisor_start_all(f->supervisor);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STARTING);
	g_assert_cmpint(sg_service_get_pid(svc(f, "web")), >, 0);
	/* Only the settle window is armed. */
	g_assert_cmpuint(timers(f), ==, 1);
	sg_clock_fake_advance(f->context.clock, 99);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STARTING);
	sg_clock_fake_advance(f->context.clock, 1);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpstr(f->transitions->str, ==, "web:stopped>starting web:starting>running ");
	/* Ready with no restart behind it: nothing is armed. */
	g_assert_cmpuint(timers(f), ==, 0);
}

static void
test_exit_backoff_starting(Fixture *f, gconstpointer data)
{
	pid_t first;

	load(f, crasher_yaml);
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	first = sg_service_get_pid(svc(f, "web"));
	touch(f, "crash");
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_BACKOFF);
	assert_contains(f->transitions->str, "web:running>backoff");
	g_assert_cmpint(sg_service_get_pid(svc(f, "web")), ==, 0);
	g_assert_cmpint(sg_service_get_restart_due(svc(f, "web")), >, 0);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "web")), ==, 1);
	g_assert_true(sg_service_is_recovering(svc(f, "web")));
	/* The restart is the one timer. */
	g_assert_cmpuint(timers(f), ==, 1);
	sg_clock_fake_advance(f->context.clock, 999);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_BACKOFF);
	sg_clock_fake_advance(f->context.clock, 1);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STARTING);
	g_assert_cmpint(sg_service_get_pid(svc(f, "web")), >, 0);
	g_assert_cmpint(sg_service_get_pid(svc(f, "web")), !=, first);
	assert_contains(f->transitions->str, "web:backoff>starting");
	/* Starting again: the restart timer is gone, the settle window is armed. */
	g_assert_cmpint(sg_service_get_restart_due(svc(f, "web")), ==, 0);
}

/* ---- stops and their exit actions ---- */

static void
test_stop_from_running(Fixture *f, gconstpointer data)
{
	pid_t pid;

	load(f, "version: \"1\"\nservices:\n  web:\n    exec: [\"${HELPER}\", \"pause\"]\n");
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	pid = sg_service_get_pid(svc(f, "web"));
	stop(f, "web");
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STOPPED);
	g_assert_false(sg_test_alive(pid));
	assert_contains(f->transitions->str, "web:running>stopping web:stopping>stopped");
	g_assert_cmpuint(timers(f), ==, 0);
}

static void
test_stop_in_backoff(Fixture *f, gconstpointer data)
{
	load(f, crasher_yaml);
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	touch(f, "crash");
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_BACKOFF);
	stop(f, "web");
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STOPPED);
	assert_contains(f->transitions->str, "web:backoff>stopped");
	/* No restart is left to come. */
	g_assert_cmpint(sg_service_get_restart_due(svc(f, "web")), ==, 0);
	g_assert_false(sg_service_is_recovering(svc(f, "web")));
	g_assert_cmpuint(timers(f), ==, 0);
	sg_clock_fake_advance(f->context.clock, 5000);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STOPPED);
	g_assert_cmpint(sg_service_get_pid(svc(f, "web")), ==, 0);
}

static void
test_stop_in_starting(Fixture *f, gconstpointer data)
{
	pid_t pid;

	/* The check never passes: the service stays starting, its check armed. */
	load(f, "version: \"1\"\nservices:\n"
	        "  web:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	        "    health_check:\n      command: \"exit 1\"\n"
	        "      interval: 1s\n      timeout: 30s\n");
	sg_supervisor_start_all(f->supervisor);
	pid = sg_service_get_pid(svc(f, "web"));
	g_assert_cmpint(pid, >, 0);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STARTING);
	g_assert_cmpuint(timers(f), >, 0);
	stop(f, "web");
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STOPPED);
	g_assert_false(sg_test_alive(pid));
	assert_contains(f->transitions->str, "web:starting>stopping web:stopping>stopped");
	/* The health check went with the state: no attempt and no timeout left. */
	g_assert_cmpuint(timers(f), ==, 0);
	g_assert_cmpint(sg_service_get_health(svc(f, "web")), !=, SG_HEALTH_UNHEALTHY);
}

static void
test_stop_while_waiting(Fixture *f, gconstpointer data)
{
	/* api waits in starting, with no process, for db's readiness (never told). */
	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    exec: [\"${HELPER}\", \"pause\"]\n    health_check: { notify: true }\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n");
	sg_supervisor_start_all(f->supervisor);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STARTING);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==, "waiting for db");
	stop(f, "api");
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STOPPED);
	assert_contains(f->transitions->str, "api:starting>stopped");
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_STARTING);
}

static void
test_health_check_failure(Fixture *f, gconstpointer data)
{
	pid_t pid;
	guint attempts;

	load(f, "version: \"1\"\nservices:\n"
	        "  web:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	        "    restart_policy: on-failure\n    backoff: 10s\n"
	        "    health_check:\n      command: \"echo x >> ${DIR}/checks; exit 1\"\n"
	        "      interval: 1s\n      timeout: 1s\n      retries: 1\n");
	sg_supervisor_start_all(f->supervisor);
	pid = sg_service_get_pid(svc(f, "web"));
	g_assert_cmpint(pid, >, 0);
	/* The first attempt is due at once. */
	sg_clock_fake_advance(f->context.clock, 0);
	WAIT_FOR(sg_test_count_lines(f->dir, "checks") >= 1);
	sg_clock_fake_advance(f->context.clock, 1000);
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_BACKOFF);
	g_assert_false(sg_test_alive(pid));
	assert_contains(f->transitions->str, "web:starting>stopping web:stopping>backoff");
	g_assert_cmpint(sg_service_get_health(svc(f, "web")), ==, SG_HEALTH_UNHEALTHY);
	assert_contains(sg_service_get_cause(svc(f, "web")), "health check");
	g_assert_true(sg_service_failed_before_ready(svc(f, "web")));
	/* Out of starting, the check is gone: the restart is the one timer left. */
	g_assert_cmpuint(timers(f), ==, 1);
	attempts = sg_test_count_lines(f->dir, "checks");
	sg_clock_fake_advance(f->context.clock, 9000);
	g_assert_cmpuint(timers(f), ==, 1);
	g_assert_cmpuint(sg_test_count_lines(f->dir, "checks"), ==, attempts);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_BACKOFF);
}

/* A start in backoff that has to wait for a dependency waits: the restart that was due does
 * not start the service behind its dependency's back. */
static void
test_start_in_backoff_waits(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/db-ready\", "
	        "\"notify:READY=1\", \"wait-file:${DIR}/db-crash\", \"exit:3\"]\n"
	        "    health_check: { notify: true }\n"
	        "    restart_policy: on-failure\n    backoff: 30s\n"
	        "  api:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/api-crash\", \"exit:3\"]\n"
	        "    restart_policy: on-failure\n    backoff: 1s\n    depends_on: [db]\n");
	touch(f, "db-ready");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_RUNNING);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	touch(f, "api-crash");
	WAIT_FOR(state_of(f, "api") == SG_SERVICE_BACKOFF);
	touch(f, "db-crash");
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_BACKOFF);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_BACKOFF);

	/* The operator starts db again; it is not ready yet. Then api. */
	remove_file(f, "db-ready");
	remove_file(f, "db-crash");
	remove_file(f, "api-crash");
	g_assert_true(sg_supervisor_start_service(f->supervisor, "db", NULL));
	WAIT_FOR(sg_service_get_pid(svc(f, "db")) > 0);
	g_assert_true(sg_supervisor_start_service(f->supervisor, "api", NULL));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STARTING);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==, "waiting for db");
	g_assert_cmpint(sg_service_get_restart_due(svc(f, "api")), ==, 0);
	sg_clock_fake_advance(f->context.clock, 2000);
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), ==, 0);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STARTING);

	/* db is ready: api starts, once. */
	touch(f, "db-ready");
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_RUNNING);
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), >, 0);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/service/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	int status;

	reaper = sg_test_init_with_reaper(&argc, &argv);
	ADD("start-to-running", test_start_to_running);
	ADD("exit-backoff-starting", test_exit_backoff_starting);
	ADD("stop-from-running", test_stop_from_running);
	ADD("stop-in-backoff", test_stop_in_backoff);
	ADD("stop-in-starting", test_stop_in_starting);
	ADD("stop-while-waiting", test_stop_while_waiting);
	ADD("health-check-failure", test_health_check_failure);
	ADD("start-in-backoff-waits", test_start_in_backoff_waits);
	status = g_test_run();
	sg_reaper_free(reaper);
	return status;
}
