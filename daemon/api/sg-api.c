/* SPDX-License-Identifier: MIT */
/* The front door: owns shutting down and the refusals; the transports decode, call, encode. */
#include "config.h"

#include "api/sg-api.h"

#include <glib/gi18n.h>

#include "api/sg-status.h"
#include "base/sg-error.h"
#include "base/sg-limits.h"

struct _SgApi {
	SgSupervisor *supervisor;
	gint64 started_at;
	SgApiStoppedFunc stopped;
	gpointer stopped_data;
	gboolean shutting_down;
	struct Shutdown *shutdown; /* its stop of everything, until done */
};

/* A shutdown's stop of everything: it may end after the api is gone (then api is NULL). */
typedef struct Shutdown {
	SgApi *api;
} Shutdown;

SgApi *
sg_api_new(SgSupervisor *supervisor, gint64 started_at_usec, SgApiStoppedFunc stopped,
           gpointer stopped_data)
{
	SgApi *api = g_new0(SgApi, 1);

	api->supervisor = g_object_ref(supervisor);
	api->started_at = started_at_usec;
	api->stopped = stopped;
	api->stopped_data = stopped_data;
	return api;
}

void
sg_api_free(SgApi *api)
{
	if (api == NULL)
		return;
	if (api->shutdown != NULL)
		api->shutdown->api = NULL;
	g_object_unref(api->supervisor);
	g_free(api);
}

SgSupervisor *
sg_api_get_supervisor(SgApi *api)
{
	return api->supervisor;
}

SgContext *
sg_api_get_context(SgApi *api)
{
	return sg_supervisor_get_context(api->supervisor);
}

GPtrArray *
sg_api_get_services(SgApi *api)
{
	return sg_supervisor_get_services(api->supervisor);
}

SgService *
sg_api_lookup(SgApi *api, const char *name)
{
	return sg_supervisor_lookup(api->supervisor, name);
}

const char *
sg_api_get_config_path(SgApi *api)
{
	return sg_supervisor_get_config_path(api->supervisor);
}

/* ---- refusals: one place, one message each ---- */

/* Whether what would start services may not run now; TRUE with error set. */
static gboolean
refuse(gpointer user_data, GError **error)
{
	SgApi *api = user_data;

	if (api->shutting_down) {
		g_set_error_literal(error, SG_ERROR, SG_ERROR_FAILED,
		                    _("the supervisor is shutting down"));
		return TRUE;
	}
	/* The engine's own state: a stop of everything asked by anyone. */
	if (sg_supervisor_is_stopping_all(api->supervisor)) {
		g_set_error_literal(
		        error, SG_ERROR, SG_ERROR_FAILED,
		        _("every service is being stopped; try again once that is done"));
		return TRUE;
	}
	return FALSE;
}

gboolean
sg_api_is_shutting_down(SgApi *api)
{
	return api->shutting_down;
}

/* ---- operations ---- */

SgOperation *
sg_api_operation_new(SgApi *api, SgOperationKind kind, const char *name, SgOperationDoneFunc done,
                     gpointer user_data)
{
	return sg_operation_new(api->supervisor, kind, name, refuse, api, done, user_data);
}

void
sg_api_operation_run(SgOperation *operation)
{
	sg_operation_run(operation);
}

void
sg_api_operation_cancel(SgOperation *operation)
{
	sg_operation_cancel(operation);
}

gboolean
sg_api_reload(SgApi *api, const char *config_path, GError **error)
{
	if (refuse(api, error))
		return FALSE;
	return sg_supervisor_reload(api->supervisor, config_path, error);
}

static void
stopped_all_cb(SgSupervisor *supervisor, gpointer user_data)
{
	Shutdown *shutdown = user_data;
	SgApi *api = shutdown->api;

	g_free(shutdown);
	sg_context_log(sg_supervisor_get_context(supervisor), SG_LOG_INFO,
	               "every service is stopped");
	if (api == NULL)
		return;
	api->shutdown = NULL;
	if (api->stopped != NULL)
		api->stopped(api->stopped_data);
}

void
sg_api_shutdown(SgApi *api, const char *why)
{
	if (api->shutting_down)
		return;
	api->shutting_down = TRUE;
	sg_context_log(sg_supervisor_get_context(api->supervisor), SG_LOG_INFO,
	               "%s: stopping every service", why);
	api->shutdown = g_new0(Shutdown, 1);
	api->shutdown->api = api;
	sg_supervisor_stop_all(api->supervisor, stopped_all_cb, api->shutdown);
}

/* ---- status and logs ---- */

JsonNode *
sg_api_status(SgApi *api)
{
	const char *config_path = sg_supervisor_get_config_path(api->supervisor);

	return sg_status_all(api->supervisor, *config_path != '\0' ? config_path : NULL,
	                     api->started_at);
}

JsonNode *
sg_api_status_service(SgApi *api, SgService *service)
{
	return sg_status_service(api->supervisor, service);
}

JsonNode *
sg_api_status_list(SgApi *api)
{
	return sg_status_list(api->supervisor);
}

void
sg_api_read_logs(SgApi *api, SgService *service, const char *kind, guint n,
                 GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	sg_logs_read_async(sg_supervisor_get_context(api->supervisor), service, kind,
	                   MIN(n, SG_CONTROL_LOG_LINES_MAX), cancellable, callback, user_data);
}
