/* SPDX-License-Identifier: MIT */
/* sysg validate: loads the configuration as sysgd would and prints every problem. */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "sg-cli.h"
#include "config/sg-config.h"
#include "base/sg-error.h"
#include "config/sg-problem.h"

#define EXIT_USAGE 2

static JsonNode *
problems_to_json(GPtrArray *problems)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_array(builder);
	for (guint i = 0; i < problems->len; i++) {
		const SgProblem *problem = g_ptr_array_index(problems, i);

		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "severity");
		json_builder_add_string_value(
		        builder, problem->severity == SG_PROBLEM_ERROR ? "error" : "warning");
		json_builder_set_member_name(builder, "file");
		json_builder_add_string_value(builder, problem->file);
		json_builder_set_member_name(builder, "line");
		json_builder_add_int_value(builder, problem->line);
		json_builder_set_member_name(builder, "column");
		json_builder_add_int_value(builder, problem->column);
		json_builder_set_member_name(builder, "path");
		json_builder_add_string_value(builder, problem->path);
		json_builder_set_member_name(builder, "message");
		json_builder_add_string_value(builder, problem->message);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}

static void
print_json(const char *file, SgConfig *config, GPtrArray *problems, const GError *error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "file");
	json_builder_add_string_value(builder, file);
	json_builder_set_member_name(builder, "valid");
	json_builder_add_boolean_value(builder, config != NULL);
	json_builder_set_member_name(builder, "error");
	if (error != NULL && problems->len == 0)
		json_builder_add_string_value(builder, error->message);
	else
		json_builder_add_null_value(builder);
	json_builder_set_member_name(builder, "problems");
	json_builder_add_value(builder, problems_to_json(problems));
	json_builder_set_member_name(builder, "services");
	json_builder_begin_array(builder);
	for (guint i = 0; config != NULL && i < config->services->len; i++) {
		const SgServiceConfig *service = g_ptr_array_index(config->services, i);
		json_builder_add_string_value(builder, service->name);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);

	root = json_builder_get_root(builder);
	json_generator_set_root(generator, root);
	json_generator_set_pretty(generator, TRUE);
	text = json_generator_to_data(generator, NULL);
	printf("%s\n", text);
}

int
sg_cmd_validate(int argc, char **argv, SgCliGlobals *globals)
{
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(SgConfig) config = NULL;
	g_autofree char *path = NULL;
	const char *display;

	if (!sg_cli_parse("validate", NULL,
	                  _("Check a configuration file and print every problem."), NULL, &argc,
	                  &argv, globals))
		return EXIT_USAGE;
	if (argc > 1) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[1]);
		fprintf(stderr, "%s\n", _("Try 'sysg validate --help'."));
		return EXIT_USAGE;
	}

	/* validate checks the file it is given or finds, never the running supervisor's. */
	path = sg_config_discover(globals->config, NULL, &error);
	if (path != NULL) {
		display = path;
		config = sg_config_load(path, display, NULL, problems, &error);
	}
	display = path != NULL ? path : "";

	if (globals->json) {
		print_json(display, config, problems, error);
	} else {
		for (guint i = 0; i < problems->len; i++) {
			g_autofree char *line = sg_problem_format(g_ptr_array_index(problems, i));
			fprintf(stderr, "%s\n", line);
		}
		if (config != NULL)
			printf(g_dngettext(GETTEXT_PACKAGE, "%s: valid, %u service\n",
			                   "%s: valid, %u services\n", config->services->len),
			       display, config->services->len);
		else if (problems->len == 0 && error != NULL)
			sg_cli_error("%s", error->message);
	}
	if (config != NULL)
		return 0;
	return error != NULL && error->domain == SG_ERROR
	               ? sg_error_exit_code(error->code)
	               : sg_error_exit_code(SG_ERROR_INVALID_CONFIG);
}
