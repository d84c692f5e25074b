/* SPDX-License-Identifier: MIT */
/* sysg restart: restarts services by their strategy, or reloads with --config. */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "sg-config.h"
#include "sg-error.h"
#include "sg-paths.h"

#define EXIT_USAGE 2

int
sg_cmd_restart(int argc, char **argv, SgCliGlobals *globals)
{
	gboolean daemonize = FALSE;
	g_autofree char *service = NULL;
	GOptionEntry entries[] = {
		{ "service", 0, 0, G_OPTION_ARG_STRING, &service, N_("Restart only this service"),
		  N_("NAME") },
		{ "daemonize", 0, 0, G_OPTION_ARG_NONE, &daemonize,
		  N_("With no supervisor running, start one in the background"), NULL },
		{ NULL },
	};
	g_autofree char *state_dir = sg_paths_state_dir();
	g_autoptr(GError) error = NULL;
	g_autoptr(SgClient) client = NULL;
	g_autoptr(JsonObject) params = json_object_new();

	if (!sg_cli_parse("restart", NULL,
	                  _("Restart services by their strategy; with --config, reload the "
	                    "supervisor on that file."),
	                  entries, &argc, &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg restart --help'."));
		return EXIT_USAGE;
	}
	if (!sg_cli_check_state_dir(state_dir))
		return 1;
	if (service != NULL && globals->config != NULL) {
		sg_cli_error(_("--service and --config cannot be combined: a reload restarts every "
		               "changed service"));
		fprintf(stderr, "%s\n", _("Try 'sysg restart --help'."));
		return EXIT_USAGE;
	}
	client = sg_client_connect(state_dir, sg_cli_transport(globals), &error);
	if (client == NULL && g_error_matches(error, SG_ERROR, SG_ERROR_NO_SUPERVISOR)) {
		g_autofree char *config = NULL;

		if (!daemonize) {
			sg_cli_error(
			        _("no supervisor is running on %s; start one with 'sysg start' "
			          "or 'sysg restart --daemonize'"),
			        state_dir);
			return 5;
		}
		g_clear_error(&error);
		config = sg_client_discover_config(globals->config, NULL, state_dir, &error);
		if (config == NULL) {
			sg_cli_error("%s", error->message);
			return 3;
		}
		return sg_cli_exec_sysgd(config, TRUE, globals->log_level);
	}
	if (client == NULL) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	if (globals->config != NULL) {
		g_autofree char *absolute = g_canonicalize_filename(globals->config, NULL);

		json_object_set_string_member(params, "config", absolute);
		if (!sg_client_call(client, "reload", params, NULL, &error)) {
			if (g_error_matches(error, SG_ERROR, SG_ERROR_INVALID_CONFIG)) {
				/* One problem a line, as validate prints them. */
				fprintf(stderr, "%s\n", error->message);
				sg_cli_error(
				        _("%s refused; the supervisor keeps its configuration"),
				        absolute);
				return sg_error_exit_code_for(error);
			}
			sg_cli_error(_("reload on %s failed: %s"), absolute, error->message);
			return sg_error_exit_code_for(error);
		}
		printf(_("reloaded the supervisor on %s\n"), absolute);
		return 0;
	}
	if (service != NULL)
		json_object_set_string_member(params, "name", service);
	if (!sg_client_call(client, "restart", params, NULL, &error)) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	if (service != NULL)
		printf(_("restarted %s\n"), service);
	else
		printf("%s\n", _("restarted every service"));
	return 0;
}
