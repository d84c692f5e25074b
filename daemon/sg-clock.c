/* SPDX-License-Identifier: MIT */
/* The engine's clock: real GLib timeouts, or a fake timeline that tests move by hand. */
#include "config.h"

#include "sg-clock.h"

typedef struct {
	guint id;
	gint64 due_usec; /* fake clocks: monotonic instant the timeout falls due */
	guint source_id; /* real clocks: the GLib source */
	SgClockFunc func;
	gpointer user_data;
	SgClock *clock;
} Timeout;

struct _SgClock {
	int refcount;
	gboolean fake;
	gint64 fake_monotonic_usec;
	gint64 fake_realtime_usec;
	guint next_id;
	GHashTable *timeouts; /* id -> Timeout* */
};

static SgClock *
clock_new(gboolean fake)
{
	SgClock *clock = g_new0(SgClock, 1);

	clock->refcount = 1;
	clock->fake = fake;
	clock->next_id = 1;
	clock->timeouts = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	return clock;
}

SgClock *
sg_clock_new_real(void)
{
	return clock_new(FALSE);
}

SgClock *
sg_clock_new_fake(gint64 monotonic_usec, gint64 realtime_usec)
{
	SgClock *clock = clock_new(TRUE);

	clock->fake_monotonic_usec = monotonic_usec;
	clock->fake_realtime_usec = realtime_usec;
	return clock;
}

SgClock *
sg_clock_ref(SgClock *clock)
{
	clock->refcount++;
	return clock;
}

static void
remove_real_sources(SgClock *clock)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, clock->timeouts);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Timeout *timeout = value;
		g_clear_handle_id(&timeout->source_id, g_source_remove);
	}
}

void
sg_clock_unref(SgClock *clock)
{
	if (clock == NULL || --clock->refcount > 0)
		return;
	remove_real_sources(clock);
	g_hash_table_unref(clock->timeouts);
	g_free(clock);
}

gint64
sg_clock_monotonic_usec(SgClock *clock)
{
	return clock->fake ? clock->fake_monotonic_usec : g_get_monotonic_time();
}

gint64
sg_clock_realtime_usec(SgClock *clock)
{
	return clock->fake ? clock->fake_realtime_usec : g_get_real_time();
}

static gboolean
real_timeout_cb(gpointer user_data)
{
	Timeout *timeout = user_data;
	SgClock *clock = timeout->clock;
	SgClockFunc func = timeout->func;
	gpointer data = timeout->user_data;

	timeout->source_id = 0;
	g_hash_table_remove(clock->timeouts, GUINT_TO_POINTER(timeout->id));
	func(data);
	return G_SOURCE_REMOVE;
}

guint
sg_clock_add_timeout(SgClock *clock, guint64 delay_ms, SgClockFunc func, gpointer user_data)
{
	Timeout *timeout = g_new0(Timeout, 1);

	timeout->id = clock->next_id++;
	if (clock->next_id == 0)
		clock->next_id = 1;
	timeout->func = func;
	timeout->user_data = user_data;
	timeout->clock = clock;
	if (clock->fake) {
		timeout->due_usec = clock->fake_monotonic_usec + (gint64)delay_ms * 1000;
	} else {
		guint interval = delay_ms > G_MAXUINT ? G_MAXUINT : (guint)delay_ms;
		timeout->source_id = g_timeout_add(interval, real_timeout_cb, timeout);
	}
	g_hash_table_insert(clock->timeouts, GUINT_TO_POINTER(timeout->id), timeout);
	return timeout->id;
}

void
sg_clock_cancel(SgClock *clock, guint id)
{
	Timeout *timeout;

	if (id == 0)
		return;
	timeout = g_hash_table_lookup(clock->timeouts, GUINT_TO_POINTER(id));
	if (timeout == NULL)
		return;
	g_clear_handle_id(&timeout->source_id, g_source_remove);
	g_hash_table_remove(clock->timeouts, GUINT_TO_POINTER(id));
}

void
sg_clock_clear(SgClock *clock, guint *id)
{
	sg_clock_cancel(clock, *id);
	*id = 0;
}

/* The earliest pending timeout due at or before limit_usec (ties: the one added first). */
static Timeout *
next_due(SgClock *clock, gint64 limit_usec)
{
	GHashTableIter iter;
	gpointer value;
	Timeout *best = NULL;

	g_hash_table_iter_init(&iter, clock->timeouts);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Timeout *timeout = value;
		if (timeout->due_usec > limit_usec)
			continue;
		if (best == NULL || timeout->due_usec < best->due_usec ||
		    (timeout->due_usec == best->due_usec && timeout->id < best->id))
			best = timeout;
	}
	return best;
}

void
sg_clock_fake_advance(SgClock *clock, guint64 ms)
{
	gint64 target = clock->fake_monotonic_usec + (gint64)ms * 1000;
	Timeout *timeout;

	g_return_if_fail(clock->fake);
	/* Timeouts added by a callback fire too when they fall due before target. */
	while ((timeout = next_due(clock, target)) != NULL) {
		SgClockFunc func = timeout->func;
		gpointer data = timeout->user_data;
		gint64 step = timeout->due_usec - clock->fake_monotonic_usec;

		clock->fake_monotonic_usec = timeout->due_usec;
		clock->fake_realtime_usec += step;
		g_hash_table_remove(clock->timeouts, GUINT_TO_POINTER(timeout->id));
		func(data);
	}
	clock->fake_realtime_usec += target - clock->fake_monotonic_usec;
	clock->fake_monotonic_usec = target;
}

guint
sg_clock_fake_pending(SgClock *clock)
{
	return g_hash_table_size(clock->timeouts);
}
