/* SPDX-License-Identifier: MIT */
/* Tests of sg-escape and its users: names, keys and values never reach a terminal raw. */
#include "config.h"

#include "base/sg-escape.h"
#include "config/sg-problem.h"

#include <glib.h>

static void
check(const char *text, SgEscapeFlags flags, const char *expected)
{
	g_autoptr(GString) out = g_string_new("<");

	sg_escape_append(out, text, -1, flags);
	g_string_append_c(out, '>');
	g_assert_cmpstr(out->str, ==, expected);
}

static void
test_controls(void)
{
	check("plain ascii, é and 日本", SG_ESCAPE_DEFAULT, "<plain ascii, é and 日本>");
	check("col\x1b[31mor", SG_ESCAPE_DEFAULT, "<col\\x1b[31mor>");
	check("two\nlines\r\tend", SG_ESCAPE_DEFAULT, "<two\\nlines\\r\\tend>");
	check("a\tb", SG_ESCAPE_KEEP_TAB, "<a\tb>");
	check("del\x7f bell\a", SG_ESCAPE_DEFAULT, "<del\\x7f bell\\x07>");
	/* C1 controls, written as UTF-8, are escape sequences to some terminals. */
	check("csi\xc2\x9b"
	      "2J",
	      SG_ESCAPE_DEFAULT, "<csi\\u009b2J>");
	/* Not UTF-8: every stray byte visible, the rest kept. */
	check("bad\xff\xfe ok", SG_ESCAPE_DEFAULT, "<bad\\xff\\xfe ok>");
	check("cut\xe6\x97", SG_ESCAPE_DEFAULT, "<cut\\xe6\\x97>");
	/* A backslash stays as it is. */
	check("C:\\dir", SG_ESCAPE_DEFAULT, "<C:\\dir>");
	g_assert_null(sg_escape(NULL));
}

static void
test_explicit_length(void)
{
	g_autoptr(GString) out = g_string_new(NULL);

	sg_escape_append(out, "a\0b", 3, SG_ESCAPE_DEFAULT);
	g_assert_cmpstr(out->str, ==, "a\\x00b");
}

/* A problem is one line whatever its file, key path and message quote. */
/* A report of several lines keeps them; every other control is still made visible. */
static void
test_lines(void)
{
	g_autofree char *kept = sg_escape_lines("web failed\n  \x1b[2Jline\r\n");
	g_autofree char *flat = sg_escape("web failed\nnext");

	g_assert_cmpstr(kept, ==, "web failed\n  \\x1b[2Jline\\r\n");
	g_assert_cmpstr(flat, ==, "web failed\\nnext");
}

static void
test_problem_format(void)
{
	g_autoptr(GPtrArray) list = sg_problem_list_new();
	g_autofree char *line = NULL;

	sg_problem_list_add(list, SG_PROBLEM_ERROR, "my\nfile.yaml", 3, 5, "services.a\x1b[2J",
	                    "unknown key \"%s\"", "two\nlines");
	line = sg_problem_format(list->pdata[0]);
	g_assert_cmpstr(line, ==,
	                "my\\nfile.yaml:3:5: services.a\\x1b[2J: unknown key \"two\\nlines\"");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sg/escape/controls", test_controls);
	g_test_add_func("/sg/escape/explicit-length", test_explicit_length);
	g_test_add_func("/sg/escape/lines", test_lines);
	g_test_add_func("/sg/escape/problem-format", test_problem_format);
	return g_test_run();
}
