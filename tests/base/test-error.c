/* SPDX-License-Identifier: MIT */
/* Tests of the error table: every code maps to SPEC's D-Bus name, JSON-RPC code and exit status. */
#include "config.h"

#include <glib.h>

#include "base/sg-error.h"

static void
test_table(void)
{
	static const struct {
		SgErrorCode code;
		const char *dbus_name;
		int jsonrpc;
		int exit_code;
	} rows[] = {
		{ SG_ERROR_FAILED, "org.systemg.Error.Failed", -32004, 1 },
		{ SG_ERROR_USAGE, "org.freedesktop.DBus.Error.InvalidArgs", -32602, 2 },
		{ SG_ERROR_INVALID_CONFIG, "org.systemg.Error.InvalidConfig", -32002, 3 },
		{ SG_ERROR_NO_SUCH_SERVICE, "org.systemg.Error.NoSuchService", -32001, 4 },
		{ SG_ERROR_NO_SUPERVISOR, "org.systemg.Error.Failed", -32004, 5 },
		{ SG_ERROR_OTHER_CONFIG, "org.systemg.Error.Failed", -32004, 5 },
		{ SG_ERROR_ACCESS_DENIED, "org.systemg.Error.AccessDenied", -32003, 1 },
		{ SG_ERROR_ALREADY_RUNNING, "org.systemg.Error.Failed", -32004, 1 },
		{ SG_ERROR_NOT_ON_BUS, "org.systemg.Error.Failed", -32004, 5 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_assert_cmpstr(sg_error_dbus_name(rows[i].code), ==, rows[i].dbus_name);
		g_assert_cmpint(sg_error_jsonrpc_code(rows[i].code), ==, rows[i].jsonrpc);
		g_assert_cmpint(sg_error_exit_code(rows[i].code), ==, rows[i].exit_code);
	}
	/* Every code has a row: no code falls through to an empty name. */
	for (int code = 0; code < SG_ERROR_N_CODES; code++)
		g_assert_nonnull(sg_error_dbus_name((SgErrorCode)code));
}

/* The reverse lookups are the same table read backwards: a wire value that one code alone
 * carries gives that code back; one that several share gives the first of them
 * (SG_ERROR_FAILED for -32004 and org.systemg.Error.Failed), whose answer is the same. */
static void
test_round_trip(void)
{
	for (int i = 0; i < SG_ERROR_N_CODES; i++) {
		SgErrorCode code = (SgErrorCode)i;
		int rpc = sg_error_jsonrpc_code(code);
		const char *name = sg_error_dbus_name(code);
		SgErrorCode from_rpc = sg_error_from_jsonrpc_code(rpc);
		SgErrorCode from_bus = sg_error_from_dbus_name(name);
		guint sharing_rpc = 0, sharing_bus = 0;

		for (int j = 0; j < SG_ERROR_N_CODES; j++) {
			sharing_rpc += sg_error_jsonrpc_code((SgErrorCode)j) == rpc;
			sharing_bus += g_str_equal(sg_error_dbus_name((SgErrorCode)j), name);
		}
		g_assert_cmpint(sg_error_jsonrpc_code(from_rpc), ==, rpc);
		g_assert_cmpstr(sg_error_dbus_name(from_bus), ==, name);
		if (sharing_rpc == 1)
			g_assert_cmpint(from_rpc, ==, code);
		else
			g_assert_cmpint(from_rpc, ==, SG_ERROR_FAILED);
		if (sharing_bus == 1)
			g_assert_cmpint(from_bus, ==, code);
		else
			g_assert_cmpint(from_bus, ==, SG_ERROR_FAILED);
	}
	/* The codes the CLI tells apart come back exactly. */
	g_assert_cmpint(sg_error_from_jsonrpc_code(-32001), ==, SG_ERROR_NO_SUCH_SERVICE);
	g_assert_cmpint(sg_error_from_jsonrpc_code(-32002), ==, SG_ERROR_INVALID_CONFIG);
	g_assert_cmpint(sg_error_from_jsonrpc_code(-32003), ==, SG_ERROR_ACCESS_DENIED);
	g_assert_cmpint(sg_error_from_jsonrpc_code(-32602), ==, SG_ERROR_USAGE);
	g_assert_cmpint(sg_error_from_dbus_name("org.systemg.Error.NoSuchService"), ==,
	                SG_ERROR_NO_SUCH_SERVICE);
	g_assert_cmpint(sg_error_from_dbus_name("org.freedesktop.DBus.Error.InvalidArgs"), ==,
	                SG_ERROR_USAGE);
	/* Anything else (JSON-RPC's own -32600, a foreign D-Bus error, none) is a failure. */
	g_assert_cmpint(sg_error_from_jsonrpc_code(-32600), ==, SG_ERROR_FAILED);
	g_assert_cmpint(sg_error_from_jsonrpc_code(0), ==, SG_ERROR_FAILED);
	g_assert_cmpint(sg_error_from_dbus_name("org.freedesktop.DBus.Error.NoReply"), ==,
	                SG_ERROR_FAILED);
	g_assert_cmpint(sg_error_from_dbus_name(NULL), ==, SG_ERROR_FAILED);
}

static void
test_exit_code_for(void)
{
	g_autoptr(GError) ours = g_error_new(SG_ERROR, SG_ERROR_NO_SUCH_SERVICE, "x");
	g_autoptr(GError) foreign = g_error_new(G_FILE_ERROR, G_FILE_ERROR_NOENT, "x");
	g_autoptr(GError) from_errno = NULL;

	g_assert_cmpint(sg_error_exit_code_for(NULL), ==, 0);
	g_assert_cmpint(sg_error_exit_code_for(ours), ==, 4);
	g_assert_cmpint(sg_error_exit_code_for(foreign), ==, 1);
	g_assert_false(sg_error_set_errno(&from_errno, -2, "opening %s", "x.json"));
	g_assert_error(from_errno, SG_ERROR, SG_ERROR_FAILED);
	g_assert_cmpstr(from_errno->message, ==, "opening x.json: No such file or directory");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sg/error/table", test_table);
	g_test_add_func("/sg/error/round-trip", test_round_trip);
	g_test_add_func("/sg/error/exit-code-for", test_exit_code_for);
	return g_test_run();
}
