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

/* Fake clocks only: moves time forward, firing every timeout that falls due, in order. */
void sg_clock_fake_advance(SgClock *clock, guint64 ms);
/* Fake clocks only: the number of pending timeouts. */
guint sg_clock_fake_pending(SgClock *clock);
