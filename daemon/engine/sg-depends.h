/* SPDX-License-Identifier: MIT */
/* Whether a service's dependencies let it start now, and the cause that says why not. */
#pragma once

#include <glib.h>

#include "engine/sg-service.h"

typedef enum {
	SG_DEPENDS_SATISFIED,  /* every dependency is ready (or completed): it may start */
	SG_DEPENDS_WAITING,    /* some are not ready yet: starting, with no process */
	SG_DEPENDS_BLOCKED,    /* one has failed for good, or is blocked */
	SG_DEPENDS_RECOVERING, /* one has failed and its restart is coming: blocked too */
} SgDependsVerdict;

/*
 * Judges the dependencies of cfg, found in by_name (name -> SgService*; every one exists,
 * the loader checked), at now_usec (the engine clock's monotonic time). Unless
 * SATISFIED, *ret_cause names the dependency and its state: "waiting for db",
 * "dependency db is failed", "waiting for db: backoff, next try in 300 ms".
 */
SgDependsVerdict sg_depends_judge(const SgServiceConfig *cfg, GHashTable *by_name, gint64 now_usec,
                                  char **ret_cause);

/* The cause of a dependent that a failed or blocked dependency stops (the cascade). */
char *sg_depends_failed_cause(SgService *dependency);
