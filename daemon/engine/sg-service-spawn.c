/* SPDX-License-Identifier: MIT */
/* One instance of a service: its spawn (or a failure before any process exists) and the exit
 * of its main process, with the hooks of that instance. */
#include "config.h"

#include "engine/sg-service.h"
#include "engine/sg-service-private.h"

#include <glib-unix.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sg-shell.h"
#include "base/sg-tail.h"
#include "process/sg-proctree.h"
#include "process/sg-spawn.h"

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

void
sg_service_close_exec_status(SgService *service)
{
	g_clear_handle_id(&service->status_source, g_source_remove);
	if (service->status_fd >= 0) {
		close(service->status_fd);
		service->status_fd = -1;
	}
}

gboolean
sg_service_open_logs(SgService *service, GError **error)
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

/*
 * A failure before any process exists: logged, hooks fired, then decided like an exit.
 * wait_status is that of what failed before (pre_start), or -1.
 */
void
sg_service_fail_to_start(SgService *service, const char *cause, int wait_status)
{
	sg_context_log(service->context, SG_LOG_ERROR, "%s cannot be started: %s",
	               service->cfg->name, cause);
	g_free(service->spawn_error);
	service->spawn_error = g_strdup(cause);
	service->exec_failed = TRUE;
	service->exit_code =
	        wait_status >= 0 && WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
	service->exit_signal =
	        wait_status >= 0 && WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
	if (service->cfg->cron != NULL) {
		/* A cron run has no readiness: every run ends with an on_stop hook. */
		sg_service_run_hook(service, SG_HOOK_ON_STOP_ERROR);
	} else {
		sg_service_run_hook(service, SG_HOOK_ON_START_ERROR);
		if (service->automatic)
			sg_service_run_hook(service, SG_HOOK_ON_RESTART_ERROR);
	}
	service->main_gone = TRUE;
	sg_service_after_instance(service, -1);
}

void
sg_service_fail_to_spawn(SgService *service, const char *cause)
{
	sg_service_fail_to_start(service, cause, -1);
}

void
sg_service_spawn_instance(SgService *service)
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
		service->notify =
		        sg_notify_socket_new(service->context->state_id, service->cfg->name,
		                             sg_service_notify_cb, service, &error);
		if (service->notify == NULL) {
			sg_service_fail_to_spawn(service, error->message);
			return;
		}
	}
	env = sg_service_environ(service, TRUE);
	if (service->cfg->argv != NULL) {
		g_autofree char *program = sg_spawn_find_program(service->cfg->argv[0], env,
		                                                 service->cfg->working_dir, &error);
		if (program == NULL) {
			sg_service_fail_to_spawn(service, error->message);
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
	if (!sg_service_open_logs(service, &error)) {
		sg_service_fail_to_spawn(service, error->message);
		return;
	}
	cgroup_fd = sg_contain_prepare(service->context->contain, service->cfg->name, &error);
	if (error != NULL) {
		sg_service_fail_to_spawn(service, error->message);
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
		sg_service_fail_to_spawn(service, error->message);
		return;
	}
	if (cgroup_fd >= 0)
		close(cgroup_fd);

	service->pid = result.pid;
	service->status_fd = result.status_fd;
	service->status_source =
	        g_unix_fd_add(result.status_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, status_cb, service);
	g_hash_table_add(service->context->known_pids, GINT_TO_POINTER(result.pid));
	sg_reaper_watch(service->context->reaper, result.pid, sg_service_main_exited_cb, service);
	service->proc_start_time = sg_proctree_start_time(result.pid);
	service->started_at_usec = sg_clock_realtime_usec(service->context->clock);
	service->exit_code = -1;
	service->exit_signal = 0;
	sg_context_log(service->context, SG_LOG_INFO, "started %s (PID %d): %s", service->cfg->name,
	               result.pid, display);
	if (service->cfg->cron != NULL) {
		sg_service_cron_run_started(service);
		return;
	}
	sg_service_set_state(service, SG_SERVICE_STARTING, NULL);
	sg_service_start_readiness(service);
}

/* ---- exits and what follows ---- */

char *
sg_service_describe_exit(SgService *service, int wait_status)
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

gboolean
sg_service_exit_is_failure(int wait_status)
{
	return wait_status < 0 || !WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0;
}

void
sg_service_main_exited_cb(pid_t pid, int wait_status, gpointer user_data)
{
	SgService *service = user_data;
	g_autofree char *how = NULL;

	g_hash_table_remove(service->context->known_pids, GINT_TO_POINTER(pid));
	/* Whatever the exec reported is in the pipe by now. */
	if (service->status_fd >= 0)
		read_exec_status(service);
	/* The timers and the check of the instance go with the state that follows. */
	sg_service_close_exec_status(service);
	service->main_gone = TRUE;
	service->last_wait_status = wait_status;
	if (WIFEXITED(wait_status)) {
		service->exit_code = WEXITSTATUS(wait_status);
		service->exit_signal = 0;
	} else if (WIFSIGNALED(wait_status)) {
		service->exit_code = -1;
		service->exit_signal = WTERMSIG(wait_status);
	}
	how = sg_service_describe_exit(service, wait_status);
	/* An exit that was asked for is no news. */
	sg_context_log(service->context,
	               sg_service_exit_is_failure(wait_status) && service->intent == INTENT_NONE
	                       ? SG_LOG_WARN
	                       : SG_LOG_INFO,
	               "%s (PID %d) exited: %s", service->cfg->name, pid, how);

	if (service->intent != INTENT_NONE) {
		/* A stop is in progress: it finishes once no process is left. */
		if (!service->contain_pending)
			sg_service_finish_stop(service);
		return;
	}

	/* Hooks of the instance, always before any restart. */
	if (!service->ready && !sg_service_exit_is_failure(wait_status)) {
		/* Exited 0 before the settle window: ready and done at once (a one-shot job). */
		sg_service_run_hook(service, SG_HOOK_ON_START_SUCCESS);
		if (service->automatic)
			sg_service_run_hook(service, SG_HOOK_ON_RESTART_SUCCESS);
		service->ready = TRUE;
		sg_service_run_hook(service, SG_HOOK_ON_STOP_SUCCESS);
	} else if (!service->ready) {
		sg_service_run_hook(service, SG_HOOK_ON_START_ERROR);
		if (service->automatic)
			sg_service_run_hook(service, SG_HOOK_ON_RESTART_ERROR);
	} else {
		sg_service_run_hook(service, sg_service_exit_is_failure(wait_status)
		                                     ? SG_HOOK_ON_STOP_ERROR
		                                     : SG_HOOK_ON_STOP_SUCCESS);
	}

	/* Processes the instance left behind go before anything else happens. */
	if (sg_contain_uses_cgroups(service->context->contain) || service->adopted ||
	    sg_context_has_stray_children(service->context)) {
		service->intent = INTENT_NONE;
		sg_service_set_state(service, SG_SERVICE_STOPPING,
		                     "stopping processes left behind");
		/* contain_done_cb decides what follows, once nothing is left. */
		sg_service_stop_processes(service, pid);
		return;
	}
	sg_service_after_instance(service, wait_status);
}
