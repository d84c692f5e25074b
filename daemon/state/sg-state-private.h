/* SPDX-License-Identifier: MIT */
/* What the state files' modules share beyond sg-state.h. */
#pragma once

#include <json-glib/json-glib.h>

/* Reads dir/name under the lock already held, quarantining a corrupt file (its new path in
 * ret_quarantined); an empty object when missing, NULL only with error set. */
JsonNode *sg_state_read_locked(const char *dir, const char *name, char **ret_quarantined,
                               GError **error);
