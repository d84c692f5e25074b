/* SPDX-License-Identifier: MIT */
/* SgApi, the one door of the socket and the bus: operations, refusals, shutdown, reload. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "api/sg-api.h"
#include "base/sg-error.h"
#include "config/sg-config.h"
#include "engine/sg-persist.h"
#include "engine/sg-supervisor.h"
#include "lib/sg-test-engine.h"
#include "lib/sg-test.h"

static SgReaper *reaper; /* one per process: it reaps with waitpid(-1) */

#define REFUSED_STOPPING "every service is being stopped; try again once that is done"
#define REFUSED_LEAVING  "the supervisor is shutting down"

/* db.main ignores SIGTERM: a stop of everything lasts until its stop_timeout (fake clock). */
#define CONFIG_BASIC                                                                               \
	"version: \"1\"\nservices:\n"                                                              \
	"  api:\n    command: \"exec ${HELPER} stdout:up pause\"\n    restart_policy: always\n"    \
	"  db.main:\n    exec: [\"${HELPER}\", \"ignore-term\", \"stdout:up\", \"pause\"]\n"       \
	"    stop_timeout: \"5s\"\n    depends_on: [api]\n"

typedef struct {
	char *dir;
	SgContext context;
	SgConfig *config;
	SgSupervisor *supervisor;
	SgPersist *persist;
	SgApi *api;
	GString *transitions; /* "name:old>new " */
	guint stopped;        /* how often the api said that a shutdown's stop is done */
} Fixture;

/* The answer of one operation. */
typedef struct {
	gboolean done;
	GError *error;
} Answer;

#define WAIT_FOR(cond) SG_TEST_WAIT_FOR(cond, f->transitions->str)

static void
stopped_cb(gpointer user_data)
{
	((Fixture *)user_data)->stopped++;
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("sg-api-XXXXXX", &error);
	g_assert_no_error(error);
	sg_test_context_init(&f->context, f->dir, reaper);
	f->transitions = g_string_new(NULL);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_clear_pointer(&f->api, sg_api_free);
	if (f->supervisor != NULL)
		sg_test_stop_all(f->supervisor, f->context.clock);
	g_clear_pointer(&f->persist, sg_persist_free);
	g_clear_object(&f->supervisor);
	g_clear_pointer(&f->config, sg_config_unref);
	sg_test_context_clear(&f->context);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
	g_string_free(f->transitions, TRUE);
}

static void
load(Fixture *f, const char *yaml)
{
	f->config = sg_test_load_config(f->dir, yaml);
	f->supervisor = sg_supervisor_new(&f->context, f->config);
	f->persist = sg_persist_new(f->supervisor);
	sg_test_record_transitions(f->supervisor, f->transitions);
	f->api = sg_api_new(f->supervisor, g_get_real_time(), stopped_cb, f);
}

static SgServiceState
state_of(Fixture *f, const char *name)
{
	return sg_service_get_state(sg_test_service(f->supervisor, name));
}

static pid_t
pid_of(Fixture *f, const char *name)
{
	return sg_service_get_pid(sg_test_service(f->supervisor, name));
}

static void
answer_cb(const GError *error, JsonNode *failed, gpointer user_data)
{
	Answer *answer = user_data;

	answer->done = TRUE;
	answer->error = error != NULL ? g_error_copy(error) : NULL;
}

/* Starts an operation as a transport does; the answer fills in as it comes. */
static Answer *
begin(Fixture *f, SgOperationKind kind, const char *name)
{
	Answer *answer = g_new0(Answer, 1);

	sg_api_operation_run(sg_api_operation_new(f->api, kind, name, answer_cb, answer));
	return answer;
}

static void
answer_free(Answer *answer)
{
	g_clear_error(&answer->error);
	g_free(answer);
}

/* 100 ms of fake time every 10 ms of real time. */
static gboolean
advance_cb(gpointer user_data)
{
	Fixture *f = user_data;

	sg_clock_fake_advance(f->context.clock, 100);
	return G_SOURCE_CONTINUE;
}

/*
 * Runs an operation to its answer, moving the fake clock along (a start is running after its
 * first moments, a stop of db.main ends at its stop_timeout); returns its error (NULL: done),
 * owned by the caller. A refusal is answered at once: the clock does not move then.
 */
static GError *
run(Fixture *f, SgOperationKind kind, const char *name)
{
	Answer *answer = begin(f, kind, name);
	GError *error;
	guint tick = 0;

	/* Fake time moves while the real processes take theirs, however loaded the machine. */
	if (!answer->done)
		tick = g_timeout_add(10, advance_cb, f);
	WAIT_FOR(answer->done);
	g_clear_handle_id(&tick, g_source_remove);
	error = g_steal_pointer(&answer->error);
	answer_free(answer);
	return error;
}

static void
assert_refused(GError *error, const char *message)
{
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_assert_cmpstr(error->message, ==, message);
	g_error_free(error);
}

static void
test_one_and_all(Fixture *f, gconstpointer data)
{
	GError *error;
	pid_t api, db;

	load(f, CONFIG_BASIC);
	/* Start of everything: answered once both run. */
	g_assert_no_error(run(f, SG_OPERATION_START, NULL));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(state_of(f, "db.main"), ==, SG_SERVICE_RUNNING);
	api = pid_of(f, "api");
	db = pid_of(f, "db.main");

	/* Restart of one: a new process, the other untouched. */
	g_assert_no_error(run(f, SG_OPERATION_RESTART, "api"));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(pid_of(f, "api"), !=, api);
	g_assert_false(sg_test_alive(api));
	g_assert_cmpint(pid_of(f, "db.main"), ==, db);

	/* Stop of one: answered once its process is gone, even with restart_policy always. */
	api = pid_of(f, "api");
	g_assert_no_error(run(f, SG_OPERATION_STOP, "api"));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STOPPED);
	g_assert_false(sg_test_alive(api));
	g_assert_no_error(run(f, SG_OPERATION_START, "api"));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);

	/* Restart of everything: db.main ignores SIGTERM, its stop_timeout ends it. */
	api = pid_of(f, "api");
	g_assert_no_error(run(f, SG_OPERATION_RESTART, NULL));
	g_assert_false(sg_test_alive(api));
	g_assert_false(sg_test_alive(db));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(state_of(f, "db.main"), ==, SG_SERVICE_RUNNING);

	/* Stop of everything: the daemon keeps running, the api says nothing of a shutdown. */
	api = pid_of(f, "api");
	db = pid_of(f, "db.main");
	g_assert_no_error(run(f, SG_OPERATION_STOP, NULL));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STOPPED);
	g_assert_cmpint(state_of(f, "db.main"), ==, SG_SERVICE_STOPPED);
	g_assert_false(sg_test_alive(api));
	g_assert_false(sg_test_alive(db));
	g_assert_cmpuint(f->stopped, ==, 0);
	g_assert_false(sg_api_is_shutting_down(f->api));

	/* A name that does not exist: the engine's own error. */
	error = run(f, SG_OPERATION_STOP, "nope");
	g_assert_error(error, SG_ERROR, SG_ERROR_NO_SUCH_SERVICE);
	g_error_free(error);
}

/* While every service stops, asked by either transport: start, restart and reload get one
 * refusal, and nothing starts; once the stop is done they work again. */
static void
test_refused_while_stopping(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) reload_error = NULL;
	Answer *stop;
	gsize seen;

	load(f, CONFIG_BASIC);
	g_assert_no_error(run(f, SG_OPERATION_START, NULL));
	/* Dependents first: db.main (deaf to SIGTERM) holds the stop until its stop_timeout. */
	stop = begin(f, SG_OPERATION_STOP, NULL);
	WAIT_FOR(state_of(f, "db.main") == SG_SERVICE_STOPPING);
	g_assert_false(stop->done);
	seen = f->transitions->len;

	assert_refused(run(f, SG_OPERATION_START, "api"), REFUSED_STOPPING);
	assert_refused(run(f, SG_OPERATION_START, NULL), REFUSED_STOPPING);
	assert_refused(run(f, SG_OPERATION_RESTART, "api"), REFUSED_STOPPING);
	assert_refused(run(f, SG_OPERATION_RESTART, NULL), REFUSED_STOPPING);
	g_assert_false(sg_api_reload(f->api, NULL, &reload_error));
	g_assert_error(reload_error, SG_ERROR, SG_ERROR_FAILED);
	g_assert_cmpstr(reload_error->message, ==, REFUSED_STOPPING);
	/* Nothing was started or stopped by what was refused. */
	g_assert_cmpuint(f->transitions->len, ==, seen);
	g_assert_cmpint(state_of(f, "db.main"), ==, SG_SERVICE_STOPPING);

	sg_clock_fake_advance(f->context.clock, 5000);
	WAIT_FOR(stop->done);
	g_assert_no_error(stop->error);
	answer_free(stop);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STOPPED);
	g_assert_no_error(run(f, SG_OPERATION_START, "api"));
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpuint(f->stopped, ==, 0);
}

/* A shutdown: every service stops, stopped runs once, and from its first moment on
 * starts, restarts and reloads get the one shutting-down refusal. */
static void
test_shutdown(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) reload_error = NULL;
	g_autoptr(GError) late_error = NULL;
	pid_t db;

	load(f, CONFIG_BASIC);
	g_assert_no_error(run(f, SG_OPERATION_START, NULL));
	db = pid_of(f, "db.main");
	sg_api_shutdown(f->api, "a test");
	g_assert_true(sg_api_is_shutting_down(f->api));
	WAIT_FOR(state_of(f, "db.main") == SG_SERVICE_STOPPING);
	g_assert_cmpuint(f->stopped, ==, 0);

	assert_refused(run(f, SG_OPERATION_START, "api"), REFUSED_LEAVING);
	assert_refused(run(f, SG_OPERATION_RESTART, NULL), REFUSED_LEAVING);
	g_assert_false(sg_api_reload(f->api, NULL, &reload_error));
	g_assert_cmpstr(reload_error->message, ==, REFUSED_LEAVING);
	/* Asked again (a second signal, the other transport): nothing new. */
	sg_api_shutdown(f->api, "a test again");

	sg_clock_fake_advance(f->context.clock, 5000);
	WAIT_FOR(f->stopped > 0);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STOPPED);
	g_assert_cmpuint(f->stopped, ==, 1);
	g_assert_false(sg_test_alive(db));
	g_assert_cmpint(state_of(f, "db.main"), ==, SG_SERVICE_STOPPED);
	/* Everything is down and the daemon is leaving: still refused. */
	assert_refused(run(f, SG_OPERATION_START, NULL), REFUSED_LEAVING);
	g_assert_false(sg_api_reload(f->api, NULL, &late_error));
	g_assert_cmpstr(late_error->message, ==, REFUSED_LEAVING);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STOPPED);
	g_assert_cmpuint(f->stopped, ==, 1);
}

/* An invalid file changes nothing: same processes, same configuration, every problem told. */
static void
test_reload_invalid(Fixture *f, gconstpointer data)
{
	g_autofree char *bad = g_build_filename(f->dir, "bad.yaml", NULL);
	g_autofree char *before = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) status = NULL;
	pid_t api, db;

	load(f, CONFIG_BASIC);
	g_assert_no_error(run(f, SG_OPERATION_START, NULL));
	api = pid_of(f, "api");
	db = pid_of(f, "db.main");
	before = g_strdup(sg_api_get_config_path(f->api));
	g_assert_true(
	        g_file_set_contents(bad,
	                            "version: \"1\"\nservices:\n"
	                            "  api:\n    command: \"true\"\n    depends_on: [nowhere]\n",
	                            -1, NULL));

	g_assert_false(sg_api_reload(f->api, bad, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
	g_assert_nonnull(strstr(error->message, "bad.yaml"));
	g_assert_nonnull(strstr(error->message, "nowhere"));
	g_assert_cmpstr(sg_api_get_config_path(f->api), ==, before);
	g_assert_cmpuint(sg_api_get_services(f->api)->len, ==, 2);
	g_assert_cmpint(pid_of(f, "api"), ==, api);
	g_assert_cmpint(pid_of(f, "db.main"), ==, db);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(state_of(f, "db.main"), ==, SG_SERVICE_RUNNING);
	/* Status through the same door still describes the old file. */
	status = sg_api_status(f->api);
	g_assert_cmpstr(
	        json_object_get_string_member(
	                json_object_get_object_member(json_node_get_object(status), "supervisor"),
	                "config"),
	        ==, before);
	/* And a good reload still goes through afterwards. */
	g_assert_true(sg_api_reload(f->api, NULL, NULL));
	g_assert_cmpint(pid_of(f, "api"), ==, api);
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/api/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	reaper = sg_test_init_with_reaper(&argc, &argv);
	signal(SIGPIPE, SIG_IGN);

	ADD("one-and-all", test_one_and_all);
	ADD("refused-while-stopping", test_refused_while_stopping);
	ADD("shutdown", test_shutdown);
	ADD("reload-invalid", test_reload_invalid);
	return g_test_run();
}
