/* SPDX-License-Identifier: MIT */
/* Tests of the injectable clock: fake time fires timeouts in order, real time on the loop. */
#include "config.h"

#include <glib.h>

#include "base/sg-clock.h"

typedef struct {
	SgClock *clock;
	GString *log;
	guint chained_id;
} Recorder;

static void
record_a_cb(gpointer data)
{
	Recorder *r = data;
	g_string_append_printf(r->log, "a@%" G_GINT64_FORMAT " ",
	                       sg_clock_monotonic_usec(r->clock) / 1000);
}

static void
record_b_cb(gpointer data)
{
	Recorder *r = data;
	g_string_append_printf(r->log, "b@%" G_GINT64_FORMAT " ",
	                       sg_clock_monotonic_usec(r->clock) / 1000);
}

/* A timeout that adds another: the new one fires within the same advance when due. */
static void
chain_cb(gpointer data)
{
	Recorder *r = data;
	g_string_append_printf(r->log, "chain@%" G_GINT64_FORMAT " ",
	                       sg_clock_monotonic_usec(r->clock) / 1000);
	sg_clock_add_timeout(r->clock, 5, record_b_cb, r);
}

static void
test_fake_order(void)
{
	Recorder r = { sg_clock_new_fake(0, 1000000), g_string_new(NULL), 0 };
	guint cancelled;

	sg_clock_add_timeout(r.clock, 30, record_a_cb, &r);
	sg_clock_add_timeout(r.clock, 10, chain_cb, &r);
	cancelled = sg_clock_add_timeout(r.clock, 20, record_a_cb, &r);
	sg_clock_cancel(r.clock, cancelled);
	g_assert_cmpuint(sg_clock_fake_pending(r.clock), ==, 2);

	sg_clock_fake_advance(r.clock, 9);
	g_assert_cmpstr(r.log->str, ==, "");
	sg_clock_fake_advance(r.clock, 100);
	g_assert_cmpstr(r.log->str, ==, "chain@10 b@15 a@30 ");
	g_assert_cmpint(sg_clock_monotonic_usec(r.clock), ==, 109000);
	/* the wall clock moves with the monotonic one */
	g_assert_cmpint(sg_clock_realtime_usec(r.clock), ==, 1000000 + 109000);
	g_assert_cmpuint(sg_clock_fake_pending(r.clock), ==, 0);

	/* cancelling an id that already fired, or 0, is harmless */
	sg_clock_cancel(r.clock, cancelled);
	sg_clock_cancel(r.clock, 0);
	g_string_free(r.log, TRUE);
	sg_clock_unref(r.clock);
}

static void
set_flag_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
}

static void
test_real(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	gboolean fired = FALSE, never = FALSE;
	gint64 start = sg_clock_monotonic_usec(clock);
	gint64 deadline = start + 5 * G_USEC_PER_SEC;
	guint id;

	sg_clock_add_timeout(clock, 20, set_flag_cb, &fired);
	id = sg_clock_add_timeout(clock, 10, set_flag_cb, &never);
	sg_clock_clear(clock, &id);
	g_assert_cmpuint(id, ==, 0);
	while (!fired && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(fired);
	g_assert_false(never);
	/* never earlier than asked */
	g_assert_cmpint(sg_clock_monotonic_usec(clock) - start, >=, 20000);
}

static void
count_cb(gpointer data)
{
	(*(guint *)data)++;
}

/* Wall-clock alarms on a fake clock: due with timeouts in order, and told of clock changes. */
static void
test_fake_alarm(void)
{
	Recorder r = { sg_clock_new_fake(0, 1000000), g_string_new(NULL), 0 };
	g_autoptr(SgClockAlarm) alarm = sg_clock_alarm_new(r.clock, record_b_cb, &r);
	g_autoptr(SgClockAlarm) other = NULL;
	guint count = 0;

	g_assert_true(sg_clock_alarm_set(alarm, 1000000 + 25000, NULL));
	sg_clock_add_timeout(r.clock, 10, record_a_cb, &r);
	sg_clock_add_timeout(r.clock, 30, record_a_cb, &r);
	g_assert_cmpuint(sg_clock_fake_armed_alarms(r.clock), ==, 1);
	sg_clock_fake_advance(r.clock, 100);
	g_assert_cmpstr(r.log->str, ==, "a@10 b@25 a@30 ");
	g_assert_false(sg_clock_alarm_clock_changed(alarm));
	/* Fired alarms are disarmed until set again. */
	g_assert_cmpint(sg_clock_alarm_get(alarm), ==, 0);
	g_assert_cmpuint(sg_clock_fake_armed_alarms(r.clock), ==, 0);

	/* A change of the wall clock runs armed alarms at once, whatever their deadline. */
	other = sg_clock_alarm_new(r.clock, count_cb, &count);
	g_assert_true(sg_clock_alarm_set(other, 5000000000, NULL));
	sg_clock_fake_set_realtime(r.clock, 2000000000);
	g_assert_cmpuint(count, ==, 1);
	/* It says why it fired: the clock changed, its instant did not come. */
	g_assert_true(sg_clock_alarm_clock_changed(other));
	g_assert_cmpint(sg_clock_realtime_usec(r.clock), ==, 2000000000);
	g_assert_cmpint(sg_clock_monotonic_usec(r.clock), ==, 100000);
	/* A deadline already past fires on the next advance; a disarmed alarm never. */
	g_assert_true(sg_clock_alarm_set(other, 1000, NULL));
	g_assert_true(sg_clock_alarm_set(alarm, 1000, NULL));
	g_assert_true(sg_clock_alarm_set(alarm, 0, NULL));
	sg_clock_fake_advance(r.clock, 0);
	g_assert_cmpuint(count, ==, 2);
	g_assert_false(sg_clock_alarm_clock_changed(other));
	g_assert_cmpstr(r.log->str, ==, "a@10 b@25 a@30 ");
	g_clear_pointer(&alarm, sg_clock_alarm_free);
	g_clear_pointer(&other, sg_clock_alarm_free);
	g_string_free(r.log, TRUE);
	sg_clock_unref(r.clock);
}

/* The real alarm: a CLOCK_REALTIME timerfd on the loop, never early. */
static void
test_real_alarm(void)
{
	g_autoptr(SgClock) clock = sg_clock_new_real();
	gboolean fired = FALSE;
	g_autoptr(SgClockAlarm) alarm = sg_clock_alarm_new(clock, set_flag_cb, &fired);
	g_autoptr(SgClockAlarm) idle = sg_clock_alarm_new(clock, set_flag_cb, &fired);
	gint64 due = g_get_real_time() + 30000;
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	g_assert_true(sg_clock_alarm_set(alarm, due, NULL));
	g_assert_cmpint(sg_clock_alarm_get(alarm), ==, due);
	g_assert_true(sg_clock_alarm_set(idle, 0, NULL));
	while (!fired && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(fired);
	g_assert_false(sg_clock_alarm_clock_changed(alarm));
	g_assert_cmpint(g_get_real_time(), >=, due);
	g_assert_cmpint(sg_clock_alarm_get(alarm), ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sg/clock/fake-order", test_fake_order);
	g_test_add_func("/sg/clock/real", test_real);
	g_test_add_func("/sg/clock/fake-alarm", test_fake_alarm);
	g_test_add_func("/sg/clock/real-alarm", test_real_alarm);
	return g_test_run();
}
