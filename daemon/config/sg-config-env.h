/* SPDX-License-Identifier: MIT */
/* The environment layers of a configuration: env blocks, env files, the manager's variables. */
#pragma once

#include <glib.h>

#include "config/sg-loader.h"

/* Reads `env: {file, vars}` into two fresh layers, file_layer and the one above it. */
void sg_config_env_load_block(SgLoader *loader, const SgYamlNode *node, const char *path,
                              SgEnvLayer file_layer);
void sg_config_env_clear_layer(SgLoader *loader, SgEnvLayer layer);
/* The file's layers flattened into sorted KEY=VALUE strings. */
char **sg_config_env_flatten(SgLoader *loader);
/* env without the variables of the supervisor's own service manager. */
char **sg_config_env_strip_manager_vars(char **env);
/* KEY=VALUE strings as a table name -> value. */
GHashTable *sg_config_env_to_table(char **env);
