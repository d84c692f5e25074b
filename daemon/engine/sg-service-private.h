/* SPDX-License-Identifier: MIT */
/* The insides of SgService, shared by its life (sg-service.c), its instance (-spawn.c), its
 * stop (-stop.c), its cron runs (-cron.c), its adoption (-adopt.c) and its properties. */
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

/* sg-service.c: every state change; entering a state tears down what it does not keep. */
void sg_service_set_state(SgService *service, SgServiceState state, const char *cause);
/* The exit actions of entering state, done ahead of the change itself. */
void sg_service_tear_down_for(SgService *service, SgServiceState state);
void sg_service_emit_changed(SgService *service);
/* The environment of the instance (with_markers) or of its helpers. */
char **sg_service_environ(SgService *service, gboolean with_markers);
void sg_service_run_hook(SgService *service, SgHookKind kind);
/* Readiness of a new instance: the settle timer, a health check, or READY=1. */
void sg_service_start_readiness(SgService *service);
void sg_service_notify_cb(SgNotifySocket *socket, GHashTable *fields, gpointer user_data);
/* After a restart, the restart count resets once the instance has stayed up long enough. */
void sg_service_arm_stable(SgService *service);
/* The instance is over and nothing of it is left: restart, or settle in a final state. */
void sg_service_after_instance(SgService *service, int wait_status);
guint64 sg_service_backoff_delay(SgService *service);
void sg_service_arm_backoff(SgService *service, guint64 delay_ms);

/* sg-service-spawn.c */
void sg_service_spawn_instance(SgService *service);
void sg_service_fail_to_start(SgService *service, const char *cause, int wait_status);
void sg_service_fail_to_spawn(SgService *service, const char *cause);
gboolean sg_service_open_logs(SgService *service, GError **error);
void sg_service_close_exec_status(SgService *service);
void sg_service_main_exited_cb(pid_t pid, int wait_status, gpointer user_data);
char *sg_service_describe_exit(SgService *service, int wait_status);
gboolean sg_service_exit_is_failure(int wait_status);

/* sg-service-stop.c */
void sg_service_stop_processes(SgService *service, pid_t sid);
void sg_service_finish_stop(SgService *service);

/* sg-service-cron.c */
void sg_service_cron_run_started(SgService *service);
void sg_service_cron_run_ended(SgService *service, int wait_status, gboolean killed);
/* skip applies per run for a cron job: the job stays scheduled. */
void sg_service_settle_skipped(SgService *service);
