/* SPDX-License-Identifier: MIT */
/* The engine: all services, their dependency order and the one set of operations the
 * socket, the bus and the signals use. It knows nothing of sockets or D-Bus. */
#pragma once

#include <glib-object.h>

#include "config/sg-config.h"
#include "process/sg-context.h"
#include "engine/sg-service.h"

#define SG_TYPE_SUPERVISOR (sg_supervisor_get_type())
G_DECLARE_FINAL_TYPE(SgSupervisor, sg_supervisor, SG, SUPERVISOR, GObject)

/*
 * Signals:
 *   "service-state-changed" (SgService *service, guint old_state, guint new_state)
 *   "service-changed"       (SgService *service): any change worth persisting
 *   "settled"               (): every service asked to start is ready, exited, skipped,
 *                               failed or blocked (once per sg_supervisor_start_all)
 *   "service-added"         (SgService *service): a reload added it (after it exists)
 *   "service-removed"       (const char *name): a reload removed it (its object is gone)
 *   "reloaded"              (const char *config_path): a reload was applied
 *   "cron-job-finished"     (SgService *service, const char *result, int exit_code,
 *                            gint64 started_usec, gint64 finished_usec): after each cron
 *                            run; result is success, failed, overlap or killed; exit_code
 *                            -1 when there is none
 */

/* engine is borrowed and must outlive the supervisor. */
SgSupervisor *sg_supervisor_new(SgContext *context, SgConfig *config);

SgConfig *sg_supervisor_get_config(SgSupervisor *supervisor);
/* The absolute path of the configuration in use; "" when running with none. */
const char *sg_supervisor_get_config_path(SgSupervisor *supervisor);
SgContext *sg_supervisor_get_context(SgSupervisor *supervisor);
/* Services in configuration order (borrowed). */
GPtrArray *sg_supervisor_get_services(SgSupervisor *supervisor);
SgService *sg_supervisor_lookup(SgSupervisor *supervisor, const char *name);
/*
 * Whether the engine itself restarts service (a reload changed it, or an adoption found it
 * outdated): between its stop and its start. "service-changed" is emitted when that ends.
 */
gboolean sg_supervisor_is_restarting(SgSupervisor *supervisor, SgService *service);

/*
 * Takes over what an earlier supervisor on the same state directory left running (SPEC
 * section 4, "Persistence"; docs/persistence.md): call once, before sg_supervisor_start_all.
 * Services no longer configured are adopted as orphans.
 */
void sg_supervisor_adopt(SgSupervisor *supervisor);

/* Starts every service that is not running (cron jobs wait for their times). */
void sg_supervisor_start_all(SgSupervisor *supervisor);
/* Starts one service, and the stopped services it depends on. */
gboolean sg_supervisor_start_service(SgSupervisor *supervisor, const char *name, GError **error);

typedef void (*SgSupervisorDoneFunc)(SgSupervisor *supervisor, gpointer user_data);
/* Stops one service (its dependents keep running); done runs when nothing of it is left. */
gboolean sg_supervisor_stop_service(SgSupervisor *supervisor, const char *name,
                                    SgSupervisorDoneFunc done, gpointer user_data, GError **error);
/* Stops every service, dependents before what they depend on; done when all are stopped. */
void sg_supervisor_stop_all(SgSupervisor *supervisor, SgSupervisorDoneFunc done,
                            gpointer user_data);

/* Whether a stop of every service is under way (until its done callbacks run). */
gboolean sg_supervisor_is_stopping_all(SgSupervisor *supervisor);

/* Whether every service asked to start has settled, and whether all of them came up. */
gboolean sg_supervisor_is_settled(SgSupervisor *supervisor, gboolean *ret_all_up);

/*
 * Reloads the configuration (SPEC section 4, "Reload"): config_path NULL or "" means the
 * current file. An invalid file changes nothing: SG_ERROR_INVALID_CONFIG with every
 * problem in the message. Not while every service is being stopped (the caller refuses).
 */
gboolean sg_supervisor_reload(SgSupervisor *supervisor, const char *config_path, GError **error);

/*
 * Cron jobs: takes the configuration's cron jobs again (new, changed and removed ones;
 * histories are kept by name), plans the new and changed ones and re-arms the one
 * wall-clock alarm. A reload does it before "reloaded"; call it after any other change of
 * the service list.
 */
void sg_supervisor_reschedule_cron(SgSupervisor *supervisor);
/* Writes cron_state.json now if anything changed (writes are otherwise coalesced). */
void sg_supervisor_flush_cron(SgSupervisor *supervisor);
