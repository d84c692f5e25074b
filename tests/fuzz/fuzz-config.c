/* SPDX-License-Identifier: MIT */
/* Fuzz target: the configuration loader (YAML, validation, ${VAR} expansion, env files). */
#include "config.h"

#include "fuzz.h"

#include "config/sg-config.h"
#include "config/sg-problem.h"

/* An env file beside the configuration, for inputs that name it (env: { file: app.env }). */
static const char app_env[] = "# comment\nexport A=1\nB='two words'\nC=\"three\\n\"\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *env[] = { "PATH=/usr/bin:/bin", "HOME=/nonexistent", "USER=fuzz", NULL };
	static gboolean ready;
	const char *dir = sg_fuzz_setup();
	g_autofree char *path = g_build_filename(dir, "systemg.yaml", NULL);
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(SgConfig) config = NULL;

	if (!ready) {
		sg_fuzz_write(dir, "app.env", (const uint8_t *)app_env, sizeof(app_env) - 1);
		ready = TRUE;
	}
	sg_fuzz_write(dir, "systemg.yaml", data, size);
	config = sg_config_load(path, "systemg.yaml", env, problems, &error);
	g_assert_true((config == NULL) == (error != NULL));
	for (guint i = 0; i < problems->len; i++)
		g_free(sg_problem_format(problems->pdata[i]));
	if (config == NULL) {
		g_assert_cmpuint(sg_problem_list_count(problems, SG_PROBLEM_ERROR), >, 0);
		return 0;
	}
	for (guint i = 0; i < config->services->len; i++) {
		const SgServiceConfig *service = config->services->pdata[i];

		g_assert_true(sg_config_lookup(config, service->name) == service);
		g_assert_true(sg_config_name_is_valid(service->name));
		g_strfreev(sg_config_service_environ(config, service));
	}
	return 0;
}
