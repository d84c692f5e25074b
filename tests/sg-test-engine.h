/* SPDX-License-Identifier: MIT */
/* A real engine for tests: fake clock, marker containment, logs, in a temporary state dir. */
#pragma once

#include "sg-engine.h"
#include "sg-supervisor.h"

/* Fills engine for state_dir (created by the caller) with a fake clock and the given reaper
 * (one per process: it reaps with waitpid(-1)). */
void sg_test_engine_init(SgEngine *engine, const char *state_dir, SgReaper *reaper);
void sg_test_engine_clear(SgEngine *engine);

/* Stops every service, moving the fake clock along for stop timeouts, and waits for it. */
void sg_test_stop_all(SgSupervisor *supervisor, SgClock *clock);

/* The service called name (the test fails when there is none). */
SgService *sg_test_service(SgSupervisor *supervisor, const char *name);

/* Whether pid is a live process; a zombie waiting for the reaper counts as gone. */
gboolean sg_test_alive(pid_t pid);
