/* SPDX-License-Identifier: MIT */
/* What every fuzz target shares: a scratch directory and fatal criticals. */
#include "config.h"

#include "fuzz.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/sg-test.h"

static char *scratch;

/* GLib stops a fatal message with SIGTRAP, which libFuzzer does not catch: abort instead,
 * so that the input is saved. */
static void
fatal_log_cb(const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
	if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) == 0)
		return;
	g_printerr("%s: %s\n", domain != NULL ? domain : "fuzz", message);
	abort();
}

static void
remove_scratch(void)
{
	if (scratch != NULL)
		sg_test_remove_tree(scratch);
	g_clear_pointer(&scratch, g_free);
}

const char *
sg_fuzz_setup(void)
{
	g_autoptr(GError) error = NULL;

	if (scratch != NULL)
		return scratch;
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	g_log_set_default_handler(fatal_log_cb, NULL);
	if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK) == 0) {
		scratch = g_strdup("/dev/shm/sg-fuzz-XXXXXX");
		if (g_mkdtemp_full(scratch, 0700) == NULL)
			g_clear_pointer(&scratch, g_free);
	}
	if (scratch == NULL)
		scratch = g_dir_make_tmp("sg-fuzz-XXXXXX", &error);
	g_assert_no_error(error);
	atexit(remove_scratch);
	return scratch;
}

void
sg_fuzz_write(const char *dir, const char *name, const uint8_t *data, size_t size)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents_full(path, (const char *)data, (gssize)size, G_FILE_SET_CONTENTS_NONE,
	                         0600, &error);
	g_assert_no_error(error);
}
