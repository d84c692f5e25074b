/* SPDX-License-Identifier: MIT */
/* The dependency graph of a configuration's services: unknown targets, cron targets, cycles. */
#include "config.h"

#include "config/sg-config-graph.h"

#include <glib/gi18n.h>

static SgServiceDraft *
find_draft(GPtrArray *drafts, GHashTable *by_name, const char *name)
{
	gpointer index;

	if (!g_hash_table_lookup_extended(by_name, name, NULL, &index))
		return NULL;
	return g_ptr_array_index(drafts, GPOINTER_TO_UINT(index));
}

void
sg_config_graph_check_targets(SgLoader *loader, GPtrArray *drafts, GHashTable *by_name,
                              const char *const *names)
{
	for (guint i = 0; i < drafts->len; i++) {
		SgServiceDraft *draft = g_ptr_array_index(drafts, i);

		for (guint d = 0; d < draft->config->n_depends_on; d++) {
			const char *target = draft->config->depends_on[d].service;
			const SgDepRef *ref = g_ptr_array_index(draft->dep_refs, d);
			SgServiceDraft *dep = find_draft(drafts, by_name, target);

			if (dep == NULL) {
				const char *hint = sg_loader_closest(target, names);
				if (hint != NULL)
					sg_loader_error(loader, ref->node, ref->path,
					                _("unknown service \"%s\" (did you mean "
					                  "\"%s\"?)"),
					                target, hint);
				else
					sg_loader_error(loader, ref->node, ref->path,
					                _("unknown service \"%s\""), target);
			} else if (dep->config->cron_expression != NULL) {
				sg_loader_error(
				        loader, ref->node, ref->path,
				        _("\"%s\" is a cron job; no service may depend on it"),
				        target);
			}
		}
	}
}

enum { WHITE, GREY, BLACK };

/* Depth-first search; a grey node reached again closes a cycle, reported once. */
static void
visit(SgLoader *loader, GPtrArray *drafts, GHashTable *by_name, guint index, guint8 *colour,
      GArray *stack)
{
	SgServiceDraft *draft = g_ptr_array_index(drafts, index);

	colour[index] = GREY;
	g_array_append_val(stack, index);
	for (guint d = 0; d < draft->config->n_depends_on; d++) {
		gpointer target_index;
		guint t;

		if (!g_hash_table_lookup_extended(by_name, draft->config->depends_on[d].service,
		                                  NULL, &target_index))
			continue;
		t = GPOINTER_TO_UINT(target_index);
		if (colour[t] == GREY) {
			GString *cycle = g_string_new(NULL);
			const SgDepRef *ref = g_ptr_array_index(draft->dep_refs, d);
			guint start = stack->len;

			while (g_array_index(stack, guint, start - 1) != t)
				start--;
			for (guint s = start - 1; s < stack->len; s++) {
				SgServiceDraft *member =
				        g_ptr_array_index(drafts, g_array_index(stack, guint, s));
				g_string_append_printf(cycle, "%s -> ", member->config->name);
			}
			g_string_append(
			        cycle,
			        ((SgServiceDraft *)g_ptr_array_index(drafts, t))->config->name);
			sg_loader_error(loader, ref->node, ref->path, _("dependency cycle: %s"),
			                cycle->str);
			g_string_free(cycle, TRUE);
		} else if (colour[t] == WHITE) {
			visit(loader, drafts, by_name, t, colour, stack);
		}
	}
	g_array_set_size(stack, stack->len - 1);
	colour[index] = BLACK;
}

void
sg_config_graph_check_cycles(SgLoader *loader, GPtrArray *drafts, GHashTable *by_name)
{
	g_autofree guint8 *colour = g_new0(guint8, drafts->len);
	g_autoptr(GArray) stack = g_array_new(FALSE, FALSE, sizeof(guint));

	for (guint i = 0; i < drafts->len; i++)
		if (colour[i] == WHITE)
			visit(loader, drafts, by_name, i, colour, stack);
}
