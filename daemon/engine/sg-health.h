/* SPDX-License-Identifier: MIT */
/* Readiness probes: url (HTTP 2xx), tcp (connection accepted), command (exit 0). */
#pragma once

#include <glib.h>

#include "base/sg-clock.h"
#include "config/sg-config.h"
#include "process/sg-reaper.h"

typedef struct _SgHealthProbe SgHealthProbe;

/* Called exactly once: passed, or failed with a cause such as
 * "url health check \"http://127.0.0.1:8080/\" failed after 3 attempts over 30s: HTTP 503". */
typedef void (*SgHealthDoneFunc)(gboolean passed, const char *cause, gpointer user_data);

typedef struct {
	char **envp;     /* command checks: the service's environment (borrowed) */
	const char *cwd; /* command checks: the service's working directory */
	const char
	        *extra_env; /* "NAME=VALUE" added for command checks (SYSTEMG_PID=...), or NULL */
	SgReaper *reaper;   /* command checks are spawned through sg-spawn and reaped here */
	SgClock *clock;
} SgHealthContext;

/*
 * Starts probing at once (on the next turn of the clock: done is never called from here),
 * then every interval_ms after the previous attempt started; each attempt is cut off after
 * max(interval, min(1 s, timeout)); passes on the first success; fails once `retries`
 * attempts have failed AND timeout_ms has run out since the start. SG_CHECK_NOTIFY and
 * SG_CHECK_NONE are not probes (the caller handles them). Never blocks the loop.
 * The probe frees itself once done has returned: forget the pointer in done. The reaper must
 * live until done or cancel; the rest of the context is copied or referenced.
 */
SgHealthProbe *sg_health_probe_start(const SgHealthCheck *check, const SgHealthContext *context,
                                     SgHealthDoneFunc done, gpointer user_data);
/* Stops probing; done is not called. Kills a running command check (it is then reaped as an
 * orphan). Allowed until done has returned, also from inside any done callback. */
void sg_health_probe_cancel(SgHealthProbe *probe);
