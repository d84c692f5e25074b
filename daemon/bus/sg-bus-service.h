/* SPDX-License-Identifier: MIT */
/* org.systemg.Service: one object per service under SG_BUS_SERVICE_PATH_BASE. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

#include "bus/sg-bus-access.h"
#include "engine/sg-supervisor.h"

typedef struct _SgBusServices SgBusServices;

typedef enum {
	SG_BUS_OP_START,
	SG_BUS_OP_STOP,
	SG_BUS_OP_RESTART,
} SgBusOp;

/* Runs op on service name as the control socket does, and replies to message when done. */
typedef void (*SgBusServiceRunFunc)(gpointer run_data, sd_bus_message *message, SgBusOp op,
                                    const char *name);

/*
 * Registers the fallback vtable and the node enumerator on bus for every service. Methods
 * are checked by access and run by run.
 */
SgBusServices *sg_bus_services_new(sd_bus *bus, SgSupervisor *supervisor, SgBusAccess *access,
                                   SgBusServiceRunFunc run, gpointer run_data, GError **error);
void sg_bus_services_free(SgBusServices *self);

/* The object path of a service name (sd_bus_path_encode under the base). */
char *sg_bus_service_path(const char *name);

/* PropertiesChanged for the properties whose values changed since the last call (those of
 * the configuration too, after a reload). */
void sg_bus_services_update(SgBusServices *self, SgService *service);
/* InterfacesAdded / InterfacesRemoved. */
void sg_bus_services_added(SgBusServices *self, SgService *service);
void sg_bus_services_removed(SgBusServices *self, const char *name);
