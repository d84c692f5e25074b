/* SPDX-License-Identifier: MIT */
/* The states of a service (SPEC section 4) and of its health: the one place their names are
 * spelled. */
#pragma once

#include <glib.h>

typedef enum {
	SG_SERVICE_STOPPED,  /* stopped by the operator, or never started */
	SG_SERVICE_STARTING, /* waiting for dependencies, spawned, or not ready yet */
	SG_SERVICE_RUNNING,  /* ready (cron jobs: a run in progress) */
	SG_SERVICE_STOPPING,
	SG_SERVICE_EXITED,  /* ended with code 0 on its own */
	SG_SERVICE_FAILED,  /* non-zero exit, signal, spawn failure, failed check, gave up */
	SG_SERVICE_BACKOFF, /* waiting to be restarted */
	SG_SERVICE_BLOCKED, /* a dependency is not ready */
	SG_SERVICE_SKIPPED,
	SG_SERVICE_SCHEDULED, /* cron jobs between runs */
	SG_SERVICE_ORPHANED,  /* adopted, no longer in the configuration */
	SG_SERVICE_N_STATES,
} SgServiceState;

const char *sg_service_state_to_string(SgServiceState state);
/* FALSE for an unknown name. */
gboolean sg_service_state_from_string(const char *name, SgServiceState *ret_state);

typedef enum {
	SG_HEALTH_NONE,     /* no check configured */
	SG_HEALTH_STARTING, /* the check has not passed yet for this instance */
	SG_HEALTH_HEALTHY,
	SG_HEALTH_UNHEALTHY,
} SgHealthStatus;

const char *sg_health_status_to_string(SgHealthStatus status);
