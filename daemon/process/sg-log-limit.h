/* SPDX-License-Identifier: MIT */
/* Log lines of one kind at most once a second: the others are counted, and the count logged. */
#pragma once

#include <glib.h>

#include "process/sg-context.h"

/* One kind of line (refused callers, dropped clients): a plain value, init and clear. */
typedef struct {
	SgContext *context;
	SgLogLevel level;
	const char *what; /* the summary's subject, e.g. "D-Bus: refused callers" */
	gboolean logged;  /* a line went out at last_usec */
	gint64 last_usec; /* on the engine's monotonic clock */
	guint held;       /* lines not logged since */
	guint summary_id; /* the timeout that logs how many were held */
} SgLogLimit;

void sg_log_limit_init(SgLogLimit *limit, SgContext *context, SgLogLevel level, const char *what);
/* Logs the count still held and cancels the timeout. */
void sg_log_limit_clear(SgLogLimit *limit);

/*
 * Logs the line if none of this kind went out in the last SG_LOG_LIMIT_INTERVAL_MS; else
 * counts it, and once the interval is over one line says "WHAT: N more in the last
 * second, not logged one by one". The timeout is armed only while lines are held.
 */
void sg_log_limit_log(SgLogLimit *limit, const char *format, ...) G_GNUC_PRINTF(2, 3);
