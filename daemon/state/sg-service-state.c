/* SPDX-License-Identifier: MIT */
/* Service state and health names, and what each state means, in one table. */
#include "config.h"

#include "state/sg-service-state.h"

/* A column's answer: yes, no, or (backoff) yes only after a failure before ready. */
typedef enum {
	NO,
	YES,
	IF_FAILED_BEFORE_READY,
} Answer;

typedef struct {
	const char *name;
	gboolean up;
	Answer settled;
	Answer counts_failed;
	gboolean blocks_dependents;
	gboolean wants_request;
	gboolean awaits_dependencies;
	gboolean removable;
	gboolean pending;
	gboolean live;
	gboolean troubled;
	gboolean ready;
	gboolean done;
	gboolean restorable;
	SgServiceTone tone;
} StateRow;

/* Every state and the columns that hold for it; a column not named is "no". */
static const StateRow table[SG_SERVICE_N_STATES] = {
	[SG_SERVICE_STOPPED] = { .name = "stopped",
	                         .settled = YES,
	                         .wants_request = TRUE,
	                         .awaits_dependencies = TRUE,
	                         .removable = TRUE,
	                         .restorable = TRUE,
	                         .tone = SG_SERVICE_TONE_NEUTRAL },
	[SG_SERVICE_STARTING] = { .name = "starting",
	                          .awaits_dependencies = TRUE,
	                          .pending = TRUE,
	                          .live = TRUE,
	                          .tone = SG_SERVICE_TONE_TRANSIENT },
	[SG_SERVICE_RUNNING] = { .name = "running",
	                         .up = TRUE,
	                         .settled = YES,
	                         .live = TRUE,
	                         .ready = TRUE,
	                         .tone = SG_SERVICE_TONE_GOOD },
	[SG_SERVICE_STOPPING] = { .name = "stopping",
	                          .live = TRUE,
	                          .tone = SG_SERVICE_TONE_TRANSIENT },
	[SG_SERVICE_EXITED] = { .name = "exited",
	                        .up = TRUE,
	                        .settled = YES,
	                        .removable = TRUE,
	                        .done = TRUE,
	                        .restorable = TRUE,
	                        .tone = SG_SERVICE_TONE_NEUTRAL },
	[SG_SERVICE_FAILED] = { .name = "failed",
	                        .settled = YES,
	                        .counts_failed = YES,
	                        .blocks_dependents = TRUE,
	                        .wants_request = TRUE,
	                        .removable = TRUE,
	                        .troubled = TRUE,
	                        .restorable = TRUE,
	                        .tone = SG_SERVICE_TONE_BAD },
	[SG_SERVICE_BACKOFF] = { .name = "backoff",
	                         .settled = IF_FAILED_BEFORE_READY,
	                         .counts_failed = IF_FAILED_BEFORE_READY,
	                         .pending = TRUE,
	                         .troubled = TRUE,
	                         .restorable = TRUE,
	                         .tone = SG_SERVICE_TONE_TRANSIENT },
	[SG_SERVICE_BLOCKED] = { .name = "blocked",
	                         .settled = YES,
	                         .counts_failed = YES,
	                         .blocks_dependents = TRUE,
	                         .wants_request = TRUE,
	                         .awaits_dependencies = TRUE,
	                         .removable = TRUE,
	                         .tone = SG_SERVICE_TONE_TRANSIENT },
	[SG_SERVICE_SKIPPED] = { .name = "skipped",
	                         .up = TRUE,
	                         .settled = YES,
	                         .removable = TRUE,
	                         .done = TRUE,
	                         .tone = SG_SERVICE_TONE_NEUTRAL },
	[SG_SERVICE_SCHEDULED] = { .name = "scheduled",
	                           .up = TRUE,
	                           .settled = YES,
	                           .tone = SG_SERVICE_TONE_SCHEDULED },
	[SG_SERVICE_ORPHANED] = { .name = "orphaned",
	                          .settled = YES,
	                          .live = TRUE,
	                          .ready = TRUE,
	                          .tone = SG_SERVICE_TONE_BAD },
};

static const StateRow *
row(SgServiceState state)
{
	g_return_val_if_fail((guint)state < SG_SERVICE_N_STATES, &table[SG_SERVICE_STOPPED]);
	return &table[state];
}

static gboolean
answer(Answer value, gboolean failed_before_ready)
{
	return value == YES || (value == IF_FAILED_BEFORE_READY && failed_before_ready);
}

const char *
sg_service_state_to_string(SgServiceState state)
{
	g_return_val_if_fail((guint)state < SG_SERVICE_N_STATES, "unknown");
	return table[state].name;
}

gboolean
sg_service_state_from_string(const char *name, SgServiceState *ret_state)
{
	for (guint i = 0; i < SG_SERVICE_N_STATES; i++) {
		if (g_strcmp0(table[i].name, name) == 0) {
			*ret_state = (SgServiceState)i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
sg_service_state_is_up(SgServiceState state)
{
	return row(state)->up;
}

gboolean
sg_service_state_is_settled(SgServiceState state, gboolean failed_before_ready)
{
	return answer(row(state)->settled, failed_before_ready);
}

gboolean
sg_service_state_counts_failed(SgServiceState state, gboolean failed_before_ready)
{
	return answer(row(state)->counts_failed, failed_before_ready);
}

gboolean
sg_service_state_blocks_dependents(SgServiceState state)
{
	return row(state)->blocks_dependents;
}

gboolean
sg_service_state_wants_request(SgServiceState state)
{
	return row(state)->wants_request;
}

gboolean
sg_service_state_awaits_dependencies(SgServiceState state)
{
	return row(state)->awaits_dependencies;
}

gboolean
sg_service_state_is_removable(SgServiceState state)
{
	return row(state)->removable;
}

gboolean
sg_service_state_is_pending(SgServiceState state)
{
	return row(state)->pending;
}

gboolean
sg_service_state_is_live(SgServiceState state)
{
	return row(state)->live;
}

gboolean
sg_service_state_is_troubled(SgServiceState state)
{
	return row(state)->troubled;
}

gboolean
sg_service_state_is_ready(SgServiceState state)
{
	return row(state)->ready;
}

gboolean
sg_service_state_is_done(SgServiceState state)
{
	return row(state)->done;
}

gboolean
sg_service_state_is_restorable(SgServiceState state)
{
	return row(state)->restorable;
}

SgServiceTone
sg_service_state_tone(SgServiceState state)
{
	return row(state)->tone;
}

const char *
sg_health_status_to_string(SgHealthStatus status)
{
	switch (status) {
	case SG_HEALTH_STARTING:
		return "starting";
	case SG_HEALTH_HEALTHY:
		return "healthy";
	case SG_HEALTH_UNHEALTHY:
		return "unhealthy";
	case SG_HEALTH_NONE:
	default:
		return "none";
	}
}
