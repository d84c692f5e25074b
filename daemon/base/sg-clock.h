/* SPDX-License-Identifier: MIT */
/* One injectable clock for every deadline of the engine, so tests drive time instead of sleeping.
 */
#pragma once

#include <glib.h>

typedef struct _SgClock SgClock;
typedef void (*SgClockFunc)(gpointer user_data);

/* The real clock: CLOCK_MONOTONIC and CLOCK_REALTIME, timeouts on the thread-default context. */
SgClock *sg_clock_new_real(void);
/* A fake clock that moves only when sg_clock_fake_advance() is called. */
SgClock *sg_clock_new_fake(gint64 monotonic_usec, gint64 realtime_usec);
SgClock *sg_clock_ref(SgClock *clock);
void sg_clock_unref(SgClock *clock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgClock, sg_clock_unref)

gint64 sg_clock_monotonic_usec(SgClock *clock);
gint64 sg_clock_realtime_usec(SgClock *clock);

/* Calls func once, delay_ms from now. Returns an id > 0 for sg_clock_cancel(). */
guint sg_clock_add_timeout(SgClock *clock, guint64 delay_ms, SgClockFunc func, gpointer user_data);
/* Cancels a pending timeout; 0 and ids that already fired are ignored. */
void sg_clock_cancel(SgClock *clock, guint id);
/* Cancels *id and sets it to 0. */
void sg_clock_clear(SgClock *clock, guint *id);

/*
 * A wall-clock alarm: func runs once the realtime clock reaches the instant the alarm is set
 * to, and also when the realtime clock is set or jumps while it is armed (settimeofday,
 * NTP stepping, resume from suspend), so that the caller reads the time again and decides.
 * Either way the alarm is disarmed before func runs. Real clocks use one CLOCK_REALTIME
 * timerfd with TFD_TIMER_CANCEL_ON_SET; fake clocks fire it when fake realtime gets there.
 */
typedef struct _SgClockAlarm SgClockAlarm;
SgClockAlarm *sg_clock_alarm_new(SgClock *clock, SgClockFunc func, gpointer user_data);
/* Arms the alarm for realtime_usec (past instants fire at once); <= 0 disarms it. Fails only
 * when the kernel refuses a timer (G_IO_ERROR, e.g. out of file descriptors). */
gboolean sg_clock_alarm_set(SgClockAlarm *alarm, gint64 realtime_usec, GError **error);
/* The instant the alarm is armed for, or 0. */
gint64 sg_clock_alarm_get(SgClockAlarm *alarm);
/* In func: whether the alarm fired because the wall clock was set or jumped (then every
 * instant computed before may be wrong), rather than because its instant came. */
gboolean sg_clock_alarm_clock_changed(SgClockAlarm *alarm);
void sg_clock_alarm_free(SgClockAlarm *alarm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgClockAlarm, sg_clock_alarm_free)

/* Fake clocks only: moves time forward, firing every timeout and alarm that falls due, in
 * order. */
void sg_clock_fake_advance(SgClock *clock, guint64 ms);
/* Fake clocks only: the number of pending timeouts (alarms not included). */
guint sg_clock_fake_pending(SgClock *clock);
/* Fake clocks only: sets the wall clock (monotonic time stays) and, as a real clock change
 * would, runs every armed alarm. */
void sg_clock_fake_set_realtime(SgClock *clock, gint64 realtime_usec);
/* Fake clocks only: the number of armed alarms. */
guint sg_clock_fake_armed_alarms(SgClock *clock);
