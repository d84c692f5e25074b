/* SPDX-License-Identifier: MIT */
/* The newest lines of the logs, as the socket's `logs` and the bus's GetLogs return them. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include "process/sg-context.h"
#include "base/sg-limits.h"
#include "engine/sg-service.h"

typedef struct {
	GPtrArray *lines;     /* char*, oldest first, file by file */
	const char *kinds[3]; /* "supervisor", "stdout" or "stderr" per file; NULL-terminated */
	char *paths[3];
	guint counts[3];    /* lines taken from each file */
	gboolean capped[3]; /* the byte limit left out lines of that file */
	guint wanted;       /* lines asked for from each file */
} SgLogs;

/*
 * The last n lines of each file, within an equal share of SG_LOGS_BYTES_MAX (sg_tail_read()
 * says what becomes of a line longer than that): kind "supervisor", or NULL with no service,
 * gives supervisor.log; with a service, kind "stdout" or "stderr" gives that stream and NULL
 * both, stdout first. Another kind, or a stream kind without a service, is SG_ERROR_USAGE.
 */
SgLogs *sg_logs_read(SgContext *context, SgService *service, const char *kind, guint n,
                     GError **error);
/*
 * The same, the files read in a worker thread so that a slow or large read never holds up
 * the main loop; callback runs on the caller's thread-default context (a bad kind or a
 * missing service name fails there too). sg_logs_read_finish() gives the SgLogs (owned by
 * the caller) or NULL with error set.
 */
void sg_logs_read_async(SgContext *context, SgService *service, const char *kind, guint n,
                        GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data);
SgLogs *sg_logs_read_finish(GAsyncResult *result, GError **error);
void sg_logs_free(SgLogs *logs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgLogs, sg_logs_free)
