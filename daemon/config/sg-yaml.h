/* SPDX-License-Identifier: MIT */
/* A YAML document as a tree of nodes that remember their line and column (built on libyaml). */
#pragma once

#include <glib.h>

#include "base/sg-limits.h"
#include "config/sg-yaml-kind.h"

typedef struct _SgYamlNode SgYamlNode;

typedef struct {
	SgYamlNode *key; /* always a scalar */
	SgYamlNode *value;
} SgYamlPair;

struct _SgYamlNode {
	SgYamlKind kind;
	int line;   /* 1-based, where the node starts: a quoted scalar at its opening quote */
	int column; /* 1-based */
	char *tag;  /* an explicit tag as libyaml resolves it ("!!str" gives
	             * "tag:yaml.org,2002:str"), or NULL when none was written; only the core
	             * schema's are accepted, and a scalar's !!int, !!float, !!bool or !!null is
	             * dropped once checked, the scalar then reading as plain (sg-yaml-tag.h) */
	/* SG_YAML_SCALAR */
	char *value;     /* UTF-8, never NULL for a scalar */
	gboolean quoted; /* written quoted or as a block scalar (so never null nor a boolean) */
	/* SG_YAML_MAPPING: SgYamlPair* in document order, merge keys resolved, no "<<" left.
	 * SG_YAML_SEQUENCE: SgYamlNode* in order. Nodes reached through an alias are shared. */
	GPtrArray *items;
	int refcount;
};

/*
 * Parses one YAML document from a file. Every problem (syntax errors with libyaml's
 * position, duplicate keys, more than one document, depth, size and alias limits, a bad
 * merge key) is appended to problems (SgProblem, see sg-problem.h) with display_name as
 * the file. Returns the root node, or NULL when any error was added. An empty document
 * gives an empty mapping. Returns NULL and sets error only when the file cannot be read.
 *
 * These stop the parse at once: a syntax or encoding error, a second document, nesting
 * deeper than SG_YAML_MAX_DEPTH collections (the root mapping is level 1), more than
 * SG_YAML_MAX_EXPANDED_NODES nodes, and a file over SG_YAML_MAX_FILE_BYTES (refused
 * before parsing, at line 0). These are reported and the parse goes on, so that all of
 * them are listed: duplicate keys, non-scalar keys, a bad "<<" value, an undefined or
 * recursive alias, a NUL character in a string.
 *
 * A "<<" key (plain, untagged or !!merge) merges the pairs of the mapping(s) it names
 * where it was written; keys written in the mapping win, then earlier sources.
 */
SgYamlNode *sg_yaml_load_file(const char *path, const char *display_name, GPtrArray *problems,
                              GError **error);

/* The same from memory (tests); display_name names it in problems. */
SgYamlNode *sg_yaml_load_data(const char *data, gsize length, const char *display_name,
                              GPtrArray *problems);

SgYamlNode *sg_yaml_node_ref(SgYamlNode *node);
void sg_yaml_node_unref(SgYamlNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgYamlNode, sg_yaml_node_unref)

/* A plain (unquoted) scalar that YAML 1.2's core schema reads as null: "", "~", "null". */
gboolean sg_yaml_node_is_null(const SgYamlNode *node);

/* Looks up a key of a mapping; NULL when absent or node is not a mapping. */
SgYamlPair *sg_yaml_mapping_lookup(const SgYamlNode *mapping, const char *key);

const char *sg_yaml_kind_to_string(SgYamlKind kind);
