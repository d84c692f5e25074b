/* SPDX-License-Identifier: MIT */
/* A service's status value as the engine knows it, without reading /proc. */
#pragma once

#include "engine/sg-service.h"
#include "state/sg-service-status.h"

/*
 * Every field of SgServiceStatus the engine holds; the usage fields (memory, CPU, tasks)
 * stay absent and pgid is the pid (every service leads its own process group).
 */
SgServiceStatus *sg_service_snapshot(SgService *service);
