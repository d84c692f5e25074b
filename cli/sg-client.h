/* SPDX-License-Identifier: MIT */
/* A connection to a running supervisor: calls and event subscriptions, transport-neutral. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct _SgClient SgClient;

typedef enum {
	SG_CLIENT_SOCKET, /* STATE_DIR/control.sock, JSON-RPC */
	SG_CLIENT_BUS,    /* org.systemg on the session bus (--bus) */
} SgClientTransport;

/*
 * Connects to the supervisor of state_dir. When none runs: NULL with
 * SG_ERROR_NO_SUPERVISOR. Over the socket, other failures are SG_ERROR_FAILED naming the
 * socket; over the bus, a supervisor that runs but cannot be reached there is
 * SG_ERROR_NOT_ON_BUS (exit 5).
 */
SgClient *sg_client_connect(const char *state_dir, SgClientTransport transport, GError **error);
void sg_client_free(SgClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgClient, sg_client_free)

/*
 * Calls method with named params (may be NULL) and waits for its answer; ret_result (may
 * be NULL) receives the result. An error answer becomes an SG_ERROR carrying the
 * supervisor's message: no such service, invalid configuration, access denied, failed,
 * usage (invalid parameters). A lost connection is SG_ERROR_FAILED.
 */
gboolean sg_client_call(SgClient *client, const char *method, JsonObject *params,
                        JsonNode **ret_result, GError **error);

/* One event: its name (e.g. "service_state_changed") and its parameters. */
typedef void (*SgClientEventFunc)(const char *event, JsonObject *params, gpointer user_data);
/* The supervisor went away. */
typedef void (*SgClientClosedFunc)(gpointer user_data);

/*
 * Subscribes to events; from then on they are delivered to event_cb on the thread-default
 * main context, and closed_cb is called once when the connection ends.
 */
gboolean sg_client_subscribe(SgClient *client, SgClientEventFunc event_cb,
                             SgClientClosedFunc closed_cb, gpointer user_data, GError **error);

/* The supervisor's status object (section 5, status --json). */
JsonNode *sg_client_status(SgClient *client, GError **error);

/* The configuration file the supervisor runs on, or NULL (with error set on failure). */
char *sg_client_config_path(SgClient *client, GError **error);

/*
 * Finds the configuration for commands other than start and validate (SPEC section 3):
 * explicit when given, else running_config (the supervisor's, may be NULL), else the
 * state directory's config_hint, else the usual places. SG_ERROR_INVALID_CONFIG when none.
 */
char *sg_client_discover_config(const char *explicit_path, const char *running_config,
                                const char *state_dir, GError **error);
