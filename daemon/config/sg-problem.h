/* SPDX-License-Identifier: MIT */
/* A configuration problem with its place (file, line, column, key path), printed as compilers do.
 */
#pragma once

#include <glib.h>

typedef enum {
	SG_PROBLEM_ERROR,
	SG_PROBLEM_WARNING,
} SgProblemSeverity;

typedef struct {
	SgProblemSeverity severity;
	char *file;    /* as given, or absolute when discovered */
	int line;      /* 1-based; 0 when the problem has no place in the file */
	int column;    /* 1-based */
	char *path;    /* key path such as services.api.depends_on[1].condition, or "" */
	char *message; /* one sentence, no trailing period */
} SgProblem;

void sg_problem_free(SgProblem *problem);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgProblem, sg_problem_free)

/* A new GPtrArray owning SgProblem elements. */
GPtrArray *sg_problem_list_new(void);

/* Appends a problem; returns it. */
SgProblem *sg_problem_list_add(GPtrArray *list, SgProblemSeverity severity, const char *file,
                               int line, int column, const char *path, const char *format, ...)
        G_GNUC_PRINTF(7, 8);

guint sg_problem_list_count(GPtrArray *list, SgProblemSeverity severity);

/* Sorts by line, then column, keeping insertion order for ties. */
void sg_problem_list_sort(GPtrArray *list);

/* "FILE:LINE:COLUMN: PATH: message"; warnings read "FILE:LINE:COLUMN: PATH: warning: message".
 * FILE, PATH and message are escaped (sg_escape_append()): one line, no control bytes. */
char *sg_problem_format(const SgProblem *problem);
