/* SPDX-License-Identifier: MIT */
/* What a service shows: the read-only properties status, the state files and the bus read. */
#include "config.h"

#include "engine/sg-service.h"
#include "engine/sg-service-private.h"

const char *
sg_service_get_name(SgService *service)
{
	return service->cfg->name;
}

const SgServiceConfig *
sg_service_get_config(SgService *service)
{
	return service->cfg;
}

SgServiceState
sg_service_get_state(SgService *service)
{
	return service->state;
}

pid_t
sg_service_get_pid(SgService *service)
{
	return service->pid;
}

guint64
sg_service_get_proc_start_time(SgService *service)
{
	return service->pid > 0 ? service->proc_start_time : 0;
}

const char *
sg_service_get_invocation_id(SgService *service)
{
	return service->invocation_id;
}

gint64
sg_service_get_started_at(SgService *service)
{
	return service->started_at_usec;
}

guint
sg_service_get_restart_count(SgService *service)
{
	return service->restart_count;
}

int
sg_service_get_exit_code(SgService *service)
{
	return service->exit_code;
}

int
sg_service_get_exit_signal(SgService *service)
{
	return service->exit_signal;
}

const char *
sg_service_get_cause(SgService *service)
{
	return service->cause;
}

gint64
sg_service_get_next_run(SgService *service)
{
	return service->cron_job != NULL ? sg_cron_job_get_next_run(service->cron_job) : 0;
}

const char *
sg_service_get_last_result(SgService *service)
{
	return service->cron_job != NULL ? sg_cron_job_get_last_result(service->cron_job) : NULL;
}

gboolean
sg_service_is_orphaned(SgService *service)
{
	return service->orphaned;
}

SgHealthStatus
sg_service_get_health(SgService *service)
{
	return service->health;
}

gboolean
sg_service_failed_before_ready(SgService *service)
{
	return service->failed_before_ready;
}

gboolean
sg_service_satisfies(SgService *service, SgCondition condition)
{
	if (sg_service_state_is_done(service->state))
		return TRUE;
	return condition == SG_CONDITION_READY && sg_service_state_is_ready(service->state) &&
	       service->ready;
}

gboolean
sg_service_is_active(SgService *service)
{
	return service->pid > 0 || service->contain_pending;
}

gboolean
sg_service_is_busy(SgService *service)
{
	return sg_service_is_active(service) || service->helper != NULL;
}

gboolean
sg_service_is_recovering(SgService *service)
{
	return service->recovering;
}

gint64
sg_service_get_restart_due(SgService *service)
{
	return service->backoff_timer != 0 ? service->restart_due_usec : 0;
}
