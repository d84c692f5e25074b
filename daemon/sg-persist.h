/* SPDX-License-Identifier: MIT */
/* Keeps pid.json and state.json true: written from engine events, at most once a loop turn. */
#pragma once

#include <glib.h>

#include "sg-supervisor.h"

typedef struct _SgPersist SgPersist;

SgPersist *sg_persist_new(SgSupervisor *supervisor);
/* Writes now if anything changed (shutdown must not leave a write pending). */
void sg_persist_flush(SgPersist *persist);
/* Every service was stopped on purpose and the supervisor goes: state.json says the run
 * ended, so that the next supervisor starts every service afresh. */
void sg_persist_end_run(SgPersist *persist);
void sg_persist_free(SgPersist *persist);
/* How many times each file was written (tests and benchmarks). */
guint sg_persist_write_count(SgPersist *persist);
