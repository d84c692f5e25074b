/* SPDX-License-Identifier: MIT */
/* The newest lines of supervisor.log and of the service logs, within a byte budget. */
#include "config.h"

#include "api/sg-logs.h"

#include <glib/gi18n.h>
#include <string.h>

#include "base/sg-error.h"
#include "base/sg-paths.h"
#include "base/sg-tail.h"

/* Appends the newest lines of path to lines, within max_bytes; whether some were left out. */
static gboolean
append_log(GPtrArray *lines, const char *path, guint n, gsize max_bytes, gboolean *ret_capped,
           GError **error)
{
	g_autoptr(SgTail) tail = sg_tail_read(path, n, max_bytes, error);

	if (tail == NULL)
		return FALSE;
	for (guint i = 0; i < tail->lines->len; i++)
		g_ptr_array_add(lines, g_steal_pointer(&tail->lines->pdata[i]));
	*ret_capped = tail->capped;
	return TRUE;
}

void
sg_logs_free(SgLogs *logs)
{
	if (logs == NULL)
		return;
	g_ptr_array_unref(logs->lines);
	for (guint i = 0; i < G_N_ELEMENTS(logs->paths); i++)
		g_free(logs->paths[i]);
	g_free(logs);
}

/* Which files to read (validated here, on the caller's thread), with no lines yet. */
static SgLogs *
logs_plan(SgContext *context, SgService *service, const char *kind, guint n, GError **error)
{
	g_autoptr(SgLogs) logs = g_new0(SgLogs, 1);

	logs->lines = g_ptr_array_new_with_free_func(g_free);
	logs->wanted = n;
	if (kind != NULL && strcmp(kind, "stdout") != 0 && strcmp(kind, "stderr") != 0 &&
	    strcmp(kind, "supervisor") != 0) {
		g_set_error(error, SG_ERROR, SG_ERROR_USAGE,
		            _("parameter \"kind\" must be stdout, stderr or supervisor"));
		return NULL;
	}
	if (g_strcmp0(kind, "supervisor") == 0 || (kind == NULL && service == NULL)) {
		logs->kinds[0] = "supervisor";
		logs->paths[0] = sg_paths_state_file(context->state_dir, SG_STATE_SUPERVISOR_LOG);
	} else if (service == NULL) {
		g_set_error(error, SG_ERROR, SG_ERROR_USAGE,
		            _("logs of kind %s need a service name"), kind);
		return NULL;
	} else {
		/* Both streams, stdout first, or the one asked for. */
		static const char *const wanted[2] = { "stdout", "stderr" };
		guint k = 0;

		for (guint i = 0; i < 2; i++) {
			if (kind != NULL && strcmp(kind, wanted[i]) != 0)
				continue;
			logs->kinds[k] = wanted[i];
			logs->paths[k] = g_strdup_printf("%s/%s_%s.log", context->log_dir,
			                                 sg_service_get_name(service), wanted[i]);
			k++;
		}
	}
	return g_steal_pointer(&logs);
}

/* Reads the planned files: plain file reads, touching nothing of the engine. */
static gboolean
logs_fill(SgLogs *logs, GError **error)
{
	guint n_files = 0;

	while (logs->kinds[n_files] != NULL)
		n_files++;
	for (guint i = 0; i < n_files; i++) {
		guint before = logs->lines->len;

		if (!append_log(logs->lines, logs->paths[i], logs->wanted,
		                SG_LOGS_BYTES_MAX / n_files, &logs->capped[i], error))
			return FALSE;
		logs->counts[i] = logs->lines->len - before;
	}
	return TRUE;
}

SgLogs *
sg_logs_read(SgContext *context, SgService *service, const char *kind, guint n, GError **error)
{
	g_autoptr(SgLogs) logs = logs_plan(context, service, kind, n, error);

	if (logs == NULL || !logs_fill(logs, error))
		return NULL;
	return g_steal_pointer(&logs);
}

/* The task's data: what to read, then what was read until it is handed over. */
typedef struct {
	SgLogs *logs;
} Reading;

static void
reading_free(Reading *reading)
{
	sg_logs_free(reading->logs);
	g_free(reading);
}

static void
read_in_thread(GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
	Reading *reading = task_data;
	GError *error = NULL;

	if (g_task_return_error_if_cancelled(task))
		return;
	if (!logs_fill(reading->logs, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

void
sg_logs_read_async(SgContext *context, SgService *service, const char *kind, guint n,
                   GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	GError *error = NULL;
	Reading *reading;
	SgLogs *logs = logs_plan(context, service, kind, n, &error);

	g_task_set_source_tag(task, sg_logs_read_async);
	g_task_set_name(task, "sg-logs read");
	if (logs == NULL) {
		g_task_return_error(task, error);
		return;
	}
	reading = g_new0(Reading, 1);
	reading->logs = logs;
	g_task_set_task_data(task, reading, (GDestroyNotify)reading_free);
	g_task_run_in_thread(task, read_in_thread);
}

SgLogs *
sg_logs_read_finish(GAsyncResult *result, GError **error)
{
	GTask *task = G_TASK(result);
	Reading *reading = g_task_get_task_data(task);

	if (!g_task_propagate_boolean(task, error))
		return NULL;
	return g_steal_pointer(&reading->logs);
}
