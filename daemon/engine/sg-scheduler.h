/* SPDX-License-Identifier: MIT */
/* Cron scheduling: a queue of next runs, one wall-clock alarm for the soonest, runs and
 * overlaps, and cron_state.json. */
#pragma once

#include <glib.h>

#include "config/sg-config.h"
#include "engine/sg-cron-job.h"
#include "engine/sg-service.h"
#include "process/sg-context.h"

typedef struct _SgScheduler SgScheduler;

/* What the scheduler asks of its owner (the supervisor), each given the owner. */
typedef struct {
	GPtrArray *(*get_services)(gpointer owner); /* SgService*, configuration order */
	SgService *(*lookup)(gpointer owner, const char *name);
	SgConfig *(*get_config)(gpointer owner);
	/* The next run of service's job moved. */
	void (*next_run_changed)(gpointer owner, SgService *service);
	/* A run of service's job was recorded. */
	void (*job_finished)(gpointer owner, SgService *service, const SgCronRun *run);
} SgSchedulerHost;

/*
 * Loads STATE_DIR/cron_state.json (a corrupt file is quarantined), gives every cron job of
 * the owner its record and arms the alarm. host (static) and owner are borrowed: the owner
 * owns the scheduler and tells it of state changes and reloads.
 */
SgScheduler *sg_scheduler_new(SgContext *context, const SgSchedulerHost *host, gpointer owner);
/* Writes cron_state.json if anything changed, then frees. */
void sg_scheduler_free(SgScheduler *scheduler);

/* A service changed state: a cron job taken out of its schedule (stop-all) or put back. */
void sg_scheduler_service_state_changed(SgScheduler *scheduler, SgService *service,
                                        SgServiceState old_state, SgServiceState new_state);

/*
 * Takes the cron jobs of the owner's configuration again (after a reload: new, changed
 * and removed ones): new and changed jobs are planned from now, the others keep their next
 * run, removed ones leave the queue and cron_state.json; then the alarm is re-armed.
 * O(jobs); idempotent.
 */
void sg_scheduler_reschedule(SgScheduler *scheduler);

/* Writes cron_state.json now if anything changed. */
void sg_scheduler_flush(SgScheduler *scheduler);
