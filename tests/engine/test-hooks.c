/* SPDX-License-Identifier: MIT */
/* Hooks and health-check commands with real processes: one instance's hooks, their environment. */
#include "config.h"

#include <glib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

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
	sg_test_engine_fixture_set_up(f, "sg-hooks", reaper);
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

static SgServiceState
state_of(Fixture *f, const char *name)
{
	return sg_service_get_state(sg_test_service(f->supervisor, name));
}

/* Every hook appends its name (and exit code, for errors) to DIR/hooks. */
static const char *hooks_yaml =
        "    hooks:\n"
        "      on_start: { success: { command: \"echo on_start.success >> ${DIR}/hooks\" },"
        " error: { command: \"echo on_start.error >> ${DIR}/hooks\" } }\n"
        "      on_stop: { success: { command: \"echo on_stop.success >> ${DIR}/hooks\" },"
        " error: { command: \"echo on_stop.error:$SYSTEMG_EXIT_CODE >> ${DIR}/hooks\" } }\n"
        "      on_restart: { success: { command: \"echo on_restart.success >> ${DIR}/hooks\" },"
        " error: { command: \"echo on_restart.error >> ${DIR}/hooks\" } }\n";

/* Waits for as many hook lines as expected holds, then compares them all. */
static void
expect_lines(Fixture *f, const char *file, const char *expected)
{
	guint n = 0;

	for (const char *p = expected; *p != '\0'; p++)
		n += *p == '\n';
	WAIT_FOR(sg_test_count_lines(f->dir, file) >= n);
	{
		g_autofree char *got = sg_test_read_file(f->dir, file);
		g_assert_cmpstr(got, ==, expected);
	}
}

static void
touch(Fixture *f, const char *name)
{
	g_autofree char *path = g_build_filename(f->dir, name, NULL);

	g_assert_true(g_file_set_contents(path, "", 0, NULL));
}

static void
stop_and_wait(Fixture *f, const char *name)
{
	gboolean stopped = FALSE;

	g_assert_true(sg_supervisor_stop_service(f->supervisor, name, sg_test_stopped_cb, &stopped,
	                                         NULL));
	WAIT_FOR(stopped);
}

/* ---- hooks belong to one instance ---- */

/*
 * A service that failed has had its last hook (on_stop.error). The operator's restart of
 * it (a stop, then a start) runs no on_stop.success for the dead instance: only the new
 * instance's on_start.success.
 */
static void
test_restart_of_failed_service(Fixture *f, gconstpointer data)
{
	g_autofree char *yaml = g_strconcat("version: \"1\"\nservices:\n  web:\n"
	                                    "    command: \"${HELPER} wait-file:${DIR}/crash "
	                                    "exit:3\"\n",
	                                    hooks_yaml, NULL);
	g_autofree char *crash = g_build_filename(f->dir, "crash", NULL);

	load(f, yaml);
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	expect_lines(f, "hooks", "on_start.success\n");
	touch(f, "crash");
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_FAILED);
	expect_lines(f, "hooks", "on_start.success\non_stop.error:3\n");

	/* The next instance waits for a new crash file. */
	g_assert_no_errno(unlink(crash));
	stop_and_wait(f, "web");
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STOPPED);
	g_assert_true(sg_supervisor_start_service(f->supervisor, "web", NULL));
	WAIT_FOR(sg_service_get_pid(sg_test_service(f->supervisor, "web")) > 0);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_RUNNING);
	expect_lines(f, "hooks", "on_start.success\non_stop.error:3\non_start.success\n");
}

/* A crash, then an operator's stop during the backoff: the crash was the instance's end. */
static void
test_stop_during_backoff(Fixture *f, gconstpointer data)
{
	g_autofree char *yaml = g_strconcat("version: \"1\"\nservices:\n  web:\n"
	                                    "    command: \"${HELPER} wait-file:${DIR}/crash "
	                                    "exit:4\"\n"
	                                    "    restart_policy: on-failure\n    backoff: 10s\n",
	                                    hooks_yaml, NULL);

	load(f, yaml);
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	expect_lines(f, "hooks", "on_start.success\n");
	touch(f, "crash");
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_BACKOFF);
	stop_and_wait(f, "web");
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_STOPPED);
	/* The crash file is still there: the next instance fails before it is ready. */
	g_assert_true(sg_supervisor_start_service(f->supervisor, "web", NULL));
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_FAILED ||
	         state_of(f, "web") == SG_SERVICE_BACKOFF);
	expect_lines(f, "hooks", "on_start.success\non_stop.error:4\non_start.error\n");
}

/* ---- what helpers see ---- */

/* One line per hook: its SYSTEMG_SERVICE, and whether the other markers are set. */
#define ENV_LINE                                                                                   \
	"echo \\\"$SYSTEMG_HOOK $SYSTEMG_SERVICE ${SYSTEMG_STATE_ID:-no-state-id} "                \
	"${SYSTEMG_INVOCATION_ID:-no-invocation-id}\\\" >> ${DIR}/"

static void
test_hook_environment(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	        "    hooks:\n"
	        "      on_start: { success: { command: \"" ENV_LINE "hooks\" } }\n"
	        "      on_stop: { success: { command: \"" ENV_LINE "hooks\" } }\n"
	        "  db:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	        "    hooks:\n"
	        "      on_start: { success: { command: \"" ENV_LINE "db-hooks\" } }\n");
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	/* One script can serve several services: each hook knows whose it is. */
	expect_lines(f, "hooks", "on_start.success api no-state-id no-invocation-id\n");
	expect_lines(f, "db-hooks", "on_start.success db no-state-id no-invocation-id\n");
	stop_and_wait(f, "api");
	expect_lines(f, "hooks",
	             "on_start.success api no-state-id no-invocation-id\n"
	             "on_stop.success api no-state-id no-invocation-id\n");
}

/* A health-check command is a helper too: SYSTEMG_SERVICE and SYSTEMG_PID, no state id. */
static void
test_health_command_environment(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	        "    health_check:\n"
	        "      command: \"echo $SYSTEMG_SERVICE ${SYSTEMG_STATE_ID:-no-state-id} "
	        "${SYSTEMG_PID:+pid} >> ${DIR}/health\"\n"
	        "      interval: 1s\n");
	sg_supervisor_start_all(f->supervisor);
	/* The first attempt is due at once, on the fake clock. */
	sg_clock_fake_advance(f->context.clock, 0);
	WAIT_FOR(state_of(f, "api") == SG_SERVICE_RUNNING);
	expect_lines(f, "health", "api no-state-id pid\n");
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/hooks/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	int status;

	reaper = sg_test_init_with_reaper(&argc, &argv);

	ADD("restart-of-failed-service", test_restart_of_failed_service);
	ADD("stop-during-backoff", test_stop_during_backoff);
	ADD("hook-environment", test_hook_environment);
	ADD("health-command-environment", test_health_command_environment);
	status = g_test_run();
	sg_reaper_free(reaper);
	return status;
}
