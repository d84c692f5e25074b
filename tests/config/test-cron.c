/* SPDX-License-Identifier: MIT */
/* Tests of cron parsing and next due times: field forms, Vixie's day rule and daylight saving. */
#include "config.h"

#include "config/sg-cron.h"
#include "base/sg-error.h"

#include <glib.h>

typedef struct {
	const char *expression;
	const char *timezone;
	const char *after;
	const char *expected; /* NULL: never due */
} NextCase;

/*
 * Europe/Paris: 2024-03-31 02:00 CET -> 03:00 CEST (01:00Z), 2024-10-27 03:00 CEST -> 02:00 CET
 * (01:00Z). America/New_York: 2024-03-10 02:00 EST -> 03:00 EDT (07:00Z), 2024-11-03
 * 02:00 EDT -> 01:00 EST (06:00Z). 2024-01-01 was a Monday.
 */
static const NextCase next_cases[] = {
	/* Every field form. */
	{ "* * * * * *", "UTC", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z" },
	{ "* * * * * *", "UTC", "2024-01-01T00:00:00.5Z", "2024-01-01T00:00:01Z" },
	{ "* * * * * *", "UTC", "2024-01-01T00:00:00.999999Z", "2024-01-01T00:00:01Z" },
	{ "0 * * * * *", "UTC", "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z" },
	{ "* * * * *", "UTC", "2024-01-01T00:00:30Z", "2024-01-01T00:01:00Z" },
	{ "30 * * * * *", "UTC", "2024-01-01T00:00:30Z", "2024-01-01T00:01:30Z" },
	{ "*/15 * * * * *", "UTC", "2024-01-01T00:00:44Z", "2024-01-01T00:00:45Z" },
	{ "0 */5 * * * *", "UTC", "2024-01-01T00:57:00Z", "2024-01-01T01:00:00Z" },
	{ "0 1-30/2 * * * *", "UTC", "2024-01-01T00:29:30Z", "2024-01-01T01:01:00Z" },
	{ "0 5/10 * * * *", "UTC", "2024-01-01T10:55:00Z", "2024-01-01T11:05:00Z" },
	{ "0 5/10 * * * *", "UTC", "2024-01-01T10:44:59Z", "2024-01-01T10:45:00Z" },
	{ "0 0,15,45 * * * *", "UTC", "2024-01-01T10:15:00Z", "2024-01-01T10:45:00Z" },
	{ "0 0 9-17 * * *", "UTC", "2024-01-01T17:00:00Z", "2024-01-02T09:00:00Z" },
	{ "0 0 8-10,20 * * *", "UTC", "2024-01-01T10:00:00Z", "2024-01-01T20:00:00Z" },
	{ "*/20 0 0-23/6 * * *", "UTC", "2024-01-01T06:00:40Z", "2024-01-01T12:00:00Z" },
	{ "5,10 1 1 * * *", "UTC", "2024-01-01T01:01:05Z", "2024-01-01T01:01:10Z" },
	{ "30 12 * * *", "UTC", "2024-01-01T12:30:00Z", "2024-01-02T12:30:00Z" },
	/* Names, in any case, alone, in lists and in ranges; 0 and 7 are Sunday. */
	{ "0 30 12 * * MON-FRI", "UTC", "2024-01-05T12:30:00Z", "2024-01-08T12:30:00Z" },
	{ "0 0 12 * * sat,SUN", "UTC", "2024-01-01T00:00:00Z", "2024-01-06T12:00:00Z" },
	{ "0 0 0 * * 7", "UTC", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z" },
	{ "0 0 0 * * 0", "UTC", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z" },
	{ "0 0 0 * * 5-7", "UTC", "2024-01-07T00:00:00Z", "2024-01-12T00:00:00Z" },
	{ "0 0 0 * * Fri-Sun", "UTC", "2024-01-07T00:00:00Z", "2024-01-12T00:00:00Z" },
	{ "0 0 0 * * */2", "UTC", "2024-01-07T00:00:00Z", "2024-01-09T00:00:00Z" },
	{ "0 0 0 1 jan-mar *", "UTC", "2024-03-01T00:00:00Z", "2025-01-01T00:00:00Z" },
	{ "0 0 0 1 JUN,dec *", "UTC", "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z" },
	{ "0 0 0 1 */3 *", "UTC", "2024-02-01T00:00:00Z", "2024-04-01T00:00:00Z" },
	{ "0 0 0 1 Feb/5 *", "UTC", "2024-03-01T00:00:00Z", "2024-07-01T00:00:00Z" },
	/* Macros. */
	{ "@hourly", "UTC", "2024-01-01T10:30:00Z", "2024-01-01T11:00:00Z" },
	{ "@daily", "UTC", "2024-01-01T10:30:00Z", "2024-01-02T00:00:00Z" },
	{ "@midnight", "UTC", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z" },
	{ "@weekly", "UTC", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z" },
	{ "@monthly", "UTC", "2024-01-31T12:00:00Z", "2024-02-01T00:00:00Z" },
	{ "@yearly", "UTC", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00Z" },
	{ "@annually", "UTC", "2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z" },
	{ "  @DAILY\t", "UTC", "2024-01-01T10:30:00Z", "2024-01-02T00:00:00Z" },
	/* Vixie: both day fields restricted, either matches; one starting with '*', both. */
	{ "0 0 0 13 * FRI", "UTC", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z" },
	{ "0 0 0 13 * FRI", "UTC", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z" },
	{ "0 0 0 1-7 * MON", "UTC", "2024-01-07T00:00:00Z", "2024-01-08T00:00:00Z" },
	{ "0 0 0 1 * MON", "UTC", "2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z" },
	{ "0 0 0 * * FRI", "UTC", "2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z" },
	{ "0 0 0 13 * *", "UTC", "2024-01-01T00:00:00Z", "2024-01-13T00:00:00Z" },
	{ "0 0 0 */2 * MON", "UTC", "2024-01-01T00:00:00Z", "2024-01-15T00:00:00Z" },
	{ "0 0 0 13 * */7", "UTC", "2024-01-01T00:00:00Z", "2024-10-13T00:00:00Z" },
	/* 29 February, 30 February, end of month, year rollover. */
	{ "0 0 0 29 2 *", "UTC", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z" },
	{ "0 0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z" },
	{ "0 0 0 29 2 *", "UTC", "2024-02-28T23:59:59Z", "2024-02-29T00:00:00Z" },
	/* The longest wait of all: 29 February on a Sunday, 2100 not being a leap year. */
	{ "0 0 0 29 2 */7", "UTC", "2088-03-01T00:00:00Z", "2128-02-29T00:00:00Z" },
	/* Both day fields restricted: every Monday of February, though it has no 30th. */
	{ "0 0 0 30 2 MON", "UTC", "2024-01-01T00:00:00Z", "2024-02-05T00:00:00Z" },
	{ "0 0 0 31 2,3 *", "UTC", "2024-01-01T00:00:00Z", "2024-03-31T00:00:00Z" },
	{ "0 0 0 31 * *", "UTC", "2024-01-31T00:00:00Z", "2024-03-31T00:00:00Z" },
	{ "0 0 0 31 * *", "UTC", "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z" },
	{ "0 0 0 30 * *", "UTC", "2023-01-30T00:00:00Z", "2023-03-30T00:00:00Z" },
	{ "0 0 0 1 1 *", "UTC", "2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z" },
	{ "59 59 23 31 12 *", "UTC", "2024-12-31T23:59:59Z", "2025-12-31T23:59:59Z" },
	{ "* * * * * *", "UTC", "2024-12-31T23:59:59.999Z", "2025-01-01T00:00:00Z" },
	{ "0 0 0 * * *", "UTC", "1969-12-31T12:00:00Z", "1970-01-01T00:00:00Z" },
	/* Zones without a transition in sight. */
	{ "0 0 9 * * *", "Europe/Paris", "2024-01-15T09:00:00+01:00", "2024-01-16T09:00:00+01:00" },
	{ "0 0 9 * * *", "Asia/Tokyo", "2024-01-14T23:00:00Z", "2024-01-15T09:00:00+09:00" },
	{ "0 0 0 * * *", "Asia/Kolkata", "2024-01-15T00:00:00+05:30", "2024-01-16T00:00:00+05:30" },
	/* Paris, spring forward: a fixed time in the gap runs once, at its end. */
	{ "0 30 2 * * *", "Europe/Paris", "2024-03-31T01:00:00+01:00",
	  "2024-03-31T03:00:00+02:00" },
	{ "0 30 2 * * *", "Europe/Paris", "2024-03-31T03:00:00+02:00",
	  "2024-04-01T02:30:00+02:00" },
	{ "0 0 2 * * *", "Europe/Paris", "2024-03-30T12:00:00+01:00", "2024-03-31T03:00:00+02:00" },
	{ "0 0 3 * * *", "Europe/Paris", "2024-03-30T12:00:00+01:00", "2024-03-31T03:00:00+02:00" },
	{ "0 30 1 * * *", "Europe/Paris", "2024-03-30T12:00:00+01:00",
	  "2024-03-31T01:30:00+01:00" },
	{ "30 2 * * *", "Europe/Paris", "2024-03-31T01:59:59+01:00", "2024-03-31T03:00:00+02:00" },
	{ "*/20 30 2 * * *", "Europe/Paris", "2024-03-31T01:00:00+01:00",
	  "2024-03-31T03:00:00+02:00" },
	{ "*/20 30 2 * * *", "Europe/Paris", "2024-03-31T03:00:00+02:00",
	  "2024-04-01T02:30:00+02:00" },
	{ "0 30 2,3 * * *", "Europe/Paris", "2024-03-31T03:00:00+02:00",
	  "2024-03-31T03:30:00+02:00" },
	/* Paris, spring forward: wildcards follow the clock, so 02:xx never comes. */
	{ "0 30 * * * *", "Europe/Paris", "2024-03-31T01:30:00+01:00",
	  "2024-03-31T03:30:00+02:00" },
	{ "0 */15 * * * *", "Europe/Paris", "2024-03-31T01:45:00+01:00",
	  "2024-03-31T03:00:00+02:00" },
	{ "0 30 2-3 * * *", "Europe/Paris", "2024-03-31T01:00:00+01:00",
	  "2024-03-31T03:30:00+02:00" },
	{ "0 * 2 * * *", "Europe/Paris", "2024-03-31T01:00:00+01:00", "2024-04-01T02:00:00+02:00" },
	/* Paris, fall back: a fixed time runs at the first 02:30 only. */
	{ "0 30 2 * * *", "Europe/Paris", "2024-10-27T00:00:00+02:00",
	  "2024-10-27T02:30:00+02:00" },
	{ "0 30 2 * * *", "Europe/Paris", "2024-10-27T02:30:00+02:00",
	  "2024-10-28T02:30:00+01:00" },
	{ "0 30 2 * * *", "Europe/Paris", "2024-10-27T02:00:00+01:00",
	  "2024-10-28T02:30:00+01:00" },
	{ "0 0 3 * * *", "Europe/Paris", "2024-10-27T02:59:59+02:00", "2024-10-27T03:00:00+01:00" },
	{ "0 0 2 * * *", "Europe/Paris", "2024-10-26T12:00:00+02:00", "2024-10-27T02:00:00+02:00" },
	/* Paris, fall back: wildcards run in both occurrences of the hour. */
	{ "0 30 * * * *", "Europe/Paris", "2024-10-27T02:30:00+02:00",
	  "2024-10-27T02:30:00+01:00" },
	{ "0 */15 * * * *", "Europe/Paris", "2024-10-27T02:45:00+02:00",
	  "2024-10-27T02:00:00+01:00" },
	{ "0 0 * * * *", "Europe/Paris", "2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00" },
	{ "0 0 2-3 * * *", "Europe/Paris", "2024-10-27T02:00:00+02:00",
	  "2024-10-27T02:00:00+01:00" },
	/* New York, spring forward. */
	{ "0 15 2 * * *", "America/New_York", "2024-03-10T00:00:00-05:00",
	  "2024-03-10T03:00:00-04:00" },
	{ "0 15 2 * * *", "America/New_York", "2024-03-10T03:00:00-04:00",
	  "2024-03-11T02:15:00-04:00" },
	{ "0 30 2,3 * * *", "America/New_York", "2024-03-10T01:59:00-05:00",
	  "2024-03-10T03:00:00-04:00" },
	{ "0 */20 * * * *", "America/New_York", "2024-03-10T01:40:00-05:00",
	  "2024-03-10T03:00:00-04:00" },
	{ "0 0 * * * *", "America/New_York", "2024-03-10T01:00:00-05:00",
	  "2024-03-10T03:00:00-04:00" },
	{ "0 30 2-3 * * *", "America/New_York", "2024-03-10T01:59:00-05:00",
	  "2024-03-10T03:30:00-04:00" },
	/* New York, fall back. */
	{ "0 30 1 * * *", "America/New_York", "2024-11-03T00:00:00-04:00",
	  "2024-11-03T01:30:00-04:00" },
	{ "0 30 1 * * *", "America/New_York", "2024-11-03T01:30:00-04:00",
	  "2024-11-04T01:30:00-05:00" },
	{ "0 0 1 * * *", "America/New_York", "2024-11-03T00:30:00-04:00",
	  "2024-11-03T01:00:00-04:00" },
	{ "0 30 * * * *", "America/New_York", "2024-11-03T01:30:00-04:00",
	  "2024-11-03T01:30:00-05:00" },
	{ "0 0 1-2 * * *", "America/New_York", "2024-11-03T01:00:00-04:00",
	  "2024-11-03T01:00:00-05:00" },
	{ "0 0 2 * * *", "America/New_York", "2024-11-03T01:30:00-05:00",
	  "2024-11-03T02:00:00-05:00" },
	/* More forms: 1-7 reaches Sunday, five fields with names, macros in zones, Vixie in a
	 * restricted month, ranges at the end of months, weekdays across the year. */
	{ "0 0 0 * * 1-7", "UTC", "2024-01-06T00:00:00Z", "2024-01-07T00:00:00Z" },
	{ "0 9 * jan,jul mon", "UTC", "2024-01-31T12:00:00Z", "2024-07-01T09:00:00Z" },
	{ "@weekly", "Europe/Paris", "2024-03-30T12:00:00+01:00", "2024-03-31T00:00:00+01:00" },
	{ "@monthly", "America/New_York", "2024-10-31T23:59:59-04:00",
	  "2024-11-01T00:00:00-04:00" },
	{ "0 0 12 29 2 MON", "UTC", "2024-02-27T12:00:00Z", "2024-02-29T12:00:00Z" },
	{ "0 0 12 29 2 MON", "UTC", "2024-02-29T12:00:00Z", "2025-02-03T12:00:00Z" },
	{ "0 0 0 28-31 * *", "UTC", "2023-02-28T00:00:00Z", "2023-03-28T00:00:00Z" },
	{ "0 0 0 * * SUN", "UTC", "2024-12-29T00:00:00Z", "2025-01-05T00:00:00Z" },
	/* A step in the hour follows the clock through both changes. */
	{ "0 0 */2 * * *", "Europe/Paris", "2024-10-27T02:00:00+02:00",
	  "2024-10-27T02:00:00+01:00" },
	{ "0 */30 2 * * *", "America/New_York", "2024-03-10T01:00:00-05:00",
	  "2024-03-11T02:00:00-04:00" },
	/* Lord Howe moves its clock by half an hour: 02:00 -> 02:30 on 2024-10-06. */
	{ "0 15 2 * * *", "Australia/Lord_Howe", "2024-10-06T00:00:00+10:30",
	  "2024-10-06T02:30:00+11:00" },
	{ "0 */10 2 * * *", "Australia/Lord_Howe", "2024-10-06T01:55:00+10:30",
	  "2024-10-06T02:30:00+11:00" },
};

static GTimeZone *
zone_or_fail(const char *name)
{
	GTimeZone *tz = g_time_zone_new_identifier(name);

	/* tzdata is a dependency of the project: a missing zone is a failure, not a skip. */
	if (tz == NULL)
		g_error("time zone %s is not installed (tzdata)", name);
	return tz;
}

static gint64
parse_instant(const char *text)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, NULL);

	g_assert_nonnull(dt);
	return g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
}

/* An instant as RFC 3339 in tz, so that a failure shows both times readably. */
static char *
format_instant(gint64 usec, GTimeZone *tz)
{
	g_autoptr(GDateTime) utc = NULL;
	g_autoptr(GDateTime) local = NULL;

	if (usec == -1)
		return g_strdup("never");
	/* Due times are whole seconds. */
	g_assert_cmpint(usec % G_USEC_PER_SEC, ==, 0);
	utc = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);
	g_assert_nonnull(utc);
	local = g_date_time_to_timezone(utc, tz);
	return g_date_time_format(local, "%Y-%m-%dT%H:%M:%S%:z");
}

static void
test_next_table(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(next_cases); i++) {
		const NextCase *c = &next_cases[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(SgCronSchedule) schedule = sg_cron_parse(c->expression, &error);
		g_autoptr(GTimeZone) tz = zone_or_fail(c->timezone);
		gint64 expected = c->expected != NULL ? parse_instant(c->expected) : -1;
		gint64 next;
		g_autofree char *expected_text = NULL;
		g_autofree char *next_text = NULL;

		g_test_message("case %u: \"%s\" in %s after %s", i, c->expression, c->timezone,
		               c->after);
		g_assert_no_error(error);
		g_assert_nonnull(schedule);
		next = sg_cron_next(schedule, tz, parse_instant(c->after));
		expected_text = format_instant(expected, tz);
		next_text = format_instant(next, tz);
		g_assert_cmpstr(next_text, ==, expected_text);
		g_assert_cmpint(next, ==, expected);
	}
}

/* NULL stands for local time, which follows TZ (set in main). */
static void
test_next_local(void)
{
	g_autoptr(SgCronSchedule) schedule = sg_cron_parse("0 30 2 * * *", NULL);
	g_autoptr(GTimeZone) paris = zone_or_fail("Europe/Paris");
	gint64 after = parse_instant("2024-03-31T00:00:00+01:00");

	g_assert_nonnull(schedule);
	g_assert_cmpint(sg_cron_next(schedule, NULL, after), ==,
	                parse_instant("2024-03-31T03:00:00+02:00"));
	g_assert_cmpint(sg_cron_next(schedule, NULL, after), ==,
	                sg_cron_next(schedule, paris, after));
}

typedef struct {
	const char *expression;
	const char *timezone;
	const char *from;
	gint64 step_seconds; /* every run this long after the one before */
	guint count;
} StepRun;

/*
 * Consecutive runs of wildcard schedules across a change: real time between runs stays
 * constant, so no run is repeated and none is skipped.
 */
static void
test_next_consecutive_wildcard(void)
{
	static const StepRun runs[] = {
		{ "0 */30 * * * *", "Europe/Paris", "2024-10-26T23:00:00+02:00", 1800, 16 },
		{ "0 */30 * * * *", "Europe/Paris", "2024-03-30T23:00:00+01:00", 1800, 16 },
		{ "0 */10 * * * *", "America/New_York", "2024-11-03T00:00:00-04:00", 600, 30 },
		{ "0 */10 * * * *", "America/New_York", "2024-03-10T00:30:00-05:00", 600, 30 },
		{ "0 0 * * * *", "Europe/Paris", "2024-10-26T22:00:00+02:00", 3600, 8 },
		{ "0 0 * * * *", "America/New_York", "2024-03-09T23:00:00-05:00", 3600, 8 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(runs); i++) {
		g_autoptr(SgCronSchedule) schedule = sg_cron_parse(runs[i].expression, NULL);
		g_autoptr(GTimeZone) tz = zone_or_fail(runs[i].timezone);
		gint64 previous = parse_instant(runs[i].from);

		g_assert_nonnull(schedule);
		for (guint n = 0; n < runs[i].count; n++) {
			gint64 next = sg_cron_next(schedule, tz, previous);

			g_assert_cmpint(next - previous, ==, runs[i].step_seconds * G_USEC_PER_SEC);
			previous = next;
		}
	}
}

typedef struct {
	const char *expression;
	const char *timezone;
	const char *from;
	const char *expected[8];
} ListRun;

/* Consecutive runs listed in full, through both changes of the year. */
static void
test_next_consecutive_list(void)
{
	static const ListRun runs[] = {
		{ "0 30 2 * * *",
		  "Europe/Paris",
		  "2024-03-29T12:00:00+01:00",
		  { "2024-03-30T02:30:00+01:00", "2024-03-31T03:00:00+02:00",
		    "2024-04-01T02:30:00+02:00", NULL } },
		{ "0 30 2 * * *",
		  "Europe/Paris",
		  "2024-10-25T12:00:00+02:00",
		  { "2024-10-26T02:30:00+02:00", "2024-10-27T02:30:00+02:00",
		    "2024-10-28T02:30:00+01:00", NULL } },
		{ "0 0,30 1 * * *",
		  "America/New_York",
		  "2024-11-02T12:00:00-04:00",
		  { "2024-11-03T01:00:00-04:00", "2024-11-03T01:30:00-04:00",
		    "2024-11-04T01:00:00-05:00", "2024-11-04T01:30:00-05:00", NULL } },
		{ "0 0,30 2 * * *",
		  "America/New_York",
		  "2024-03-09T12:00:00-05:00",
		  { "2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00",
		    "2024-03-11T02:30:00-04:00", NULL } },
		{ "0 45 1,2 * * *",
		  "Europe/Paris",
		  "2024-10-27T00:00:00+02:00",
		  { "2024-10-27T01:45:00+02:00", "2024-10-27T02:45:00+02:00",
		    "2024-10-28T01:45:00+01:00", "2024-10-28T02:45:00+01:00", NULL } },
		{ "0 30 * * * *",
		  "Europe/Paris",
		  "2024-10-27T01:00:00+02:00",
		  { "2024-10-27T01:30:00+02:00", "2024-10-27T02:30:00+02:00",
		    "2024-10-27T02:30:00+01:00", "2024-10-27T03:30:00+01:00", NULL } },
	};

	for (guint i = 0; i < G_N_ELEMENTS(runs); i++) {
		g_autoptr(SgCronSchedule) schedule = sg_cron_parse(runs[i].expression, NULL);
		g_autoptr(GTimeZone) tz = zone_or_fail(runs[i].timezone);
		gint64 previous = parse_instant(runs[i].from);

		g_assert_nonnull(schedule);
		for (guint n = 0; runs[i].expected[n] != NULL; n++) {
			gint64 next = sg_cron_next(schedule, tz, previous);
			g_autofree char *next_text = format_instant(next, tz);
			g_autofree char *expected_text =
			        format_instant(parse_instant(runs[i].expected[n]), tz);

			g_assert_cmpstr(next_text, ==, expected_text);
			previous = next;
		}
	}
}

/*
 * A reference that states the rules directly, minute by minute, instead of walking the
 * zone's intervals: compared with sg_cron_next() at many starting points around changes.
 */
typedef gboolean (*WallMatch)(int hour, int minute);

static gboolean
match_every_15(int hour, int minute)
{
	return minute % 15 == 0;
}

static gboolean
match_0230(int hour, int minute)
{
	return hour == 2 && minute == 30;
}

static gboolean
match_hours_1_to_3(int hour, int minute)
{
	return hour >= 1 && hour <= 3 && minute == 0;
}

static gboolean
match_45_past_1_and_2(int hour, int minute)
{
	return (hour == 1 || hour == 2) && minute == 45;
}

static gboolean
match_any_minute_of_2(int hour, int minute)
{
	return hour == 2;
}

typedef struct {
	const char *expression;
	gboolean fixed_time;
	WallMatch match;
} ReferenceSchedule;

static gint32
offset_at(GTimeZone *tz, gint64 instant)
{
	return g_time_zone_get_offset(
	        tz, g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, instant));
}

static gboolean
wall_matches(const ReferenceSchedule *ref, gint64 local_seconds)
{
	gint64 of_day = ((local_seconds % 86400) + 86400) % 86400;

	return ref->match((int)(of_day / 3600), (int)(of_day / 60 % 60));
}

static gboolean
reference_due(const ReferenceSchedule *ref, GTimeZone *tz, gint64 instant)
{
	gint32 offset = offset_at(tz, instant);
	gint32 before = offset_at(tz, instant - 60);
	gint32 hours_before = offset_at(tz, instant - 6 * 3600);
	gint64 wall = instant + offset;

	if (!ref->fixed_time)
		return wall_matches(ref, wall);
	/* Shown twice: due at the first showing only. */
	if (wall_matches(ref, wall)) {
		gint64 earlier = wall - hours_before;

		if (!(hours_before > offset && offset_at(tz, earlier) == hours_before))
			return TRUE;
	}
	/* The first instant after a gap takes every match inside the gap. */
	if (before < offset) {
		for (gint64 skipped = instant + before; skipped < wall; skipped += 60) {
			if (wall_matches(ref, skipped))
				return TRUE;
		}
	}
	return FALSE;
}

static void
test_next_reference(void)
{
	static const ReferenceSchedule refs[] = {
		{ "0 */15 * * * *", FALSE, match_every_15 },
		{ "0 30 2 * * *", TRUE, match_0230 },
		{ "0 0 1-3 * * *", FALSE, match_hours_1_to_3 },
		{ "0 0 1,2,3 * * *", TRUE, match_hours_1_to_3 },
		{ "0 45 1,2 * * *", TRUE, match_45_past_1_and_2 },
		{ "0 * 2 * * *", FALSE, match_any_minute_of_2 },
	};
	static const struct {
		const char *timezone;
		const char *from;
	} windows[] = {
		{ "Europe/Paris", "2024-03-30T00:00:00Z" },
		{ "Europe/Paris", "2024-10-26T00:00:00Z" },
		{ "America/New_York", "2024-03-09T12:00:00Z" },
		{ "America/New_York", "2024-11-02T12:00:00Z" },
		{ "Australia/Lord_Howe", "2024-04-06T00:00:00Z" },
		{ "Australia/Lord_Howe", "2024-10-05T00:00:00Z" },
	};
	const gint64 span = 3 * 86400;

	for (guint w = 0; w < G_N_ELEMENTS(windows); w++) {
		g_autoptr(GTimeZone) tz = zone_or_fail(windows[w].timezone);
		gint64 start = parse_instant(windows[w].from) / G_USEC_PER_SEC;

		for (guint r = 0; r < G_N_ELEMENTS(refs); r++) {
			g_autoptr(SgCronSchedule) schedule =
			        sg_cron_parse(refs[r].expression, NULL);
			g_autoptr(GArray) due = g_array_new(FALSE, FALSE, sizeof(gint64));
			guint index = 0;

			g_assert_nonnull(schedule);
			for (gint64 t = start; t < start + span + 86400; t += 60) {
				if (reference_due(&refs[r], tz, t))
					g_array_append_val(due, t);
			}
			/* Every start point, at 7-minute strides, so all phases get visited. */
			for (gint64 after = start; after < start + span; after += 7 * 60 + 13) {
				gint64 expected;
				gint64 next;

				while (index < due->len &&
				       g_array_index(due, gint64, index) <= after)
					index++;
				g_assert_cmpuint(index, <, due->len);
				expected = g_array_index(due, gint64, index) * G_USEC_PER_SEC;
				next = sg_cron_next(schedule, tz, after * G_USEC_PER_SEC);
				if (next != expected) {
					g_autofree char *a =
					        format_instant(after * G_USEC_PER_SEC, tz);
					g_autofree char *e = format_instant(expected, tz);
					g_autofree char *n = format_instant(next, tz);

					g_test_message("\"%s\" in %s after %s: expected %s, got %s",
					               refs[r].expression, windows[w].timezone, a,
					               e, n);
				}
				g_assert_cmpint(next, ==, expected);
			}
		}
	}
}

typedef struct {
	const char *expression;
	const char *message;
} ErrorCase;

static const ErrorCase error_cases[] = {
	{ "", "expected 5 or 6 fields, found 0" },
	{ "   ", "expected 5 or 6 fields, found 0" },
	{ "* * * *", "expected 5 or 6 fields, found 4" },
	{ "* * * * * * *", "expected 5 or 6 fields, found 7" },
	{ "60 * * * * *", "second field: 60 is out of range 0-59" },
	{ "61 * * * *", "minute field: 61 is out of range 0-59" },
	{ "0 0 24 * * *", "hour field: 24 is out of range 0-23" },
	{ "0 0 0 0 * *", "day-of-month field: 0 is out of range 1-31" },
	{ "0 0 0 32 * *", "day-of-month field: 32 is out of range 1-31" },
	{ "0 0 0 * 0 *", "month field: 0 is out of range 1-12" },
	{ "0 0 0 * 13 *", "month field: 13 is out of range 1-12" },
	{ "0 0 0 * * 8", "day-of-week field: 8 is out of range 0-7" },
	{ "99999999999999999999 * * * *",
	  "minute field: 99999999999999999999 is out of range 0-59" },
	{ "0 0 0 1-40 * *", "day-of-month field: 40 is out of range 1-31" },
	{ "0 0 0 * * FOO", "day-of-week field: \"FOO\" is not a number or a weekday name" },
	{ "0 0 0 * * MONDAY", "day-of-week field: \"MONDAY\" is not a number or a weekday name" },
	{ "0 0 0 * * JAN", "day-of-week field: \"JAN\" is not a number or a weekday name" },
	{ "0 0 0 * FOO *", "month field: \"FOO\" is not a number or a month name" },
	{ "0 0 0 * MON *", "month field: \"MON\" is not a number or a month name" },
	{ "x * * * *", "minute field: \"x\" is not a number" },
	{ "0 0 JAN * * *", "hour field: \"JAN\" is not a number" },
	{ "5x * * * *", "minute field: \"5x\" is not a number" },
	{ "? * * * *", "minute field: \"?\" is not a number" },
	{ "-5 * * * *", "minute field: \"-5\" is not a number" },
	{ "1,,2 * * * *", "minute field: empty list item" },
	{ "1, * * * *", "minute field: empty list item" },
	{ "0 0 0 ,1 * *", "day-of-month field: empty list item" },
	{ "*/0 * * * *", "minute field: step 0 is out of range 1-59" },
	{ "0 0 1-5/0 * * *", "hour field: step 0 is out of range 1-23" },
	{ "*/60 * * * *", "minute field: step 60 is out of range 1-59" },
	{ "*/x * * * *", "minute field: step \"x\" is not a number" },
	{ "*/-1 * * * *", "minute field: step \"-1\" is not a number" },
	{ "*/ * * * *", "minute field: missing number at the end of \"*/\"" },
	{ "5- * * * *", "minute field: missing number at the end of \"5-\"" },
	{ "30-10 * * * *", "minute field: range 30-10 is reversed" },
	{ "0 0 0 * * FRI-MON", "day-of-week field: range FRI-MON is reversed" },
	{ "0 0 0 * dec-jan *", "month field: range dec-jan is reversed" },
	{ "1-2-3 * * * *", "minute field: unexpected \"-3\" in \"1-2-3\"" },
	{ "*x * * * *", "minute field: unexpected \"x\" in \"*x\"" },
	{ "*-5 * * * *", "minute field: unexpected \"-5\" in \"*-5\"" },
	{ "*/5/2 * * * *", "minute field: unexpected \"/2\" in \"*/5/2\"" },
	{ "5.5 * * * *", "minute field: unexpected \".5\" in \"5.5\"" },
	{ "0 0 0 L * *", "day-of-month field: \"L\" is not a number" },
	{ "0 0 0 * * 5#3", "day-of-week field: unexpected \"#3\" in \"5#3\"" },
	{ "@reboot", "unknown macro \"@reboot\" (known: @hourly, @daily, @midnight, @weekly, "
	             "@monthly, @yearly, @annually)" },
	{ "@", "unknown macro \"@\" (known: @hourly, @daily, @midnight, @weekly, @monthly, "
	       "@yearly, @annually)" },
	{ "@daily 1", "unexpected \"1\" after @daily" },
};

static void
test_parse_errors(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(error_cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(SgCronSchedule) schedule = NULL;

		g_test_message("case %u: \"%s\"", i, error_cases[i].expression);
		schedule = sg_cron_parse(error_cases[i].expression, &error);
		g_assert_null(schedule);
		g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
		g_assert_cmpstr(error->message, ==, error_cases[i].message);
	}
}

static void
test_never_fires(void)
{
	static const struct {
		const char *expression;
		const char *message;
	} cases[] = {
		{ "0 0 0 30 2 *", "cron expression never fires: no month of its month field (FEB) "
		                  "has a day of its day-of-month field (30)" },
		{ "0 0 0 31 2 *", "cron expression never fires: no month of its month field (FEB) "
		                  "has a day of its day-of-month field (31)" },
		{ "0 0 31 4,6,9,11 *",
		  "cron expression never fires: no month of its month field (APR, JUN, SEP, NOV) "
		  "has a day of its day-of-month field (31)" },
		{ "* * * 30-31 feb */7",
		  "cron expression never fires: no month of its month "
		  "field (FEB) has a day of its day-of-month field (30, 31)" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(SgCronSchedule) schedule = sg_cron_parse(cases[i].expression, &error);

		g_test_message("case %u: \"%s\"", i, cases[i].expression);
		g_assert_null(schedule);
		g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
		g_assert_cmpstr(error->message, ==, cases[i].message);
	}
}

/* The rule on the fields agrees with the search: what parses has a next run, from any year. */
static void
test_never_fires_agrees_with_next(void)
{
	static const char *const weekdays[] = { "*", "*/7", "1-5" };
	static const char *const from[] = { "2000-01-01T00:00:00Z", "2096-03-01T00:00:00Z",
		                            "2281-01-01T00:00:00Z" };
	g_autoptr(GTimeZone) utc = zone_or_fail("UTC");

	for (guint month = 1; month <= 12; month++) {
		for (guint day = 1; day <= 31; day++) {
			for (guint w = 0; w < G_N_ELEMENTS(weekdays); w++) {
				g_autofree char *expression =
				        g_strdup_printf("0 0 0 %u %u %s", day, month, weekdays[w]);
				g_autoptr(GError) error = NULL;
				g_autoptr(SgCronSchedule) schedule =
				        sg_cron_parse(expression, &error);
				gboolean real = day <= 29 || (day == 30 && month != 2) ||
				                (day == 31 && month != 2 && month != 4 &&
				                 month != 6 && month != 9 && month != 11);

				/* Both fields restricted: either one matching is enough. */
				if (weekdays[w][0] != '*')
					real = TRUE;
				g_assert_true((schedule != NULL) == real);
				if (schedule == NULL) {
					g_assert_true(g_str_has_prefix(
					        error->message, "cron expression never fires: "));
					continue;
				}
				for (guint f = 0; f < G_N_ELEMENTS(from); f++)
					g_assert_cmpint(
					        sg_cron_next(schedule, utc, parse_instant(from[f])),
					        >, parse_instant(from[f]));
			}
		}
	}
}

static void
test_parse_accepts(void)
{
	static const char *const accepted[] = {
		"0 0 0 * * 0-7",
		"0 0 0 * * SUN-SAT",
		"00 05 09 01 01 *",
		"\t0  0\t0 * * *  ",
		"0,1,2,3,4,5,6,7,8,9 * * * *",
		"* * * * * *,5",
		"0 0 0 1-31/31 1-12/12 *",
		"0 0 0 * * */7",
		"@Weekly",
	};

	for (guint i = 0; i < G_N_ELEMENTS(accepted); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(SgCronSchedule) schedule = sg_cron_parse(accepted[i], &error);

		g_test_message("case %u: \"%s\"", i, accepted[i]);
		g_assert_no_error(error);
		g_assert_nonnull(schedule);
	}
	sg_cron_schedule_free(NULL);
}

static void
test_timezone_names(void)
{
	static const struct {
		const char *name;
		gboolean valid;
	} names[] = {
		{ "UTC", TRUE },
		{ "Europe/Paris", TRUE },
		{ "America/New_York", TRUE },
		{ "America/Argentina/Buenos_Aires", TRUE },
		{ "Etc/GMT+5", TRUE },
		{ "Nowhere/Atlantis", FALSE },
		{ "", FALSE },
		{ "Local", FALSE },
		{ "localtime", FALSE },
		{ "+05:00", FALSE },
		{ "/usr/share/zoneinfo/UTC", FALSE },
		{ "Europe/../Europe/Paris", FALSE },
		{ "Europe/", FALSE },
		{ "Europe//Paris", FALSE },
		{ "CET-1CEST,M3.5.0,M10.5.0/3", FALSE },
	};

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_test_message("case %u: \"%s\"", i, names[i].name);
		g_assert_cmpint(sg_cron_timezone_is_valid(names[i].name), ==, names[i].valid);
	}
	g_assert_false(sg_cron_timezone_is_valid(NULL));
}

int
main(int argc, char **argv)
{
	/* Local time for the NULL time zone case; set before GLib first reads it. */
	g_setenv("TZ", "Europe/Paris", TRUE);
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/sg/cron/next-table", test_next_table);
	g_test_add_func("/sg/cron/next-local", test_next_local);
	g_test_add_func("/sg/cron/next-consecutive-wildcard", test_next_consecutive_wildcard);
	g_test_add_func("/sg/cron/next-consecutive-list", test_next_consecutive_list);
	g_test_add_func("/sg/cron/next-reference", test_next_reference);
	g_test_add_func("/sg/cron/parse-errors", test_parse_errors);
	g_test_add_func("/sg/cron/parse-accepts", test_parse_accepts);
	g_test_add_func("/sg/cron/never-fires", test_never_fires);
	g_test_add_func("/sg/cron/never-fires-agrees-with-next", test_never_fires_agrees_with_next);
	g_test_add_func("/sg/cron/timezone-names", test_timezone_names);
	return g_test_run();
}
