/* SPDX-License-Identifier: MIT */
/* The dependency graph of a configuration's services: unknown targets, cron targets, cycles. */
#pragma once

#include "config/sg-config-service.h"

/* drafts: SgServiceDraft*; by_name: name -> index in drafts; names: NULL-terminated. */
void sg_config_graph_check_targets(SgLoader *loader, GPtrArray *drafts, GHashTable *by_name,
                                   const char *const *names);
void sg_config_graph_check_cycles(SgLoader *loader, GPtrArray *drafts, GHashTable *by_name);
