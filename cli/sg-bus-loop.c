/* SPDX-License-Identifier: MIT */
/* A GSource for a client's sd-bus connection: poll what sd-bus asks for, process once. */
#include "config.h"

#include "sg-bus-loop.h"

#include <poll.h>

typedef struct {
	GSource source;
	sd_bus *bus;
	gpointer tag;
	SgBusLoopLostFunc lost_cb;
	gpointer user_data;
} BusSource;

static GIOCondition
condition_for(int events)
{
	GIOCondition condition = 0;

	if (events & POLLIN)
		condition |= G_IO_IN;
	if (events & POLLOUT)
		condition |= G_IO_OUT;
	return condition;
}

/* Milliseconds until sd-bus wants to run again: 0 now, -1 never. */
static gint
timeout_ms(sd_bus *bus)
{
	uint64_t until;
	gint64 now;

	if (sd_bus_get_timeout(bus, &until) < 0 || until == UINT64_MAX)
		return -1;
	now = g_get_monotonic_time(); /* CLOCK_MONOTONIC, as sd-bus */
	if ((gint64)until <= now)
		return 0;
	return (gint)MIN((until - (uint64_t)now + 999) / 1000, (uint64_t)G_MAXINT);
}

static gboolean
bus_prepare(GSource *source, gint *ret_timeout)
{
	BusSource *self = (BusSource *)source;
	int events = sd_bus_get_events(self->bus);

	/* A closed connection: dispatch reports it. */
	if (events < 0) {
		*ret_timeout = 0;
		return TRUE;
	}
	g_source_modify_unix_fd(source, self->tag, condition_for(events));
	*ret_timeout = timeout_ms(self->bus);
	return *ret_timeout == 0;
}

static gboolean
bus_check(GSource *source)
{
	BusSource *self = (BusSource *)source;

	return g_source_query_unix_fd(source, self->tag) != 0 || timeout_ms(self->bus) == 0;
}

static gboolean
bus_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	BusSource *self = (BusSource *)source;
	int r = sd_bus_process(self->bus, NULL);

	if (r >= 0 && sd_bus_is_open(self->bus) > 0)
		return G_SOURCE_CONTINUE;
	if (self->lost_cb != NULL)
		self->lost_cb(self->user_data);
	return G_SOURCE_REMOVE;
}

static void
bus_finalize(GSource *source)
{
	BusSource *self = (BusSource *)source;

	sd_bus_unref(self->bus);
}

static GSourceFuncs bus_funcs = {
	.prepare = bus_prepare,
	.check = bus_check,
	.dispatch = bus_dispatch,
	.finalize = bus_finalize,
};

GSource *
sg_bus_loop_attach(sd_bus *bus, SgBusLoopLostFunc lost_cb, gpointer user_data)
{
	GSource *source = g_source_new(&bus_funcs, sizeof(BusSource));
	BusSource *self = (BusSource *)source;

	self->bus = sd_bus_ref(bus);
	self->lost_cb = lost_cb;
	self->user_data = user_data;
	self->tag = g_source_add_unix_fd(source, sd_bus_get_fd(bus), G_IO_IN);
	g_source_set_name(source, "sd-bus");
	g_source_attach(source, g_main_context_get_thread_default());
	return source;
}

void
sg_bus_loop_free(GSource *source)
{
	if (source == NULL)
		return;
	g_source_destroy(source);
	g_source_unref(source);
}
