/* SPDX-License-Identifier: MIT */
/* sysgd: sets up the process (signals, limits, state directory, lock) and runs the engine. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/sg-api.h"
#include "bus/sg-bus.h"
#include "config/sg-config.h"
#include "control/sg-control.h"
#include "base/sg-error.h"
#include "base/sg-limits.h"
#include "base/sg-escape.h"
#include "base/sg-paths.h"
#include "engine/sg-persist.h"
#include "config/sg-problem.h"
#include "state/sg-startup-lock.h"
#include "state/sg-state-id.h"
#include "state/sg-state.h"
#include "engine/sg-supervisor.h"
#include "base/sg-tail.h"

#define EXIT_USAGE 2

typedef struct {
	char *config_path;
	char *log_level;
	gboolean daemonize;
	gboolean no_bus;
	char *cgroup;
	gboolean version;
} Options;

typedef struct {
	GMainLoop *loop;
	SgContext context;
	SgSupervisor *supervisor;
	SgPersist *persist;
	SgApi *api; /* what the socket, the bus and the signals call */
	SgControl *control;
	SgBus *bus; /* NULL with --no-bus or no session bus */
	SgPidFile *pid_file;
	int startup_lock; /* held until the socket and the bus answer, then -1 */
	int report_fd;    /* --daemonize: where the waiting parent reads the outcome, or -1 */
	int exit_status;
	gboolean has_terminal;
} Daemon;

/* ---- the --daemonize handshake ---- */

/*
 * The waiting parent prints what the supervisor reports: a first line with the exit
 * status, then text for the terminal.
 */
static int
wait_for_report(int fd)
{
	g_autoptr(GString) text = g_string_new(NULL);
	char buffer[4096];
	ssize_t got;
	const char *newline;
	int status;

	while ((got = read(fd, buffer, sizeof(buffer))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		g_string_append_len(text, buffer, got);
	}
	if (text->len == 0) {
		fprintf(stderr, "sysgd: %s\n", _("the supervisor exited before it was ready"));
		return 1;
	}
	status = atoi(text->str);
	newline = strchr(text->str, '\n');
	if (newline != NULL && newline[1] != '\0')
		fputs(newline + 1, status == 0 ? stdout : stderr);
	return status;
}

static void
send_report(Daemon *daemon, int status, const char *text)
{
	g_autofree char *message = NULL;

	if (daemon->report_fd < 0)
		return;
	message = g_strdup_printf("%d\n%s", status, text != NULL ? text : "");
	if (write(daemon->report_fd, message, strlen(message)) < 0) {
		/* The parent is gone: nobody to tell. */
	}
	close(daemon->report_fd);
	daemon->report_fd = -1;
}

/* Double fork: the grandchild supervises; the parent waits for its report and exits. */
static int
daemonize(int *ret_report_fd)
{
	int fds[2];
	pid_t pid;
	int null_fd;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		exit(wait_for_report(fds[0]));
	}
	close(fds[0]);
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		_exit(1);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		dup2(null_fd, STDOUT_FILENO);
		dup2(null_fd, STDERR_FILENO);
		if (null_fd > STDERR_FILENO)
			close(null_fd);
	}
	*ret_report_fd = fds[1];
	return 0;
}

/* ---- settling and shutdown ---- */

static void
append_failure(GString *out, SgContext *context, SgService *service)
{
	g_autofree char *path =
	        g_strdup_printf("%s/%s_stderr.log", context->log_dir, sg_service_get_name(service));
	/* Causes quote paths and errors: one line each, no control bytes on the terminal. */
	g_autofree char *cause = sg_escape(sg_service_get_cause(service));

	g_string_append_printf(out, _("%s: %s: %s\n"), sg_service_get_name(service),
	                       sg_service_state_to_string(sg_service_get_state(service)),
	                       cause != NULL ? cause : _("crashed before it was ready"));
	sg_tail_append_indented(out, path, SG_TAIL_FAILURE_LINES);
}

static void
settled_cb(SgSupervisor *supervisor, gpointer user_data)
{
	Daemon *daemon = user_data;
	GPtrArray *services = sg_supervisor_get_services(supervisor);
	g_autoptr(GString) report = g_string_new(NULL);
	gboolean all_up = TRUE;
	guint running = 0;

	/* Whoever reads the state files after start returns must see this moment. */
	sg_persist_flush(daemon->persist);
	sg_supervisor_is_settled(supervisor, &all_up);
	for (guint i = 0; i < services->len; i++) {
		SgService *service = g_ptr_array_index(services, i);
		SgServiceState state = sg_service_get_state(service);

		if (state == SG_SERVICE_RUNNING)
			running++;
		if (sg_service_state_counts_failed(state, sg_service_failed_before_ready(service)))
			append_failure(report, &daemon->context, service);
	}
	sg_context_log(&daemon->context, all_up ? SG_LOG_INFO : SG_LOG_WARN,
	               "all services settled: %u running%s", running,
	               all_up ? "" : ", some did not start");
	if (all_up)
		g_string_append_printf(report,
		                       _("systemg is running (PID %d), %u services running\n"),
		                       getpid(), running);
	send_report(daemon, all_up ? 0 : 1, report->str);
}

/* After a shutdown (a signal, the socket's or the bus's): every service is stopped. */
static void
stopped_all_cb(gpointer user_data)
{
	Daemon *daemon = user_data;

	/* The next supervisor starts afresh: nothing it finds stopped is a crash or held. */
	sg_persist_end_run(daemon->persist);
	g_main_loop_quit(daemon->loop);
}

/* SIGHUP: the current file again; a refused file is logged by the engine and changes nothing. */
static void
reload_on_signal(Daemon *daemon)
{
	g_autoptr(GError) error = NULL;

	sg_context_log(&daemon->context, SG_LOG_INFO, "SIGHUP: reloading the configuration");
	(void)sg_api_reload(daemon->api, NULL, &error);
}

static gboolean
signal_cb(int fd, GIOCondition condition, gpointer user_data)
{
	Daemon *daemon = user_data;
	struct signalfd_siginfo info;

	while (read(fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
		switch (info.ssi_signo) {
		case SIGTERM:
			sg_api_shutdown(daemon->api, "SIGTERM");
			break;
		case SIGINT:
			sg_api_shutdown(daemon->api, "SIGINT");
			break;
		case SIGHUP:
			/* From a terminal, SIGHUP means the terminal went away. */
			if (daemon->has_terminal)
				sg_api_shutdown(daemon->api, "SIGHUP (terminal closed)");
			else if (!sg_api_is_shutting_down(daemon->api))
				reload_on_signal(daemon);
			break;
		default:
			break;
		}
	}
	return G_SOURCE_CONTINUE;
}

/* ---- set-up ---- */

/* Whoever waited for this supervisor to start may talk to it now. */
static void
reachable_cb(gpointer user_data)
{
	Daemon *daemon = user_data;

	sg_startup_lock_release(daemon->startup_lock);
	daemon->startup_lock = -1;
}

static gboolean
has_controlling_terminal(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return FALSE;
	close(fd);
	return TRUE;
}

static void
raise_open_file_limit(SgContext *context)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
		return;
	/* Services get the original soft limit back (select() users rely on it). */
	context->service_nofile = limit;
	if (limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
	}
}

static char *
find_config(const Options *options, const char *state_dir, GError **error)
{
	g_autofree char *hint = NULL;

	if (options->config_path != NULL)
		return g_strdup(options->config_path);
	/* D-Bus activation and autostart: the last file used, then the usual places. */
	hint = sg_state_read_config_hint(state_dir);
	return sg_config_discover(NULL, hint, error);
}

static void
print_problems(GPtrArray *problems)
{
	for (guint i = 0; i < problems->len; i++) {
		g_autofree char *line = sg_problem_format(g_ptr_array_index(problems, i));
		fprintf(stderr, "%s\n", line);
	}
}

static int fail(Daemon *daemon, int status, const char *format, ...) G_GNUC_PRINTF(3, 4);

static int
fail(Daemon *daemon, int status, const char *format, ...)
{
	g_autofree char *message = NULL;
	g_autofree char *line = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	line = g_strdup_printf("sysgd: %s\n", message);
	if (daemon->report_fd >= 0)
		send_report(daemon, status, line);
	else
		fputs(line, stderr);
	sg_context_log(&daemon->context, SG_LOG_ERROR, "%s", message);
	return status;
}

static int
run(Daemon *daemon, Options *options)
{
	SgContext *context = &daemon->context;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(SgConfig) config = NULL;
	g_autofree char *state_dir = sg_paths_state_dir();
	g_autofree char *warning = NULL;
	g_autofree char *config_path = NULL;
	g_autofree char *quarantined = NULL;
	g_autofree char *log_path = NULL;
	g_autofree char *socket_path = NULL;
	SgLogLevel level = SG_LOG_INFO;
	pid_t stale_pid = 0;
	gint64 started_at = g_get_real_time();
	int signal_fd;
	sigset_t mask;

	if (options->log_level != NULL && !sg_log_level_parse(options->log_level, &level)) {
		fprintf(stderr, "sysgd: %s\n",
		        _("invalid --log-level: use off, error, warn, info, debug, trace or 0-5"));
		return EXIT_USAGE;
	}
	/* The configuration is checked before anything is touched. */
	config_path = find_config(options, state_dir, NULL);
	if (config_path != NULL) {
		g_autofree char *absolute = g_canonicalize_filename(config_path, NULL);
		config = sg_config_load(absolute, config_path, NULL, problems, &error);
		if (config == NULL) {
			print_problems(problems);
			fprintf(stderr, "sysgd: %s\n", error->message);
			return 3;
		}
	} else {
		/* Nothing to run yet: an activated daemon waits for a Reload. */
		config = NULL;
	}

	daemon->report_fd = -1;
	if (options->daemonize) {
		int rc = daemonize(&daemon->report_fd);
		if (rc < 0) {
			fprintf(stderr, "sysgd: cannot daemonize: %s\n", g_strerror(-rc));
			return 1;
		}
	}
	daemon->has_terminal = !options->daemonize && has_controlling_terminal();

	if (!sg_paths_ensure_state_dir(state_dir, &warning, &error))
		return fail(daemon, 1, "%s", error->message);
	/* One supervisor starts at a time; sysg start may have taken the lock for us. */
	daemon->startup_lock = sg_startup_lock_adopt(daemon->startup_lock, state_dir);
	if (daemon->startup_lock < 0)
		daemon->startup_lock = sg_startup_lock_take(state_dir, SG_STARTUP_WAIT_SEC, &error);
	if (daemon->startup_lock < 0)
		return fail(daemon, 1, "%s", error->message);
	daemon->pid_file = sg_pid_file_acquire(state_dir, &stale_pid, &error);
	if (daemon->pid_file == NULL)
		return fail(daemon, 1, "%s", error->message);

	log_path = sg_paths_state_file(state_dir, SG_STATE_SUPERVISOR_LOG);
	context->log = sg_log_open(log_path, level, &error);
	if (context->log == NULL)
		return fail(daemon, 1, "%s", error->message);
	/* sysg start in the foreground shows supervisor.log itself. */
	if (!options->daemonize && g_strcmp0(g_getenv("SYSTEMG_NO_MIRROR"), "1") != 0)
		sg_log_set_mirror(context->log, STDERR_FILENO);
	/* Not for the services. */
	g_unsetenv("SYSTEMG_NO_MIRROR");
	sg_context_log(context, SG_LOG_INFO, "systemg %s supervisor starting (PID %d)",
	               PACKAGE_VERSION, getpid());
	if (warning != NULL)
		sg_context_log(context, SG_LOG_WARN, "%s", warning);
	if (stale_pid > 0)
		sg_context_log(context, SG_LOG_INFO,
		               "removed stale sysg.pid of a supervisor that is gone (PID %d)",
		               stale_pid);
	socket_path = sg_paths_state_file(state_dir, SG_STATE_SOCKET);
	if (g_file_test(socket_path, G_FILE_TEST_EXISTS) && unlink(socket_path) == 0)
		sg_context_log(context, SG_LOG_INFO, "removed stale control.sock");
	sg_state_remove_stale_temp_files(state_dir, 60);

	context->state_dir = g_strdup(state_dir);
	context->log_dir = sg_paths_state_file(state_dir, SG_STATE_LOG_DIR);
	context->state_id = sg_state_ensure_state_id(state_dir, &quarantined, &error);
	if (context->state_id == NULL)
		return fail(daemon, 1, "%s", error->message);
	if (quarantined != NULL)
		sg_context_log(context, SG_LOG_WARN, "state.json was corrupt; set aside as %s",
		               quarantined);
	if (config != NULL) {
		sg_context_log(context, SG_LOG_INFO, "configuration %s: %u services", config->path,
		               config->services->len);
		if (!sg_state_write_config_hint(state_dir, config->path, &error)) {
			sg_context_log(context, SG_LOG_WARN, "cannot write config_hint: %s",
			               error->message);
			g_clear_error(&error);
		}
	} else {
		sg_context_log(context, SG_LOG_INFO, "no configuration found: running no services");
		config = sg_config_new_empty();
	}
	if (options->no_bus)
		sg_context_log(context, SG_LOG_DEBUG, "--no-bus: not connecting to D-Bus");

	raise_open_file_limit(context);
	context->clock = sg_clock_new_real();
	context->known_pids = g_hash_table_new(NULL, NULL);
	context->reaper = sg_reaper_new(&error);
	if (context->reaper == NULL)
		return fail(daemon, 1, "%s", error->message);
	context->contain =
	        sg_contain_new(options->cgroup, context->state_id, context->clock, &error);
	if (context->contain == NULL)
		return fail(daemon, 1, "%s", error->message);
	sg_contain_set_stray_func(context->contain,
	                          (SgContainStrayFunc)sg_context_has_stray_children, context);
	sg_context_log(context, SG_LOG_INFO, "containment: %s",
	               sg_contain_uses_cgroups(context->contain)
	                       ? sg_contain_cgroup_root(context->contain)
	                       : "session, process group and markers");
	context->log_watch = sg_log_watch_new(context->clock, &error);
	if (context->log_watch == NULL)
		return fail(daemon, 1, "%s", error->message);
	sg_log_watch_set_log(context->log_watch, context->log);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signal_fd < 0)
		return fail(daemon, 1, "signalfd: %s", g_strerror(errno));
	g_unix_fd_add(signal_fd, G_IO_IN, signal_cb, daemon);

	daemon->loop = g_main_loop_new(NULL, FALSE);
	daemon->supervisor = sg_supervisor_new(context, config);
	daemon->persist = sg_persist_new(daemon->supervisor);
	daemon->api = sg_api_new(daemon->supervisor, started_at, stopped_all_cb, daemon);
	daemon->control = sg_control_new(daemon->api, &error);
	if (daemon->control == NULL) {
		int status = fail(daemon, 1, "%s", error->message);
		sg_api_free(daemon->api);
		sg_persist_free(daemon->persist);
		g_clear_object(&daemon->supervisor);
		close(signal_fd);
		return status;
	}
	if (!options->no_bus)
		daemon->bus = sg_bus_new_session(daemon->api);
	sg_bus_set_started_at(daemon->bus, started_at);
	sg_bus_when_named(daemon->bus, reachable_cb, daemon);
	g_signal_connect(daemon->supervisor, "settled", G_CALLBACK(settled_cb), daemon);
	/* What an earlier supervisor left running is taken over, never started twice. */
	sg_supervisor_adopt(daemon->supervisor);
	sg_supervisor_start_all(daemon->supervisor);
	g_main_loop_run(daemon->loop);

	/* control.sock and the bus go first: nobody may reach a supervisor that is leaving. */
	g_clear_pointer(&daemon->bus, sg_bus_free);
	g_clear_pointer(&daemon->control, sg_control_free);
	g_clear_pointer(&daemon->api, sg_api_free);
	sg_persist_free(daemon->persist);
	g_clear_object(&daemon->supervisor);
	sg_context_log(context, SG_LOG_INFO, "systemg supervisor exiting");
	send_report(daemon, daemon->exit_status, NULL);
	close(signal_fd);
	return daemon->exit_status;
}

int
main(int argc, char **argv)
{
	Options options = { 0 };
	GOptionEntry entries[] = {
		{ "config", 0, 0, G_OPTION_ARG_FILENAME, &options.config_path,
		  N_("Configuration file"), N_("FILE") },
		{ "log-level", 0, 0, G_OPTION_ARG_STRING, &options.log_level,
		  N_("off, error, warn, info, debug, trace or 0-5 (default info)"), N_("LEVEL") },
		{ "daemonize", 0, 0, G_OPTION_ARG_NONE, &options.daemonize,
		  N_("Run in the background; return once every service has settled"), NULL },
		{ "no-bus", 0, 0, G_OPTION_ARG_NONE, &options.no_bus,
		  N_("Do not connect to the D-Bus session bus"), NULL },
		{ "cgroup", 0, 0, G_OPTION_ARG_FILENAME, &options.cgroup,
		  N_("A cgroup v2 directory to run services in"), N_("PATH") },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &options.version, N_("Print the version"),
		  NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	Daemon daemon = { .report_fd = -1, .startup_lock = -1 };
	sigset_t mask;
	int status;

	/* Before any thread exists, so every thread inherits the mask: the signals arrive
	 * only through signalfds on the main loop. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Before the configuration copies the environment for the services. */
	daemon.startup_lock = sg_startup_lock_handed();
	setlocale(LC_ALL, "");
	/* Tests point this at the build tree, where the catalogs are built but not installed. */
	bindtextdomain(GETTEXT_PACKAGE, g_getenv("SYSTEMG_LOCALEDIR") ?: LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	g_set_prgname("sysgd");

	context = g_option_context_new(NULL);
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_set_summary(context, _("The systemg supervisor daemon."));
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "sysgd: %s\n%s\n", error->message, _("Try 'sysgd --help'."));
		return EXIT_USAGE;
	}
	if (argc > 1) {
		fprintf(stderr, "sysgd: %s \"%s\"\n%s\n", _("unexpected argument"), argv[1],
		        _("Try 'sysgd --help'."));
		return EXIT_USAGE;
	}
	if (options.version) {
		printf("sysgd %s\n", PACKAGE_VERSION);
		return 0;
	}

	status = run(&daemon, &options);
	sg_startup_lock_release(daemon.startup_lock);
	if (daemon.pid_file != NULL)
		sg_pid_file_release(daemon.pid_file);
	sg_context_clear(&daemon.context);
	g_clear_pointer(&daemon.loop, g_main_loop_unref);
	g_free(options.config_path);
	g_free(options.log_level);
	g_free(options.cgroup);
	return status;
}
