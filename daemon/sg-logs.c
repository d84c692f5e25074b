/* SPDX-License-Identifier: MIT */
/* The newest lines of supervisor.log and of the service logs, within a byte budget. */
#include "config.h"

#include "sg-logs.h"

#include <glib/gi18n.h>
#include <string.h>

#include "sg-error.h"
#include "sg-paths.h"
#include "sg-tail.h"

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

SgLogs *
sg_logs_read(SgEngine *engine, SgService *service, const char *kind, guint n, GError **error)
{
	g_autoptr(SgLogs) logs = g_new0(SgLogs, 1);
	guint n_files = 0;

	logs->lines = g_ptr_array_new_with_free_func(g_free);
	if (kind != NULL && strcmp(kind, "stdout") != 0 && strcmp(kind, "stderr") != 0 &&
	    strcmp(kind, "supervisor") != 0) {
		g_set_error(error, SG_ERROR, SG_ERROR_USAGE,
		            _("parameter \"kind\" must be stdout, stderr or supervisor"));
		return NULL;
	}
	if (g_strcmp0(kind, "supervisor") == 0 || (kind == NULL && service == NULL)) {
		logs->kinds[0] = "supervisor";
		logs->paths[0] = sg_paths_state_file(engine->state_dir, SG_STATE_SUPERVISOR_LOG);
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
			logs->paths[k] = g_strdup_printf("%s/%s_%s.log", engine->log_dir,
			                                 sg_service_get_name(service), wanted[i]);
			k++;
		}
	}
	while (logs->kinds[n_files] != NULL)
		n_files++;
	for (guint i = 0; i < n_files; i++) {
		guint before = logs->lines->len;

		if (!append_log(logs->lines, logs->paths[i], n, SG_LOGS_BYTES_MAX / n_files,
		                &logs->capped[i], error))
			return NULL;
		logs->counts[i] = logs->lines->len - before;
	}
	return g_steal_pointer(&logs);
}
