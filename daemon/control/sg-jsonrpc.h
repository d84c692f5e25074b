/* SPDX-License-Identifier: MIT */
/* A JSON-RPC 2.0 server on STATE_DIR/control.sock: clients, framing, limits, dispatch. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "process/sg-context.h"
#include "base/sg-error.h"
#include "base/sg-limits.h"

typedef struct _SgJsonrpc SgJsonrpc;
typedef struct _SgJsonrpcCall SgJsonrpcCall;

/* Answers the call now or later (sg_jsonrpc_call_return, ..._fail). */
typedef void (*SgJsonrpcMethodFunc)(SgJsonrpcCall *call, JsonObject *params);

typedef struct {
	const char *name;
	SgJsonrpcMethodFunc func;
	const char *params[4]; /* the named parameters it takes; NULL-terminated */
} SgJsonrpcMethod;

/*
 * Listens on STATE_DIR/control.sock of engine (mode 0600; a socket left there is replaced:
 * the caller holds sysg.pid) and serves methods (borrowed: a static table) to peers of our
 * own UID. user_data is what sg_jsonrpc_call_get_user_data() gives the methods.
 */
SgJsonrpc *sg_jsonrpc_new(SgContext *context, const SgJsonrpcMethod *methods, guint n_methods,
                          gpointer user_data, GError **error);
/* Drops unanswered calls, disconnects every client, stops listening, removes the socket. */
void sg_jsonrpc_free(SgJsonrpc *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgJsonrpc, sg_jsonrpc_free)

/* How many clients are connected. */
guint sg_jsonrpc_client_count(SgJsonrpc *server);

/* Whether a client subscribed: notifications are worth building. */
gboolean sg_jsonrpc_has_subscribers(SgJsonrpc *server);
/* {"jsonrpc": "2.0", "method": method, "params": {: the caller adds the params' members. */
JsonBuilder *sg_jsonrpc_notification_begin(const char *method);
/* Closes the notification begun above and sends it to every subscriber. */
void sg_jsonrpc_notification_send(SgJsonrpc *server, JsonBuilder *builder);

/* ---- calls ---- */

gpointer sg_jsonrpc_call_get_user_data(SgJsonrpcCall *call);
/* The client of the call gets every notification from now on. */
void sg_jsonrpc_call_subscribe(SgJsonrpcCall *call);
/*
 * What the call waits for: if the call goes unanswered (the server is freed), cancel is
 * called on pending. Set NULL again before answering when pending ended on its own.
 */
void sg_jsonrpc_call_set_pending(SgJsonrpcCall *call, gpointer pending, GDestroyNotify cancel);

/* Each of these answers the call and frees it. */
void sg_jsonrpc_call_return(SgJsonrpcCall *call, JsonNode *result); /* result taken */
void sg_jsonrpc_call_return_empty(SgJsonrpcCall *call);
/* An error object; data.name for the systemg codes, extra (taken) merged into data. */
void sg_jsonrpc_call_fail_full(SgJsonrpcCall *call, int code, const char *message,
                               const char *dbus_name, JsonObject *extra);
void sg_jsonrpc_call_fail(SgJsonrpcCall *call, const GError *error);
void sg_jsonrpc_call_fail_printf(SgJsonrpcCall *call, SgErrorCode code, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

/* ---- parameters: FALSE when the call was failed for a wrong type ---- */

/* A string parameter: absent or null gives NULL; another type is a usage error. */
gboolean sg_jsonrpc_param_string(SgJsonrpcCall *call, JsonObject *params, const char *key,
                                 const char **ret_value);
/* A non-negative integer, capped at max; absent or null leaves *ret_value. */
gboolean sg_jsonrpc_param_uint(SgJsonrpcCall *call, JsonObject *params, const char *key, guint max,
                               guint *ret_value);
