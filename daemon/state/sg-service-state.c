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
	SgServiceTone tone;
} StateRow;

/* clang-format off */
static const StateRow table[SG_SERVICE_N_STATES] = {
	/*                      name       up  settled  failed  blocks want  awaits remov pend  live  troub tone */
	[SG_SERVICE_STOPPED]   = { "stopped",   0, YES, NO,  0, 1, 1, 1, 0, 0, 0, SG_SERVICE_TONE_NEUTRAL },
	[SG_SERVICE_STARTING]  = { "starting",  0, NO,  NO,  0, 0, 1, 0, 1, 1, 0, SG_SERVICE_TONE_TRANSIENT },
	[SG_SERVICE_RUNNING]   = { "running",   1, YES, NO,  0, 0, 0, 0, 0, 1, 0, SG_SERVICE_TONE_GOOD },
	[SG_SERVICE_STOPPING]  = { "stopping",  0, NO,  NO,  0, 0, 0, 0, 0, 1, 0, SG_SERVICE_TONE_TRANSIENT },
	[SG_SERVICE_EXITED]    = { "exited",    1, YES, NO,  0, 0, 0, 1, 0, 0, 0, SG_SERVICE_TONE_NEUTRAL },
	[SG_SERVICE_FAILED]    = { "failed",    0, YES, YES, 1, 1, 0, 1, 0, 0, 1, SG_SERVICE_TONE_BAD },
	[SG_SERVICE_BACKOFF]   = { "backoff",   0, IF_FAILED_BEFORE_READY, IF_FAILED_BEFORE_READY,
	                                                     0, 0, 0, 0, 1, 0, 1, SG_SERVICE_TONE_TRANSIENT },
	[SG_SERVICE_BLOCKED]   = { "blocked",   0, YES, YES, 1, 1, 1, 1, 0, 0, 0, SG_SERVICE_TONE_TRANSIENT },
	[SG_SERVICE_SKIPPED]   = { "skipped",   1, YES, NO,  0, 0, 0, 1, 0, 0, 0, SG_SERVICE_TONE_NEUTRAL },
	[SG_SERVICE_SCHEDULED] = { "scheduled", 1, YES, NO,  0, 0, 0, 0, 0, 0, 0, SG_SERVICE_TONE_SCHEDULED },
	[SG_SERVICE_ORPHANED]  = { "orphaned",  0, YES, NO,  0, 0, 0, 0, 0, 1, 0, SG_SERVICE_TONE_BAD },
};
/* clang-format on */

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
