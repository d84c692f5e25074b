/* SPDX-License-Identifier: MIT */
/* A real engine for tests: fake clock, marker containment, logs, in a temporary state dir. */
#pragma once

#include "config/sg-config.h"
#include "process/sg-context.h"
#include "engine/sg-supervisor.h"

/*
 * g_test_init with isolated directories, then the test binary's one reaper (it reaps with
 * waitpid(-1)), made before any thread exists since it blocks SIGCHLD.
 */
SgReaper *sg_test_init_with_reaper(int *argc, char ***argv);

/* Fills engine for state_dir (created by the caller) with a fake clock and the given reaper
 * (one per process: it reaps with waitpid(-1)). */
void sg_test_context_init(SgContext *context, const char *state_dir, SgReaper *reaper);
void sg_test_context_clear(SgContext *context);

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

/*
 * The fixture of the engine test binaries: a temporary state directory with a real engine
 * (fake clock), the supervisor once a configuration is loaded, its transitions recorded,
 * and a monitor on the directory that wakes the loop when a process writes a file there.
 */
typedef struct {
	char *dir;
	SgContext context;
	SgConfig *config;
	SgSupervisor *supervisor;
	GString *transitions; /* "name:old>new " */
	GFileMonitor *monitor;
} SgTestEngineFixture;

/* prefix names the temporary directory ("sg-hooks" gives sg-hooks-XXXXXX). */
void sg_test_engine_fixture_set_up(SgTestEngineFixture *f, const char *prefix, SgReaper *reaper);
/* Stops every service that is left, then removes everything. */
void sg_test_engine_fixture_tear_down(SgTestEngineFixture *f);
/* Loads yaml (sg_test_load_config) and makes the supervisor, transitions recorded. */
void sg_test_engine_fixture_load(SgTestEngineFixture *f, const char *yaml);

/* An SgSupervisorDoneFunc that sets the gboolean it points to. */
void sg_test_stopped_cb(SgSupervisor *supervisor, gpointer user_data);
