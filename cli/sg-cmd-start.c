/* SPDX-License-Identifier: MIT */
/* sysg start: runs sysgd on the configuration, or starts services in the running one. */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "config/sg-config.h"
#include "base/sg-error.h"
#include "sg-follow.h"
#include "base/sg-limits.h"
#include "sg-output.h"
#include "process/sg-ownership.h"
#include "base/sg-paths.h"
#include "config/sg-problem.h"
#include "state/sg-startup-lock.h"
#include "state/sg-state.h"

#define EXIT_USAGE 2
/* start_in_running: no supervisor answers after all; look again. */
#define START_AGAIN -1
/* How many times start looks again for a supervisor that went away meanwhile. */
#define START_ATTEMPTS 3

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

/* The command line of sysgd on config, or NULL (with a message) when there is no sysgd. */
static GPtrArray *
sysgd_argv(const char *config, gboolean daemonize, const char *log_level)
{
	char *sysgd = find_sysgd();
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);

	if (sysgd == NULL) {
		sg_cli_error(_("cannot find the sysgd program next to sysg or in PATH"));
		return NULL;
	}
	g_ptr_array_add(args, sysgd);
	g_ptr_array_add(args, g_strdup("--config"));
	g_ptr_array_add(args, g_canonicalize_filename(config, NULL));
	if (daemonize)
		g_ptr_array_add(args, g_strdup("--daemonize"));
	if (log_level != NULL) {
		g_ptr_array_add(args, g_strdup("--log-level"));
		g_ptr_array_add(args, g_strdup(log_level));
	}
	g_ptr_array_add(args, NULL);
	return g_steal_pointer(&args);
}

int
sg_cli_exec_sysgd(const char *config, gboolean daemonize, const char *log_level, int startup_lock)
{
	g_autoptr(GPtrArray) args = sysgd_argv(config, daemonize, log_level);
	g_auto(GStrv) env = g_get_environ();

	if (args == NULL)
		return 1;
	if (startup_lock >= 0)
		env = sg_startup_lock_pass(startup_lock, env);
	/* sysgd does the rest: its exit status and messages are start's own. */
	execve(args->pdata[0], (char **)args->pdata, env);
	sg_cli_error(_("cannot run %s: %s"), (char *)args->pdata[0], g_strerror(errno));
	return 1;
}

/* Colours of service names on a terminal, the same for a name every time. */
static const char *const name_colors[] = { "\033[36m", "\033[32m", "\033[33m", "\033[34m",
	                                   "\033[35m", "\033[96m", "\033[92m", "\033[93m",
	                                   "\033[94m", "\033[95m" };
#define COLOR_SUPERVISOR "\033[90m"
#define COLOR_STDERR     "\033[31m"
#define COLOR_RESET      "\033[0m"
#define SUPERVISOR_LABEL "sysgd"

typedef enum {
	STREAM_STDOUT,
	STREAM_STDERR,
	STREAM_SUPERVISOR,
} Stream;

typedef struct {
	GMainLoop *loop;
	char *log_dir;
	gboolean color;
	int width; /* of the widest name so far: the lines stay aligned */
	pid_t child;
	int status;
	gboolean exited;
} Foreground;

static void
print_prefixed(SgFollowFile *file, const char *line, gpointer user_data)
{
	Foreground *fg = user_data;
	Stream stream = GPOINTER_TO_INT(file->data);
	const char *mark = stream == STREAM_STDERR ? "!" : "|";

	if (!fg->color) {
		printf("%-*s %s %s\n", fg->width, file->label, mark, line);
		return;
	}
	printf("%s%-*s %s" COLOR_RESET " %s%s" COLOR_RESET "\n",
	       stream == STREAM_SUPERVISOR
	               ? COLOR_SUPERVISOR
	               : name_colors[g_str_hash(file->label) % G_N_ELEMENTS(name_colors)],
	       fg->width, file->label, mark, stream == STREAM_STDERR ? COLOR_STDERR : "", line);
}

static void
follow_file(SgFollow *follow, Foreground *fg, const char *path, const char *label, Stream stream,
            gboolean at_end)
{
	SgFollowFile *file;

	if (sg_follow_has(follow, path))
		return;
	file = sg_follow_file_new(path, label, GINT_TO_POINTER(stream), NULL);
	fg->width = MAX(fg->width, (int)g_utf8_strlen(label, -1));
	if (at_end)
		sg_follow_file_open_at_end(file);
	sg_follow_add(follow, file);
}

/* A service's NAME_stdout.log or NAME_stderr.log in the log directory. */
static void
follow_log(SgFollow *follow, Foreground *fg, const char *entry, gboolean at_end)
{
	const char *suffixes[] = { "_stdout.log", "_stderr.log" };

	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		if (g_str_has_suffix(entry, suffixes[i])) {
			g_autofree char *name =
			        g_strndup(entry, strlen(entry) - strlen(suffixes[i]));
			g_autofree char *path = g_build_filename(fg->log_dir, entry, NULL);

			if (sg_config_name_is_valid(name))
				follow_file(follow, fg, path, name,
				            i == 0 ? STREAM_STDOUT : STREAM_STDERR, at_end);
		}
	}
}

static void
scan_logs(SgFollow *follow, Foreground *fg, gboolean at_end)
{
	g_autoptr(GDir) dir = g_dir_open(fg->log_dir, 0, NULL);
	const char *entry;

	while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL)
		follow_log(follow, fg, entry, at_end);
}

static void
created_cb(SgFollow *follow, const char *name, gpointer user_data)
{
	Foreground *fg = user_data;

	/* Created after we started: everything in it is new. */
	if (name != NULL)
		follow_log(follow, fg, name, FALSE);
	else
		scan_logs(follow, fg, FALSE);
}

static void
child_exited_cb(GPid pid, gint wait_status, gpointer user_data)
{
	Foreground *fg = user_data;

	if (WIFEXITED(wait_status))
		fg->status = WEXITSTATUS(wait_status);
	else if (WIFSIGNALED(wait_status))
		fg->status = 128 + WTERMSIG(wait_status);
	else
		fg->status = 1;
	fg->exited = TRUE;
	g_spawn_close_pid(pid);
	g_main_loop_quit(fg->loop);
}

/* The terminal's Ctrl-C reaches sysgd too; a signal for sysg alone is passed on. */
static gboolean
forward_cb(gpointer user_data)
{
	Foreground *fg = user_data;

	if (!fg->exited)
		(void)sg_ownership_signal_child(fg->child, FALSE, SIGTERM);
	return G_SOURCE_CONTINUE;
}

/*
 * sysgd as our child, in our process group, with its events and the services' output
 * shown here as "NAME | line" while it runs; exits with its status.
 */
static int
run_foreground(const char *state_dir, const char *config, const char *log_level, int startup_lock)
{
	g_autoptr(GPtrArray) args = sysgd_argv(config, FALSE, log_level);
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GError) error = NULL;
	g_autoptr(SgFollow) follow = NULL;
	g_autofree char *warning = NULL;
	g_autofree char *supervisor_log = sg_paths_state_file(state_dir, SG_STATE_SUPERVISOR_LOG);
	g_auto(GStrv) env = NULL;
	Foreground fg = { 0 };
	guint sources[3];
	int rc;

	if (args == NULL)
		return 1;
	fg.loop = loop;
	fg.log_dir = sg_paths_state_file(state_dir, SG_STATE_LOG_DIR);
	fg.color = sg_output_use_color(stdout);
	fg.width = (int)strlen(SUPERVISOR_LABEL);
	/* Aligned from the first line: the configured names are known already. */
	{
		g_autoptr(GPtrArray) problems = sg_problem_list_new();
		g_autoptr(SgConfig) parsed = sg_config_load(config, config, NULL, problems, NULL);

		for (guint i = 0; parsed != NULL && i < parsed->services->len; i++) {
			const SgServiceConfig *service = g_ptr_array_index(parsed->services, i);
			fg.width = MAX(fg.width, (int)g_utf8_strlen(service->name, -1));
		}
	}
	/* The directories must exist to be watched before sysgd writes in them. */
	if (!sg_paths_ensure_state_dir(state_dir, &warning, &error))
		g_clear_error(&error); /* sysgd says why */
	else if (warning != NULL)
		sg_cli_error("%s", warning);
	follow = sg_follow_new(state_dir, print_prefixed, created_cb, NULL, &fg, &error);
	if (follow == NULL) {
		sg_cli_error("%s", error->message);
		g_clear_error(&error);
	} else {
		follow_file(follow, &fg, supervisor_log, SUPERVISOR_LABEL, STREAM_SUPERVISOR, TRUE);
		scan_logs(follow, &fg, TRUE);
	}
	/* The supervisor's lines come from its log file only, not twice. */
	env = g_environ_setenv(g_get_environ(), "SYSTEMG_NO_MIRROR", "1", TRUE);
	env = sg_startup_lock_pass(startup_lock, env);
	sources[0] = g_unix_signal_add(SIGINT, forward_cb, &fg);
	sources[1] = g_unix_signal_add(SIGTERM, forward_cb, &fg);
	sources[2] = g_unix_signal_add(SIGHUP, forward_cb, &fg);
	fflush(stdout);
	rc = posix_spawn(&fg.child, args->pdata[0], NULL, NULL, (char **)args->pdata, env);
	/* sysgd holds the lock now; it releases it once it answers. */
	close(startup_lock);
	if (rc != 0) {
		sg_cli_error(_("cannot run %s: %s"), (char *)args->pdata[0], g_strerror(rc));
		fg.status = 1;
	} else {
		g_child_watch_add(fg.child, child_exited_cb, &fg);
		g_main_loop_run(loop);
		if (follow != NULL)
			sg_follow_read_all(follow, TRUE);
	}
	for (guint i = 0; i < G_N_ELEMENTS(sources); i++)
		g_source_remove(sources[i]);
	g_free(fg.log_dir);
	return fg.status;
}

/* The running supervisor's configuration: as it says, else from config_hint. */
static char *
running_config(SgClient *client, const char *state_dir)
{
	char *path = sg_client_config_path(client, NULL);

	return path != NULL ? path : sg_state_read_config_hint(state_dir);
}

/*
 * Connects to the supervisor; when it does not answer yet, waits (blocked on the startup
 * lock, no polling) for a supervisor that is starting to answer, and tries once more.
 */
static SgClient *
connect_when_started(const char *state_dir, SgClientTransport transport, GError **error)
{
	g_autoptr(GError) local = NULL;
	SgClient *client = sg_client_connect(state_dir, transport, &local);
	int lock;

	if (client != NULL)
		return client;
	lock = sg_startup_lock_take(state_dir, SG_STARTUP_WAIT_SEC, error);
	if (lock < 0)
		return NULL;
	close(lock);
	return sg_client_connect(state_dir, transport, error);
}

/*
 * A supervisor runs, or is starting: start services in it when it runs this configuration.
 * START_AGAIN when it is gone after all.
 */
static int
start_in_running(const char *state_dir, const char *explicit_config, const char *service,
                 SgClientTransport transport)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SgClient) client = connect_when_started(state_dir, transport, &error);
	g_autoptr(JsonObject) params = json_object_new();
	g_autofree char *theirs = NULL;
	g_autofree char *ours = NULL;
	g_autofree char *discovered = NULL;
	pid_t running = 0;
	gboolean alive = sg_pid_file_query(state_dir, &running);

	/* It went away before it answered: a supervisor is to be started after all. */
	if (client == NULL && !alive)
		return START_AGAIN;
	if (client == NULL && g_error_matches(error, SG_ERROR, SG_ERROR_NOT_ON_BUS)) {
		sg_cli_error("%s", error->message);
		return sg_error_exit_code_for(error);
	}
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
			return sg_error_exit_code(SG_ERROR_OTHER_CONFIG);
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

	if (!sg_cli_parse("start", NULL, _("Start the supervisor on the configuration."), entries,
	                  &argc, &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg start --help'."));
		return EXIT_USAGE;
	}
	if (!sg_cli_check_state_dir(state_dir))
		return 1;
	if (service != NULL) {
		/* Start's own file, else the one the supervisor runs on (start_in_running). */
		g_autofree char *where = sg_config_discover(globals->config, NULL, NULL);

		if (where == NULL)
			where = sg_state_read_config_hint(state_dir);
		if (!sg_cli_service_exists(service, where, state_dir))
			return SG_CLI_EXIT_NO_SUCH_SERVICE;
	}
	/*
	 * Several starts at once make one supervisor: the winner holds the startup lock
	 * until its sysgd answers; the others wait on it and join that supervisor.
	 */
	for (guint attempt = 0; attempt < START_ATTEMPTS; attempt++) {
		g_autofree char *warning = NULL;
		int status;
		int lock;

		if (sg_pid_file_query(state_dir, NULL)) {
			status = start_in_running(state_dir, globals->config, service,
			                          sg_cli_transport(globals));
			if (status != START_AGAIN)
				return status;
			continue;
		}
		g_clear_pointer(&config, g_free);
		config = sg_config_discover(globals->config, NULL, &error);
		if (config == NULL) {
			sg_cli_error("%s", error->message);
			return sg_error_exit_code(SG_ERROR_INVALID_CONFIG);
		}
		if (!sg_paths_ensure_state_dir(state_dir, &warning, &error)) {
			sg_cli_error("%s", error->message);
			return 1;
		}
		if (warning != NULL)
			sg_cli_error("%s", warning);
		lock = sg_startup_lock_take(state_dir, SG_STARTUP_WAIT_SEC, &error);
		if (lock < 0) {
			sg_cli_error("%s", error->message);
			return 1;
		}
		if (sg_pid_file_query(state_dir, NULL)) {
			/* Another start won meanwhile, and answers now. */
			close(lock);
			continue;
		}
		if (service != NULL) {
			close(lock);
			sg_cli_error(_("--service needs a running supervisor; start it first"));
			return sg_error_exit_code(SG_ERROR_NO_SUPERVISOR);
		}
		if (daemonize)
			return sg_cli_exec_sysgd(config, TRUE, globals->log_level, lock);
		return run_foreground(state_dir, config, globals->log_level, lock);
	}
	sg_cli_error(_("a supervisor keeps starting and going away on %s"), state_dir);
	return 1;
}
