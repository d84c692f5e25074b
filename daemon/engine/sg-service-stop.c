/* SPDX-License-Identifier: MIT */
/* The stop sequence of a service: every process of it stopped, then the state its stop was
 * for (stopped, blocked, or a failed instance decided like a crash), then who waited. */
#include "config.h"

#include "engine/sg-service.h"
#include "engine/sg-service-private.h"

typedef struct {
	SgServiceDoneFunc done;
	gpointer user_data;
} StopWaiter;

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
		sg_service_finish_stop(service);
}

/* Stops every process of the service (leftovers of an exit, or the whole service). */
void
sg_service_stop_processes(SgService *service, pid_t sid)
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

/* ---- stopping ---- */

void
sg_service_finish_stop(SgService *service)
{
	StopIntent intent = service->intent;
	gboolean had_process = service->pid > 0;
	GSList *waiters;

	service->pid = 0;
	switch (intent) {
	case INTENT_NONE:
		/* Leftovers of an exit are gone. */
		sg_service_after_instance(service, service->last_wait_status);
		break;
	case INTENT_CHECK_FAILED:
		sg_service_run_hook(service, SG_HOOK_ON_START_ERROR);
		if (service->automatic)
			sg_service_run_hook(service, SG_HOOK_ON_RESTART_ERROR);
		sg_service_after_instance(service, -1);
		break;
	case INTENT_BLOCK:
		service->intent = INTENT_NONE;
		if (service->ready)
			sg_service_run_hook(service, SG_HOOK_ON_STOP_SUCCESS);
		sg_service_set_state(service, SG_SERVICE_BLOCKED, service->cause);
		break;
	case INTENT_STOP:
	default:
		service->intent = INTENT_NONE;
		if (service->ready)
			sg_service_run_hook(service, SG_HOOK_ON_STOP_SUCCESS);
		sg_contain_release(service->context->contain, service->cfg->name);
		sg_context_log(service->context, SG_LOG_INFO, "%s stopped", service->cfg->name);
		if (service->cfg->cron != NULL && had_process)
			sg_service_cron_run_ended(service, service->last_wait_status, TRUE);
		else if (service->cfg->cron != NULL)
			sg_service_set_state(service,
			                     service->state == SG_SERVICE_STOPPED
			                             ? SG_SERVICE_STOPPED
			                             : SG_SERVICE_SCHEDULED,
			                     NULL);
		else
			sg_service_set_state(service, SG_SERVICE_STOPPED, NULL);
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
	/* What stopping does not keep goes now, before any hook of the stop runs (the state
	 * itself changes once it is clear whether a process is left to stop). */
	sg_service_tear_down_for(service, SG_SERVICE_STOPPING);

	/* An operator's stop overrides whatever stop was under way. */
	if (intent == INTENT_STOP || service->intent == INTENT_NONE)
		service->intent = intent;
	if (!sg_service_is_active(service)) {
		service->main_gone = TRUE;
		sg_service_finish_stop(service);
		return;
	}
	if (service->pid > 0)
		sg_context_log(service->context, SG_LOG_INFO, "stopping %s (PID %d)%s%s",
		               service->cfg->name, service->pid, cause != NULL ? ": " : "",
		               cause != NULL ? cause : "");
	sg_service_set_state(service, SG_SERVICE_STOPPING, cause);
	sg_service_stop_processes(service, service->pid);
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
		sg_service_set_state(service, SG_SERVICE_BLOCKED, cause);
		return;
	}
	sg_context_log(service->context, SG_LOG_WARN, "stopping %s: %s", service->cfg->name, cause);
	g_free(service->cause);
	service->cause = g_strdup(cause);
	begin_stop(service, INTENT_BLOCK, cause, NULL, NULL);
}
