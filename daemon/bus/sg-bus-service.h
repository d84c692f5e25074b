/* SPDX-License-Identifier: MIT */
/* org.systemg.Service: one object per service under SG_BUS_SERVICE_PATH_BASE. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "bus/sg-bus.h"
#include "engine/sg-supervisor.h"

typedef struct _SgBusServices SgBusServices;

/* Registers the fallback vtable and the node enumerator on bus for every service. */
SgBusServices *sg_bus_services_new(SgBus *owner, sd_bus *bus, SgSupervisor *supervisor,
                                   GError **error);
void sg_bus_services_free(SgBusServices *self);

/* The object path of a service name (sd_bus_path_encode under the base). */
char *sg_bus_service_path(const char *name);

/* PropertiesChanged for what changed since the last call (refresh_config: the
 * configuration properties too, after a reload). */
void sg_bus_services_update(SgBusServices *self, SgService *service, gboolean refresh_config);
/* InterfacesAdded / InterfacesRemoved. */
void sg_bus_services_added(SgBusServices *self, SgService *service);
void sg_bus_services_removed(SgBusServices *self, const char *name);
