/* SPDX-License-Identifier: MIT */
/* org.systemg.Service objects: a fallback vtable, a node enumerator and change signals. */
#include "config.h"

#include "bus/sg-bus-service.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "base/sg-bus-names.h"
#include "base/sg-error.h"
#include "base/sg-shell.h"

/* What was last announced of a service, to emit PropertiesChanged for changes only. */
typedef struct {
	SgBusServices *services;
	char *name;
	char *path;
	gboolean known; /* the values below were read once */
	SgServiceState state;
	pid_t pid;
	guint restart_count;
	int exit_code;
	int exit_signal;
	gint64 started_at;
	gint64 next_run;
	char *last_result;
	char *kind;
	char *command;
	char *restart_policy;
	char *depends_on;
	char *cron_expression;
	/* MemoryBytes and CpuUsec come from one reading per main-loop turn: GetAll and
	 * GetManagedObjects ask for both of every service at once. */
	gboolean usage_read;
	SgContainUsage usage;
} Object;

struct _SgBusServices {
	SgBus *owner;
	sd_bus *bus;
	SgSupervisor *supervisor;
	sd_bus_slot *vtable_slot;
	sd_bus_slot *enumerator_slot;
	GHashTable *objects; /* name -> Object* */
	guint usage_idle;    /* forgets the usage read during this turn */
};

static void
object_free(Object *object)
{
	g_free(object->name);
	g_free(object->path);
	g_free(object->last_result);
	g_free(object->kind);
	g_free(object->command);
	g_free(object->restart_policy);
	g_free(object->depends_on);
	g_free(object->cron_expression);
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

static const char *
kind_of(SgService *service)
{
	return sg_service_get_config(service)->cron != NULL ? "cron" : "service";
}

static char *
command_of(SgService *service)
{
	const SgServiceConfig *cfg = sg_service_get_config(service);

	/* As status shows it: the shell string, or the argv shell-quoted. */
	return cfg->command != NULL ? g_strdup(cfg->command) : sg_shell_join(cfg->argv);
}

static char *
depends_on_joined(SgService *service)
{
	const SgServiceConfig *cfg = sg_service_get_config(service);
	g_autoptr(GString) joined = g_string_new(NULL);

	for (guint i = 0; i < cfg->n_depends_on; i++) {
		g_string_append(joined, cfg->depends_on[i].service);
		g_string_append_c(joined, '\n');
	}
	return g_string_free(g_steal_pointer(&joined), FALSE);
}

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
forget_usage_cb(gpointer user_data)
{
	SgBusServices *self = user_data;
	GHashTableIter iter;
	gpointer value;

	self->usage_idle = 0;
	g_hash_table_iter_init(&iter, self->objects);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		((Object *)value)->usage_read = FALSE;
	return G_SOURCE_REMOVE;
}

/* Read live, never announced; shared by the properties asked in the same turn. */
static SgContainUsage *
object_usage(SgBusServices *self, Object *object, SgService *service)
{
	SgContext *context = sg_supervisor_get_context(self->supervisor);

	if (object->usage_read)
		return &object->usage;
	object->usage = (SgContainUsage){ 0, 0, 0 };
	if (sg_service_is_active(service))
		sg_contain_usage(context->contain, sg_service_get_name(service),
		                 sg_service_get_pid(service), &object->usage);
	object->usage_read = TRUE;
	if (self->usage_idle == 0)
		self->usage_idle = g_idle_add(forget_usage_cb, self);
	return &object->usage;
}

static int
property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
             sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	Object *object = userdata;
	SgBusServices *self = object->services;
	SgService *service;
	const SgServiceConfig *cfg;

	SERVICE_OR_FAIL(service, self, object, error);
	cfg = sg_service_get_config(service);
	if (strcmp(property, "Name") == 0)
		return sd_bus_message_append(reply, "s", sg_service_get_name(service));
	if (strcmp(property, "Kind") == 0)
		return sd_bus_message_append(reply, "s", kind_of(service));
	if (strcmp(property, "State") == 0)
		return sd_bus_message_append(
		        reply, "s", sg_service_state_to_string(sg_service_get_state(service)));
	if (strcmp(property, "Pid") == 0)
		return sd_bus_message_append(reply, "u",
		                             (uint32_t)MAX(sg_service_get_pid(service), 0));
	if (strcmp(property, "RestartCount") == 0)
		return sd_bus_message_append(reply, "u",
		                             (uint32_t)sg_service_get_restart_count(service));
	if (strcmp(property, "ExitCode") == 0)
		return sd_bus_message_append(reply, "i",
		                             (int32_t)sg_service_get_exit_code(service));
	if (strcmp(property, "ExitSignal") == 0)
		return sd_bus_message_append(reply, "i",
		                             (int32_t)sg_service_get_exit_signal(service));
	if (strcmp(property, "StartedAt") == 0)
		return sd_bus_message_append(reply, "t",
		                             (uint64_t)MAX(sg_service_get_started_at(service), 0));
	if (strcmp(property, "Command") == 0) {
		g_autofree char *command = command_of(service);
		return sd_bus_message_append(reply, "s", command != NULL ? command : "");
	}
	if (strcmp(property, "RestartPolicy") == 0)
		return sd_bus_message_append(reply, "s",
		                             sg_restart_policy_to_string(cfg->restart_policy));
	if (strcmp(property, "DependsOn") == 0) {
		int r = sd_bus_message_open_container(reply, 'a', "s");
		for (guint i = 0; r >= 0 && i < cfg->n_depends_on; i++)
			r = sd_bus_message_append(reply, "s", cfg->depends_on[i].service);
		return r < 0 ? r : sd_bus_message_close_container(reply);
	}
	if (strcmp(property, "CronExpression") == 0)
		return sd_bus_message_append(
		        reply, "s", cfg->cron_expression != NULL ? cfg->cron_expression : "");
	if (strcmp(property, "NextRun") == 0)
		return sd_bus_message_append(reply, "t",
		                             (uint64_t)MAX(sg_service_get_next_run(service), 0));
	if (strcmp(property, "LastResult") == 0) {
		const char *result = sg_service_get_last_result(service);
		return sd_bus_message_append(reply, "s", result != NULL ? result : "");
	}
	if (strcmp(property, "MemoryBytes") == 0 || strcmp(property, "CpuUsec") == 0) {
		SgContainUsage *usage = object_usage(self, object, service);

		return sd_bus_message_append(
		        reply, "t",
		        (uint64_t)MAX(property[0] == 'M' ? usage->memory_bytes : usage->cpu_usec,
		                      0));
	}
	return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "unknown property %s",
	                         property);
}

/* ---- methods ---- */

static int
method_run(sd_bus_message *message, void *userdata, sd_bus_error *error, SgBusOp op)
{
	Object *object = userdata;
	SgService *service;
	int r;

	r = sg_bus_check_caller(object->services->owner, message, error);
	if (r < 0)
		return r;
	SERVICE_OR_FAIL(service, object->services, object, error);
	sg_bus_run(object->services->owner, message, op, sg_service_get_name(service));
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

#define DYNAMIC SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

static const sd_bus_vtable service_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Start", "", "", method_start, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Stop", "", "", method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Restart", "", "", method_restart, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("Name", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Kind", "s", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("State", "s", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("Pid", "u", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("RestartCount", "u", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("ExitCode", "i", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("ExitSignal", "i", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("StartedAt", "t", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("Command", "s", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("RestartPolicy", "s", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("DependsOn", "as", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("CronExpression", "s", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("NextRun", "t", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("LastResult", "s", property_get, 0, DYNAMIC),
	SD_BUS_PROPERTY("MemoryBytes", "t", property_get, 0, 0),
	SD_BUS_PROPERTY("CpuUsec", "t", property_get, 0, 0),
	SD_BUS_VTABLE_END,
};

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

static gboolean
update_string(char **field, char *value)
{
	gboolean changed = g_strcmp0(*field, value) != 0;

	g_free(*field);
	*field = value;
	return changed;
}

#define UPDATE(field, value, property)                                                             \
	G_STMT_START                                                                               \
	{                                                                                          \
		__typeof__(object->field) new_ = (value);                                          \
		if (object->field != new_)                                                         \
			g_ptr_array_add(changed, (gpointer)(property));                            \
		object->field = new_;                                                              \
	}                                                                                          \
	G_STMT_END

void
sg_bus_services_update(SgBusServices *self, SgService *service, gboolean refresh_config)
{
	Object *object = object_get(self, sg_service_get_name(service));
	g_autoptr(GPtrArray) changed = g_ptr_array_new();
	const SgServiceConfig *cfg = sg_service_get_config(service);
	gboolean first = !object->known;
	int r;

	UPDATE(state, sg_service_get_state(service), "State");
	UPDATE(pid, MAX(sg_service_get_pid(service), 0), "Pid");
	UPDATE(restart_count, sg_service_get_restart_count(service), "RestartCount");
	UPDATE(exit_code, sg_service_get_exit_code(service), "ExitCode");
	UPDATE(exit_signal, sg_service_get_exit_signal(service), "ExitSignal");
	UPDATE(started_at, MAX(sg_service_get_started_at(service), 0), "StartedAt");
	UPDATE(next_run, MAX(sg_service_get_next_run(service), 0), "NextRun");
	if (update_string(&object->last_result, g_strdup(sg_service_get_last_result(service))))
		g_ptr_array_add(changed, "LastResult");
	if (refresh_config || first) {
		if (update_string(&object->kind, g_strdup(kind_of(service))))
			g_ptr_array_add(changed, "Kind");
		if (update_string(&object->command, command_of(service)))
			g_ptr_array_add(changed, "Command");
		if (update_string(&object->restart_policy,
		                  g_strdup(sg_restart_policy_to_string(cfg->restart_policy))))
			g_ptr_array_add(changed, "RestartPolicy");
		if (update_string(&object->depends_on, depends_on_joined(service)))
			g_ptr_array_add(changed, "DependsOn");
		if (update_string(&object->cron_expression, g_strdup(cfg->cron_expression)))
			g_ptr_array_add(changed, "CronExpression");
	}
	object->known = TRUE;
	/* The first reading is what a client sees by asking: nothing changed yet. */
	if (first || changed->len == 0)
		return;
	g_ptr_array_add(changed, NULL);
	r = sd_bus_emit_properties_changed_strv(self->bus, object->path, SG_BUS_SERVICE_INTERFACE,
	                                        (char **)changed->pdata);
	if (r < 0 && r != -ENOTCONN)
		sg_context_log(sg_supervisor_get_context(self->supervisor), SG_LOG_DEBUG,
		              "D-Bus: cannot announce the changes of %s: %s", object->name,
		              g_strerror(-r));
}

void
sg_bus_services_added(SgBusServices *self, SgService *service)
{
	Object *object = object_get(self, sg_service_get_name(service));

	sg_bus_services_update(self, service, TRUE);
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
sg_bus_services_new(SgBus *owner, sd_bus *bus, SgSupervisor *supervisor, GError **error)
{
	SgBusServices *self = g_new0(SgBusServices, 1);
	GPtrArray *services = sg_supervisor_get_services(supervisor);
	int r;

	self->owner = owner;
	self->bus = sd_bus_ref(bus);
	self->supervisor = supervisor;
	self->objects =
	        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)object_free);
	r = sd_bus_add_fallback_vtable(bus, &self->vtable_slot, SG_BUS_SERVICE_PATH_BASE,
	                               SG_BUS_SERVICE_INTERFACE, service_vtable, object_find, self);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(bus, &self->enumerator_slot,
		                               SG_BUS_SERVICE_PATH_BASE, enumerate_nodes, self);
	if (r < 0) {
		sg_bus_services_free(self);
		sg_error_set_errno(error, r, "cannot register %s", SG_BUS_SERVICE_INTERFACE);
		return NULL;
	}
	for (guint i = 0; i < services->len; i++)
		sg_bus_services_update(self, services->pdata[i], TRUE);
	return self;
}

void
sg_bus_services_free(SgBusServices *self)
{
	if (self == NULL)
		return;
	g_clear_handle_id(&self->usage_idle, g_source_remove);
	sd_bus_slot_unref(self->vtable_slot);
	sd_bus_slot_unref(self->enumerator_slot);
	sd_bus_unref(self->bus);
	g_hash_table_unref(self->objects);
	g_free(self);
}
