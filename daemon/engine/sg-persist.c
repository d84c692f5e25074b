/* SPDX-License-Identifier: MIT */
/* The writer of pid.json and state.json: events mark them dirty, one idle callback writes. */
#include "config.h"

#include "engine/sg-persist.h"

#include <json-glib/json-glib.h>

#include "engine/sg-service-snapshot.h"
#include "state/sg-boot.h"
#include "base/sg-json.h"
#include "base/sg-paths.h"
#include "state/sg-state.h"

/* The writer of a supervisor, found from the supervisor (sg_persist_flush_supervisor). */
#define PERSIST_KEY "sg-persist"

struct _SgPersist {
	SgSupervisor *supervisor;
	gulong state_handler;
	gulong changed_handler;
	gulong added_handler;
	gulong removed_handler;
	guint idle_id;
	guint writes;
	gboolean run_ended; /* every service was stopped on purpose: the next run starts afresh */
};

static JsonNode *
build_pid_json(SgSupervisor *supervisor)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	GPtrArray *services = sg_supervisor_get_services(supervisor);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "services");
	json_builder_begin_object(builder);
	for (guint i = 0; i < services->len; i++) {
		SgService *service = g_ptr_array_index(services, i);
		if (sg_service_get_pid(service) <= 0)
			continue;
		json_builder_set_member_name(builder, sg_service_get_name(service));
		json_builder_add_int_value(builder, sg_service_get_pid(service));
	}
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

static JsonNode *
build_state_json(SgSupervisor *supervisor, gboolean run_ended)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	GPtrArray *services = sg_supervisor_get_services(supervisor);
	SgContext *context = sg_supervisor_get_context(supervisor);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "state_id");
	json_builder_add_string_value(builder, context->state_id);
	/* Within one boot a process gone while no supervisor watched is a crash; after a
	 * reboot it is not (docs/persistence.md). */
	sg_json_builder_add_string_or_null(builder, "boot_id", sg_boot_id());
	if (run_ended) {
		json_builder_set_member_name(builder, "run_ended");
		json_builder_add_boolean_value(builder, TRUE);
	}
	/* Where the services' cgroups are, so that sysg stop finds them with no supervisor. */
	sg_json_builder_add_string_or_null(builder, "cgroup_root",
	                                   sg_contain_cgroup_root(context->contain));
	json_builder_set_member_name(builder, "services");
	json_builder_begin_object(builder);
	for (guint i = 0; i < services->len; i++) {
		SgService *service = g_ptr_array_index(services, i);
		g_autoptr(SgServiceStatus) status = sg_service_snapshot(service);
		pid_t pid = sg_service_get_pid(service);

		json_builder_set_member_name(builder, sg_service_get_name(service));
		json_builder_begin_object(builder);
		/* What status says of it, then what re-adoption needs to prove its process. */
		sg_service_status_build_state_json(status, builder);
		sg_json_builder_add_int_or_null(builder, "process_start_time",
		                                (gint64)sg_service_get_proc_start_time(service),
		                                pid > 0);
		sg_json_builder_add_string_or_null(builder, "invocation_id",
		                                   pid > 0 ? sg_service_get_invocation_id(service)
		                                           : NULL);
		json_builder_set_member_name(builder, "config_hash");
		json_builder_add_string_value(builder, sg_service_get_config(service)->hash);
		json_builder_end_object(builder);
	}
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

void
sg_persist_flush(SgPersist *persist)
{
	SgContext *context = sg_supervisor_get_context(persist->supervisor);
	g_autoptr(JsonNode) pids = NULL;
	g_autoptr(JsonNode) states = NULL;
	g_autoptr(GError) error = NULL;
	int lock;

	if (persist->idle_id == 0)
		return;
	g_clear_handle_id(&persist->idle_id, g_source_remove);
	pids = build_pid_json(persist->supervisor);
	states = build_state_json(persist->supervisor, persist->run_ended);
	lock = sg_state_lock(context->state_dir, &error);
	if (lock < 0) {
		sg_context_log(context, SG_LOG_ERROR, "cannot lock the state files: %s",
		               error->message);
		return;
	}
	if (!sg_state_write_json(context->state_dir, SG_STATE_PID_JSON, pids, &error) ||
	    !sg_state_write_json(context->state_dir, SG_STATE_STATE_JSON, states, &error))
		sg_context_log(context, SG_LOG_ERROR, "cannot write the state files: %s",
		               error->message);
	sg_state_unlock(lock);
	persist->writes++;
}

void
sg_persist_flush_supervisor(SgSupervisor *supervisor)
{
	SgPersist *persist = g_object_get_data(G_OBJECT(supervisor), PERSIST_KEY);

	if (persist != NULL)
		sg_persist_flush(persist);
}

static gboolean
write_cb(gpointer user_data)
{
	SgPersist *persist = user_data;

	sg_persist_flush(persist);
	return G_SOURCE_REMOVE;
}

static void
mark_dirty(SgPersist *persist)
{
	/* Idle priority: a burst of events in one loop turn costs one write. */
	if (persist->idle_id == 0)
		persist->idle_id = g_idle_add(write_cb, persist);
}

static void
state_changed_cb(SgSupervisor *supervisor, SgService *service, guint old_state, guint new_state,
                 gpointer user_data)
{
	mark_dirty(user_data);
}

static void
changed_cb(SgSupervisor *supervisor, SgService *service, gpointer user_data)
{
	mark_dirty(user_data);
}

static void
removed_cb(SgSupervisor *supervisor, const char *name, gpointer user_data)
{
	mark_dirty(user_data);
}

SgPersist *
sg_persist_new(SgSupervisor *supervisor)
{
	SgPersist *persist = g_new0(SgPersist, 1);

	persist->supervisor = g_object_ref(supervisor);
	persist->state_handler = g_signal_connect(supervisor, "service-state-changed",
	                                          G_CALLBACK(state_changed_cb), persist);
	persist->changed_handler =
	        g_signal_connect(supervisor, "service-changed", G_CALLBACK(changed_cb), persist);
	/* A reload adds and removes services; an orphan that exits goes. */
	persist->added_handler =
	        g_signal_connect(supervisor, "service-added", G_CALLBACK(changed_cb), persist);
	persist->removed_handler =
	        g_signal_connect(supervisor, "service-removed", G_CALLBACK(removed_cb), persist);
	g_object_set_data(G_OBJECT(supervisor), PERSIST_KEY, persist);
	mark_dirty(persist);
	return persist;
}

void
sg_persist_free(SgPersist *persist)
{
	if (persist == NULL)
		return;
	sg_persist_flush(persist);
	if (g_object_get_data(G_OBJECT(persist->supervisor), PERSIST_KEY) == persist)
		g_object_set_data(G_OBJECT(persist->supervisor), PERSIST_KEY, NULL);
	g_clear_signal_handler(&persist->state_handler, persist->supervisor);
	g_clear_signal_handler(&persist->changed_handler, persist->supervisor);
	g_clear_signal_handler(&persist->added_handler, persist->supervisor);
	g_clear_signal_handler(&persist->removed_handler, persist->supervisor);
	g_object_unref(persist->supervisor);
	g_free(persist);
}

void
sg_persist_end_run(SgPersist *persist)
{
	persist->run_ended = TRUE;
	mark_dirty(persist);
}

guint
sg_persist_write_count(SgPersist *persist)
{
	return persist->writes;
}
