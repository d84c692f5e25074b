/* SPDX-License-Identifier: MIT */
/* The configuration model: systemg.yaml loaded, checked and resolved into immutable values. */
#pragma once

#include "config/sg-config-types.h"

/*
 * Loads and checks a configuration file. display_name names the file in problems (the
 * path as the user gave it). base_env is the supervisor's environment (NULL: the current
 * process's). Every error and warning is appended to problems (SgProblem). Returns the
 * model, or NULL with error SG_ERROR_INVALID_CONFIG when any error was found.
 */
SgConfig *sg_config_load(const char *path, const char *display_name, char **base_env,
                         GPtrArray *problems, GError **error);
/* A configuration with no services (a daemon started with no file waits for a reload). */
SgConfig *sg_config_new_empty(void);
SgConfig *sg_config_ref(SgConfig *config);
void sg_config_unref(SgConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgConfig, sg_config_unref)

const SgServiceConfig *sg_config_lookup(const SgConfig *config, const char *name);

/* The complete environment of a service before the per-instance markers are added. */
char **sg_config_service_environ(const SgConfig *config, const SgServiceConfig *service);

/* Whether name is a valid service name (SPEC section 3). */
gboolean sg_config_name_is_valid(const char *name);

/*
 * Finds the configuration file: explicit (returned as given) when not NULL; else hint
 * (the running supervisor's file or config_hint) when not NULL and it exists; else
 * ./systemg.yaml, ./sysg.yaml, $XDG_CONFIG_HOME/systemg/systemg.yaml (returned absolute).
 * Fails with SG_ERROR_INVALID_CONFIG naming every place it looked.
 */
char *sg_config_discover(const char *explicit_path, const char *hint, GError **error);
