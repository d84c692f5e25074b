/* SPDX-License-Identifier: MIT */
/* Fuzz target: cron expressions, time zone names and the next due instant. */
#include "config.h"

#include "fuzz.h"

#include <string.h>

#include "config/sg-cron.h"
#include "base/sg-error.h"

/* 2026-01-31T15:30:00Z, when the input gives no instant of its own. */
#define DEFAULT_AFTER_S G_GINT64_CONSTANT(1769873400)
/* Instants from 1970 to about 2242: what a clock can say. */
#define MAX_AFTER_S G_GINT64_CONSTANT(8589934592)

/* Zones are costly to load: each one once (there are a few hundred names at most). */
static GTimeZone *
zone_for(const char *name)
{
	static GHashTable *zones;
	GTimeZone *tz;

	if (zones == NULL)
		zones = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                              (GDestroyNotify)g_time_zone_unref);
	tz = g_hash_table_lookup(zones, name);
	if (tz == NULL) {
		tz = g_time_zone_new_identifier(name);
		g_assert_nonnull(tz);
		g_hash_table_insert(zones, g_strdup(name), tz);
	}
	return tz;
}

/* "EXPRESSION\nTIME ZONE\nSECONDS SINCE THE EPOCH", the last two optional. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);
	g_auto(GStrv) lines = g_strsplit(text, "\n", 3);
	g_autoptr(SgCronSchedule) schedule = NULL;
	g_autoptr(GError) error = NULL;
	GTimeZone *tz = NULL;
	gint64 after_s = DEFAULT_AFTER_S;
	gint64 after, next;

	sg_fuzz_setup();
	if (lines[0] == NULL)
		return 0;
	if (lines[1] != NULL && lines[1][0] != '\0') {
		if (!sg_cron_timezone_is_valid(lines[1]))
			return 0;
		tz = zone_for(lines[1]);
	}
	if (lines[1] != NULL && lines[2] != NULL)
		after_s = CLAMP(g_ascii_strtoll(lines[2], NULL, 10), 0, MAX_AFTER_S);

	schedule = sg_cron_parse(lines[0], &error);
	if (schedule == NULL) {
		g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
		return 0;
	}
	g_assert_no_error(error);
	/* Local time is the host's: the target uses UTC instead, to stay reproducible. */
	if (tz == NULL)
		tz = zone_for("UTC");
	after = after_s * G_USEC_PER_SEC + (gint64)(size % G_USEC_PER_SEC);
	next = sg_cron_next(schedule, tz, after);
	if (next == -1)
		return 0;
	g_assert_cmpint(next, >, after);
	g_assert_cmpint(next % G_USEC_PER_SEC, ==, 0);
	/* Due times are whole seconds: from just before one, the next is that one. */
	g_assert_cmpint(sg_cron_next(schedule, tz, next - 1), ==, next);
	return 0;
}
