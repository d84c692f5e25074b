/* SPDX-License-Identifier: MIT */
/* The insides of SgService, shared by its life (sg-service.c) and its properties. */
#pragma once

#include "process/sg-command.h"
#include "process/sg-contain.h"
#include "engine/sg-cron-job.h"
#include "engine/sg-health.h"
#include "engine/sg-hook.h"
#include "process/sg-logfile.h"
#include "process/sg-notify.h"
#include "engine/sg-service.h"

typedef enum {
	INTENT_NONE,
	INTENT_STOP,         /* the operator's stop: ends stopped */
	INTENT_BLOCK,        /* a dependency failed: ends blocked */
	INTENT_CHECK_FAILED, /* the health check failed: ends as a failed instance */
} StopIntent;

struct _SgService {
	SgContext *context;
	SgConfig *config;
	const SgServiceConfig *cfg;
	SgServiceEvents events;
	gpointer events_data;

	SgServiceState state;
	char *cause;
	guint restart_count;
	int exit_code;
	int exit_signal;
	SgHealthStatus health;
	gboolean failed_before_ready;
	/* The last instance ended on its own and a restart is coming or under way: cleared
	 * once ready, by a final state or by the operator's start. */
	gboolean recovering;
	gboolean orphaned;
	/* The instance was started by an earlier supervisor: its exit status is unknown. */
	gboolean adopted;

	/* The current instance. */
	pid_t pid;
	guint64 proc_start_time;
	char *invocation_id;
	gint64 started_at_usec;
	gboolean ready;
	gboolean automatic; /* started by the restart policy, not by the operator */
	gboolean exec_failed;
	int status_fd;
	guint status_source;
	char *spawn_error;

	SgLogFile *stdout_log;
	SgLogFile *stderr_log;
	SgNotifySocket *notify;
	SgHealthProbe *probe;
	SgCommand *helper; /* skip or pre_start */
	SgHookQueue *hooks;
	guint settle_timer;
	guint backoff_timer;
	gint64 restart_due_usec; /* monotonic, while backoff_timer is armed */
	guint stable_timer;
	SgCronJob *cron_job; /* cron jobs: their record, kept by the scheduler */

	/* Stopping: processes are being stopped, either after an exit (leftovers) or on request. */
	StopIntent intent;
	SgContainStop *contain_stop;
	gboolean contain_pending;
	gboolean main_gone; /* the main process has been reaped (or there was none) */
	int last_wait_status;
	GSList *stop_waiters; /* StopWaiter* */
};
