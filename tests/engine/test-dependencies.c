/* SPDX-License-Identifier: MIT */
/* Dependents of a dependency that is not ready yet, or keeps failing: states and causes. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "config/sg-config.h"
#include "engine/sg-supervisor.h"
#include "lib/sg-test-engine.h"
#include "lib/sg-test.h"

static SgReaper *reaper; /* one per process: it reaps with waitpid(-1) */

typedef SgTestEngineFixture Fixture;

#define WAIT_FOR(cond) SG_TEST_WAIT_FOR(cond, f->transitions->str)

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	sg_test_engine_fixture_set_up(f, "sg-dependencies", reaper);
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

	g_assert_true(g_file_set_contents(path, "", 0, NULL));
}

/* A dependent waiting for its dependency's first readiness is starting, and says why. */
static void
test_waiting_for_first_readiness(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	        "    health_check: { notify: true }\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n");
	sg_supervisor_start_all(f->supervisor);
	g_assert_cmpint(sg_service_get_pid(svc(f, "db")), >, 0);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STARTING);
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), ==, 0);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==, "waiting for db");
	/* However long it takes: still waiting, not blocked. */
	sg_clock_fake_advance(f->context.clock, 20000);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STARTING);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==, "waiting for db");
}

/*
 * A dependency that keeps failing before it is ready: its restarts are coming, but its
 * dependent is blocked, with a cause naming the dependency and its state, and starts by
 * itself once the dependency is ready.
 */
static void
test_crash_looping_dependency_blocks(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    command: \"test -f ${DIR}/ok && exec ${HELPER} pause; exit 3\"\n"
	        "    restart_policy: on-failure\n    backoff: 300ms\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_BACKOFF);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_BLOCKED);
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), ==, 0);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==,
	                "waiting for db: backoff, next try in 300 ms");
	/* sysg start has its answer: db failed before it was ready, api is blocked. */
	g_assert_true(sg_supervisor_is_settled(f->supervisor, NULL));

	/* The restart: still not ready, so api stays blocked and says so. */
	sg_clock_fake_advance(f->context.clock, 300);
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_STARTING);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_BLOCKED);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==,
	                "waiting for db: starting (restart 1)");
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_BACKOFF);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_BLOCKED);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==,
	                "waiting for db: backoff, next try in 300 ms");
	g_assert_null(strstr(f->transitions->str, "api:blocked>starting"));

	/* db recovers: api starts by itself. */
	touch(f, "ok");
	sg_clock_fake_advance(f->context.clock, 300);
	WAIT_FOR(sg_service_get_pid(svc(f, "db")) > 0);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), >, 0);
	g_assert_null(sg_service_get_cause(svc(f, "api")));
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
}

/* A dependency that was ready, then crashed: a dependent not yet started is blocked. */
static void
test_dependent_added_while_dependency_restarts(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/crash\", \"exit:3\"]\n"
	        "    restart_policy: on-failure\n    backoff: 20s\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n");
	g_assert_true(sg_supervisor_start_service(f->supervisor, "db", NULL));
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_RUNNING);
	touch(f, "crash");
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_BACKOFF);
	sg_clock_fake_advance(f->context.clock, 5000);
	g_assert_true(sg_supervisor_start_service(f->supervisor, "api", NULL));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_BLOCKED);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==,
	                "waiting for db: backoff, next try in 15 s");
}

/* A dependent already preparing its instance (pre_start) is left alone by such a crash. */
static void
test_crash_leaves_preparing_dependent(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/crash\", \"exit:3\"]\n"
	        "    restart_policy: on-failure\n    backoff: 20s\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n"
	        "    deployment: { pre_start: \"${HELPER} wait-file:${DIR}/built\" }\n");
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STARTING);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==, "running pre_start");
	touch(f, "crash");
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_BACKOFF);
	/* Even asked to start again: it is on its way already. */
	g_assert_true(sg_supervisor_start_service(f->supervisor, "api", NULL));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STARTING);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==, "running pre_start");
	touch(f, "built");
	WAIT_FOR(sg_service_get_pid(svc(f, "api")) > 0);
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/dependencies/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	int status;

	reaper = sg_test_init_with_reaper(&argc, &argv);

	ADD("waiting-for-first-readiness", test_waiting_for_first_readiness);
	ADD("crash-looping-dependency-blocks", test_crash_looping_dependency_blocks);
	ADD("dependent-added-while-dependency-restarts",
	    test_dependent_added_while_dependency_restarts);
	ADD("crash-leaves-preparing-dependent", test_crash_leaves_preparing_dependent);
	status = g_test_run();
	sg_reaper_free(reaper);
	return status;
}
