/* SPDX-License-Identifier: MIT */
/* Reload: the difference between the running services and a new configuration. */
#include "config.h"

#include "engine/sg-reload.h"

#include <string.h>

#include "config/sg-problem.h"

static int
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

SgReloadPlan *
sg_reload_plan_new(GHashTable *current, const SgConfig *next)
{
	SgReloadPlan *plan = g_new0(SgReloadPlan, 1);
	g_autoptr(GHashTable) kept = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	gpointer key, value;

	plan->added = g_ptr_array_new();
	plan->changed = g_ptr_array_new();
	plan->unchanged = g_ptr_array_new();
	plan->removed = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < next->services->len; i++) {
		const SgServiceConfig *cfg = g_ptr_array_index(next->services, i);

		if (!g_hash_table_lookup_extended(current, cfg->name, NULL, &value)) {
			g_ptr_array_add(plan->added, (gpointer)cfg);
			continue;
		}
		g_hash_table_add(kept, cfg->name);
		if (g_strcmp0(value, cfg->hash) == 0)
			g_ptr_array_add(plan->unchanged, (gpointer)cfg);
		else
			g_ptr_array_add(plan->changed, (gpointer)cfg);
	}
	g_hash_table_iter_init(&iter, current);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		if (!g_hash_table_contains(kept, key))
			g_ptr_array_add(plan->removed, g_strdup(key));
	/* Hash tables have no order; logs and signals do. */
	g_ptr_array_sort(plan->removed, compare_names);
	return plan;
}

void
sg_reload_plan_free(SgReloadPlan *plan)
{
	if (plan == NULL)
		return;
	g_ptr_array_unref(plan->added);
	g_ptr_array_unref(plan->changed);
	g_ptr_array_unref(plan->unchanged);
	g_ptr_array_unref(plan->removed);
	g_free(plan);
}

static void
describe_list(GString *out, const char *label, GPtrArray *items, gboolean configs)
{
	if (items->len == 0)
		return;
	g_string_append_printf(out, "%s%s ", out->len > 0 ? "; " : "", label);
	for (guint i = 0; i < items->len; i++) {
		const char *name = configs ? ((const SgServiceConfig *)items->pdata[i])->name
		                           : (const char *)items->pdata[i];
		g_string_append_printf(out, "%s%s", i > 0 ? ", " : "", name);
	}
}

char *
sg_reload_plan_describe(const SgReloadPlan *plan)
{
	GString *out = g_string_new(NULL);

	describe_list(out, "added", plan->added, TRUE);
	describe_list(out, "changed", plan->changed, TRUE);
	describe_list(out, "removed", plan->removed, FALSE);
	g_string_append_printf(out, "%s%u unchanged", out->len > 0 ? "; " : "",
	                       plan->unchanged->len);
	return g_string_free(out, FALSE);
}

char *
sg_reload_describe_problems(GPtrArray *problems, const char *fallback)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; problems != NULL && i < problems->len; i++) {
		const SgProblem *problem = g_ptr_array_index(problems, i);
		g_autofree char *line = NULL;

		if (problem->severity != SG_PROBLEM_ERROR)
			continue;
		line = sg_problem_format(problem);
		g_string_append_printf(out, "%s%s", out->len > 0 ? "\n" : "", line);
	}
	if (out->len == 0 && fallback != NULL)
		g_string_append(out, fallback);
	return g_string_free(out, FALSE);
}
