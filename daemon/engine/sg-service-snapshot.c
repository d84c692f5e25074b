/* SPDX-License-Identifier: MIT */
/* A service's status value as the engine knows it, without reading /proc. */
#include "config.h"

#include "engine/sg-service-snapshot.h"

#include "base/sg-shell.h"
#include "engine/sg-cron-job.h"

static void
add_cron(SgServiceStatus *status, SgService *service)
{
	const SgServiceConfig *cfg = sg_service_get_config(service);
	SgCronJob *job = sg_service_get_cron_job(service);
	GArray *history;

	if (job == NULL) {
		status->cron_expression = g_strdup(cfg->cron_expression);
		status->cron_timezone = g_strdup(cfg->cron_timezone);
		return;
	}
	status->cron_expression = g_strdup(sg_cron_job_get_expression(job));
	status->cron_timezone = g_strdup(sg_cron_job_get_timezone(job));
	status->next_run = sg_cron_job_get_next_run(job);
	history = sg_cron_job_get_history(job);
	for (guint i = 0; i < history->len; i++) {
		const SgCronRun *run = &g_array_index(history, SgCronRun, i);

		sg_service_status_add_run(status, run->started_usec, run->finished_usec,
		                          sg_cron_result_to_string(run->result), run->exit_code);
	}
}

SgServiceStatus *
sg_service_snapshot(SgService *service)
{
	SgServiceStatus *status = sg_service_status_new();
	const SgServiceConfig *cfg = sg_service_get_config(service);
	pid_t pid = sg_service_get_pid(service);

	status->name = g_strdup(cfg->name);
	status->kind = g_strdup(cfg->cron != NULL ? "cron" : "service");
	status->state = g_strdup(sg_service_state_to_string(sg_service_get_state(service)));
	status->pid = MAX(pid, 0);
	status->pgid = status->pid;
	status->started_at = MAX(sg_service_get_started_at(service), 0);
	status->restart_count = sg_service_get_restart_count(service);
	status->exit_code = sg_service_get_exit_code(service);
	status->exit_signal = MAX(sg_service_get_exit_signal(service), 0);
	status->restart_policy = g_strdup(sg_restart_policy_to_string(cfg->restart_policy));
	status->depends_on = g_new0(char *, cfg->n_depends_on + 1);
	for (guint i = 0; i < cfg->n_depends_on; i++)
		status->depends_on[i] = g_strdup(cfg->depends_on[i].service);
	status->health = g_strdup(sg_health_status_to_string(sg_service_get_health(service)));
	/* As status shows it: the shell string, or the argv shell-quoted beside the argv. */
	if (cfg->command != NULL) {
		status->command = g_strdup(cfg->command);
	} else {
		status->command = sg_shell_join(cfg->argv);
		status->argv = g_strdupv(cfg->argv != NULL ? cfg->argv : (char *[]){ NULL });
	}
	status->orphaned = sg_service_is_orphaned(service);
	if (cfg->cron != NULL)
		add_cron(status, service);
	status->last_result = g_strdup(sg_service_get_last_result(service));
	status->cause = g_strdup(sg_service_get_cause(service));
	return status;
}
