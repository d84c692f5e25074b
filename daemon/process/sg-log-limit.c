/* SPDX-License-Identifier: MIT */
/* Rate-limited log lines: one a second per kind, with a count of those held back. */
#include "config.h"

#include "process/sg-log-limit.h"

#include "base/sg-limits.h"

void
sg_log_limit_init(SgLogLimit *limit, SgContext *context, SgLogLevel level, const char *what)
{
	*limit = (SgLogLimit){ .context = context, .level = level, .what = what };
}

static void
log_held(SgLogLimit *limit)
{
	if (limit->held == 0)
		return;
	sg_context_log(limit->context, limit->level,
	               "%s: %u more in the last second, not logged one by one", limit->what,
	               limit->held);
	limit->held = 0;
	limit->logged = TRUE;
	limit->last_usec = sg_clock_monotonic_usec(limit->context->clock);
}

static void
summary_cb(gpointer user_data)
{
	SgLogLimit *limit = user_data;

	limit->summary_id = 0;
	log_held(limit);
}

void
sg_log_limit_clear(SgLogLimit *limit)
{
	if (limit->context == NULL)
		return;
	sg_clock_clear(limit->context->clock, &limit->summary_id);
	log_held(limit);
	limit->context = NULL;
}

void
sg_log_limit_log(SgLogLimit *limit, const char *format, ...)
{
	gint64 now = sg_clock_monotonic_usec(limit->context->clock);
	gint64 interval = (gint64)SG_LOG_LIMIT_INTERVAL_MS * 1000;
	va_list args;

	if (limit->summary_id == 0 && (!limit->logged || now - limit->last_usec >= interval)) {
		va_start(args, format);
		if (limit->context->log != NULL &&
		    sg_log_enabled(limit->context->log, limit->level))
			sg_log_writev(limit->context->log, limit->level, format, args);
		va_end(args);
		limit->logged = TRUE;
		limit->last_usec = now;
		return;
	}
	limit->held++;
	if (limit->summary_id == 0)
		limit->summary_id = sg_clock_add_timeout(
		        limit->context->clock,
		        (guint64)(limit->last_usec + interval - now + 999) / 1000, summary_cb,
		        limit);
}
