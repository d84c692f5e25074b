/* SPDX-License-Identifier: MIT */
/* status, get_service and list_services over D-Bus: the daemon's own values, decoded. */
#include "config.h"

#include "sg-client-bus-private.h"

#include "base/sg-bus-autoptr.h"
#include "base/sg-bus-names.h"
#include "base/sg-json.h"
#include "state/sg-service-status.h"

#define OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"

static gint64
prop_int(JsonObject *props, const char *name)
{
	JsonNode *node = json_object_get_member(props, name);

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_INT64)
		return 0;
	return json_node_get_int(node);
}

static void
set_nullable_int(JsonObject *object, const char *name, gint64 value, gboolean present)
{
	if (present)
		json_object_set_int_member(object, name, value);
	else
		json_object_set_null_member(object, name);
}

/* ListServices: the names in the supervisor's order, with their object paths. */
static gboolean
list_services(SgClientBus *client, GPtrArray *paths, JsonArray *listed, GError **error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	const char *name, *kind, *state, *path;
	uint32_t pid;
	int r;

	if (!sg_client_bus_method(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
	                          "ListServices", &reply, error, NULL))
		return FALSE;
	r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(sssuo)");
	while (r >= 0 &&
	       (r = sd_bus_message_read(reply, "(sssuo)", &name, &kind, &state, &pid, &path)) > 0) {
		if (paths != NULL)
			g_ptr_array_add(paths, g_strdup(path));
		if (listed != NULL) {
			JsonObject *entry = json_object_new();

			json_object_set_string_member(entry, "name", name);
			json_object_set_string_member(entry, "kind", kind);
			json_object_set_string_member(entry, "state", state);
			set_nullable_int(entry, "pid", pid, pid > 0);
			json_array_add_object_element(listed, entry);
		}
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	return r >= 0 || sg_client_bus_parse_error(error, r, "ListServices");
}

JsonNode *
sg_client_bus_list_services(SgClientBus *client, GError **error)
{
	JsonArray *listed = json_array_new();
	JsonNode *node = json_node_new(JSON_NODE_ARRAY);

	json_node_take_array(node, listed);
	if (!list_services(client, NULL, listed, error)) {
		json_node_unref(node);
		return NULL;
	}
	return node;
}

/* Reads the interfaces of one object (a{sa{sv}}): its org.systemg.Service, or NULL. */
static int
read_interfaces(sd_bus_message *reply, SgServiceStatus **ret_status)
{
	int r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "{sa{sv}}");

	while (r >= 0 &&
	       (r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_DICT_ENTRY, "sa{sv}")) > 0) {
		const char *interface;

		r = sd_bus_message_read_basic(reply, 's', &interface);
		if (r >= 0 && g_str_equal(interface, SG_BUS_SERVICE_INTERFACE)) {
			g_autoptr(SgServiceStatus) status = sg_service_status_new();

			r = sg_service_status_read_properties(status, reply);
			if (r >= 0) {
				sg_service_status_free(*ret_status);
				*ret_status = g_steal_pointer(&status);
			}
		} else if (r >= 0) {
			r = sd_bus_message_skip(reply, "a{sv}");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	return r < 0 ? r : sd_bus_message_exit_container(reply);
}

/* GetManagedObjects: object path -> SgServiceStatus. */
static GHashTable *
managed_objects(SgClientBus *client, GError **error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	g_autoptr(GHashTable) objects = g_hash_table_new_full(
	        g_str_hash, g_str_equal, g_free, (GDestroyNotify)sg_service_status_free);
	int r;

	if (!sg_client_bus_method(client, SG_BUS_MANAGER_PATH, OBJECT_MANAGER, "GetManagedObjects",
	                          &reply, error, NULL))
		return NULL;
	r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "{oa{sa{sv}}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_DICT_ENTRY,
	                                                     "oa{sa{sv}}")) > 0) {
		const char *path;
		SgServiceStatus *status = NULL;

		r = sd_bus_message_read_basic(reply, 'o', &path);
		if (r >= 0)
			r = read_interfaces(reply, &status);
		if (status != NULL)
			g_hash_table_replace(objects, g_strdup(path), status);
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r < 0) {
		sg_client_bus_parse_error(error, r, "GetManagedObjects");
		return NULL;
	}
	return g_steal_pointer(&objects);
}

/* The "supervisor" object of status, from the Manager's properties. */
static JsonNode *
supervisor_object(SgClientBus *client, GError **error)
{
	g_autoptr(JsonObject) manager =
	        sg_client_bus_get_all(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE, error);
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	const char *config_path;
	gint64 pid;

	if (manager == NULL)
		return NULL;
	config_path = sg_json_object_get_string(manager, "ConfigPath");
	pid = prop_int(manager, "Pid");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "running");
	json_builder_add_boolean_value(builder, TRUE);
	sg_json_builder_add_int_or_null(builder, "pid", pid, pid > 0);
	sg_json_builder_add_string_or_null(
	        builder, "config", config_path != NULL && config_path[0] ? config_path : NULL);
	sg_json_builder_add_string_or_null(builder, "state_dir",
	                                   sg_json_object_get_string(manager, "StateDirectory"));
	sg_json_builder_add_string_or_null(builder, "version",
	                                   sg_json_object_get_string(manager, "Version"));
	sg_json_builder_add_time(builder, "started_at", prop_int(manager, "StartedAt"));
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

JsonNode *
sg_client_bus_status(SgClientBus *client, GError **error)
{
	g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) objects = NULL;
	g_autoptr(JsonNode) supervisor = supervisor_object(client, error);
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();

	if (supervisor == NULL || !list_services(client, paths, NULL, error) ||
	    (objects = managed_objects(client, error)) == NULL)
		return NULL;
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "supervisor");
	json_builder_add_value(builder, g_steal_pointer(&supervisor));
	json_builder_set_member_name(builder, "services");
	json_builder_begin_array(builder);
	for (guint i = 0; i < paths->len; i++) {
		const SgServiceStatus *status = g_hash_table_lookup(objects, paths->pdata[i]);

		/* Gone between the two calls: the next status shows it no more. */
		if (status != NULL)
			sg_service_status_build_json(status, builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

JsonNode *
sg_client_bus_get_service(SgClientBus *client, const char *name, GError **error)
{
	g_autoptr(sd_bus_message) reply = NULL;
	g_autoptr(sd_bus_message) props = NULL;
	g_autoptr(SgServiceStatus) status = sg_service_status_new();
	const char *path;
	int r;

	if (!sg_client_bus_method(client, SG_BUS_MANAGER_PATH, SG_BUS_MANAGER_INTERFACE,
	                          "GetService", &reply, error, "s", name))
		return NULL;
	r = sd_bus_message_read_basic(reply, 'o', &path);
	if (r < 0) {
		sg_client_bus_parse_error(error, r, "GetService");
		return NULL;
	}
	if (!sg_client_bus_method(client, path, "org.freedesktop.DBus.Properties", "GetAll", &props,
	                          error, "s", SG_BUS_SERVICE_INTERFACE))
		return NULL;
	r = sg_service_status_read_properties(status, props);
	if (r < 0) {
		sg_client_bus_parse_error(error, r, "GetAll");
		return NULL;
	}
	return sg_service_status_to_json(status);
}
