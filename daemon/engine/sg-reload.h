/* SPDX-License-Identifier: MIT */
/* Reload: what a new configuration changes, service by service (SPEC section 4). */
#pragma once

#include <glib.h>

#include "config/sg-config.h"

typedef struct {
	GPtrArray *added;     /* const SgServiceConfig* of the new configuration */
	GPtrArray *changed;   /* const SgServiceConfig* of the new configuration */
	GPtrArray *unchanged; /* const SgServiceConfig* of the new configuration */
	GPtrArray *removed;   /* names (owned) */
} SgReloadPlan;

/*
 * current maps the name of every service running now to its per-service hash (the hash of
 * what its process sees, docs/configuration.md). A service of next is changed when its
 * hash differs; everything else about it applies in place.
 */
SgReloadPlan *sg_reload_plan_new(GHashTable *current, const SgConfig *next);
void sg_reload_plan_free(SgReloadPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgReloadPlan, sg_reload_plan_free)

/* One line for the log: "added a; changed b, c; removed d; 4 unchanged". */
char *sg_reload_plan_describe(const SgReloadPlan *plan);

/* Every problem of a refused configuration (FILE:LINE:COLUMN: PATH: message), one a line. */
char *sg_reload_describe_problems(GPtrArray *problems, const char *fallback);
