/* SPDX-License-Identifier: MIT */
/* The control socket's methods (SPEC section 6) over the JSON-RPC server of sg-jsonrpc. */
#include "config.h"

#include "control/sg-control.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "base/sg-error.h"
#include "base/sg-json.h"
#include "base/sg-limits.h"
#include "control/sg-jsonrpc.h"

struct _SgControl {
	SgApi *api;
	SgSupervisor *supervisor; /* for its signals: the notifications */
	SgJsonrpc *server;
	gulong state_handler;
	gulong cron_handler;
	gulong added_handler;
	gulong removed_handler;
	gulong reloaded_handler;
};

typedef SgJsonrpcCall Call;

static SgControl *
control_of(Call *call)
{
	return sg_jsonrpc_call_get_user_data(call);
}

/* ---- parameters ---- */

static SgService *
param_service(Call *call, JsonObject *params, gboolean required, gboolean *ret_ok)
{
	const char *name;
	SgService *service;

	*ret_ok = FALSE;
	if (!sg_jsonrpc_param_string(call, params, "name", &name))
		return NULL;
	if (name == NULL) {
		if (required) {
			sg_jsonrpc_call_fail_printf(call, SG_ERROR_USAGE,
			                            _("parameter \"%s\" is required"), "name");
			return NULL;
		}
		*ret_ok = TRUE;
		return NULL;
	}
	service = sg_api_lookup(control_of(call)->api, name);
	if (service == NULL) {
		sg_jsonrpc_call_fail_printf(call, SG_ERROR_NO_SUCH_SERVICE,
		                            _("no such service: %s"), name);
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
	sg_jsonrpc_call_set_pending(call, NULL, NULL);
	if (error == NULL) {
		sg_jsonrpc_call_return_empty(call);
	} else if (failed != NULL) {
		JsonObject *extra = json_object_new();

		json_object_set_member(extra, "services", json_node_copy(failed));
		sg_jsonrpc_call_fail_full(call, sg_error_jsonrpc_code(SG_ERROR_FAILED),
		                          error->message, sg_error_dbus_name(SG_ERROR_FAILED),
		                          extra);
	} else {
		sg_jsonrpc_call_fail(call, error);
	}
}

static void
call_operation(Call *call, SgOperationKind kind, SgService *service)
{
	SgOperation *operation = sg_api_operation_new(
	        control_of(call)->api, kind, service != NULL ? sg_service_get_name(service) : NULL,
	        operation_done_cb, call);

	sg_jsonrpc_call_set_pending(call, operation, (GDestroyNotify)sg_api_operation_cancel);
	sg_api_operation_run(operation);
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
	sg_jsonrpc_call_return(call, sg_api_status_list(control_of(call)->api));
}

static void
method_get_service(Call *call, JsonObject *params)
{
	gboolean ok;
	SgService *service = param_service(call, params, TRUE, &ok);

	if (!ok)
		return;
	sg_jsonrpc_call_return(call, sg_api_status_service(control_of(call)->api, service));
}

static void
method_status(Call *call, JsonObject *params)
{
	sg_jsonrpc_call_return(call, sg_api_status(control_of(call)->api));
}

static void
method_reload(Call *call, JsonObject *params)
{
	const char *config;

	g_autoptr(GError) error = NULL;

	if (!sg_jsonrpc_param_string(call, params, "config", &config))
		return;
	if (!sg_api_reload(control_of(call)->api, config, &error)) {
		sg_jsonrpc_call_fail(call, error);
		return;
	}
	sg_jsonrpc_call_return_empty(call);
}

static void
method_shutdown(Call *call, JsonObject *params)
{
	SgApi *api = control_of(call)->api;

	/* Answered first: the call is gone once answered. */
	sg_jsonrpc_call_return_empty(call);
	sg_api_shutdown(api, "shutdown asked through the control socket");
}

static void
method_subscribe(Call *call, JsonObject *params)
{
	sg_jsonrpc_call_subscribe(call);
	sg_jsonrpc_call_return_empty(call);
}

/* {"lines": [...], "files": [{"kind", "path", "count", "capped"}]}: which lines came from
 * which file, and whether the byte limit left some out. */
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
		json_builder_set_member_name(builder, "capped");
		json_builder_add_boolean_value(builder, logs->capped[i]);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	sg_jsonrpc_call_return(call, json_builder_get_root(builder));
}

/* A logs call whose files are read in a worker thread. */
typedef struct {
	Call *call; /* NULL once the call went away unanswered */
	GCancellable *cancellable;
} LogsRead;

static void
logs_read_cancel(gpointer data)
{
	LogsRead *read = data;

	read->call = NULL;
	g_cancellable_cancel(read->cancellable);
}

static void
logs_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	LogsRead *read = user_data;
	Call *call = read->call;
	g_autoptr(GError) error = NULL;
	g_autoptr(SgLogs) logs = sg_logs_read_finish(result, &error);

	g_object_unref(read->cancellable);
	g_free(read);
	if (call == NULL)
		return;
	sg_jsonrpc_call_set_pending(call, NULL, NULL);
	if (logs == NULL)
		sg_jsonrpc_call_fail(call, error);
	else
		respond_logs(call, logs);
}

static void
method_logs(Call *call, JsonObject *params)
{
	LogsRead *read;
	const char *kind;
	SgService *service;
	guint n = SG_LOGS_LINES_DEFAULT;
	gboolean ok;

	service = param_service(call, params, FALSE, &ok);
	if (!ok || !sg_jsonrpc_param_string(call, params, "kind", &kind) ||
	    !sg_jsonrpc_param_uint(call, params, "lines", SG_CONTROL_LOG_LINES_MAX, &n))
		return;
	/* Off the loop: other clients are served while the files are read. */
	read = g_new0(LogsRead, 1);
	read->call = call;
	read->cancellable = g_cancellable_new();
	sg_jsonrpc_call_set_pending(call, read, logs_read_cancel);
	sg_api_read_logs(control_of(call)->api, service, kind, n, read->cancellable, logs_read_cb,
	                 read);
}

static const SgJsonrpcMethod methods[] = {
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

/* ---- notifications ---- */

static void
add_string_member(JsonBuilder *builder, const char *name, const char *value)
{
	json_builder_set_member_name(builder, name);
	json_builder_add_string_value(builder, value);
}

static void
state_changed_cb(SgSupervisor *supervisor, SgService *service, guint old_state, guint new_state,
                 gpointer user_data)
{
	SgControl *control = user_data;
	g_autoptr(JsonBuilder) builder = NULL;

	if (!sg_jsonrpc_has_subscribers(control->server))
		return;
	builder = sg_jsonrpc_notification_begin("service_state_changed");
	add_string_member(builder, "name", sg_service_get_name(service));
	add_string_member(builder, "old_state", sg_service_state_to_string(old_state));
	add_string_member(builder, "new_state", sg_service_state_to_string(new_state));
	sg_jsonrpc_notification_send(control->server, builder);
}

static void
cron_finished_cb(SgSupervisor *supervisor, SgService *service, const char *result, int exit_code,
                 gint64 started_usec, gint64 finished_usec, gpointer user_data)
{
	SgControl *control = user_data;
	g_autoptr(JsonBuilder) builder = NULL;

	if (!sg_jsonrpc_has_subscribers(control->server))
		return;
	builder = sg_jsonrpc_notification_begin("cron_job_finished");
	add_string_member(builder, "name", sg_service_get_name(service));
	add_string_member(builder, "result", result);
	sg_json_builder_add_int_or_null(builder, "exit_code", exit_code, exit_code >= 0);
	sg_json_builder_add_time(builder, "started_at", started_usec);
	sg_json_builder_add_time(builder, "finished_at", finished_usec);
	sg_jsonrpc_notification_send(control->server, builder);
}

/* Sends a notification whose only parameter is one string. */
static void
notify_one(SgControl *control, const char *method, const char *key, const char *value)
{
	g_autoptr(JsonBuilder) builder = NULL;

	if (!sg_jsonrpc_has_subscribers(control->server))
		return;
	builder = sg_jsonrpc_notification_begin(method);
	add_string_member(builder, key, value);
	sg_jsonrpc_notification_send(control->server, builder);
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

SgControl *
sg_control_new(SgApi *api, GError **error)
{
	SgControl *control = g_new0(SgControl, 1);
	SgSupervisor *supervisor = sg_api_get_supervisor(api);

	control->api = api;
	control->supervisor = g_object_ref(supervisor);
	control->server = sg_jsonrpc_new(sg_api_get_context(api), methods, G_N_ELEMENTS(methods),
	                                 control, error);
	if (control->server == NULL) {
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
	return control;
}

guint
sg_control_client_count(SgControl *control)
{
	return sg_jsonrpc_client_count(control->server);
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
	g_clear_pointer(&control->server, sg_jsonrpc_free);
	g_object_unref(control->supervisor);
	g_free(control);
}
