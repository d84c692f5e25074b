/* SPDX-License-Identifier: MIT */
/* A GSource that drives an sd-bus connection from the GLib main loop. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

/* The connection ended (the peer or the bus went away); errno_value is negative. */
typedef void (*SgBusSourceLostFunc)(int errno_value, gpointer user_data);

/*
 * A source for bus (referenced until the source is finalized), attached to the thread-default
 * main context: before every poll it reads the connection's fd events and next timeout again;
 * each dispatch runs one sd_bus_process() and is never re-entered. lost (may be NULL) runs
 * once when the connection ends; the source then removes itself. Destroy and unref the
 * returned source to detach it.
 */
GSource *sg_bus_source_attach(sd_bus *bus, SgBusSourceLostFunc lost, gpointer user_data);
