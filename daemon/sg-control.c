/* SPDX-License-Identifier: MIT */
/* The control socket: JSON-RPC 2.0 over a Unix stream socket, on plain nonblocking fds. */
#include "config.h"

#include "sg-control.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sg-error.h"
#include "sg-json.h"
#include "sg-logs.h"
#include "sg-operation.h"
#include "sg-paths.h"
#include "sg-sockaddr.h"
#include "sg-status.h"

#define JSONRPC_PARSE_ERROR      -32700
#define JSONRPC_INVALID_REQUEST  -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS   -32602

#define READ_CHUNK      65536
#define ACCEPT_RETRY_MS 1000

typedef struct _Client Client;
typedef struct _Call Call;

struct _SgControl {
	SgSupervisor *supervisor;
	SgEngine *engine;
	char *state_dir;
	char *socket_path;
	gint64 started_at;
	SgControlShutdownFunc shutdown;
	gpointer shutdown_data;

	int listen_fd;
	guint listen_id;
	guint accept_retry; /* on the engine clock, after EMFILE */
	GList *clients;     /* Client*, each holding one reference */
	guint n_clients;
	GList *calls; /* Call* not answered yet */
	gulong state_handler;
	gulong cron_handler;
	gulong added_handler;
	gulong removed_handler;
	gulong reloaded_handler;
};

struct _Client {
	int refcount;
	SgControl *control; /* NULL once closed */
	int fd;
	pid_t pid;
	GSource *source;
	gpointer tag;
	GByteArray *in;
	gsize scanned; /* bytes of in known to hold no newline */
	GString *out;
	gsize out_pos;
	gboolean busy;       /* a call is being answered: later requests wait their turn */
	gboolean processing; /* inside client_process() */
	gboolean eof;
	gboolean subscribed;
	guint resume_id;
};

struct _Call {
	SgControl *control; /* NULL once the server is gone */
	Client *client;
	JsonNode *id; /* NULL for a notification: no answer */
	GList *link;
	SgOperation *operation; /* a start, stop or restart not done yet */
};

static void client_process(Client *client);
static void client_update_events(Client *client);
static gboolean client_flush(Client *client);
static void client_close(Client *client);
static void call_finish(Call *call);

/* ---- clients ---- */

static Client *
client_ref(Client *client)
{
	client->refcount++;
	return client;
}

static void
client_unref(Client *client)
{
	if (--client->refcount > 0)
		return;
	g_byte_array_unref(client->in);
	g_string_free(client->out, TRUE);
	g_free(client);
}

static gboolean
client_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	return callback(user_data);
}

static GSourceFuncs client_source_funcs = {
	.dispatch = client_source_dispatch,
};

static void listen_start(SgControl *control);

static void
client_close(Client *client)
{
	SgControl *control = client->control;

	if (control == NULL)
		return;
	client->control = NULL;
	control->clients = g_list_remove(control->clients, client);
	control->n_clients--;
	g_source_destroy(client->source);
	g_clear_pointer(&client->source, g_source_unref);
	close(client->fd);
	client->fd = -1;
	/* Accepting may have paused at the client limit. */
	if (control->listen_id == 0 && control->accept_retry == 0 && control->listen_fd >= 0)
		listen_start(control);
	client_unref(client);
}

/* Queues one line; a client that lets too much pile up is dropped. */
static void
client_send(Client *client, const char *text, gsize len)
{
	SgControl *control = client->control;

	if (control == NULL)
		return;
	/* Checked before appending, so one answer larger than the limit still goes out. */
	if (client->out->len - client->out_pos > SG_CONTROL_OUTPUT_MAX) {
		sg_engine_log(control->engine, SG_LOG_WARN,
		              "control client (PID %d) does not read its answers: more than %d "
		              "bytes pending; disconnected",
		              (int)client->pid, SG_CONTROL_OUTPUT_MAX);
		client_close(client);
		return;
	}
	g_string_append_len(client->out, text, (gssize)len);
	g_string_append_c(client->out, '\n');
	if (client_flush(client))
		client_update_events(client);
}

static void
client_send_node(Client *client, JsonNode *node)
{
	gsize len;
	g_autofree char *text = NULL;

	if (client->control == NULL)
		return;
	text = json_to_string(node, FALSE);
	len = strlen(text);
	client_send(client, text, len);
}

/* Writes what it can; FALSE when the client was closed. */
static gboolean
client_flush(Client *client)
{
	while (client->control != NULL && client->out_pos < client->out->len) {
		ssize_t n = send(client->fd, client->out->str + client->out_pos,
		                 client->out->len - client->out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return TRUE;
		if (n < 0) {
			sg_engine_log(client->control->engine, SG_LOG_DEBUG,
			              "control client (PID %d): write failed: %s", (int)client->pid,
			              g_strerror(errno));
			client_close(client);
			return FALSE;
		}
		client->out_pos += (gsize)n;
	}
	if (client->control == NULL)
		return FALSE;
	if (client->out_pos == client->out->len) {
		g_string_truncate(client->out, 0);
		client->out_pos = 0;
		/* A client that said all it had to say is done once it has every answer. */
		if (client->eof && !client->busy) {
			client_close(client);
			return FALSE;
		}
	} else if (client->out_pos > 65536 && client->out_pos * 2 > client->out->len) {
		g_string_erase(client->out, 0, (gssize)client->out_pos);
		client->out_pos = 0;
	}
	return TRUE;
}

static void
client_update_events(Client *client)
{
	GIOCondition events = 0;

	if (client->control == NULL)
		return;
	/* A busy client's further requests wait in the buffer, up to one line's worth. */
	if (!client->eof && client->in->len <= SG_CONTROL_LINE_MAX)
		events |= G_IO_IN;
	if (client->out_pos < client->out->len)
		events |= G_IO_OUT;
	g_source_modify_unix_fd(client->source, client->tag, events);
}

/* Reads what is there; FALSE when the client was closed. */
static gboolean
client_read(Client *client)
{
	while (!client->eof && client->in->len <= SG_CONTROL_LINE_MAX) {
		guint old_len = client->in->len;
		ssize_t n;

		g_byte_array_set_size(client->in, old_len + READ_CHUNK);
		n = recv(client->fd, client->in->data + old_len, READ_CHUNK, MSG_DONTWAIT);
		g_byte_array_set_size(client->in, old_len + (n > 0 ? (guint)n : 0));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			sg_engine_log(client->control->engine, SG_LOG_DEBUG,
			              "control client (PID %d): read failed: %s", (int)client->pid,
			              g_strerror(errno));
			client_close(client);
			return FALSE;
		}
		if (n == 0)
			client->eof = TRUE;
	}
	return TRUE;
}

static gboolean
client_io_cb(gpointer user_data)
{
	Client *client = user_data;
	GIOCondition revents;

	if (client->control == NULL)
		return G_SOURCE_REMOVE;
	revents = g_source_query_unix_fd(client->source, client->tag);
	client_ref(client);
	if ((revents & G_IO_OUT) && !client_flush(client))
		goto out;
	if ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !client_read(client))
		goto out;
	client_process(client);
	if (client->control != NULL && (revents & (G_IO_HUP | G_IO_ERR))) {
		/* Gone for good: what it asked is done, but nobody is left to answer. */
		client_close(client);
		goto out;
	}
	if (client->control != NULL && client_flush(client))
		client_update_events(client);
out:
	client_unref(client);
	return G_SOURCE_CONTINUE;
}

static void
client_new(SgControl *control, int fd, pid_t pid)
{
	Client *client = g_new0(Client, 1);

	client->refcount = 1;
	client->control = control;
	client->fd = fd;
	client->pid = pid;
	client->in = g_byte_array_new();
	client->out = g_string_new(NULL);
	client->source = g_source_new(&client_source_funcs, sizeof(GSource));
	g_source_set_static_name(client->source, "sg-control client");
	client->tag = g_source_add_unix_fd(client->source, fd, G_IO_IN);
	g_source_set_callback(client->source, client_io_cb, client, NULL);
	g_source_attach(client->source, NULL);
	control->clients = g_list_prepend(control->clients, client);
	control->n_clients++;
}

/* ---- answers ---- */

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

/* An error object; data.name for the systemg codes, extra (taken) merged into data. */
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
send_error(Client *client, JsonNode *id, int code, const char *message, const char *dbus_name,
           JsonObject *extra)
{
	g_autoptr(JsonNode) reply =
	        message_new(id, "error", error_node(code, message, dbus_name, extra));

	client_send_node(client, reply);
}

static void
call_free(Call *call)
{
	if (call->control != NULL)
		call->control->calls = g_list_delete_link(call->control->calls, call->link);
	g_clear_pointer(&call->operation, sg_operation_cancel);
	g_clear_pointer(&call->id, json_node_unref);
	client_unref(call->client);
	g_free(call);
}

static gboolean
client_resume_cb(gpointer user_data)
{
	Client *client = user_data;

	client->resume_id = 0;
	if (client->control != NULL) {
		client_process(client);
		if (client->control != NULL && client_flush(client))
			client_update_events(client);
	}
	return G_SOURCE_REMOVE;
}

/* The call is answered: the client's next request may go. */
static void
call_finish(Call *call)
{
	Client *client = client_ref(call->client);

	call_free(call);
	client->busy = FALSE;
	/*
	 * Not from here: an answer may come from inside a supervisor signal, and the next
	 * request may change the engine again.
	 */
	if (client->control != NULL && !client->processing && client->resume_id == 0)
		client->resume_id =
		        g_idle_add_full(G_PRIORITY_DEFAULT, client_resume_cb, client_ref(client),
		                        (GDestroyNotify)client_unref);
	client_unref(client);
}

/* Answers with result (taken) and finishes the call. */
static void
call_return(Call *call, JsonNode *result)
{
	if (call->id != NULL) {
		g_autoptr(JsonNode) reply = message_new(call->id, "result", result);
		client_send_node(call->client, reply);
	} else {
		json_node_unref(result);
	}
	call_finish(call);
}

static void
call_return_empty(Call *call)
{
	JsonNode *empty = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(empty, json_object_new());
	call_return(call, empty);
}

static void
call_fail_full(Call *call, int code, const char *message, const char *dbus_name, JsonObject *extra)
{
	if (call->id != NULL)
		send_error(call->client, call->id, code, message, dbus_name, extra);
	else if (extra != NULL)
		json_object_unref(extra);
	call_finish(call);
}

static void
call_fail(Call *call, const GError *error)
{
	SgErrorCode code = error->domain == SG_ERROR ? (SgErrorCode)error->code : SG_ERROR_FAILED;
	int rpc = sg_error_jsonrpc_code(code);

	call_fail_full(call, rpc, error->message,
	               rpc <= -32001 && rpc >= -32099 ? sg_error_dbus_name(code) : NULL, NULL);
}

static void call_fail_printf(Call *call, SgErrorCode code, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

static void
call_fail_printf(Call *call, SgErrorCode code, const char *format, ...)
{
	g_autoptr(GError) error = NULL;
	va_list args;

	va_start(args, format);
	error = g_error_new_valist(SG_ERROR, code, format, args);
	va_end(args);
	call_fail(call, error);
}

/* ---- parameters ---- */

/* A string parameter: absent or null gives NULL; another type is a usage error. */
static gboolean
param_string(Call *call, JsonObject *params, const char *key, const char **ret_value)
{
	JsonNode *node = params != NULL ? json_object_get_member(params, key) : NULL;

	*ret_value = NULL;
	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
		call_fail_printf(call, SG_ERROR_USAGE, _("parameter \"%s\" must be a string"), key);
		return FALSE;
	}
	*ret_value = json_node_get_string(node);
	return TRUE;
}

static gboolean
param_uint(Call *call, JsonObject *params, const char *key, guint max, guint *ret_value)
{
	JsonNode *node = params != NULL ? json_object_get_member(params, key) : NULL;
	gint64 value;

	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return TRUE;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
	    (value = json_node_get_int(node)) < 0) {
		call_fail_printf(call, SG_ERROR_USAGE,
		                 _("parameter \"%s\" must be a non-negative integer"), key);
		return FALSE;
	}
	*ret_value = (guint)MIN(value, (gint64)max);
	return TRUE;
}

static SgService *
param_service(Call *call, JsonObject *params, gboolean required, gboolean *ret_ok)
{
	const char *name;
	SgService *service;

	*ret_ok = FALSE;
	if (!param_string(call, params, "name", &name))
		return NULL;
	if (name == NULL) {
		if (required) {
			call_fail_printf(call, SG_ERROR_USAGE, _("parameter \"%s\" is required"),
			                 "name");
			return NULL;
		}
		*ret_ok = TRUE;
		return NULL;
	}
	service = sg_supervisor_lookup(call->control->supervisor, name);
	if (service == NULL) {
		call_fail_printf(call, SG_ERROR_NO_SUCH_SERVICE, _("no such service: %s"), name);
		return NULL;
	}
	*ret_ok = TRUE;
	return service;
}

/* ---- start, stop, restart ---- */

static void
operation_done_cb(const GError *error, JsonNode *failed, gpointer user_data)
{
	Call *call = user_data;

	/* The operation frees itself. */
	call->operation = NULL;
	if (error == NULL) {
		call_return_empty(call);
	} else if (failed != NULL) {
		JsonObject *extra = json_object_new();

		json_object_set_member(extra, "services", json_node_copy(failed));
		call_fail_full(call, sg_error_jsonrpc_code(SG_ERROR_FAILED), error->message,
		               sg_error_dbus_name(SG_ERROR_FAILED), extra);
	} else {
		call_fail(call, error);
	}
}

static void
call_operation(Call *call, SgOperationKind kind, SgService *service)
{
	call->operation = sg_operation_new(call->control->supervisor, kind,
	                                   service != NULL ? sg_service_get_name(service) : NULL,
	                                   operation_done_cb, call);
	sg_operation_run(call->operation);
}

static void
method_start(Call *call, JsonObject *params)
{
	gboolean ok;
	SgService *service = param_service(call, params, FALSE, &ok);

	if (ok)
		call_operation(call, SG_OPERATION_START, service);
}

static void
method_stop(Call *call, JsonObject *params)
{
	gboolean ok;
	SgService *service = param_service(call, params, FALSE, &ok);

	if (ok)
		call_operation(call, SG_OPERATION_STOP, service);
}

static void
method_restart(Call *call, JsonObject *params)
{
	gboolean ok;
	SgService *service = param_service(call, params, FALSE, &ok);

	if (ok)
		call_operation(call, SG_OPERATION_RESTART, service);
}

/* ---- the other methods ---- */

static void
method_list_services(Call *call, JsonObject *params)
{
	call_return(call, sg_status_list(call->control->supervisor));
}

static void
method_get_service(Call *call, JsonObject *params)
{
	gboolean ok;
	SgService *service = param_service(call, params, TRUE, &ok);

	if (!ok)
		return;
	call_return(call, sg_status_service(call->control->supervisor, service));
}

static void
method_status(Call *call, JsonObject *params)
{
	SgControl *control = call->control;
	const char *config_path = sg_supervisor_get_config_path(control->supervisor);

	call_return(call,
	            sg_status_all(control->supervisor, *config_path != '\0' ? config_path : NULL,
	                          control->started_at));
}

static void
method_reload(Call *call, JsonObject *params)
{
	const char *config;

	g_autoptr(GError) error = NULL;

	if (!param_string(call, params, "config", &config))
		return;
	if (!sg_supervisor_reload(call->control->supervisor, config, &error)) {
		call_fail(call, error);
		return;
	}
	call_return_empty(call);
}

static void
method_shutdown(Call *call, JsonObject *params)
{
	SgControl *control = call->control;

	call_return_empty(call);
	if (control->shutdown != NULL)
		control->shutdown(control->shutdown_data);
}

static void
method_subscribe(Call *call, JsonObject *params)
{
	call->client->subscribed = TRUE;
	call_return_empty(call);
}

/* {"lines": [...], "files": [{"kind", "path", "count"}]}: which lines came from which file. */
static void
respond_logs(Call *call, const SgLogs *logs)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "lines");
	json_builder_begin_array(builder);
	for (guint i = 0; i < logs->lines->len; i++)
		json_builder_add_string_value(builder, logs->lines->pdata[i]);
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "files");
	json_builder_begin_array(builder);
	for (guint i = 0; logs->kinds[i] != NULL; i++) {
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "kind");
		json_builder_add_string_value(builder, logs->kinds[i]);
		json_builder_set_member_name(builder, "path");
		json_builder_add_string_value(builder, logs->paths[i]);
		json_builder_set_member_name(builder, "count");
		json_builder_add_int_value(builder, logs->counts[i]);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	call_return(call, json_builder_get_root(builder));
}

static void
method_logs(Call *call, JsonObject *params)
{
	g_autoptr(SgLogs) logs = NULL;
	g_autoptr(GError) error = NULL;
	const char *kind;
	SgService *service;
	guint n = SG_LOGS_LINES_DEFAULT;
	gboolean ok;

	service = param_service(call, params, FALSE, &ok);
	if (!ok || !param_string(call, params, "kind", &kind) ||
	    !param_uint(call, params, "lines", SG_CONTROL_LOG_LINES_MAX, &n))
		return;
	logs = sg_logs_read(call->control->engine, service, kind, n, &error);
	if (logs == NULL) {
		call_fail(call, error);
		return;
	}
	respond_logs(call, logs);
}

typedef struct {
	const char *name;
	void (*func)(Call *call, JsonObject *params);
	const char *params[4];
} Method;

static const Method methods[] = {
	{ "list_services", method_list_services, { NULL } },
	{ "get_service", method_get_service, { "name", NULL } },
	{ "start", method_start, { "name", NULL } },
	{ "stop", method_stop, { "name", NULL } },
	{ "restart", method_restart, { "name", NULL } },
	{ "reload", method_reload, { "config", NULL } },
	{ "shutdown", method_shutdown, { NULL } },
	{ "status", method_status, { NULL } },
	{ "logs", method_logs, { "name", "kind", "lines", NULL } },
	{ "subscribe", method_subscribe, { NULL } },
};

static gboolean
params_known(Call *call, const Method *method, JsonObject *params)
{
	JsonObjectIter iter;
	const char *key;

	if (params == NULL)
		return TRUE;
	json_object_iter_init(&iter, params);
	while (json_object_iter_next(&iter, &key, NULL)) {
		if (!g_strv_contains((const char *const *)method->params, key)) {
			call_fail_printf(call, SG_ERROR_USAGE, _("unknown parameter \"%s\" of %s"),
			                 key, method->name);
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

static void
handle_request(Client *client, const char *line, gsize len)
{
	SgControl *control = client->control;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	const Method *method = NULL;
	JsonObject *request, *params = NULL;
	JsonNode *id, *node;
	const char *method_name;
	Call *call;

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

	call = g_new0(Call, 1);
	call->control = control;
	call->client = client_ref(client);
	call->id = id != NULL ? json_node_copy(id) : NULL;
	control->calls = g_list_prepend(control->calls, call);
	call->link = control->calls;
	client->busy = TRUE;

	for (guint i = 0; i < G_N_ELEMENTS(methods); i++)
		if (strcmp(methods[i].name, method_name) == 0)
			method = &methods[i];
	if (method == NULL) {
		g_autofree char *message = g_strdup_printf(_("unknown method: %s"), method_name);
		call_fail_full(call, JSONRPC_METHOD_NOT_FOUND, message, NULL, NULL);
		return;
	}
	node = json_object_get_member(request, "params");
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node)) {
		params = json_node_get_object(node);
	} else if (node != NULL && !JSON_NODE_HOLDS_NULL(node)) {
		call_fail_printf(call, SG_ERROR_USAGE, _("\"params\" must be an object"));
		return;
	}
	if (!params_known(call, method, params))
		return;
	sg_engine_log(control->engine, SG_LOG_DEBUG, "control client (PID %d): %s",
	              (int)client->pid, method->name);
	method->func(call, params);
}

static gboolean
line_is_blank(const char *line, gsize len)
{
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isspace(line[i]))
			return FALSE;
	return TRUE;
}

/* Answers every complete line in order, one call at a time. */
static void
client_process(Client *client)
{
	gsize start = 0;

	client_ref(client);
	client->processing = TRUE;
	while (client->control != NULL && !client->busy) {
		gsize from = MAX(start, client->scanned);
		const guint8 *newline =
		        from < client->in->len
		                ? memchr(client->in->data + from, '\n', client->in->len - from)
		                : NULL;
		gsize end = newline != NULL ? (gsize)(newline - client->in->data) : client->in->len;
		gsize len = end - start;

		if (newline == NULL)
			client->scanned = client->in->len;
		if (len > SG_CONTROL_LINE_MAX) {
			sg_engine_log(client->control->engine, SG_LOG_WARN,
			              "control client (PID %d) sent a line longer than %d bytes; "
			              "disconnected",
			              (int)client->pid, SG_CONTROL_LINE_MAX);
			client_close(client);
			break;
		}
		/* At end of input, a last line without its newline still counts. */
		if (newline == NULL && (!client->eof || len == 0))
			break;
		{
			const char *line = (const char *)client->in->data + start;
			gsize line_len = len > 0 && line[len - 1] == '\r' ? len - 1 : len;

			start = newline != NULL ? end + 1 : end;
			if (!line_is_blank(line, line_len))
				handle_request(client, line, line_len);
		}
	}
	if (start > 0) {
		g_byte_array_remove_range(client->in, 0, (guint)start);
		client->scanned = client->scanned > start ? client->scanned - start : 0;
	}
	client->processing = FALSE;
	client_unref(client);
}

/* ---- notifications ---- */

/* {"jsonrpc": "2.0", "method": method, "params": {: the caller adds the params' members. */
static JsonBuilder *
notification_begin(const char *method)
{
	JsonBuilder *builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "jsonrpc");
	json_builder_add_string_value(builder, "2.0");
	json_builder_set_member_name(builder, "method");
	json_builder_add_string_value(builder, method);
	json_builder_set_member_name(builder, "params");
	json_builder_begin_object(builder);
	return builder;
}

/* Closes the notification and sends it to every subscriber. */
static void
notification_send(SgControl *control, JsonBuilder *builder)
{
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;
	GList *next;

	json_builder_end_object(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	text = json_to_string(root, FALSE);
	for (GList *l = control->clients; l != NULL; l = next) {
		Client *client = l->data;

		next = l->next;
		if (client->subscribed)
			client_send(client, text, strlen(text));
	}
}

static void
add_string_member(JsonBuilder *builder, const char *name, const char *value)
{
	json_builder_set_member_name(builder, name);
	json_builder_add_string_value(builder, value);
}

static gboolean
has_subscribers(SgControl *control)
{
	for (GList *l = control->clients; l != NULL; l = l->next)
		if (((Client *)l->data)->subscribed)
			return TRUE;
	return FALSE;
}

static void
state_changed_cb(SgSupervisor *supervisor, SgService *service, guint old_state, guint new_state,
                 gpointer user_data)
{
	SgControl *control = user_data;
	g_autoptr(JsonBuilder) builder = NULL;

	if (!has_subscribers(control))
		return;
	builder = notification_begin("service_state_changed");
	add_string_member(builder, "name", sg_service_get_name(service));
	add_string_member(builder, "old_state", sg_service_state_to_string(old_state));
	add_string_member(builder, "new_state", sg_service_state_to_string(new_state));
	notification_send(control, builder);
}

static void
cron_finished_cb(SgSupervisor *supervisor, SgService *service, const char *result, int exit_code,
                 gint64 started_usec, gint64 finished_usec, gpointer user_data)
{
	SgControl *control = user_data;
	g_autoptr(JsonBuilder) builder = NULL;

	if (!has_subscribers(control))
		return;
	builder = notification_begin("cron_job_finished");
	add_string_member(builder, "name", sg_service_get_name(service));
	add_string_member(builder, "result", result);
	sg_json_builder_add_int_or_null(builder, "exit_code", exit_code, exit_code >= 0);
	sg_json_builder_add_time(builder, "started_at", started_usec);
	sg_json_builder_add_time(builder, "finished_at", finished_usec);
	notification_send(control, builder);
}

/* Sends a notification whose only parameter is one string. */
static void
notify_one(SgControl *control, const char *method, const char *key, const char *value)
{
	g_autoptr(JsonBuilder) builder = NULL;

	if (!has_subscribers(control))
		return;
	builder = notification_begin(method);
	add_string_member(builder, key, value);
	notification_send(control, builder);
}

static void
service_added_cb(SgSupervisor *supervisor, SgService *service, gpointer user_data)
{
	notify_one(user_data, "service_added", "name", sg_service_get_name(service));
}

static void
service_removed_cb(SgSupervisor *supervisor, const char *name, gpointer user_data)
{
	notify_one(user_data, "service_removed", "name", name);
}

static void
reloaded_cb(SgSupervisor *supervisor, const char *config_path, gpointer user_data)
{
	notify_one(user_data, "reloaded", "config", config_path);
}

/* ---- listening ---- */

static gboolean accept_cb(int fd, GIOCondition condition, gpointer user_data);

static void
listen_start(SgControl *control)
{
	if (control->listen_id == 0)
		control->listen_id = g_unix_fd_add(control->listen_fd, G_IO_IN, accept_cb, control);
}

static void
accept_retry_cb(gpointer user_data)
{
	SgControl *control = user_data;

	control->accept_retry = 0;
	listen_start(control);
}

static void
accept_pause(SgControl *control, gboolean retry)
{
	g_clear_handle_id(&control->listen_id, g_source_remove);
	if (retry && control->accept_retry == 0)
		control->accept_retry = sg_clock_add_timeout(
		        control->engine->clock, ACCEPT_RETRY_MS, accept_retry_cb, control);
}

static gboolean
accept_cb(int listen_fd, GIOCondition condition, gpointer user_data)
{
	SgControl *control = user_data;

	for (;;) {
		struct ucred cred;
		socklen_t cred_len = sizeof(cred);
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				sg_engine_log(control->engine, SG_LOG_WARN,
				              "control socket: cannot accept a client: %s",
				              g_strerror(errno));
				/* Not a spin: listening again when a client leaves, or later. */
				control->listen_id = 0;
				accept_pause(control, TRUE);
				return G_SOURCE_REMOVE;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sg_engine_log(control->engine, SG_LOG_WARN,
				              "control socket: accept failed: %s",
				              g_strerror(errno));
			return G_SOURCE_CONTINUE;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0) {
			sg_engine_log(control->engine, SG_LOG_WARN,
			              "control socket: cannot identify a client: %s",
			              g_strerror(errno));
			close(fd);
			continue;
		}
		if (cred.uid != geteuid()) {
			sg_engine_log(control->engine, SG_LOG_WARN,
			              "control socket: refused a client of UID %u (PID %d): only "
			              "UID %u is served",
			              (unsigned)cred.uid, (int)cred.pid, (unsigned)geteuid());
			close(fd);
			continue;
		}
		if (control->n_clients >= SG_CONTROL_CLIENTS_MAX) {
			sg_engine_log(control->engine, SG_LOG_WARN,
			              "control socket: %d clients connected; refused PID %d",
			              SG_CONTROL_CLIENTS_MAX, (int)cred.pid);
			close(fd);
			control->listen_id = 0;
			accept_pause(control, FALSE);
			return G_SOURCE_REMOVE;
		}
		client_new(control, fd, cred.pid);
	}
}

static gboolean
bind_socket(SgControl *control, GError **error)
{
	struct sockaddr_un addr;
	socklen_t len;
	int dir_fd = -1;
	mode_t old_mask;
	int rc, saved;

	if (!sg_sockaddr_control(control->state_dir, &addr, &len, &dir_fd, error))
		return FALSE;
	control->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (control->listen_fd < 0) {
		saved = errno;
		if (dir_fd >= 0)
			close(dir_fd);
		return sg_error_set_errno(error, -saved, _("cannot create the control socket"));
	}
	if (unlink(control->socket_path) < 0 && errno != ENOENT)
		sg_engine_log(control->engine, SG_LOG_WARN, "cannot remove %s: %s",
		              control->socket_path, g_strerror(errno));
	/* Created 0600 from the start: no instant where another user could connect. */
	old_mask = umask(0177);
	rc = bind(control->listen_fd, (struct sockaddr *)&addr, len);
	saved = errno;
	umask(old_mask);
	if (dir_fd >= 0)
		close(dir_fd);
	if (rc < 0)
		return sg_error_set_errno(error, -saved, _("cannot bind the control socket %s"),
		                          control->socket_path);
	if (fchmodat(AT_FDCWD, control->socket_path, 0600, AT_SYMLINK_NOFOLLOW) < 0 ||
	    listen(control->listen_fd, SOMAXCONN) < 0) {
		saved = errno;
		unlink(control->socket_path);
		return sg_error_set_errno(error, -saved,
		                          _("cannot listen on the control socket %s"),
		                          control->socket_path);
	}
	return TRUE;
}

SgControl *
sg_control_new(SgSupervisor *supervisor, gint64 started_at_usec, SgControlShutdownFunc shutdown,
               gpointer shutdown_data, GError **error)
{
	SgControl *control = g_new0(SgControl, 1);
	SgEngine *engine = sg_supervisor_get_engine(supervisor);

	control->supervisor = g_object_ref(supervisor);
	control->engine = engine;
	control->state_dir = g_strdup(engine->state_dir);
	control->socket_path = sg_paths_state_file(engine->state_dir, SG_STATE_SOCKET);
	control->started_at = started_at_usec;
	control->shutdown = shutdown;
	control->shutdown_data = shutdown_data;
	control->listen_fd = -1;
	if (!bind_socket(control, error)) {
		if (control->listen_fd >= 0)
			close(control->listen_fd);
		control->listen_fd = -1;
		sg_control_free(control);
		return NULL;
	}
	control->state_handler = g_signal_connect(supervisor, "service-state-changed",
	                                          G_CALLBACK(state_changed_cb), control);
	control->cron_handler = g_signal_connect(supervisor, "cron-job-finished",
	                                         G_CALLBACK(cron_finished_cb), control);
	control->added_handler = g_signal_connect(supervisor, "service-added",
	                                          G_CALLBACK(service_added_cb), control);
	control->removed_handler = g_signal_connect(supervisor, "service-removed",
	                                            G_CALLBACK(service_removed_cb), control);
	control->reloaded_handler =
	        g_signal_connect(supervisor, "reloaded", G_CALLBACK(reloaded_cb), control);
	listen_start(control);
	return control;
}

void
sg_control_set_shutting_down(SgControl *control)
{
	if (control != NULL)
		sg_operation_set_shutting_down(control->supervisor);
}

guint
sg_control_client_count(SgControl *control)
{
	return control->n_clients;
}

void
sg_control_free(SgControl *control)
{
	if (control == NULL)
		return;
	g_clear_signal_handler(&control->state_handler, control->supervisor);
	g_clear_signal_handler(&control->cron_handler, control->supervisor);
	g_clear_signal_handler(&control->added_handler, control->supervisor);
	g_clear_signal_handler(&control->removed_handler, control->supervisor);
	g_clear_signal_handler(&control->reloaded_handler, control->supervisor);
	g_clear_handle_id(&control->listen_id, g_source_remove);
	sg_clock_clear(control->engine->clock, &control->accept_retry);
	if (control->listen_fd >= 0) {
		close(control->listen_fd);
		control->listen_fd = -1;
		if (unlink(control->socket_path) < 0 && errno != ENOENT)
			sg_engine_log(control->engine, SG_LOG_WARN, "cannot remove %s: %s",
			              control->socket_path, g_strerror(errno));
	}
	/* Unanswered calls go; their operations run to their end unanswered. */
	while (control->calls != NULL) {
		Call *call = control->calls->data;

		control->calls = g_list_delete_link(control->calls, control->calls);
		call->control = NULL;
		call_free(call);
	}
	while (control->clients != NULL) {
		Client *client = client_ref(control->clients->data);

		/* Last answers (shutdown's) go out if the socket takes them now. */
		client_flush(client);
		client_close(client);
		g_clear_handle_id(&client->resume_id, g_source_remove);
		client_unref(client);
	}
	g_object_unref(control->supervisor);
	g_free(control->state_dir);
	g_free(control->socket_path);
	g_free(control);
}
