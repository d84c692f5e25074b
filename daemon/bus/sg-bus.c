/* SPDX-License-Identifier: MIT */
/* org.systemg on the session bus: connection, name and org.systemg.Manager. */
#include "config.h"

#include "bus/sg-bus.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "bus/sg-bus-access.h"
#include "base/sg-bus-autoptr.h"
#include "base/sg-bus-names.h"
#include "bus/sg-bus-service.h"
#include "base/sg-bus-source.h"
#include "base/sg-error.h"

typedef struct _Call Call;

struct _SgBus {
	SgApi *api;
	SgSupervisor *supervisor; /* for its signals: the bus's signals and properties */
	SgContext *context;
	sd_bus *bus;
	GSource *source;
	gboolean connected;
	gboolean owns_connection; /* the session bus, opened here */
	sd_bus_slot *manager_slot;
	sd_bus_slot *object_manager_slot;
	sd_bus_slot *name_slot;
	SgBusAccess *access;
	SgBusServices *services;
	GList *calls;      /* Call* not answered yet */
	gint64 started_at; /* when the daemon started (realtime usec), as status says */
	gulong handlers[6];
	gboolean name_answered; /* the bus said whether org.systemg is ours */
	SgBusNamedFunc named;
	gpointer named_data;
};

typedef struct _LogsRead LogsRead;

struct _Call {
	SgBus *owner; /* NULL once the bus object is gone */
	sd_bus_message *message;
	GList *link;
	SgOperation *operation; /* not done yet */
	LogsRead *logs_read;    /* GetLogs: the files being read */
};

/* GetLogs reads its files in a worker thread; the call may go away meanwhile. */
struct _LogsRead {
	Call *call; /* NULL once the call is gone */
	GCancellable *cancellable;
};

/* ---- the caller check (sg-bus-access) ---- */

void
sg_bus_set_started_at(SgBus *self, gint64 started_at_usec)
{
	if (self != NULL)
		self->started_at = started_at_usec;
}

void
sg_bus_set_owner_uid(SgBus *self, uid_t uid)
{
	sg_bus_access_set_owner_uid(self->access, uid);
}

/* The caller check every method makes (< 0: refused, error set). */
static int
sg_bus_check_caller(SgBus *self, sd_bus_message *message, sd_bus_error *error)
{
	return sg_bus_access_check(self->access, message, error);
}

/* ---- replies ---- */

static void
reply_gerror(sd_bus_message *message, const GError *error)
{
	SgErrorCode code = error->domain == SG_ERROR ? (SgErrorCode)error->code : SG_ERROR_FAILED;

	sd_bus_reply_method_errorf(message, sg_error_dbus_name(code), "%s", error->message);
}

/* ---- calls that answer later (sg-operation, as the control socket) ---- */

static void
call_free(Call *call)
{
	if (call->owner != NULL)
		call->owner->calls = g_list_delete_link(call->owner->calls, call->link);
	g_clear_pointer(&call->operation, sg_api_operation_cancel);
	if (call->logs_read != NULL) {
		call->logs_read->call = NULL;
		g_cancellable_cancel(call->logs_read->cancellable);
	}
	sd_bus_message_unref(call->message);
	g_free(call);
}

/* A call answered later, on self's list until then. */
static Call *
call_new(SgBus *self, sd_bus_message *message)
{
	Call *call = g_new0(Call, 1);

	call->owner = self;
	call->message = sd_bus_message_ref(message);
	self->calls = g_list_prepend(self->calls, call);
	call->link = self->calls;
	return call;
}

static void
operation_done_cb(const GError *error, JsonNode *failed, gpointer user_data)
{
	Call *call = user_data;

	/* The operation frees itself. */
	call->operation = NULL;
	if (error == NULL)
		sd_bus_reply_method_return(call->message, NULL);
	else
		reply_gerror(call->message, error);
	call_free(call);
}

/* Runs op on service name (NULL: every service) as the control socket does, and replies to
 * message (referenced) when it is done. */
static void
sg_bus_run(SgBus *self, sd_bus_message *message, SgBusOp op, const char *name)
{
	static const SgOperationKind kinds[] = {
		[SG_BUS_OP_START] = SG_OPERATION_START,
		[SG_BUS_OP_STOP] = SG_OPERATION_STOP,
		[SG_BUS_OP_RESTART] = SG_OPERATION_RESTART,
	};
	Call *call = call_new(self, message);

	call->operation = sg_api_operation_new(self->api, kinds[op], name, operation_done_cb, call);
	sg_api_operation_run(call->operation);
}

/* The methods of the Service objects run here. */
static void
service_run_cb(gpointer user_data, sd_bus_message *message, SgBusOp op, const char *name)
{
	sg_bus_run(user_data, message, op, name);
}

/* ---- org.systemg.Manager ---- */

/* The named service, or an error reply (NoSuchService) and NULL. */
static SgService *
lookup_or_fail(SgBus *self, const char *name, sd_bus_error *error)
{
	SgService *service = sg_api_lookup(self->api, name);

	if (service == NULL)
		sd_bus_error_setf(error, SG_BUS_ERROR_NO_SUCH_SERVICE, _("no such service: %s"),
		                  name);
	return service;
}

/* Checks the caller and reads the name of a service that exists; < 0 with the error set. */
static int
read_service_name(SgBus *self, sd_bus_message *message, sd_bus_error *error, const char **ret_name)
{
	int r = sg_bus_check_caller(self, message, error);

	if (r < 0)
		return r;
	r = sd_bus_message_read(message, "s", ret_name);
	if (r < 0)
		return r;
	if (lookup_or_fail(self, *ret_name, error) == NULL)
		return -ENOENT;
	return 0;
}

static int
method_list_services(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	SgBus *self = userdata;
	GPtrArray *services = sg_api_get_services(self->api);
	g_autoptr(sd_bus_message) reply = NULL;
	int r;

	r = sg_bus_check_caller(self, message, error);
	if (r < 0)
		return r;
	r = sd_bus_message_new_method_return(message, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(sssuo)");
	for (guint i = 0; r >= 0 && i < services->len; i++) {
		SgService *service = services->pdata[i];
		g_autofree char *path = sg_bus_service_path(sg_service_get_name(service));

		r = sd_bus_message_append(reply, "(sssuo)", sg_service_get_name(service),
		                          sg_service_get_config(service)->cron != NULL ? "cron"
		                                                                       : "service",
		                          sg_service_state_to_string(sg_service_get_state(service)),
		                          (uint32_t)MAX(sg_service_get_pid(service), 0), path);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	return r;
}

static int
method_get_service(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	g_autofree char *path = NULL;
	const char *name;
	int r = read_service_name(userdata, message, error, &name);

	if (r < 0)
		return r;
	path = sg_bus_service_path(name);
	return sd_bus_reply_method_return(message, "o", path);
}

static int
run_named(sd_bus_message *message, SgBus *self, sd_bus_error *error, SgBusOp op)
{
	const char *name;
	int r = read_service_name(self, message, error, &name);

	if (r < 0)
		return r;
	sg_bus_run(self, message, op, name);
	return 1;
}

static int
run_all(sd_bus_message *message, SgBus *self, sd_bus_error *error, SgBusOp op)
{
	int r = sg_bus_check_caller(self, message, error);

	if (r < 0)
		return r;
	sg_bus_run(self, message, op, NULL);
	return 1;
}

static int
method_start_service(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	return run_named(message, userdata, error, SG_BUS_OP_START);
}

static int
method_stop_service(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	return run_named(message, userdata, error, SG_BUS_OP_STOP);
}

static int
method_restart_service(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	return run_named(message, userdata, error, SG_BUS_OP_RESTART);
}

static int
method_start(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	return run_all(message, userdata, error, SG_BUS_OP_START);
}

static int
method_stop(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	return run_all(message, userdata, error, SG_BUS_OP_STOP);
}

static int
method_restart(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	return run_all(message, userdata, error, SG_BUS_OP_RESTART);
}

static int
method_reload(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	SgBus *self = userdata;
	g_autoptr(GError) gerror = NULL;
	const char *path;
	int r;

	r = sg_bus_check_caller(self, message, error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(message, "s", &path);
	if (r < 0)
		return r;
	if (!sg_api_reload(self->api, path[0] != '\0' ? path : NULL, &gerror)) {
		reply_gerror(message, gerror);
		return 1;
	}
	return sd_bus_reply_method_return(message, NULL);
}

static int
method_shutdown(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	SgBus *self = userdata;
	int r;

	r = sg_bus_check_caller(self, message, error);
	if (r < 0)
		return r;
	r = sd_bus_reply_method_return(message, NULL);
	sg_api_shutdown(self->api, "shutdown asked over D-Bus");
	return r;
}

static int
reply_logs(sd_bus_message *message, const SgLogs *logs)
{
	g_autoptr(sd_bus_message) reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(message, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "s");
	/* Log lines are bytes; D-Bus strings must be UTF-8. */
	for (guint i = 0; r >= 0 && i < logs->lines->len; i++) {
		const char *line = logs->lines->pdata[i];
		g_autofree char *valid = NULL;

		if (!g_utf8_validate(line, -1, NULL))
			line = valid = g_utf8_make_valid(line, -1);
		r = sd_bus_message_append(reply, "s", line);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	return r;
}

static void
logs_read_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	LogsRead *read = user_data;
	Call *call = read->call;
	g_autoptr(GError) error = NULL;
	g_autoptr(SgLogs) logs = sg_logs_read_finish(result, &error);
	int r;

	g_object_unref(read->cancellable);
	g_free(read);
	if (call == NULL)
		return;
	call->logs_read = NULL;
	if (logs == NULL) {
		reply_gerror(call->message, error);
	} else if ((r = reply_logs(call->message, logs)) < 0) {
		sg_context_log(call->owner->context, SG_LOG_DEBUG,
		               "D-Bus: cannot answer GetLogs: %s", g_strerror(-r));
		sd_bus_reply_method_errno(call->message, r, NULL);
	}
	call_free(call);
}

static int
method_get_logs(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	SgBus *self = userdata;
	SgService *service = NULL;
	const char *name, *kind;
	LogsRead *read;
	uint32_t lines;
	int r;

	r = sg_bus_check_caller(self, message, error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(message, "ssu", &name, &kind, &lines);
	if (r < 0)
		return r;
	if (name[0] != '\0' && (service = lookup_or_fail(self, name, error)) == NULL)
		return -ENOENT;
	/* Off the loop: other callers are served while the files are read. */
	read = g_new0(LogsRead, 1);
	read->call = call_new(self, message);
	read->call->logs_read = read;
	read->cancellable = g_cancellable_new();
	sg_api_read_logs(self->api, service, kind[0] != '\0' ? kind : NULL, lines,
	                 read->cancellable, logs_read_cb, read);
	return 1;
}

static int
property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
             sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	SgBus *self = userdata;

	if (strcmp(property, "Version") == 0)
		return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
	if (strcmp(property, "ConfigPath") == 0)
		return sd_bus_message_append(reply, "s", sg_api_get_config_path(self->api));
	if (strcmp(property, "StateDirectory") == 0)
		return sd_bus_message_append(reply, "s", self->context->state_dir);
	if (strcmp(property, "Pid") == 0)
		return sd_bus_message_append(reply, "u", (uint32_t)getpid());
	if (strcmp(property, "StartedAt") == 0)
		return sd_bus_message_append(reply, "t", (uint64_t)MAX(self->started_at, 0));
	return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "unknown property %s",
	                         property);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("ListServices", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sssuo)", services),
	                        method_list_services, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetService", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", path),
	                        method_get_service, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("StartService", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
	                        method_start_service, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("StopService", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
	                        method_stop_service, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("RestartService", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
	                        method_restart_service, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Start", "", "", method_start, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Stop", "", "", method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Restart", "", "", method_restart, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_ARGS("s", config_path), SD_BUS_NO_RESULT,
	                        method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Shutdown", "", "", method_shutdown, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetLogs", SD_BUS_ARGS("s", name, "s", kind, "u", lines),
	                        SD_BUS_RESULT("as", log_lines), method_get_logs,
	                        SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("Version", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ConfigPath", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("StateDirectory", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Pid", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("StartedAt", "t", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_SIGNAL_WITH_ARGS("ServiceStateChanged",
	                        SD_BUS_ARGS("s", name, "s", old_state, "s", new_state), 0),
	SD_BUS_SIGNAL_WITH_ARGS("ServiceAdded", SD_BUS_ARGS("s", name, "o", path), 0),
	SD_BUS_SIGNAL_WITH_ARGS("ServiceRemoved", SD_BUS_ARGS("s", name, "o", path), 0),
	SD_BUS_SIGNAL_WITH_ARGS("CronJobFinished",
	                        SD_BUS_ARGS("s", name, "s", result, "i", exit_code, "t",
	                                    started_usec, "t", finished_usec),
	                        0),
	SD_BUS_SIGNAL_WITH_ARGS("Reloaded", SD_BUS_ARGS("s", config_path), 0),
	SD_BUS_VTABLE_END,
};

/* ---- engine events ---- */

static void
emit_failed(SgBus *self, const char *what, int r)
{
	if (r < 0 && r != -ENOTCONN)
		sg_context_log(self->context, SG_LOG_DEBUG, "D-Bus: cannot emit %s: %s", what,
		               g_strerror(-r));
}

static void
state_changed_cb(SgSupervisor *supervisor, SgService *service, guint old_state, guint new_state,
                 gpointer user_data)
{
	SgBus *self = user_data;

	emit_failed(self, "ServiceStateChanged",
	            sd_bus_emit_signal(self->bus, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
	                               "ServiceStateChanged", "sss", sg_service_get_name(service),
	                               sg_service_state_to_string(old_state),
	                               sg_service_state_to_string(new_state)));
	sg_bus_services_update(self->services, service);
}

static void
service_changed_cb(SgSupervisor *supervisor, SgService *service, gpointer user_data)
{
	SgBus *self = user_data;

	sg_bus_services_update(self->services, service);
}

static void
service_added_cb(SgSupervisor *supervisor, SgService *service, gpointer user_data)
{
	SgBus *self = user_data;
	g_autofree char *path = sg_bus_service_path(sg_service_get_name(service));

	sg_bus_services_added(self->services, service);
	emit_failed(self, "ServiceAdded",
	            sd_bus_emit_signal(self->bus, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
	                               "ServiceAdded", "so", sg_service_get_name(service), path));
}

static void
service_removed_cb(SgSupervisor *supervisor, const char *name, gpointer user_data)
{
	SgBus *self = user_data;
	g_autofree char *path = sg_bus_service_path(name);

	sg_bus_services_removed(self->services, name);
	emit_failed(self, "ServiceRemoved",
	            sd_bus_emit_signal(self->bus, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
	                               "ServiceRemoved", "so", name, path));
}

static void
reloaded_cb(SgSupervisor *supervisor, const char *config_path, gpointer user_data)
{
	SgBus *self = user_data;
	GPtrArray *services = sg_supervisor_get_services(supervisor);

	/* Services changed in place by the reload announce their new configuration. */
	for (guint i = 0; i < services->len; i++)
		sg_bus_services_update(self->services, services->pdata[i]);
	emit_failed(self, "PropertiesChanged",
	            sd_bus_emit_properties_changed(self->bus, SG_BUS_MANAGER_PATH,
	                                           SG_BUS_MANAGER_INTERFACE, "ConfigPath", NULL));
	emit_failed(self, "Reloaded",
	            sd_bus_emit_signal(self->bus, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
	                               "Reloaded", "s", config_path != NULL ? config_path : ""));
}

static void
cron_job_finished_cb(SgSupervisor *supervisor, SgService *service, const char *result,
                     int exit_code, gint64 started_usec, gint64 finished_usec, gpointer user_data)
{
	SgBus *self = user_data;

	sg_bus_services_update(self->services, service);
	emit_failed(self, "CronJobFinished",
	            sd_bus_emit_signal(self->bus, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
	                               "CronJobFinished", "ssitt", sg_service_get_name(service),
	                               result, (int32_t)exit_code, (uint64_t)MAX(started_usec, 0),
	                               (uint64_t)MAX(finished_usec, 0)));
}

/* ---- connection ---- */

static void
name_answered(SgBus *self)
{
	SgBusNamedFunc named = self->named;

	self->name_answered = TRUE;
	self->named = NULL;
	if (named != NULL)
		named(self->named_data);
}

static void
lost_cb(int errno_value, gpointer user_data)
{
	SgBus *self = user_data;

	self->connected = FALSE;
	sg_context_log(self->context, SG_LOG_WARN,
	               "D-Bus: lost the D-Bus connection (%s); running without it",
	               g_strerror(-errno_value));
	/* No answer about the name is coming any more. */
	if (!self->name_answered)
		name_answered(self);
}

void
sg_bus_when_named(SgBus *self, SgBusNamedFunc named, gpointer user_data)
{
	if (self == NULL || self->name_answered) {
		named(user_data);
		return;
	}
	self->named = named;
	self->named_data = user_data;
}

static int
request_name_cb(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	SgBus *self = userdata;
	const sd_bus_error *error = sd_bus_message_get_error(reply);
	uint32_t result = 0;

	self->name_slot = sd_bus_slot_unref(self->name_slot);
	if (error != NULL) {
		sg_context_log(self->context, SG_LOG_WARN, "D-Bus: cannot own %s: %s", SG_BUS_NAME,
		               error->message != NULL ? error->message : error->name);
		name_answered(self);
		return 0;
	}
	sd_bus_message_read(reply, "u", &result);
	/* 1: primary owner; 4: already ours. Not queued: 3 (exists) is asked never to happen. */
	if (result == 1 || result == 4)
		sg_context_log(self->context, SG_LOG_INFO, "D-Bus: owns %s on the session bus",
		               SG_BUS_NAME);
	else
		sg_context_log(self->context, SG_LOG_WARN,
		               "D-Bus: %s is already owned by another process; this supervisor "
		               "goes on without the name",
		               SG_BUS_NAME);
	name_answered(self);
	return 0;
}

static gboolean
serve(SgBus *self, sd_bus *bus, GError **error)
{
	int r;

	self->bus = sd_bus_ref(bus);
	self->access = sg_bus_access_new(self->context, bus, error);
	if (self->access == NULL)
		return FALSE;
	r = sd_bus_add_object_vtable(bus, &self->manager_slot, SG_BUS_MANAGER_PATH,
	                             SG_BUS_MANAGER_INTERFACE, manager_vtable, self);
	if (r >= 0)
		r = sd_bus_add_object_manager(bus, &self->object_manager_slot, SG_BUS_MANAGER_PATH);
	if (r < 0)
		return sg_error_set_errno(error, r, "cannot register %s", SG_BUS_MANAGER_INTERFACE);
	self->services = sg_bus_services_new(bus, self->supervisor, self->access, service_run_cb,
	                                     self, error);
	if (self->services == NULL)
		return FALSE;
	self->handlers[0] = g_signal_connect(self->supervisor, "service-state-changed",
	                                     G_CALLBACK(state_changed_cb), self);
	self->handlers[1] = g_signal_connect(self->supervisor, "service-changed",
	                                     G_CALLBACK(service_changed_cb), self);
	self->handlers[2] = g_signal_connect(self->supervisor, "service-added",
	                                     G_CALLBACK(service_added_cb), self);
	self->handlers[3] = g_signal_connect(self->supervisor, "service-removed",
	                                     G_CALLBACK(service_removed_cb), self);
	self->handlers[4] =
	        g_signal_connect(self->supervisor, "reloaded", G_CALLBACK(reloaded_cb), self);
	self->handlers[5] = g_signal_connect(self->supervisor, "cron-job-finished",
	                                     G_CALLBACK(cron_job_finished_cb), self);
	self->source = sg_bus_source_attach(bus, lost_cb, self);
	self->connected = TRUE;
	return TRUE;
}

static SgBus *
bus_new(SgApi *api)
{
	SgBus *self = g_new0(SgBus, 1);

	self->api = api;
	self->supervisor = g_object_ref(sg_api_get_supervisor(api));
	self->context = sg_api_get_context(api);
	return self;
}

SgBus *
sg_bus_new_for_connection(SgApi *api, sd_bus *bus, GError **error)
{
	SgBus *self = bus_new(api);

	self->name_answered = TRUE; /* no name is asked for */
	if (!serve(self, bus, error)) {
		sg_bus_free(self);
		return NULL;
	}
	return self;
}

SgBus *
sg_bus_new_session(SgApi *api)
{
	SgContext *context = sg_api_get_context(api);
	g_autoptr(sd_bus) bus = NULL;
	g_autoptr(GError) error = NULL;
	SgBus *self;
	int r;

	r = sd_bus_open_user_with_description(&bus, "systemg");
	if (r < 0) {
		sg_context_log(context, SG_LOG_WARN,
		               "D-Bus: no session bus (%s); running without D-Bus", g_strerror(-r));
		return NULL;
	}
	self = bus_new(api);
	self->owns_connection = TRUE;
	if (!serve(self, bus, &error)) {
		sg_context_log(context, SG_LOG_WARN, "D-Bus: %s; running without D-Bus",
		               error->message);
		sg_bus_free(self);
		return NULL;
	}
	/* Peers that leave take their cached credentials with them. */
	sg_bus_access_watch_peers(self->access);
	/* Asked after the objects exist: an activating caller is served at once. */
	r = sd_bus_call_method_async(bus, &self->name_slot, "org.freedesktop.DBus",
	                             "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
	                             request_name_cb, self, "su", SG_BUS_NAME,
	                             (uint32_t)0x4 /* DBUS_NAME_FLAG_DO_NOT_QUEUE */);
	if (r < 0) {
		sg_context_log(context, SG_LOG_WARN, "D-Bus: cannot ask for %s: %s", SG_BUS_NAME,
		               g_strerror(-r));
		self->name_answered = TRUE;
	}
	return self;
}

void
sg_bus_free(SgBus *self)
{
	if (self == NULL)
		return;
	for (guint i = 0; i < G_N_ELEMENTS(self->handlers); i++)
		g_clear_signal_handler(&self->handlers[i], self->supervisor);
	/* Unanswered calls go; their operations run to their end unanswered. */
	while (self->calls != NULL) {
		Call *call = self->calls->data;

		self->calls = g_list_delete_link(self->calls, self->calls);
		call->owner = NULL;
		call_free(call);
	}
	if (self->source != NULL) {
		g_source_destroy(self->source);
		g_source_unref(self->source);
	}
	sg_bus_services_free(self->services);
	sd_bus_slot_unref(self->manager_slot);
	sd_bus_slot_unref(self->object_manager_slot);
	sd_bus_slot_unref(self->name_slot);
	sg_bus_access_free(self->access);
	if (self->bus != NULL && self->owns_connection) {
		/* The last replies (Shutdown's) go out before the connection closes. */
		if (self->connected)
			sd_bus_flush(self->bus);
		sd_bus_close(self->bus);
	}
	sd_bus_unref(self->bus);
	g_object_unref(self->supervisor);
	g_free(self);
}
