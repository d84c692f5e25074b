/* SPDX-License-Identifier: MIT */
/* The blocks a service shares with its deployment and the file's root: logs, health checks,
 * hooks, the deployment itself. */
#pragma once

#include "config/sg-config-types.h"
#include "config/sg-loader.h"

/* A health check's defaults, also those of a deployment's check before it is read. */
#define DEFAULT_CHECK_INTERVAL_MS 1000
#define DEFAULT_CHECK_TIMEOUT_MS  30000
#define DEFAULT_CHECK_RETRIES     3

void sg_config_load_logs(SgLoader *loader, const SgYamlNode *node, const char *path,
                         SgLogLimits *limits);
void sg_config_load_health_check(SgLoader *loader, const SgYamlNode *node, const char *path,
                                 SgHealthCheck *check);
void sg_config_load_hooks(SgLoader *loader, const SgYamlNode *node, const char *path,
                          SgHook *hooks);
void sg_config_load_deployment(SgLoader *loader, const SgYamlNode *node, const char *path,
                               SgDeployment *deploy);
