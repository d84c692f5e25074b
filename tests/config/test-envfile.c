/* SPDX-License-Identifier: MIT */
/* Tests of the env-file grammar: every accepted form, every error with its line, files. */
#include "config.h"

#include "config/sg-envfile.h"
#include "base/sg-error.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

/* Parses text and checks the result against key, value, ... NULL. */
static void G_GNUC_NULL_TERMINATED
assert_vars(const char *text, ...)
{
	g_autoptr(GPtrArray) vars = NULL;
	g_autoptr(GError) error = NULL;
	int line = -1;
	va_list args;
	guint i = 0;
	const char *expected;

	g_assert_true(sg_envfile_parse_data(text, strlen(text), "t.env", &vars, &line, &error));
	g_assert_no_error(error);
	g_assert_cmpint(line, ==, 0);
	g_assert_nonnull(vars);

	va_start(args, text);
	while ((expected = va_arg(args, const char *)) != NULL) {
		g_assert_cmpuint(i, <, vars->len);
		g_assert_cmpstr(g_ptr_array_index(vars, i), ==, expected);
		i++;
	}
	va_end(args);
	g_assert_cmpuint(i, ==, vars->len);
}

static void
assert_error_len(const char *data, gsize length, int expected_line, const char *expected_message)
{
	g_autoptr(GPtrArray) vars = NULL;
	g_autoptr(GError) error = NULL;
	int line = -1;

	g_assert_false(sg_envfile_parse_data(data, length, "t.env", &vars, &line, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
	g_assert_cmpstr(error->message, ==, expected_message);
	g_assert_cmpint(line, ==, expected_line);
	g_assert_null(vars);
}

static void
assert_error(const char *text, int expected_line, const char *expected_message)
{
	assert_error_len(text, strlen(text), expected_line, expected_message);
}

static void
test_basic(void)
{
	assert_vars("", NULL);
	assert_vars("\n\n   \n\t\n", NULL);
	assert_vars("A=1\nB=two\n", "A", "1", "B", "two", NULL);
	assert_vars("A=1", "A", "1", NULL);
	assert_vars("_a_9=x\n", "_a_9", "x", NULL);
	assert_vars("EMPTY=\nNEXT=1\n", "EMPTY", "", "NEXT", "1", NULL);
	assert_vars("EMPTY=   \n", "EMPTY", "", NULL);
}

static void
test_comments(void)
{
	assert_vars("# heading\nA=1\n  # indented\n\t# tab\n#B=2\n", "A", "1", NULL);
	assert_vars("#\n", NULL);
}

static void
test_export(void)
{
	assert_vars("export A=1\n", "A", "1", NULL);
	assert_vars("export\t  B = 2\n", "B", "2", NULL);
	assert_vars("  export C='3'\n", "C", "3", NULL);
	/* Without a blank after it, export is an ordinary key. */
	assert_vars("export=1\n", "export", "1", NULL);
	assert_vars("exportX=1\n", "exportX", "1", NULL);
}

static void
test_single_quotes(void)
{
	assert_vars("A='hello world'\n", "A", "hello world", NULL);
	assert_vars("A='a\\nb \\\\ \"q\" $HOME #x'\n", "A", "a\\nb \\\\ \"q\" $HOME #x", NULL);
	assert_vars("A=''\n", "A", "", NULL);
	assert_vars("A='  padded  '\n", "A", "  padded  ", NULL);
}

static void
test_double_quotes(void)
{
	assert_vars("A=\"hello world\"\n", "A", "hello world", NULL);
	assert_vars("A=\"\"\n", "A", "", NULL);
	assert_vars("A=\"it's\"\n", "A", "it's", NULL);
	assert_vars("A=\"  padded  \"\n", "A", "  padded  ", NULL);
}

static void
test_escapes(void)
{
	assert_vars("A=\"line1\\nline2\"\n", "A", "line1\nline2", NULL);
	assert_vars("A=\"say \\\"hi\\\"\"\n", "A", "say \"hi\"", NULL);
	assert_vars("A=\"back\\\\slash\"\n", "A", "back\\slash", NULL);
	assert_vars("A=\"end\\\\\"\n", "A", "end\\", NULL);
	/* Other backslash sequences stay literal. */
	assert_vars("A=\"a\\tb\\$c\\'d\"\n", "A", "a\\tb\\$c\\'d", NULL);
	/* Bare values have no escapes at all. */
	assert_vars("A=a\\nb\n", "A", "a\\nb", NULL);
}

static void
test_after_quote(void)
{
	assert_vars("A=\"x\"   \n", "A", "x", NULL);
	assert_vars("A=\"x\" # note\n", "A", "x", NULL);
	assert_vars("A='x'\t#note\n", "A", "x", NULL);
	assert_error("A=\"x\"y\n", 1, "t.env:1: unexpected text after the closing quote");
	assert_error("A='x'#c\n", 1, "t.env:1: unexpected text after the closing quote");
	assert_error("OK=1\nA=\"x\" \"y\"\n", 2,
	             "t.env:2: unexpected text after the closing quote");
}

static void
test_equals_in_value(void)
{
	assert_vars("A=b=c\n", "A", "b=c", NULL);
	assert_vars("URL=http://h/?a=1&b=2\n", "URL", "http://h/?a=1&b=2", NULL);
	assert_vars("A==\n", "A", "=", NULL);
}

static void
test_blanks(void)
{
	assert_vars("A = 1\n", "A", "1", NULL);
	assert_vars("  A\t=\t1  \t\n", "A", "1", NULL);
	assert_vars("A=one two  three   \n", "A", "one two  three", NULL);
	assert_vars("A =   'x'\n", "A", "x", NULL);
}

static void
test_crlf(void)
{
	assert_vars("A=1\r\nB=\"2\"\r\n# c\r\n\r\nC='3'\r\n", "A", "1", "B", "2", "C", "3", NULL);
	assert_vars("A=1\r", "A", "1", NULL);
	assert_vars("A=1 \r\n", "A", "1", NULL);
}

static void
test_bom(void)
{
	assert_vars("\xEF\xBB\xBF"
	            "A=1\n",
	            "A", "1", NULL);
	assert_vars("\xEF\xBB\xBF", NULL);
	/* Only a leading BOM is skipped. */
	assert_error("A=1\n\xEF\xBB\xBF"
	             "B=2\n",
	             2,
	             "t.env:2: invalid key \"\xEF\xBB\xBF"
	             "B\"");
}

static void
test_duplicates(void)
{
	assert_vars("A=1\nB=2\nA=3\nC=4\nA=5\n", "A", "5", "B", "2", "C", "4", NULL);
	assert_vars("A=1\nexport A='x'\n", "A", "x", NULL);
}

static void
test_hash_in_bare(void)
{
	assert_vars("A=foo#bar\n", "A", "foo#bar", NULL);
	assert_vars("A=foo # not a comment\n", "A", "foo # not a comment", NULL);
	assert_vars("A=#x\n", "A", "#x", NULL);
	assert_vars("COLOR=#ff0000\n", "COLOR", "#ff0000", NULL);
}

static void
test_no_expansion(void)
{
	assert_vars("A=$HOME\nB=\"${HOME}/x\"\nC='$PATH'\nD=$(id)\nE=~\n", "A", "$HOME", "B",
	            "${HOME}/x", "C", "$PATH", "D", "$(id)", "E", "~", NULL);
}

static void
test_utf8(void)
{
	assert_vars("A=caf\xC3\xA9 \xE2\x9C\x93\n", "A", "caf\xC3\xA9 \xE2\x9C\x93", NULL);
}

static void
test_errors(void)
{
	assert_error("OK=1\n1X=y\n", 2, "t.env:2: invalid key \"1X\"");
	assert_error("A-B=1\n", 1, "t.env:1: invalid key \"A-B\"");
	assert_error("A B=1\n", 1, "t.env:1: invalid key \"A B\"");
	assert_error("export A B=1\n", 1, "t.env:1: invalid key \"A B\"");
	assert_error("\n\n\nA=\"abc\n", 4, "t.env:4: unterminated double quote");
	assert_error("A=\"abc\\\"\n", 1, "t.env:1: unterminated double quote");
	assert_error("A=\"abc\\", 1, "t.env:1: unterminated double quote");
	assert_error("# c\nA='abc\nB=1'\n", 2, "t.env:2: unterminated single quote");
	assert_error("A=1\nJUSTAWORD\n", 2, "t.env:2: expected KEY=VALUE");
	assert_error("export\n", 1, "t.env:1: expected KEY=VALUE");
	assert_error("export FOO\n", 1, "t.env:1: expected KEY=VALUE");
	assert_error("A=1\r\nB=2\r\n=3\r\n", 3, "t.env:3: empty key");
	assert_error("  = 3\n", 1, "t.env:1: empty key");
	assert_error("export =3\n", 1, "t.env:1: empty key");
	/* The first error wins, even when later lines are also wrong. */
	assert_error("A=1\n2=2\n3=3\n", 2, "t.env:2: invalid key \"2\"");
}

static void
test_nul(void)
{
	static const char data[] = "A=1\nB=x\0y\nC=3\n";

	assert_error_len(data, sizeof(data) - 1, 2, "t.env:2: NUL byte");
	/* Even in a comment. */
	assert_error_len("#\0\n", 3, 1, "t.env:1: NUL byte");
}

static void
test_invalid_utf8(void)
{
	assert_error("A=1\nB=\xC3\x28\n", 2, "t.env:2: invalid UTF-8");
	assert_error("# \xFF\n", 1, "t.env:1: invalid UTF-8");
}

static void
test_too_large(void)
{
	gsize size = SG_ENVFILE_MAX_BYTES + 1;
	g_autofree char *data = g_malloc(size);
	g_autofree char *message =
	        g_strdup_printf("t.env: larger than %d bytes", SG_ENVFILE_MAX_BYTES);
	g_autoptr(GPtrArray) vars = NULL;
	g_autoptr(GError) error = NULL;
	int line = -1;

	memset(data, '#', size);
	assert_error_len(data, size, 0, message);

	/* Exactly at the limit is accepted. */
	data[size - 2] = '\n';
	g_assert_true(sg_envfile_parse_data(data, size - 1, "t.env", &vars, &line, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(vars->len, ==, 0);
}

static char *
write_temp_file(const char *name, const char *contents, gssize length)
{
	g_autofree char *dir = g_build_filename(g_get_user_data_dir(), "envfile", NULL);
	char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_file_set_contents(path, contents, length, &error);
	g_assert_no_error(error);
	return path;
}

static void
test_file(void)
{
	g_autofree char *path = write_temp_file("ok.env", "# c\nexport A=1\nB='2'\n", -1);
	g_autoptr(GPtrArray) vars = NULL;
	g_autoptr(GError) error = NULL;
	int line = -1;

	g_assert_true(sg_envfile_parse_file(path, "ok.env", &vars, &line, &error));
	g_assert_no_error(error);
	g_assert_cmpint(line, ==, 0);
	g_assert_cmpuint(vars->len, ==, 4);
	g_assert_cmpstr(g_ptr_array_index(vars, 0), ==, "A");
	g_assert_cmpstr(g_ptr_array_index(vars, 3), ==, "2");
}

static void
test_file_error_names_file(void)
{
	g_autofree char *path = write_temp_file("bad.env", "A=1\n\nB=\"x\n", -1);
	g_autofree char *expected = NULL;
	g_autoptr(GPtrArray) vars = NULL;
	g_autoptr(GError) error = NULL;
	int line = -1;

	g_assert_false(sg_envfile_parse_file(path, "conf/bad.env", &vars, &line, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
	g_assert_cmpstr(error->message, ==, "conf/bad.env:3: unterminated double quote");
	g_assert_cmpint(line, ==, 3);
	g_assert_null(vars);
	g_clear_error(&error);

	/* Without a display name the path is used. */
	g_assert_false(sg_envfile_parse_file(path, NULL, &vars, &line, &error));
	expected = g_strdup_printf("%s:3: unterminated double quote", path);
	g_assert_cmpstr(error->message, ==, expected);
}

static void
test_file_too_large(void)
{
	gsize size = SG_ENVFILE_MAX_BYTES + 10;
	g_autofree char *data = g_malloc(size);
	g_autofree char *path = NULL;
	g_autofree char *message =
	        g_strdup_printf("big.env: larger than %d bytes", SG_ENVFILE_MAX_BYTES);
	g_autoptr(GPtrArray) vars = NULL;
	g_autoptr(GError) error = NULL;
	int line = -1;

	memset(data, '#', size);
	path = write_temp_file("big.env", data, size);
	g_assert_false(sg_envfile_parse_file(path, "big.env", &vars, &line, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
	g_assert_cmpstr(error->message, ==, message);
	g_assert_cmpint(line, ==, 0);
}

static void
test_missing_file(void)
{
	g_autofree char *path = g_build_filename(g_get_user_data_dir(), "does-not-exist.env", NULL);
	g_autofree char *expected = g_strdup_printf("missing.env: %s", g_strerror(ENOENT));
	g_autoptr(GPtrArray) vars = NULL;
	g_autoptr(GError) error = NULL;
	int line = -1;

	g_assert_false(sg_envfile_parse_file(path, "missing.env", &vars, &line, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
	g_assert_cmpstr(error->message, ==, expected);
	g_assert_cmpint(line, ==, 0);
	g_assert_null(vars);
}

static void
test_key_is_valid(void)
{
	g_assert_true(sg_envfile_key_is_valid("A"));
	g_assert_true(sg_envfile_key_is_valid("_"));
	g_assert_true(sg_envfile_key_is_valid("a_B_9"));
	g_assert_false(sg_envfile_key_is_valid(""));
	g_assert_false(sg_envfile_key_is_valid("9A"));
	g_assert_false(sg_envfile_key_is_valid("A-B"));
	g_assert_false(sg_envfile_key_is_valid("A.B"));
	g_assert_false(sg_envfile_key_is_valid("\xC3\xA9"));
	g_assert_false(sg_envfile_key_is_valid(NULL));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/sg/envfile/basic", test_basic);
	g_test_add_func("/sg/envfile/comments", test_comments);
	g_test_add_func("/sg/envfile/export", test_export);
	g_test_add_func("/sg/envfile/single-quotes", test_single_quotes);
	g_test_add_func("/sg/envfile/double-quotes", test_double_quotes);
	g_test_add_func("/sg/envfile/escapes", test_escapes);
	g_test_add_func("/sg/envfile/after-quote", test_after_quote);
	g_test_add_func("/sg/envfile/equals-in-value", test_equals_in_value);
	g_test_add_func("/sg/envfile/blanks", test_blanks);
	g_test_add_func("/sg/envfile/crlf", test_crlf);
	g_test_add_func("/sg/envfile/bom", test_bom);
	g_test_add_func("/sg/envfile/duplicates", test_duplicates);
	g_test_add_func("/sg/envfile/hash-in-bare", test_hash_in_bare);
	g_test_add_func("/sg/envfile/no-expansion", test_no_expansion);
	g_test_add_func("/sg/envfile/utf8", test_utf8);
	g_test_add_func("/sg/envfile/errors", test_errors);
	g_test_add_func("/sg/envfile/nul", test_nul);
	g_test_add_func("/sg/envfile/invalid-utf8", test_invalid_utf8);
	g_test_add_func("/sg/envfile/too-large", test_too_large);
	g_test_add_func("/sg/envfile/file", test_file);
	g_test_add_func("/sg/envfile/file-error-names-file", test_file_error_names_file);
	g_test_add_func("/sg/envfile/file-too-large", test_file_too_large);
	g_test_add_func("/sg/envfile/missing-file", test_missing_file);
	g_test_add_func("/sg/envfile/key-is-valid", test_key_is_valid);

	return g_test_run();
}
