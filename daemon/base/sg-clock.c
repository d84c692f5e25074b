/* SPDX-License-Identifier: MIT */
/* The engine's clock: real GLib timeouts, or a fake timeline that tests move by hand. */
#include "config.h"

#include "base/sg-clock.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

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
	GList *alarms;        /* fake clocks: SgClockAlarm* */
};

struct _SgClockAlarm {
	SgClock *clock;
	SgClockFunc func;
	gpointer user_data;
	gint64 deadline_usec; /* realtime; 0: disarmed */
	int timer_fd;         /* real clocks: created when first armed */
	guint source_id;
	gboolean clock_changed;  /* the last firing came from a change of the wall clock */
	gboolean change_pending; /* real clocks: fired at once for a change seen when armed */
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

/* The monotonic instant at which a fake alarm falls due: both clocks move together. */
static gint64
alarm_due_monotonic(SgClock *clock, SgClockAlarm *alarm)
{
	gint64 ahead = alarm->deadline_usec - clock->fake_realtime_usec;

	return clock->fake_monotonic_usec + MAX(ahead, 0);
}

static SgClockAlarm *
next_alarm(SgClock *clock, gint64 limit_usec)
{
	SgClockAlarm *best = NULL;

	for (GList *l = clock->alarms; l != NULL; l = l->next) {
		SgClockAlarm *alarm = l->data;
		if (alarm->deadline_usec <= 0 || alarm_due_monotonic(clock, alarm) > limit_usec)
			continue;
		if (best == NULL ||
		    alarm_due_monotonic(clock, alarm) < alarm_due_monotonic(clock, best))
			best = alarm;
	}
	return best;
}

static void
fake_move_to(SgClock *clock, gint64 monotonic_usec)
{
	clock->fake_realtime_usec += monotonic_usec - clock->fake_monotonic_usec;
	clock->fake_monotonic_usec = monotonic_usec;
}

void
sg_clock_fake_advance(SgClock *clock, guint64 ms)
{
	gint64 target = clock->fake_monotonic_usec + (gint64)ms * 1000;

	g_return_if_fail(clock->fake);
	/* Timeouts and alarms added by a callback fire too when they fall due before target. */
	for (;;) {
		Timeout *timeout = next_due(clock, target);
		SgClockAlarm *alarm = next_alarm(clock, target);

		if (alarm != NULL &&
		    (timeout == NULL || alarm_due_monotonic(clock, alarm) < timeout->due_usec)) {
			fake_move_to(clock, alarm_due_monotonic(clock, alarm));
			alarm->deadline_usec = 0;
			alarm->clock_changed = FALSE;
			alarm->func(alarm->user_data);
		} else if (timeout != NULL) {
			SgClockFunc func = timeout->func;
			gpointer data = timeout->user_data;

			fake_move_to(clock, timeout->due_usec);
			g_hash_table_remove(clock->timeouts, GUINT_TO_POINTER(timeout->id));
			func(data);
		} else {
			break;
		}
	}
	fake_move_to(clock, target);
}

void
sg_clock_fake_set_realtime(SgClock *clock, gint64 realtime_usec)
{
	g_autoptr(GPtrArray) armed = g_ptr_array_new();

	g_return_if_fail(clock->fake);
	clock->fake_realtime_usec = realtime_usec;
	for (GList *l = clock->alarms; l != NULL; l = l->next) {
		SgClockAlarm *alarm = l->data;
		if (alarm->deadline_usec > 0)
			g_ptr_array_add(armed, alarm);
	}
	/* As TFD_TIMER_CANCEL_ON_SET: every armed alarm hears of the change, once. */
	for (guint i = 0; i < armed->len; i++) {
		SgClockAlarm *alarm = armed->pdata[i];
		if (g_list_find(clock->alarms, alarm) == NULL || alarm->deadline_usec <= 0)
			continue;
		alarm->deadline_usec = 0;
		alarm->clock_changed = TRUE;
		alarm->func(alarm->user_data);
	}
}

guint
sg_clock_fake_armed_alarms(SgClock *clock)
{
	guint n = 0;

	for (GList *l = clock->alarms; l != NULL; l = l->next)
		if (((SgClockAlarm *)l->data)->deadline_usec > 0)
			n++;
	return n;
}

/* ---- alarms ---- */

static gboolean
alarm_fd_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgClockAlarm *alarm = user_data;
	uint64_t expirations;
	ssize_t n = read(fd, &expirations, sizeof(expirations));

	if (n < 0 && errno == ECANCELED) {
		/* The wall clock changed: the caller recomputes, so stop the old deadline. */
		struct itimerspec off = { 0 };
		timerfd_settime(fd, 0, &off, NULL);
		alarm->clock_changed = TRUE;
	} else if (n != (ssize_t)sizeof(expirations)) {
		return G_SOURCE_CONTINUE;
	} else {
		alarm->clock_changed = alarm->change_pending;
	}
	alarm->change_pending = FALSE;
	alarm->deadline_usec = 0;
	alarm->func(alarm->user_data);
	return G_SOURCE_CONTINUE;
}

SgClockAlarm *
sg_clock_alarm_new(SgClock *clock, SgClockFunc func, gpointer user_data)
{
	SgClockAlarm *alarm = g_new0(SgClockAlarm, 1);

	alarm->clock = sg_clock_ref(clock);
	alarm->func = func;
	alarm->user_data = user_data;
	alarm->timer_fd = -1;
	if (clock->fake)
		clock->alarms = g_list_prepend(clock->alarms, alarm);
	return alarm;
}

gboolean
sg_clock_alarm_set(SgClockAlarm *alarm, gint64 realtime_usec, GError **error)
{
	struct itimerspec spec = { 0 };

	alarm->deadline_usec = MAX(realtime_usec, 0);
	if (alarm->clock->fake)
		return TRUE;
	if (alarm->timer_fd < 0) {
		if (realtime_usec <= 0)
			return TRUE;
		alarm->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
		if (alarm->timer_fd < 0) {
			int saved = errno;
			alarm->deadline_usec = 0;
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved),
			            "timerfd_create: %s", g_strerror(saved));
			return FALSE;
		}
		alarm->source_id = g_unix_fd_add(alarm->timer_fd, G_IO_IN, alarm_fd_cb, alarm);
	}
	if (realtime_usec > 0) {
		/* An instant of 0 would disarm the timer: the epoch itself is never asked for. */
		spec.it_value.tv_sec = realtime_usec / G_USEC_PER_SEC;
		spec.it_value.tv_nsec = (long)(realtime_usec % G_USEC_PER_SEC) * 1000;
	}
	if (timerfd_settime(alarm->timer_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec,
	                    NULL) == 0)
		return TRUE;
	if (errno == ECANCELED && realtime_usec > 0) {
		/* The clock changed since the last arming and nobody has read it yet: re-armed,
		 * but the caller's deadline predates the change, so fire now to recompute. */
		struct itimerspec now = { .it_value = { 0, 1 } };
		timerfd_settime(alarm->timer_fd, TFD_TIMER_ABSTIME, &now, NULL);
		alarm->change_pending = TRUE;
		return TRUE;
	}
	if (errno == ECANCELED)
		return TRUE;
	{
		int saved = errno;
		alarm->deadline_usec = 0;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "timerfd_settime: %s",
		            g_strerror(saved));
	}
	return FALSE;
}

gint64
sg_clock_alarm_get(SgClockAlarm *alarm)
{
	return alarm->deadline_usec;
}

gboolean
sg_clock_alarm_clock_changed(SgClockAlarm *alarm)
{
	return alarm->clock_changed;
}

void
sg_clock_alarm_free(SgClockAlarm *alarm)
{
	if (alarm == NULL)
		return;
	g_clear_handle_id(&alarm->source_id, g_source_remove);
	if (alarm->timer_fd >= 0)
		close(alarm->timer_fd);
	alarm->clock->alarms = g_list_remove(alarm->clock->alarms, alarm);
	sg_clock_unref(alarm->clock);
	g_free(alarm);
}

guint
sg_clock_fake_pending(SgClock *clock)
{
	return g_hash_table_size(clock->timeouts);
}
