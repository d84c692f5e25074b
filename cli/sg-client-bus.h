/* SPDX-License-Identifier: MIT */
/* The D-Bus transport of SgClient: org.systemg on the session bus, through sd-bus. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sg-client.h"

typedef struct _SgClientBus SgClientBus;

/*
 * Reaches the supervisor of state_dir on the session bus. No supervisor (sysg.pid not
 * locked): SG_ERROR_NO_SUPERVISOR. A supervisor that cannot be reached there (no session
 * bus, org.systemg not owned, or owned by the supervisor of another state directory):
 * SG_ERROR_NOT_ON_BUS. Calls never start a daemon through D-Bus activation.
 */
SgClientBus *sg_client_bus_connect(const char *state_dir, GError **error);
void sg_client_bus_free(SgClientBus *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgClientBus, sg_client_bus_free)

/* sg_client_call() over D-Bus: the control socket's methods and results, mapped. */
gboolean sg_client_bus_call(SgClientBus *client, const char *method, JsonObject *params,
                            JsonNode **ret_result, GError **error);

/* sg_client_subscribe() over D-Bus: the Manager's signals, as the socket's notifications. */
gboolean sg_client_bus_subscribe(SgClientBus *client, SgClientEventFunc event_cb,
                                 SgClientClosedFunc closed_cb, gpointer user_data, GError **error);

/* The supervisor's configuration file (its ConfigPath property), or NULL. */
char *sg_client_bus_config_path(SgClientBus *client, GError **error);
