/* SPDX-License-Identifier: MIT */
/* Start, stop and restart as the socket and the bus run them: answered once done. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "engine/sg-supervisor.h"

typedef struct _SgOperation SgOperation;

typedef enum {
	SG_OPERATION_START,
	SG_OPERATION_STOP,
	SG_OPERATION_RESTART,
} SgOperationKind;

/*
 * The outcome: error NULL when done. A start (or the start half of a restart) that left a
 * target failed, blocked, stopped, or in backoff after failing before it was ready gives
 * SG_ERROR_FAILED naming each ("api did not start: failed (exit status 3)"), and failed is
 * then [{"name", "state", "cause"}] (borrowed); otherwise failed is NULL.
 */
typedef void (*SgOperationDoneFunc)(const GError *error, JsonNode *failed, gpointer user_data);

/*
 * An operation of kind on the service name (NULL: every service; the caller checked that
 * it exists). Stop is done once nothing of the service is left (stopping everything leaves
 * the daemon running); start once every target is running, exited, skipped or scheduled,
 * or down (above); restart is stop then start. Starts and restarts are refused while a
 * stop of everything asked through an operation runs, and once the supervisor is shutting
 * down. Nothing happens until sg_operation_run(); the operation frees itself after done.
 */
SgOperation *sg_operation_new(SgSupervisor *supervisor, SgOperationKind kind, const char *name,
                              SgOperationDoneFunc done, gpointer user_data);
/* Starts it; done may run before this returns. */
void sg_operation_run(SgOperation *operation);
/* The caller goes away: done is never called; the work goes on to its end. */
void sg_operation_cancel(SgOperation *operation);

/* The daemon is going away: starts and restarts are refused from now on. */
void sg_operation_set_shutting_down(SgSupervisor *supervisor);
