/* SPDX-License-Identifier: MIT */
/* The supervisor applies a new configuration (SPEC section 4, "Reload"). */
#include "config.h"

#include "engine/sg-supervisor-private.h"

#include <glib/gi18n.h>

#include "base/sg-error.h"
#include "config/sg-problem.h"
#include "engine/sg-reload.h"
#include "state/sg-state.h"

static gboolean
fail_reload(SgSupervisor *supervisor, const char *why, GError **error)
{
	sg_context_log(supervisor->context, SG_LOG_ERROR, "reload refused, nothing changed: %s",
	               why);
	g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG, "%s", why);
	return FALSE;
}

/* Moves every service to its new definition; returns the services the reload removed. */
static GPtrArray *
apply_definitions(SgSupervisor *supervisor, SgConfig *config)
{
	GPtrArray *old = supervisor->services;
	GPtrArray *removed = g_ptr_array_new();
	g_autoptr(GHashTable) placed = g_hash_table_new(NULL, NULL);

	supervisor->services = g_ptr_array_new_with_free_func((GDestroyNotify)sg_service_free);
	for (guint i = 0; i < config->services->len; i++) {
		const SgServiceConfig *cfg = g_ptr_array_index(config->services, i);
		SgService *service = sg_supervisor_lookup(supervisor, cfg->name);

		if (service == NULL) {
			service = sg_service_new(supervisor->context, config, cfg,
			                         &sg_supervisor_service_events, supervisor);
		} else {
			sg_service_set_config(service, config, cfg);
			if (sg_service_is_orphaned(service)) {
				sg_context_log(
				        supervisor->context, SG_LOG_INFO,
				        "%s is in the configuration again: no longer orphaned",
				        cfg->name);
				/* Supervised from now on: restarts and cascades apply. */
				g_hash_table_add(supervisor->wanted, service);
			}
			sg_service_set_orphaned(service, FALSE);
			g_hash_table_remove(supervisor->detached, service);
			g_hash_table_add(placed, service);
		}
		g_ptr_array_add(supervisor->services, service);
	}
	/* What is not configured any more stays until none of its processes is left. */
	for (guint i = 0; i < old->len; i++) {
		SgService *service = g_ptr_array_index(old, i);

		if (g_hash_table_contains(placed, service))
			continue;
		g_ptr_array_add(supervisor->services, service);
		if (g_hash_table_contains(supervisor->detached, service))
			continue;
		g_hash_table_add(supervisor->detached, service);
		g_hash_table_remove(supervisor->wanted, service);
		g_ptr_array_add(removed, service);
	}
	g_ptr_array_set_free_func(old, NULL);
	g_ptr_array_unref(old);
	sg_config_ref(config);
	sg_config_unref(supervisor->config);
	supervisor->config = config;
	sg_supervisor_rebuild_indexes(supervisor);
	return removed;
}

gboolean
sg_supervisor_reload(SgSupervisor *supervisor, const char *config_path, GError **error)
{
	const char *path = config_path != NULL && *config_path != '\0' ? config_path
	                                                               : supervisor->config->path;
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(GError) load_error = NULL;
	g_autoptr(SgConfig) config = NULL;
	g_autoptr(GHashTable) current = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(SgReloadPlan) plan = NULL;
	g_autoptr(GPtrArray) removed = NULL;
	g_autoptr(GError) hint_error = NULL;
	g_autofree char *absolute = NULL;
	g_autofree char *summary = NULL;
	g_autofree char *discovered = NULL;

	/* Its callers refuse first (sg-api): added services would end the stop of everything. */
	g_return_val_if_fail(!supervisor->stopping_all, FALSE);
	if (path == NULL || *path == '\0') {
		/* Running with none (an activated daemon): the usual places, as at start. */
		g_autofree char *hint = sg_state_read_config_hint(supervisor->context->state_dir);
		g_autoptr(GError) discover_error = NULL;

		discovered = sg_config_discover(NULL, hint, &discover_error);
		if (discovered == NULL)
			return fail_reload(supervisor, discover_error->message, error);
		path = discovered;
	}
	absolute = g_canonicalize_filename(path, NULL);
	/* The environment the services were defined against, not whatever ours became. */
	config =
	        sg_config_load(absolute, path, supervisor->config->base_env, problems, &load_error);
	if (config == NULL) {
		g_autofree char *why = sg_reload_describe_problems(problems, load_error->message);
		return fail_reload(supervisor, why, error);
	}

	for (guint i = 0; i < supervisor->services->len; i++) {
		SgService *service = g_ptr_array_index(supervisor->services, i);

		/* A service a previous reload removed and still stopping comes back as added. */
		if (g_hash_table_contains(supervisor->detached, service) &&
		    !sg_service_is_orphaned(service))
			continue;
		g_hash_table_insert(current, (gpointer)sg_service_get_name(service),
		                    (gpointer)sg_service_get_config(service)->hash);
	}
	plan = sg_reload_plan_new(current, config);
	summary = sg_reload_plan_describe(plan);
	sg_context_log(supervisor->context, SG_LOG_INFO, "reloading %s: %s", config->path, summary);

	g_object_ref(supervisor);
	removed = apply_definitions(supervisor, config);
	for (guint i = 0; i < removed->len; i++) {
		SgService *service = g_ptr_array_index(removed, i);
		if (sg_service_is_active(service))
			sg_context_log(supervisor->context, SG_LOG_INFO,
			               "stopping %s: it is no longer in the configuration",
			               sg_service_get_name(service));
		sg_service_stop(service, NULL, NULL);
		sg_service_set_scheduled(service, FALSE);
	}
	sg_supervisor_schedule_removal(supervisor);
	for (guint i = 0; i < plan->added->len; i++) {
		const SgServiceConfig *cfg = g_ptr_array_index(plan->added, i);
		g_signal_emit(supervisor, sg_supervisor_signals[SIGNAL_SERVICE_ADDED], 0,
		              sg_supervisor_lookup(supervisor, cfg->name));
	}
	for (guint i = 0; i < plan->changed->len; i++) {
		const SgServiceConfig *cfg = g_ptr_array_index(plan->changed, i);
		SgService *service = sg_supervisor_lookup(supervisor, cfg->name);

		/* Rolling deployment is not in the engine yet: every strategy stops, then
		 * starts. A service that is not running takes the new definition next time. */
		if (sg_service_is_active(service) ||
		    sg_service_state_is_pending(sg_service_get_state(service)))
			sg_supervisor_restart_service(supervisor, service);
	}
	for (guint i = 0; i < plan->added->len; i++) {
		const SgServiceConfig *cfg = g_ptr_array_index(plan->added, i);
		SgService *service = sg_supervisor_lookup(supervisor, cfg->name);

		if (cfg->cron != NULL)
			continue;
		/* Still stopping after an earlier reload removed it: started once it is down. */
		if (sg_service_is_active(service))
			sg_supervisor_restart_service(supervisor, service);
		else
			(void)sg_supervisor_start_service(supervisor, cfg->name, NULL);
	}
	/* Dependencies apply in place: what waits or is blocked is judged on the new ones. */
	for (guint i = 0; i < supervisor->services->len; i++) {
		SgService *service = g_ptr_array_index(supervisor->services, i);
		if (!g_hash_table_contains(supervisor->restarting, service))
			sg_supervisor_evaluate(supervisor, service, FALSE);
	}
	if (!sg_state_write_config_hint(supervisor->context->state_dir, config->path, &hint_error))
		sg_context_log(supervisor->context, SG_LOG_WARN, "cannot write config_hint: %s",
		               hint_error->message);
	/* The cron jobs of the new file are planned before anyone hears of it. */
	sg_supervisor_reschedule_cron(supervisor);
	g_signal_emit(supervisor, sg_supervisor_signals[SIGNAL_RELOADED], 0, config->path);
	g_object_unref(supervisor);
	return TRUE;
}
