/* SPDX-License-Identifier: MIT */
/* Cron expressions: parsing into per-field bitmasks and the next due instant in a time zone. */
#include "config.h"

#include "config/sg-cron.h"

#include "base/sg-error.h"

#include <glib/gi18n.h>
#include <string.h>

/*
 * Daylight saving, as Vixie cron treats it, made exact:
 *
 * A schedule has a fixed time when its minute and hour fields both consist only of single
 * values ("30", "0,30", "2,14"): no '*', no range and no step. Every other schedule is a
 * wildcard schedule; the second field plays no part in this distinction.
 *
 * A wildcard schedule follows the wall clock: it is due at every instant whose local time
 * matches. Local times inside a gap (spring forward) never show on the clock and are skipped;
 * local times inside a repeated hour (fall back) show twice and are due twice.
 *
 * A fixed-time schedule is due once per matching local time: at its only instant when it
 * exists once, at its first instant when it exists twice, and at the first instant after
 * the gap (the transition itself) when it does not exist, several matches in one gap making
 * one run.
 *
 * Both reduce to one walk over the zone's intervals of constant offset. Inside an interval,
 * local time is the instant plus the offset, so the next match is found on the naive
 * calendar, field by field. A fixed-time schedule lets each interval own the local times
 * from the end of the previous interval's clock (previous offset added to the transition)
 * to the end of its own: this hands a gap's local times to the interval after it (run at
 * its start) and a repeated hour's local times to the interval before it (run once, first).
 */

/*
 * The longest wait between two due times of a schedule that fires at all is 40 years: 29
 * February on a given weekday (on a Sunday: 2088, then 2128, 2100 not being a leap year).
 * The search stops a year past it; what never fires is refused when parsed.
 */
#define HORIZON_SECONDS ((gint64)41 * 36525 * 24 * 36)
/* 365.2425 days, the Gregorian average: enough to bound the search by years. */
#define SECONDS_PER_AVERAGE_YEAR ((gint64)31556952)
/* UTC offsets stay within a day and a few hours, so transitions further back do not matter. */
#define OFFSET_WINDOW_SECONDS ((gint64)3 * 24 * 3600)
/* Names and numbers longer than this cannot be valid; it also keeps parsing from overflowing. */
#define MAX_NUMBER_DIGITS 9

typedef enum {
	FIELD_SECOND,
	FIELD_MINUTE,
	FIELD_HOUR,
	FIELD_DAY_OF_MONTH,
	FIELD_MONTH,
	FIELD_DAY_OF_WEEK,
	N_FIELDS,
} FieldIndex;

typedef enum {
	NAMES_NONE,
	NAMES_MONTHS,
	NAMES_WEEKDAYS,
} FieldNames;

typedef struct {
	const char *label;
	guint min;
	guint max;
	FieldNames names;
} FieldSpec;

static const FieldSpec field_specs[N_FIELDS] = {
	[FIELD_SECOND] = { N_("second field"), 0, 59, NAMES_NONE },
	[FIELD_MINUTE] = { N_("minute field"), 0, 59, NAMES_NONE },
	[FIELD_HOUR] = { N_("hour field"), 0, 23, NAMES_NONE },
	[FIELD_DAY_OF_MONTH] = { N_("day-of-month field"), 1, 31, NAMES_NONE },
	[FIELD_MONTH] = { N_("month field"), 1, 12, NAMES_MONTHS },
	[FIELD_DAY_OF_WEEK] = { N_("day-of-week field"), 0, 7, NAMES_WEEKDAYS },
};

/* JAN is 1, SUN is 0. */
static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
	                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
static const char *const weekday_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };

typedef struct {
	const char *name;
	const char *fields;
} CronMacro;

static const CronMacro macros[] = {
	{ "@hourly", "0 0 * * * *" },   { "@daily", "0 0 0 * * *" },
	{ "@midnight", "0 0 0 * * *" }, { "@weekly", "0 0 0 * * 0" },
	{ "@monthly", "0 0 0 1 * *" },  { "@yearly", "0 0 0 1 1 *" },
	{ "@annually", "0 0 0 1 1 *" },
};

struct _SgCronSchedule {
	/* Bit n set when value n matches; day-of-week uses bits 0-6, Sunday 0. */
	guint64 masks[N_FIELDS];
	/* Vixie's rule looks at whether these fields are written starting with '*'. */
	gboolean day_of_month_star;
	gboolean day_of_week_star;
	gboolean fixed_time;
};

void
sg_cron_schedule_free(SgCronSchedule *schedule)
{
	g_free(schedule);
}

static gboolean set_field_error(GError **error, const FieldSpec *spec, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

static gboolean
set_field_error(GError **error, const FieldSpec *spec, const char *format, ...)
{
	va_list args;
	g_autofree char *message = NULL;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG, "%s: %s", _(spec->label), message);
	return FALSE;
}

static gboolean
token_is_digits(const char *token)
{
	if (*token == '\0')
		return FALSE;
	for (const char *p = token; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
	}
	return TRUE;
}

/* Parses a decimal token of digits only; anything past max stays past max. */
static guint
digits_value(const char *token)
{
	if (strlen(token) > MAX_NUMBER_DIGITS)
		return G_MAXUINT;
	return (guint)g_ascii_strtoull(token, NULL, 10);
}

static gboolean
lookup_name(const FieldSpec *spec, const char *token, guint *ret_value)
{
	const char *const *names = NULL;
	guint n_names = 0;
	guint first = 0;

	if (spec->names == NAMES_MONTHS) {
		names = month_names;
		n_names = G_N_ELEMENTS(month_names);
		first = 1;
	} else if (spec->names == NAMES_WEEKDAYS) {
		names = weekday_names;
		n_names = G_N_ELEMENTS(weekday_names);
	}
	for (guint i = 0; i < n_names; i++) {
		if (g_ascii_strcasecmp(token, names[i]) == 0) {
			*ret_value = first + i;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
not_a_value_error(GError **error, const FieldSpec *spec, const char *token)
{
	switch (spec->names) {
	case NAMES_MONTHS:
		return set_field_error(error, spec, _("\"%s\" is not a number or a month name"),
		                       token);
	case NAMES_WEEKDAYS:
		return set_field_error(error, spec, _("\"%s\" is not a number or a weekday name"),
		                       token);
	case NAMES_NONE:
	default:
		return set_field_error(error, spec, _("\"%s\" is not a number"), token);
	}
}

/*
 * Reads one value (a number, or a name where the field has names) at *cursor, a token being
 * the longest run of letters and digits, and moves the cursor past it.
 */
static gboolean
parse_value(const FieldSpec *spec, const char *item, const char **cursor, guint *ret_value,
            GError **error)
{
	const char *start = *cursor;
	const char *end = start;
	g_autofree char *token = NULL;
	guint value = 0;

	while (g_ascii_isalnum(*end))
		end++;
	if (end == start) {
		if (*start == '\0')
			return set_field_error(error, spec,
			                       _("missing number at the end of \"%s\""), item);
		return not_a_value_error(error, spec, start);
	}
	token = g_strndup(start, end - start);
	if (token_is_digits(token)) {
		value = digits_value(token);
		if (value < spec->min || value > spec->max)
			return set_field_error(error, spec, _("%s is out of range %u-%u"), token,
			                       spec->min, spec->max);
	} else if (!lookup_name(spec, token, &value)) {
		return not_a_value_error(error, spec, token);
	}
	*cursor = end;
	*ret_value = value;
	return TRUE;
}

static gboolean
parse_step(const FieldSpec *spec, const char *item, const char **cursor, guint *ret_step,
           GError **error)
{
	const char *start = *cursor;
	const char *end = start;
	g_autofree char *token = NULL;
	guint step;

	while (g_ascii_isalnum(*end))
		end++;
	if (end == start && *start == '\0')
		return set_field_error(error, spec, _("missing number at the end of \"%s\""), item);
	token = end == start ? g_strdup(start) : g_strndup(start, end - start);
	if (!token_is_digits(token))
		return set_field_error(error, spec, _("step \"%s\" is not a number"), token);
	step = digits_value(token);
	/* A step past the field's largest value would only ever select the first one. */
	if (step < 1 || step > spec->max)
		return set_field_error(error, spec, _("step %s is out of range 1-%u"), token,
		                       spec->max);
	*cursor = end;
	*ret_step = step;
	return TRUE;
}

/*
 * One list item: '*', a value, a range a-b, each optionally with a step /n; a/n means a
 * to the field's largest value. ret_single tells whether it is one plain value.
 */
static gboolean
parse_item(const FieldSpec *spec, const char *item, guint64 *mask, gboolean *ret_single,
           GError **error)
{
	const char *cursor = item;
	guint low;
	guint high;
	guint step = 1;
	gboolean single = TRUE;

	if (*item == '\0')
		return set_field_error(error, spec, _("empty list item"));

	if (*cursor == '*') {
		low = spec->min;
		high = spec->max;
		single = FALSE;
		cursor++;
	} else {
		const char *range_start = cursor;

		if (!parse_value(spec, item, &cursor, &low, error))
			return FALSE;
		high = low;
		if (*cursor == '-') {
			cursor++;
			if (!parse_value(spec, item, &cursor, &high, error))
				return FALSE;
			single = FALSE;
			/* Sunday may close a weekday range: FRI-SUN, 5-0. */
			if (spec->names == NAMES_WEEKDAYS && high == 0 && low > 0)
				high = 7;
			if (high < low) {
				g_autofree char *range =
				        g_strndup(range_start, cursor - range_start);
				return set_field_error(error, spec, _("range %s is reversed"),
				                       range);
			}
		} else if (*cursor == '/') {
			high = spec->max;
		}
	}
	if (*cursor == '/') {
		cursor++;
		if (!parse_step(spec, item, &cursor, &step, error))
			return FALSE;
		single = FALSE;
	}
	if (*cursor != '\0')
		return set_field_error(error, spec, _("unexpected \"%s\" in \"%s\""), cursor, item);

	for (guint value = low; value <= high; value += step)
		*mask |= G_GUINT64_CONSTANT(1) << value;
	*ret_single = single;
	return TRUE;
}

/* A comma-separated list of items; ret_single tells whether every item is a plain value. */
static gboolean
parse_field(const FieldSpec *spec, const char *text, guint64 *ret_mask, gboolean *ret_single,
            GError **error)
{
	g_auto(GStrv) items = g_strsplit(text, ",", -1);
	guint64 mask = 0;
	gboolean single = TRUE;

	for (guint i = 0; items[i] != NULL; i++) {
		gboolean item_single = FALSE;

		if (!parse_item(spec, items[i], &mask, &item_single, error))
			return FALSE;
		single = single && item_single;
	}
	*ret_mask = mask;
	*ret_single = single;
	return TRUE;
}

/* Splits on blanks, dropping empty words. */
static GPtrArray *
split_words(const char *text)
{
	GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
	const char *p = text;

	while (*p != '\0') {
		const char *start;

		while (g_ascii_isspace(*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && !g_ascii_isspace(*p))
			p++;
		g_ptr_array_add(words, g_strndup(start, p - start));
	}
	return words;
}

static SgCronSchedule *
parse_fields(GPtrArray *words, GError **error)
{
	g_autoptr(SgCronSchedule) schedule = g_new0(SgCronSchedule, 1);
	guint first = 0;
	gboolean minute_single = FALSE;
	gboolean hour_single = FALSE;

	if (words->len != 5 && words->len != 6) {
		g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG,
		            _("expected 5 or 6 fields, found %u"), words->len);
		return NULL;
	}
	if (words->len == 5) {
		schedule->masks[FIELD_SECOND] = 1;
		first = FIELD_MINUTE;
	}
	for (guint field = first; field < N_FIELDS; field++) {
		const char *text = g_ptr_array_index(words, field - first);
		gboolean single = FALSE;

		if (!parse_field(&field_specs[field], text, &schedule->masks[field], &single,
		                 error))
			return NULL;
		if (field == FIELD_MINUTE)
			minute_single = single;
		else if (field == FIELD_HOUR)
			hour_single = single;
		else if (field == FIELD_DAY_OF_MONTH)
			schedule->day_of_month_star = text[0] == '*';
		else if (field == FIELD_DAY_OF_WEEK)
			schedule->day_of_week_star = text[0] == '*';
	}
	/* 7 is another name for Sunday. */
	if (schedule->masks[FIELD_DAY_OF_WEEK] & (G_GUINT64_CONSTANT(1) << 7))
		schedule->masks[FIELD_DAY_OF_WEEK] |= 1;
	schedule->masks[FIELD_DAY_OF_WEEK] &= 0x7f;
	schedule->fixed_time = minute_single && hour_single;
	return g_steal_pointer(&schedule);
}

static gboolean check_fires(const SgCronSchedule *schedule, GError **error);

/* The fields of an expression or of a macro, refused when no date ever matches. */
static SgCronSchedule *
parse_schedule(GPtrArray *words, GError **error)
{
	g_autoptr(SgCronSchedule) schedule = parse_fields(words, error);

	if (schedule == NULL || !check_fires(schedule, error))
		return NULL;
	return g_steal_pointer(&schedule);
}

SgCronSchedule *
sg_cron_parse(const char *expression, GError **error)
{
	g_autoptr(GPtrArray) words = NULL;
	const char *macro;

	g_return_val_if_fail(expression != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	words = split_words(expression);
	if (words->len == 0 || ((const char *)g_ptr_array_index(words, 0))[0] != '@')
		return parse_schedule(words, error);

	macro = g_ptr_array_index(words, 0);
	if (words->len > 1) {
		g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG,
		            _("unexpected \"%s\" after %s"),
		            (const char *)g_ptr_array_index(words, 1), macro);
		return NULL;
	}
	for (guint i = 0; i < G_N_ELEMENTS(macros); i++) {
		if (g_ascii_strcasecmp(macro, macros[i].name) == 0) {
			g_autoptr(GPtrArray) fields = split_words(macros[i].fields);
			return parse_schedule(fields, error);
		}
	}
	g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG,
	            _("unknown macro \"%s\" (known: @hourly, @daily, @midnight, @weekly, @monthly, "
	              "@yearly, @annually)"),
	            macro);
	return NULL;
}

gboolean
sg_cron_timezone_is_valid(const char *name)
{
	g_autoptr(GTimeZone) tz = NULL;

	/*
	 * IANA names start with a letter and use letters, digits, '/', '_', '-' and '+'. This
	 * refuses what GLib would also take but is no zone name: absolute paths, "..", UTC
	 * offsets such as "+05:00" and POSIX TZ rules. Local time is written by leaving the
	 * time zone out, so "localtime" (a link to the host's setting) is refused too.
	 */
	if (name == NULL || !g_ascii_isalpha(name[0]) || strlen(name) > 255)
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr("/_-+", *p) == NULL)
			return FALSE;
		if (*p == '/' && (p[1] == '/' || p[1] == '\0'))
			return FALSE;
	}
	if (g_ascii_strcasecmp(name, "localtime") == 0)
		return FALSE;
	tz = g_time_zone_new_identifier(name);
	return tz != NULL;
}

/* The naive calendar: local wall-clock time counted in seconds as if it were UTC. */

static gboolean
is_leap_year(gint64 year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static guint
days_in_month(gint64 year, guint month)
{
	static const guint8 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month == 2 && is_leap_year(year))
		return 29;
	return days[month - 1];
}

/* February 29 of the years 1 to year - 1 (year >= 1). */
static gint64
leap_days_before(gint64 year)
{
	gint64 previous = year - 1;

	return previous / 4 - previous / 100 + previous / 400;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar (year >= 1). */
static gint64
days_since_epoch(gint64 year, guint month, guint day)
{
	static const guint16 days_before_month[12] = { 0,   31,  59,  90,  120, 151,
		                                       181, 212, 243, 273, 304, 334 };
	gint64 days = (year - 1970) * 365 + leap_days_before(year) - leap_days_before(1970);

	days += days_before_month[month - 1] + day - 1;
	if (month > 2 && is_leap_year(year))
		days++;
	return days;
}

/* The lowest set bit of mask at or above from, or -1. */
static int
next_bit(guint64 mask, guint from)
{
	if (from > 63)
		return -1;
	mask &= ~G_GUINT64_CONSTANT(0) << from;
	if (mask == 0)
		return -1;
	return __builtin_ctzll(mask);
}

static gboolean
has_bit(guint64 mask, guint bit)
{
	return bit < 64 && (mask & (G_GUINT64_CONSTANT(1) << bit)) != 0;
}

/* Vixie cron: when either day field starts with '*', both must match; otherwise either. */
static gboolean
days_need_both(const SgCronSchedule *schedule)
{
	return schedule->day_of_month_star || schedule->day_of_week_star;
}

static gboolean
day_matches(const SgCronSchedule *schedule, gint64 year, guint month, guint day)
{
	gint64 days = days_since_epoch(year, month, day);
	/* 1970-01-01 was a Thursday. */
	guint weekday = (guint)(((days % 7) + 7 + 4) % 7);
	gboolean dom = has_bit(schedule->masks[FIELD_DAY_OF_MONTH], day);
	gboolean dow = has_bit(schedule->masks[FIELD_DAY_OF_WEEK], weekday);

	return days_need_both(schedule) ? dom && dow : dom || dow;
}

/* The most days a month has in any year: 29 February exists in leap years. */
static guint
longest_month(guint month)
{
	return month == 2 ? 29 : days_in_month(1970, month);
}

/* The set bits of mask from first to last as "a, b, c", with month names for months. */
static char *
describe_mask(guint64 mask, guint first, guint last, gboolean months)
{
	g_autoptr(GString) text = g_string_new(NULL);

	for (guint value = first; value <= last; value++) {
		if (!has_bit(mask, value))
			continue;
		if (text->len > 0)
			g_string_append(text, ", ");
		if (months)
			g_string_append(text, month_names[value - 1]);
		else
			g_string_append_printf(text, "%u", value);
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

/*
 * A schedule fires unless no date matches: the time fields always hold a value, every month
 * has every weekday, and over the 400 years of the Gregorian cycle every date (29 February
 * included) falls on every weekday. So it never fires only when the day of the month must
 * match (Vixie's rule) and no month of the month field has a day of the day-of-month field.
 */
static gboolean
check_fires(const SgCronSchedule *schedule, GError **error)
{
	const guint64 *masks = schedule->masks;
	g_autofree char *days = NULL;
	g_autofree char *months = NULL;

	if (!days_need_both(schedule))
		return TRUE;
	for (guint month = 1; month <= 12; month++) {
		guint64 days_of_month = (G_GUINT64_CONSTANT(1) << (longest_month(month) + 1)) - 2;

		if (has_bit(masks[FIELD_MONTH], month) &&
		    (masks[FIELD_DAY_OF_MONTH] & days_of_month) != 0)
			return TRUE;
	}
	days = describe_mask(masks[FIELD_DAY_OF_MONTH], 1, 31, FALSE);
	months = describe_mask(masks[FIELD_MONTH], 1, 12, TRUE);
	g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG,
	            _("cron expression never fires: no month of its month field (%s) has a day "
	              "of its day-of-month field (%s)"),
	            months, days);
	return FALSE;
}

/*
 * The first naive local time at or after from that matches, stepping field by field
 * (month, day, hour, minute, second) rather than second by second. FALSE when there is
 * none before the end of limit_year.
 */
static gboolean
next_local_match(const SgCronSchedule *schedule, gint64 from, gint64 limit_year, gint64 *ret)
{
	const guint64 *masks = schedule->masks;
	g_autoptr(GDateTime) start = g_date_time_new_from_unix_utc(from);
	int ymd[3];
	gint64 year;
	guint month, day, hour, minute, second;

	if (start == NULL)
		return FALSE;
	g_date_time_get_ymd(start, &ymd[0], &ymd[1], &ymd[2]);
	year = ymd[0];
	month = (guint)ymd[1];
	day = (guint)ymd[2];
	hour = (guint)g_date_time_get_hour(start);
	minute = (guint)g_date_time_get_minute(start);
	second = (guint)g_date_time_get_second(start);

	while (year <= limit_year) {
		int next;

		if (!has_bit(masks[FIELD_MONTH], month)) {
			next = next_bit(masks[FIELD_MONTH], month);
			if (next < 0) {
				year++;
				next = next_bit(masks[FIELD_MONTH], 1);
			}
			month = (guint)next;
			day = 1;
			hour = minute = second = 0;
			continue;
		}
		if (day > days_in_month(year, month)) {
			month++;
			day = 1;
			hour = minute = second = 0;
			continue;
		}
		if (!day_matches(schedule, year, month, day)) {
			/* When day-of-month must match, jump straight to its next day. */
			if (days_need_both(schedule)) {
				next = next_bit(masks[FIELD_DAY_OF_MONTH], day + 1);
				day = next < 0 ? 32 : (guint)next;
			} else {
				day++;
			}
			hour = minute = second = 0;
			continue;
		}
		next = next_bit(masks[FIELD_HOUR], hour);
		if (next < 0) {
			day++;
			hour = minute = second = 0;
			continue;
		}
		if ((guint)next != hour) {
			hour = (guint)next;
			minute = second = 0;
		}
		next = next_bit(masks[FIELD_MINUTE], minute);
		if (next < 0) {
			hour++;
			minute = second = 0;
			continue;
		}
		if ((guint)next != minute) {
			minute = (guint)next;
			second = 0;
		}
		next = next_bit(masks[FIELD_SECOND], second);
		if (next < 0) {
			minute++;
			second = 0;
			continue;
		}
		second = (guint)next;
		*ret = days_since_epoch(year, month, day) * 86400 + hour * 3600 + minute * 60 +
		       second;
		return TRUE;
	}
	return FALSE;
}

static gint
interval_at(GTimeZone *tz, gint64 instant)
{
	return g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, instant);
}

/*
 * The first instant in (low, high] whose interval is at least target, by bisection;
 * interval_at(low) < target <= interval_at(high), intervals growing with time.
 */
static gint64
first_instant_of(GTimeZone *tz, gint target, gint64 low, gint64 high)
{
	while (high - low > 1) {
		gint64 middle = low + (high - low) / 2;

		if (interval_at(tz, middle) >= target)
			high = middle;
		else
			low = middle;
	}
	return high;
}

static gint64
floor_div(gint64 a, gint64 b)
{
	gint64 quotient = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient;
}

gint64
sg_cron_next(const SgCronSchedule *schedule, GTimeZone *tz, gint64 after)
{
	g_autoptr(GTimeZone) local = NULL;
	gint64 t;
	gint64 horizon;
	gint64 limit_year;
	gint64 interval_start = G_MININT64;
	gint interval;

	g_return_val_if_fail(schedule != NULL, -1);

	if (tz == NULL)
		tz = local = g_time_zone_new_local();

	/* Due times are whole seconds: the first candidate is the next whole second. */
	t = floor_div(after, G_USEC_PER_SEC) + 1;
	if (t > G_MAXINT64 / G_USEC_PER_SEC - HORIZON_SECONDS)
		return -1;
	horizon = t + HORIZON_SECONDS;
	limit_year = 1970 + floor_div(horizon, SECONDS_PER_AVERAGE_YEAR) + 1;
	interval = interval_at(tz, t);

	/* Only a transition within the last days can change what a fixed-time job owns. */
	if (schedule->fixed_time && interval > 0 &&
	    interval_at(tz, t - OFFSET_WINDOW_SECONDS) < interval)
		interval_start = first_instant_of(tz, interval, t - OFFSET_WINDOW_SECONDS, t);

	for (;;) {
		gint32 offset = g_time_zone_get_offset(tz, interval);
		gint64 from = t + offset;
		gint64 found;
		gint64 candidate;

		if (interval_start != G_MININT64) {
			/* The clock of the previous interval ends here: see the comment on top. */
			gint64 owned = interval_start + g_time_zone_get_offset(tz, interval - 1);

			if (t == interval_start || owned > from)
				from = owned;
		}
		if (!next_local_match(schedule, from, limit_year, &found))
			return -1;
		candidate = found - offset;
		if (candidate > horizon)
			return -1;
		/* A fixed-time match in the gap before this interval runs at its start. */
		if (interval_at(tz, candidate) <= interval)
			return MAX(candidate, t) * G_USEC_PER_SEC;
		/* The match lies past this interval: carry on from the next transition. */
		t = first_instant_of(tz, interval + 1, t, candidate);
		interval = interval_at(tz, t);
		if (schedule->fixed_time)
			interval_start = t;
	}
}
