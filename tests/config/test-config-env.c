/* SPDX-License-Identifier: MIT */
/* Tests of a service's environment at load time: ${VAR} expansion, layers, env files, markers. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "config/sg-config.h"
#include "base/sg-error.h"
#include "config/sg-problem.h"
#include "lib/sg-test-config.h"
#include "lib/sg-test.h"

static void
test_env_scalars_become_strings(Fixture *f, gconstpointer data)
{
	assert_valid(f,
	             "version: \"1\"\n"
	             "services:\n"
	             "  a:\n"
	             "    command: x\n"
	             "    env:\n"
	             "      vars: { PORT: 8080, DEBUG: true, RATIO: 0.5, EMPTY: ~, Q: \"7\" }\n");
	g_assert_cmpstr(env_value(service(f, "a"), "PORT"), ==, "8080");
	g_assert_cmpstr(env_value(service(f, "a"), "DEBUG"), ==, "true");
	g_assert_cmpstr(env_value(service(f, "a"), "RATIO"), ==, "0.5");
	g_assert_cmpstr(env_value(service(f, "a"), "EMPTY"), ==, "");
	g_assert_cmpstr(env_value(service(f, "a"), "Q"), ==, "7");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    env: { vars: { L: [1, 2] } }\n",
	               "5:23: services.a.env.vars.L: expected a value, found a sequence");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    env: { vars: { 1BAD: x } }\n",
	               "5:20: services.a.env.vars.1BAD: invalid variable name \"1BAD\"");
}

/* ---- names ---- */

static void
test_expansion(Fixture *f, gconstpointer data)
{
	write_file(f, "root.env", "ROOT_FILE=rf\nSHARED=root-file\n");
	write_file(f, "svc-from-supervisor.env", "SVC_FILE=sf\nSHARED=service-file\n");
	assert_valid(f,
	             "version: \"1\"\n"
	             "env:\n"
	             "  file: \"root.env\"\n"
	             "  vars: { ROOT_VAR: \"${ROOT_FILE}-rv\", SHARED: root-vars }\n"
	             "services:\n"
	             "  a:\n"
	             "    exec: [\"/bin/echo\", \"${SHARED}\", \"$${BASE}\", \"$BASE\", \"${A}\"]\n"
	             "    working_dir: \"${HOME}/work\"\n"
	             "    env:\n"
	             "      file: \"svc-${BASE}.env\"\n"
	             "      vars:\n"
	             "        A: \"${SHARED}+${SVC_FILE}\"\n"
	             "        SHARED: \"${SHARED}!\"\n"
	             "        HOME: \"/elsewhere\"\n"
	             "        PORT: 9\n"
	             "    health_check: { url: \"http://127.0.0.1:${PORT}/health\" }\n"
	             "  b:\n"
	             "    exec: [\"/bin/true\"]\n"
	             "    env: { vars: { PORT: 1 } }\n"
	             "    health_check: { tcp: \"localhost:${PORT}\" }\n");
	/* exec sees every layer: the service's vars win */
	g_assert_cmpstr(service(f, "a")->argv[1], ==, "service-file!");
	g_assert_cmpstr(service(f, "a")->argv[2], ==, "${BASE}");
	g_assert_cmpstr(service(f, "a")->argv[3], ==, "$BASE");
	g_assert_cmpstr(service(f, "a")->argv[4], ==, "service-file+sf");
	/* a service var sees only the layers below it */
	g_assert_cmpstr(env_value(service(f, "a"), "ROOT_VAR"), ==, "rf-rv");
	g_assert_cmpstr(env_value(service(f, "a"), "A"), ==, "service-file+sf");
	g_assert_cmpstr(service(f, "a")->working_dir, ==, "/elsewhere/work");
	g_assert_cmpstr(service(f, "a")->health_check.target, ==, "http://127.0.0.1:9/health");
	g_assert_cmpstr(service(f, "b")->health_check.target, ==, "localhost:1");
	g_assert_cmpstr(env_value(service(f, "b"), "SHARED"), ==, "root-vars");
	g_assert_null(env_value(service(f, "b"), "SVC_FILE"));
}

static void
test_expansion_refused(Fixture *f, gconstpointer data)
{
	assert_refused(
	        f, "version: \"1\"\nservices:\n  a:\n    exec: [\"/bin/echo\", \"${MISSING}\"]\n",
	        "4:25: services.a.exec[1]: undefined variable \"MISSING\"");
	/* no self-reference inside one layer */
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    env: { vars: { X: \"1\", Y: \"${X}\" } }\n",
	               "5:31: services.a.env.vars.Y: undefined variable \"X\"");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    exec: [\"/bin/echo\", \"${OPEN\"]\n",
	               "4:25: services.a.exec[1]: unterminated \"${\"");
	assert_refused(f, "version: \"1\"\nservices:\n  a:\n    exec: [\"/bin/echo\", \"${1X}\"]\n",
	               "4:25: services.a.exec[1]: invalid variable name \"${1X}\"");
	/* the supervisor's manager variables are gone before expansion */
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    exec: [\"/bin/echo\", "
	               "\"${NOTIFY_SOCKET}\"]\n",
	               "4:25: services.a.exec[1]: undefined variable \"NOTIFY_SOCKET\"");
}

static void
test_environment_layers(Fixture *f, gconstpointer data)
{
	g_auto(GStrv) env = NULL;

	write_file(f, "common.env", "LEVEL=file\nONLY_FILE=1\nBASE=overridden-by-file\n");
	assert_valid(f, "version: \"1\"\n"
	                "env: { file: common.env, vars: { LEVEL: root } }\n"
	                "services:\n"
	                "  a:\n"
	                "    command: x\n"
	                "    env: { vars: { LEVEL: service } }\n"
	                "  b:\n"
	                "    command: x\n");
	env = sg_config_service_environ(f->config, service(f, "a"));
	g_assert_cmpstr(g_environ_getenv(env, "LEVEL"), ==, "service");
	g_assert_cmpstr(g_environ_getenv(env, "ONLY_FILE"), ==, "1");
	g_assert_cmpstr(g_environ_getenv(env, "BASE"), ==, "overridden-by-file");
	g_assert_cmpstr(g_environ_getenv(env, "PATH"), ==, "/usr/bin:/bin");
	g_assert_null(g_environ_getenv(env, "NOTIFY_SOCKET"));
	g_assert_null(g_environ_getenv(env, "INVOCATION_ID"));
	g_assert_null(g_environ_getenv(env, "LISTEN_FDS"));
	g_assert_null(g_environ_getenv(env, "WATCHDOG_USEC"));
	g_assert_null(g_environ_getenv(env, "JOURNAL_STREAM"));
	g_assert_cmpstr(env_value(service(f, "b"), "LEVEL"), ==, "root");
}

static void
test_env_files(Fixture *f, gconstpointer data)
{
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    env: { file: \"missing.env\" }\n",
	               "5:18: services.a.env.file: missing.env: No such file or directory");
	write_file(f, "bad.env", "GOOD=1\n1BAD=2\n");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    env: { file: bad.env }\n",
	               "5:18: services.a.env.file: bad.env:2: invalid key \"1BAD\"");
}

/* ---- paths ---- */

/* The markers are the last layer: SYSTEMG_SERVICE is known when the file is loaded. */
static void
test_service_marker_expands(Fixture *f, gconstpointer data)
{
	static char *outer_env[] = { "PATH=/usr/bin:/bin", "SYSTEMG_SERVICE=outer", NULL };

	write_file(f, "api.env", "FROM_FILE=1\n");
	/* Even when the supervisor itself runs as a service of another one. */
	f->base_env = outer_env;
	assert_valid(f, "version: \"1\"\n"
	                "services:\n"
	                "  api:\n"
	                "    exec: [\"/bin/echo\", \"${SYSTEMG_SERVICE}\", \"--log=${LOG}\"]\n"
	                "    working_dir: \"/srv/${SYSTEMG_SERVICE}\"\n"
	                "    env:\n"
	                "      file: \"${SYSTEMG_SERVICE}.env\"\n"
	                "      vars: { LOG: \"/var/log/${SYSTEMG_SERVICE}.log\" }\n"
	                "    health_check: { url: \"http://127.0.0.1:8080/${SYSTEMG_SERVICE}\" }\n"
	                "  web:\n"
	                "    exec: [\"/bin/echo\", \"${SYSTEMG_SERVICE}\"]\n");
	g_assert_cmpstr(service(f, "api")->argv[1], ==, "api");
	g_assert_cmpstr(service(f, "api")->argv[2], ==, "--log=/var/log/api.log");
	g_assert_cmpstr(service(f, "api")->working_dir, ==, "/srv/api");
	g_assert_cmpstr(env_value(service(f, "api"), "LOG"), ==, "/var/log/api.log");
	g_assert_cmpstr(env_value(service(f, "api"), "FROM_FILE"), ==, "1");
	g_assert_cmpstr(service(f, "api")->health_check.target, ==, "http://127.0.0.1:8080/api");
	g_assert_cmpstr(service(f, "web")->argv[1], ==, "web");
}

/* What is not known when the file is loaded is refused, at the value, saying why. */
static void
test_run_time_markers_refused(Fixture *f, gconstpointer data)
{
	static char *marked_env[] = { "PATH=/usr/bin:/bin", "SYSTEMG_INVOCATION_ID=abc",
		                      "SYSTEMG_STATE_ID=def", NULL };

	/* Inherited values do not count: the service gets its own. */
	f->base_env = marked_env;
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n"
	               "    exec: [\"/bin/echo\", \"${SYSTEMG_INVOCATION_ID}\"]\n",
	               "4:25: services.a.exec[1]: \"SYSTEMG_INVOCATION_ID\" is new for every "
	               "instance and not known when the file is loaded");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    working_dir: \"/run/${SYSTEMG_STATE_ID}\"\n",
	               "5:18: services.a.working_dir: \"SYSTEMG_STATE_ID\" belongs to the state "
	               "directory");
	assert_refused(f,
	               "version: \"1\"\nservices:\n  a:\n    command: x\n"
	               "    env: { vars: { ID: \"x-${SYSTEMG_INVOCATION_ID}\" } }\n",
	               "5:24: services.a.env.vars.ID: \"SYSTEMG_INVOCATION_ID\" is new");
	/* The top level is shared by every service: SYSTEMG_SERVICE has no value there. */
	assert_refused(f,
	               "version: \"1\"\nenv: { vars: { LOG: \"${SYSTEMG_SERVICE}.log\" } }\n"
	               "services:\n  a:\n    command: x\n",
	               "2:21: env.vars.LOG: \"SYSTEMG_SERVICE\" differs per service");
	/* In a shell command the shell expands them at run time: nothing to refuse. */
	assert_valid(f, "version: \"1\"\nservices:\n  a:\n"
	                "    command: \"echo ${SYSTEMG_INVOCATION_ID} ${SYSTEMG_STATE_ID}\"\n");
}

#define ADD(path, func)                                                                            \
	g_test_add("/sg/config/" path, Fixture, NULL, config_fixture_set_up, func,                 \
	           config_fixture_tear_down)

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	ADD("env-scalars-become-strings", test_env_scalars_become_strings);
	ADD("expansion", test_expansion);
	ADD("expansion-refused", test_expansion_refused);
	ADD("environment-layers", test_environment_layers);
	ADD("env-files", test_env_files);
	ADD("service-marker-expands", test_service_marker_expands);
	ADD("run-time-markers-refused", test_run_time_markers_refused);
	return g_test_run();
}
