/* SPDX-License-Identifier: MIT */
/* org.systemg.Service objects: a fallback vtable, a node enumerator and change signals. */
#include "config.h"

#include "bus/sg-bus-service.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "api/sg-status.h"
#include "base/sg-bus-names.h"
#include "base/sg-error.h"
#include "bus/sg-bus-access.h"
#include "engine/sg-service-snapshot.h"

/* One service's object: what was last announced of it, to announce changes only. */
typedef struct {
	SgBusServices *services;
	char *name;
	char *path;
	SgServiceStatus *announced; /* NULL until read once */
	/* The values properties are read from, one per main-loop turn: GetAll and
	 * GetManagedObjects ask for every property of every service at once. known is what
	 * the engine knows; live adds what only /proc tells (memory, CPU time, tasks). */
	SgServiceStatus *known;
	SgServiceStatus *live;
} Object;

struct _SgBusServices {
	sd_bus *bus;
	SgSupervisor *supervisor;
	SgBusAccess *access;
	SgBusServiceRunFunc run;
	gpointer run_data;
	sd_bus_vtable *vtable;
	sd_bus_slot *vtable_slot;
	sd_bus_slot *enumerator_slot;
	GHashTable *objects; /* name -> Object* */
	guint live_idle;     /* forgets the values read during this turn */
};

static void
object_free(Object *object)
{
	g_free(object->name);
	g_free(object->path);
	sg_service_status_free(object->announced);
	sg_service_status_free(object->known);
	sg_service_status_free(object->live);
	g_free(object);
}

char *
sg_bus_service_path(const char *name)
{
	char *path = NULL;

	if (sd_bus_path_encode(SG_BUS_SERVICE_PATH_BASE, name, &path) < 0)
		g_error("out of memory");
	return path;
}

static Object *
object_get(SgBusServices *self, const char *name)
{
	Object *object = g_hash_table_lookup(self->objects, name);

	if (object == NULL) {
		object = g_new0(Object, 1);
		object->services = self;
		object->name = g_strdup(name);
		object->path = sg_bus_service_path(name);
		g_hash_table_insert(self->objects, object->name, object);
	}
	return object;
}

/* The service behind an object, looked up on every use: a reload may replace it. */
static SgService *
object_service(SgBusServices *self, Object *object)
{
	return sg_supervisor_lookup(self->supervisor, object->name);
}

/* ---- property values ---- */

/* Every property comes through here: the find callback hands the Object. */
#define SERVICE_OR_FAIL(service, self, object, error)                                              \
	G_STMT_START                                                                               \
	{                                                                                          \
		(service) = object_service((self), (object));                                      \
		if ((service) == NULL)                                                             \
			return sd_bus_error_setf((error), SG_BUS_ERROR_NO_SUCH_SERVICE,            \
			                         _("no such service: %s"), (object)->name);        \
	}                                                                                          \
	G_STMT_END

static gboolean
forget_live_cb(gpointer user_data)
{
	SgBusServices *self = user_data;
	GHashTableIter iter;
	gpointer value;

	self->live_idle = 0;
	g_hash_table_iter_init(&iter, self->objects);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		g_clear_pointer(&((Object *)value)->known, sg_service_status_free);
		g_clear_pointer(&((Object *)value)->live, sg_service_status_free);
	}
	return G_SOURCE_REMOVE;
}

static void
forget_this_turn(SgBusServices *self)
{
	if (self->live_idle == 0)
		self->live_idle = g_idle_add(forget_live_cb, self);
}

/* The status as status --json has it, shared by the properties asked in the same turn. */
static const SgServiceStatus *
object_live(SgBusServices *self, Object *object, SgService *service)
{
	if (object->live != NULL)
		return object->live;
	object->live = sg_status_service_value(self->supervisor, service);
	forget_this_turn(self);
	return object->live;
}

/* What the engine knows, without reading /proc: every property that is not read live. */
static const SgServiceStatus *
object_known(SgBusServices *self, Object *object, SgService *service)
{
	if (object->live != NULL)
		return object->live;
	if (object->known != NULL)
		return object->known;
	object->known = sg_service_snapshot(service);
	forget_this_turn(self);
	return object->known;
}

static gboolean
property_is_live(const char *property)
{
	const SgServiceStatusProperty *p;

	for (guint i = 0; (p = sg_service_status_property(i)) != NULL; i++)
		if (g_str_equal(p->name, property))
			return p->change == SG_SERVICE_STATUS_LIVE;
	return FALSE;
}

static int
property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
             sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	Object *object = userdata;
	SgBusServices *self = object->services;
	SgService *service;
	int r;

	SERVICE_OR_FAIL(service, self, object, error);
	/* A State asked a thousand times a second must not scan /proc each time. */
	r = sg_service_status_append_property(property_is_live(property)
	                                              ? object_live(self, object, service)
	                                              : object_known(self, object, service),
	                                      property, reply);
	if (r == -ENOENT)
		return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY,
		                         "unknown property %s", property);
	return r;
}

/* ---- methods ---- */

static int
method_run(sd_bus_message *message, void *userdata, sd_bus_error *error, SgBusOp op)
{
	Object *object = userdata;
	SgService *service;
	int r;

	r = sg_bus_access_check(object->services->access, message, error);
	if (r < 0)
		return r;
	SERVICE_OR_FAIL(service, object->services, object, error);
	object->services->run(object->services->run_data, message, op,
	                      sg_service_get_name(service));
	return 1;
}

static int
method_start(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	return method_run(message, userdata, error, SG_BUS_OP_START);
}

static int
method_stop(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	return method_run(message, userdata, error, SG_BUS_OP_STOP);
}

static int
method_restart(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	return method_run(message, userdata, error, SG_BUS_OP_RESTART);
}

/* The methods, then one property for each of SgServiceStatus's. */
static sd_bus_vtable *
service_vtable_new(void)
{
	static const sd_bus_vtable methods[] = {
		SD_BUS_VTABLE_START(0),
		SD_BUS_METHOD("Start", "", "", method_start, SD_BUS_VTABLE_UNPRIVILEGED),
		SD_BUS_METHOD("Stop", "", "", method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
		SD_BUS_METHOD("Restart", "", "", method_restart, SD_BUS_VTABLE_UNPRIVILEGED),
	};
	static const sd_bus_vtable end[] = { SD_BUS_VTABLE_END };
	guint n = 0;
	sd_bus_vtable *vtable;

	while (sg_service_status_property(n) != NULL)
		n++;
	vtable = g_new0(sd_bus_vtable, G_N_ELEMENTS(methods) + n + 1);
	memcpy(vtable, methods, sizeof(methods));
	for (guint i = 0; i < n; i++) {
		const SgServiceStatusProperty *property = sg_service_status_property(i);
		guint64 flags = property->change == SG_SERVICE_STATUS_CONST
		                        ? SD_BUS_VTABLE_PROPERTY_CONST
		                : property->change == SG_SERVICE_STATUS_EMITS_CHANGE
		                        ? SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
		                        : 0;

		vtable[G_N_ELEMENTS(methods) + i] = (sd_bus_vtable)SD_BUS_PROPERTY(
		        property->name, property->signature, property_get, 0, flags);
	}
	vtable[G_N_ELEMENTS(methods) + n] = end[0];
	return vtable;
}

/* ---- objects ---- */

static int
object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **ret_found,
            sd_bus_error *error)
{
	SgBusServices *self = userdata;
	g_autofree char *name = NULL;

	if (sd_bus_path_decode(path, SG_BUS_SERVICE_PATH_BASE, &name) <= 0 || name[0] == '\0')
		return 0;
	if (sg_supervisor_lookup(self->supervisor, name) == NULL)
		return 0;
	/* Objects live until their service is removed: past this one dispatch. */
	*ret_found = object_get(self, name);
	return 1;
}

static int
enumerate_nodes(sd_bus *bus, const char *prefix, void *userdata, char ***ret_nodes,
                sd_bus_error *error)
{
	SgBusServices *self = userdata;
	GPtrArray *services = sg_supervisor_get_services(self->supervisor);
	char **nodes = calloc(services->len + 1, sizeof(char *));

	if (nodes == NULL)
		return -ENOMEM;
	/* sd-bus frees the list with free(): the paths come from sd_bus_path_encode. */
	for (guint i = 0; i < services->len; i++) {
		int r = sd_bus_path_encode(SG_BUS_SERVICE_PATH_BASE,
		                           sg_service_get_name(services->pdata[i]), &nodes[i]);
		if (r < 0) {
			for (guint j = 0; j < i; j++)
				free(nodes[j]);
			free(nodes);
			return r;
		}
	}
	*ret_nodes = nodes;
	return 0;
}

/* ---- change signals ---- */

void
sg_bus_services_update(SgBusServices *self, SgService *service)
{
	Object *object = object_get(self, sg_service_get_name(service));
	g_autoptr(SgServiceStatus) now = sg_service_snapshot(service);
	g_autofree const char **changed = NULL;
	int r;

	g_clear_pointer(&object->known, sg_service_status_free);
	g_clear_pointer(&object->live, sg_service_status_free);
	if (object->announced == NULL) {
		/* The first reading is what a client sees by asking: nothing changed yet. */
		object->announced = g_steal_pointer(&now);
		return;
	}
	changed = sg_service_status_diff(object->announced, now);
	sg_service_status_free(object->announced);
	object->announced = g_steal_pointer(&now);
	if (changed[0] == NULL)
		return;
	r = sd_bus_emit_properties_changed_strv(self->bus, object->path, SG_BUS_SERVICE_INTERFACE,
	                                        (char **)changed);
	if (r < 0 && r != -ENOTCONN)
		sg_context_log(sg_supervisor_get_context(self->supervisor), SG_LOG_DEBUG,
		               "D-Bus: cannot announce the changes of %s: %s", object->name,
		               g_strerror(-r));
}

void
sg_bus_services_added(SgBusServices *self, SgService *service)
{
	Object *object = object_get(self, sg_service_get_name(service));

	sg_bus_services_update(self, service);
	sd_bus_emit_interfaces_added(self->bus, object->path, SG_BUS_SERVICE_INTERFACE, NULL);
}

void
sg_bus_services_removed(SgBusServices *self, const char *name)
{
	g_autofree char *path = sg_bus_service_path(name);

	sd_bus_emit_interfaces_removed(self->bus, path, SG_BUS_SERVICE_INTERFACE, NULL);
	g_hash_table_remove(self->objects, name);
}

/* ---- set-up ---- */

SgBusServices *
sg_bus_services_new(sd_bus *bus, SgSupervisor *supervisor, SgBusAccess *access,
                    SgBusServiceRunFunc run, gpointer run_data, GError **error)
{
	SgBusServices *self = g_new0(SgBusServices, 1);
	GPtrArray *services = sg_supervisor_get_services(supervisor);
	int r;

	self->bus = sd_bus_ref(bus);
	self->supervisor = supervisor;
	self->access = access;
	self->run = run;
	self->run_data = run_data;
	self->vtable = service_vtable_new();
	self->objects =
	        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)object_free);
	r = sd_bus_add_fallback_vtable(bus, &self->vtable_slot, SG_BUS_SERVICE_PATH_BASE,
	                               SG_BUS_SERVICE_INTERFACE, self->vtable, object_find, self);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(bus, &self->enumerator_slot,
		                               SG_BUS_SERVICE_PATH_BASE, enumerate_nodes, self);
	if (r < 0) {
		sg_bus_services_free(self);
		sg_error_set_errno(error, r, "cannot register %s", SG_BUS_SERVICE_INTERFACE);
		return NULL;
	}
	for (guint i = 0; i < services->len; i++)
		sg_bus_services_update(self, services->pdata[i]);
	return self;
}

void
sg_bus_services_free(SgBusServices *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id(&self->live_idle, g_source_remove);
	sd_bus_slot_unref(self->vtable_slot);
	sd_bus_slot_unref(self->enumerator_slot);
	sd_bus_unref(self->bus);
	g_hash_table_unref(self->objects);
	g_free(self->vtable);
	g_free(self);
}
