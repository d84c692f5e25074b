/* SPDX-License-Identifier: MIT */
/* org.systemg on the session bus: the connection, the name and org.systemg.Manager. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <sys/types.h>

#include "engine/sg-supervisor.h"

typedef struct _SgBus SgBus;

/* The Shutdown method: stop every service and exit, as SIGTERM does. */
typedef void (*SgBusShutdownFunc)(gpointer user_data);

/*
 * Connects to the session bus, serves /org/systemg and asks for org.systemg. Never fails:
 * with no session bus it logs a warning and returns NULL; a name owned by someone else is
 * logged and the objects stay reachable by unique name only; losing the bus later is logged
 * and the daemon goes on without it.
 */
SgBus *sg_bus_new_session(SgSupervisor *supervisor, SgBusShutdownFunc shutdown,
                          gpointer shutdown_data);
/*
 * Serves the objects on a connection that is already set up (a peer-to-peer socket in
 * the tests): no name is requested. The connection is referenced, not started.
 */
SgBus *sg_bus_new_for_connection(SgSupervisor *supervisor, sd_bus *bus, SgBusShutdownFunc shutdown,
                                 gpointer shutdown_data, GError **error);
/* The daemon is going away: starts, restarts and reloads are refused from now on. */
void sg_bus_set_shutting_down(SgBus *self);

typedef void (*SgBusNamedFunc)(gpointer user_data);
/*
 * Calls named once the bus has answered whether org.systemg is ours (owned or not), at
 * once if it has, or if self is NULL: from then on a client finds what there is to find.
 */
void sg_bus_when_named(SgBus *self, SgBusNamedFunc named, gpointer user_data);
/* Unregisters everything, sends what is queued and closes the connection (NULL is fine). */
void sg_bus_free(SgBus *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgBus, sg_bus_free)

/* When the daemon started (realtime usec): the Manager's StartedAt (NULL is fine). */
void sg_bus_set_started_at(SgBus *self, gint64 started_at_usec);

/* Whose calls are served (default: geteuid()); tests set another to see the refusal. */
void sg_bus_set_owner_uid(SgBus *self, uid_t uid);
