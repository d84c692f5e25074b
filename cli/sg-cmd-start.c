/* SPDX-License-Identifier: MIT */
/* sysg start: runs sysgd on the configuration, in the foreground or detached. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <unistd.h>

#include "sg-cli.h"
#include "sg-config.h"
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
	g_autofree char *absolute = NULL;
	g_autofree char *sysgd = NULL;
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	pid_t running = 0;

	if (!sg_cli_parse("start", NULL, _("Start the supervisor on the configuration."), entries,
	                  &argc, &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg start --help'."));
		return EXIT_USAGE;
	}
	if (sg_pid_file_query(state_dir, &running)) {
		/* Starting services inside a running supervisor goes through its socket. */
		sg_cli_error(_("a supervisor is already running (PID %d) on %s"), running,
		             state_dir);
		return 1;
	}
	config = sg_config_discover(globals->config, NULL, &error);
	if (config == NULL) {
		sg_cli_error("%s", error->message);
		return 3;
	}
	if (service != NULL) {
		sg_cli_error(_("--service needs a running supervisor; start it first"));
		return 5;
	}
	sysgd = find_sysgd();
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
	if (globals->log_level != NULL) {
		g_ptr_array_add(args, "--log-level");
		g_ptr_array_add(args, globals->log_level);
	}
	g_ptr_array_add(args, NULL);
	/* sysgd does the rest: its exit status and messages are start's own. */
	execv(sysgd, (char **)args->pdata);
	sg_cli_error(_("cannot run %s: %s"), sysgd, g_strerror(errno));
	return 1;
}
