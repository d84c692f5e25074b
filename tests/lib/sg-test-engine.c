/* SPDX-License-Identifier: MIT */
/* The engine set up the way the integration tests need it. */
#include "config.h"

#include "lib/sg-test-engine.h"

#include <glib/gstdio.h>
#include <sys/resource.h>

#include "config/sg-problem.h"
#include "process/sg-proctree.h"
#include "lib/sg-test.h"

SgReaper *
sg_test_init_with_reaper(int *argc, char ***argv)
{
	g_autoptr(GError) error = NULL;
	SgReaper *reaper;

	g_test_init(argc, argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	/* A failed assertion skips the teardown: the services must not outlive the test. */
	sg_test_install_abort_cleanup_children();
	reaper = sg_reaper_new(&error);
	g_assert_no_error(error);
	return reaper;
}

void
sg_test_context_init(SgContext *context, const char *state_dir, SgReaper *reaper)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *log_path = g_build_filename(state_dir, "supervisor.log", NULL);

	context->state_dir = g_strdup(state_dir);
	context->log_dir = g_build_filename(state_dir, "logs", NULL);
	g_mkdir(context->log_dir, 0700);
	context->state_id = sg_context_random_id();
	context->clock = sg_clock_new_fake(1000 * G_USEC_PER_SEC, g_get_real_time());
	context->reaper = reaper;
	context->known_pids = g_hash_table_new(NULL, NULL);
	context->contain = sg_contain_open(NULL, context->state_id, context->clock, &error);
	g_assert_no_error(error);
	sg_contain_set_stray_func(context->contain,
	                          (SgContainStrayFunc)sg_context_has_stray_children, context);
	context->log_watch = sg_log_watch_new(context->clock, &error);
	g_assert_no_error(error);
	context->log = sg_log_open(log_path, SG_LOG_TRACE, &error);
	g_assert_no_error(error);
	getrlimit(RLIMIT_NOFILE, &context->service_nofile);
}

void
sg_test_context_clear(SgContext *context)
{
	/* The reaper is the test binary's, shared by every test. */
	context->reaper = NULL;
	sg_context_clear(context);
}

void
sg_test_stopped_cb(SgSupervisor *supervisor, gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
}

void
sg_test_stop_all(SgSupervisor *supervisor, SgClock *clock)
{
	gboolean stopped = FALSE;

	sg_supervisor_stop_all(supervisor, sg_test_stopped_cb, &stopped);
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

SgConfig *
sg_test_load_config(const char *dir, const char *yaml)
{
	g_autofree char *path = g_build_filename(dir, "systemg.yaml", NULL);
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) env = g_get_environ();
	SgConfig *config;

	env = g_environ_setenv(env, "HELPER", sg_test_helper_path(), TRUE);
	env = g_environ_setenv(env, "DIR", dir, TRUE);
	g_assert_true(g_file_set_contents(path, yaml, -1, NULL));
	config = sg_config_load(path, "systemg.yaml", env, problems, &error);
	for (guint i = 0; config == NULL && i < problems->len; i++) {
		g_autofree char *line = sg_problem_format(problems->pdata[i]);
		g_test_message("%s", line);
	}
	g_assert_no_error(error);
	return config;
}

static void
transition_cb(SgSupervisor *supervisor, SgService *service, guint old_state, guint new_state,
              gpointer user_data)
{
	g_string_append_printf(user_data, "%s:%s>%s ", sg_service_get_name(service),
	                       sg_service_state_to_string(old_state),
	                       sg_service_state_to_string(new_state));
}

void
sg_test_record_transitions(SgSupervisor *supervisor, GString *transitions)
{
	g_signal_connect(supervisor, "service-state-changed", G_CALLBACK(transition_cb),
	                 transitions);
}

void
sg_test_engine_fixture_set_up(SgTestEngineFixture *f, const char *prefix, SgReaper *reaper)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *template = g_strconcat(prefix, "-XXXXXX", NULL);

	f->dir = g_dir_make_tmp(template, &error);
	g_assert_no_error(error);
	sg_test_context_init(&f->context, f->dir, reaper);
	f->transitions = g_string_new(NULL);
	f->monitor = sg_test_monitor_dir(f->dir);
}

void
sg_test_engine_fixture_tear_down(SgTestEngineFixture *f)
{
	if (f->supervisor != NULL)
		sg_test_stop_all(f->supervisor, f->context.clock);
	g_clear_object(&f->monitor);
	g_clear_object(&f->supervisor);
	g_clear_pointer(&f->config, sg_config_unref);
	sg_test_context_clear(&f->context);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
	g_string_free(f->transitions, TRUE);
}

void
sg_test_engine_fixture_load(SgTestEngineFixture *f, const char *yaml)
{
	f->config = sg_test_load_config(f->dir, yaml);
	f->supervisor = sg_supervisor_new(&f->context, f->config);
	sg_test_record_transitions(f->supervisor, f->transitions);
}
