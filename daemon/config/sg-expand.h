/* SPDX-License-Identifier: MIT */
/* ${VAR} expansion of configuration strings, and the markers a loaded file may name. */
#pragma once

#include <glib.h>

/*
 * The value of name, or NULL when it is undefined. A name that is known but may not be used
 * where it appears sets *ret_refusal to a message saying why, and returns NULL.
 */
typedef const char *(*SgExpandLookupFunc)(const char *name, gpointer user_data, char **ret_refusal);

/*
 * Expands ${NAME} in text through lookup; $$ is a literal $ and any other $ stays as
 * written. Returns NULL with *ret_message set when a reference is malformed, undefined or
 * refused.
 */
char *sg_expand(const char *text, SgExpandLookupFunc lookup, gpointer user_data,
                char **ret_message);

/*
 * The markers (SYSTEMG_SERVICE, SYSTEMG_STATE_ID, SYSTEMG_INVOCATION_ID) are the last layer
 * of a service's environment: whatever the layers below say, the process sees them. TRUE
 * when name is one; then either *ret_value is set (SYSTEMG_SERVICE inside the definition of
 * service) or *ret_refusal says why it is not known when the file is loaded. service is
 * NULL outside a service's definition.
 */
gboolean sg_expand_marker(const char *name, const char *service, const char **ret_value,
                          char **ret_refusal);
