/* SPDX-License-Identifier: MIT */
/* The kernel's id of the running boot: what tells a crash from a reboot (docs/persistence.md). */
#pragma once

#include <glib.h>

/* The boot id (/proc/sys/kernel/random/boot_id, read once), or NULL when it is unknown. */
const char *sg_boot_id(void);

/* Whether text looks like a boot id (a UUID in lowercase hex), as state.json must hold. */
gboolean sg_boot_id_is_valid(const char *text);

/*
 * Whether a state file recorded under boot id recorded is from another boot: then the PIDs
 * and process start times it holds prove nothing (both restart from zero at every boot).
 * A missing or unreadable id (an older writer, or no /proc) is taken for this boot.
 */
gboolean sg_boot_id_is_other(const char *recorded);
