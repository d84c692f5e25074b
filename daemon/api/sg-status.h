/* SPDX-License-Identifier: MIT */
/* The objects of `sysg status --json` (SPEC section 5), built from the live engine. */
#pragma once

#include <json-glib/json-glib.h>

#include "engine/sg-supervisor.h"
#include "state/sg-service-status.h"

/* One service object with every field of SPEC section 5, plus "cause". */
JsonNode *sg_status_service(SgSupervisor *supervisor, SgService *service);
/* The value behind that object (its usage read for this one service). */
SgServiceStatus *sg_status_service_value(SgSupervisor *supervisor, SgService *service);

/*
 * {"supervisor": {...}, "services": [...]}. config_path may be NULL (no configuration);
 * started_at_usec is when the supervisor started (realtime). One /proc scan serves every
 * service in marker mode.
 */
JsonNode *sg_status_all(SgSupervisor *supervisor, const char *config_path, gint64 started_at_usec);

/* [{"name", "kind", "state", "pid"}]: list_services. */
JsonNode *sg_status_list(SgSupervisor *supervisor);
