/* SPDX-License-Identifier: MIT */
/* Posts desktop notifications (org.freedesktop.Notifications.Notify) from sysg monitor. */
#include "config.h"

#include "sg-desktop-notify.h"

#include <glib/gi18n.h>
#include <systemd/sd-bus.h>

#include "base/sg-bus-autoptr.h"
#include "base/sg-bus-names.h"
#include "base/sg-bus-source.h"
#include "sg-cli.h"
#include "base/sg-error.h"

#define APP_NAME "systemg"
/* -1: the notification server decides how long a notification stays. */
#define EXPIRE_DEFAULT (-1)

struct _SgDesktopNotify {
	sd_bus *bus;
	GSource *source;
	gboolean lost;
	GHashTable *ids; /* key -> the server's id of the last notification with that key */
};

typedef struct {
	SgDesktopNotify *notify;
	char *key;
} Pending;

static void
lost_cb(int errno_value, gpointer user_data)
{
	SgDesktopNotify *notify = user_data;

	notify->lost = TRUE;
	sg_cli_error(_("warning: the session bus went away: no more desktop notifications"));
}

SgDesktopNotify *
sg_desktop_notify_new(GError **error)
{
	g_autoptr(SgDesktopNotify) notify = g_new0(SgDesktopNotify, 1);
	int r;

	notify->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	r = sd_bus_open_user(&notify->bus);
	if (r < 0) {
		sg_error_set_errno(error, r,
		                   _("Cannot post desktop notifications: no session bus"));
		return NULL;
	}
	notify->source = sg_bus_source_attach(notify->bus, lost_cb, notify);
	return g_steal_pointer(&notify);
}

void
sg_desktop_notify_free(SgDesktopNotify *notify)
{
	if (notify == NULL)
		return;
	if (notify->source != NULL) {
		g_source_destroy(notify->source);
		g_clear_pointer(&notify->source, g_source_unref);
	}
	/* Replies that never came free their Pending through the slots' destroy callbacks. */
	if (notify->bus != NULL)
		sd_bus_flush_close_unref(notify->bus);
	g_hash_table_unref(notify->ids);
	g_free(notify);
}

static void
pending_free(void *user_data)
{
	Pending *pending = user_data;

	g_free(pending->key);
	g_free(pending);
}

static int
reply_cb(sd_bus_message *reply, void *user_data, sd_bus_error *ret_error)
{
	Pending *pending = user_data;
	const sd_bus_error *error = sd_bus_message_get_error(reply);
	uint32_t id;

	if (error != NULL) {
		if (!sd_bus_error_has_name(error, SD_BUS_ERROR_NO_REPLY) ||
		    sd_bus_is_open(sd_bus_message_get_bus(reply)) > 0)
			sg_cli_error(_("warning: cannot post a desktop notification: %s"),
			             error->message != NULL ? error->message : error->name);
		return 0;
	}
	if (pending->key != NULL && sd_bus_message_read_basic(reply, 'u', &id) >= 0)
		g_hash_table_replace(pending->notify->ids, g_strdup(pending->key),
		                     GUINT_TO_POINTER(id));
	return 0;
}

static int
append_hints(sd_bus_message *m, SgDesktopUrgency urgency)
{
	int r = sd_bus_message_open_container(m, SD_BUS_TYPE_ARRAY, "{sv}");

	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}", "urgency", "y", (uint8_t)urgency);
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}", "desktop-entry", "s", APP_NAME);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

void
sg_desktop_notify_post(SgDesktopNotify *notify, const char *key, const char *summary,
                       const char *body, SgDesktopUrgency urgency)
{
	g_autoptr(sd_bus_message) m = NULL;
	uint32_t replaces = 0;
	Pending *pending;
	sd_bus_slot *slot = NULL;
	int r;

	if (notify->lost)
		return;
	if (key != NULL)
		replaces = GPOINTER_TO_UINT(g_hash_table_lookup(notify->ids, key));
	r = sd_bus_message_new_method_call(notify->bus, &m, SG_BUS_NOTIFICATIONS_NAME,
	                                   SG_BUS_NOTIFICATIONS_PATH,
	                                   SG_BUS_NOTIFICATIONS_INTERFACE, "Notify");
	if (r >= 0)
		r = sd_bus_message_append(m, "susss", APP_NAME, replaces,
		                          urgency == SG_DESKTOP_URGENCY_CRITICAL
		                                  ? "dialog-error"
		                                  : "dialog-information",
		                          summary, body != NULL ? body : "");
	if (r >= 0)
		r = sd_bus_message_append_strv(m, NULL);
	if (r >= 0)
		r = append_hints(m, urgency);
	if (r >= 0)
		r = sd_bus_message_append(m, "i", (int32_t)EXPIRE_DEFAULT);
	if (r < 0) {
		sg_cli_error(_("warning: cannot post a desktop notification: %s"), g_strerror(-r));
		return;
	}
	pending = g_new0(Pending, 1);
	pending->notify = notify;
	pending->key = g_strdup(key);
	r = sd_bus_call_async(notify->bus, &slot, m, reply_cb, pending, 0);
	if (r < 0) {
		pending_free(pending);
		sg_cli_error(_("warning: cannot post a desktop notification: %s"), g_strerror(-r));
		return;
	}
	/* The slot lives with the connection; it frees pending when the reply is handled. */
	sd_bus_slot_set_destroy_callback(slot, pending_free);
	sd_bus_slot_set_floating(slot, 1);
	sd_bus_slot_unref(slot);
}
