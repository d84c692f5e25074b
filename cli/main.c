/* SPDX-License-Identifier: MIT */
/* sysg: the command-line client; finds the command and hands it its arguments. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "sg-cli.h"

#define EXIT_USAGE 2

typedef struct {
	const char *name;
	SgCommandFunc run;
	const char *summary;
} SgCommand;

static const SgCommand commands[] = {
	{ "start", sg_cmd_start, N_("Start the supervisor on the configuration") },
	{ "stop", sg_cmd_stop, N_("Stop the supervisor and its services") },
	{ "restart", sg_cmd_restart, N_("Restart services, or reload with --config") },
	{ "status", sg_cmd_status, N_("Show the supervisor and its services") },
	{ "logs", sg_cmd_logs, N_("Show or follow the logs of services and the supervisor") },
	{ "monitor", sg_cmd_monitor, N_("Print supervisor events as they happen") },
	{ "purge", sg_cmd_purge, N_("Stop everything and delete the state directory") },
	{ "validate", sg_cmd_validate, N_("Check a configuration file and print every problem") },
};

static const SgCommand *
find_command(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		if (g_str_equal(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void
print_help(FILE *out)
{
	fprintf(out, "%s\n\n", _("Usage: sysg [OPTION...] COMMAND [ARG...]"));
	fprintf(out, "%s\n", _("Commands:"));
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
	fprintf(out, "\n%s\n", _("Options of every command:"));
	fprintf(out, "  --config FILE       %s\n", _("use this configuration file"));
	fprintf(out, "  --log-level LEVEL   %s\n",
	        _("off, error, warn, info, debug, trace or 0-5"));
	fprintf(out, "  --json              %s\n", _("print data as JSON"));
	fprintf(out, "  --bus               %s\n", _("talk to the supervisor over D-Bus"));
	fprintf(out, "\n%s\n", _("Run 'sysg COMMAND --help' for the options of a command."));
}

/* Global options that take a value, so their value is not mistaken for the command. */
static gboolean
takes_value(const char *arg)
{
	return g_str_equal(arg, "--config") || g_str_equal(arg, "--log-level");
}

int
main(int argc, char **argv)
{
	const SgCommand *command;
	SgCliGlobals globals = { 0 };
	int command_index = 0;
	int status;

	setlocale(LC_ALL, "");
	/* Tests point this at the build tree, where the catalogs are built but not installed. */
	bindtextdomain(GETTEXT_PACKAGE, g_getenv("SYSTEMG_LOCALEDIR") ?: LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	g_set_prgname("sysg");

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-') {
			command_index = i;
			break;
		}
		if (g_str_equal(argv[i], "--help") || g_str_equal(argv[i], "-h")) {
			print_help(stdout);
			return 0;
		}
		if (g_str_equal(argv[i], "--version")) {
			printf("sysg %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (takes_value(argv[i]))
			i++;
	}
	if (command_index == 0) {
		sg_cli_error(_("no command given"));
		fprintf(stderr, "%s\n", _("Try 'sysg --help'."));
		return EXIT_USAGE;
	}
	command = find_command(argv[command_index]);
	if (command == NULL) {
		sg_cli_error(_("unknown command \"%s\""), argv[command_index]);
		fprintf(stderr, "%s\n", _("Try 'sysg --help'."));
		return EXIT_USAGE;
	}

	/* The command sees its name first, then every other argument in order. */
	memmove(&argv[2], &argv[1], sizeof(char *) * (gsize)(command_index - 1));
	argv[1] = (char *)command->name;
	status = command->run(argc - 1, argv + 1, &globals);
	g_free(globals.config);
	g_free(globals.log_level);
	return status;
}
