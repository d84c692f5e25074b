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

/* Whether a start may not begin now (TRUE, error set): asked before every start, the start
 * half of a restart included. sg-api gives the one answer. */
typedef gboolean (*SgOperationRefuseFunc)(gpointer refuse_data, GError **error);

/*
 * An operation of kind on the service name (NULL: every service; the caller checked that
 * it exists). Stop is done once nothing of the service is left (stopping everything leaves
 * the daemon running); start once every target is running, exited, skipped or scheduled,
 * or down (above); restart is stop then start. A start, and a restart before its stop, is
 * refused when refuse says so. Nothing happens until sg_operation_run(); the operation frees
 * itself after done. Callers go through sg-api.
 */
SgOperation *sg_operation_new(SgSupervisor *supervisor, SgOperationKind kind, const char *name,
                              SgOperationRefuseFunc refuse, gpointer refuse_data,
                              SgOperationDoneFunc done, gpointer user_data);
/* Starts it; done may run before this returns. */
void sg_operation_run(SgOperation *operation);
/* The caller goes away: done is never called; the work goes on to its end. */
void sg_operation_cancel(SgOperation *operation);
