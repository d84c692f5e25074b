/* SPDX-License-Identifier: MIT */
/* The control socket: JSON-RPC 2.0 on STATE_DIR/control.sock (SPEC section 6). */
#pragma once

#include <glib.h>

#include "api/sg-api.h"

typedef struct _SgControl SgControl;

/*
 * Listens on STATE_DIR/control.sock (mode 0600; a socket left there is replaced: the
 * caller holds sysg.pid) and serves every method through api (borrowed: it outlives the
 * control socket).
 */
SgControl *sg_control_new(SgApi *api, GError **error);
/* Disconnects every client, stops listening and removes control.sock. */
void sg_control_free(SgControl *control);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgControl, sg_control_free)

/* How many clients are connected (tests). */
guint sg_control_client_count(SgControl *control);
