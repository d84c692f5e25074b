/* SPDX-License-Identifier: MIT */
/* Re-adoption after a supervisor goes away, and reload: real processes, a fake clock. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "state/sg-boot.h"
#include "config/sg-config.h"
#include "base/sg-error.h"
#include "base/sg-paths.h"
#include "engine/sg-persist.h"
#include "config/sg-problem.h"
#include "engine/sg-reload.h"
#include "state/sg-state.h"
#include "engine/sg-supervisor.h"
#include "lib/sg-test-engine.h"
#include "lib/sg-test.h"

static SgReaper *reaper; /* one per process: it reaps with waitpid(-1) */

typedef struct {
	char *dir;
	SgContext context;
	SgConfig *config;
	SgSupervisor *supervisor;
	SgPersist *persist;
	GString *events; /* "added:NAME removed:NAME reloaded " */
	GArray *tracked; /* pid_t killed at the end, whatever happened */
} Fixture;

#define WAIT_FOR(cond) SG_TEST_WAIT_FOR(cond, f->events->str)

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("sg-adopt-XXXXXX", &error);
	g_assert_no_error(error);
	sg_test_context_init(&f->context, f->dir, reaper);
	f->events = g_string_new(NULL);
	f->tracked = g_array_new(FALSE, FALSE, sizeof(pid_t));
}

static void
drop_supervisor(Fixture *f)
{
	g_clear_pointer(&f->persist, sg_persist_free);
	g_clear_object(&f->supervisor);
	g_clear_pointer(&f->config, sg_config_unref);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	if (f->supervisor != NULL)
		sg_test_stop_all(f->supervisor, f->context.clock);
	drop_supervisor(f);
	for (guint i = 0; i < f->tracked->len; i++)
		kill(g_array_index(f->tracked, pid_t, i), SIGKILL);
	sg_test_context_clear(&f->context);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
	g_string_free(f->events, TRUE);
	g_array_unref(f->tracked);
}

static void
added_cb(SgSupervisor *supervisor, SgService *service, gpointer user_data)
{
	Fixture *f = user_data;

	g_string_append_printf(f->events, "added:%s ", sg_service_get_name(service));
}

static void
removed_cb(SgSupervisor *supervisor, const char *name, gpointer user_data)
{
	Fixture *f = user_data;

	g_string_append_printf(f->events, "removed:%s ", name);
}

static void
reloaded_cb(SgSupervisor *supervisor, const char *path, gpointer user_data)
{
	Fixture *f = user_data;

	g_string_append(f->events, "reloaded ");
}

static char *
write_config(Fixture *f, const char *yaml)
{
	char *path = g_build_filename(f->dir, "systemg.yaml", NULL);

	g_assert_true(g_file_set_contents(path, yaml, -1, NULL));
	return path;
}

/* A new supervisor on the yaml, the state directory and the engine of the test. */
static void
load(Fixture *f, const char *yaml)
{
	f->config = sg_test_load_config(f->dir, yaml);
	f->supervisor = sg_supervisor_new(&f->context, f->config);
	f->persist = sg_persist_new(f->supervisor);
	g_signal_connect(f->supervisor, "service-added", G_CALLBACK(added_cb), f);
	g_signal_connect(f->supervisor, "service-removed", G_CALLBACK(removed_cb), f);
	g_signal_connect(f->supervisor, "reloaded", G_CALLBACK(reloaded_cb), f);
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

static pid_t
pid_of(Fixture *f, const char *name)
{
	pid_t pid = sg_service_get_pid(svc(f, name));

	if (pid > 0)
		g_array_append_val(f->tracked, pid);
	return pid;
}

/* Starts every service and lets the ones without a check become ready. */
static void
start_running(Fixture *f)
{
	sg_supervisor_start_all(f->supervisor);
	for (int i = 0; i < 10 && !sg_supervisor_is_settled(f->supervisor, NULL); i++) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		sg_clock_fake_advance(f->context.clock, 100);
	}
	WAIT_FOR(sg_supervisor_is_settled(f->supervisor, NULL));
}

/* The supervisor goes away as under SIGKILL: the state files stay as last written, the
 * processes keep running. */
static void
crash(Fixture *f)
{
	drop_supervisor(f);
}

/* A new supervisor on the same state directory: adoption first, then the start. */
static void
restart_supervisor(Fixture *f, const char *yaml)
{
	load(f, yaml);
	sg_supervisor_adopt(f->supervisor);
	sg_supervisor_start_all(f->supervisor);
}

static void
kill_and_wait(pid_t pid)
{
	kill(pid, SIGKILL);
	/* The reaper of the test binary collects it; a zombie counts as gone. */
	while (sg_test_alive(pid))
		g_main_context_iteration(NULL, TRUE);
}

static void
edit_state(Fixture *f, const char *file, const char *service, const char *member)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root =
	        sg_state_read_json(f->dir, file, SG_STATE_READ_NONE, NULL, &error);
	JsonObject *services;

	g_assert_no_error(error);
	services = json_object_get_object_member(json_node_get_object(root), "services");
	if (member == NULL)
		json_object_remove_member(services, service);
	else
		json_object_set_null_member(json_object_get_object_member(services, service),
		                            member);
	g_assert_true(sg_state_write_json(f->dir, file, root, &error));
}

#define TWO_SERVICES                                                                               \
	"version: \"1\"\nservices:\n"                                                              \
	"  db:\n    exec: [\"${HELPER}\", \"pause\"]\n"                                            \
	"  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n"

/* ---- adoption ---- */

static void
test_same_process(Fixture *f, gconstpointer data)
{
	pid_t db, api;

	load(f, TWO_SERVICES);
	start_running(f);
	db = pid_of(f, "db");
	api = pid_of(f, "api");
	crash(f);

	restart_supervisor(f, TWO_SERVICES);
	g_assert_cmpint(pid_of(f, "db"), ==, db);
	g_assert_cmpint(pid_of(f, "api"), ==, api);
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	g_assert_false(sg_service_is_orphaned(svc(f, "api")));
	g_assert_true(sg_supervisor_is_settled(f->supervisor, NULL));

	/* A stop of an adopted service reaches its process. */
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "api", NULL, NULL, NULL));
	WAIT_FOR(state_of(f, "api") == SG_SERVICE_STOPPED);
	g_assert_false(sg_test_alive(api));
	g_assert_true(sg_test_alive(db));
}

/* A main process that rewrote its environment (a process title) is adopted by its recorded
 * start time, and a stop still reaches it. */
static void
test_rewritten_process(Fixture *f, gconstpointer data)
{
	const char *yaml = "version: \"1\"\nservices:\n"
	                   "  web:\n    exec: [\"${HELPER}\", \"rewrite-env\", \"pause\"]\n";
	pid_t web;

	load(f, yaml);
	start_running(f);
	web = pid_of(f, "web");
	crash(f);

	restart_supervisor(f, yaml);
	g_assert_cmpint(pid_of(f, "web"), ==, web);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_RUNNING);
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "web", NULL, NULL, NULL));
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_STOPPED);
	g_assert_false(sg_test_alive(web));
}

/* The cascade works on adopted services: the dependency fails, its dependents stop. */
static void
test_adopted_exit_cascades(Fixture *f, gconstpointer data)
{
	pid_t db, api;

	load(f, TWO_SERVICES);
	start_running(f);
	db = pid_of(f, "db");
	api = pid_of(f, "api");
	crash(f);

	restart_supervisor(f, TWO_SERVICES);
	kill(db, SIGKILL);
	WAIT_FOR(state_of(f, "api") == SG_SERVICE_BLOCKED);
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_FAILED);
	g_assert_false(sg_test_alive(api));
}

static void
test_gone_is_a_crash(Fixture *f, gconstpointer data)
{
	static const char *const yaml = "version: \"1\"\nservices:\n"
	                                "  keeper:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	                                "  worker:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	                                "    restart_policy: on-failure\n    backoff: 1s\n";
	pid_t worker;

	load(f, yaml);
	start_running(f);
	worker = pid_of(f, "worker");
	crash(f);
	kill_and_wait(worker);

	restart_supervisor(f, yaml);
	g_assert_cmpint(state_of(f, "worker"), ==, SG_SERVICE_BACKOFF);
	g_assert_nonnull(strstr(sg_service_get_cause(svc(f, "worker")), "exit status unknown"));
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "worker")), ==, 1);
	g_assert_cmpint(state_of(f, "keeper"), ==, SG_SERVICE_RUNNING);
	sg_clock_fake_advance(f->context.clock, 1000);
	WAIT_FOR(pid_of(f, "worker") > 0);
	g_assert_cmpint(pid_of(f, "worker"), !=, worker);
}

/* Sets a top-level member of state.json, as another boot (or an older writer) would. */
static void
edit_state_root(Fixture *f, const char *member, const char *value)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root =
	        sg_state_read_json(f->dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, &error);

	g_assert_no_error(error);
	if (value == NULL)
		json_object_remove_member(json_node_get_object(root), member);
	else
		json_object_set_string_member(json_node_get_object(root), member, value);
	g_assert_true(sg_state_write_json(f->dir, SG_STATE_STATE_JSON, root, &error));
}

#define NEVER_AND_JOB                                                                              \
	"version: \"1\"\nservices:\n"                                                              \
	"  once:\n    exec: [\"${HELPER}\", \"pause\"]\n"                                          \
	"  job:\n    exec: [\"${HELPER}\", \"exit:0\"]\n"

/*
 * Within one boot, a process that died while no supervisor watched is a crash, even when
 * nothing of the earlier run is left: a restart_policy: never service stays failed, a
 * completed job stays completed.
 */
static void
test_gone_in_same_boot_is_a_crash(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) node = NULL;
	pid_t once;

	if (sg_boot_id() == NULL) {
		g_test_skip("the kernel's boot id cannot be read");
		return;
	}
	load(f, NEVER_AND_JOB);
	start_running(f);
	once = pid_of(f, "once");
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_EXITED);
	sg_persist_flush(f->persist);
	node = sg_state_read_json(f->dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, NULL);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "boot_id"), ==,
	                sg_boot_id());
	crash(f);
	kill_and_wait(once);

	restart_supervisor(f, NEVER_AND_JOB);
	g_assert_cmpint(state_of(f, "once"), ==, SG_SERVICE_FAILED);
	g_assert_nonnull(strstr(sg_service_get_cause(svc(f, "once")), "exit status unknown"));
	g_assert_cmpint(pid_of(f, "once"), ==, 0);
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_EXITED);
}

/* State from another boot: nothing of it is a crash, everything starts afresh. */
static void
test_other_boot_starts_afresh(Fixture *f, gconstpointer data)
{
	gint64 job_started;
	pid_t once;

	if (sg_boot_id() == NULL) {
		g_test_skip("the kernel's boot id cannot be read");
		return;
	}
	load(f, NEVER_AND_JOB);
	start_running(f);
	once = pid_of(f, "once");
	job_started = sg_service_get_started_at(svc(f, "job"));
	crash(f);
	kill_and_wait(once);
	edit_state_root(f, "boot_id", "00000000-0000-0000-0000-000000000000");

	restart_supervisor(f, NEVER_AND_JOB);
	g_assert_cmpint(state_of(f, "once"), ==, SG_SERVICE_STARTING);
	g_assert_cmpint(pid_of(f, "once"), >, 0);
	g_assert_cmpint(pid_of(f, "once"), !=, once);
	/* The job runs again. */
	WAIT_FOR(state_of(f, "job") == SG_SERVICE_EXITED);
	g_assert_cmpint(sg_service_get_started_at(svc(f, "job")), >, job_started);
}

/* A supervisor that stopped every service and exited ended its run: the next starts afresh. */
static void
test_ended_run_starts_afresh(Fixture *f, gconstpointer data)
{
	gboolean stopped = FALSE;

	load(f, NEVER_AND_JOB);
	start_running(f);
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "once", sg_test_stopped_cb,
	                                         &stopped, NULL));
	WAIT_FOR(stopped);
	sg_test_stop_all(f->supervisor, f->context.clock);
	sg_persist_end_run(f->persist);
	crash(f);

	restart_supervisor(f, NEVER_AND_JOB);
	/* Not held as stopped by the operator: the operator stopped everything. */
	g_assert_cmpint(pid_of(f, "once"), >, 0);
	g_assert_cmpint(state_of(f, "once"), ==, SG_SERVICE_STARTING);
}

/* A state.json of a writer that recorded no boot id: a run none of whose processes lives is
 * over. */
static void
test_unknown_boot_starts_afresh_when_nothing_lives(Fixture *f, gconstpointer data)
{
	pid_t once;

	load(f, NEVER_AND_JOB);
	start_running(f);
	once = pid_of(f, "once");
	crash(f);
	kill_and_wait(once);
	edit_state_root(f, "boot_id", NULL);

	restart_supervisor(f, NEVER_AND_JOB);
	g_assert_cmpint(pid_of(f, "once"), >, 0);
}

/* Spawned just before the kill: not in pid.json, found by its markers, not started twice. */
static void
test_found_by_markers(Fixture *f, gconstpointer data)
{
	pid_t db, api;

	load(f, TWO_SERVICES);
	start_running(f);
	db = pid_of(f, "db");
	api = pid_of(f, "api");
	crash(f);
	edit_state(f, SG_STATE_PID_JSON, "api", NULL);
	edit_state(f, SG_STATE_STATE_JSON, "api", "pid");

	restart_supervisor(f, TWO_SERVICES);
	g_assert_cmpint(pid_of(f, "db"), ==, db);
	g_assert_cmpint(pid_of(f, "api"), ==, api);
	/* Its readiness was never seen: checked again (100 ms alive, here). */
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STARTING);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(pid_of(f, "api"), ==, api);
}

/*
 * Two instances of one service carry its markers (a duplicate left by a bug or by a kill
 * in a rolling restart): the recorded one is adopted, the other is stopped. With no
 * record, the newest session leader wins.
 */
static void
test_other_instances_stopped(Fixture *f, gconstpointer data)
{
	pid_t first, second;

	load(f, TWO_SERVICES);
	start_running(f);
	first = pid_of(f, "db");
	crash(f);
	/* A second supervisor that did not adopt: the duplicate of the bug. */
	load(f, TWO_SERVICES);
	start_running(f);
	second = pid_of(f, "db");
	g_assert_cmpint(second, !=, first);
	crash(f);

	restart_supervisor(f, TWO_SERVICES);
	g_assert_cmpint(pid_of(f, "db"), ==, second);
	WAIT_FOR(!sg_test_alive(first));
	g_assert_true(sg_test_alive(second));

	/* Once more, with no record of db at all: the newest is kept. */
	crash(f);
	load(f, TWO_SERVICES);
	g_assert_true(sg_supervisor_start_service(f->supervisor, "db", NULL));
	first = pid_of(f, "db");
	g_assert_cmpint(first, !=, second);
	crash(f);
	edit_state(f, SG_STATE_PID_JSON, "db", NULL);
	edit_state(f, SG_STATE_STATE_JSON, "db", NULL);
	restart_supervisor(f, TWO_SERVICES);
	g_assert_cmpint(pid_of(f, "db"), ==, first);
	WAIT_FOR(!sg_test_alive(second));
}

static void
test_orphan(Fixture *f, gconstpointer data)
{
	pid_t old;

	load(f, TWO_SERVICES);
	start_running(f);
	old = pid_of(f, "api");
	crash(f);

	restart_supervisor(f, "version: \"1\"\nservices:\n"
	                      "  db:\n    exec: [\"${HELPER}\", \"pause\"]\n");
	g_assert_true(sg_service_is_orphaned(svc(f, "api")));
	g_assert_cmpint(pid_of(f, "api"), ==, old);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_ORPHANED);
	g_assert_nonnull(strstr(sg_service_get_config(svc(f, "api"))->command, "pause"));
	/* Never restarted, never started: it goes when its process goes. */
	g_assert_false(sg_supervisor_start_service(f->supervisor, "api", NULL));
	kill(old, SIGKILL);
	WAIT_FOR(sg_supervisor_lookup(f->supervisor, "api") == NULL);
	g_assert_nonnull(strstr(f->events->str, "removed:api"));
}

/* A reload that brings the name back with the same definition keeps the process. */
static void
test_orphan_taken_back(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	pid_t old;

	load(f, TWO_SERVICES);
	start_running(f);
	old = pid_of(f, "api");
	crash(f);

	restart_supervisor(f, "version: \"1\"\nservices:\n"
	                      "  db:\n    exec: [\"${HELPER}\", \"pause\"]\n");
	g_assert_true(sg_service_is_orphaned(svc(f, "api")));
	path = write_config(f, TWO_SERVICES);
	g_assert_true(sg_supervisor_reload(f->supervisor, path, &error));
	g_assert_no_error(error);
	g_assert_false(sg_service_is_orphaned(svc(f, "api")));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(pid_of(f, "api"), ==, old);
	g_assert_null(strstr(f->events->str, "added:api"));
}

static void
test_orphan_stopped(Fixture *f, gconstpointer data)
{
	gboolean stopped = FALSE;
	pid_t old;

	load(f, TWO_SERVICES);
	start_running(f);
	old = pid_of(f, "api");
	crash(f);

	restart_supervisor(f, "version: \"1\"\nservices:\n"
	                      "  db:\n    exec: [\"${HELPER}\", \"pause\"]\n");
	sg_test_stop_all(f->supervisor, f->context.clock);
	stopped = !sg_test_alive(old);
	g_assert_true(stopped);
}

/* What had ended stays as it was: a one-shot job is not run again, a stop is kept. */
static void
test_final_states_kept(Fixture *f, gconstpointer data)
{
	static const char *const yaml = "version: \"1\"\nservices:\n"
	                                "  keeper:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	                                "  held:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	                                "  job:\n    exec: [\"${HELPER}\", \"exit:0\"]\n";
	gboolean stopped = FALSE;
	pid_t keeper;

	load(f, yaml);
	start_running(f);
	WAIT_FOR(state_of(f, "job") == SG_SERVICE_EXITED);
	keeper = pid_of(f, "keeper");
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "held", sg_test_stopped_cb,
	                                         &stopped, NULL));
	WAIT_FOR(stopped);
	crash(f);

	restart_supervisor(f, yaml);
	g_assert_cmpint(pid_of(f, "keeper"), ==, keeper);
	g_assert_cmpint(state_of(f, "job"), ==, SG_SERVICE_EXITED);
	g_assert_cmpint(sg_service_get_exit_code(svc(f, "job")), ==, 0);
	g_assert_cmpint(state_of(f, "held"), ==, SG_SERVICE_STOPPED);
	g_assert_cmpint(pid_of(f, "held"), ==, 0);
	/* An explicit start still starts it. */
	g_assert_true(sg_supervisor_start_service(f->supervisor, "held", NULL));
	g_assert_cmpint(pid_of(f, "held"), >, 0);
}

/* Killed during a backoff: the restart still comes after a backoff, counted as it was. */
static void
test_backoff_resumed(Fixture *f, gconstpointer data)
{
	static const char *const yaml = "version: \"1\"\nservices:\n"
	                                "  keeper:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	                                "  flaky:\n    exec: [\"${HELPER}\", \"exit:2\"]\n"
	                                "    restart_policy: on-failure\n    backoff: 2s\n";

	load(f, yaml);
	start_running(f);
	WAIT_FOR(state_of(f, "flaky") == SG_SERVICE_BACKOFF);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "flaky")), ==, 1);
	crash(f);

	restart_supervisor(f, yaml);
	g_assert_cmpint(state_of(f, "flaky"), ==, SG_SERVICE_BACKOFF);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "flaky")), ==, 1);
	g_assert_cmpint(sg_service_get_exit_code(svc(f, "flaky")), ==, 2);
	sg_clock_fake_advance(f->context.clock, 1999);
	g_assert_cmpint(pid_of(f, "flaky"), ==, 0);
	sg_clock_fake_advance(f->context.clock, 1);
	g_assert_cmpint(pid_of(f, "flaky"), >, 0);
}

/* A process runs an earlier definition: restarted; the unchanged one keeps its PID. */
static void
test_changed_while_down(Fixture *f, gconstpointer data)
{
	pid_t db, api;

	load(f, TWO_SERVICES);
	start_running(f);
	db = pid_of(f, "db");
	api = pid_of(f, "api");
	crash(f);

	restart_supervisor(f, "version: \"1\"\nservices:\n"
	                      "  db:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	                      "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n"
	                      "    env: { vars: { NEW: \"1\" } }\n");
	WAIT_FOR(pid_of(f, "api") > 0 && pid_of(f, "api") != api);
	g_assert_false(sg_test_alive(api));
	g_assert_cmpint(pid_of(f, "db"), ==, db);
}

/* ---- reload ---- */

#define RELOAD_BEFORE                                                                              \
	"version: \"1\"\nservices:\n"                                                              \
	"  keep:\n    exec: [\"${HELPER}\", \"pause\"]\n"                                          \
	"  change:\n    exec: [\"${HELPER}\", \"pause\"]\n    env: { vars: { V: \"1\" } }\n"       \
	"  drop:\n    exec: [\"${HELPER}\", \"pause\"]\n"                                          \
	"  policy:\n    exec: [\"${HELPER}\", \"pause\"]\n"

#define RELOAD_AFTER                                                                               \
	"version: \"1\"\nservices:\n"                                                              \
	"  keep:\n    exec: [\"${HELPER}\", \"pause\"]\n"                                          \
	"  change:\n    exec: [\"${HELPER}\", \"pause\"]\n    env: { vars: { V: \"2\" } }\n"       \
	"  policy:\n    exec: [\"${HELPER}\", \"pause\"]\n"                                        \
	"    restart_policy: always\n    backoff: 1s\n"                                            \
	"  fresh:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [keep]\n"

static void
test_reload_matrix(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	pid_t keep, change, drop, policy;

	load(f, RELOAD_BEFORE);
	start_running(f);
	keep = pid_of(f, "keep");
	change = pid_of(f, "change");
	drop = pid_of(f, "drop");
	policy = pid_of(f, "policy");

	/* The variables the file uses come from the supervisor's environment of then. */
	path = write_config(f, RELOAD_AFTER);
	g_assert_true(sg_supervisor_reload(f->supervisor, NULL, &error));
	g_assert_no_error(error);
	g_assert_nonnull(strstr(f->events->str, "added:fresh"));
	g_assert_nonnull(strstr(f->events->str, "reloaded"));
	WAIT_FOR(sg_supervisor_lookup(f->supervisor, "drop") == NULL);
	g_assert_nonnull(strstr(f->events->str, "removed:drop"));
	g_assert_false(sg_test_alive(drop));
	WAIT_FOR(pid_of(f, "change") > 0 && pid_of(f, "change") != change);
	g_assert_false(sg_test_alive(change));
	sg_clock_fake_advance(f->context.clock, 100);
	WAIT_FOR(state_of(f, "fresh") == SG_SERVICE_RUNNING);
	g_assert_cmpint(pid_of(f, "keep"), ==, keep);
	g_assert_cmpint(pid_of(f, "policy"), ==, policy);
	g_assert_cmpstr(sg_supervisor_get_config_path(f->supervisor), ==, path);

	/* The restart policy applied in place: the process is restarted now. */
	kill(policy, SIGKILL);
	WAIT_FOR(state_of(f, "policy") == SG_SERVICE_BACKOFF);
	sg_clock_fake_advance(f->context.clock, 1000);
	WAIT_FOR(pid_of(f, "policy") > 0);
}

static void
test_reload_invalid(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bad = g_build_filename(f->dir, "bad.yaml", NULL);
	pid_t keep;

	load(f, RELOAD_BEFORE);
	start_running(f);
	keep = pid_of(f, "keep");
	g_assert_true(
	        g_file_set_contents(bad,
	                            "version: \"1\"\nservices:\n"
	                            "  keep:\n    exec: [\"/bin/true\"]\n    restar: always\n",
	                            -1, NULL));
	g_assert_false(sg_supervisor_reload(f->supervisor, bad, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
	g_assert_nonnull(strstr(error->message, "bad.yaml:5:5: services.keep.restar"));
	g_assert_cmpint(pid_of(f, "keep"), ==, keep);
	g_assert_nonnull(sg_supervisor_lookup(f->supervisor, "drop"));
	g_assert_cmpstr(f->events->str, ==, "");
	g_assert_cmpstr(sg_config_lookup(sg_supervisor_get_config(f->supervisor), "keep")->argv[1],
	                ==, "pause");
}

/* Dependencies apply in place: a service blocked by a dependency it no longer has starts. */
static void
test_reload_dependencies(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    exec: [\"${HELPER}\", \"exit:3\"]\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(state_of(f, "api") == SG_SERVICE_BLOCKED);
	path = write_config(f, "version: \"1\"\nservices:\n"
	                       "  db:\n    exec: [\"${HELPER}\", \"exit:3\"]\n"
	                       "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n");
	g_assert_true(sg_supervisor_reload(f->supervisor, path, &error));
	g_assert_no_error(error);
	g_assert_cmpint(pid_of(f, "api"), >, 0);
	/* db is unchanged and failed: left alone. */
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_FAILED);
}

static void
test_reload_plan(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = write_config(f, "version: \"1\"\nservices:\n"
	                                        "  a:\n    command: \"sleep 1\"\n"
	                                        "  b:\n    command: \"sleep 2\"\n"
	                                        "    hooks: { on_start: { success: { command: "
	                                        "\"true\" } } }\n"
	                                        "  c:\n    command: \"sleep 3\"\n");
	g_autoptr(SgConfig) next = sg_config_load(path, "systemg.yaml", NULL, problems, &error);
	g_autoptr(GHashTable) current = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(SgReloadPlan) plan = NULL;
	g_autofree char *summary = NULL;
	g_autofree char *b_hash = NULL;

	g_assert_no_error(error);
	/* b's hook does not count: the hash of "sleep 2" alone must match. */
	{
		g_autofree char *plain = write_config(f, "version: \"1\"\nservices:\n"
		                                         "  b:\n    command: \"sleep 2\"\n");
		g_autoptr(SgConfig) b_only =
		        sg_config_load(plain, "systemg.yaml", NULL, problems, &error);
		g_assert_no_error(error);
		b_hash = g_strdup(sg_config_lookup(b_only, "b")->hash);
	}
	g_hash_table_insert(current, "a", "0000");
	g_hash_table_insert(current, "b", b_hash);
	g_hash_table_insert(current, "z", "0000");
	plan = sg_reload_plan_new(current, next);
	summary = sg_reload_plan_describe(plan);
	g_assert_cmpstr(summary, ==, "added c; changed a; removed z; 1 unchanged");
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	int status;

	reaper = sg_test_init_with_reaper(&argc, &argv);

	ADD("adopt/same-process", test_same_process);
	ADD("adopt/adopted-exit-cascades", test_adopted_exit_cascades);
	ADD("adopt/gone-is-a-crash", test_gone_is_a_crash);
	ADD("adopt/gone-in-same-boot-is-a-crash", test_gone_in_same_boot_is_a_crash);
	ADD("adopt/other-boot-starts-afresh", test_other_boot_starts_afresh);
	ADD("adopt/ended-run-starts-afresh", test_ended_run_starts_afresh);
	ADD("adopt/unknown-boot-starts-afresh-when-nothing-lives",
	    test_unknown_boot_starts_afresh_when_nothing_lives);
	ADD("adopt/found-by-markers", test_found_by_markers);
	ADD("adopt/other-instances-stopped", test_other_instances_stopped);
	ADD("adopt/orphan", test_orphan);
	ADD("adopt/orphan-stopped", test_orphan_stopped);
	ADD("adopt/orphan-taken-back", test_orphan_taken_back);
	ADD("adopt/changed-while-down", test_changed_while_down);
	ADD("adopt/rewritten-process", test_rewritten_process);
	ADD("adopt/final-states-kept", test_final_states_kept);
	ADD("adopt/backoff-resumed", test_backoff_resumed);
	ADD("reload/matrix", test_reload_matrix);
	ADD("reload/invalid", test_reload_invalid);
	ADD("reload/dependencies", test_reload_dependencies);
	ADD("reload/plan", test_reload_plan);
	status = g_test_run();
	sg_reaper_free(reaper);
	return status;
}
