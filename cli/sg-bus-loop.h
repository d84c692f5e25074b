/* SPDX-License-Identifier: MIT */
/* Drives a client's sd-bus connection from the GLib main loop. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

/* The connection ended (the bus went away, or it was closed). */
typedef void (*SgBusLoopLostFunc)(gpointer user_data);

/*
 * Attaches bus to the thread-default main context: one sd_bus_process per dispatch, its
 * fd events and timeout read again before every poll. lost_cb (may be NULL) is called once
 * when the connection ends; the source then removes itself. Free with sg_bus_loop_free().
 */
GSource *sg_bus_loop_attach(sd_bus *bus, SgBusLoopLostFunc lost_cb, gpointer user_data);
/* Detaches and frees the source (NULL is fine). */
void sg_bus_loop_free(GSource *source);
