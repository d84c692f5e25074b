/* SPDX-License-Identifier: MIT */
/* What the parts of the D-Bus transport share: calls to the supervisor and their errors. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <systemd/sd-bus.h>

#include "sg-client-bus.h"

/* A method call to the supervisor's unique name, never auto-starting a daemon. */
gboolean sg_client_bus_method(SgClientBus *client, const char *path, const char *interface,
                              const char *member, sd_bus_message **ret_reply, GError **error,
                              const char *types, ...);
/* Sets error for an answer to member that cannot be read (r < 0); returns FALSE. */
gboolean sg_client_bus_parse_error(GError **error, int r, const char *member);
/* GetAll of one interface of one object, as a JSON object of its values. */
JsonObject *sg_client_bus_get_all(SgClientBus *client, const char *path, const char *interface,
                                  GError **error);

/* list_services, get_service and status, as the control socket answers them (sg-client-bus-status).
 */
JsonNode *sg_client_bus_list_services(SgClientBus *client, GError **error);
JsonNode *sg_client_bus_get_service(SgClientBus *client, const char *name, GError **error);
JsonNode *sg_client_bus_status(SgClientBus *client, GError **error);
