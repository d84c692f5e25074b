/* SPDX-License-Identifier: MIT */
/* Cron expressions: parsing and the next due instant in a time zone. Pure: no I/O, no clock. */
#pragma once

#include <glib.h>

typedef struct _SgCronSchedule SgCronSchedule;

/*
 * Parses six fields (second minute hour day-of-month month day-of-week), five fields
 * (second 0 implied), or @hourly @daily @weekly @monthly @yearly (@annually, @midnight).
 * Lists, ranges, steps, '*', month names JAN-DEC and weekday names SUN-SAT (any case),
 * weekdays 0-7 with 0 and 7 both Sunday (a weekday range may end on Sunday: FRI-SUN). A
 * step after a single value runs to the field's end (5/10 is 5-59/10). On failure returns
 * NULL with an error (SG_ERROR_INVALID_CONFIG) naming the field and the bad token, e.g.
 * "minute field: 61 is out of range 0-59". An expression that never fires (0 0 0 30 2 *: no
 * month of its month field has a day of its day-of-month field, both needed) is refused:
 * "cron expression never fires: ...".
 */
SgCronSchedule *sg_cron_parse(const char *expression, GError **error);
void sg_cron_schedule_free(SgCronSchedule *schedule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgCronSchedule, sg_cron_schedule_free)

/*
 * Whether a time zone name is known: an IANA name such as "Europe/Paris", or "UTC". Local
 * time has no name (leave the time zone out): "Local" and "localtime" are refused, as are
 * paths, UTC offsets ("+05:00") and POSIX TZ rules.
 */
gboolean sg_cron_timezone_is_valid(const char *name);

/*
 * The first due instant strictly after `after` (microseconds since the epoch, UTC),
 * evaluated in tz (NULL: local time). Day-of-month and day-of-week combine as in Vixie
 * cron (either matches when both are restricted, that is when neither is written starting
 * with '*'). Daylight saving as Vixie cron: a job whose minute and hour fields are fixed
 * (each only single values or a list of them: no '*', range or step) and that falls in a
 * skipped local hour runs once at the end of the gap (the first instant after it); in a
 * repeated hour it runs once, at the first occurrence. Any other job follows the wall
 * clock: matching local times in a gap never show and are skipped, and those in a repeated
 * hour show twice and run twice. Due times are whole seconds. Returns -1 only when nothing is
 * due within 41 years, which a parsed schedule never is (at most 40 years pass between two
 * due times), or past the end of representable time.
 */
gint64 sg_cron_next(const SgCronSchedule *schedule, GTimeZone *tz, gint64 after);
