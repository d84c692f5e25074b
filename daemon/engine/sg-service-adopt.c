/* SPDX-License-Identifier: MIT */
/* A service takes over what an earlier supervisor left: a live instance, a restart that was
 * due, a final state, or leftovers to stop. */
#include "config.h"

#include "engine/sg-service.h"
#include "engine/sg-service-private.h"

#include "base/sg-error.h"
#include "process/sg-proctree.h"

static gboolean
adopt_live(SgService *service, const SgServiceAdoption *adoption, GError **error)
{
	SgContext *context = service->context;
	g_autoptr(GError) log_error = NULL;

	if (!sg_reaper_watch_pidfd(context->reaper, adoption->pid, sg_service_main_exited_cb,
	                           service, error))
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
	if (!sg_service_open_logs(service, &log_error))
		sg_context_log(context, SG_LOG_WARN, "%s: %s", service->cfg->name,
		               log_error->message);
	/* A cron run has no readiness: it runs from its spawn. */
	if (adoption->ready || service->cfg->cron != NULL) {
		service->ready = TRUE;
		service->health = service->cfg->health_check.kind == SG_CHECK_NONE
		                          ? SG_HEALTH_NONE
		                          : SG_HEALTH_HEALTHY;
		sg_service_set_state(service,
		                     service->orphaned ? SG_SERVICE_ORPHANED : SG_SERVICE_RUNNING,
		                     NULL);
		sg_service_arm_stable(service);
		return TRUE;
	}
	/* It was not ready yet when the earlier supervisor went away: checked again. */
	service->ready = FALSE;
	service->health = service->cfg->health_check.kind == SG_CHECK_NONE ? SG_HEALTH_NONE
	                                                                   : SG_HEALTH_STARTING;
	if (service->cfg->health_check.kind == SG_CHECK_NOTIFY && service->notify == NULL) {
		/* Same address as before: a later READY=1 reaches us. */
		service->notify = sg_notify_socket_new(context->state_id, service->cfg->name,
		                                       sg_service_notify_cb, service, &log_error);
		if (service->notify == NULL)
			sg_context_log(context, SG_LOG_WARN, "%s: %s", service->cfg->name,
			               log_error->message);
	}
	sg_service_set_state(service, SG_SERVICE_STARTING, "adopted; waiting for readiness");
	sg_service_start_readiness(service);
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
		sg_service_set_state(service, adoption->state, adoption->cause);
		return TRUE;
	}
	if (adoption->kind == SG_ADOPT_BACKOFF) {
		guint64 delay;

		/* The restart that was due, after a full backoff from now (its start is
		 * unknown), counted as it was. */
		service->restart_count =
		        adoption->restart_count > 0 ? adoption->restart_count - 1 : 0;
		delay = sg_service_backoff_delay(service);
		service->restart_count++;
		service->exit_code = adoption->exit_code;
		service->exit_signal = adoption->exit_signal;
		service->started_at_usec = adoption->started_at_usec;
		sg_context_log(context, SG_LOG_INFO,
		               "%s was waiting to be restarted: restart in %" G_GUINT64_FORMAT
		               " ms (restart %u)",
		               service->cfg->name, delay, service->restart_count);
		sg_service_arm_backoff(service, delay);
		sg_service_set_state(service, SG_SERVICE_BACKOFF, adoption->cause);
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
		sg_service_set_state(service, SG_SERVICE_STOPPING,
		                     "stopping processes an earlier supervisor left behind");
		/* contain_done_cb decides what follows, once nothing is left. */
		sg_service_stop_processes(service, adoption->pid);
		return TRUE;
	}
	sg_service_after_instance(service, -1);
	return TRUE;
}
