/* SPDX-License-Identifier: MIT */
/* The per-service hash that tells reload whether a service changed (docs/configuration.md). */
#pragma once

#include "config/sg-config-types.h"

/*
 * Sets service->hash from the canonical form of what the running process sees: a change
 * to any of it restarts the service on reload; everything else applies in place. The form
 * is a contract across builds and versions.
 */
void sg_config_hash_service(SgServiceConfig *service);
