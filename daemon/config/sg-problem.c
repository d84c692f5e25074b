/* SPDX-License-Identifier: MIT */
/* Configuration problems: creation, ordering and the FILE:LINE:COLUMN: PATH: message form. */
#include "config.h"

#include "config/sg-problem.h"

#include "base/sg-escape.h"

#include <glib/gi18n.h>

void
sg_problem_free(SgProblem *problem)
{
	if (problem == NULL)
		return;
	g_free(problem->file);
	g_free(problem->path);
	g_free(problem->message);
	g_free(problem);
}

GPtrArray *
sg_problem_list_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)sg_problem_free);
}

SgProblem *
sg_problem_list_add(GPtrArray *list, SgProblemSeverity severity, const char *file, int line,
                    int column, const char *path, const char *format, ...)
{
	SgProblem *problem = g_new0(SgProblem, 1);
	va_list args;

	problem->severity = severity;
	problem->file = g_strdup(file != NULL ? file : "");
	problem->line = line;
	problem->column = column;
	problem->path = g_strdup(path != NULL ? path : "");
	va_start(args, format);
	problem->message = g_strdup_vprintf(format, args);
	va_end(args);
	g_ptr_array_add(list, problem);
	return problem;
}

guint
sg_problem_list_count(GPtrArray *list, SgProblemSeverity severity)
{
	guint count = 0;

	for (guint i = 0; list != NULL && i < list->len; i++) {
		const SgProblem *problem = g_ptr_array_index(list, i);
		if (problem->severity == severity)
			count++;
	}
	return count;
}

static gint
compare_problems(gconstpointer a, gconstpointer b)
{
	const SgProblem *pa = *(const SgProblem *const *)a;
	const SgProblem *pb = *(const SgProblem *const *)b;

	if (pa->line != pb->line)
		return pa->line < pb->line ? -1 : 1;
	if (pa->column != pb->column)
		return pa->column < pb->column ? -1 : 1;
	return 0;
}

void
sg_problem_list_sort(GPtrArray *list)
{
	/* g_ptr_array_sort is a merge sort in GLib, hence stable for ties. */
	g_ptr_array_sort(list, compare_problems);
}

char *
sg_problem_format(const SgProblem *problem)
{
	GString *out = g_string_new(NULL);

	/* Keys, names and values come from the file: one problem stays one line, and an escape
	 * sequence in a key never reaches the terminal. */
	sg_escape_append(out, problem->file, -1, SG_ESCAPE_DEFAULT);
	if (problem->line > 0)
		g_string_append_printf(out, ":%d:%d", problem->line, problem->column);
	g_string_append(out, ": ");
	if (problem->path[0] != '\0') {
		sg_escape_append(out, problem->path, -1, SG_ESCAPE_DEFAULT);
		g_string_append(out, ": ");
	}
	if (problem->severity == SG_PROBLEM_WARNING)
		g_string_append(out, _("warning: "));
	sg_escape_append(out, problem->message, -1, SG_ESCAPE_DEFAULT);
	return g_string_free(out, FALSE);
}
