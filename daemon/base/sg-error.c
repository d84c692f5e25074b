/* SPDX-License-Identifier: MIT */
/* The one table mapping each SgErrorCode to its D-Bus name, JSON-RPC code and exit status,
 * and back. */
#include "config.h"

#include "base/sg-error.h"

#include "base/sg-bus-names.h"

#include <errno.h>
#include <string.h>

GQuark
sg_error_quark(void)
{
	return g_quark_from_static_string("sg-error-quark");
}

typedef struct {
	const char *dbus_name;
	int jsonrpc_code;
	int exit_code;
} SgErrorMapping;

/* SPEC sections 5 to 7: exit 1 failed, 2 usage, 3 config, 4 no service, 5 no supervisor. */
static const SgErrorMapping mappings[SG_ERROR_N_CODES] = {
	[SG_ERROR_FAILED] = { SG_BUS_ERROR_FAILED, -32004, 1 },
	[SG_ERROR_USAGE] = { "org.freedesktop.DBus.Error.InvalidArgs", -32602, 2 },
	[SG_ERROR_INVALID_CONFIG] = { SG_BUS_ERROR_INVALID_CONFIG, -32002, 3 },
	[SG_ERROR_NO_SUCH_SERVICE] = { SG_BUS_ERROR_NO_SUCH_SERVICE, -32001, 4 },
	[SG_ERROR_NO_SUPERVISOR] = { SG_BUS_ERROR_FAILED, -32004, 5 },
	[SG_ERROR_OTHER_CONFIG] = { SG_BUS_ERROR_FAILED, -32004, 5 },
	[SG_ERROR_ACCESS_DENIED] = { SG_BUS_ERROR_ACCESS_DENIED, -32003, 1 },
	[SG_ERROR_ALREADY_RUNNING] = { SG_BUS_ERROR_FAILED, -32004, 1 },
	[SG_ERROR_STATE_DIR] = { SG_BUS_ERROR_FAILED, -32004, 1 },
	[SG_ERROR_CORRUPT] = { SG_BUS_ERROR_FAILED, -32004, 1 },
	[SG_ERROR_LIMIT] = { SG_BUS_ERROR_FAILED, -32004, 1 },
	[SG_ERROR_NOT_ON_BUS] = { SG_BUS_ERROR_FAILED, -32004, 5 },
};

static const SgErrorMapping *
mapping_for(SgErrorCode code)
{
	if ((int)code < 0 || code >= SG_ERROR_N_CODES)
		code = SG_ERROR_FAILED;
	return &mappings[code];
}

const char *
sg_error_dbus_name(SgErrorCode code)
{
	return mapping_for(code)->dbus_name;
}

int
sg_error_jsonrpc_code(SgErrorCode code)
{
	return mapping_for(code)->jsonrpc_code;
}

SgErrorCode
sg_error_from_jsonrpc_code(gint64 jsonrpc_code)
{
	for (int code = 0; code < SG_ERROR_N_CODES; code++)
		if (mappings[code].jsonrpc_code == jsonrpc_code)
			return (SgErrorCode)code;
	return SG_ERROR_FAILED;
}

SgErrorCode
sg_error_from_dbus_name(const char *dbus_name)
{
	for (int code = 0; code < SG_ERROR_N_CODES && dbus_name != NULL; code++)
		if (strcmp(mappings[code].dbus_name, dbus_name) == 0)
			return (SgErrorCode)code;
	return SG_ERROR_FAILED;
}

int
sg_error_exit_code(SgErrorCode code)
{
	return mapping_for(code)->exit_code;
}

int
sg_error_exit_code_for(const GError *error)
{
	if (error == NULL)
		return 0;
	if (error->domain != SG_ERROR)
		return 1;
	return sg_error_exit_code((SgErrorCode)error->code);
}

gboolean
sg_error_set_errno(GError **error, int negative_errno, const char *format, ...)
{
	va_list args;
	g_autofree char *prefix = NULL;

	va_start(args, format);
	prefix = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error, SG_ERROR, SG_ERROR_FAILED, "%s: %s", prefix,
	            g_strerror(-negative_errno));
	return FALSE;
}
