/* SPDX-License-Identifier: MIT */
/* One supervised service: its instances, readiness, exits, restarts, stops and hooks. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "config/sg-config.h"
#include "engine/sg-cron-job.h"
#include "process/sg-context.h"
#include "state/sg-service-state.h"

typedef struct _SgService SgService;

typedef struct {
	/* Every state change, after the service's fields are updated. */
	void (*state_changed)(SgService *service, SgServiceState old_state, gpointer user_data);
	/* Any other change worth persisting (restart count reset, PID). */
	void (*changed)(SgService *service, gpointer user_data);
} SgServiceEvents;

typedef void (*SgServiceDoneFunc)(SgService *service, gpointer user_data);

SgService *sg_service_new(SgContext *context, SgConfig *config,
                          const SgServiceConfig *service_config, const SgServiceEvents *events,
                          gpointer events_data);
void sg_service_free(SgService *service);

const char *sg_service_get_name(SgService *service);
const SgServiceConfig *sg_service_get_config(SgService *service);
SgServiceState sg_service_get_state(SgService *service);
pid_t sg_service_get_pid(SgService *service);
guint64 sg_service_get_proc_start_time(SgService *service);
const char *sg_service_get_invocation_id(SgService *service);
gint64 sg_service_get_started_at(SgService *service); /* realtime usec; 0: never */
guint sg_service_get_restart_count(SgService *service);
int sg_service_get_exit_code(SgService *service);     /* -1: none or killed by a signal */
int sg_service_get_exit_signal(SgService *service);   /* 0: none */
const char *sg_service_get_cause(SgService *service); /* why it failed, blocked or waits */
SgHealthStatus sg_service_get_health(SgService *service);
/* Cron jobs: when the next run is due (realtime usec; 0: none), and the result of the last
 * run ("success", "failed", "overlap", "killed"; NULL before the first). */
gint64 sg_service_get_next_run(SgService *service);
const char *sg_service_get_last_result(SgService *service);
/* Adopted from an earlier supervisor, and no longer in the configuration. */
gboolean sg_service_is_orphaned(SgService *service);
/* A running orphan's state is SG_SERVICE_ORPHANED; taken back, it is running again. */
void sg_service_set_orphaned(SgService *service, gboolean orphaned);
/* The last instance crashed or failed before it was ready (sysg start's exit status). */
gboolean sg_service_failed_before_ready(SgService *service);

/* Whether dependents waiting with this condition may start. */
gboolean sg_service_satisfies(SgService *service, SgCondition condition);
/* A process of the service exists (or is being stopped). */
gboolean sg_service_is_active(SgService *service);
/* Active, or a helper (skip, pre_start) prepares an instance. */
gboolean sg_service_is_busy(SgService *service);
/* An instance ended on its own and a restart is coming or under way (backoff, then starting
 * again); FALSE once it is ready, in a final state, or started by the operator. */
gboolean sg_service_is_recovering(SgService *service);
/* When the pending restart is due (monotonic usec on the engine's clock); 0: none. */
gint64 sg_service_get_restart_due(SgService *service);

/* Starts an instance now (dependencies are the caller's business): skip, pre_start, spawn. */
void sg_service_start(SgService *service);
/* Waiting for dependencies: starting, with no process yet. */
void sg_service_set_waiting(SgService *service, const char *cause);
/* A dependency is not ready: stops any process (the cascade), then blocked with cause. */
void sg_service_block(SgService *service, const char *cause);
/* The operator's stop: no restart follows; done runs once nothing of it is left. */
void sg_service_stop(SgService *service, SgServiceDoneFunc done, gpointer user_data);

/*
 * Cron jobs. A run is an instance with no readiness and no restart: running from its spawn,
 * then recorded in the job's record (success, failed, or killed by a stop) with the job
 * back to scheduled. The scheduler attaches the record (a reference is taken) and starts
 * runs with sg_service_start(). set_scheduled(FALSE) takes an idle job out of its schedule
 * (stopped; stop-all does it), TRUE puts a stopped one back.
 */
void sg_service_set_cron_job(SgService *service, SgCronJob *job);
SgCronJob *sg_service_get_cron_job(SgService *service);
void sg_service_set_scheduled(SgService *service, gboolean scheduled);

/* What an earlier supervisor left of a service (docs/persistence.md). */
typedef enum {
	SG_ADOPT_LIVE,      /* its main process lives: watched through a pidfd */
	SG_ADOPT_LEFTOVERS, /* processes but no main: stopped, then handled as a crash */
	SG_ADOPT_GONE,      /* the recorded process is gone: handled as a crash */
	SG_ADOPT_FINAL,     /* no process: exited, failed or stopped, kept as recorded */
	SG_ADOPT_BACKOFF,   /* no process, waiting to be restarted: the wait goes on */
} SgAdoptKind;

typedef struct {
	SgAdoptKind kind;
	pid_t pid; /* LIVE: the main process; LEFTOVERS: their session, or 0 */
	guint64 start_time;
	const char *invocation_id;
	gboolean ready; /* recorded as running: readiness is not checked again */
	gint64 started_at_usec;
	guint restart_count;
	/* FINAL: the recorded state; FINAL and BACKOFF: its cause, exit code (-1: none) and
	 * signal (0: none) */
	SgServiceState state;
	const char *cause;
	int exit_code;
	int exit_signal;
} SgServiceAdoption;

/*
 * Takes over what an earlier supervisor left, before anything else happens to the service.
 * LIVE fails (nothing changed) when the process is gone or is no longer the same one.
 */
gboolean sg_service_adopt(SgService *service, const SgServiceAdoption *adoption, GError **error);

/* A reload: the definition from now on. Hooks, restart policy, backoff, max_restarts and
 * logs take effect at once; what the process sees takes effect at its next start. */
void sg_service_set_config(SgService *service, SgConfig *config,
                           const SgServiceConfig *service_config);
