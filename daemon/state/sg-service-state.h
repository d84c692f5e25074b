/* SPDX-License-Identifier: MIT */
/* The states of a service (SPEC section 4) and of its health: the one place their names are
 * spelled and the one table of what each state means. */
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

/*
 * What a state means, read from one table (docs/engine.md shows it). Backoff depends on how
 * the instance ended: after a failure before it was ever ready (failed_before_ready) a start
 * has not worked and backoff counts as failed and settled; after a crash of a ready instance
 * the restart is still to come.
 */

/* Up for a start's answer: the service did what a start asks (running, exited 0, skipped,
 * or a cron job in its schedule). */
gboolean sg_service_state_is_up(SgServiceState state);
/* The state will not change on its own before someone acts: a start can be answered and the
 * Manager's State can leave "starting". */
gboolean sg_service_state_is_settled(SgServiceState state, gboolean failed_before_ready);
/* Counts as failed: the start did not work and no restart will fix it for now (reported at
 * startup, the reason not everything is up). */
gboolean sg_service_state_counts_failed(SgServiceState state, gboolean failed_before_ready);
/* Failed or blocked with no restart coming: the dependents are blocked too. */
gboolean sg_service_state_blocks_dependents(SgServiceState state);
/* Down with no restart coming (stopped, failed, blocked): a dependent's start requests it. */
gboolean sg_service_state_wants_request(SgServiceState state);
/* May be started when its dependencies change (starting only while waiting for them). */
gboolean sg_service_state_awaits_dependencies(SgServiceState state);
/* At rest with nothing pending: a service no longer configured may be removed. */
gboolean sg_service_state_is_removable(SgServiceState state);
/* A restart (backoff) or a start (starting) is pending: a stop cancels it, a changed
 * definition restarts it. */
gboolean sg_service_state_is_pending(SgServiceState state);
/* An instance is, or may be, alive: status shows how long it has been so. */
gboolean sg_service_state_is_live(SgServiceState state);
/* Something went wrong (failed, backoff): a later "running" is a recovery. */
gboolean sg_service_state_is_troubled(SgServiceState state);
/* The instance passed its readiness (running, orphaned). */
gboolean sg_service_state_is_ready(SgServiceState state);
/* Done with its work (exited 0, skipped): every dependency condition holds. */
gboolean sg_service_state_is_done(SgServiceState state);
/* Recorded with no process left, a new supervisor takes it over as it is (stopped, exited,
 * failed) or as the restart that was due (backoff). */
gboolean sg_service_state_is_restorable(SgServiceState state);

typedef enum {
	SG_SERVICE_TONE_NEUTRAL,   /* stopped, exited, skipped */
	SG_SERVICE_TONE_GOOD,      /* running */
	SG_SERVICE_TONE_BAD,       /* failed, orphaned */
	SG_SERVICE_TONE_TRANSIENT, /* starting, stopping, backoff, blocked */
	SG_SERVICE_TONE_SCHEDULED, /* scheduled */
} SgServiceTone;

/* How status shows the state (its colour). */
SgServiceTone sg_service_state_tone(SgServiceState state);

typedef enum {
	SG_HEALTH_NONE,     /* no check configured */
	SG_HEALTH_STARTING, /* the check has not passed yet for this instance */
	SG_HEALTH_HEALTHY,
	SG_HEALTH_UNHEALTHY,
} SgHealthStatus;

const char *sg_health_status_to_string(SgHealthStatus status);
