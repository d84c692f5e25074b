/* SPDX-License-Identifier: MIT */
/* Option parsing and messages shared by every sysg command. */
#include "config.h"

#include "sg-cli.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "sg-escape.h"
#include "sg-log.h"

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
	/* Names and values in it may come from anywhere: one line, no control bytes. */
	escaped = sg_escape(message);
	fprintf(stderr, "sysg: %s\n", escaped);
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
