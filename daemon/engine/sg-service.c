/* SPDX-License-Identifier: MIT */
/* The life of one service: every state change goes through set_state(), every exit through
 * main_exited(), and what follows an instance is decided in one place, after_instance(). */
#include "config.h"

#include "engine/sg-service.h"
#include "engine/sg-service-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process/sg-command.h"
#include "engine/sg-cron-job.h"
#include "base/sg-error.h"
#include "engine/sg-health.h"
#include "engine/sg-hook.h"
#include "process/sg-notify.h"
#include "process/sg-proctree.h"
#include "base/sg-shell.h"
#include "process/sg-spawn.h"
#include "base/sg-tail.h"

/* A service with no health check is ready once it has stayed alive this long. */
#define SETTLE_MS 100
/* The restart count resets after this many backoffs of uptime, and never sooner than 10 s. */
#define STABLE_BACKOFFS 10
#define STABLE_MIN_MS   10000

typedef struct {
	SgServiceDoneFunc done;
	gpointer user_data;
} StopWaiter;

static void after_instance(SgService *service, int wait_status);
static void cron_run_started(SgService *service);
static void cron_run_ended(SgService *service, int wait_status, gboolean killed);
static void settle_skipped(SgService *service);

/* ---- state ---- */

static void
set_state(SgService *service, SgServiceState state, const char *cause)
{
	SgServiceState old = service->state;
	char *new_cause = g_strdup(cause); /* cause may be service->cause itself */

	g_free(service->cause);
	service->cause = new_cause;
	service->state = state;
	if (state != SG_SERVICE_BACKOFF && state != SG_SERVICE_STARTING &&
	    state != SG_SERVICE_STOPPING)
		service->recovering = FALSE;
	if (old != state)
		service->events.state_changed(service, old, service->events_data);
	else
		service->events.changed(service, service->events_data);
}

static void
emit_changed(SgService *service)
{
	service->events.changed(service, service->events_data);
}

/* ---- environment and hooks ---- */

/*
 * The instance gets every marker. Helpers (hooks, health-check commands, skip, pre_start)
 * get SYSTEMG_SERVICE, so that one script can serve several services, but never the state
 * id or an invocation id: the marker scan must never take them for the service.
 */
static char **
service_environ(SgService *service, gboolean with_markers)
{
	char **env = sg_config_service_environ(service->config, service->cfg);

	env = g_environ_setenv(env, "SYSTEMG_SERVICE", service->cfg->name, TRUE);
	if (!with_markers) {
		env = g_environ_unsetenv(env, "SYSTEMG_STATE_ID");
		return g_environ_unsetenv(env, "SYSTEMG_INVOCATION_ID");
	}
	env = g_environ_setenv(env, "SYSTEMG_STATE_ID", service->context->state_id, TRUE);
	env = g_environ_setenv(env, "SYSTEMG_INVOCATION_ID", service->invocation_id, TRUE);
	if (service->notify != NULL)
		env = g_environ_setenv(env, "NOTIFY_SOCKET",
		                       sg_notify_socket_address(service->notify), TRUE);
	return env;
}

static void
run_hook(SgService *service, SgHookKind kind)
{
	const SgHook *hook = &service->cfg->hooks[kind];
	g_auto(GStrv) env = NULL;

	if (hook->command == NULL)
		return;
	env = service_environ(service, FALSE);
	sg_hook_queue_push(service->hooks, kind, hook, env, service->cfg->working_dir,
	                   service->exit_code, service->exit_signal);
}

/* ---- timers and instance resources ---- */

static void
clear_instance_watches(SgService *service)
{
	SgClock *clock = service->context->clock;

	sg_clock_clear(clock, &service->settle_timer);
	sg_clock_clear(clock, &service->stable_timer);
	g_clear_pointer(&service->probe, sg_health_probe_cancel);
	g_clear_handle_id(&service->status_source, g_source_remove);
	if (service->status_fd >= 0) {
		close(service->status_fd);
		service->status_fd = -1;
	}
}

static void
stable_cb(gpointer user_data)
{
	SgService *service = user_data;

	service->stable_timer = 0;
	if (service->restart_count > 0) {
		sg_context_log(service->context, SG_LOG_DEBUG,
		              "%s has stayed up; restart count reset from %u", service->cfg->name,
		              service->restart_count);
		service->restart_count = 0;
		emit_changed(service);
	}
}

static void
become_ready(SgService *service)
{
	guint64 stable_ms = MAX((guint64)STABLE_MIN_MS, STABLE_BACKOFFS * service->cfg->backoff_ms);

	if (service->ready)
		return;
	service->ready = TRUE;
	service->failed_before_ready = FALSE;
	sg_clock_clear(service->context->clock, &service->settle_timer);
	if (service->cfg->health_check.kind != SG_CHECK_NONE)
		service->health = SG_HEALTH_HEALTHY;
	sg_context_log(service->context, SG_LOG_INFO, "%s is ready (PID %d)", service->cfg->name,
	              service->pid);
	set_state(service, service->orphaned ? SG_SERVICE_ORPHANED : SG_SERVICE_RUNNING, NULL);
	run_hook(service, SG_HOOK_ON_START_SUCCESS);
	if (service->automatic)
		run_hook(service, SG_HOOK_ON_RESTART_SUCCESS);
	if (service->restart_count > 0)
		service->stable_timer =
		        sg_clock_add_timeout(service->context->clock, stable_ms, stable_cb, service);
}

static void
settle_cb(gpointer user_data)
{
	SgService *service = user_data;

	service->settle_timer = 0;
	become_ready(service);
}

static void
notify_cb(SgNotifySocket *socket, GHashTable *fields, gpointer user_data)
{
	SgService *service = user_data;
	const char *ready = g_hash_table_lookup(fields, "READY");

	if (g_strcmp0(ready, "1") == 0 && service->pid > 0 && service->intent == INTENT_NONE &&
	    service->state == SG_SERVICE_STARTING)
		become_ready(service);
}

static void
probe_done_cb(gboolean passed, const char *cause, gpointer user_data)
{
	SgService *service = user_data;

	service->probe = NULL;
	if (passed) {
		become_ready(service);
		return;
	}
	service->health = SG_HEALTH_UNHEALTHY;
	sg_context_log(service->context, SG_LOG_ERROR, "%s: %s", service->cfg->name, cause);
	g_free(service->spawn_error);
	service->spawn_error = g_strdup(cause);
	/* The instance is not going to be ready: stop it, then decide as for a crash. */
	service->intent = INTENT_CHECK_FAILED;
	set_state(service, SG_SERVICE_STOPPING, cause);
	sg_service_stop(service, NULL, NULL);
}

static void
start_readiness(SgService *service)
{
	const SgHealthCheck *check = &service->cfg->health_check;
	SgHealthContext context = { 0 };
	g_auto(GStrv) env = NULL;
	g_autofree char *pid_var = NULL;

	switch (check->kind) {
	case SG_CHECK_NONE:
		service->settle_timer =
		        sg_clock_add_timeout(service->context->clock, SETTLE_MS, settle_cb, service);
		return;
	case SG_CHECK_NOTIFY:
		/* READY=1 arrives through notify_cb. */
		return;
	case SG_CHECK_URL:
	case SG_CHECK_TCP:
	case SG_CHECK_COMMAND:
	default:
		break;
	}
	env = service_environ(service, FALSE);
	pid_var = g_strdup_printf("SYSTEMG_PID=%d", service->pid);
	context.envp = env;
	context.cwd = service->cfg->working_dir;
	context.extra_env = pid_var;
	context.reaper = service->context->reaper;
	context.clock = service->context->clock;
	service->probe = sg_health_probe_start(check, &context, probe_done_cb, service);
}

/* ---- spawning ---- */

/* Reads what the child reported before exec; TRUE once the report is complete. */
static gboolean
read_exec_status(SgService *service)
{
	g_autofree char *message = NULL;
	const char *program = service->cfg->argv != NULL ? service->cfg->argv[0] : "/bin/sh";
	int status = sg_spawn_read_status(service->status_fd, program, &message);

	if (status == 0)
		return FALSE;
	if (status < 0) {
		service->exec_failed = TRUE;
		g_free(service->spawn_error);
		service->spawn_error = g_steal_pointer(&message);
	}
	return TRUE;
}

static gboolean
status_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgService *service = user_data;

	if (!read_exec_status(service))
		return G_SOURCE_CONTINUE;
	service->status_source = 0;
	close(service->status_fd);
	service->status_fd = -1;
	return G_SOURCE_REMOVE;
}

static gboolean
open_logs(SgService *service, GError **error)
{
	g_autofree char *out = NULL, *err = NULL;

	if (service->stdout_log != NULL)
		return TRUE;
	out = g_strdup_printf("%s/%s_stdout.log", service->context->log_dir, service->cfg->name);
	err = g_strdup_printf("%s/%s_stderr.log", service->context->log_dir, service->cfg->name);
	service->stdout_log =
	        sg_log_file_open(service->context->log_watch, out, &service->cfg->logs, error);
	if (service->stdout_log == NULL)
		return FALSE;
	service->stderr_log =
	        sg_log_file_open(service->context->log_watch, err, &service->cfg->logs, error);
	if (service->stderr_log == NULL) {
		g_clear_pointer(&service->stdout_log, sg_log_file_close);
		return FALSE;
	}
	return TRUE;
}

static void main_exited_cb(pid_t pid, int wait_status, gpointer user_data);

/*
 * A failure before any process exists: logged, hooks fired, then decided like an exit.
 * wait_status is that of what failed before (pre_start), or -1.
 */
static void
fail_to_start(SgService *service, const char *cause, int wait_status)
{
	sg_context_log(service->context, SG_LOG_ERROR, "%s cannot be started: %s", service->cfg->name,
	              cause);
	g_free(service->spawn_error);
	service->spawn_error = g_strdup(cause);
	service->exec_failed = TRUE;
	service->exit_code =
	        wait_status >= 0 && WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
	service->exit_signal =
	        wait_status >= 0 && WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
	if (service->cfg->cron != NULL) {
		/* A cron run has no readiness: every run ends with an on_stop hook. */
		run_hook(service, SG_HOOK_ON_STOP_ERROR);
	} else {
		run_hook(service, SG_HOOK_ON_START_ERROR);
		if (service->automatic)
			run_hook(service, SG_HOOK_ON_RESTART_ERROR);
	}
	service->main_gone = TRUE;
	after_instance(service, -1);
}

static void
fail_to_spawn(SgService *service, const char *cause)
{
	fail_to_start(service, cause, -1);
}

static void
spawn_instance(SgService *service)
{
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) env = NULL;
	g_auto(GStrv) argv = NULL;
	g_autofree char *display = NULL;
	SgSpawnResult result;
	int cgroup_fd;

	g_free(service->invocation_id);
	service->invocation_id = sg_context_random_id();
	if (service->adopted) {
		/* What the earlier supervisor started is gone: from now on, ours. */
		service->adopted = FALSE;
		sg_contain_set_foreign(service->context->contain, service->cfg->name, FALSE);
		sg_contain_set_recorded(service->context->contain, service->cfg->name, 0);
	}
	g_clear_pointer(&service->spawn_error, g_free);
	service->exec_failed = FALSE;
	service->ready = FALSE;
	service->main_gone = FALSE;
	service->intent = INTENT_NONE;
	service->health = service->cfg->health_check.kind == SG_CHECK_NONE ? SG_HEALTH_NONE
	                                                                   : SG_HEALTH_STARTING;

	if (service->cfg->health_check.kind == SG_CHECK_NOTIFY && service->notify == NULL) {
		service->notify = sg_notify_socket_new(
		        service->context->state_id, service->cfg->name, notify_cb, service, &error);
		if (service->notify == NULL) {
			fail_to_spawn(service, error->message);
			return;
		}
	}
	env = service_environ(service, TRUE);
	if (service->cfg->argv != NULL) {
		g_autofree char *program = sg_spawn_find_program(service->cfg->argv[0], env,
		                                                 service->cfg->working_dir, &error);
		if (program == NULL) {
			fail_to_spawn(service, error->message);
			return;
		}
		argv = g_strdupv(service->cfg->argv);
		g_free(argv[0]);
		argv[0] = g_steal_pointer(&program);
		display = sg_shell_join(service->cfg->argv);
	} else {
		argv = sg_shell_argv(service->cfg->command);
		display = g_strdup(service->cfg->command);
	}
	if (!open_logs(service, &error)) {
		fail_to_spawn(service, error->message);
		return;
	}
	cgroup_fd = sg_contain_prepare(service->context->contain, service->cfg->name, &error);
	if (error != NULL) {
		fail_to_spawn(service, error->message);
		return;
	}

	options.argv = argv;
	options.envp = env;
	options.cwd = service->cfg->working_dir;
	options.stdout_fd = sg_log_file_fd(service->stdout_log);
	options.stderr_fd = sg_log_file_fd(service->stderr_log);
	options.new_session = TRUE;
	options.nofile = &service->context->service_nofile;
	options.cgroup_fd = cgroup_fd;
	if (!sg_spawn(&options, &result, &error)) {
		if (cgroup_fd >= 0)
			close(cgroup_fd);
		fail_to_spawn(service, error->message);
		return;
	}
	if (cgroup_fd >= 0)
		close(cgroup_fd);

	service->pid = result.pid;
	service->status_fd = result.status_fd;
	service->status_source =
	        g_unix_fd_add(result.status_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, status_cb, service);
	g_hash_table_add(service->context->known_pids, GINT_TO_POINTER(result.pid));
	sg_reaper_watch(service->context->reaper, result.pid, main_exited_cb, service);
	service->proc_start_time = sg_proctree_start_time(result.pid);
	service->started_at_usec = sg_clock_realtime_usec(service->context->clock);
	service->exit_code = -1;
	service->exit_signal = 0;
	sg_context_log(service->context, SG_LOG_INFO, "started %s (PID %d): %s", service->cfg->name,
	              result.pid, display);
	if (service->cfg->cron != NULL) {
		cron_run_started(service);
		return;
	}
	set_state(service, SG_SERVICE_STARTING, NULL);
	start_readiness(service);
}

/* ---- skip and pre_start ---- */

static void
pre_start_done_cb(int wait_status, const char *cause, gpointer user_data)
{
	SgService *service = user_data;
	g_autofree char *status = NULL;

	service->helper = NULL;
	if (wait_status >= 0 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
		spawn_instance(service);
		return;
	}
	status = cause != NULL ? g_strdup(cause) : sg_command_describe_status(wait_status);
	{
		g_autofree char *message = g_strdup_printf("pre_start failed: %s", status);
		fail_to_start(service, message, wait_status);
	}
}

static void
run_pre_start_or_spawn(SgService *service)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) env = NULL;
	g_autofree char *label = NULL;

	if (service->cfg->deployment.pre_start == NULL) {
		spawn_instance(service);
		return;
	}
	/* Its output goes where the service's goes: its failure is told with its stderr. */
	if (!open_logs(service, &error)) {
		fail_to_spawn(service, error->message);
		return;
	}
	env = service_environ(service, FALSE);
	label = g_strdup_printf("%s pre_start", service->cfg->name);
	set_state(service, SG_SERVICE_STARTING, "running pre_start");
	sg_context_log(service->context, SG_LOG_INFO, "%s: running pre_start", service->cfg->name);
	service->helper =
	        sg_command_run_to(service->context, label, service->cfg->deployment.pre_start, env,
	                          service->cfg->working_dir, 0, sg_log_file_fd(service->stdout_log),
	                          sg_log_file_fd(service->stderr_log), pre_start_done_cb, service);
}

static void
skip_done_cb(int wait_status, const char *cause, gpointer user_data)
{
	SgService *service = user_data;

	service->helper = NULL;
	if (wait_status >= 0 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
		sg_context_log(service->context, SG_LOG_INFO, "%s skipped: its skip command exited 0",
		              service->cfg->name);
		settle_skipped(service);
		return;
	}
	run_pre_start_or_spawn(service);
}

static void
start_instance(SgService *service, gboolean automatic)
{
	g_auto(GStrv) env = NULL;
	g_autofree char *label = NULL;

	if (sg_service_is_active(service) || service->helper != NULL)
		return;
	sg_clock_clear(service->context->clock, &service->backoff_timer);
	service->automatic = automatic;
	if (service->cfg->skip) {
		sg_context_log(service->context, SG_LOG_INFO, "%s skipped", service->cfg->name);
		settle_skipped(service);
		return;
	}
	if (service->cfg->skip_command == NULL) {
		run_pre_start_or_spawn(service);
		return;
	}
	env = service_environ(service, FALSE);
	label = g_strdup_printf("%s skip", service->cfg->name);
	set_state(service, SG_SERVICE_STARTING, "checking skip");
	service->helper = sg_command_run(service->context, label, service->cfg->skip_command, env,
	                                 service->cfg->working_dir, 0, skip_done_cb, service);
}

void
sg_service_start(SgService *service)
{
	if (sg_service_is_active(service) || service->helper != NULL)
		return;
	/* The operator's start is a fresh beginning for the restart policy. */
	if (service->restart_count > 0) {
		service->restart_count = 0;
		emit_changed(service);
	}
	service->failed_before_ready = FALSE;
	service->recovering = FALSE;
	start_instance(service, FALSE);
}

/* ---- exits and what follows ---- */

static char *
describe_exit(SgService *service, int wait_status)
{
	if (service->spawn_error != NULL)
		return g_strdup(service->spawn_error);
	if (wait_status < 0 && service->adopted)
		return g_strdup(
		        "exited while adopted from an earlier supervisor; exit status unknown");
	if (wait_status >= 0 && WIFEXITED(wait_status) && service->cfg->command != NULL &&
	    !service->ready &&
	    (WEXITSTATUS(wait_status) == 126 || WEXITSTATUS(wait_status) == 127)) {
		/* The shell could not run the command: its own message is the cause. */
		g_autofree char *path = g_strdup_printf(
		        "%s/%s_stderr.log", service->context->log_dir, service->cfg->name);
		g_auto(GStrv) lines = sg_tail_lines(path, 1, NULL);
		if (lines != NULL && lines[0] != NULL)
			return g_strdup_printf("%s (exit status %d)", lines[0],
			                       WEXITSTATUS(wait_status));
	}
	return sg_command_describe_status(wait_status);
}

static gboolean
exit_is_failure(int wait_status)
{
	return wait_status < 0 || !WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0;
}

static gboolean
exec_cannot_work(SgService *service, int wait_status)
{
	if (service->exec_failed)
		return TRUE;
	return wait_status >= 0 && WIFEXITED(wait_status) && service->cfg->command != NULL &&
	       !service->ready &&
	       (WEXITSTATUS(wait_status) == 126 || WEXITSTATUS(wait_status) == 127);
}

static guint64
backoff_delay(SgService *service)
{
	guint64 delay = service->cfg->backoff_ms;

	if (service->cfg->backoff_max_ms == 0)
		return delay;
	for (guint i = 0; i < service->restart_count && delay < service->cfg->backoff_max_ms; i++)
		delay *= 2;
	return MIN(delay, service->cfg->backoff_max_ms);
}

static void
backoff_cb(gpointer user_data)
{
	SgService *service = user_data;

	service->backoff_timer = 0;
	sg_context_log(service->context, SG_LOG_INFO, "restarting %s (restart %u)",
	              service->cfg->name, service->restart_count);
	start_instance(service, TRUE);
}

/* The restart policy's next start; until then the service is in backoff, recovering. */
static void
arm_backoff(SgService *service, guint64 delay_ms)
{
	service->recovering = TRUE;
	service->restart_due_usec =
	        sg_clock_monotonic_usec(service->context->clock) + (gint64)delay_ms * 1000;
	service->backoff_timer =
	        sg_clock_add_timeout(service->context->clock, delay_ms, backoff_cb, service);
}

/* The instance is over and nothing of it is left: restart, or settle in a final state. */
static void
after_instance(SgService *service, int wait_status)
{
	g_autofree char *cause = describe_exit(service, wait_status);
	gboolean failure = exit_is_failure(wait_status) || service->intent == INTENT_CHECK_FAILED;
	gboolean restart;

	if (service->cfg->cron != NULL) {
		cron_run_ended(service, wait_status, FALSE);
		return;
	}
	service->pid = 0;
	service->intent = INTENT_NONE;
	switch (service->cfg->restart_policy) {
	case SG_RESTART_ALWAYS:
		restart = TRUE;
		break;
	case SG_RESTART_ON_FAILURE:
		restart = failure;
		break;
	case SG_RESTART_NEVER:
	default:
		restart = FALSE;
		break;
	}
	/* A program that cannot be executed fails at once: retrying cannot help. */
	if (exec_cannot_work(service, wait_status))
		restart = FALSE;
	if (!service->ready && failure)
		service->failed_before_ready = TRUE;
	/* The instance is over and has had its last hook: a later stop runs none for it. */
	service->ready = FALSE;

	if (restart && service->cfg->max_restarts >= 0 &&
	    service->restart_count >= (guint)service->cfg->max_restarts) {
		g_autofree char *why = g_strdup_printf("gave up after %u restarts: %s",
		                                       service->restart_count, cause);
		sg_context_log(service->context, SG_LOG_ERROR, "%s %s", service->cfg->name, why);
		set_state(service, SG_SERVICE_FAILED, why);
		return;
	}
	if (restart) {
		guint64 delay = backoff_delay(service);
		service->restart_count++;
		sg_context_log(service->context, SG_LOG_INFO,
		              "%s will restart in %" G_GUINT64_FORMAT " ms (restart %u)",
		              service->cfg->name, delay, service->restart_count);
		arm_backoff(service, delay);
		set_state(service, SG_SERVICE_BACKOFF, cause);
		return;
	}
	if (failure)
		set_state(service, SG_SERVICE_FAILED, cause);
	else
		set_state(service, SG_SERVICE_EXITED, NULL);
}

static void finish_stop(SgService *service);

static void
contain_done_cb(const char *name, gboolean killed, guint n_processes, gpointer user_data)
{
	SgService *service = user_data;

	service->contain_stop = NULL;
	service->contain_pending = FALSE;
	if (n_processes > 0)
		sg_context_log(service->context, killed ? SG_LOG_WARN : SG_LOG_INFO,
		              "%s: stopped %u process%s%s", service->cfg->name, n_processes,
		              n_processes == 1 ? "" : "es", killed ? " (SIGKILL was needed)" : "");
	if (service->main_gone)
		finish_stop(service);
}

/* Stops every process of the service (leftovers of an exit, or the whole service). */
static void
stop_processes(SgService *service, pid_t sid)
{
	SgContainStop *stop;

	if (service->contain_pending)
		return;
	service->contain_pending = TRUE;
	stop = sg_contain_stop(service->context->contain, service->cfg->name, sid,
	                       service->cfg->stop_timeout_ms, contain_done_cb, service);
	/* done may already have run if nothing was left. */
	if (service->contain_pending)
		service->contain_stop = stop;
}

static void
main_exited_cb(pid_t pid, int wait_status, gpointer user_data)
{
	SgService *service = user_data;
	g_autofree char *how = NULL;

	g_hash_table_remove(service->context->known_pids, GINT_TO_POINTER(pid));
	/* Whatever the exec reported is in the pipe by now. */
	if (service->status_fd >= 0)
		read_exec_status(service);
	clear_instance_watches(service);
	service->main_gone = TRUE;
	service->last_wait_status = wait_status;
	if (WIFEXITED(wait_status)) {
		service->exit_code = WEXITSTATUS(wait_status);
		service->exit_signal = 0;
	} else if (WIFSIGNALED(wait_status)) {
		service->exit_code = -1;
		service->exit_signal = WTERMSIG(wait_status);
	}
	how = describe_exit(service, wait_status);
	/* An exit that was asked for is no news. */
	sg_context_log(service->context,
	              exit_is_failure(wait_status) && service->intent == INTENT_NONE ? SG_LOG_WARN
	                                                                             : SG_LOG_INFO,
	              "%s (PID %d) exited: %s", service->cfg->name, pid, how);

	if (service->intent != INTENT_NONE) {
		/* A stop is in progress: it finishes once no process is left. */
		if (!service->contain_pending)
			finish_stop(service);
		return;
	}

	/* Hooks of the instance, always before any restart. */
	if (!service->ready && !exit_is_failure(wait_status)) {
		/* Exited 0 before the settle window: ready and done at once (a one-shot job). */
		run_hook(service, SG_HOOK_ON_START_SUCCESS);
		if (service->automatic)
			run_hook(service, SG_HOOK_ON_RESTART_SUCCESS);
		service->ready = TRUE;
		run_hook(service, SG_HOOK_ON_STOP_SUCCESS);
	} else if (!service->ready) {
		run_hook(service, SG_HOOK_ON_START_ERROR);
		if (service->automatic)
			run_hook(service, SG_HOOK_ON_RESTART_ERROR);
	} else {
		run_hook(service, exit_is_failure(wait_status) ? SG_HOOK_ON_STOP_ERROR
		                                               : SG_HOOK_ON_STOP_SUCCESS);
	}

	/* Processes the instance left behind go before anything else happens. */
	if (sg_contain_uses_cgroups(service->context->contain) || service->adopted ||
	    sg_context_has_stray_children(service->context)) {
		service->intent = INTENT_NONE;
		set_state(service, SG_SERVICE_STOPPING, "stopping processes left behind");
		/* contain_done_cb decides what follows, once nothing is left. */
		stop_processes(service, pid);
		return;
	}
	after_instance(service, wait_status);
}

/* ---- stopping ---- */

static void
finish_stop(SgService *service)
{
	StopIntent intent = service->intent;
	gboolean had_process = service->pid > 0;
	GSList *waiters;

	service->pid = 0;
	switch (intent) {
	case INTENT_NONE:
		/* Leftovers of an exit are gone. */
		after_instance(service, service->last_wait_status);
		break;
	case INTENT_CHECK_FAILED:
		run_hook(service, SG_HOOK_ON_START_ERROR);
		if (service->automatic)
			run_hook(service, SG_HOOK_ON_RESTART_ERROR);
		after_instance(service, -1);
		break;
	case INTENT_BLOCK:
		service->intent = INTENT_NONE;
		if (service->ready)
			run_hook(service, SG_HOOK_ON_STOP_SUCCESS);
		set_state(service, SG_SERVICE_BLOCKED, service->cause);
		break;
	case INTENT_STOP:
	default:
		service->intent = INTENT_NONE;
		if (service->ready)
			run_hook(service, SG_HOOK_ON_STOP_SUCCESS);
		sg_contain_release(service->context->contain, service->cfg->name);
		sg_context_log(service->context, SG_LOG_INFO, "%s stopped", service->cfg->name);
		if (service->cfg->cron != NULL && had_process)
			cron_run_ended(service, service->last_wait_status, TRUE);
		else if (service->cfg->cron != NULL)
			set_state(service,
			          service->state == SG_SERVICE_STOPPED ? SG_SERVICE_STOPPED
			                                               : SG_SERVICE_SCHEDULED,
			          NULL);
		else
			set_state(service, SG_SERVICE_STOPPED, NULL);
		break;
	}
	service->ready = FALSE;

	waiters = g_steal_pointer(&service->stop_waiters);
	for (GSList *l = waiters; l != NULL; l = l->next) {
		StopWaiter *waiter = l->data;
		waiter->done(service, waiter->user_data);
	}
	g_slist_free_full(waiters, g_free);
}

static void
begin_stop(SgService *service, StopIntent intent, const char *cause, SgServiceDoneFunc done,
           gpointer user_data)
{
	if (done != NULL) {
		StopWaiter *waiter = g_new0(StopWaiter, 1);
		waiter->done = done;
		waiter->user_data = user_data;
		service->stop_waiters = g_slist_append(service->stop_waiters, waiter);
	}
	if (service->helper != NULL) {
		sg_command_cancel(service->helper);
		service->helper = NULL;
	}
	sg_clock_clear(service->context->clock, &service->backoff_timer);
	sg_clock_clear(service->context->clock, &service->settle_timer);
	sg_clock_clear(service->context->clock, &service->stable_timer);
	g_clear_pointer(&service->probe, sg_health_probe_cancel);

	/* An operator's stop overrides whatever stop was under way. */
	if (intent == INTENT_STOP || service->intent == INTENT_NONE)
		service->intent = intent;
	if (!sg_service_is_active(service)) {
		service->main_gone = TRUE;
		finish_stop(service);
		return;
	}
	if (service->pid > 0)
		sg_context_log(service->context, SG_LOG_INFO, "stopping %s (PID %d)%s%s",
		              service->cfg->name, service->pid, cause != NULL ? ": " : "",
		              cause != NULL ? cause : "");
	set_state(service, SG_SERVICE_STOPPING, cause);
	stop_processes(service, service->pid);
}

void
sg_service_stop(SgService *service, SgServiceDoneFunc done, gpointer user_data)
{
	StopIntent intent =
	        service->intent == INTENT_CHECK_FAILED ? INTENT_CHECK_FAILED : INTENT_STOP;
	begin_stop(service, intent, NULL, done, user_data);
}

void
sg_service_block(SgService *service, const char *cause)
{
	if (!sg_service_is_active(service) && service->helper == NULL) {
		sg_clock_clear(service->context->clock, &service->backoff_timer);
		set_state(service, SG_SERVICE_BLOCKED, cause);
		return;
	}
	sg_context_log(service->context, SG_LOG_WARN, "stopping %s: %s", service->cfg->name, cause);
	g_free(service->cause);
	service->cause = g_strdup(cause);
	begin_stop(service, INTENT_BLOCK, cause, NULL, NULL);
}

void
sg_service_set_waiting(SgService *service, const char *cause)
{
	if (sg_service_is_active(service) || service->helper != NULL)
		return;
	set_state(service, SG_SERVICE_STARTING, cause);
}

/* ---- cron runs ---- */

/* A cron run has no readiness: it is running from the moment it is spawned. */
static void
cron_run_started(SgService *service)
{
	service->ready = TRUE;
	set_state(service, SG_SERVICE_RUNNING, NULL);
}

/* The run is over and nothing of it is left: recorded, then the job waits for its times. */
static void
cron_run_ended(SgService *service, int wait_status, gboolean killed)
{
	gint64 now = sg_clock_realtime_usec(service->context->clock);
	SgCronRun run = { 0 };
	g_autoptr(SgCronJob) job =
	        service->cron_job != NULL ? sg_cron_job_ref(service->cron_job) : NULL;

	/* wait_status < 0: nothing was spawned, so the run started and ended now. */
	run.started_usec =
	        wait_status >= 0 && service->started_at_usec > 0 ? service->started_at_usec : now;
	run.finished_usec = now;
	run.exit_code = wait_status >= 0 && WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
	if (killed)
		run.result = SG_CRON_RESULT_KILLED;
	else if (exit_is_failure(wait_status))
		run.result = SG_CRON_RESULT_FAILED;
	else
		run.result = SG_CRON_RESULT_SUCCESS;
	service->pid = 0;
	service->intent = INTENT_NONE;
	service->ready = FALSE;
	sg_context_log(
	        service->context, run.result == SG_CRON_RESULT_FAILED ? SG_LOG_WARN : SG_LOG_INFO,
	        "cron job %s: run %s", service->cfg->name, sg_cron_result_to_string(run.result));
	/* A run ended, whether scheduled or asked for: the job is in its schedule. */
	set_state(service, SG_SERVICE_SCHEDULED, NULL);
	if (job != NULL)
		sg_cron_job_record(job, &run);
}

/* skip applies per run for a cron job: the job stays scheduled. */
static void
settle_skipped(SgService *service)
{
	set_state(service, service->cfg->cron != NULL ? SG_SERVICE_SCHEDULED : SG_SERVICE_SKIPPED,
	          NULL);
}

void
sg_service_set_cron_job(SgService *service, SgCronJob *job)
{
	if (job != NULL)
		sg_cron_job_ref(job);
	g_clear_pointer(&service->cron_job, sg_cron_job_unref);
	service->cron_job = job;
}

SgCronJob *
sg_service_get_cron_job(SgService *service)
{
	return service->cron_job;
}

void
sg_service_set_scheduled(SgService *service, gboolean scheduled)
{
	if (service->cfg->cron == NULL)
		return;
	if (scheduled && service->state == SG_SERVICE_STOPPED)
		set_state(service, SG_SERVICE_SCHEDULED, NULL);
	else if (!scheduled && service->state == SG_SERVICE_SCHEDULED &&
	         !sg_service_is_active(service) && service->helper == NULL)
		set_state(service, SG_SERVICE_STOPPED, NULL);
}

/* ---- adoption and reload ---- */

static gboolean
adopt_live(SgService *service, const SgServiceAdoption *adoption, GError **error)
{
	SgContext *context = service->context;
	g_autoptr(GError) log_error = NULL;

	if (!sg_reaper_watch_pidfd(context->reaper, adoption->pid, main_exited_cb, service, error))
		return FALSE;
	/* The pidfd pins the process: checked now, it cannot be another one later. */
	if (sg_proctree_start_time(adoption->pid) != adoption->start_time) {
		sg_reaper_unwatch(context->reaper, adoption->pid);
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED, "process %d is gone",
		            (int)adoption->pid);
		return FALSE;
	}
	service->pid = adoption->pid;
	service->proc_start_time = adoption->start_time;
	/* Its proof for containment, should it no longer show its markers (a process title). */
	sg_contain_set_recorded(context->contain, service->cfg->name, adoption->start_time);
	g_free(service->invocation_id);
	service->invocation_id = g_strdup(adoption->invocation_id);
	service->started_at_usec = adoption->started_at_usec > 0
	                                   ? adoption->started_at_usec
	                                   : sg_clock_realtime_usec(context->clock);
	service->exit_code = -1;
	service->exit_signal = 0;
	service->main_gone = FALSE;
	service->intent = INTENT_NONE;
	service->automatic = FALSE;
	if (!open_logs(service, &log_error))
		sg_context_log(context, SG_LOG_WARN, "%s: %s", service->cfg->name,
		              log_error->message);
	/* A cron run has no readiness: it runs from its spawn. */
	if (adoption->ready || service->cfg->cron != NULL) {
		guint64 stable_ms =
		        MAX((guint64)STABLE_MIN_MS, STABLE_BACKOFFS * service->cfg->backoff_ms);

		service->ready = TRUE;
		service->health = service->cfg->health_check.kind == SG_CHECK_NONE
		                          ? SG_HEALTH_NONE
		                          : SG_HEALTH_HEALTHY;
		set_state(service, service->orphaned ? SG_SERVICE_ORPHANED : SG_SERVICE_RUNNING,
		          NULL);
		if (service->restart_count > 0)
			service->stable_timer =
			        sg_clock_add_timeout(context->clock, stable_ms, stable_cb, service);
		return TRUE;
	}
	/* It was not ready yet when the earlier supervisor went away: checked again. */
	service->ready = FALSE;
	service->health = service->cfg->health_check.kind == SG_CHECK_NONE ? SG_HEALTH_NONE
	                                                                   : SG_HEALTH_STARTING;
	if (service->cfg->health_check.kind == SG_CHECK_NOTIFY && service->notify == NULL) {
		/* Same address as before: a later READY=1 reaches us. */
		service->notify = sg_notify_socket_new(context->state_id, service->cfg->name,
		                                       notify_cb, service, &log_error);
		if (service->notify == NULL)
			sg_context_log(context, SG_LOG_WARN, "%s: %s", service->cfg->name,
			              log_error->message);
	}
	set_state(service, SG_SERVICE_STARTING, "adopted; waiting for readiness");
	start_readiness(service);
	return TRUE;
}

gboolean
sg_service_adopt(SgService *service, const SgServiceAdoption *adoption, GError **error)
{
	SgContext *context = service->context;

	g_return_val_if_fail(!sg_service_is_active(service), FALSE);

	if (adoption->kind == SG_ADOPT_FINAL) {
		service->exit_code = adoption->exit_code;
		service->exit_signal = adoption->exit_signal;
		service->started_at_usec = adoption->started_at_usec;
		service->restart_count = adoption->restart_count;
		set_state(service, adoption->state, adoption->cause);
		return TRUE;
	}
	if (adoption->kind == SG_ADOPT_BACKOFF) {
		guint64 delay;

		/* The restart that was due, after a full backoff from now (its start is
		 * unknown), counted as it was. */
		service->restart_count =
		        adoption->restart_count > 0 ? adoption->restart_count - 1 : 0;
		delay = backoff_delay(service);
		service->restart_count++;
		service->exit_code = adoption->exit_code;
		service->exit_signal = adoption->exit_signal;
		service->started_at_usec = adoption->started_at_usec;
		sg_context_log(context, SG_LOG_INFO,
		              "%s was waiting to be restarted: restart in %" G_GUINT64_FORMAT
		              " ms (restart %u)",
		              service->cfg->name, delay, service->restart_count);
		arm_backoff(service, delay);
		set_state(service, SG_SERVICE_BACKOFF, adoption->cause);
		return TRUE;
	}
	service->restart_count = adoption->restart_count;
	service->adopted = TRUE;
	sg_contain_set_foreign(context->contain, service->cfg->name, TRUE);
	if (adoption->kind == SG_ADOPT_LIVE) {
		if (!adopt_live(service, adoption, error)) {
			service->adopted = FALSE;
			sg_contain_set_foreign(context->contain, service->cfg->name, FALSE);
			return FALSE;
		}
		return TRUE;
	}
	/* Nothing left to watch: the instance ended unseen, a crash after it was ready. */
	service->pid = 0;
	service->ready = TRUE;
	service->main_gone = TRUE;
	service->last_wait_status = -1;
	service->intent = INTENT_NONE;
	service->exit_code = -1;
	service->exit_signal = 0;
	service->started_at_usec = adoption->started_at_usec;
	if (adoption->kind == SG_ADOPT_LEFTOVERS) {
		set_state(service, SG_SERVICE_STOPPING,
		          "stopping processes an earlier supervisor left behind");
		/* contain_done_cb decides what follows, once nothing is left. */
		stop_processes(service, adoption->pid);
		return TRUE;
	}
	after_instance(service, -1);
	return TRUE;
}

void
sg_service_set_config(SgService *service, SgConfig *config, const SgServiceConfig *service_config)
{
	gboolean logs_changed = service->cfg->logs.max_bytes != service_config->logs.max_bytes ||
	                        service->cfg->logs.max_files != service_config->logs.max_files;

	sg_config_ref(config);
	sg_config_unref(service->config);
	service->config = config;
	service->cfg = service_config;
	if (logs_changed && service->stdout_log != NULL) {
		g_autoptr(GError) error = NULL;

		g_clear_pointer(&service->stdout_log, sg_log_file_close);
		g_clear_pointer(&service->stderr_log, sg_log_file_close);
		if (sg_service_is_active(service) && !open_logs(service, &error))
			sg_context_log(service->context, SG_LOG_WARN, "%s: %s", service->cfg->name,
			              error->message);
	}
}

/* ---- life ---- */

SgService *
sg_service_new(SgContext *context, SgConfig *config, const SgServiceConfig *service_config,
               const SgServiceEvents *events, gpointer events_data)
{
	SgService *service = g_new0(SgService, 1);

	service->context = context;
	service->config = sg_config_ref(config);
	service->cfg = service_config;
	service->events = *events;
	service->events_data = events_data;
	service->state = service_config->cron != NULL ? SG_SERVICE_SCHEDULED : SG_SERVICE_STOPPED;
	service->exit_code = -1;
	service->status_fd = -1;
	service->health = service_config->health_check.kind == SG_CHECK_NONE ? SG_HEALTH_NONE
	                                                                     : SG_HEALTH_STARTING;
	service->hooks = sg_hook_queue_new(context, service_config->name);
	return service;
}

void
sg_service_free(SgService *service)
{
	if (service == NULL)
		return;
	clear_instance_watches(service);
	if (service->pid > 0) {
		/* The supervisor goes away; the process stays (it is recorded in pid.json). */
		sg_reaper_unwatch(service->context->reaper, service->pid);
		g_hash_table_remove(service->context->known_pids, GINT_TO_POINTER(service->pid));
	}
	if (service->helper != NULL)
		sg_command_cancel(service->helper);
	g_clear_pointer(&service->contain_stop, sg_contain_stop_cancel);
	sg_clock_clear(service->context->clock, &service->backoff_timer);
	g_clear_pointer(&service->notify, sg_notify_socket_free);
	g_clear_pointer(&service->stdout_log, sg_log_file_close);
	g_clear_pointer(&service->stderr_log, sg_log_file_close);
	sg_hook_queue_free(service->hooks);
	g_clear_pointer(&service->cron_job, sg_cron_job_unref);
	g_slist_free_full(service->stop_waiters, g_free);
	g_free(service->cause);
	g_free(service->invocation_id);
	g_free(service->spawn_error);
	sg_config_unref(service->config);
	g_free(service);
}

void
sg_service_set_orphaned(SgService *service, gboolean orphaned)
{
	service->orphaned = orphaned;
	/* A live orphan is "orphaned"; taken back into the configuration, it runs. */
	if (orphaned && service->state == SG_SERVICE_RUNNING)
		set_state(service, SG_SERVICE_ORPHANED, NULL);
	else if (!orphaned && service->state == SG_SERVICE_ORPHANED)
		set_state(service, SG_SERVICE_RUNNING, NULL);
}
