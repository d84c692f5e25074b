/* SPDX-License-Identifier: MIT */
/* Replays saved inputs through a fuzz target's entry point in an ordinary build, as TAP. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fuzz.h"

static gint
compare_paths(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of each directory (a missing one holds nothing), sorted. */
static GPtrArray *
collect_inputs(int argc, char **argv)
{
	GPtrArray *inputs = g_ptr_array_new_with_free_func(g_free);

	for (int i = 1; i < argc; i++) {
		g_autoptr(GDir) dir = g_dir_open(argv[i], 0, NULL);
		const char *name;

		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			char *path = g_build_filename(argv[i], name, NULL);

			if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
				g_ptr_array_add(inputs, path);
			else
				g_free(path);
		}
	}
	g_ptr_array_sort(inputs, compare_paths);
	return inputs;
}

int
main(int argc, char **argv)
{
	g_autoptr(GPtrArray) inputs = collect_inputs(argc, argv);

	if (inputs->len == 0) {
		printf("1..0 # SKIP no inputs\n");
		return 0;
	}
	printf("1..%u\n", inputs->len);
	for (guint i = 0; i < inputs->len; i++) {
		g_autofree char *data = NULL;
		g_autoptr(GError) error = NULL;
		gsize size;

		if (!g_file_get_contents(inputs->pdata[i], &data, &size, &error)) {
			printf("not ok %u - %s: %s\n", i + 1, (char *)inputs->pdata[i],
			       error->message);
			continue;
		}
		/* A crash ends the run: the test fails with the input's name printed last. */
		printf("# %s\n", (char *)inputs->pdata[i]);
		fflush(stdout);
		LLVMFuzzerTestOneInput((const uint8_t *)data, size);
		printf("ok %u - %s\n", i + 1, (char *)inputs->pdata[i]);
	}
	return 0;
}
