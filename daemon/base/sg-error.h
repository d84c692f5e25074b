/* SPDX-License-Identifier: MIT */
/* The one error domain of systemg and its mapping to D-Bus, JSON-RPC and exit codes. */
#pragma once

#include <glib.h>

#define SG_ERROR (sg_error_quark())

typedef enum {
	SG_ERROR_FAILED,          /* the operation failed */
	SG_ERROR_USAGE,           /* bad arguments from the caller */
	SG_ERROR_INVALID_CONFIG,  /* the configuration file is refused */
	SG_ERROR_NO_SUCH_SERVICE, /* a name neither configured nor adopted */
	SG_ERROR_NO_SUPERVISOR,   /* a supervisor is needed and none runs */
	SG_ERROR_OTHER_CONFIG,    /* a supervisor runs on another configuration */
	SG_ERROR_ACCESS_DENIED,   /* the caller is not the daemon's user */
	SG_ERROR_ALREADY_RUNNING, /* a live supervisor owns the state directory */
	SG_ERROR_STATE_DIR,       /* the state directory cannot be used */
	SG_ERROR_CORRUPT,         /* a state file does not parse */
	SG_ERROR_LIMIT,           /* a size or count limit was passed */
	SG_ERROR_NOT_ON_BUS,      /* a supervisor runs but does not own org.systemg */
	SG_ERROR_N_CODES,
} SgErrorCode;

GQuark sg_error_quark(void);

/* org.systemg.Error.* name for a code. */
const char *sg_error_dbus_name(SgErrorCode code);
/* JSON-RPC error code for a code (-32602 for usage, -3200x for the rest). */
int sg_error_jsonrpc_code(SgErrorCode code);
/*
 * The code an answer's JSON-RPC error code or D-Bus error name stands for: the table read
 * backwards. A value several codes share gives the first of them (-32004 and
 * org.systemg.Error.Failed give SG_ERROR_FAILED); an unknown one (or NULL) SG_ERROR_FAILED.
 */
SgErrorCode sg_error_from_jsonrpc_code(gint64 jsonrpc_code);
SgErrorCode sg_error_from_dbus_name(const char *dbus_name);
/* sysg exit status for a code (SPEC section 5). */
int sg_error_exit_code(SgErrorCode code);
/* The exit status for any GError: its SG_ERROR code, or 1. */
int sg_error_exit_code_for(const GError *error);
/* Sets error from a negative errno with a message prefix; returns FALSE. */
gboolean sg_error_set_errno(GError **error, int negative_errno, const char *format, ...)
        G_GNUC_PRINTF(3, 4);
