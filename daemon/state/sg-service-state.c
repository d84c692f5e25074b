/* SPDX-License-Identifier: MIT */
/* Service state and health names, shared by the engine, the state files, the socket and the bus. */
#include "config.h"

#include "state/sg-service-state.h"

static const char *const names[SG_SERVICE_N_STATES] = {
	[SG_SERVICE_STOPPED] = "stopped",   [SG_SERVICE_STARTING] = "starting",
	[SG_SERVICE_RUNNING] = "running",   [SG_SERVICE_STOPPING] = "stopping",
	[SG_SERVICE_EXITED] = "exited",     [SG_SERVICE_FAILED] = "failed",
	[SG_SERVICE_BACKOFF] = "backoff",   [SG_SERVICE_BLOCKED] = "blocked",
	[SG_SERVICE_SKIPPED] = "skipped",   [SG_SERVICE_SCHEDULED] = "scheduled",
	[SG_SERVICE_ORPHANED] = "orphaned",
};

const char *
sg_service_state_to_string(SgServiceState state)
{
	g_return_val_if_fail(state < SG_SERVICE_N_STATES, "unknown");
	return names[state];
}

gboolean
sg_service_state_from_string(const char *name, SgServiceState *ret_state)
{
	for (guint i = 0; i < SG_SERVICE_N_STATES; i++) {
		if (g_strcmp0(names[i], name) == 0) {
			*ret_state = (SgServiceState)i;
			return TRUE;
		}
	}
	return FALSE;
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
