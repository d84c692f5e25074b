/* SPDX-License-Identifier: MIT */
/* One service block of systemg.yaml read into its SgServiceConfig. */
#pragma once

#include "config/sg-config-types.h"
#include "config/sg-loader.h"

/* Where a dependency was written, for problems found once every service is known. */
typedef struct {
	const SgYamlNode *node;
	char *path;
} SgDepRef;

void sg_dep_ref_free(SgDepRef *ref);

typedef struct {
	SgServiceConfig *config;
	const SgYamlNode *key;
	GPtrArray *dep_refs; /* SgDepRef*, parallel to config->depends_on */
} SgServiceDraft;

void sg_service_draft_free(SgServiceDraft *draft);
void sg_service_config_free(SgServiceConfig *service);

/* Reads the service written at key: node into draft, whose config has its name and place;
 * the service's env layers are left in loader for the caller to flatten and clear. */
void sg_config_load_service(SgLoader *loader, const SgYamlNode *key, const SgYamlNode *node,
                            const SgLogLimits *root_logs, SgServiceDraft *draft);
