/* SPDX-License-Identifier: MIT */
/* A cron job's runs: running from its spawn, recorded when over, and its place in the
 * schedule (stop-all takes it out). */
#include "config.h"

#include "engine/sg-service.h"
#include "engine/sg-service-private.h"

#include <sys/wait.h>

/* A cron run has no readiness: it is running from the moment it is spawned. */
void
sg_service_cron_run_started(SgService *service)
{
	service->ready = TRUE;
	sg_service_set_state(service, SG_SERVICE_RUNNING, NULL);
}

/* The run is over and nothing of it is left: recorded, then the job waits for its times. */
void
sg_service_cron_run_ended(SgService *service, int wait_status, gboolean killed)
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
	else if (sg_service_exit_is_failure(wait_status))
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
	sg_service_set_state(service, SG_SERVICE_SCHEDULED, NULL);
	if (job != NULL)
		sg_cron_job_record(job, &run);
}

/* skip applies per run for a cron job: the job stays scheduled. */
void
sg_service_settle_skipped(SgService *service)
{
	sg_service_set_state(service,
	                     service->cfg->cron != NULL ? SG_SERVICE_SCHEDULED : SG_SERVICE_SKIPPED,
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
		sg_service_set_state(service, SG_SERVICE_SCHEDULED, NULL);
	else if (!scheduled && service->state == SG_SERVICE_SCHEDULED &&
	         !sg_service_is_active(service) && service->helper == NULL)
		sg_service_set_state(service, SG_SERVICE_STOPPED, NULL);
}
