/* SPDX-License-Identifier: MIT */
/* Readiness gating: a dependent starts, waits for its dependencies, or is blocked by them. */
#include "config.h"

#include "engine/sg-depends.h"

char *
sg_depends_failed_cause(SgService *dependency)
{
	return g_strdup_printf("dependency %s is %s", sg_service_get_name(dependency),
	                       sg_service_state_to_string(sg_service_get_state(dependency)));
}

/* "300 ms", "15 s", "5 min": rounded up, so that "next try in" is never early. */
static char *
describe_wait(gint64 ms)
{
	if (ms < 1000)
		return g_strdup_printf("%" G_GINT64_FORMAT " ms", ms);
	if (ms < 120 * 1000)
		return g_strdup_printf("%" G_GINT64_FORMAT " s", (ms + 999) / 1000);
	return g_strdup_printf("%" G_GINT64_FORMAT " min", (ms + 59999) / 60000);
}

/* A dependency that has failed and is being restarted: its state, and what comes next. */
static char *
recovering_cause(SgService *dependency, gint64 now_usec)
{
	const char *name = sg_service_get_name(dependency);
	SgServiceState state = sg_service_get_state(dependency);
	gint64 due = sg_service_get_restart_due(dependency);

	if (state == SG_SERVICE_BACKOFF && due > 0) {
		g_autofree char *left = describe_wait(MAX((due - now_usec + 999) / 1000, 0));
		return g_strdup_printf("waiting for %s: backoff, next try in %s", name, left);
	}
	if (state == SG_SERVICE_STARTING && sg_service_get_restart_count(dependency) > 0)
		return g_strdup_printf("waiting for %s: starting (restart %u)", name,
		                       sg_service_get_restart_count(dependency));
	return g_strdup_printf("waiting for %s: %s", name, sg_service_state_to_string(state));
}

SgDependsVerdict
sg_depends_judge(const SgServiceConfig *cfg, GHashTable *by_name, gint64 now_usec, char **ret_cause)
{
	g_autoptr(GString) waiting = g_string_new(NULL);

	*ret_cause = NULL;
	for (guint i = 0; i < cfg->n_depends_on; i++) {
		SgService *dep = g_hash_table_lookup(by_name, cfg->depends_on[i].service);
		SgServiceState dep_state = sg_service_get_state(dep);

		if (sg_service_satisfies(dep, cfg->depends_on[i].condition))
			continue;
		if (sg_service_state_blocks_dependents(dep_state)) {
			*ret_cause = sg_depends_failed_cause(dep);
			return SG_DEPENDS_BLOCKED;
		}
		/* Failed, with a restart coming: not a first start that takes its time. */
		if (sg_service_is_recovering(dep)) {
			*ret_cause = recovering_cause(dep, now_usec);
			return SG_DEPENDS_RECOVERING;
		}
		g_string_append_printf(waiting, "%s%s", waiting->len > 0 ? ", " : "",
		                       sg_service_get_name(dep));
	}
	if (waiting->len == 0)
		return SG_DEPENDS_SATISFIED;
	*ret_cause = g_strdup_printf("waiting for %s", waiting->str);
	return SG_DEPENDS_WAITING;
}
