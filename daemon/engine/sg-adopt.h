/* SPDX-License-Identifier: MIT */
/* Re-adoption: what an earlier supervisor left running, found from the state files and /proc. */
#pragma once

#include <glib.h>

#include "config/sg-config.h"
#include "process/sg-context.h"
#include "engine/sg-service.h"

/* One service an earlier supervisor ran (docs/persistence.md says how each is decided). */
typedef struct {
	char *name;
	SgAdoptKind kind;
	pid_t pid; /* LIVE: the main process; LEFTOVERS: their session */
	guint64 start_time;
	char *invocation_id;
	gboolean ready; /* the recorded main process was running (ready) */
	gint64 started_at_usec;
	guint restart_count;
	char *config_hash;    /* as recorded in state.json, or NULL when unknown */
	char *command;        /* LIVE: the main process's command line, for orphans */
	SgServiceState state; /* FINAL: exited, failed or stopped */
	char *cause;
	int exit_code;     /* -1: none */
	int exit_signal;   /* 0: none */
	GPtrArray *extras; /* SgProcInfo* of other instances, to be stopped */
} SgAdoptFound;

void sg_adopt_found_free(SgAdoptFound *found);

/*
 * Reads pid.json and state.json (a corrupt file is set aside: the caller holds sysg.pid)
 * and looks at /proc once, and the services' cgroups in cgroup mode. Returns
 * SgAdoptFound* for every service that has something to take over. When no process of the
 * earlier run is alive at all, its run is over (a reboot, or long ago): nothing is
 * returned and the services start afresh. Every decision is logged.
 */
GPtrArray *sg_adopt_find(SgContext *context);

/* Stops processes of other instances of a service: SIGTERM now, SIGKILL after timeout_ms
 * to what is still there. Logged. */
void sg_adopt_stop_extras(SgContext *context, const char *service, GPtrArray *extras,
                          guint64 timeout_ms);

/* A configuration holding only the definition of an orphan (a service adopted while no
 * longer configured): never restarted, its recorded hash, its command line. */
SgConfig *sg_adopt_orphan_config(const SgAdoptFound *found);
