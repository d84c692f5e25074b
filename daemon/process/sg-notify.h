/* SPDX-License-Identifier: MIT */
/* The sd_notify datagram protocol: one socket per service, messages attributed by socket. */
#pragma once

#include <glib.h>

typedef struct _SgNotifySocket SgNotifySocket;

/* One datagram's assignments, e.g. READY=1, STATUS=..., MAINPID=... (keys and values). */
typedef void (*SgNotifyFunc)(SgNotifySocket *socket, GHashTable *fields, gpointer user_data);

/*
 * Binds an abstract-namespace datagram socket named "@systemg/STATE_ID/SERVICE" (no file, no
 * path-length limit) with SO_PASSCRED, attached to the thread-default main context.
 * Messages from another UID are dropped; file descriptors passed along (systemd-notify's
 * BARRIER=1) are closed at once; messages over 4 KiB are dropped.
 */
SgNotifySocket *sg_notify_socket_new(const char *state_id, const char *service, SgNotifyFunc func,
                                     gpointer user_data, GError **error);
void sg_notify_socket_free(SgNotifySocket *socket);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgNotifySocket, sg_notify_socket_free)

/* The value for the service's NOTIFY_SOCKET variable ("@systemg/..."). */
const char *sg_notify_socket_address(SgNotifySocket *socket);
