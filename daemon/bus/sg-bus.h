/* SPDX-License-Identifier: MIT */
/* org.systemg on the session bus: the connection, the name and org.systemg.Manager. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <sys/types.h>

#include "api/sg-api.h"

typedef struct _SgBus SgBus;

/*
 * Connects to the session bus, serves /org/systemg and asks for org.systemg. Never fails:
 * with no session bus it logs a warning and returns NULL; a name owned by someone else is
 * logged and the objects stay reachable by unique name only; losing the bus later is logged
 * and the daemon goes on without it. Every method is served through api (borrowed: it
 * outlives the bus object).
 */
SgBus *sg_bus_new_session(SgApi *api);
/*
 * Serves the objects on a connection that is already set up (a peer-to-peer socket in
 * the tests): no name is requested. The connection is referenced, not started.
 */
SgBus *sg_bus_new_for_connection(SgApi *api, sd_bus *bus, GError **error);

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
