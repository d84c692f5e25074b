/* SPDX-License-Identifier: MIT */
/* The objects of `sysg status --json`: read from the engine and one /proc scan. */
#include "config.h"

#include "api/sg-status.h"

#include <unistd.h>

#include "base/sg-json.h"
#include "engine/sg-service-snapshot.h"
#include "process/sg-ownership.h"
#include "process/sg-proctree.h"

/*
 * In marker mode, one /proc scan per status call serves every service, and sg-ownership
 * gives each process to its service in one pass, as a stop would find it: its markers, the
 * session of its main process, its parent's service. Status counts what stop would stop.
 */
typedef struct {
	GHashTable *pgids; /* main pid -> pgid */
	SgContainUsage *usage;
} Batch;

static Batch *
batch_new(SgContext *context, GPtrArray *services)
{
	Batch *batch = g_new0(Batch, 1);
	g_autoptr(GPtrArray) scan = sg_proctree_scan_all(context->state_id);
	g_autofree SgOwnedService *owned = g_new0(SgOwnedService, services->len);
	g_autofree guint *owners = NULL;

	batch->pgids = g_hash_table_new(NULL, NULL);
	batch->usage = g_new0(SgContainUsage, services->len);
	for (guint i = 0; i < services->len; i++) {
		SgService *service = services->pdata[i];

		owned[i].name = sg_service_get_name(service);
		owned[i].leader = sg_service_get_pid(service);
		/* Our own main process, spawned or adopted after its proof. */
		owned[i].leader_vouched = TRUE;
	}
	owners = sg_ownership_assign(scan, owned, services->len, SG_OWNERSHIP_CHILDREN);
	for (guint i = 0; i < scan->len; i++) {
		const SgProcInfo *info = scan->pdata[i];
		SgContainUsage *usage;

		if (owners[i] == 0)
			continue;
		usage = &batch->usage[owners[i] - 1];
		usage->cpu_usec += info->cpu_usec;
		usage->memory_bytes += info->rss_bytes;
		usage->tasks++;
		if (info->pid == owned[owners[i] - 1].leader)
			g_hash_table_insert(batch->pgids, GINT_TO_POINTER(info->pid),
			                    GINT_TO_POINTER(info->pgid));
	}
	return batch;
}

static void
batch_free(Batch *batch)
{
	if (batch == NULL)
		return;
	g_hash_table_unref(batch->pgids);
	g_free(batch->usage);
	g_free(batch);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Batch, batch_free)

static const char *
kind_of(SgService *service)
{
	return sg_service_get_config(service)->cron != NULL ? "cron" : "service";
}

/* What the engine knows, with the usage and process group read from /proc. */
static SgServiceStatus *
status_value(SgSupervisor *supervisor, SgService *service, const Batch *batch, guint slot)
{
	SgContext *context = sg_supervisor_get_context(supervisor);
	SgServiceStatus *status = sg_service_snapshot(service);
	SgContainUsage usage = { -1, -1, -1 };
	gpointer pid = GINT_TO_POINTER(sg_service_get_pid(service));

	if (status->pid > 0 && batch != NULL && g_hash_table_contains(batch->pgids, pid))
		status->pgid = GPOINTER_TO_INT(g_hash_table_lookup(batch->pgids, pid));
	if (sg_service_is_active(service)) {
		if (batch != NULL)
			usage = batch->usage[slot];
		else
			sg_contain_usage(context->contain, sg_service_get_name(service),
			                 sg_service_get_pid(service), &usage);
	}
	status->memory_bytes = usage.memory_bytes;
	status->cpu_usec = usage.cpu_usec;
	/* No process counted means none is known: tasks 0 would claim a live empty group. */
	status->tasks = MAX(usage.tasks, 0);
	return status;
}

static void
build_service(JsonBuilder *builder, SgSupervisor *supervisor, SgService *service,
              const Batch *batch, guint slot)
{
	g_autoptr(SgServiceStatus) status = status_value(supervisor, service, batch, slot);

	sg_service_status_build_json(status, builder);
}

SgServiceStatus *
sg_status_service_value(SgSupervisor *supervisor, SgService *service)
{
	return status_value(supervisor, service, NULL, 0);
}

JsonNode *
sg_status_service(SgSupervisor *supervisor, SgService *service)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();

	build_service(builder, supervisor, service, NULL, 0);
	return json_builder_get_root(builder);
}

JsonNode *
sg_status_all(SgSupervisor *supervisor, const char *config_path, gint64 started_at_usec)
{
	SgContext *context = sg_supervisor_get_context(supervisor);
	GPtrArray *services = sg_supervisor_get_services(supervisor);
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(Batch) batch = NULL;

	if (!sg_contain_uses_cgroups(context->contain) && services->len > 0)
		batch = batch_new(context, services);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "supervisor");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "running");
	json_builder_add_boolean_value(builder, TRUE);
	sg_json_builder_add_int_or_null(builder, "pid", getpid(), TRUE);
	sg_json_builder_add_string_or_null(builder, "config", config_path);
	sg_json_builder_add_string_or_null(builder, "state_dir", context->state_dir);
	sg_json_builder_add_string_or_null(builder, "version", PACKAGE_VERSION);
	sg_json_builder_add_time(builder, "started_at", started_at_usec);
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "services");
	json_builder_begin_array(builder);
	for (guint i = 0; i < services->len; i++)
		build_service(builder, supervisor, g_ptr_array_index(services, i), batch, i);
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

JsonNode *
sg_status_list(SgSupervisor *supervisor)
{
	GPtrArray *services = sg_supervisor_get_services(supervisor);
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();

	json_builder_begin_array(builder);
	for (guint i = 0; i < services->len; i++) {
		SgService *service = g_ptr_array_index(services, i);
		pid_t pid = sg_service_get_pid(service);

		json_builder_begin_object(builder);
		sg_json_builder_add_string_or_null(builder, "name", sg_service_get_name(service));
		sg_json_builder_add_string_or_null(builder, "kind", kind_of(service));
		sg_json_builder_add_string_or_null(
		        builder, "state",
		        sg_service_state_to_string(sg_service_get_state(service)));
		sg_json_builder_add_int_or_null(builder, "pid", pid, pid > 0);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}
