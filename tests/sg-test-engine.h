/* SPDX-License-Identifier: MIT */
/* A real engine for tests: fake clock, marker containment, logs, in a temporary state dir. */
#pragma once

#include "sg-config.h"
#include "sg-engine.h"
#include "sg-supervisor.h"

/*
 * g_test_init with isolated directories, then the test binary's one reaper (it reaps with
 * waitpid(-1)), made before any thread exists since it blocks SIGCHLD.
 */
SgReaper *sg_test_init_with_reaper(int *argc, char ***argv);

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

/*
 * Writes yaml to dir/systemg.yaml and loads it with ${HELPER} (the helper-child program)
 * and ${DIR} (dir) defined; the test fails, its problems printed, when it is invalid.
 */
SgConfig *sg_test_load_config(const char *dir, const char *yaml);

/* Appends "name:old>new " to transitions at every state change of supervisor. */
void sg_test_record_transitions(SgSupervisor *supervisor, GString *transitions);

/* An SgSupervisorDoneFunc that sets the gboolean it points to. */
void sg_test_stopped_cb(SgSupervisor *supervisor, gpointer user_data);
