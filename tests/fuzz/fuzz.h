/* SPDX-License-Identifier: MIT */
/* What every fuzz target shares: the libFuzzer entry point, a scratch directory, strictness. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* The entry point of each target: libFuzzer calls it, and so does replay.c. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Once per process: makes GLib criticals and warnings fatal (in systemg they are
 * programming errors, such as reading a member of the wrong type) and creates a scratch
 * directory, on tmpfs when /dev/shm is writable (state files are fsynced), removed at
 * exit. Returns that directory.
 */
const char *sg_fuzz_setup(void);

/* Replaces dir/name with the bytes of data. */
void sg_fuzz_write(const char *dir, const char *name, const uint8_t *data, size_t size);
