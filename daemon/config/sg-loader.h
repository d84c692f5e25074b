/* SPDX-License-Identifier: MIT */
/* The configuration loader's state and its typed readers: each reports its own problem. */
#pragma once

#include <glib.h>

#include "config/sg-yaml.h"

/* Layers of a service's environment, lowest first (SPEC section 3). */
typedef enum {
	SG_LAYER_BASE,
	SG_LAYER_ROOT_FILE,
	SG_LAYER_ROOT_VARS,
	SG_LAYER_SERVICE_FILE,
	SG_LAYER_SERVICE_VARS,
	SG_N_LAYERS,
} SgEnvLayer;

typedef struct {
	GPtrArray *problems;
	const char *file; /* display name */
	const char *dir;
	char **base_env;
	GHashTable *layers[SG_N_LAYERS]; /* name -> value; the root layers are shared */
	const char *service;             /* the service being loaded; NULL at the top level */
} SgLoader;

/* An error or a warning at node (line 0 when NULL) and path, appended to the problems. */
void sg_loader_error(SgLoader *loader, const SgYamlNode *node, const char *path, const char *format,
                     ...) G_GNUC_PRINTF(4, 5);
void sg_loader_warning(SgLoader *loader, const SgYamlNode *node, const char *path,
                       const char *format, ...) G_GNUC_PRINTF(4, 5);

/* "parent.key" (key alone at the top) and "parent[index]": where a value is written. */
char *sg_loader_child_path(const char *parent, const char *key);
char *sg_loader_index_path(const char *parent, guint index);
/* The candidate close enough to word to be what was meant ("did you mean"), or NULL. */
const char *sg_loader_closest(const char *word, const char *const *candidates);
/* "a mapping", "a sequence", "a scalar" or "nothing", for problems. */
const char *sg_loader_kind_name(const SgYamlNode *node);

/* The typed readers: each reports its own problem and returns FALSE on a bad value. */
gboolean sg_loader_expect_mapping(SgLoader *loader, const SgYamlNode *node, const char *path);
gboolean sg_loader_expect_sequence(SgLoader *loader, const SgYamlNode *node, const char *path);
/* Reports every key of mapping not in known, with a hint when one is close. */
gboolean sg_loader_check_keys(SgLoader *loader, const SgYamlNode *mapping, const char *path,
                              const char *const *known);
/* A scalar written without quotes or tag: only such a one is a boolean or a number. */
gboolean sg_loader_is_plain(const SgYamlNode *node);
/* *out borrows the node's text. */
gboolean sg_loader_read_string(SgLoader *loader, const SgYamlNode *node, const char *path,
                               gboolean allow_empty, char **out);
gboolean sg_loader_read_bool(SgLoader *loader, const SgYamlNode *node, const char *path,
                             gboolean *out);
/* Decimal digits only, at most max; no problem reported. */
gboolean sg_loader_parse_uint(const char *text, guint64 max, guint64 *out);
gboolean sg_loader_read_uint(SgLoader *loader, const SgYamlNode *node, const char *path,
                             guint64 max, guint64 *out);
/* A whole number with unit ms, s, m or h; a bare number is seconds; at most 30 days. */
gboolean sg_loader_read_duration(SgLoader *loader, const SgYamlNode *node, const char *path,
                                 gboolean allow_zero, guint64 *out_ms);

/* A variable's value in the layers below `below` (the highest wins), or NULL. */
const char *sg_loader_lookup(SgLoader *loader, SgEnvLayer below, const char *name);
/* Expands ${VAR} in text from the markers and the layers below `below`, reporting a bad
 * reference at node; NULL then. */
char *sg_loader_expand(SgLoader *loader, const SgYamlNode *node, const char *path, const char *text,
                       SgEnvLayer below);
/* path made absolute against base_dir and canonical. */
char *sg_loader_resolve_path(const char *base_dir, const char *path);
