/* SPDX-License-Identifier: MIT */
/* Cron scheduling: a queue of next runs, one wall-clock alarm for the soonest, runs and
 * overlaps, and cron_state.json. */
#pragma once

#include <glib.h>

#include "engine/sg-supervisor.h"

typedef struct _SgScheduler SgScheduler;

/*
 * Loads STATE_DIR/cron_state.json (a corrupt file is quarantined), gives every cron job of
 * the supervisor its record and arms the alarm. supervisor is borrowed: it owns the
 * scheduler.
 */
SgScheduler *sg_scheduler_new(SgSupervisor *supervisor);
/* Writes cron_state.json if anything changed, then frees; only from the supervisor's
 * finalize (the scheduler's signal handlers live as long as the supervisor). */
void sg_scheduler_free(SgScheduler *scheduler);

/*
 * Takes the cron jobs of the supervisor's configuration again (after a reload: new, changed
 * and removed ones): new and changed jobs are planned from now, the others keep their next
 * run, removed ones leave the queue and cron_state.json; then the alarm is re-armed.
 * O(jobs); idempotent.
 */
void sg_scheduler_reschedule(SgScheduler *scheduler);

/* Writes cron_state.json now if anything changed. */
void sg_scheduler_flush(SgScheduler *scheduler);
