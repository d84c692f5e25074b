/* SPDX-License-Identifier: MIT */
/* The control socket: JSON-RPC 2.0 on STATE_DIR/control.sock (SPEC section 6). */
#pragma once

#include <glib.h>

#include "base/sg-limits.h"
#include "engine/sg-supervisor.h"

typedef struct _SgControl SgControl;

/* The shutdown method: stop every service and exit, as SIGTERM does. */
typedef void (*SgControlShutdownFunc)(gpointer user_data);

/*
 * Listens on STATE_DIR/control.sock (mode 0600; a socket left there is replaced: the
 * caller holds sysg.pid). started_at_usec is what status reports about the supervisor; its
 * configuration path is the supervisor's, which follows reloads.
 */
SgControl *sg_control_new(SgSupervisor *supervisor, gint64 started_at_usec,
                          SgControlShutdownFunc shutdown, gpointer shutdown_data, GError **error);
/* The daemon is going away: start, restart and reload are refused from now on. */
void sg_control_set_shutting_down(SgControl *control);
/* Disconnects every client, stops listening and removes control.sock. */
void sg_control_free(SgControl *control);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgControl, sg_control_free)

/* How many clients are connected (tests). */
guint sg_control_client_count(SgControl *control);
