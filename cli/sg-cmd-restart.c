/* SPDX-License-Identifier: MIT */
/* sysg restart: restarts services by their strategy, or reloads with --config. */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "config/sg-config.h"
#include "base/sg-error.h"
#include "base/sg-json.h"
#include "base/sg-paths.h"

#define EXIT_USAGE 2

/* Reloads the supervisor on config (absolute); the exit status. */
static int
reload(SgClient *client, const char *config)
{
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(GError) error = NULL;

	json_object_set_string_member(params, "config", config);
	if (sg_client_call(client, "reload", params, NULL, &error)) {
		printf(_("reloaded the supervisor on %s\n"), config);
		return 0;
	}
	if (g_error_matches(error, SG_ERROR, SG_ERROR_INVALID_CONFIG)) {
		/* One problem a line, as validate prints them. */
		fprintf(stderr, "%s\n", error->message);
		sg_cli_error(_("%s refused; the supervisor keeps its configuration"), config);
		return sg_error_exit_code_for(error);
	}
	sg_cli_error(_("reload on %s failed: %s"), config, error->message);
	return sg_error_exit_code_for(error);
}

/* What shows that an instance of service was stopped or started: its state, PID and start. */
static char *
instance_of(SgClient *client, const char *service)
{
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(JsonNode) result = NULL;
	JsonObject *object;

	json_object_set_string_member(params, "name", service);
	if (!sg_client_call(client, "get_service", params, &result, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(result))
		return NULL;
	object = json_node_get_object(result);
	return g_strdup_printf("%s %" G_GINT64_FORMAT " %s",
	                       sg_json_object_get_string(object, "state") ?: "",
	                       json_object_get_int_member_with_default(object, "pid", 0),
	                       sg_json_object_get_string(object, "started_at") ?: "");
}

/*
 * restart --service NAME --config FILE: the reload first, then NAME by its strategy, unless
 * the reload already stopped or started it (a change of its definition): then only its
 * start is awaited, so that it is restarted once.
 */
static int
reload_then_restart(SgClient *client, const char *config, const char *service)
{
	g_autoptr(JsonObject) params = json_object_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *before = instance_of(client, service);
	g_autofree char *after = NULL;
	const char *method = "restart";
	int status = reload(client, config);

	if (status != 0)
		return status;
	after = instance_of(client, service);
	if (before == NULL || g_strcmp0(before, after) != 0)
		method = "start";
	json_object_set_string_member(params, "name", service);
	if (!sg_client_call(client, method, params, NULL, &error)) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	printf(_("restarted %s\n"), service);
	return 0;
}

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
	g_autofree char *absolute = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(SgClient) client = NULL;
	g_autoptr(JsonObject) params = json_object_new();

	if (!sg_cli_parse("restart", NULL,
	                  _("Restart services by their strategy; with --config, reload the "
	                    "supervisor on that file (and then restart --service NAME unless "
	                    "the reload did)."),
	                  entries, &argc, &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg restart --help'."));
		return EXIT_USAGE;
	}
	if (!sg_cli_check_state_dir(state_dir))
		return 1;
	if (globals->config != NULL)
		absolute = g_canonicalize_filename(globals->config, NULL);
	if (service != NULL) {
		/* With --config the name must be in the new file: nothing is reloaded otherwise. */
		g_autofree char *where =
		        sg_client_discover_config(globals->config, NULL, state_dir, NULL);

		if (!sg_cli_service_exists(service, where, absolute != NULL ? NULL : state_dir))
			return SG_CLI_EXIT_NO_SUCH_SERVICE;
	}
	client = sg_client_connect(state_dir, sg_cli_transport(globals), &error);
	if (client == NULL && g_error_matches(error, SG_ERROR, SG_ERROR_NO_SUPERVISOR)) {
		g_autofree char *config = NULL;

		if (!daemonize) {
			sg_cli_error(
			        _("no supervisor is running on %s; start one with 'sysg start' "
			          "or 'sysg restart --daemonize'"),
			        state_dir);
			return sg_error_exit_code(SG_ERROR_NO_SUPERVISOR);
		}
		g_clear_error(&error);
		config = sg_client_discover_config(globals->config, NULL, state_dir, &error);
		if (config == NULL) {
			sg_cli_error("%s", error->message);
			return sg_error_exit_code(SG_ERROR_INVALID_CONFIG);
		}
		return sg_cli_exec_sysgd(config, TRUE, globals->log_level, -1);
	}
	if (client == NULL) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
	if (absolute != NULL && service != NULL)
		return reload_then_restart(client, absolute, service);
	if (absolute != NULL)
		return reload(client, absolute);
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
