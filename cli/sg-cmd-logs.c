/* SPDX-License-Identifier: MIT */
/* sysg logs: the last lines of the log files, read directly, and --follow through inotify. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "base/sg-error.h"
#include "config/sg-config.h"
#include "sg-follow.h"
#include "base/sg-limits.h"
#include "base/sg-paths.h"
#include "config/sg-problem.h"
#include "base/sg-tail.h"

#define EXIT_USAGE    2
#define DEFAULT_LINES 50
/* How far back the supervisor log is searched for lines about one service. */
#define FILTER_SCAN_LINES 50000
static gboolean
is_name_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '-';
}

/* Whether line names the service as a whole word. */
static gboolean
mentions(const char *line, const char *name)
{
	gsize length = strlen(name);

	for (const char *p = strstr(line, name); p != NULL; p = strstr(p + 1, name)) {
		char before = p == line ? ' ' : p[-1];

		if (!is_name_char(before) && before != '.' && !is_name_char(p[length]))
			return TRUE;
	}
	return FALSE;
}

static void
print_line(SgFollowFile *file, const char *line, gpointer user_data)
{
	const char *filter = file->data;

	if (filter != NULL && !mentions(line, filter))
		return;
	if (file->label != NULL)
		printf("%s: %s\n", file->label, line);
	else
		printf("%s\n", line);
}

static gboolean
quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_CONTINUE;
}

typedef struct {
	GMainLoop *loop;
	int status;
} Following;

static void
failed_cb(gpointer user_data)
{
	Following *following = user_data;

	following->status = 1;
	g_main_loop_quit(following->loop);
}

static int
follow_files(GPtrArray *files, const char *state_dir)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GError) error = NULL;
	g_autoptr(SgFollow) follow = NULL;
	Following following = { loop, 0 };
	guint sigint, sigterm;

	follow = sg_follow_new(state_dir, print_line, NULL, failed_cb, &following, &error);
	if (follow == NULL) {
		sg_cli_error("%s", error->message);
		return 1;
	}
	/* The follower takes the files. */
	g_ptr_array_set_free_func(files, NULL);
	for (guint i = 0; i < files->len; i++)
		sg_follow_add(follow, g_ptr_array_index(files, i));
	g_ptr_array_set_size(files, 0);
	sigint = g_unix_signal_add(SIGINT, quit_cb, loop);
	sigterm = g_unix_signal_add(SIGTERM, quit_cb, loop);
	g_main_loop_run(loop);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	return following.status;
}

/* The byte limit of one log left out older lines (or the start of the newest one). */
static void
say_capped(const char *path, guint read, gboolean searched)
{
	int mib = SG_LOGS_BYTES_MAX / (1024 * 1024);

	fflush(stdout);
	if (searched)
		sg_cli_error(ngettext("%s: only the last %u line was searched: older ones do not "
		                      "fit in the %d MiB read back from a log",
		                      "%s: only the last %u lines were searched: older ones do not "
		                      "fit in the %d MiB read back from a log",
		                      read),
		             path, read, mib);
	else
		sg_cli_error(ngettext("%s: only the last %u line is shown: older ones do not fit "
		                      "in the %d MiB read back from a log",
		                      "%s: only the last %u lines are shown: older ones do not fit "
		                      "in the %d MiB read back from a log",
		                      read),
		             path, read, mib);
}

/* Services with log files in logs/, from their names (NAME_stdout.log, NAME_stderr.log). */
static void
add_logged_names(const char *log_dir, GPtrArray *names)
{
	g_autoptr(GDir) dir = g_dir_open(log_dir, 0, NULL);
	const char *entry;

	while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
		const char *suffixes[] = { "_stdout.log", "_stderr.log" };

		for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
			if (g_str_has_suffix(entry, suffixes[i])) {
				g_autofree char *name =
				        g_strndup(entry, strlen(entry) - strlen(suffixes[i]));
				if (sg_config_name_is_valid(name) &&
				    !g_ptr_array_find_with_equal_func(names, name, g_str_equal,
				                                      NULL))
					g_ptr_array_add(names, g_steal_pointer(&name));
			}
		}
	}
}

static gboolean
has_logs(const char *log_dir, const char *name)
{
	const char *streams[] = { "stdout", "stderr" };

	for (guint i = 0; i < G_N_ELEMENTS(streams); i++) {
		g_autofree char *base = g_strdup_printf("%s_%s.log", name, streams[i]);
		g_autofree char *path = g_build_filename(log_dir, base, NULL);
		g_autofree char *rotated = g_strconcat(path, ".1", NULL);

		if (g_file_test(path, G_FILE_TEST_EXISTS) ||
		    g_file_test(rotated, G_FILE_TEST_EXISTS))
			return TRUE;
	}
	return FALSE;
}

static void
add_service_files(GPtrArray *files, const char *log_dir, const char *name, const char *kind,
                  gboolean several)
{
	const char *streams[] = { "stdout", "stderr" };

	for (guint i = 0; i < G_N_ELEMENTS(streams); i++) {
		g_autofree char *base = NULL;
		g_autofree char *path = NULL;
		g_autofree char *label = NULL;

		if (kind != NULL && !g_str_equal(kind, streams[i]))
			continue;
		base = g_strdup_printf("%s_%s.log", name, streams[i]);
		path = g_build_filename(log_dir, base, NULL);
		if (several)
			label = g_strdup_printf("%s %s", name, streams[i]);
		g_ptr_array_add(files, sg_follow_file_new(path, label, NULL, NULL));
	}
}

int
sg_cmd_logs(int argc, char **argv, SgCliGlobals *globals)
{
	int lines = DEFAULT_LINES;
	g_autofree char *kind = NULL;
	gboolean follow = FALSE;
	GOptionEntry entries[] = {
		{ "lines", 'n', 0, G_OPTION_ARG_INT, &lines,
		  N_("Show the last N lines of each log (default 50)"), N_("N") },
		{ "kind", 0, 0, G_OPTION_ARG_STRING, &kind,
		  N_("Only this log: stdout, stderr or supervisor"), N_("KIND") },
		{ "follow", 'f', 0, G_OPTION_ARG_NONE, &follow,
		  N_("Keep printing new lines until interrupted"), NULL },
		{ NULL },
	};
	g_autofree char *state_dir = sg_paths_state_dir();
	g_autofree char *log_dir = NULL;
	g_autoptr(GPtrArray) files =
	        g_ptr_array_new_with_free_func((GDestroyNotify)sg_follow_file_free);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(SgConfig) config = NULL;
	g_autofree char *config_path = NULL;
	const char *name = NULL;
	gboolean several;

	if (!sg_cli_parse("logs", _("[NAME]"),
	                  _("Show the logs of the services and the supervisor."), entries, &argc,
	                  &argv, globals))
		return EXIT_USAGE;
	if (argc > 2) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[2]);
		fprintf(stderr, "%s\n", _("Try 'sysg logs --help'."));
		return EXIT_USAGE;
	}
	if (!sg_cli_check_state_dir(state_dir))
		return 1;
	if (lines < 0) {
		sg_cli_error(_("--lines must be 0 or more, not %d"), lines);
		fprintf(stderr, "%s\n", _("Try 'sysg logs --help'."));
		return EXIT_USAGE;
	}
	if (kind != NULL && !g_str_equal(kind, "stdout") && !g_str_equal(kind, "stderr") &&
	    !g_str_equal(kind, "supervisor")) {
		sg_cli_error(_("unknown log kind \"%s\": use stdout, stderr or supervisor"), kind);
		fprintf(stderr, "%s\n", _("Try 'sysg logs --help'."));
		return EXIT_USAGE;
	}
	if (argc == 2)
		name = argv[1];
	log_dir = sg_paths_state_file(state_dir, SG_STATE_LOG_DIR);

	/* The configuration only tells which services exist; the files are read directly. */
	config_path = sg_client_discover_config(globals->config, NULL, state_dir, &error);
	if (config_path != NULL) {
		g_autoptr(GPtrArray) problems = sg_problem_list_new();
		config = sg_config_load(config_path, config_path, NULL, problems, &error);
	}
	if (config == NULL && globals->config != NULL) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code(SG_ERROR_INVALID_CONFIG);
	}
	g_clear_error(&error);

	if (name != NULL) {
		if ((config == NULL || sg_config_lookup(config, name) == NULL) &&
		    !has_logs(log_dir, name)) {
			sg_cli_error(_("no such service \"%s\": it is not in the configuration and "
			               "has no log files in %s"),
			             name, log_dir);
			return sg_error_exit_code(SG_ERROR_NO_SUCH_SERVICE);
		}
		g_ptr_array_add(names, g_strdup(name));
	} else {
		for (guint i = 0; config != NULL && i < config->services->len; i++) {
			const SgServiceConfig *service = g_ptr_array_index(config->services, i);
			g_ptr_array_add(names, g_strdup(service->name));
		}
		add_logged_names(log_dir, names);
	}

	several = (kind == NULL && (name == NULL || names->len > 0)) || names->len > 1;
	if (kind == NULL || g_str_equal(kind, "supervisor")) {
		if (kind != NULL || name == NULL) {
			g_autofree char *path =
			        sg_paths_state_file(state_dir, SG_STATE_SUPERVISOR_LOG);
			g_ptr_array_add(files,
			                sg_follow_file_new(path, several ? "supervisor" : NULL,
			                                   g_strdup(name), g_free));
		}
	}
	if (kind == NULL || !g_str_equal(kind, "supervisor"))
		for (guint i = 0; i < names->len; i++)
			add_service_files(files, log_dir, names->pdata[i], kind, several);

	for (guint i = 0; i < files->len; i++) {
		SgFollowFile *file = g_ptr_array_index(files, i);
		const char *filter = file->data;
		g_autoptr(SgTail) tail = NULL;
		guint shown = 0;

		/* Open first: following goes on from what was there when the tail was taken. */
		sg_follow_file_open_at_end(file);
		tail = sg_tail_read(file->path, filter != NULL ? FILTER_SCAN_LINES : (guint)lines,
		                    SG_LOGS_BYTES_MAX, &error);
		if (tail == NULL) {
			sg_cli_error("%s", error->message);
			g_clear_error(&error);
			continue;
		}
		if (filter != NULL) {
			g_autoptr(GPtrArray) kept = g_ptr_array_new();
			for (guint j = 0; j < tail->lines->len; j++)
				if (mentions(tail->lines->pdata[j], filter))
					g_ptr_array_add(kept, tail->lines->pdata[j]);
			for (guint j = kept->len > (guint)lines ? kept->len - (guint)lines : 0;
			     j < kept->len; j++, shown++)
				print_line(file, kept->pdata[j], NULL);
		} else {
			for (guint j = 0; j < tail->lines->len; j++, shown++)
				print_line(file, tail->lines->pdata[j], NULL);
		}
		/* Said, not silently dropped: the limit left out lines that were asked for. */
		if (tail->capped && shown < (guint)lines)
			say_capped(file->path, tail->lines->len, filter != NULL);
	}
	fflush(stdout);
	if (!follow)
		return 0;
	return follow_files(files, state_dir);
}
