/* SPDX-License-Identifier: MIT */
/* Tests of simple-command detection, shell quoting and reading the last lines of a file. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>

#include "base/sg-shell.h"
#include "base/sg-tail.h"

static void
test_simple_commands(void)
{
	static const struct {
		const char *command;
		gboolean simple;
	} rows[] = {
		{ "sleep 60", TRUE },
		{ "  ./api --port 8080", TRUE },
		{ "python3 -m http.server $PORT", TRUE },
		{ "echo \"${HOME}\" 'a b'", TRUE },
		{ "echo a\\ b", TRUE },
		{ "ls *.txt", TRUE },
		{ "echo a#b", TRUE },
		{ "run --opt=value", TRUE },
		{ "a | b", FALSE },
		{ "a && b", FALSE },
		{ "a; b", FALSE },
		{ "a & ", FALSE },
		{ "a > log", FALSE },
		{ "a < in", FALSE },
		{ "echo $(date)", FALSE },
		{ "echo `date`", FALSE },
		{ "echo $((1 + 2))", FALSE },
		{ "PORT=1 ./api", FALSE },
		{ "(cd x)", FALSE },
		{ "{ a; }", FALSE },
		{ "if true; then a; fi", FALSE },
		{ "while true", FALSE },
		{ "! a", FALSE },
		{ "exit 0", FALSE },
		{ "cd /tmp", FALSE },
		{ "exec a", FALSE },
		{ ". ./env.sh", FALSE },
		{ "# only a comment", FALSE },
		{ "echo 'unterminated", FALSE },
		{ "a\nb", FALSE },
		{ "", FALSE },
		{ "   ", FALSE },
	};

	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		gboolean got = sg_shell_is_simple_command(rows[i].command);
		if (got != rows[i].simple)
			g_error("\"%s\": expected %s", rows[i].command,
			        rows[i].simple ? "simple" : "compound");
	}
}

static void
test_argv(void)
{
	g_auto(GStrv) simple = sg_shell_argv("sleep 60");
	g_auto(GStrv) compound = sg_shell_argv("a | b");

	g_assert_cmpstr(simple[0], ==, "/bin/sh");
	g_assert_cmpstr(simple[1], ==, "-c");
	g_assert_cmpstr(simple[2], ==, "exec sleep 60");
	g_assert_null(simple[3]);
	g_assert_cmpstr(compound[2], ==, "a | b");
}

static void
test_join(void)
{
	char *argv[] = { "./api", "--name", "a b", "it's", "", "x=1", NULL };
	g_autofree char *joined = sg_shell_join(argv);

	g_assert_cmpstr(joined, ==, "./api --name 'a b' 'it'\\''s' '' x=1");
}

static void
test_tail(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("sg-tail-XXXXXX", &error);
	g_autofree char *path = g_build_filename(dir, "log", NULL);
	g_autofree char *missing = g_build_filename(dir, "missing", NULL);
	GString *text = g_string_new(NULL);
	g_auto(GStrv) last = NULL;
	g_auto(GStrv) none = NULL;
	g_auto(GStrv) partial = NULL;

	/* Enough lines to span several read blocks. */
	for (int i = 1; i <= 5000; i++)
		g_string_append_printf(text, "line %d\n", i);
	g_assert_true(g_file_set_contents(path, text->str, -1, NULL));
	last = sg_tail_lines(path, 3, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_strv_length(last), ==, 3);
	g_assert_cmpstr(last[0], ==, "line 4998");
	g_assert_cmpstr(last[2], ==, "line 5000");

	none = sg_tail_lines(missing, 10, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_strv_length(none), ==, 0);

	/* A final line without a newline counts; fewer lines than asked is fine. */
	g_assert_true(g_file_set_contents(path, "a\nb", -1, NULL));
	partial = sg_tail_lines(path, 10, &error);
	g_assert_cmpuint(g_strv_length(partial), ==, 2);
	g_assert_cmpstr(partial[0], ==, "a");
	g_assert_cmpstr(partial[1], ==, "b");

	g_unlink(path);
	g_rmdir(dir);
	g_string_free(text, TRUE);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sg/shell/simple-commands", test_simple_commands);
	g_test_add_func("/sg/shell/argv", test_argv);
	g_test_add_func("/sg/shell/join", test_join);
	g_test_add_func("/sg/shell/tail", test_tail);
	return g_test_run();
}
