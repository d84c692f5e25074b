/* SPDX-License-Identifier: MIT */
/* Tests of the configuration model: every rule of SPEC section 3, accepted and refused. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "config/sg-config.h"
#include "base/sg-error.h"
#include "config/sg-problem.h"
#include "lib/sg-test-config.h"
#include "lib/sg-test.h"

/* ---- version and top level ---- */

static void
test_version(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices: {}\n");
	assert_valid(f, "version: 1\nservices: {}\n");
	g_assert_cmpuint(f->config->services->len, ==, 0);
	assert_refused(f, "version: \"2\"\nservices: {}\n", "1:10: version: unsupported version 2");
	assert_refused(f, "services: {}\n", "1:1: version: the key \"version\" is required");
}

static void
test_top_level_keys(Fixture *f, gconstpointer data)
{
	assert_refused(f, "version: \"1\"\nservice: {}\n",
	               "1:1: services: the key \"services\" is required\n"
	               "2:1: service: unknown key \"service\" (did you mean \"services\"?)");
	assert_refused(f, "version: \"1\"\nservices: [a, b]\n",
	               "2:11: services: expected a mapping, found a sequence");
	assert_refused(f, "- 1\n- 2\n", "1:1: expected a mapping, found a sequence");
}

/* ---- YAML rules ---- */

static void
test_anchors_and_merge(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\n"
	                "services:\n"
	                "  a: &base\n"
	                "    command: \"sleep 1\"\n"
	                "    restart_policy: always\n"
	                "    backoff: 2s\n"
	                "  b:\n"
	                "    <<: *base\n"
	                "    backoff: 3s\n");
	g_assert_cmpint(service(f, "b")->restart_policy, ==, SG_RESTART_ALWAYS);
	g_assert_cmpuint(service(f, "b")->backoff_ms, ==, 3000);
	g_assert_cmpuint(service(f, "a")->backoff_ms, ==, 2000);
	g_assert_cmpstr(service(f, "b")->command, ==, "sleep 1");
}

static void
test_duplicate_keys(Fixture *f, gconstpointer data)
{
	assert_refused(
	        f,
	        "version: \"1\"\n"
	        "services:\n"
	        "  a:\n"
	        "    command: \"x\"\n"
	        "    command: \"y\"\n",
	        "5:5: services.a.command: duplicate key \"command\" (first at line 4, column 5)");
}

static void
test_booleans(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    command: x\n    skip: true\n");
	g_assert_true(service(f, "a")->skip);
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    command: x\n    skip: yes\n",
	               "5:11: services.a.skip: \"yes\" is not a boolean in YAML 1.2");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    health_check: { notify: on }\n",
	               "5:29: services.a.health_check.notify: \"on\" is not a boolean");
}

static void
test_names(Fixture *f, gconstpointer data)
{
	g_autofree char *long_ok = g_strnfill(SG_SERVICE_NAME_MAX, 'n');
	g_autofree char *long_bad = g_strnfill(SG_SERVICE_NAME_MAX + 1, 'n');
	g_autofree char *yaml_ok = NULL, *yaml_bad = NULL;

	assert_valid(f, "version: \"1\"\nservices:\n  Web_1.api-v2:\n    command: x\n");
	g_assert_true(sg_config_name_is_valid("a"));
	g_assert_true(sg_config_name_is_valid(long_ok));
	g_assert_false(sg_config_name_is_valid(long_bad));
	g_assert_false(sg_config_name_is_valid(""));
	g_assert_false(sg_config_name_is_valid(".hidden"));
	g_assert_false(sg_config_name_is_valid("-x"));
	g_assert_false(sg_config_name_is_valid("a/b"));
	g_assert_false(sg_config_name_is_valid("é"));

	assert_refused(f, "version: \"1\"\nservices:\n  \"my service\":\n    command: x\n",
	               "3:3: services.my service: invalid service name \"my service\"");
	assert_refused(f, "version: \"1\"\nservices:\n  .hidden:\n    command: x\n",
	               "3:3: services..hidden: invalid service name");
	yaml_ok = g_strdup_printf("version: \"1\"\nservices:\n  %s:\n    command: x\n", long_ok);
	assert_valid(f, yaml_ok);
	yaml_bad = g_strdup_printf("version: \"1\"\nservices:\n  %s:\n    command: x\n", long_bad);
	assert_refused(f, yaml_bad, "3:3: services.");
}

/* ---- unknown keys and types ---- */

static void
test_unknown_keys(Fixture *f, gconstpointer data)
{
	assert_refused(f,
	               "version: \"1\"\n"
	               "services:\n"
	               "  api:\n"
	               "    command: x\n"
	               "    restar_policy: always\n",
	               "5:5: services.api.restar_policy: unknown key \"restar_policy\" (did you "
	               "mean \"restart_policy\"?)");
	assert_refused(f,
	               "version: \"1\"\n"
	               "services:\n"
	               "  api:\n"
	               "    command: x\n"
	               "    health_check:\n"
	               "      tcp: \"127.0.0.1:80\"\n"
	               "      intervall: 1s\n",
	               "7:7: services.api.health_check.intervall: unknown key \"intervall\" "
	               "(did you mean \"interval\"?)");
	assert_refused(f, "version: \"1\"\nservices:\n  api:\n    command: x\n    zzzzzz: 1\n",
	               "5:5: services.api.zzzzzz: unknown key \"zzzzzz\"");
}

static void
test_wrong_types(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    command: x\n    max_restarts: 10\n"
	                "    restart_policy: on-failure\n");
	g_assert_cmpint(service(f, "a")->max_restarts, ==, 10);
	g_assert_cmpint(service(f, "a")->restart_policy, ==, SG_RESTART_ON_FAILURE);
	assert_refused(
	        f, "version: \"1\"\nservices:\n  a:\n    command: x\n    max_restarts: \"10\"\n",
	        "5:19: services.a.max_restarts: expected a whole number, found a string");
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    command: x\n    max_restarts: -1\n",
	               "5:19: services.a.max_restarts: \"-1\" is not a whole number");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    restart_policy: on-failur\n",
	               "5:21: services.a.restart_policy: unknown restart policy \"on-failur\" "
	               "(did you mean \"on-failure\"?)");
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    command: [x]\n",
	               "4:14: services.a.command: expected a string, found a sequence");
	assert_refused(f, "version: \"1\"\nservices:\n  a: \"sleep 1\"\n",
	               "3:6: services.a: expected a mapping, found a scalar");
}

/* ---- durations ---- */

static void
test_durations(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    command: x\n"
	                "    backoff: 250ms\n    stop_timeout: 7\n    backoff_max: 2h\n");
	g_assert_cmpuint(service(f, "a")->backoff_ms, ==, 250);
	g_assert_cmpuint(service(f, "a")->stop_timeout_ms, ==, 7000);
	g_assert_cmpuint(service(f, "a")->backoff_max_ms, ==, 2 * 3600 * 1000);
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    command: x\n    backoff: 720h\n"
	                "    stop_timeout: 0\n");
	g_assert_cmpuint(service(f, "a")->backoff_ms, ==, SG_DURATION_MAX_MS);
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    command: x\n");
	g_assert_cmpuint(service(f, "a")->backoff_ms, ==, 5000);
	g_assert_cmpuint(service(f, "a")->stop_timeout_ms, ==, 10000);
	g_assert_cmpint(service(f, "a")->max_restarts, ==, -1);
	g_assert_cmpuint(service(f, "a")->hooks[SG_HOOK_ON_STOP_ERROR].timeout_ms, ==, 30000);

	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    command: x\n    backoff: 1.5s\n",
	               "5:14: services.a.backoff: invalid duration \"1.5s\"");
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    command: x\n    backoff: 721h\n",
	               "5:14: services.a.backoff: invalid duration \"721h\"");
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    command: x\n    backoff: \"5x\"\n",
	               "5:14: services.a.backoff: invalid duration \"5x\"");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n    backoff: 10s\n"
	               "    backoff_max: 5s\n",
	               "6:18: services.a.backoff_max: backoff_max must not be shorter");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    health_check: { notify: true, interval: 0 }\n",
	               "5:45: services.a.health_check.interval: must be longer than 0");
}

/* ---- command and exec ---- */

static void
test_command_exec(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    exec: [\"/bin/sleep\", \"1\"]\n"
	                "  b:\n    command: \"sleep 1\"\n");
	g_assert_cmpstr(service(f, "a")->argv[0], ==, "/bin/sleep");
	g_assert_cmpstr(service(f, "a")->argv[1], ==, "1");
	g_assert_null(service(f, "a")->command);
	g_assert_null(service(f, "b")->argv);
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: \"x\"\n    exec: [\"x\"]\n",
	               "5:5: services.a.exec: a service has either command or exec, not both");
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    restart_policy: always\n",
	               "3:3: services.a: a service needs a command or an exec");
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    exec: []\n",
	               "4:11: services.a.exec: needs at least the program to run");
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    command: \"\"\n",
	               "4:14: services.a.command: must not be empty");
}

/* ---- expansion ---- */

static void
test_shell_commands_untouched(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n"
	                "    command: \"echo ${UNDEFINED} $HOME $$ ${BASE}\"\n"
	                "    skip: \"test -n \\\"${CI}\\\"\"\n"
	                "    health_check: { command: \"curl ${NOPE}\" }\n"
	                "    deployment: { pre_start: \"make ${NOPE}\" }\n"
	                "    hooks: { on_start: { success: { command: \"echo ${NOPE}\" } } }\n");
	g_assert_cmpstr(service(f, "a")->command, ==, "echo ${UNDEFINED} $HOME $$ ${BASE}");
	g_assert_cmpstr(service(f, "a")->skip_command, ==, "test -n \"${CI}\"");
	g_assert_cmpstr(service(f, "a")->health_check.target, ==, "curl ${NOPE}");
	g_assert_cmpstr(service(f, "a")->deployment.pre_start, ==, "make ${NOPE}");
	g_assert_cmpstr(service(f, "a")->hooks[SG_HOOK_ON_START_SUCCESS].command, ==,
	                "echo ${NOPE}");
}

static void
test_paths_and_warnings(Fixture *f, gconstpointer data)
{
	g_autofree char *sub = g_build_filename(f->dir, "sub", NULL);
	g_autofree char *tool = g_build_filename(sub, "tool", NULL);
	g_autofree char *text = NULL;

	g_mkdir(sub, 0755);
	g_file_set_contents(tool, "#!/bin/sh\n", -1, NULL);
	g_chmod(tool, 0755);
	assert_valid(f, "version: \"1\"\nservices:\n"
	                "  a:\n    exec: [\"./tool\"]\n    working_dir: sub\n"
	                "  b:\n    exec: [\"sh\"]\n"
	                "  c:\n    command: x\n");
	g_assert_cmpstr(service(f, "a")->working_dir, ==, sub);
	g_assert_cmpstr(service(f, "c")->working_dir, ==, f->dir);
	text = problems_text(f, SG_PROBLEM_WARNING);
	g_assert_cmpstr(text, ==, "");

	assert_valid(f, "version: \"1\"\nservices:\n"
	                "  a:\n    exec: [\"./nothing\"]\n    working_dir: nowhere\n"
	                "  b:\n    exec: [\"no-such-program-here\"]\n");
	g_clear_pointer(&text, g_free);
	text = problems_text(f, SG_PROBLEM_WARNING);
	g_assert_true(strstr(text, "4:12: services.a.exec[0]: warning: program ") != NULL);
	g_assert_true(strstr(text, "5:18: services.a.working_dir: warning: working directory") !=
	              NULL);
	g_assert_true(strstr(text,
	                     "7:12: services.b.exec[0]: warning: program "
	                     "\"no-such-program-here\" is not in the service's PATH") != NULL);
}

/* project_dir: where relative paths resolve and services run, itself relative to the file. */
static void
test_project_dir(Fixture *f, gconstpointer data)
{
	g_autofree char *project = g_build_filename(f->dir, "project", NULL);
	g_autofree char *api = g_build_filename(project, "api", NULL);
	g_autofree char *text = NULL;
	char hash[65];

	g_mkdir_with_parents(api, 0755);
	write_file(f, "project/common.env", "FROM=project\n");
	assert_valid(f, "version: \"1\"\nproject_dir: project\n"
	                "env: { file: common.env }\n"
	                "services:\n"
	                "  api:\n    exec: [\"./run\"]\n    working_dir: api\n"
	                "  web:\n    command: x\n"
	                "  abs:\n    command: x\n    working_dir: /tmp\n");
	g_assert_cmpstr(f->config->dir, ==, project);
	g_assert_cmpstr(service(f, "api")->working_dir, ==, api);
	g_assert_cmpstr(service(f, "web")->working_dir, ==, project);
	g_assert_cmpstr(service(f, "abs")->working_dir, ==, "/tmp");
	g_assert_cmpstr(env_value(service(f, "web"), "FROM"), ==, "project");
	g_strlcpy(hash, service(f, "web")->hash, sizeof(hash));

	/* Absolute, expanded from the supervisor's environment; the process runs elsewhere,
	 * so the hash changes. */
	write_file(f, "common.env", "FROM=project\n");
	assert_valid(f, "version: \"1\"\nproject_dir: \"${HOME}/elsewhere\"\n"
	                "services:\n  web:\n    command: x\n");
	g_assert_cmpstr(service(f, "web")->working_dir, ==, "/home/tester/elsewhere");
	g_assert_cmpstr(service(f, "web")->hash, !=, hash);
	text = problems_text(f, SG_PROBLEM_WARNING);
	g_assert_true(g_str_has_prefix(text, "2:14: project_dir: warning: project directory "));

	/* The default is the file's own directory, as "." says. */
	assert_valid(f, "version: \"1\"\nproject_dir: .\nservices:\n  web:\n    command: x\n");
	g_assert_cmpstr(service(f, "web")->working_dir, ==, f->dir);
	assert_refused(f, "version: \"1\"\nproject_dir: [a]\nservices: {}\n",
	               "2:14: project_dir: expected a string");
	assert_refused(f, "version: \"1\"\nproject_dir: \"${SYSTEMG_SERVICE}\"\nservices: {}\n",
	               "2:14: project_dir: \"SYSTEMG_SERVICE\" differs per service");
}

/* ---- dependencies ---- */

static void
test_dependencies(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices:\n"
	                "  db:\n    command: x\n"
	                "  migrate:\n    command: x\n"
	                "  api:\n    command: x\n"
	                "    depends_on: [db, { service: migrate, condition: completed }]\n");
	g_assert_cmpuint(service(f, "api")->n_depends_on, ==, 2);
	g_assert_cmpstr(service(f, "api")->depends_on[0].service, ==, "db");
	g_assert_cmpint(service(f, "api")->depends_on[0].condition, ==, SG_CONDITION_READY);
	g_assert_cmpint(service(f, "api")->depends_on[1].condition, ==, SG_CONDITION_COMPLETED);

	assert_refused(f,
	               "version: \"1\"\nservices:\n  db:\n    command: x\n"
	               "  api:\n    command: x\n    depends_on: [dbb]\n",
	               "7:18: services.api.depends_on[0]: unknown service \"dbb\" (did you mean "
	               "\"db\"?)");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  db:\n    command: x\n"
	               "  api:\n    command: x\n"
	               "    depends_on: [{ service: db, condition: started }]\n",
	               "7:44: services.api.depends_on[0].condition: unknown condition \"started\"");
	assert_refused(f, "version: \"1\"\nservices:\n  api:\n    command: x\n    depends_on: db\n",
	               "5:17: services.api.depends_on: expected a list, found a scalar");
}

static void
test_cycles(Fixture *f, gconstpointer data)
{
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    command: x\n    depends_on: [a]\n",
	               "5:18: services.a.depends_on[0]: dependency cycle: a -> a");
	assert_refused(f,
	               "version: \"1\"\nservices:\n"
	               "  a:\n    command: x\n    depends_on: [b]\n"
	               "  b:\n    command: x\n    depends_on: [a]\n",
	               "8:18: services.b.depends_on[0]: dependency cycle: a -> b -> a");
	assert_refused(f,
	               "version: \"1\"\nservices:\n"
	               "  a:\n    command: x\n    depends_on: [b]\n"
	               "  b:\n    command: x\n    depends_on: [c]\n"
	               "  c:\n    command: x\n    depends_on: [a]\n",
	               "11:18: services.c.depends_on[0]: dependency cycle: a -> b -> c -> a");
}

/* ---- cron ---- */

static void
test_cron(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices:\n  backup:\n    command: x\n"
	                "    cron: { expression: \"0 0 2 * * *\", timezone: \"Europe/Paris\" }\n");
	g_assert_nonnull(service(f, "backup")->cron);
	g_assert_cmpstr(service(f, "backup")->cron_timezone, ==, "Europe/Paris");

	assert_refused(f,
	               "version: \"1\"\nservices:\n  backup:\n    command: x\n"
	               "    cron: { expression: \"0 61 * * * *\" }\n",
	               "5:25: services.backup.cron.expression: minute field");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  backup:\n    command: x\n"
	               "    cron: { expression: \"@daily\", timezone: \"Mars/Olympus\" }\n",
	               "5:45: services.backup.cron.timezone: unknown time zone \"Mars/Olympus\"");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  backup:\n    command: x\n"
	               "    cron: { expression: \"@daily\" }\n    restart_policy: always\n",
	               "6:5: services.backup.restart_policy: \"restart_policy\" is not allowed on "
	               "a cron job");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  backup:\n    command: x\n"
	               "    cron: { expression: \"@daily\" }\n"
	               "  api:\n    command: x\n    depends_on: [backup]\n",
	               "8:18: services.api.depends_on[0]: \"backup\" is a cron job");
}

/* ---- health checks, deployment, hooks, logs ---- */

static void
test_health_checks(Fixture *f, gconstpointer data)
{
	assert_valid(f,
	             "version: \"1\"\nservices:\n"
	             "  a:\n    command: x\n    health_check: { url: \"http://127.0.0.1:8080/h\", "
	             "interval: 200ms, timeout: 5s, retries: 7 }\n"
	             "  b:\n    command: x\n    health_check: { tcp: \"[::1]:5432\" }\n"
	             "  c:\n    command: x\n    health_check: { command: \"pg_isready\" }\n"
	             "  d:\n    command: x\n    health_check: { notify: true }\n");
	g_assert_cmpint(service(f, "a")->health_check.kind, ==, SG_CHECK_URL);
	g_assert_cmpuint(service(f, "a")->health_check.interval_ms, ==, 200);
	g_assert_cmpuint(service(f, "a")->health_check.timeout_ms, ==, 5000);
	g_assert_cmpuint(service(f, "a")->health_check.retries, ==, 7);
	g_assert_cmpint(service(f, "b")->health_check.kind, ==, SG_CHECK_TCP);
	g_assert_cmpuint(service(f, "b")->health_check.interval_ms, ==, 1000);
	g_assert_cmpuint(service(f, "b")->health_check.retries, ==, 3);
	g_assert_cmpint(service(f, "c")->health_check.kind, ==, SG_CHECK_COMMAND);
	g_assert_cmpint(service(f, "d")->health_check.kind, ==, SG_CHECK_NOTIFY);

	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    health_check: { tcp: \"h:1\", command: \"true\" }\n",
	               "5:33: services.a.health_check.command: a health check has exactly one");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    health_check: { retries: 2 }\n",
	               "5:19: services.a.health_check: a health check needs one of");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    health_check: { url: \"ftp://x/\" }\n",
	               "5:26: services.a.health_check.url: invalid URL \"ftp://x/\"");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    health_check: { tcp: \"localhost:99999\" }\n",
	               "5:26: services.a.health_check.tcp: invalid address \"localhost:99999\"");
}

static void
test_deployment(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    command: x\n"
	                "    deployment:\n"
	                "      strategy: rolling\n"
	                "      pre_start: \"make build\"\n"
	                "      health_check: { command: \"true\", timeout: 3s }\n"
	                "      grace_period: 5s\n");
	g_assert_cmpint(service(f, "a")->deployment.strategy, ==, SG_STRATEGY_ROLLING);
	g_assert_cmpstr(service(f, "a")->deployment.pre_start, ==, "make build");
	g_assert_cmpint(service(f, "a")->deployment.health_check.kind, ==, SG_CHECK_COMMAND);
	g_assert_cmpuint(service(f, "a")->deployment.grace_period_ms, ==, 5000);
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    deployment: { strategy: blue-green }\n",
	               "5:29: services.a.deployment.strategy: unknown strategy \"blue-green\"");
}

static void
test_hooks(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    command: x\n"
	                "    hooks:\n"
	                "      on_start: { success: { command: \"echo up\" }, "
	                "error: { command: \"echo down\", timeout: 10s } }\n"
	                "      on_stop: { success: { command: s }, error: { command: e } }\n"
	                "      on_restart: { success: { command: rs }, error: { command: re } }\n");
	g_assert_cmpstr(service(f, "a")->hooks[SG_HOOK_ON_START_SUCCESS].command, ==, "echo up");
	g_assert_cmpuint(service(f, "a")->hooks[SG_HOOK_ON_START_ERROR].timeout_ms, ==, 10000);
	g_assert_cmpstr(service(f, "a")->hooks[SG_HOOK_ON_RESTART_ERROR].command, ==, "re");
	g_assert_cmpstr(sg_hook_kind_to_string(SG_HOOK_ON_STOP_ERROR), ==, "on_stop.error");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    hooks: { on_crash: { success: { command: x } } }\n",
	               "5:14: services.a.hooks.on_crash: unknown key \"on_crash\"");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    hooks: { on_stop: { error: { timeout: 5s } } }\n",
	               "5:25: services.a.hooks.on_stop.error: a hook needs a command");
}

static void
test_logs(Fixture *f, gconstpointer data)
{
	assert_valid(f, "version: \"1\"\nlogs: { max_bytes: 1000, max_files: 2 }\nservices:\n"
	                "  a:\n    command: x\n    logs: { max_files: 9 }\n"
	                "  b:\n    command: x\n    logs: { max_bytes: 0 }\n"
	                "  c:\n    command: x\n");
	g_assert_cmpuint(service(f, "a")->logs.max_bytes, ==, 1000);
	g_assert_cmpuint(service(f, "a")->logs.max_files, ==, 9);
	g_assert_cmpuint(service(f, "b")->logs.max_bytes, ==, 0);
	g_assert_cmpuint(service(f, "b")->logs.max_files, ==, 2);
	g_assert_cmpuint(service(f, "c")->logs.max_bytes, ==, 1000);
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    command: x\n");
	g_assert_cmpuint(service(f, "a")->logs.max_bytes, ==, 10 * 1024 * 1024);
	g_assert_cmpuint(service(f, "a")->logs.max_files, ==, 5);
	assert_refused(f, "version: \"1\"\nlogs: { max_bytes: 10MB }\nservices: {}\n",
	               "2:20: logs.max_bytes: \"10MB\" is not a whole number");
}

/* ---- several problems, hashes, discovery ---- */

static void
test_five_problems(Fixture *f, gconstpointer data)
{
	assert_refused(f,
	               "version: \"1\"\n"
	               "services:\n"
	               "  a:\n"
	               "    command: x\n"
	               "    restar_policy: always\n"
	               "    backoff: soon\n"
	               "  b:\n"
	               "    exec: [\"${NOPE}\"]\n"
	               "    depends_on: [zzz]\n"
	               "  c:\n"
	               "    command: x\n"
	               "    skip: no\n",
	               "5:5: services.a.restar_policy: unknown key\n"
	               "6:14: services.a.backoff: invalid duration \"soon\"\n"
	               "8:12: services.b.exec[0]: undefined variable \"NOPE\"\n"
	               "9:18: services.b.depends_on[0]: unknown service \"zzz\"\n"
	               "12:11: services.c.skip: \"no\" is not a boolean");
}

static void
test_hash(Fixture *f, gconstpointer data)
{
	const char *base = "version: \"1\"\nservices:\n  a:\n    exec: [\"/bin/sleep\", \"60\"]\n"
	                   "    working_dir: /tmp\n    env: { vars: { K: v } }\n";
	g_autofree char *first = NULL;
	g_autofree char *yaml = NULL;

	assert_valid(f, base);
	first = g_strdup(service(f, "a")->hash);
	/* Pinned: the canonical form is a contract across builds and versions. */
	g_assert_cmpstr(first, ==,
	                "9508081f02ec4b45a7e280f26eef4fdb38f3d6a37e7b368655ed399d7ea0dec5");

	/* In-place changes leave the hash alone. */
	yaml = g_strconcat(base,
	                   "    restart_policy: always\n    backoff: 1s\n"
	                   "    hooks: { on_start: { success: { command: x } } }\n"
	                   "    logs: { max_files: 1 }\n    max_restarts: 3\n",
	                   NULL);
	assert_valid(f, yaml);
	g_assert_cmpstr(service(f, "a")->hash, ==, first);

	/* What the process sees changes it. */
	g_clear_pointer(&yaml, g_free);
	yaml = g_strconcat(base, "    stop_timeout: 3s\n", NULL);
	assert_valid(f, yaml);
	g_assert_cmpstr(service(f, "a")->hash, !=, first);
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    exec: [\"/bin/sleep\", \"61\"]\n"
	                "    working_dir: /tmp\n    env: { vars: { K: v } }\n");
	g_assert_cmpstr(service(f, "a")->hash, !=, first);
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    exec: [\"/bin/sleep\", \"60\"]\n"
	                "    working_dir: /tmp\n    env: { vars: { K: w } }\n");
	g_assert_cmpstr(service(f, "a")->hash, !=, first);
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n    exec: [\"/bin/sleep\", \"60\"]\n"
	                "    working_dir: /tmp\n    env: { vars: { K: v } }\n"
	                "    health_check: { notify: true }\n");
	g_assert_cmpstr(service(f, "a")->hash, !=, first);
}

static void
test_discover(Fixture *f, gconstpointer data)
{
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *xdg = g_build_filename(f->dir, "xdg", NULL);
	g_autofree char *xdg_file = g_build_filename(xdg, "systemg", "systemg.yaml", NULL);
	g_autofree char *local_sysg = g_build_filename(f->dir, "sysg.yaml", NULL);
	g_autofree char *found = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_no_errno(chdir(f->dir));
	g_setenv("XDG_CONFIG_HOME", xdg, TRUE);

	found = sg_config_discover("given.yaml", NULL, &error);
	g_assert_cmpstr(found, ==, "given.yaml");
	g_clear_pointer(&found, g_free);

	/* systemg.yaml exists already (the fixture's file) */
	g_file_set_contents(f->path, "version: 1\n", -1, NULL);
	found = sg_config_discover(NULL, NULL, &error);
	g_assert_cmpstr(found, ==, f->path);
	g_clear_pointer(&found, g_free);

	/* a hint wins over the working directory */
	g_file_set_contents(local_sysg, "version: 1\n", -1, NULL);
	found = sg_config_discover(NULL, local_sysg, &error);
	g_assert_cmpstr(found, ==, local_sysg);
	g_clear_pointer(&found, g_free);

	g_unlink(f->path);
	found = sg_config_discover(NULL, NULL, &error);
	g_assert_cmpstr(found, ==, local_sysg);
	g_clear_pointer(&found, g_free);

	g_unlink(local_sysg);
	g_clear_pointer(&found, g_free);
	found = g_path_get_dirname(xdg_file);
	g_mkdir_with_parents(found, 0700);
	g_clear_pointer(&found, g_free);
	g_file_set_contents(xdg_file, "version: 1\n", -1, NULL);
	found = sg_config_discover(NULL, NULL, &error);
	g_assert_cmpstr(found, ==, xdg_file);
	g_clear_pointer(&found, g_free);

	g_unlink(xdg_file);
	found = sg_config_discover(NULL, NULL, &error);
	g_assert_null(found);
	g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
	g_assert_true(strstr(error->message, "sysg.yaml") != NULL);

	g_unsetenv("XDG_CONFIG_HOME");
	g_assert_no_errno(chdir(cwd));
}

static void
test_limits(Fixture *f, gconstpointer data)
{
	GString *yaml = g_string_new("version: \"1\"\nservices:\n  a:\n    exec: [x");

	for (int i = 0; i < SG_CONFIG_MAX_ITEMS; i++)
		g_string_append(yaml, ", y");
	g_string_append(yaml, "]\n");
	assert_refused(f, yaml->str, "4:11: services.a.exec: more than 4096 arguments");
	g_string_free(yaml, TRUE);
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/config/" path, Fixture, NULL, config_fixture_set_up, func,                 \
	           config_fixture_tear_down)

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	ADD("version", test_version);
	ADD("top-level-keys", test_top_level_keys);
	ADD("anchors-and-merge", test_anchors_and_merge);
	ADD("duplicate-keys", test_duplicate_keys);
	ADD("booleans", test_booleans);
	ADD("names", test_names);
	ADD("unknown-keys", test_unknown_keys);
	ADD("wrong-types", test_wrong_types);
	ADD("durations", test_durations);
	ADD("command-exec", test_command_exec);
	ADD("shell-commands-untouched", test_shell_commands_untouched);
	ADD("paths-and-warnings", test_paths_and_warnings);
	ADD("project-dir", test_project_dir);
	ADD("dependencies", test_dependencies);
	ADD("cycles", test_cycles);
	ADD("cron", test_cron);
	ADD("health-checks", test_health_checks);
	ADD("deployment", test_deployment);
	ADD("hooks", test_hooks);
	ADD("logs", test_logs);
	ADD("five-problems", test_five_problems);
	ADD("hash", test_hash);
	ADD("discover", test_discover);
	ADD("limits", test_limits);
	return g_test_run();
}
