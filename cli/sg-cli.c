/* SPDX-License-Identifier: MIT */
/* Option parsing and messages shared by every sysg command. */
#include "config.h"

#include "sg-cli.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "config/sg-config.h"
#include "base/sg-escape.h"
#include "base/sg-log.h"
#include "base/sg-paths.h"
#include "config/sg-problem.h"
#include "state/sg-state.h"

SgClientTransport
sg_cli_transport(const SgCliGlobals *globals)
{
	return globals->bus ? SG_CLIENT_BUS : SG_CLIENT_SOCKET;
}

void
sg_cli_error(const char *format, ...)
{
	g_autofree char *message = NULL;
	g_autofree char *escaped = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	/*
	 * Names and values in it may come from anywhere: no control bytes. Newlines stay: a
	 * failure report of the supervisor has a line per service and its stderr lines; the
	 * text it quotes was escaped where the report was made, and problems (which editors
	 * parse line by line) escape their own fields.
	 */
	escaped = sg_escape_lines(message);
	fprintf(stderr, "sysg: %s\n", escaped);
}

gboolean
sg_cli_check_state_dir(const char *state_dir)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *warning = NULL;

	if (!sg_paths_check_state_dir(state_dir, &warning, &error)) {
		sg_cli_error("%s", error->message);
		return FALSE;
	}
	if (warning != NULL)
		sg_cli_error(_("warning: %s"), warning);
	return TRUE;
}

gboolean
sg_cli_parse(const char *command, const char *parameter_string, const char *summary,
             GOptionEntry *entries, int *argc, char ***argv, SgCliGlobals *globals)
{
	GOptionEntry global_entries[] = {
		{ "config", 0, 0, G_OPTION_ARG_FILENAME, &globals->config,
		  N_("Use this configuration file"), N_("FILE") },
		{ "log-level", 0, 0, G_OPTION_ARG_STRING, &globals->log_level,
		  N_("Log level: off, error, warn, info, debug, trace or 0-5"), N_("LEVEL") },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &globals->json, N_("Print data as JSON"), NULL },
		{ "bus", 0, 0, G_OPTION_ARG_NONE, &globals->bus,
		  N_("Talk to the supervisor over D-Bus"), NULL },
		{ NULL },
	};
	g_autofree char *usage =
	        g_strdup_printf("%s %s", command, parameter_string != NULL ? parameter_string : "");
	g_autoptr(GOptionContext) context = g_option_context_new(usage);
	g_autoptr(GError) error = NULL;
	SgLogLevel level;

	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_set_summary(context, summary);
	g_option_context_add_main_entries(context, global_entries, GETTEXT_PACKAGE);
	if (entries != NULL)
		g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, argc, argv, &error)) {
		sg_cli_error("%s", error->message);
		fprintf(stderr, _("Try 'sysg %s --help'.\n"), command);
		return FALSE;
	}
	if (globals->log_level != NULL && !sg_log_level_parse(globals->log_level, &level)) {
		sg_cli_error(_("invalid log level \"%s\": use off, error, warn, info, debug, trace "
		               "or 0-5"),
		             globals->log_level);
		fprintf(stderr, _("Try 'sysg %s --help'.\n"), command);
		return FALSE;
	}
	return TRUE;
}

/* Whether state.json of state_dir records a service called name. */
static gboolean
recorded_in_state(const char *state_dir, const char *name)
{
	g_autoptr(JsonNode) root =
	        sg_state_read_json(state_dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, NULL);
	JsonNode *services;

	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
		return FALSE;
	services = json_object_get_member(json_node_get_object(root), "services");
	return services != NULL && JSON_NODE_HOLDS_OBJECT(services) &&
	       json_object_has_member(json_node_get_object(services), name);
}

gboolean
sg_cli_service_exists(const char *name, const char *config_path, const char *state_dir)
{
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(SgConfig) config = NULL;

	if (config_path != NULL)
		config = sg_config_load(config_path, config_path, NULL, problems, NULL);
	if (config == NULL)
		return TRUE;
	if (sg_config_lookup(config, name) != NULL)
		return TRUE;
	if (state_dir != NULL && recorded_in_state(state_dir, name))
		return TRUE;
	sg_cli_error(_("no such service \"%s\" in %s"), name, config->path);
	return FALSE;
}
