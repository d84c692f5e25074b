/* SPDX-License-Identifier: MIT */
/* Fuzz target: the env-file parser (quotes, export, comments, no expansion). */
#include "config.h"

#include "fuzz.h"

#include "base/sg-error.h"
#include "config/sg-envfile.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GPtrArray) vars = NULL;
	g_autoptr(GHashTable) keys = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	int line = -1;

	sg_fuzz_setup();
	if (!sg_envfile_parse_data((const char *)data, size, "fuzz.env", &vars, &line, &error)) {
		g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
		g_assert_null(vars);
		g_assert_true(g_str_has_prefix(error->message, "fuzz.env"));
		return 0;
	}
	g_assert_no_error(error);
	g_assert_nonnull(vars);
	g_assert_cmpuint(vars->len % 2, ==, 0);
	for (guint i = 0; i < vars->len; i += 2) {
		g_assert_true(sg_envfile_key_is_valid(vars->pdata[i]));
		/* The last duplicate wins: every key is there once. */
		g_assert_true(g_hash_table_add(keys, vars->pdata[i]));
		g_assert_nonnull(vars->pdata[i + 1]);
	}
	return 0;
}
