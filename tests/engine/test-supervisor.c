/* SPDX-License-Identifier: MIT */
/* The engine with real processes and a fake clock: order, restarts, stops, hooks, state files. */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/sg-config.h"
#include "base/sg-paths.h"
#include "engine/sg-persist.h"
#include "process/sg-proctree.h"
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
	GString *transitions;  /* "name:old>new " */
	GArray *tracked;       /* pid_t of processes to kill at the end */
	GFileMonitor *monitor; /* wakes the loop when a service writes a file of the test */
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("sg-supervisor-XXXXXX", &error);
	g_assert_no_error(error);
	sg_test_context_init(&f->context, f->dir, reaper);
	f->transitions = g_string_new(NULL);
	f->tracked = g_array_new(FALSE, FALSE, sizeof(pid_t));
	f->monitor = sg_test_monitor_dir(f->dir);
}

/* Iterates the loop until cond holds; fails the test after a deadline. */
#define WAIT_FOR(cond) SG_TEST_WAIT_FOR(cond, f->transitions->str)

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	if (f->supervisor != NULL)
		sg_test_stop_all(f->supervisor, f->context.clock);
	for (guint i = 0; i < f->tracked->len; i++)
		kill(g_array_index(f->tracked, pid_t, i), SIGKILL);
	g_clear_object(&f->monitor);
	g_clear_pointer(&f->persist, sg_persist_free);
	g_clear_object(&f->supervisor);
	g_clear_pointer(&f->config, sg_config_unref);
	sg_test_context_clear(&f->context);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
	g_string_free(f->transitions, TRUE);
	g_array_unref(f->tracked);
}

/* Loads the YAML (with ${HELPER} and ${DIR} defined) and builds the supervisor. */
static void
load(Fixture *f, const char *yaml)
{
	f->config = sg_test_load_config(f->dir, yaml);
	f->supervisor = sg_supervisor_new(&f->context, f->config);
	f->persist = sg_persist_new(f->supervisor);
	sg_test_record_transitions(f->supervisor, f->transitions);
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

static char *
path_in(Fixture *f, const char *name)
{
	return g_build_filename(f->dir, name, NULL);
}

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
touch(Fixture *f, const char *name)
{
	g_autofree char *path = path_in(f, name);

	g_assert_true(g_file_set_contents(path, "", -1, NULL));
}

/* Reads "MONO_USEC REAL_USEC PID" stamp lines; returns the MONO of line n. */
static gint64
stamp(Fixture *f, const char *name, guint n)
{
	g_autofree char *text = sg_test_read_file(f->dir, name);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	g_assert_cmpuint(g_strv_length(lines), >, n);
	return g_ascii_strtoll(lines[n], NULL, 10);
}

/* ---- ordering ---- */

static void
test_order(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  a:\n    exec: [\"${HELPER}\", \"stamp:${DIR}/a\", \"sleep:500\", "
	        "\"stamp:${DIR}/a\", \"pause\"]\n"
	        "  b:\n    exec: [\"${HELPER}\", \"stamp:${DIR}/b\", \"sleep:500\", "
	        "\"stamp:${DIR}/b\", \"pause\"]\n"
	        "  c:\n    exec: [\"${HELPER}\", \"stamp:${DIR}/c\", \"pause\"]\n"
	        "    depends_on: [a]\n");
	sg_supervisor_start_all(f->supervisor);
	g_assert_cmpint(sg_service_get_pid(svc(f, "a")), >, 0);
	g_assert_cmpint(sg_service_get_pid(svc(f, "b")), >, 0);
	/* c waits: a is not ready until it has stayed alive for 100 ms */
	g_assert_cmpint(sg_service_get_pid(svc(f, "c")), ==, 0);
	g_assert_cmpint(state_of(f, "c"), ==, SG_SERVICE_STARTING);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "c")), ==, "waiting for a");
	sg_clock_fake_advance(f->context.clock, 99);
	g_assert_cmpint(sg_service_get_pid(svc(f, "c")), ==, 0);
	sg_clock_fake_advance(f->context.clock, 1);
	g_assert_cmpint(state_of(f, "a"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(sg_service_get_pid(svc(f, "c")), >, 0);

	/* Independent roots ran together: both began before either finished its 0.5 s. */
	WAIT_FOR(sg_test_count_lines(f->dir, "a") == 2 && sg_test_count_lines(f->dir, "b") == 2);
	g_assert_cmpint(stamp(f, "a", 0), <, stamp(f, "b", 1));
	g_assert_cmpint(stamp(f, "b", 0), <, stamp(f, "a", 1));
	WAIT_FOR(sg_test_count_lines(f->dir, "c") == 1);
}

static void
test_blocked_until_recovered(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    command: \"test -f ${DIR}/ok && exec ${HELPER} pause\"\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n"
	        "  web:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [api]\n");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_FAILED);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_BLOCKED);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_BLOCKED);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "api")), ==, "dependency db is failed");
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), ==, 0);

	/* The dependency recovers: its dependents start by themselves, in order. */
	touch(f, "ok");
	g_assert_true(sg_supervisor_start_service(f->supervisor, "db", NULL));
	WAIT_FOR(sg_service_get_pid(svc(f, "db")) > 0);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_STARTING);
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), >, 0);
	g_assert_cmpint(sg_service_get_pid(svc(f, "web")), ==, 0);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "web"), ==, SG_SERVICE_RUNNING);
}

static void
test_cascade(Fixture *f, gconstpointer data)
{
	pid_t api_pid;

	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/crash\", \"exit:3\"]\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n");
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	api_pid = sg_service_get_pid(svc(f, "api"));

	/* db fails for good (policy never): api is stopped and blocked */
	touch(f, "crash");
	WAIT_FOR(state_of(f, "api") == SG_SERVICE_BLOCKED);
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_FAILED);
	g_assert_false(sg_test_alive(api_pid));
	g_assert_nonnull(strstr(f->transitions->str, "api:running>stopping api:stopping>blocked"));
}

static void
test_crash_restart_leaves_dependents(Fixture *f, gconstpointer data)
{
	pid_t api_pid;

	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/crash\", \"exit:3\"]\n"
	        "    restart_policy: on-failure\n    backoff: 1s\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n");
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	sg_clock_fake_advance(f->context.clock, 100);
	api_pid = sg_service_get_pid(svc(f, "api"));
	touch(f, "crash");
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_BACKOFF);
	g_assert_cmpint(state_of(f, "api"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), ==, api_pid);
	g_assert_true(sg_test_alive(api_pid));
}

/* ---- restarts ---- */

typedef struct {
	const char *policy;
	const char *action; /* how the service ends */
	SgServiceState after;
} PolicyCase;

static void
test_restart_policies(Fixture *f, gconstpointer data)
{
	static const PolicyCase cases[] = {
		{ "always", "exit:0", SG_SERVICE_BACKOFF },
		{ "always", "exit:4", SG_SERVICE_BACKOFF },
		{ "on-failure", "exit:0", SG_SERVICE_EXITED },
		{ "on-failure", "exit:4", SG_SERVICE_BACKOFF },
		{ "on-failure", "signal:9", SG_SERVICE_BACKOFF },
		{ "never", "exit:0", SG_SERVICE_EXITED },
		{ "never", "exit:4", SG_SERVICE_FAILED },
		{ "never", "signal:15", SG_SERVICE_FAILED },
	};
	GString *yaml = g_string_new("version: \"1\"\nservices:\n");

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		g_string_append_printf(yaml,
		                       "  s%u:\n    exec: [\"${HELPER}\", \"sleep:150\", \"%s\"]\n"
		                       "    restart_policy: %s\n    backoff: 1s\n",
		                       i, cases[i].action, cases[i].policy);
	load(f, yaml->str);
	g_string_free(yaml, TRUE);
	sg_supervisor_start_all(f->supervisor);
	/* Ready after 100 ms, then each ends on its own after 150 ms of real time. */
	sg_clock_fake_advance(f->context.clock, 100);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *name = g_strdup_printf("s%u", i);
		WAIT_FOR(state_of(f, name) == cases[i].after);
		g_test_message("%s + %s -> %s", cases[i].policy, cases[i].action,
		               sg_service_state_to_string(cases[i].after));
	}
	g_assert_cmpint(sg_service_get_exit_signal(svc(f, "s4")), ==, 9);
	g_assert_cmpint(sg_service_get_exit_code(svc(f, "s4")), ==, -1);
	g_assert_cmpint(sg_service_get_exit_code(svc(f, "s6")), ==, 4);
}

/* Drives a service that fails at once through its restarts, checking each delay exactly. */
static void
expect_restart_after(Fixture *f, const char *name, guint64 delay_ms)
{
	WAIT_FOR(state_of(f, name) == SG_SERVICE_BACKOFF);
	g_assert_cmpint(sg_service_get_pid(svc(f, name)), ==, 0);
	sg_clock_fake_advance(f->context.clock, delay_ms - 1);
	g_assert_cmpint(state_of(f, name), ==, SG_SERVICE_BACKOFF);
	sg_clock_fake_advance(f->context.clock, 1);
	g_assert_cmpint(state_of(f, name), ==, SG_SERVICE_STARTING);
	g_assert_cmpint(sg_service_get_pid(svc(f, name)), >, 0);
}

static void
test_backoff(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  crash:\n    exec: [\"${HELPER}\", \"exit:1\"]\n"
	        "    restart_policy: always\n    backoff: 1s\n    backoff_max: 4s\n"
	        "  steady:\n    exec: [\"${HELPER}\", \"exit:1\"]\n"
	        "    restart_policy: always\n    backoff: 300ms\n");
	sg_supervisor_start_all(f->supervisor);
	expect_restart_after(f, "crash", 1000);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "crash")), ==, 1);
	expect_restart_after(f, "crash", 2000);
	expect_restart_after(f, "crash", 4000);
	expect_restart_after(f, "crash", 4000);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "crash")), ==, 4);
	expect_restart_after(f, "steady", 300);
}

static void
test_max_restarts(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  crash:\n    exec: [\"${HELPER}\", \"exit:7\"]\n"
	        "    restart_policy: on-failure\n    backoff: 100ms\n    max_restarts: 2\n");
	sg_supervisor_start_all(f->supervisor);
	expect_restart_after(f, "crash", 100);
	expect_restart_after(f, "crash", 100);
	WAIT_FOR(state_of(f, "crash") == SG_SERVICE_FAILED);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "crash")), ==, 2);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "crash")), ==,
	                "gave up after 2 restarts: exit status 7");
	g_assert_cmpuint(sg_clock_fake_pending(f->context.clock), ==, 0);
}

static void
test_restart_count_resets(Fixture *f, gconstpointer data)
{
	/* Fails twice, then stays up. */
	load(f, "version: \"1\"\nservices:\n"
	        "  flaky:\n"
	        "    command: \"n=$(cat ${DIR}/count 2>/dev/null || echo 0); "
	        "echo $((n + 1)) > ${DIR}/count; [ $n -ge 2 ] && exec ${HELPER} pause; exit 1\"\n"
	        "    restart_policy: on-failure\n    backoff: 2s\n");
	sg_supervisor_start_all(f->supervisor);
	expect_restart_after(f, "flaky", 2000);
	expect_restart_after(f, "flaky", 2000);
	sg_clock_fake_advance(f->context.clock, 100);
	g_assert_cmpint(state_of(f, "flaky"), ==, SG_SERVICE_RUNNING);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "flaky")), ==, 2);
	/* 10 times the backoff (20 s) of uptime resets it, not a moment sooner. */
	sg_clock_fake_advance(f->context.clock, 20000 - 1);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "flaky")), ==, 2);
	sg_clock_fake_advance(f->context.clock, 1);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "flaky")), ==, 0);
}

static void
test_skip(Fixture *f, gconstpointer data)
{
	load(f,
	     "version: \"1\"\nservices:\n"
	     "  flag:\n    exec: [\"${HELPER}\", \"pause\"]\n    skip: true\n"
	     "  cmd:\n    exec: [\"${HELPER}\", \"pause\"]\n    skip: \"test -d /\"\n"
	     "  runs:\n    exec: [\"${HELPER}\", \"pause\"]\n    skip: \"test -d /nonexistent\"\n"
	     "  after:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [flag, cmd]\n");
	sg_supervisor_start_all(f->supervisor);
	g_assert_cmpint(state_of(f, "flag"), ==, SG_SERVICE_SKIPPED);
	WAIT_FOR(state_of(f, "cmd") == SG_SERVICE_SKIPPED);
	WAIT_FOR(sg_service_get_pid(svc(f, "runs")) > 0);
	/* skipped counts as ready for dependents */
	WAIT_FOR(sg_service_get_pid(svc(f, "after")) > 0);
}

/* ---- processes ---- */

static guint
read_pids(Fixture *f, const char *name, pid_t *pids, guint max)
{
	g_autofree char *text = sg_test_read_file(f->dir, name);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	guint n = 0;

	for (guint i = 0; lines[i] != NULL && n < max; i++)
		if (lines[i][0] != '\0')
			pids[n++] = (pid_t)atoi(lines[i]);
	for (guint i = 0; i < n; i++)
		g_array_append_val(f->tracked, pids[i]);
	return n;
}

static void
test_stop_leaves_nothing(Fixture *f, gconstpointer data)
{
	gboolean stopped = FALSE;
	pid_t pids[8];
	guint n;

	load(f, "version: \"1\"\nservices:\n"
	        "  tree:\n"
	        "    command: \"${HELPER} pids:${DIR}/pids grandchild:60000 & "
	        "exec ${HELPER} pids:${DIR}/pids bg:60000 daemon:60000 pause\"\n");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(sg_test_count_lines(f->dir, "pids") == 3);
	n = read_pids(f, "pids", pids, G_N_ELEMENTS(pids));
	g_assert_cmpuint(n, ==, 3);
	for (guint i = 0; i < n; i++)
		g_assert_true(sg_test_alive(pids[i]));
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "tree", sg_test_stopped_cb,
	                                         &stopped, NULL));
	WAIT_FOR(stopped);
	g_assert_cmpint(state_of(f, "tree"), ==, SG_SERVICE_STOPPED);
	for (guint i = 0; i < n; i++)
		g_assert_false(sg_test_alive(pids[i]));
}

static void
test_stop_timeout_kills(Fixture *f, gconstpointer data)
{
	gboolean stopped = FALSE;
	pid_t pid;

	load(f, "version: \"1\"\nservices:\n"
	        "  stubborn:\n    exec: [\"${HELPER}\", \"ignore-term\", \"stamp:${DIR}/up\", "
	        "\"pause\"]\n    stop_timeout: 3s\n");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(sg_test_count_lines(f->dir, "up") == 1);
	pid = sg_service_get_pid(svc(f, "stubborn"));
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "stubborn", sg_test_stopped_cb,
	                                         &stopped, NULL));
	/* SIGTERM is ignored: still alive just before the timeout, killed at it. */
	sg_clock_fake_advance(f->context.clock, 2999);
	for (int i = 0; i < 10; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_false(stopped);
	g_assert_true(sg_test_alive(pid));
	sg_clock_fake_advance(f->context.clock, 1);
	WAIT_FOR(stopped);
	g_assert_false(sg_test_alive(pid));
	g_assert_cmpint(sg_service_get_exit_signal(svc(f, "stubborn")), ==, SIGKILL);
}

static char *
proc_exe(pid_t pid)
{
	g_autofree char *link = g_strdup_printf("/proc/%d/exe", pid);
	return g_file_read_link(link, NULL);
}

static guint
processes_in_session(pid_t sid)
{
	g_autoptr(GHashTable) sessions = g_hash_table_new(NULL, NULL);
	g_autoptr(GPtrArray) found = NULL;

	g_hash_table_add(sessions, GINT_TO_POINTER(sid));
	found = sg_proctree_scan(NULL, sessions);
	return found->len;
}

static void
test_simple_command_has_one_process(Fixture *f, gconstpointer data)
{
	g_autofree char *simple_exe = NULL;
	g_autofree char *compound_exe = NULL;
	g_autofree char *helper = g_canonicalize_filename(g_getenv("SG_TEST_HELPER_CHILD"), NULL);

	load(f, "version: \"1\"\nservices:\n"
	        "  simple:\n    command: \"${HELPER} stamp:${DIR}/simple pause\"\n"
	        "  compound:\n    command: \"${HELPER} stamp:${DIR}/compound pause; true\"\n");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(sg_test_count_lines(f->dir, "simple") == 1 &&
	         sg_test_count_lines(f->dir, "compound") == 1);
	simple_exe = proc_exe(sg_service_get_pid(svc(f, "simple")));
	compound_exe = proc_exe(sg_service_get_pid(svc(f, "compound")));
	/* The main PID is the program itself, with no shell at rest. */
	g_assert_cmpstr(simple_exe, ==, helper);
	g_assert_cmpuint(processes_in_session(sg_service_get_pid(svc(f, "simple"))), ==, 1);
	/* A compound command keeps its shell. */
	g_assert_cmpstr(compound_exe, !=, helper);
	g_assert_cmpuint(processes_in_session(sg_service_get_pid(svc(f, "compound"))), ==, 2);
}

typedef struct {
	Fixture *f;
	pid_t leftover;
	gboolean checked;
	gboolean leftover_alive_at_restart;
} LeftoverCheck;

static void
leftover_state_cb(SgSupervisor *supervisor, SgService *service, guint old_state, guint new_state,
                  gpointer user_data)
{
	LeftoverCheck *check = user_data;

	/* The moment the next instance exists. */
	if (new_state == SG_SERVICE_STARTING && sg_service_get_pid(service) > 0 &&
	    check->leftover > 0 && !check->checked) {
		check->checked = TRUE;
		check->leftover_alive_at_restart = sg_test_alive(check->leftover);
	}
}

static void
test_leftovers_gone_before_restart(Fixture *f, gconstpointer data)
{
	LeftoverCheck check = { f, 0, FALSE, FALSE };
	pid_t pids[2];

	load(f, "version: \"1\"\nservices:\n"
	        "  leaky:\n    exec: [\"${HELPER}\", \"pids:${DIR}/pids\", \"bg:60000\", "
	        "\"wait-file:${DIR}/go\", \"exit:1\"]\n"
	        "    restart_policy: always\n    backoff: 0\n");
	g_signal_connect(f->supervisor, "service-state-changed", G_CALLBACK(leftover_state_cb),
	                 &check);
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(sg_test_count_lines(f->dir, "pids") == 1);
	g_assert_cmpuint(read_pids(f, "pids", pids, 1), ==, 1);
	g_assert_true(sg_test_alive(pids[0]));
	check.leftover = pids[0];
	touch(f, "go");
	WAIT_FOR(state_of(f, "leaky") == SG_SERVICE_BACKOFF);
	sg_clock_fake_advance(f->context.clock, 0);
	WAIT_FOR(check.checked);
	g_assert_false(check.leftover_alive_at_restart);
	/* It never got ready (the fake clock stood still): starting, then the cleanup. */
	g_assert_nonnull(strstr(f->transitions->str, "leaky:starting>stopping"));
}

/* ---- readiness ---- */

static void
test_notify_gates_dependent(Fixture *f, gconstpointer data)
{
	load(f, "version: \"1\"\nservices:\n"
	        "  db:\n    exec: [\"${HELPER}\", \"wait-file:${DIR}/ready\", \"notify:READY=1\", "
	        "\"pause\"]\n    health_check: { notify: true }\n"
	        "  api:\n    exec: [\"${HELPER}\", \"pause\"]\n    depends_on: [db]\n");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(sg_service_get_pid(svc(f, "db")) > 0);
	/* No settle window for notify: time alone does not make it ready. */
	sg_clock_fake_advance(f->context.clock, 5000);
	g_assert_cmpint(state_of(f, "db"), ==, SG_SERVICE_STARTING);
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), ==, 0);
	g_assert_cmpint(sg_service_get_health(svc(f, "db")), ==, SG_HEALTH_STARTING);
	touch(f, "ready");
	WAIT_FOR(state_of(f, "db") == SG_SERVICE_RUNNING);
	g_assert_cmpint(sg_service_get_health(svc(f, "db")), ==, SG_HEALTH_HEALTHY);
	g_assert_cmpint(sg_service_get_pid(svc(f, "api")), >, 0);
}

static void
test_spawn_failures(Fixture *f, gconstpointer data)
{
	g_autofree char *plain = path_in(f, "not-executable");

	g_assert_true(g_file_set_contents(plain, "data", -1, NULL));
	load(f, "version: \"1\"\nservices:\n"
	        "  missing:\n    exec: [\"/nonexistent/program\"]\n    restart_policy: always\n"
	        "  denied:\n    exec: [\"${DIR}/not-executable\"]\n"
	        "  nopath:\n    exec: [\"no-such-program-anywhere\"]\n"
	        "  shell:\n    command: \"no-such-command-anywhere --flag\"\n"
	        "    restart_policy: on-failure\n"
	        /* A PATH entry we may not read would make the shell say "Permission denied". */
	        "    env: { vars: { PATH: \"/usr/bin:/bin\" } }\n");
	sg_supervisor_start_all(f->supervisor);
	WAIT_FOR(state_of(f, "missing") == SG_SERVICE_FAILED &&
	         state_of(f, "denied") == SG_SERVICE_FAILED &&
	         state_of(f, "nopath") == SG_SERVICE_FAILED &&
	         state_of(f, "shell") == SG_SERVICE_FAILED);
	g_assert_cmpstr(sg_service_get_cause(svc(f, "missing")), ==,
	                "cannot execute /nonexistent/program: No such file or directory");
	assert_contains(sg_service_get_cause(svc(f, "denied")), "Permission denied");
	assert_contains(sg_service_get_cause(svc(f, "nopath")),
	                "program \"no-such-program-anywhere\" not found in PATH=");
	/* The shell's own message, from the service's stderr log. */
	assert_contains(sg_service_get_cause(svc(f, "shell")),
	                "no-such-command-anywhere: not found");
	assert_contains(sg_service_get_cause(svc(f, "shell")), "exit status 127");
	/* Failing at once means no restart follows, whatever the policy says. */
	sg_clock_fake_advance(f->context.clock, 60000);
	g_assert_cmpint(state_of(f, "missing"), ==, SG_SERVICE_FAILED);
	g_assert_cmpint(state_of(f, "shell"), ==, SG_SERVICE_FAILED);
	g_assert_cmpuint(sg_service_get_restart_count(svc(f, "missing")), ==, 0);
}

/* ---- hooks ---- */

static const char *hooks_yaml =
        "    hooks:\n"
        "      on_start: { success: { command: \"echo on_start.success >> ${DIR}/hooks\" },"
        " error: { command: \"echo on_start.error >> ${DIR}/hooks\" } }\n"
        "      on_stop: { success: { command: \"echo on_stop.success >> ${DIR}/hooks\" },"
        " error: { command: \"echo on_stop.error:$SYSTEMG_EXIT_CODE >> ${DIR}/hooks\" } }\n"
        "      on_restart: { success: { command: \"echo on_restart.success >> ${DIR}/hooks\" },"
        " error: { command: \"echo on_restart.error >> ${DIR}/hooks\" } }\n";

static void
expect_hooks(Fixture *f, const char *expected)
{
	guint n = 0;

	for (const char *p = expected; *p != '\0'; p++)
		n += *p == '\n';
	WAIT_FOR(sg_test_count_lines(f->dir, "hooks") >= n);
	{
		g_autofree char *got = sg_test_read_file(f->dir, "hooks");
		g_assert_cmpstr(got, ==, expected);
	}
}

static void
test_hooks_start_and_stop(Fixture *f, gconstpointer data)
{
	g_autofree char *yaml = g_strconcat("version: \"1\"\nservices:\n  web:\n"
	                                    "    exec: [\"${HELPER}\", \"pause\"]\n",
	                                    hooks_yaml, NULL);
	gboolean stopped = FALSE;

	load(f, yaml);
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	expect_hooks(f, "on_start.success\n");
	g_assert_true(sg_supervisor_stop_service(f->supervisor, "web", sg_test_stopped_cb, &stopped,
	                                         NULL));
	WAIT_FOR(stopped);
	expect_hooks(f, "on_start.success\non_stop.success\n");
}

static void
test_hooks_crash_then_restart(Fixture *f, gconstpointer data)
{
	g_autofree char *yaml =
	        g_strconcat("version: \"1\"\nservices:\n  web:\n"
	                    "    command: \"test -f ${DIR}/crashed && exec ${HELPER} pause; "
	                    "touch ${DIR}/crashed; ${HELPER} wait-file:${DIR}/go exit:9\"\n"
	                    "    restart_policy: on-failure\n    backoff: 1s\n",
	                    hooks_yaml, NULL);

	load(f, yaml);
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	expect_hooks(f, "on_start.success\n");
	touch(f, "go");
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_BACKOFF);
	expect_hooks(f, "on_start.success\non_stop.error:9\n");
	sg_clock_fake_advance(f->context.clock, 1000);
	WAIT_FOR(sg_service_get_pid(svc(f, "web")) > 0);
	sg_clock_fake_advance(f->context.clock, 100);
	expect_hooks(f,
	             "on_start.success\non_stop.error:9\non_start.success\non_restart.success\n");
}

static void
test_hooks_failed_restart(Fixture *f, gconstpointer data)
{
	g_autofree char *yaml = g_strconcat(
	        "version: \"1\"\nservices:\n  web:\n"
	        "    command: \"test -f ${DIR}/crashed && exit 5; "
	        "touch ${DIR}/crashed; ${HELPER} wait-file:${DIR}/go exit:9\"\n"
	        "    restart_policy: on-failure\n    backoff: 1s\n    max_restarts: 1\n",
	        hooks_yaml, NULL);

	load(f, yaml);
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	expect_hooks(f, "on_start.success\n");
	touch(f, "go");
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_BACKOFF);
	sg_clock_fake_advance(f->context.clock, 1000);
	WAIT_FOR(state_of(f, "web") == SG_SERVICE_FAILED);
	expect_hooks(f, "on_start.success\non_stop.error:9\non_start.error\non_restart.error\n");
}

/* ---- state files ---- */

static JsonObject *
read_state(Fixture *f, const char *name, JsonNode **ret_node)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = sg_state_read_json(f->dir, name, SG_STATE_READ_NONE, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(node);
	*ret_node = node;
	return json_node_get_object(node);
}

static void
test_state_files(Fixture *f, gconstpointer data)
{
	g_autoptr(JsonNode) pid_node = NULL, state_node = NULL;
	JsonObject *pids, *states, *web, *job;
	gboolean stopped = FALSE;
	g_autoptr(GDateTime) started = NULL;

	load(f, "version: \"1\"\nservices:\n"
	        "  web:\n    exec: [\"${HELPER}\", \"pause\"]\n"
	        "  job:\n    exec: [\"${HELPER}\", \"exit:0\"]\n");
	sg_supervisor_start_all(f->supervisor);
	sg_clock_fake_advance(f->context.clock, 100);
	WAIT_FOR(state_of(f, "job") == SG_SERVICE_EXITED);
	sg_persist_flush(f->persist);

	pids = json_object_get_object_member(read_state(f, SG_STATE_PID_JSON, &pid_node),
	                                     "services");
	g_assert_cmpint(json_object_get_size(pids), ==, 1);
	g_assert_cmpint(json_object_get_int_member(pids, "web"), ==,
	                sg_service_get_pid(svc(f, "web")));
	g_assert_true(sg_test_alive((pid_t)json_object_get_int_member(pids, "web")));

	states = read_state(f, SG_STATE_STATE_JSON, &state_node);
	g_assert_cmpstr(json_object_get_string_member(states, "state_id"), ==, f->context.state_id);
	states = json_object_get_object_member(states, "services");
	web = json_object_get_object_member(states, "web");
	g_assert_cmpstr(json_object_get_string_member(web, "status"), ==, "running");
	started = g_date_time_new_from_iso8601(json_object_get_string_member(web, "started_at"),
	                                       NULL);
	g_assert_nonnull(started);
	g_assert_cmpint(json_object_get_int_member(web, "restart_count"), ==, 0);
	g_assert_true(json_object_get_null_member(web, "exit_code"));
	job = json_object_get_object_member(states, "job");
	g_assert_cmpstr(json_object_get_string_member(job, "status"), ==, "exited");
	g_assert_cmpint(json_object_get_int_member(job, "exit_code"), ==, 0);

	g_assert_true(sg_supervisor_stop_service(f->supervisor, "web", sg_test_stopped_cb, &stopped,
	                                         NULL));
	WAIT_FOR(stopped);
	sg_persist_flush(f->persist);
	g_clear_pointer(&pid_node, json_node_unref);
	g_clear_pointer(&state_node, json_node_unref);
	pids = json_object_get_object_member(read_state(f, SG_STATE_PID_JSON, &pid_node),
	                                     "services");
	g_assert_cmpint(json_object_get_size(pids), ==, 0);
	states = json_object_get_object_member(read_state(f, SG_STATE_STATE_JSON, &state_node),
	                                       "services");
	web = json_object_get_object_member(states, "web");
	g_assert_cmpstr(json_object_get_string_member(web, "status"), ==, "stopped");
}

static void
test_writes_coalesced(Fixture *f, gconstpointer data)
{
	GString *yaml = g_string_new("version: \"1\"\nservices:\n");
	const guint n = 1000;
	struct rlimit limit;
	guint writes_before;

	/* 1,000 services hold 2,000 log fds. */
	getrlimit(RLIMIT_NOFILE, &limit);
	if (limit.rlim_max < 8192) {
		g_test_skip("needs an open-file hard limit of at least 8192");
		g_string_free(yaml, TRUE);
		return;
	}
	limit.rlim_cur = limit.rlim_max;
	setrlimit(RLIMIT_NOFILE, &limit);
	for (guint i = 0; i < n; i++)
		g_string_append_printf(yaml, "  s%u:\n    exec: [\"${HELPER}\", \"pause\"]\n", i);
	load(f, yaml->str);
	g_string_free(yaml, TRUE);
	writes_before = sg_persist_write_count(f->persist);
	sg_supervisor_start_all(f->supervisor);
	for (int i = 0; i < 5; i++)
		g_main_context_iteration(NULL, FALSE);
	sg_clock_fake_advance(f->context.clock, 100);
	for (guint i = 0; i < n; i++) {
		g_autofree char *name = g_strdup_printf("s%u", i);
		g_assert_cmpint(state_of(f, name), ==, SG_SERVICE_RUNNING);
	}
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_test_message("state.json written %u times for %u services",
	               sg_persist_write_count(f->persist) - writes_before, n);
	g_assert_cmpuint(sg_persist_write_count(f->persist) - writes_before, <=, 10);
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/supervisor/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main(int argc, char **argv)
{
	int status;

	reaper = sg_test_init_with_reaper(&argc, &argv);

	ADD("order", test_order);
	ADD("blocked-until-recovered", test_blocked_until_recovered);
	ADD("cascade", test_cascade);
	ADD("crash-restart-leaves-dependents", test_crash_restart_leaves_dependents);
	ADD("restart-policies", test_restart_policies);
	ADD("backoff", test_backoff);
	ADD("max-restarts", test_max_restarts);
	ADD("restart-count-resets", test_restart_count_resets);
	ADD("skip", test_skip);
	ADD("stop-leaves-nothing", test_stop_leaves_nothing);
	ADD("stop-timeout-kills", test_stop_timeout_kills);
	ADD("simple-command-has-one-process", test_simple_command_has_one_process);
	ADD("leftovers-gone-before-restart", test_leftovers_gone_before_restart);
	ADD("notify-gates-dependent", test_notify_gates_dependent);
	ADD("spawn-failures", test_spawn_failures);
	ADD("hooks-start-and-stop", test_hooks_start_and_stop);
	ADD("hooks-crash-then-restart", test_hooks_crash_then_restart);
	ADD("hooks-failed-restart", test_hooks_failed_restart);
	ADD("state-files", test_state_files);
	ADD("writes-coalesced", test_writes_coalesced);
	status = g_test_run();
	sg_reaper_free(reaper);
	return status;
}
