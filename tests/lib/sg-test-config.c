/* SPDX-License-Identifier: MIT */
/* The fixture the configuration tests share. */
#include "config.h"

#include "lib/sg-test-config.h"

#include <string.h>

#include "base/sg-error.h"
#include "lib/sg-test.h"

static char *default_base_env[] = {
	"PATH=/usr/bin:/bin",
	"HOME=/home/tester",
	"BASE=from-supervisor",
	"NOTIFY_SOCKET=/run/user/1000/systemd/notify",
	"INVOCATION_ID=0123",
	"LISTEN_FDS=3",
	"WATCHDOG_USEC=1000",
	"JOURNAL_STREAM=8:1",
	NULL,
};

void
config_fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("sg-config-XXXXXX", &error);
	g_assert_no_error(error);
	f->path = g_build_filename(f->dir, "systemg.yaml", NULL);
	f->problems = sg_problem_list_new();
	f->base_env = default_base_env;
}

void
config_fixture_tear_down(Fixture *f, gconstpointer data)
{
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
	g_free(f->path);
	g_ptr_array_unref(f->problems);
	g_clear_pointer(&f->config, sg_config_unref);
	g_clear_error(&f->error);
}

void
write_file(Fixture *f, const char *name, const char *content)
{
	g_autofree char *path = g_build_filename(f->dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, content, -1, &error);
	g_assert_no_error(error);
}

SgConfig *
load(Fixture *f, const char *yaml)
{
	g_ptr_array_set_size(f->problems, 0);
	g_clear_pointer(&f->config, sg_config_unref);
	g_clear_error(&f->error);
	g_file_set_contents(f->path, yaml, -1, NULL);
	f->config = sg_config_load(f->path, "c.yaml", f->base_env, f->problems, &f->error);
	return f->config;
}

char *
problems_text(Fixture *f, SgProblemSeverity severity)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < f->problems->len; i++) {
		const SgProblem *p = g_ptr_array_index(f->problems, i);
		g_autofree char *line = NULL;

		if (p->severity != severity)
			continue;
		line = sg_problem_format(p);
		g_assert_true(g_str_has_prefix(line, "c.yaml"));
		g_string_append_printf(out, "%s%s", out->len > 0 ? "\n" : "",
		                       line + strlen("c.yaml:"));
	}
	return g_string_free(out, FALSE);
}

void
assert_valid(Fixture *f, const char *yaml)
{
	if (load(f, yaml) == NULL) {
		g_autofree char *text = problems_text(f, SG_PROBLEM_ERROR);
		g_test_message("unexpected problems:\n%s", text);
		g_assert_not_reached();
	}
	g_assert_no_error(f->error);
}

void
assert_refused(Fixture *f, const char *yaml, const char *expected)
{
	g_auto(GStrv) want = g_strsplit(expected, "\n", -1);
	g_autofree char *text = NULL;
	g_auto(GStrv) got = NULL;

	g_assert_null(load(f, yaml));
	g_assert_error(f->error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
	text = problems_text(f, SG_PROBLEM_ERROR);
	got = g_strsplit(text, "\n", -1);
	if (g_strv_length(got) != g_strv_length(want))
		g_error("expected %u problems:\n%s\ngot:\n%s", g_strv_length(want), expected, text);
	for (guint i = 0; want[i] != NULL; i++)
		if (!g_str_has_prefix(got[i], want[i]))
			g_error("problem %u: expected\n  %s\ngot\n  %s", i, want[i], got[i]);
}

const SgServiceConfig *
service(Fixture *f, const char *name)
{
	const SgServiceConfig *s = sg_config_lookup(f->config, name);

	g_assert_nonnull(s);
	return s;
}

const char *
env_value(const SgServiceConfig *s, const char *name)
{
	return g_environ_getenv(s->env, name);
}
