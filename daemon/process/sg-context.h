/* SPDX-License-Identifier: MIT */
/* What every part of the engine shares: clock, reaper, containment, logs and the state directory.
 */
#pragma once

#include <glib.h>
#include <sys/resource.h>

#include "base/sg-clock.h"
#include "process/sg-contain.h"
#include "base/sg-log.h"
#include "process/sg-logfile.h"
#include "process/sg-reaper.h"

typedef struct {
	SgClock *clock;
	SgReaper *reaper;
	SgContain *contain;
	SgLogWatch *log_watch;
	SgLog *log; /* supervisor.log; may be NULL in tests */
	char *state_dir;
	char *log_dir; /* STATE_DIR/logs */
	char *state_id;
	struct rlimit service_nofile; /* the open-file limit services get back */
	/* PIDs the engine started itself (service mains and helpers): anything else that is
	 * our child is a leftover re-parented to the subreaper. */
	GHashTable *known_pids;
} SgContext;

/* Frees what the engine holds (not the reaper's children: services outlive it). */
void sg_context_clear(SgContext *context);

/* Logs to supervisor.log when there is one (the engine never uses g_warning for events). */
void sg_context_log(SgContext *context, SgLogLevel level, const char *format, ...)
        G_GNUC_PRINTF(3, 4);

/* A random 32-character lowercase hex id (invocation ids). */
char *sg_context_random_id(void);

/* Whether the supervisor has children it did not start (processes left by a service). */
gboolean sg_context_has_stray_children(SgContext *context);
