/* SPDX-License-Identifier: MIT */
/* The newest lines of the logs, as the socket's `logs` and the bus's GetLogs return them. */
#pragma once

#include <glib.h>

#include "sg-engine.h"
#include "sg-limits.h"
#include "sg-service.h"

typedef struct {
	GPtrArray *lines;     /* char*, oldest first, file by file */
	const char *kinds[3]; /* "supervisor", "stdout" or "stderr" per file; NULL-terminated */
	char *paths[3];
	guint counts[3];    /* lines taken from each file */
	gboolean capped[3]; /* the byte limit left out lines of that file */
} SgLogs;

/*
 * The last n lines of each file, within an equal share of SG_LOGS_BYTES_MAX (sg_tail_read()
 * says what becomes of a line longer than that): kind "supervisor", or NULL with no service,
 * gives supervisor.log; with a service, kind "stdout" or "stderr" gives that stream and NULL
 * both, stdout first. Another kind, or a stream kind without a service, is SG_ERROR_USAGE.
 */
SgLogs *sg_logs_read(SgEngine *engine, SgService *service, const char *kind, guint n,
                     GError **error);
void sg_logs_free(SgLogs *logs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgLogs, sg_logs_free)
