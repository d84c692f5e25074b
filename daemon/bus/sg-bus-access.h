/* SPDX-License-Identifier: MIT */
/* Who may use org.systemg: only callers of the daemon's UID call methods or read properties. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <sys/types.h>

#include "process/sg-context.h"

typedef struct _SgBusAccess SgBusAccess;

/*
 * Guards every object under /org/systemg on bus: a filter refuses any method call from a
 * caller of another UID (properties and GetManagedObjects included) with
 * org.systemg.Error.AccessDenied, except introspection and org.freedesktop.DBus.Peer.
 * Callers' UIDs are cached per unique name; refusals are logged at most once a second.
 */
SgBusAccess *sg_bus_access_new(SgContext *context, sd_bus *bus, GError **error);
void sg_bus_access_free(SgBusAccess *access);

/* On a bus (not a peer-to-peer connection): forget the UIDs of peers that leave. */
void sg_bus_access_watch_peers(SgBusAccess *access);

/* Whose calls are served (default: geteuid()); tests set another to see the refusal. */
void sg_bus_access_set_owner_uid(SgBusAccess *access, uid_t uid);

/* 0 when message comes from a caller of our UID; else < 0 with error set (and logged). */
int sg_bus_access_check(SgBusAccess *access, sd_bus_message *message, sd_bus_error *error);
