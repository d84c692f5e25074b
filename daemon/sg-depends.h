/* SPDX-License-Identifier: MIT */
/* Whether a service's dependencies let it start now, and the cause that says why not. */
#pragma once

#include <glib.h>

#include "sg-service.h"

typedef enum {
	SG_DEPENDS_SATISFIED, /* every dependency is ready (or completed): it may start */
	SG_DEPENDS_WAITING,   /* some are not ready yet: starting, with no process */
	SG_DEPENDS_BLOCKED,   /* one has failed, even with a restart coming, or is blocked */
} SgDependsVerdict;

/* The service called name (every dependency exists: the loader checked). */
typedef SgService *(*SgDependsLookupFunc)(const char *name, gpointer user_data);

/*
 * Judges the dependencies of cfg at now_usec (the engine clock's monotonic time). For
 * WAITING and BLOCKED, *ret_cause names the dependency and its state: "waiting for db",
 * "dependency db is failed", "waiting for db: backoff, next try in 300 ms".
 */
SgDependsVerdict sg_depends_judge(const SgServiceConfig *cfg, SgDependsLookupFunc lookup,
                                  gpointer user_data, gint64 now_usec, char **ret_cause);

/* The cause of a dependent that a failed or blocked dependency stops (the cascade). */
char *sg_depends_failed_cause(SgService *dependency);
