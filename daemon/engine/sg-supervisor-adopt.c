/* SPDX-License-Identifier: MIT */
/* The supervisor takes over what an earlier one left running (docs/persistence.md). */
#include "config.h"

#include "engine/sg-supervisor-private.h"

#include "engine/sg-adopt.h"

static SgService *
add_orphan(SgSupervisor *supervisor, const SgAdoptFound *found)
{
	g_autoptr(SgConfig) config = sg_adopt_orphan_config(found);
	SgService *service =
	        sg_service_new(supervisor->context, config, g_ptr_array_index(config->services, 0),
	                       &sg_supervisor_service_events, supervisor);

	sg_service_set_orphaned(service, TRUE);
	g_ptr_array_add(supervisor->services, service);
	g_hash_table_add(supervisor->detached, service);
	g_hash_table_insert(supervisor->by_name, (gpointer)sg_service_get_name(service), service);
	return service;
}

static void
adopt_one(SgSupervisor *supervisor, const SgAdoptFound *found, GPtrArray *outdated)
{
	SgService *service = sg_supervisor_lookup(supervisor, found->name);
	SgServiceAdoption adoption = {
		.kind = found->kind,
		.pid = found->pid,
		.start_time = found->start_time,
		.invocation_id = found->invocation_id,
		.ready = found->ready,
		.started_at_usec = found->started_at_usec,
		.restart_count = found->restart_count,
		.state = found->state,
		.cause = found->cause,
		.exit_code = found->exit_code,
		.exit_signal = found->exit_signal,
	};
	g_autoptr(GError) error = NULL;
	gboolean orphan = service == NULL;

	if (orphan) {
		if (found->kind != SG_ADOPT_LIVE && found->kind != SG_ADOPT_LEFTOVERS)
			return;
		service = add_orphan(supervisor, found);
		if (found->kind == SG_ADOPT_LIVE)
			sg_context_log(supervisor->context, SG_LOG_WARN,
			               "%s (PID %d) is no longer in the configuration: adopted as "
			               "orphaned; stop it with sysg stop --service %s",
			               found->name, found->pid, found->name);
	}
	sg_adopt_stop_extras(supervisor->context, found->name, found->extras,
	                     sg_service_get_config(service)->stop_timeout_ms);
	if (found->kind == SG_ADOPT_FINAL && found->state == SG_SERVICE_STOPPED)
		g_hash_table_add(supervisor->held, service);
	else if (!orphan)
		g_hash_table_add(supervisor->wanted, service);
	if (!sg_service_adopt(service, &adoption, &error)) {
		/* It went in between: as if it had gone before. */
		sg_context_log(supervisor->context, SG_LOG_WARN, "%s: %s", found->name,
		               error->message);
		adoption.kind = SG_ADOPT_GONE;
		(void)sg_service_adopt(service, &adoption, NULL);
		return;
	}
	if (!orphan && found->kind == SG_ADOPT_LIVE && found->config_hash != NULL &&
	    g_strcmp0(found->config_hash, sg_service_get_config(service)->hash) != 0)
		g_ptr_array_add(outdated, service);
}

void
sg_supervisor_adopt(SgSupervisor *supervisor)
{
	g_autoptr(GPtrArray) found = sg_adopt_find(supervisor->context);
	g_autoptr(GPtrArray) outdated = g_ptr_array_new();

	/* Live ones first: a dependency handled as a crash then cascades to them as usual. */
	for (guint i = 0; i < found->len; i++) {
		SgAdoptFound *one = g_ptr_array_index(found, i);
		if (one->kind == SG_ADOPT_LIVE)
			adopt_one(supervisor, one, outdated);
	}
	for (guint i = 0; i < found->len; i++) {
		SgAdoptFound *one = g_ptr_array_index(found, i);
		if (one->kind != SG_ADOPT_LIVE)
			adopt_one(supervisor, one, outdated);
	}
	for (guint i = 0; i < outdated->len; i++) {
		SgService *service = g_ptr_array_index(outdated, i);
		sg_context_log(supervisor->context, SG_LOG_INFO,
		               "%s runs an earlier definition (its configuration changed while no "
		               "supervisor was running): restarting it",
		               sg_service_get_name(service));
		sg_supervisor_restart_service(supervisor, service);
	}
}
