/* SPDX-License-Identifier: MIT */
/* Keeps pid.json and state.json true: written from engine events, at most once a loop turn. */
#pragma once

#include <glib.h>

#include "engine/sg-supervisor.h"

typedef struct _SgPersist SgPersist;

/* The writer of supervisor's state files; one per supervisor. */
SgPersist *sg_persist_new(SgSupervisor *supervisor);
/* Writes now if anything changed (shutdown must not leave a write pending). */
void sg_persist_flush(SgPersist *persist);
/* Every service was stopped on purpose and the supervisor goes: state.json says the run
 * ended, so that the next supervisor starts every service afresh. */
void sg_persist_end_run(SgPersist *persist);
/*
 * The same for the writer of supervisor, if it has one. Every answer to a client goes after
 * this (sg-operation), so that the state files already say what the answer says.
 */
void sg_persist_flush_supervisor(SgSupervisor *supervisor);
void sg_persist_free(SgPersist *persist);
/* How many times each file was written (tests and benchmarks). */
guint sg_persist_write_count(SgPersist *persist);
