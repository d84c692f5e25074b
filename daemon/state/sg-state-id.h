/* SPDX-License-Identifier: MIT */
/* The state directory's state_id: random, stored once in state.json under the state lock. */
#pragma once

#include <glib.h>

/*
 * The "state_id" of dir/state.json: 32 lowercase hex characters. When missing (or not of
 * that form) a random one is stored under the state lock, every other field kept. A
 * corrupt state.json is quarantined first (its new path in ret_quarantined, else NULL).
 */
char *sg_state_ensure_state_id(const char *dir, char **ret_quarantined, GError **error);
