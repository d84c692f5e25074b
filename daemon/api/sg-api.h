/* SPDX-License-Identifier: MIT */
/* The one front door of the engine: what the control socket and the bus both call. */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "api/sg-logs.h"
#include "api/sg-operation.h"
#include "engine/sg-supervisor.h"

typedef struct _SgApi SgApi;

/* Every service is stopped after sg_api_shutdown(): the daemon may exit. */
typedef void (*SgApiStoppedFunc)(gpointer user_data);

/*
 * Over supervisor (referenced). started_at_usec is what status reports about the
 * supervisor; stopped runs once, when the stop of a shutdown is done.
 */
SgApi *sg_api_new(SgSupervisor *supervisor, gint64 started_at_usec, SgApiStoppedFunc stopped,
                  gpointer stopped_data);
void sg_api_free(SgApi *api);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgApi, sg_api_free)

/* The engine, for its signals: the events (state changes, added, removed, reloaded, cron
 * runs) both transports pass on. */
SgSupervisor *sg_api_get_supervisor(SgApi *api);
SgContext *sg_api_get_context(SgApi *api);
/* Services in configuration order (borrowed), one by name (NULL when there is none). */
GPtrArray *sg_api_get_services(SgApi *api);
SgService *sg_api_lookup(SgApi *api, const char *name);
/* The absolute path of the configuration in use; "" when running with none. */
const char *sg_api_get_config_path(SgApi *api);

/*
 * Start, stop or restart of the service name (NULL: every service; the caller checked that
 * it exists), answered by done once done (sg-operation.h). Starts and restarts are refused
 * while every service is being stopped and once the daemon is shutting down. Nothing
 * happens until sg_api_operation_run(), and done may run before that returns;
 * sg_api_operation_cancel() when the caller goes away first (done is never called then).
 */
SgOperation *sg_api_operation_new(SgApi *api, SgOperationKind kind, const char *name,
                                  SgOperationDoneFunc done, gpointer user_data);
void sg_api_operation_run(SgOperation *operation);
void sg_api_operation_cancel(SgOperation *operation);

/*
 * Reloads the configuration (config_path NULL or "": the current file), refused as a start
 * is; an invalid file changes nothing (sg_supervisor_reload()).
 */
gboolean sg_api_reload(SgApi *api, const char *config_path, GError **error);

/*
 * The daemon goes away (why names who asked, for the log): starts, restarts and reloads are
 * refused from now on, every service is stopped, then stopped runs. Once: later calls do
 * nothing.
 */
void sg_api_shutdown(SgApi *api, const char *why);
gboolean sg_api_is_shutting_down(SgApi *api);

/* The objects of `sysg status --json` (sg-status.h): everything, one service, the list. */
JsonNode *sg_api_status(SgApi *api);
JsonNode *sg_api_status_service(SgApi *api, SgService *service);
JsonNode *sg_api_status_list(SgApi *api);

/*
 * The last n lines of the logs (sg_logs_read_async(); service NULL: supervisor.log), n
 * capped at SG_CONTROL_LOG_LINES_MAX; sg_logs_read_finish() in callback gives them.
 */
void sg_api_read_logs(SgApi *api, SgService *service, const char *kind, guint n,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
