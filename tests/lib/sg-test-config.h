/* SPDX-License-Identifier: MIT */
/* The configuration tests' fixture: a file in a temporary directory, loaded, its problems.
 * Short names on purpose: they are the vocabulary of every configuration test case. */
#pragma once

#include <glib.h>

#include "config/sg-config.h"
#include "config/sg-problem.h"

typedef struct {
	char *dir;  /* a temporary directory, removed at the end */
	char *path; /* dir/systemg.yaml, shown in problems as "c.yaml" */
	GPtrArray *problems;
	SgConfig *config; /* the last load, or NULL */
	GError *error;
	/* The supervisor's environment as the tests pretend it to be; tests may replace it
	 * (NULL-terminated, borrowed). */
	char **base_env;
} Fixture;

void config_fixture_set_up(Fixture *f, gconstpointer data);
void config_fixture_tear_down(Fixture *f, gconstpointer data);

/* Writes content to dir/name. */
void write_file(Fixture *f, const char *name, const char *content);
/* Writes yaml to the file and loads it: the model, or NULL (problems and error say why). */
SgConfig *load(Fixture *f, const char *yaml);
/* The problems of one severity as "LINE:COLUMN: PATH: message" lines. */
char *problems_text(Fixture *f, SgProblemSeverity severity);
void assert_valid(Fixture *f, const char *yaml);
/*
 * Asserts the file is refused with exactly these problems, one per line, each written as
 * "LINE:COLUMN: PATH: start of message".
 */
void assert_refused(Fixture *f, const char *yaml, const char *expected);
/* The loaded service called name (the test fails when there is none). */
const SgServiceConfig *service(Fixture *f, const char *name);
/* A variable the file's layers set for a service, or NULL. */
const char *env_value(const SgServiceConfig *service, const char *name);
