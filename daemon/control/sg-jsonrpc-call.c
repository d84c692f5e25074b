/* SPDX-License-Identifier: MIT */
/* JSON-RPC requests: the envelope, dispatch through the method table, answers and errors. */
#include "config.h"

#include "control/sg-jsonrpc-private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "base/sg-json.h"

#define JSONRPC_PARSE_ERROR      -32700
#define JSONRPC_INVALID_REQUEST  -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS   -32602

/* ---- answers ---- */

static void
client_send_node(SgJsonrpcClient *client, JsonNode *node)
{
	gsize len;
	g_autofree char *text = NULL;

	if (client->server == NULL)
		return;
	text = json_to_string(node, FALSE);
	len = strlen(text);
	sg_jsonrpc_client_send(client, text, len);
}

static JsonNode *
message_new(JsonNode *id, const char *member, JsonNode *value)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "jsonrpc");
	json_builder_add_string_value(builder, "2.0");
	json_builder_set_member_name(builder, "id");
	if (id != NULL)
		json_builder_add_value(builder, json_node_copy(id));
	else
		json_builder_add_null_value(builder);
	json_builder_set_member_name(builder, member);
	json_builder_add_value(builder, value);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

/* data.name for the systemg codes, extra (taken) merged into data. */
static JsonNode *
error_node(int code, const char *message, const char *dbus_name, JsonObject *extra)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "code");
	json_builder_add_int_value(builder, code);
	json_builder_set_member_name(builder, "message");
	json_builder_add_string_value(builder, message);
	if (dbus_name != NULL) {
		json_builder_set_member_name(builder, "data");
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "name");
		json_builder_add_string_value(builder, dbus_name);
		if (extra != NULL) {
			JsonObjectIter iter;
			const char *key;
			JsonNode *value;

			json_object_iter_init(&iter, extra);
			while (json_object_iter_next(&iter, &key, &value)) {
				json_builder_set_member_name(builder, key);
				json_builder_add_value(builder, json_node_copy(value));
			}
		}
		json_builder_end_object(builder);
	}
	json_builder_end_object(builder);
	if (extra != NULL)
		json_object_unref(extra);
	return json_builder_get_root(builder);
}

static void
send_error(SgJsonrpcClient *client, JsonNode *id, int code, const char *message,
           const char *dbus_name, JsonObject *extra)
{
	g_autoptr(JsonNode) reply =
	        message_new(id, "error", error_node(code, message, dbus_name, extra));

	client_send_node(client, reply);
}

gpointer
sg_jsonrpc_call_get_user_data(SgJsonrpcCall *call)
{
	return call->server->user_data;
}

void
sg_jsonrpc_call_subscribe(SgJsonrpcCall *call)
{
	call->client->subscribed = TRUE;
}

void
sg_jsonrpc_call_set_pending(SgJsonrpcCall *call, gpointer pending, GDestroyNotify cancel)
{
	call->pending = pending;
	call->cancel = cancel;
}

void
sg_jsonrpc_call_free(SgJsonrpcCall *call)
{
	if (call->server != NULL)
		call->server->calls = g_list_delete_link(call->server->calls, call->link);
	if (call->pending != NULL)
		call->cancel(g_steal_pointer(&call->pending));
	g_clear_pointer(&call->id, json_node_unref);
	sg_jsonrpc_client_unref(call->client);
	g_free(call);
}

/* The call is answered: the client's next request may go. */
static void
call_finish(SgJsonrpcCall *call)
{
	SgJsonrpcClient *client = sg_jsonrpc_client_ref(call->client);

	sg_jsonrpc_call_free(call);
	sg_jsonrpc_client_call_done(client);
	sg_jsonrpc_client_unref(client);
}

void
sg_jsonrpc_call_return(SgJsonrpcCall *call, JsonNode *result)
{
	if (call->id != NULL) {
		g_autoptr(JsonNode) reply = message_new(call->id, "result", result);
		client_send_node(call->client, reply);
	} else {
		json_node_unref(result);
	}
	call_finish(call);
}

void
sg_jsonrpc_call_return_empty(SgJsonrpcCall *call)
{
	JsonNode *empty = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(empty, json_object_new());
	sg_jsonrpc_call_return(call, empty);
}

void
sg_jsonrpc_call_fail_full(SgJsonrpcCall *call, int code, const char *message, const char *dbus_name,
                          JsonObject *extra)
{
	if (call->id != NULL)
		send_error(call->client, call->id, code, message, dbus_name, extra);
	else if (extra != NULL)
		json_object_unref(extra);
	call_finish(call);
}

void
sg_jsonrpc_call_fail(SgJsonrpcCall *call, const GError *error)
{
	SgErrorCode code = error->domain == SG_ERROR ? (SgErrorCode)error->code : SG_ERROR_FAILED;
	int rpc = sg_error_jsonrpc_code(code);

	sg_jsonrpc_call_fail_full(call, rpc, error->message,
	                          rpc <= -32001 && rpc >= -32099 ? sg_error_dbus_name(code) : NULL,
	                          NULL);
}

void
sg_jsonrpc_call_fail_printf(SgJsonrpcCall *call, SgErrorCode code, const char *format, ...)
{
	g_autoptr(GError) error = NULL;
	va_list args;

	va_start(args, format);
	error = g_error_new_valist(SG_ERROR, code, format, args);
	va_end(args);
	sg_jsonrpc_call_fail(call, error);
}

/* ---- parameters ---- */

gboolean
sg_jsonrpc_param_string(SgJsonrpcCall *call, JsonObject *params, const char *key,
                        const char **ret_value)
{
	JsonNode *node = params != NULL ? json_object_get_member(params, key) : NULL;

	*ret_value = NULL;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
		sg_jsonrpc_call_fail_printf(call, SG_ERROR_USAGE,
		                            _("parameter \"%s\" must be a string"), key);
		return FALSE;
	}
	*ret_value = json_node_get_string(node);
	return TRUE;
}

gboolean
sg_jsonrpc_param_uint(SgJsonrpcCall *call, JsonObject *params, const char *key, guint max,
                      guint *ret_value)
{
	JsonNode *node = params != NULL ? json_object_get_member(params, key) : NULL;
	gint64 value;

	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
	    (value = json_node_get_int(node)) < 0) {
		sg_jsonrpc_call_fail_printf(call, SG_ERROR_USAGE,
		                            _("parameter \"%s\" must be a non-negative integer"),
		                            key);
		return FALSE;
	}
	*ret_value = (guint)MIN(value, (gint64)max);
	return TRUE;
}

static gboolean
params_known(SgJsonrpcCall *call, const SgJsonrpcMethod *method, JsonObject *params)
{
	JsonObjectIter iter;
	const char *key;

	if (params == NULL)
		return TRUE;
	json_object_iter_init(&iter, params);
	while (json_object_iter_next(&iter, &key, NULL)) {
		if (!g_strv_contains((const char *const *)method->params, key)) {
			sg_jsonrpc_call_fail_printf(call, SG_ERROR_USAGE,
			                            _("unknown parameter \"%s\" of %s"), key,
			                            method->name);
			return FALSE;
		}
	}
	return TRUE;
}

/* ---- requests ---- */

static gboolean
id_is_valid(JsonNode *id)
{
	if (JSON_NODE_HOLDS_NULL(id))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(id))
		return FALSE;
	/* Not a fraction or an exponent: the answer must carry the same id, exactly. */
	switch (json_node_get_value_type(id)) {
	case G_TYPE_STRING:
	case G_TYPE_INT64:
		return TRUE;
	default:
		return FALSE;
	}
}

void
sg_jsonrpc_handle_request(SgJsonrpcClient *client, const char *line, gsize len)
{
	SgJsonrpc *server = client->server;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	const SgJsonrpcMethod *method = NULL;
	JsonObject *request, *params = NULL;
	JsonNode *id, *node;
	const char *method_name;
	SgJsonrpcCall *call;

	/* Too deep is a parse error too: the text was refused unread, its id unknown. */
	root = sg_json_parse(line, len, SG_CONTROL_LINE_MAX, SG_JSON_PARSE_IMMUTABLE, &error);
	if (root == NULL) {
		g_autofree char *message = g_strdup_printf(_("parse error: %s"), error->message);
		send_error(client, NULL, JSONRPC_PARSE_ERROR, message, NULL, NULL);
		return;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		send_error(client, NULL, JSONRPC_INVALID_REQUEST,
		           _("invalid request: not a JSON object"), NULL, NULL);
		return;
	}
	request = json_node_get_object(root);
	id = json_object_get_member(request, "id");
	if (id != NULL && !id_is_valid(id)) {
		send_error(client, NULL, JSONRPC_INVALID_REQUEST,
		           _("invalid request: id must be a string, an integer or null"), NULL,
		           NULL);
		return;
	}
	node = json_object_get_member(request, "jsonrpc");
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING ||
	    strcmp(json_node_get_string(node), "2.0") != 0) {
		send_error(client, id, JSONRPC_INVALID_REQUEST,
		           _("invalid request: \"jsonrpc\" must be \"2.0\""), NULL, NULL);
		return;
	}
	node = json_object_get_member(request, "method");
	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING) {
		send_error(client, id, JSONRPC_INVALID_REQUEST,
		           _("invalid request: \"method\" must be a string"), NULL, NULL);
		return;
	}
	method_name = json_node_get_string(node);

	call = g_new0(SgJsonrpcCall, 1);
	call->server = server;
	call->client = sg_jsonrpc_client_ref(client);
	call->id = id != NULL ? json_node_copy(id) : NULL;
	server->calls = g_list_prepend(server->calls, call);
	call->link = server->calls;
	client->busy = TRUE;

	for (guint i = 0; i < server->n_methods; i++)
		if (strcmp(server->methods[i].name, method_name) == 0)
			method = &server->methods[i];
	if (method == NULL) {
		g_autofree char *message = g_strdup_printf(_("unknown method: %s"), method_name);
		sg_jsonrpc_call_fail_full(call, JSONRPC_METHOD_NOT_FOUND, message, NULL, NULL);
		return;
	}
	node = json_object_get_member(request, "params");
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
		params = json_node_get_object(node);
	} else if (node != NULL && !JSON_NODE_HOLDS_NULL(node)) {
		sg_jsonrpc_call_fail_printf(call, SG_ERROR_USAGE,
		                            _("\"params\" must be an object"));
		return;
	}
	if (!params_known(call, method, params))
		return;
	sg_context_log(server->context, SG_LOG_DEBUG, "control client (PID %d): %s",
	               (int)client->pid, method->name);
	method->func(call, params);
}
