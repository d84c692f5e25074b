/* SPDX-License-Identifier: MIT */
/* A GSource for sd-bus: poll events and deadline read from the connection before every poll. */
#include "config.h"

#include "base/sg-bus-source.h"

#include <errno.h>
#include <poll.h>

typedef struct {
	GSource source;
	sd_bus *bus;
	gpointer tag;
	GIOCondition conditions; /* what the fd is polled for now */
	gint64 ready_time;
	SgBusSourceLostFunc lost;
	gpointer lost_data;
	gboolean ended;
} SgBusSource;

static GIOCondition
conditions_from_poll(int events)
{
	GIOCondition conditions = 0;

	if (events & POLLIN)
		conditions |= G_IO_IN;
	if (events & POLLOUT)
		conditions |= G_IO_OUT;
	return conditions;
}

static gboolean
bus_source_prepare(GSource *source, gint *timeout)
{
	SgBusSource *self = (SgBusSource *)source;
	uint64_t usec = UINT64_MAX;
	GIOCondition conditions;
	gint64 ready_time;
	int events;

	*timeout = -1;
	if (self->ended)
		return FALSE;
	/* Queued output and queued input change from call to call: read both every time. */
	events = sd_bus_get_events(self->bus);
	if (events < 0 || sd_bus_get_timeout(self->bus, &usec) < 0)
		return TRUE; /* dispatch reports the end */
	/* Changing either wakes the context: only when they change, or the loop spins. */
	conditions = conditions_from_poll(events);
	if (conditions != self->conditions) {
		self->conditions = conditions;
		g_source_modify_unix_fd(source, self->tag, conditions);
	}
	/* Both clocks are CLOCK_MONOTONIC in microseconds. */
	ready_time = usec == UINT64_MAX ? -1 : (gint64)MIN(usec, (uint64_t)G_MAXINT64);
	if (ready_time != self->ready_time) {
		self->ready_time = ready_time;
		g_source_set_ready_time(source, ready_time);
	}
	return FALSE;
}

static gboolean
bus_source_check(GSource *source)
{
	SgBusSource *self = (SgBusSource *)source;

	return !self->ended && g_source_query_unix_fd(source, self->tag) != 0;
}

static gboolean
bus_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	SgBusSource *self = (SgBusSource *)source;
	int r;

	if (self->ended)
		return G_SOURCE_REMOVE;
	/* One message per dispatch; more waiting makes the next timeout 0. */
	r = sd_bus_process(self->bus, NULL);
	if (r >= 0 || r == -EINTR)
		return G_SOURCE_CONTINUE;
	self->ended = TRUE;
	self->ready_time = -1;
	g_source_set_ready_time(source, -1);
	if (self->lost != NULL)
		self->lost(r, self->lost_data);
	return G_SOURCE_REMOVE;
}

static void
bus_source_finalize(GSource *source)
{
	SgBusSource *self = (SgBusSource *)source;

	self->bus = sd_bus_unref(self->bus);
}

static GSourceFuncs bus_source_funcs = {
	.prepare = bus_source_prepare,
	.check = bus_source_check,
	.dispatch = bus_source_dispatch,
	.finalize = bus_source_finalize,
};

GSource *
sg_bus_source_attach(sd_bus *bus, SgBusSourceLostFunc lost, gpointer user_data)
{
	SgBusSource *self;
	int fd = sd_bus_get_fd(bus);

	g_return_val_if_fail(fd >= 0, NULL);
	self = (SgBusSource *)g_source_new(&bus_source_funcs, sizeof(SgBusSource));
	g_source_set_static_name(&self->source, "sg-bus");
	self->bus = sd_bus_ref(bus);
	self->lost = lost;
	self->lost_data = user_data;
	self->conditions = G_IO_IN;
	self->ready_time = -1;
	self->tag = g_source_add_unix_fd(&self->source, fd, self->conditions);
	g_source_attach(&self->source, g_main_context_get_thread_default());
	return &self->source;
}
