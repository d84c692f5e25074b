/* SPDX-License-Identifier: MIT */
/* The caller check of org.systemg: one filter before every object, a UID cache, quiet logs. */
#include "config.h"

#include "bus/sg-bus-access.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "base/sg-bus-autoptr.h"
#include "base/sg-bus-names.h"
#include "base/sg-error.h"
#include "process/sg-log-limit.h"

struct _SgBusAccess {
	SgContext *context;
	sd_bus *bus;
	uid_t owner_uid;
	GHashTable *sender_uids; /* unique name -> uid, cached until the name goes away */
	sd_bus_slot *filter_slot;
	sd_bus_slot *owner_changed_slot;
	SgLogLimit refusals;
};

void
sg_bus_access_set_owner_uid(SgBusAccess *self, uid_t uid)
{
	self->owner_uid = uid;
}

int
sg_bus_access_check(SgBusAccess *self, sd_bus_message *message, sd_bus_error *error)
{
	const char *sender = sd_bus_message_get_sender(message);
	const char *interface = sd_bus_message_get_interface(message);
	gpointer cached;
	uid_t uid;
	int r;

	if (sender != NULL &&
	    g_hash_table_lookup_extended(self->sender_uids, sender, NULL, &cached)) {
		uid = GPOINTER_TO_UINT(cached);
	} else {
		/* On a bus, a round trip to the bus daemon: once per peer. */
		g_autoptr(sd_bus_creds) creds = NULL;

		r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID, &creds);
		if (r >= 0)
			r = sd_bus_creds_get_euid(creds, &uid);
		if (r < 0) {
			sg_log_limit_log(
			        &self->refusals,
			        "D-Bus: refused the caller %s of %s: cannot identify it: %s",
			        sender != NULL ? sender : "(peer)",
			        sd_bus_message_get_member(message), g_strerror(-r));
			return sd_bus_error_setf(
			        error, SG_BUS_ERROR_ACCESS_DENIED,
			        _("access denied: the caller cannot be identified"));
		}
		if (sender != NULL)
			g_hash_table_insert(self->sender_uids, g_strdup(sender),
			                    GUINT_TO_POINTER(uid));
	}
	if (uid == self->owner_uid)
		return 0;
	sg_log_limit_log(&self->refusals,
	                 "D-Bus: refused %s%s%s from %s of UID %u: only UID %u is served",
	                 interface != NULL ? interface : "", interface != NULL ? "." : "",
	                 sd_bus_message_get_member(message), sender != NULL ? sender : "(peer)",
	                 (unsigned)uid, (unsigned)self->owner_uid);
	return sd_bus_error_setf(error, SG_BUS_ERROR_ACCESS_DENIED,
	                         _("access denied: only UID %u may call the supervisor"),
	                         (unsigned)self->owner_uid);
}

static gboolean
is_our_path(const char *path)
{
	gsize length = strlen(SG_BUS_MANAGER_PATH);

	return path != NULL && strncmp(path, SG_BUS_MANAGER_PATH, length) == 0 &&
	       (path[length] == '\0' || path[length] == '/');
}

/* Before any object sees a call: what properties say (command lines) is the owner's. */
static int
filter_cb(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	SgBusAccess *self = userdata;
	const char *interface;

	if (!sd_bus_message_is_method_call(message, NULL, NULL) ||
	    !is_our_path(sd_bus_message_get_path(message)))
		return 0;
	/* The shape of the objects and a ping tell nothing about the services. */
	interface = sd_bus_message_get_interface(message);
	if (g_strcmp0(interface, "org.freedesktop.DBus.Introspectable") == 0 ||
	    g_strcmp0(interface, "org.freedesktop.DBus.Peer") == 0)
		return 0;
	/* An error set here is the reply, and the call goes no further. */
	return sg_bus_access_check(self, message, error);
}

static int
owner_changed_cb(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	SgBusAccess *self = userdata;
	const char *name, *old_owner, *new_owner;

	if (sd_bus_message_read(message, "sss", &name, &old_owner, &new_owner) >= 0 &&
	    new_owner[0] == '\0')
		g_hash_table_remove(self->sender_uids, name);
	return 0;
}

SgBusAccess *
sg_bus_access_new(SgContext *context, sd_bus *bus, GError **error)
{
	SgBusAccess *self = g_new0(SgBusAccess, 1);
	int r;

	self->context = context;
	self->bus = sd_bus_ref(bus);
	self->owner_uid = geteuid();
	self->sender_uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	sg_log_limit_init(&self->refusals, context, SG_LOG_WARN,
	                  "D-Bus: refused callers of another UID");
	r = sd_bus_add_filter(bus, &self->filter_slot, filter_cb, self);
	if (r < 0) {
		sg_bus_access_free(self);
		sg_error_set_errno(error, r, "cannot check the callers");
		return NULL;
	}
	return self;
}

void
sg_bus_access_watch_peers(SgBusAccess *self)
{
	int r = sd_bus_match_signal_async(self->bus, &self->owner_changed_slot,
	                                  "org.freedesktop.DBus", "/org/freedesktop/DBus",
	                                  "org.freedesktop.DBus", "NameOwnerChanged",
	                                  owner_changed_cb, NULL, self);

	if (r < 0)
		sg_context_log(self->context, SG_LOG_WARN, "D-Bus: cannot watch peers: %s",
		               g_strerror(-r));
}

void
sg_bus_access_free(SgBusAccess *self)
{
	if (self == NULL)
		return;
	sd_bus_slot_unref(self->filter_slot);
	sd_bus_slot_unref(self->owner_changed_slot);
	sd_bus_unref(self->bus);
	g_hash_table_unref(self->sender_uids);
	sg_log_limit_clear(&self->refusals);
	g_free(self);
}
