/* SPDX-License-Identifier: MIT */
/* sysg start: runs sysgd on the configuration, or starts services in the running one. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "sg-config.h"
#include "sg-error.h"
#include "sg-paths.h"
#include "sg-state.h"

#define EXIT_USAGE 2

/* sysgd beside sysg (installed, or ../daemon/ in the build tree), then $PATH. */
static char *
find_sysgd(void)
{
	const char *override = g_getenv("SYSTEMG_SYSGD");
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = self != NULL ? g_path_get_dirname(self) : NULL;

	if (override != NULL && override[0] != '\0')
		return g_strdup(override);
	if (dir != NULL) {
		g_autofree char *beside = g_build_filename(dir, "sysgd", NULL);
		g_autofree char *build_tree = g_build_filename(dir, "..", "daemon", "sysgd", NULL);
		if (g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
			return g_steal_pointer(&beside);
		if (g_file_test(build_tree, G_FILE_TEST_IS_EXECUTABLE))
			return g_canonicalize_filename(build_tree, NULL);
	}
	return g_find_program_in_path("sysgd");
}

int
sg_cli_exec_sysgd(const char *config, gboolean daemonize, const char *log_level)
{
	g_autofree char *sysgd = find_sysgd();
	g_autofree char *absolute = NULL;
	g_autoptr(GPtrArray) args = g_ptr_array_new();

	if (sysgd == NULL) {
		sg_cli_error(_("cannot find the sysgd program next to sysg or in PATH"));
		return 1;
	}
	absolute = g_canonicalize_filename(config, NULL);
	g_ptr_array_add(args, sysgd);
	g_ptr_array_add(args, "--config");
	g_ptr_array_add(args, absolute);
	if (daemonize)
		g_ptr_array_add(args, "--daemonize");
	if (log_level != NULL) {
		g_ptr_array_add(args, "--log-level");
		g_ptr_array_add(args, (char *)log_level);
	}
	g_ptr_array_add(args, NULL);
	/* sysgd does the rest: its exit status and messages are start's own. */
	execv(sysgd, (char **)args->pdata);
	sg_cli_error(_("cannot run %s: %s"), sysgd, g_strerror(errno));
	return 1;
}

/* The running supervisor's configuration: from its status, else from config_hint. */
static char *
running_config(SgClient *client, const char *state_dir)
{
	g_autoptr(JsonNode) status = sg_client_status(client, NULL);
	JsonObject *supervisor = NULL;

	if (status != NULL && json_object_has_member(json_node_get_object(status), "supervisor"))
		supervisor =
		        json_object_get_object_member(json_node_get_object(status), "supervisor");
	if (supervisor != NULL && json_object_has_member(supervisor, "config") &&
	    !json_object_get_null_member(supervisor, "config"))
		return g_strdup(json_object_get_string_member(supervisor, "config"));
	return sg_state_read_config_hint(state_dir);
}

/* A supervisor already runs: start services in it when it runs this configuration. */
static int
start_in_running(const char *state_dir, pid_t running, const char *explicit_config,
                 const char *service)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SgClient) client = sg_client_connect(state_dir, &error);
	g_autoptr(JsonObject) params = json_object_new();
	g_autofree char *theirs = NULL;
	g_autofree char *ours = NULL;
	g_autofree char *discovered = NULL;

	if (client == NULL) {
		sg_cli_error(_("a supervisor is running (PID %d) on %s but cannot be reached: %s"),
		             running, state_dir, error->message);
		return 1;
	}
	theirs = running_config(client, state_dir);
	discovered = sg_config_discover(explicit_config, NULL, NULL);
	/* With no file here and no --config, the running supervisor's file is the one meant. */
	if (discovered != NULL)
		ours = g_canonicalize_filename(discovered, NULL);
	if (ours != NULL && theirs != NULL && g_strcmp0(ours, theirs) != 0) {
		g_autofree char *real_ours = realpath(ours, NULL);
		g_autofree char *real_theirs = realpath(theirs, NULL);

		if (real_ours == NULL || real_theirs == NULL ||
		    strcmp(real_ours, real_theirs) != 0) {
			sg_cli_error(_("a supervisor is already running (PID %d) on another "
			               "configuration, %s; to switch to %s, run 'sysg restart "
			               "--config %s'"),
			             running, theirs, ours, ours);
			return 5;
		}
	}
	if (service != NULL)
		json_object_set_string_member(params, "name", service);
	if (!sg_client_call(client, "start", params, NULL, &error)) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	if (service != NULL)
		printf(_("started %s\n"), service);
	else
		printf("%s\n", _("started every stopped service"));
	return 0;
}

int
sg_cmd_start(int argc, char **argv, SgCliGlobals *globals)
{
	gboolean daemonize = FALSE;
	g_autofree char *service = NULL;
	GOptionEntry entries[] = {
		{ "daemonize", 0, 0, G_OPTION_ARG_NONE, &daemonize,
		  N_("Return once every service has settled; the supervisor stays in the "
		     "background"),
		  NULL },
		{ "service", 0, 0, G_OPTION_ARG_STRING, &service, N_("Start only this service"),
		  N_("NAME") },
		{ NULL },
	};
	g_autoptr(GError) error = NULL;
	g_autofree char *state_dir = sg_paths_state_dir();
	g_autofree char *config = NULL;
	pid_t running = 0;

	if (!sg_cli_parse("start", NULL, _("Start the supervisor on the configuration."), entries,
	                  &argc, &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg start --help'."));
		return EXIT_USAGE;
	}
	if (sg_pid_file_query(state_dir, &running))
		return start_in_running(state_dir, running, globals->config, service);
	config = sg_config_discover(globals->config, NULL, &error);
	if (config == NULL) {
		sg_cli_error("%s", error->message);
		return 3;
	}
	if (service != NULL) {
		sg_cli_error(_("--service needs a running supervisor; start it first"));
		return 5;
	}
	return sg_cli_exec_sysgd(config, daemonize, globals->log_level);
}
