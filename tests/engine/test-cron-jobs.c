/* SPDX-License-Identifier: MIT */
/* Cron jobs in the engine with real processes: runs, overlaps, hooks, stops, history, clock. */
#include "config.h"

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "config/sg-config.h"
#include "config/sg-cron.h"
#include "base/sg-paths.h"
#include "state/sg-state.h"
#include "api/sg-status.h"
#include "engine/sg-supervisor.h"
#include "lib/sg-test-engine.h"
#include "lib/sg-test.h"

static SgReaper *reaper; /* one per process: it reaps with waitpid(-1) */

typedef struct {
	char *dir;
	SgContext context;
	SgClock *fake; /* the fixture's fake clock, also when a test runs on the real one */
	SgConfig *config;
	SgSupervisor *supervisor;
	GString *finished; /* "name:result:exit_code " per cron-job-finished */
	GString *transitions;
	GFileMonitor *monitor; /* wakes the loop when a hook writes its file */
} Fixture;

static void
finished_cb(SgSupervisor *supervisor, SgService *service, const char *result, int exit_code,
            gint64 started_usec, gint64 finished_usec, gpointer user_data)
{
	Fixture *f = user_data;

	g_assert_cmpint(started_usec, >, 0);
	g_assert_cmpint(finished_usec, >=, started_usec);
	g_string_append_printf(f->finished, "%s:%s:%d ", sg_service_get_name(service), result,
	                       exit_code);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("sg-cron-jobs-XXXXXX", &error);
	g_assert_no_error(error);
	sg_test_context_init(&f->context, f->dir, reaper);
	f->fake = sg_clock_ref(f->context.clock);
	f->finished = g_string_new(NULL);
	f->transitions = g_string_new(NULL);
	f->monitor = sg_test_monitor_dir(f->dir);
}

#define WAIT_FOR(cond) SG_TEST_WAIT_FOR(cond, f->transitions->str)

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	if (f->supervisor != NULL)
		sg_test_stop_all(f->supervisor, f->fake);
	g_clear_object(&f->monitor);
	g_clear_object(&f->supervisor);
	g_clear_pointer(&f->config, sg_config_unref);
	sg_test_context_clear(&f->context);
	sg_clock_unref(f->fake);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
	g_string_free(f->finished, TRUE);
	g_string_free(f->transitions, TRUE);
}

/* The YAML with ${HELPER} and ${DIR} defined; builds the supervisor (its scheduler arms). */
static void
load(Fixture *f, const char *yaml)
{
	f->config = sg_test_load_config(f->dir, yaml);
	f->supervisor = sg_supervisor_new(&f->context, f->config);
	g_signal_connect(f->supervisor, "cron-job-finished", G_CALLBACK(finished_cb), f);
	sg_test_record_transitions(f->supervisor, f->transitions);
}

/* A new supervisor on the same state directory, as after a restart of sysgd. */
static void
restart_supervisor(Fixture *f)
{
	g_autofree char *yaml = NULL;
	g_autofree char *path = g_build_filename(f->dir, "systemg.yaml", NULL);

	g_assert_true(g_file_get_contents(path, &yaml, NULL, NULL));
	sg_test_stop_all(f->supervisor, f->fake);
	g_clear_object(&f->supervisor);
	g_clear_pointer(&f->config, sg_config_unref);
	load(f, yaml);
}

static SgService *
job(Fixture *f, const char *name)
{
	return sg_test_service(f->supervisor, name);
}

static SgServiceState
state_of(Fixture *f, const char *name)
{
	return sg_service_get_state(job(f, name));
}

static guint
history_len(Fixture *f, const char *name)
{
	return sg_cron_job_get_history(sg_service_get_cron_job(job(f, name)))->len;
}

static const SgCronRun *
history_at(Fixture *f, const char *name, guint i)
{
	GArray *history = sg_cron_job_get_history(sg_service_get_cron_job(job(f, name)));

	g_assert_cmpuint(i, <, history->len);
	return &g_array_index(history, SgCronRun, i);
}

/* "success:0 failed:3 overlap:-1 ..." */
static char *
history_text(Fixture *f, const char *name)
{
	GString *text = g_string_new(NULL);

	for (guint i = 0; i < history_len(f, name); i++) {
		const SgCronRun *run = history_at(f, name, i);
		g_string_append_printf(text, "%s%s:%d", i > 0 ? " " : "",
		                       sg_cron_result_to_string(run->result), run->exit_code);
	}
	return g_string_free(text, FALSE);
}

/* Moves the fake clock to the job's next run (whole milliseconds, never short of it). */
static void
advance_to_next_run(Fixture *f, const char *name)
{
	gint64 next = sg_service_get_next_run(job(f, name));
	gint64 now = sg_clock_realtime_usec(f->fake);

	g_assert_cmpint(next, >, now);
	sg_clock_fake_advance(f->fake, (guint64)((next - now + 999) / 1000));
}

static char *
path_in(Fixture *f, const char *name)
{
	return g_build_filename(f->dir, name, NULL);
}

static gint64
parse_instant(const char *text)
{
	g_autoptr(GDateTime) time = g_date_time_new_from_iso8601(text, NULL);

	g_assert_nonnull(time);
	return g_date_time_to_unix(time) * G_USEC_PER_SEC + g_date_time_get_microsecond(time);
}

static const char *hooks_yaml =
        "    hooks:\n"
        "      on_start: { success: { command: \"echo on_start.success >> ${DIR}/hooks\" },"
        " error: { command: \"echo on_start.error >> ${DIR}/hooks\" } }\n"
        "      on_stop: { success: { command: \"echo on_stop.success >> ${DIR}/hooks\" },"
        " error: { command: \"echo on_stop.error:$SYSTEMG_EXIT_CODE >> ${DIR}/hooks\" } }\n";

/* ---- runs on the fake clock ---- */

static void
test_runs_at_due_times(Fixture *f, gconstpointer data)
{
	SgService *tick;
	gint64 first_due;

	load(f, "version: \"1\"\nservices:\n"
	        "  tick:\n    exec: [\"${HELPER}\", \"stamp:${DIR}/runs\"]\n"
	        "    cron: { expression: \"* * * * * *\" }\n");
	tick = job(f, "tick");
	g_assert_cmpint(state_of(f, "tick"), ==, SG_SERVICE_SCHEDULED);
	g_assert_null(sg_service_get_last_result(tick));
	first_due = sg_service_get_next_run(tick);
	/* The next whole second. */
	g_assert_cmpint(first_due % G_USEC_PER_SEC, ==, 0);
	g_assert_cmpint(first_due - sg_clock_realtime_usec(f->fake), <=, G_USEC_PER_SEC);
	g_assert_cmpuint(sg_clock_fake_armed_alarms(f->fake), ==, 1);

	/* Nothing runs a millisecond early. */
	if (first_due - sg_clock_realtime_usec(f->fake) >= 2000)
		sg_clock_fake_advance(
		        f->fake,
		        (guint64)((first_due - sg_clock_realtime_usec(f->fake)) / 1000) - 1);
	g_assert_cmpint(sg_service_get_pid(tick), ==, 0);
	advance_to_next_run(f, "tick");
	g_assert_cmpint(sg_service_get_pid(tick), >, 0);
	g_assert_cmpint(state_of(f, "tick"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(sg_service_get_next_run(tick), ==, first_due + G_USEC_PER_SEC);
	WAIT_FOR(state_of(f, "tick") == SG_SERVICE_SCHEDULED);
	g_assert_cmpstr(f->finished->str, ==, "tick:success:0 ");
	g_assert_cmpstr(sg_service_get_last_result(tick), ==, "success");
	g_assert_cmpint(history_at(f, "tick", 0)->started_usec, ==, first_due);

	advance_to_next_run(f, "tick");
	WAIT_FOR(history_len(f, "tick") == 2);
	g_assert_cmpuint(sg_test_count_lines(f->dir, "runs"), ==, 2);
	g_assert_cmpint(sg_service_get_next_run(tick), ==, first_due + 2 * G_USEC_PER_SEC);

	/* The history keeps the last 10 runs. */
	for (guint i = 0; i < 10; i++) {
		advance_to_next_run(f, "tick");
		WAIT_FOR(state_of(f, "tick") == SG_SERVICE_SCHEDULED);
	}
	g_assert_cmpuint(sg_test_count_lines(f->dir, "runs"), ==, 12);
	g_assert_cmpuint(history_len(f, "tick"), ==, SG_CRON_JOB_HISTORY);
	g_assert_cmpint(history_at(f, "tick", 0)->started_usec, ==, first_due + 2 * G_USEC_PER_SEC);
}

static void
test_environment_and_logs(Fixture *f, gconstpointer data)
{
	g_autofree char *out = NULL;
	g_autofree char *work = g_build_filename(f->dir, "work", NULL);
	g_autofree char *expected = NULL;

	g_assert_cmpint(g_mkdir(work, 0700), ==, 0);
	load(f, "version: \"1\"\nenv: { vars: { SHARED: \"root\" } }\nservices:\n"
	        "  report:\n    exec: [\"${HELPER}\", \"env:SHARED\", \"env:OWN\", "
	        "\"env:SYSTEMG_SERVICE\", \"cwd\", \"stderr:oops\"]\n"
	        "    working_dir: \"work\"\n    env: { vars: { OWN: \"mine\" } }\n"
	        "    cron: { expression: \"0 0 * * * *\", timezone: \"UTC\" }\n");
	advance_to_next_run(f, "report");
	WAIT_FOR(history_len(f, "report") == 1);
	out = sg_test_read_file(f->dir, "logs/report_stdout.log");
	expected = g_strdup_printf("SHARED=root\nOWN=mine\nSYSTEMG_SERVICE=report\n%s\n", work);
	g_assert_cmpstr(out, ==, expected);
	g_free(out);
	out = sg_test_read_file(f->dir, "logs/report_stderr.log");
	g_assert_cmpstr(out, ==, "oops\n");
}

static void
test_hooks_per_run(Fixture *f, gconstpointer data)
{
	g_autofree char *yaml = g_strconcat(
	        "version: \"1\"\nservices:\n  job:\n"
	        "    command: \"test -f ${DIR}/failed || { touch ${DIR}/failed; exit 3; }\"\n"
	        "    cron: { expression: \"*/5 * * * * *\" }\n",
	        hooks_yaml, NULL);
	g_autofree char *hooks = NULL;

	load(f, yaml);
	advance_to_next_run(f, "job");
	WAIT_FOR(history_len(f, "job") == 1);
	WAIT_FOR(sg_test_count_lines(f->dir, "hooks") == 1);
	advance_to_next_run(f, "job");
	WAIT_FOR(history_len(f, "job") == 2);
	WAIT_FOR(sg_test_count_lines(f->dir, "hooks") == 2);
	/* A run has no readiness: no on_start hook, one on_stop hook per run. */
	hooks = sg_test_read_file(f->dir, "hooks");
	g_assert_cmpstr(hooks, ==, "on_stop.error:3\non_stop.success\n");
	{
		g_autofree char *text = history_text(f, "job");
		g_assert_cmpstr(text, ==, "failed:3 success:0");
	}
	g_assert_cmpstr(f->finished->str, ==, "job:failed:3 job:success:0 ");
}

static void
test_overlap(Fixture *f, gconstpointer data)
{
	pid_t pid;
	gboolean stopped = FALSE;
	g_autofree char *text = NULL;

	load(f, "version: \"1\"\nservices:\n"
	        "  slow:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	        "    cron: { expression: \"* * * * * *\" }\n");
	advance_to_next_run(f, "slow");
	pid = sg_service_get_pid(job(f, "slow"));
	g_assert_cmpint(pid, >, 0);
	/* Due twice more while it runs: recorded, not started. */
	advance_to_next_run(f, "slow");
	advance_to_next_run(f, "slow");
	g_assert_cmpint(sg_service_get_pid(job(f, "slow")), ==, pid);
	g_assert_cmpstr(f->finished->str, ==, "slow:overlap:-1 slow:overlap:-1 ");
	g_assert_cmpstr(sg_service_get_last_result(job(f, "slow")), ==, "overlap");

	/* The operator's stop ends the run: killed, and the job stays in its schedule. */
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "slow", sg_test_stopped_cb,
	                                         &stopped, NULL));
	WAIT_FOR(stopped);
	g_assert_false(sg_test_alive(pid));
	text = history_text(f, "slow");
	g_assert_cmpstr(text, ==, "overlap:-1 overlap:-1 killed:-1");
	g_assert_cmpint(state_of(f, "slow"), ==, SG_SERVICE_SCHEDULED);
	g_assert_cmpint(sg_service_get_next_run(job(f, "slow")), >, 0);
	advance_to_next_run(f, "slow");
	g_assert_cmpint(sg_service_get_pid(job(f, "slow")), >, 0);
}

static void
test_stop_kills_run(Fixture *f, gconstpointer data)
{
	g_autofree char *yaml = g_strconcat("version: \"1\"\nservices:\n  job:\n"
	                                    "    exec: [\"${HELPER}\", \"pause\"]\n"
	                                    "    cron: { expression: \"@hourly\" }\n",
	                                    hooks_yaml, NULL);
	gboolean stopped = FALSE;
	g_autofree char *hooks = NULL;

	load(f, yaml);
	/* sysg start --service JOB: one run now, the schedule unchanged. */
	{
		gint64 next = sg_service_get_next_run(job(f, "job"));
		g_assert_true(sg_supervisor_start_service(f->supervisor, "job", NULL));
		g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_RUNNING);
		g_assert_cmpint(sg_service_get_next_run(job(f, "job")), ==, next);
	}
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "job", sg_test_stopped_cb, &stopped,
	                                         NULL));
	WAIT_FOR(stopped);
	g_assert_cmpstr(f->finished->str, ==, "job:killed:-1 ");
	WAIT_FOR(sg_test_count_lines(f->dir, "hooks") == 1);
	hooks = sg_test_read_file(f->dir, "hooks");
	g_assert_cmpstr(hooks, ==, "on_stop.success\n");
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_SCHEDULED);

	/* Stopping an idle job changes nothing. */
	stopped = FALSE;
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "job", sg_test_stopped_cb, &stopped,
	                                         NULL));
	WAIT_FOR(stopped);
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_SCHEDULED);
	g_assert_cmpuint(history_len(f, "job"), ==, 1);
}

static void
test_spawn_failure(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  broken:\n    exec: [\"${DIR}/missing-program\"]\n"
	        "    cron: { expression: \"* * * * * *\" }\n");
	advance_to_next_run(f, "broken");
	WAIT_FOR(history_len(f, "broken") == 1);
	g_assert_cmpstr(sg_service_get_last_result(job(f, "broken")), ==, "failed");
	g_assert_cmpint(state_of(f, "broken"), ==, SG_SERVICE_SCHEDULED);
	/* It is tried again at its next time. */
	advance_to_next_run(f, "broken");
	WAIT_FOR(history_len(f, "broken") == 2);
}

static void
test_skip_per_run(Fixture *f, gconstpointer data)
{
	g_autofree char *flag = path_in(f, "skip");

	load(f, "version: \"1\"\nservices:\n"
	        "  job:\n    exec: [\"${HELPER}\", \"stamp:${DIR}/runs\"]\n"
	        "    skip: \"test -f ${DIR}/skip\"\n"
	        "    cron: { expression: \"* * * * * *\" }\n");
	g_assert_true(g_file_set_contents(flag, "", -1, NULL));
	advance_to_next_run(f, "job");
	WAIT_FOR(state_of(f, "job") == SG_SERVICE_SCHEDULED);
	/* Skipped: no run, no history, still scheduled. */
	g_assert_cmpuint(sg_test_count_lines(f->dir, "runs"), ==, 0);
	g_assert_cmpuint(history_len(f, "job"), ==, 0);
	g_unlink(flag);
	advance_to_next_run(f, "job");
	WAIT_FOR(history_len(f, "job") == 1);
	g_assert_cmpuint(sg_test_count_lines(f->dir, "runs"), ==, 1);
}

static void
test_stop_all_unschedules(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  job:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"@daily\" }\n");
	g_assert_cmpint(sg_service_get_next_run(job(f, "job")), >, 0);
	sg_test_stop_all(f->supervisor, f->fake);
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_STOPPED);
	g_assert_cmpint(sg_service_get_next_run(job(f, "job")), ==, 0);
	g_assert_cmpuint(sg_clock_fake_armed_alarms(f->fake), ==, 0);
	sg_supervisor_start_all(f->supervisor);
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_SCHEDULED);
	g_assert_cmpint(sg_service_get_next_run(job(f, "job")), >, 0);
	g_assert_cmpuint(sg_clock_fake_armed_alarms(f->fake), ==, 1);
	/* start_all does not run it: cron jobs wait for their times. */
	g_assert_cmpint(sg_service_get_pid(job(f, "job")), ==, 0);

	/* An explicit start of a job out of its schedule runs it and puts it back. */
	sg_test_stop_all(f->supervisor, f->fake);
	g_assert_true(sg_supervisor_start_service(f->supervisor, "job", NULL));
	WAIT_FOR(history_len(f, "job") == 1);
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_SCHEDULED);
	g_assert_cmpint(sg_service_get_next_run(job(f, "job")), >, 0);
}

/* A reload: a removed job leaves the schedule and the supervisor, a changed one is planned
 * again from now, an unchanged one keeps its next run. */
static void
test_reload(Fixture *f, gconstpointer data)
{
	g_autofree char *v2 = path_in(f, "v2.yaml");
	g_autofree char *stamps = path_in(f, "gone");
	g_autoptr(GError) error = NULL;
	gint64 kept_next;

	load(f, "version: \"1\"\nservices:\n"
	        "  gone:\n    exec: [\"${HELPER}\", \"stamp:${DIR}/gone\"]\n"
	        "    cron: { expression: \"* * * * * *\" }\n"
	        "  kept:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"0 0 12 * * *\", timezone: \"UTC\" }\n"
	        "  changed:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"@yearly\", timezone: \"UTC\" }\n");
	kept_next = sg_service_get_next_run(job(f, "kept"));
	g_assert_true(g_file_set_contents(
	        v2,
	        "version: \"1\"\nservices:\n"
	        "  kept:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"0 0 12 * * *\", timezone: \"UTC\" }\n"
	        "  changed:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"0 0 * * * *\", timezone: \"UTC\" }\n",
	        -1, NULL));
	g_assert_true(sg_supervisor_reload(f->supervisor, v2, &error));
	g_assert_no_error(error);
	WAIT_FOR(sg_supervisor_lookup(f->supervisor, "gone") == NULL);
	g_assert_cmpint(sg_service_get_next_run(job(f, "kept")), ==, kept_next);
	g_assert_cmpint(sg_service_get_next_run(job(f, "changed")), <=,
	                sg_clock_realtime_usec(f->fake) + (gint64)3600 * G_USEC_PER_SEC);
	sg_clock_fake_advance(f->fake, 3000);
	g_assert_false(g_file_test(stamps, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(sg_clock_fake_armed_alarms(f->fake), ==, 1);
}

/* Jobs in local time follow a new local time zone, told by the watch on its file. */
static void
test_local_zone_changes(Fixture *f, gconstpointer data)
{
	g_autofree char *link = path_in(f, "localtime");
	g_autofree char *temporary = path_in(f, "localtime.new");
	g_autoptr(SgCronSchedule) schedule = sg_cron_parse("0 0 3 * * *", NULL);
	g_autoptr(GTimeZone) tokyo = g_time_zone_new_identifier("Asia/Tokyo");
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	gint64 now = sg_clock_realtime_usec(f->fake);

	g_assert_cmpint(symlink("/usr/share/zoneinfo/UTC", link), ==, 0);
	g_setenv("TZ", link, TRUE);
	load(f, "version: \"1\"\nservices:\n"
	        "  nightly:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"0 0 3 * * *\" }\n");
	g_unsetenv("TZ");
	g_assert_cmpint(sg_service_get_next_run(job(f, "nightly")), ==,
	                sg_cron_next(schedule, utc, now));
	/* As timedatectl set-timezone does: a new link renamed over the old one. */
	g_assert_cmpint(symlink("/usr/share/zoneinfo/Asia/Tokyo", temporary), ==, 0);
	g_assert_cmpint(g_rename(temporary, link), ==, 0);
	WAIT_FOR(sg_service_get_next_run(job(f, "nightly")) == sg_cron_next(schedule, tokyo, now));
	g_assert_cmpuint(sg_clock_fake_armed_alarms(f->fake), ==, 1);
}

/* ---- the wall clock moves ---- */

static void
test_clock_jumps(Fixture *f, gconstpointer data)
{
	SgService *nightly;

	load(f, "version: \"1\"\nservices:\n"
	        "  nightly:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"0 0 3 * * *\", timezone: \"Europe/Paris\" }\n");
	nightly = job(f, "nightly");

	/* The clock is set to a minute before 03:00: the alarm hears of it and moves. */
	sg_clock_fake_set_realtime(f->fake, parse_instant("2026-03-10T02:59:00+01:00"));
	g_assert_cmpint(sg_service_get_next_run(nightly), ==,
	                parse_instant("2026-03-10T03:00:00+01:00"));
	sg_clock_fake_advance(f->fake, 60 * 1000);
	WAIT_FOR(history_len(f, "nightly") == 1);
	g_assert_cmpint(sg_service_get_next_run(nightly), ==,
	                parse_instant("2026-03-11T03:00:00+01:00"));

	/* Set back an hour: 03:00 does not run a second time. */
	sg_clock_fake_set_realtime(f->fake, parse_instant("2026-03-10T02:10:00+01:00"));
	g_assert_cmpint(sg_service_get_next_run(nightly), ==,
	                parse_instant("2026-03-11T03:00:00+01:00"));
	sg_clock_fake_advance(f->fake, 2 * 3600 * 1000);
	g_assert_cmpint(sg_service_get_pid(nightly), ==, 0);
	g_assert_cmpuint(history_len(f, "nightly"), ==, 1);

	/* Asleep for two days (the clock jumps forward on resume): missed runs make one run. */
	sg_clock_fake_set_realtime(f->fake, parse_instant("2026-03-13T09:00:00+01:00"));
	WAIT_FOR(history_len(f, "nightly") == 2);
	g_assert_cmpint(history_at(f, "nightly", 1)->started_usec, ==,
	                parse_instant("2026-03-13T09:00:00+01:00"));
	g_assert_cmpint(sg_service_get_next_run(nightly), ==,
	                parse_instant("2026-03-14T03:00:00+01:00"));

	/* Set back by days (the old time was wrong): the schedule starts over. */
	sg_clock_fake_set_realtime(f->fake, parse_instant("2026-03-01T12:00:00+01:00"));
	g_assert_cmpint(sg_service_get_next_run(nightly), ==,
	                parse_instant("2026-03-02T03:00:00+01:00"));
}

static void
test_daylight_saving(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  fixed:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"0 30 2 * * *\", timezone: \"Europe/Paris\" }\n"
	        "  every:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"0 */30 * * * *\", timezone: \"America/New_York\" }\n");
	/* Paris springs forward at 02:00 on 2026-03-29: 02:30 runs at 03:00, once. */
	sg_clock_fake_set_realtime(f->fake, parse_instant("2026-03-29T01:50:00+01:00"));
	g_assert_cmpint(sg_service_get_next_run(job(f, "fixed")), ==,
	                parse_instant("2026-03-29T03:00:00+02:00"));
	sg_clock_fake_advance(f->fake, 10 * 60 * 1000);
	WAIT_FOR(history_len(f, "fixed") == 1);
	g_assert_cmpint(sg_service_get_next_run(job(f, "fixed")), ==,
	                parse_instant("2026-03-30T02:30:00+02:00"));

	/* New York falls back at 02:00 on 2026-11-01: 01:30 shows twice and runs twice. The
	 * jump forward to that day makes each job's missed runs one run first. */
	sg_clock_fake_set_realtime(f->fake, parse_instant("2026-11-01T01:20:00-04:00"));
	WAIT_FOR(history_len(f, "every") == 2 && state_of(f, "every") == SG_SERVICE_SCHEDULED);
	g_assert_cmpint(sg_service_get_next_run(job(f, "every")), ==,
	                parse_instant("2026-11-01T01:30:00-04:00"));
	for (guint i = 1; i <= 3; i++) {
		advance_to_next_run(f, "every");
		WAIT_FOR(history_len(f, "every") == 2 + i);
	}
	g_assert_cmpint(history_at(f, "every", 3)->started_usec, ==,
	                parse_instant("2026-11-01T01:00:00-05:00"));
	g_assert_cmpint(history_at(f, "every", 4)->started_usec, ==,
	                parse_instant("2026-11-01T01:30:00-05:00"));
}

/* ---- cron_state.json ---- */

static JsonObject *
read_job_state(Fixture *f, JsonNode **ret_root, const char *name)
{
	g_autoptr(GError) error = NULL;
	JsonNode *root =
	        sg_state_read_json(f->dir, SG_STATE_CRON_JSON, SG_STATE_READ_NONE, NULL, &error);
	JsonObject *jobs;

	g_assert_no_error(error);
	g_assert_nonnull(root);
	*ret_root = root;
	jobs = json_object_get_object_member(json_node_get_object(root), "jobs");
	g_assert_nonnull(jobs);
	return json_object_get_object_member(jobs, name);
}

static void
test_state_file_and_restart(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) root = NULL;
	JsonObject *state;
	JsonArray *history;
	JsonObject *run;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;

	load(f, "version: \"1\"\nservices:\n"
	        "  tick:\n    command: \"exit 4\"\n"
	        "    cron: { expression: \"*/2 * * * * *\", timezone: \"UTC\" }\n"
	        "  web:\n    exec: [\"${HELPER}\", \"pause\"]\n");
	advance_to_next_run(f, "tick");
	WAIT_FOR(history_len(f, "tick") == 1);
	advance_to_next_run(f, "tick");
	WAIT_FOR(history_len(f, "tick") == 2);
	sg_supervisor_flush_cron(f->supervisor);

	state = read_job_state(f, &root, "tick");
	g_assert_nonnull(state);
	g_assert_cmpuint(json_object_get_size(state), ==, 4);
	g_assert_cmpstr(json_object_get_string_member(state, "expression"), ==, "*/2 * * * * *");
	g_assert_cmpstr(json_object_get_string_member(state, "timezone"), ==, "UTC");
	g_assert_cmpint(parse_instant(json_object_get_string_member(state, "next_run")), ==,
	                sg_service_get_next_run(job(f, "tick")));
	history = json_object_get_array_member(state, "history");
	g_assert_cmpuint(json_array_get_length(history), ==, 2);
	run = json_array_get_object_element(history, 1);
	g_assert_cmpuint(json_object_get_size(run), ==, 4);
	g_assert_true(g_str_has_suffix(json_object_get_string_member(run, "started_at"), "Z"));
	g_assert_true(g_str_has_suffix(json_object_get_string_member(run, "finished_at"), "Z"));
	g_assert_cmpstr(json_object_get_string_member(run, "result"), ==, "failed");
	g_assert_cmpint(json_object_get_int_member(run, "exit_code"), ==, 4);
	/* Only cron jobs are in it. */
	g_assert_false(json_object_has_member(
	        json_object_get_object_member(json_node_get_object(root), "jobs"), "web"));

	/* The status object shows the same block. */
	{
		g_autoptr(JsonNode) status = sg_status_service(f->supervisor, job(f, "tick"));
		JsonObject *cron =
		        json_object_get_object_member(json_node_get_object(status), "cron");
		g_assert_cmpuint(
		        json_array_get_length(json_object_get_array_member(cron, "history")), ==,
		        2);
		g_assert_cmpstr(json_object_get_string_member(cron, "next_run"), ==,
		                json_object_get_string_member(state, "next_run"));
	}

	/* A new supervisor takes the history back. */
	before = history_text(f, "tick");
	restart_supervisor(f);
	after = history_text(f, "tick");
	g_assert_cmpstr(after, ==, before);
	g_assert_cmpint(history_at(f, "tick", 0)->started_usec % G_USEC_PER_SEC, ==, 0);
	g_assert_cmpstr(sg_service_get_last_result(job(f, "tick")), ==, "failed");
	advance_to_next_run(f, "tick");
	WAIT_FOR(history_len(f, "tick") == 3);
}

static void
test_corrupt_state_file(Fixture *f, gconstpointer data)
{
	g_autofree char *path = path_in(f, SG_STATE_CRON_JSON);
	g_autoptr(GDir) dir = NULL;
	const char *entry;
	gboolean quarantined = FALSE;

	g_assert_true(g_file_set_contents(path, "{\"jobs\": [", -1, NULL));
	load(f, "version: \"1\"\nservices:\n"
	        "  tick:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"* * * * * *\" }\n");
	g_assert_cmpuint(history_len(f, "tick"), ==, 0);
	dir = g_dir_open(f->dir, 0, NULL);
	while ((entry = g_dir_read_name(dir)) != NULL)
		quarantined = quarantined || g_str_has_prefix(entry, "cron_state.json.corrupt-");
	g_assert_true(quarantined);
	/* A well-formed file with odd entries: what parses is kept. */
	g_clear_object(&f->supervisor);
	g_clear_pointer(&f->config, sg_config_unref);
	g_assert_true(g_file_set_contents(
	        path,
	        "{\"jobs\": {\"tick\": {\"history\": [7, {\"result\": \"success\"}, "
	        "{\"started_at\": \"2026-01-01T00:00:00Z\", \"finished_at\": "
	        "\"2026-01-01T00:00:01.5Z\", \"result\": \"success\", \"exit_code\": 0}, "
	        "{\"started_at\": \"2026-01-01T00:00:00Z\", \"finished_at\": "
	        "\"2026-01-01T00:00:00Z\", \"result\": \"bogus\", \"exit_code\": 0}]}, "
	        "\"gone\": {\"history\": []}}}",
	        -1, NULL));
	load(f, "version: \"1\"\nservices:\n"
	        "  tick:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"
	        "    cron: { expression: \"* * * * * *\" }\n");
	g_assert_cmpuint(history_len(f, "tick"), ==, 1);
	g_assert_cmpint(history_at(f, "tick", 0)->finished_usec, ==,
	                parse_instant("2026-01-01T00:00:01.5Z"));
}

/* ---- the real clock ---- */

/* Iterates the loop until cond holds or ms have passed; the alarm's timerfd wakes it. */
#define WAIT_AT_MOST(ms, cond)                                                                     \
	G_STMT_START                                                                               \
	{                                                                                          \
		gboolean over_ = FALSE;                                                            \
		guint id_ = g_timeout_add(ms, sg_test_deadline_cb, &over_);                        \
		while (!(cond) && !over_)                                                          \
			g_main_context_iteration(NULL, TRUE);                                      \
		if (!over_)                                                                        \
			g_source_remove(id_);                                                      \
	}                                                                                          \
	G_STMT_END

static void
use_real_clock(Fixture *f)
{
	sg_clock_unref(f->context.clock);
	f->context.clock = sg_clock_new_real();
}

static void
test_real_clock_every_second(Fixture *f, gconstpointer data)
{
	gint64 start = g_get_monotonic_time();
	gint64 first;

	use_real_clock(f);
	load(f, "version: \"1\"\nservices:\n"
	        "  tick:\n    exec: [\"${HELPER}\", \"stamp:${DIR}/runs\"]\n"
	        "    cron: { expression: \"* * * * * *\" }\n");
	WAIT_AT_MOST(3000, history_len(f, "tick") >= 2);
	g_test_message("%u runs after %" G_GINT64_FORMAT " ms", history_len(f, "tick"),
	               (g_get_monotonic_time() - start) / 1000);
	g_assert_cmpuint(history_len(f, "tick"), >=, 2);
	g_assert_cmpuint(sg_test_count_lines(f->dir, "runs"), >=, 2);
	/* Just after whole seconds, one second apart (a loaded machine may be late). */
	first = history_at(f, "tick", 0)->started_usec;
	g_assert_cmpint(history_at(f, "tick", 1)->started_usec - first, >=, 500000);
	g_assert_cmpint(history_at(f, "tick", 1)->started_usec - first, <=, 1500000);
	g_assert_cmpint(first % G_USEC_PER_SEC, <, 500000);
	g_assert_cmpstr(sg_service_get_last_result(job(f, "tick")), ==, "success");
}

static void
test_real_clock_overlaps(Fixture *f, gconstpointer data)
{
	const SgCronRun *run = NULL;
	guint overlaps = 0;

	use_real_clock(f);
	load(f, "version: \"1\"\nservices:\n"
	        "  slow:\n    exec: [\"${HELPER}\", \"sleep:2500\"]\n"
	        "    cron: { expression: \"* * * * * *\" }\n");
	WAIT_AT_MOST(6000, strstr(f->finished->str, "slow:success:0") != NULL);
	g_test_message("%s", f->finished->str);
	for (guint i = 0; i < history_len(f, "slow"); i++) {
		const SgCronRun *r = history_at(f, "slow", i);
		if (r->result == SG_CRON_RESULT_OVERLAP)
			overlaps++;
		else if (run == NULL)
			run = r;
	}
	g_assert_nonnull(run);
	g_assert_cmpint(run->result, ==, SG_CRON_RESULT_SUCCESS);
	/* It ran its whole 2.5 s (wall-clock stamps: a slewed clock may shave a little). */
	g_assert_cmpint(run->finished_usec - run->started_usec, >=, 2400000);
	/* Due at least twice during its 2.5 s. */
	g_assert_cmpuint(overlaps, >=, 2);
	g_assert_true(g_str_has_prefix(f->finished->str, "slow:overlap:-1 slow:overlap:-1 "));
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/cron-jobs/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	int status;

	reaper = sg_test_init_with_reaper(&argc, &argv);

	ADD("runs-at-due-times", test_runs_at_due_times);
	ADD("environment-and-logs", test_environment_and_logs);
	ADD("hooks-per-run", test_hooks_per_run);
	ADD("overlap", test_overlap);
	ADD("stop-kills-run", test_stop_kills_run);
	ADD("spawn-failure", test_spawn_failure);
	ADD("skip-per-run", test_skip_per_run);
	ADD("stop-all-unschedules", test_stop_all_unschedules);
	ADD("reload", test_reload);
	ADD("local-zone-changes", test_local_zone_changes);
	ADD("clock-jumps", test_clock_jumps);
	ADD("daylight-saving", test_daylight_saving);
	ADD("state-file-and-restart", test_state_file_and_restart);
	ADD("corrupt-state-file", test_corrupt_state_file);
	ADD("real-clock-every-second", test_real_clock_every_second);
	ADD("real-clock-overlaps", test_real_clock_overlaps);
	status = g_test_run();
	sg_reaper_free(reaper);
	return status;
}
