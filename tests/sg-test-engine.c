/* SPDX-License-Identifier: MIT */
/* The engine set up the way the integration tests need it. */
#include "config.h"

#include "sg-test-engine.h"

#include <glib/gstdio.h>
#include <sys/resource.h>

#include "sg-proctree.h"
#include "sg-test.h"

void
sg_test_engine_init(SgEngine *engine, const char *state_dir, SgReaper *reaper)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *log_path = g_build_filename(state_dir, "supervisor.log", NULL);

	engine->state_dir = g_strdup(state_dir);
	engine->log_dir = g_build_filename(state_dir, "logs", NULL);
	g_mkdir(engine->log_dir, 0700);
	engine->state_id = sg_engine_random_id();
	engine->clock = sg_clock_new_fake(1000 * G_USEC_PER_SEC, g_get_real_time());
	engine->reaper = reaper;
	engine->known_pids = g_hash_table_new(NULL, NULL);
	engine->contain = sg_contain_open(NULL, engine->state_id, engine->clock, &error);
	g_assert_no_error(error);
	sg_contain_set_stray_func(engine->contain, (SgContainStrayFunc)sg_engine_has_stray_children,
	                          engine);
	engine->log_watch = sg_log_watch_new(engine->clock, &error);
	g_assert_no_error(error);
	engine->log = sg_log_open(log_path, SG_LOG_TRACE, &error);
	g_assert_no_error(error);
	getrlimit(RLIMIT_NOFILE, &engine->service_nofile);
}

void
sg_test_engine_clear(SgEngine *engine)
{
	/* The reaper is the test binary's, shared by every test. */
	engine->reaper = NULL;
	sg_engine_clear(engine);
}

static void
stopped_cb(SgSupervisor *supervisor, gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
}

void
sg_test_stop_all(SgSupervisor *supervisor, SgClock *clock)
{
	gboolean stopped = FALSE;

	sg_supervisor_stop_all(supervisor, stopped_cb, &stopped);
	for (int i = 0; i < 100 && !stopped; i++) {
		g_main_context_iteration(NULL, FALSE);
		sg_clock_fake_advance(clock, 100);
	}
	SG_TEST_WAIT_FOR(stopped, "every service to stop");
}

SgService *
sg_test_service(SgSupervisor *supervisor, const char *name)
{
	SgService *service = sg_supervisor_lookup(supervisor, name);

	g_assert_nonnull(service);
	return service;
}

gboolean
sg_test_alive(pid_t pid)
{
	/* A zombie waiting for the reaper counts as gone. */
	return pid > 0 && sg_proctree_start_time(pid) != 0;
}
