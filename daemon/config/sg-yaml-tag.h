/* SPDX-License-Identifier: MIT */
/* Which YAML tags a configuration may carry: the core schema's standard ones, nothing else. */
#pragma once

#include <glib.h>

#include "config/sg-yaml-kind.h"

/*
 * NULL when tag (as libyaml resolves it; NULL when none was written) may be put on a node
 * of this kind: tag:yaml.org,2002: str, int, float, bool and null on scalars, map on
 * mappings, seq on sequences, and merge on a plain "<<" key (value is the scalar's text, or
 * NULL), a typed scalar's text being of its type (true or false, decimal digits, a number,
 * a null). Otherwise the problem to report, such as
 * `unknown tag "!include": only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are
 * allowed`; free it. Tags are never resolved: no include, no application type.
 */
char *sg_yaml_tag_check(const char *tag, SgYamlKind kind, const char *value);

/*
 * Whether tag is !!int, !!float, !!bool or !!null: a scalar that passed sg_yaml_tag_check()
 * with one of them means what the same plain scalar means, so the loader drops the tag and
 * the quotes (`!!bool "true"` is the boolean true, `!!int 3` the number 3). !!str keeps its
 * tag: a tagged scalar is always a string.
 */
gboolean sg_yaml_tag_is_type(const char *tag);

/* How the tag reads in a file: "!!str" for the core schema, "!local", "!<tag:other>". */
char *sg_yaml_tag_display(const char *tag);
