/* SPDX-License-Identifier: MIT */
/* The life of one service: every state change goes through sg_service_set_state(), which
 * tears down what the new state does not keep; what follows an instance is decided in one
 * place, sg_service_after_instance(). Spawning and exits, the stop sequence, cron runs and
 * adoption are in sg-service-spawn.c, -stop.c, -cron.c and -adopt.c. */
#include "config.h"

#include "engine/sg-service.h"
#include "engine/sg-service-private.h"

#include <sys/wait.h>

#include "process/sg-command.h"
#include "engine/sg-cron-job.h"
#include "engine/sg-health.h"
#include "engine/sg-hook.h"
#include "process/sg-notify.h"

/* A service with no health check is ready once it has stayed alive this long. */
#define SETTLE_MS 100
/* The restart count resets after this many backoffs of uptime, and never sooner than 10 s. */
#define STABLE_BACKOFFS 10
#define STABLE_MIN_MS   10000

/* ---- state ---- */

/* What a state keeps of the service's timers and helpers; entering a state tears down the
 * rest, in one place, whichever path led there. */
typedef enum {
	KEEP_NOTHING = 0,
	KEEP_BACKOFF_TIMER = 1 << 0, /* the restart to come */
	KEEP_READINESS = 1 << 1,     /* the settle timer and the health check of a new instance */
	KEEP_HELPER = 1 << 2,        /* skip or pre_start under way */
	KEEP_STABLE_TIMER = 1 << 3,  /* the restart count's reset after enough uptime */
	KEEP_RECOVERING = 1 << 4,    /* an exit it did not ask for still counts until ready */
} Keeps;

/* clang-format off */
static const Keeps state_keeps[SG_SERVICE_N_STATES] = {
	[SG_SERVICE_STOPPED] = KEEP_NOTHING,
	[SG_SERVICE_STARTING] = KEEP_READINESS | KEEP_HELPER | KEEP_RECOVERING,
	[SG_SERVICE_RUNNING] = KEEP_STABLE_TIMER,
	[SG_SERVICE_STOPPING] = KEEP_RECOVERING,
	[SG_SERVICE_EXITED] = KEEP_NOTHING,
	[SG_SERVICE_FAILED] = KEEP_NOTHING,
	[SG_SERVICE_BACKOFF] = KEEP_BACKOFF_TIMER | KEEP_RECOVERING,
	[SG_SERVICE_BLOCKED] = KEEP_NOTHING,
	[SG_SERVICE_SKIPPED] = KEEP_NOTHING,
	[SG_SERVICE_SCHEDULED] = KEEP_NOTHING,
	[SG_SERVICE_ORPHANED] = KEEP_STABLE_TIMER,
};
/* clang-format on */

/* The exit actions: what the service holds that the new state does not keep. */
static void
tear_down(SgService *service, Keeps keeps)
{
	SgClock *clock = service->context->clock;

	if (!(keeps & KEEP_BACKOFF_TIMER))
		sg_clock_clear(clock, &service->backoff_timer);
	if (!(keeps & KEEP_READINESS)) {
		sg_clock_clear(clock, &service->settle_timer);
		g_clear_pointer(&service->probe, sg_health_probe_cancel);
	}
	if (!(keeps & KEEP_HELPER))
		g_clear_pointer(&service->helper, sg_command_cancel);
	if (!(keeps & KEEP_STABLE_TIMER))
		sg_clock_clear(clock, &service->stable_timer);
	if (!(keeps & KEEP_RECOVERING))
		service->recovering = FALSE;
}

void
sg_service_tear_down_for(SgService *service, SgServiceState state)
{
	g_return_if_fail((guint)state < SG_SERVICE_N_STATES);
	tear_down(service, state_keeps[state]);
}

void
sg_service_set_state(SgService *service, SgServiceState state, const char *cause)
{
	SgServiceState old = service->state;
	char *new_cause;

	g_return_if_fail((guint)state < SG_SERVICE_N_STATES);
	new_cause = g_strdup(cause); /* cause may be service->cause itself */
	g_free(service->cause);
	service->cause = new_cause;
	service->state = state;
	tear_down(service, state_keeps[state]);
	if (old != state)
		service->events.state_changed(service, old, service->events_data);
	else
		service->events.changed(service, service->events_data);
}

void
sg_service_emit_changed(SgService *service)
{
	service->events.changed(service, service->events_data);
}

/* ---- environment and hooks ---- */

/*
 * The instance gets every marker. Helpers (hooks, health-check commands, skip, pre_start)
 * get SYSTEMG_SERVICE, so that one script can serve several services, but never the state
 * id or an invocation id: the marker scan must never take them for the service.
 */
char **
sg_service_environ(SgService *service, gboolean with_markers)
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

void
sg_service_run_hook(SgService *service, SgHookKind kind)
{
	const SgHook *hook = &service->cfg->hooks[kind];
	g_auto(GStrv) env = NULL;

	if (hook->command == NULL)
		return;
	env = sg_service_environ(service, FALSE);
	sg_hook_queue_push(service->hooks, kind, hook, env, service->cfg->working_dir,
	                   service->exit_code, service->exit_signal);
}

/* ---- timers and instance resources ---- */

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
		sg_service_emit_changed(service);
	}
}

void
sg_service_arm_stable(SgService *service)
{
	guint64 stable_ms = MAX((guint64)STABLE_MIN_MS, STABLE_BACKOFFS * service->cfg->backoff_ms);

	if (service->restart_count > 0)
		service->stable_timer = sg_clock_add_timeout(service->context->clock, stable_ms,
		                                             stable_cb, service);
}

static void
become_ready(SgService *service)
{
	if (service->ready)
		return;
	service->ready = TRUE;
	service->failed_before_ready = FALSE;
	if (service->cfg->health_check.kind != SG_CHECK_NONE)
		service->health = SG_HEALTH_HEALTHY;
	sg_context_log(service->context, SG_LOG_INFO, "%s is ready (PID %d)", service->cfg->name,
	               service->pid);
	sg_service_set_state(service, service->orphaned ? SG_SERVICE_ORPHANED : SG_SERVICE_RUNNING,
	                     NULL);
	sg_service_run_hook(service, SG_HOOK_ON_START_SUCCESS);
	if (service->automatic)
		sg_service_run_hook(service, SG_HOOK_ON_RESTART_SUCCESS);
	sg_service_arm_stable(service);
}

static void
settle_cb(gpointer user_data)
{
	SgService *service = user_data;

	service->settle_timer = 0;
	become_ready(service);
}

void
sg_service_notify_cb(SgNotifySocket *socket, GHashTable *fields, gpointer user_data)
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
	sg_service_set_state(service, SG_SERVICE_STOPPING, cause);
	sg_service_stop(service, NULL, NULL);
}

void
sg_service_start_readiness(SgService *service)
{
	const SgHealthCheck *check = &service->cfg->health_check;
	SgHealthContext context = { 0 };
	g_auto(GStrv) env = NULL;
	g_autofree char *pid_var = NULL;

	switch (check->kind) {
	case SG_CHECK_NONE:
		service->settle_timer = sg_clock_add_timeout(service->context->clock, SETTLE_MS,
		                                             settle_cb, service);
		return;
	case SG_CHECK_NOTIFY:
		/* READY=1 arrives through sg_service_notify_cb. */
		return;
	case SG_CHECK_URL:
	case SG_CHECK_TCP:
	case SG_CHECK_COMMAND:
	default:
		break;
	}
	env = sg_service_environ(service, FALSE);
	pid_var = g_strdup_printf("SYSTEMG_PID=%d", service->pid);
	context.envp = env;
	context.cwd = service->cfg->working_dir;
	context.extra_env = pid_var;
	context.reaper = service->context->reaper;
	context.clock = service->context->clock;
	service->probe = sg_health_probe_start(check, &context, probe_done_cb, service);
}

/* ---- skip and pre_start ---- */

static void
pre_start_done_cb(int wait_status, const char *cause, gpointer user_data)
{
	SgService *service = user_data;
	g_autofree char *status = NULL;

	service->helper = NULL;
	if (wait_status >= 0 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
		sg_service_spawn_instance(service);
		return;
	}
	status = cause != NULL ? g_strdup(cause) : sg_command_describe_status(wait_status);
	{
		g_autofree char *message = g_strdup_printf("pre_start failed: %s", status);
		sg_service_fail_to_start(service, message, wait_status);
	}
}

static void
run_pre_start_or_spawn(SgService *service)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) env = NULL;
	g_autofree char *label = NULL;

	if (service->cfg->deployment.pre_start == NULL) {
		sg_service_spawn_instance(service);
		return;
	}
	/* Its output goes where the service's goes: its failure is told with its stderr. */
	if (!sg_service_open_logs(service, &error)) {
		sg_service_fail_to_spawn(service, error->message);
		return;
	}
	env = sg_service_environ(service, FALSE);
	label = g_strdup_printf("%s pre_start", service->cfg->name);
	sg_service_set_state(service, SG_SERVICE_STARTING, "running pre_start");
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
		sg_context_log(service->context, SG_LOG_INFO,
		               "%s skipped: its skip command exited 0", service->cfg->name);
		sg_service_settle_skipped(service);
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
	service->automatic = automatic;
	if (service->cfg->skip) {
		sg_context_log(service->context, SG_LOG_INFO, "%s skipped", service->cfg->name);
		sg_service_settle_skipped(service);
		return;
	}
	if (service->cfg->skip_command == NULL) {
		run_pre_start_or_spawn(service);
		return;
	}
	env = sg_service_environ(service, FALSE);
	label = g_strdup_printf("%s skip", service->cfg->name);
	sg_service_set_state(service, SG_SERVICE_STARTING, "checking skip");
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
		sg_service_emit_changed(service);
	}
	service->failed_before_ready = FALSE;
	service->recovering = FALSE;
	start_instance(service, FALSE);
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

guint64
sg_service_backoff_delay(SgService *service)
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
void
sg_service_arm_backoff(SgService *service, guint64 delay_ms)
{
	service->recovering = TRUE;
	/* An operator's start in backoff may fail at once: the earlier restart is replaced. */
	sg_clock_clear(service->context->clock, &service->backoff_timer);
	service->restart_due_usec =
	        sg_clock_monotonic_usec(service->context->clock) + (gint64)delay_ms * 1000;
	service->backoff_timer =
	        sg_clock_add_timeout(service->context->clock, delay_ms, backoff_cb, service);
}

/* The instance is over and nothing of it is left: restart, or settle in a final state. */
void
sg_service_after_instance(SgService *service, int wait_status)
{
	g_autofree char *cause = sg_service_describe_exit(service, wait_status);
	gboolean failure =
	        sg_service_exit_is_failure(wait_status) || service->intent == INTENT_CHECK_FAILED;
	gboolean restart;

	if (service->cfg->cron != NULL) {
		sg_service_cron_run_ended(service, wait_status, FALSE);
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
		sg_service_set_state(service, SG_SERVICE_FAILED, why);
		return;
	}
	if (restart) {
		guint64 delay = sg_service_backoff_delay(service);
		service->restart_count++;
		sg_context_log(service->context, SG_LOG_INFO,
		               "%s will restart in %" G_GUINT64_FORMAT " ms (restart %u)",
		               service->cfg->name, delay, service->restart_count);
		sg_service_arm_backoff(service, delay);
		sg_service_set_state(service, SG_SERVICE_BACKOFF, cause);
		return;
	}
	if (failure)
		sg_service_set_state(service, SG_SERVICE_FAILED, cause);
	else
		sg_service_set_state(service, SG_SERVICE_EXITED, NULL);
}

void
sg_service_set_waiting(SgService *service, const char *cause)
{
	if (sg_service_is_active(service) || service->helper != NULL)
		return;
	sg_service_set_state(service, SG_SERVICE_STARTING, cause);
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
		if (sg_service_is_active(service) && !sg_service_open_logs(service, &error))
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
	tear_down(service, KEEP_NOTHING);
	sg_service_close_exec_status(service);
	if (service->pid > 0) {
		/* The supervisor goes away; the process stays (it is recorded in pid.json). */
		sg_reaper_unwatch(service->context->reaper, service->pid);
		g_hash_table_remove(service->context->known_pids, GINT_TO_POINTER(service->pid));
	}
	g_clear_pointer(&service->contain_stop, sg_contain_stop_cancel);
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
		sg_service_set_state(service, SG_SERVICE_ORPHANED, NULL);
	else if (!orphaned && service->state == SG_SERVICE_ORPHANED)
		sg_service_set_state(service, SG_SERVICE_RUNNING, NULL);
}
