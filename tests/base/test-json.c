/* SPDX-License-Identifier: MIT */
/* Tests of the shared JSON: the reader's limits, nullable members, RFC 3339 times. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "base/sg-error.h"
#include "base/sg-json.h"

#define NO_SIZE_LIMIT G_MAXSIZE

static JsonNode *
parse(const char *text, GError **error)
{
	return sg_json_parse(text, strlen(text), NO_SIZE_LIMIT, SG_JSON_PARSE_DEFAULT, error);
}

/* text is refused with code, the message holding expected (the place and the reason). */
static void
assert_refused(const char *text, SgErrorCode code, const char *expected)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = parse(text, &error);

	if (root != NULL)
		g_error("accepted: %s", text);
	g_assert_error(error, SG_ERROR, (int)code);
	if (strstr(error->message, expected) == NULL)
		g_error("refusing %s: \"%s\" does not say \"%s\"", text, error->message, expected);
}

static void
assert_accepted(const char *text)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = parse(text, &error);

	g_assert_no_error(error);
	g_assert_nonnull(root);
}

static char *
nested(guint depth, const char *inside)
{
	g_autofree char *open = g_strnfill(depth, '[');
	g_autofree char *close = g_strnfill(depth, ']');

	return g_strconcat(open, inside, close, NULL);
}

static void
test_parse_depth(void)
{
	g_autofree char *deepest = nested(SG_JSON_MAX_DEPTH, "1");
	g_autofree char *too_deep = nested(SG_JSON_MAX_DEPTH + 1, "1");
	g_autofree char *hostile = nested(100000, "");
	g_autofree char *in_string = g_strdup_printf("[\"%s\"]", hostile);
	g_autofree char *objects = NULL;
	GString *text = g_string_new("{\"services\": ");

	assert_accepted(deepest);
	assert_refused(too_deep, SG_ERROR_LIMIT, "line 1, column 65: nested deeper than 64");
	/* What crashed json-glib: refused before it recurses. */
	assert_refused(hostile, SG_ERROR_LIMIT, "nested deeper than 64 levels");
	/* Brackets in strings are text, and an escaped quote does not end a string. */
	assert_accepted(in_string);
	assert_accepted("[\"\\\"[[[[\", \"]]]\\\\\"]");
	for (guint i = 0; i < 100; i++)
		g_string_append(text, "{\"a\": ");
	g_string_append(text, "1");
	for (guint i = 0; i < 101; i++)
		g_string_append_c(text, '}');
	objects = g_string_free(text, FALSE);
	assert_refused(objects, SG_ERROR_LIMIT, "column 392: nested deeper");
}

static void
test_parse_tokens(void)
{
	/* json-glib extensions that would let a quote hide brackets from the scan. */
	assert_refused("/* \" */ [1]", SG_ERROR_CORRUPT, "column 1: unexpected character '/'");
	assert_refused("['\"', [[1]], '\"']", SG_ERROR_CORRUPT, "unexpected character '''");
	assert_refused("[0x10]", SG_ERROR_CORRUPT, "column 3: unexpected character 'x'");
	assert_refused("[NaN]", SG_ERROR_CORRUPT, "unexpected character 'N'");
	assert_refused("[nul]", SG_ERROR_CORRUPT, "unexpected word");
	assert_refused("[\"a\x01b\"]", SG_ERROR_CORRUPT, "control character in a string");
	assert_refused("[\"a\\xb\"]", SG_ERROR_CORRUPT, "invalid escape");
	assert_refused("[\"a", SG_ERROR_CORRUPT, "column 2: unterminated string");
	assert_refused("[\"\xff\"]", SG_ERROR_CORRUPT, "column 3: not valid UTF-8");
	assert_refused("[\"\xc3\xa9\", \xc3\xa9]", SG_ERROR_CORRUPT,
	               "column 7: unexpected character U+00E9");
	/* json-glib would cut "web\u0000x" to "web", or keep half a surrogate pair. */
	assert_refused("[\"web\\u0000x\"]", SG_ERROR_CORRUPT, "\\u0000 in a string");
	assert_refused("[\"\\ud800\"]", SG_ERROR_CORRUPT, "unpaired surrogate");
	assert_refused("[\"\\ud800\\u0041\"]", SG_ERROR_CORRUPT, "unpaired surrogate");
	assert_refused("[\"\\udc00\"]", SG_ERROR_CORRUPT, "unpaired surrogate");
	assert_refused("[\"\\u12\"]", SG_ERROR_CORRUPT, "invalid \\u escape");
	assert_accepted("[\"\\ud83d\\ude00 \\u00e9 \\n\\t\\/\\b\\f\\r\"]");
	assert_accepted("\xef\xbb\xbf{\"a\": true, \"b\": false, \"c\": null}");
	/* The grammar is json-glib's, with its place. */
	assert_refused("{\"a\": 1,}", SG_ERROR_CORRUPT, "line 1, column");
	assert_refused("[1] [2]", SG_ERROR_CORRUPT, "column 5: text after the JSON value");
	assert_refused("{\"a\": 1} trailing", SG_ERROR_CORRUPT, "column 10: text after");
	assert_refused("[1]]", SG_ERROR_CORRUPT, "column 4: text after");
	assert_refused("1 2", SG_ERROR_CORRUPT, "column 3: text after");
	assert_refused("[1]]]]]]]]]]]]]]]]]", SG_ERROR_CORRUPT, "column 4: text after");
	assert_refused("]]]]]]]]]]]]]", SG_ERROR_CORRUPT, "line 1, column");
	assert_accepted("  {\"a\": [1, {\"b\": \"c\"}]}  \n");
	assert_refused("\n\n  [1,\n   01]", SG_ERROR_CORRUPT, "line 4, column 4: invalid number");
	assert_refused("", SG_ERROR_CORRUPT, "empty");
	assert_refused(" \n", SG_ERROR_CORRUPT, "empty");
}

/* json-glib quotes a token cut at a byte count: the message must still be UTF-8. */
static void
test_parse_error_is_utf8(void)
{
	g_autoptr(GString) text = g_string_new("{\"");
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;

	for (guint i = 0; i < 40; i++)
		g_string_append(text, "\xc3\xa9");
	g_string_append(text, "\" 1}");
	root = parse(text->str, &error);
	g_assert_null(root);
	g_assert_error(error, SG_ERROR, SG_ERROR_CORRUPT);
	g_assert_true(g_utf8_validate(error->message, -1, NULL));
	g_assert_nonnull(strstr(error->message, "line 1, column"));
}

static void
test_parse_nul(void)
{
	static const char text[] = "[1,\0[[[[";
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root =
	        sg_json_parse(text, sizeof(text) - 1, NO_SIZE_LIMIT, SG_JSON_PARSE_DEFAULT, &error);

	g_assert_null(root);
	g_assert_error(error, SG_ERROR, SG_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message, "column 4: NUL byte"));
}

static void
test_parse_numbers(void)
{
	static const char *const malformed[] = { "[01]", "[1.]", "[.5]",   "[-]",
		                                 "[1e]", "[+1]", "[1.5.2]" };
	g_autoptr(JsonNode) extremes = NULL;
	JsonArray *array;

	/* 1e999 would be inf, written back as "inf.0"; 2^64 would wrap to -1. */
	assert_refused("{\"id\": 1e999}", SG_ERROR_CORRUPT, "column 8: number out of range");
	assert_refused("[-1e999]", SG_ERROR_CORRUPT, "number out of range");
	assert_refused("[1e17]", SG_ERROR_CORRUPT, "number out of range");
	assert_refused("[9007199254740993.5]", SG_ERROR_CORRUPT, "number out of range");
	/* json-glib would write these back as "1e-300.0" and "5e-05.0". */
	assert_refused("[1e-300]", SG_ERROR_CORRUPT, "number out of range");
	assert_refused("[-0.00005]", SG_ERROR_CORRUPT, "number out of range");
	assert_refused("[18446744073709551615]", SG_ERROR_CORRUPT, "integer out of range");
	assert_refused("[9223372036854775808]", SG_ERROR_CORRUPT, "integer out of range");
	assert_refused("[-9223372036854775809]", SG_ERROR_CORRUPT, "integer out of range");
	for (guint i = 0; i < G_N_ELEMENTS(malformed); i++)
		assert_refused(malformed[i], SG_ERROR_CORRUPT, "line 1, column 2: ");
	assert_accepted("[1e-999, 0.5, -0, -0.0, 1E+2, 9007199254740992.0, 0.0001, -1e-4]");

	extremes = parse("[9223372036854775807, -9223372036854775808]", NULL);
	g_assert_nonnull(extremes);
	array = json_node_get_array(extremes);
	g_assert_cmpint(json_array_get_int_element(array, 0), ==, G_MAXINT64);
	g_assert_cmpint(json_array_get_int_element(array, 1), ==, G_MININT64);
}

static void
test_parse_size(void)
{
	static const char text[] = "{\"a\": [1, 2, 3]}";
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) cut = NULL;
	g_autoptr(JsonNode) over = NULL;
	g_autoptr(JsonNode) fits = NULL;
	g_autoptr(JsonNode) shared = NULL;

	/* Not NUL-terminated: only length bytes count. */
	cut = sg_json_parse(text, 8, 8, SG_JSON_PARSE_DEFAULT, &error);
	g_assert_null(cut);
	g_assert_error(error, SG_ERROR, SG_ERROR_CORRUPT);
	g_clear_error(&error);
	over = sg_json_parse(text, strlen(text), strlen(text) - 1, SG_JSON_PARSE_DEFAULT, &error);
	g_assert_null(over);
	g_assert_error(error, SG_ERROR, SG_ERROR_LIMIT);
	g_assert_nonnull(strstr(error->message, "larger than 15 bytes"));
	g_clear_error(&error);
	fits = sg_json_parse(text, strlen(text), strlen(text), SG_JSON_PARSE_DEFAULT, &error);
	g_assert_no_error(error);
	g_assert_false(json_node_is_immutable(fits));
	shared = sg_json_parse(text, strlen(text), strlen(text), SG_JSON_PARSE_IMMUTABLE, &error);
	g_assert_no_error(error);
	g_assert_true(json_node_is_immutable(shared));
}

static char *
to_text(JsonBuilder *builder)
{
	g_autoptr(JsonNode) root = json_builder_get_root(builder);

	return json_to_string(root, FALSE);
}

static void
test_format_time(void)
{
	g_autofree char *exact = sg_json_format_time(1769873400123456);
	g_autofree char *whole = sg_json_format_time(1769873400000000);

	g_assert_cmpstr(exact, ==, "2026-01-31T15:30:00.123456Z");
	g_assert_cmpstr(whole, ==, "2026-01-31T15:30:00.000000Z");
	g_assert_null(sg_json_format_time(0));
	g_assert_null(sg_json_format_time(-1));
}

static void
test_builder(void)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree char *text = NULL;

	json_builder_begin_object(builder);
	sg_json_builder_add_string_or_null(builder, "s", "x");
	sg_json_builder_add_string_or_null(builder, "sn", NULL);
	sg_json_builder_add_int_or_null(builder, "i", -3, TRUE);
	sg_json_builder_add_int_or_null(builder, "in", 7, FALSE);
	sg_json_builder_add_time(builder, "t", 1769873400000001);
	sg_json_builder_add_time(builder, "tn", 0);
	json_builder_end_object(builder);
	text = to_text(builder);
	g_assert_cmpstr(text, ==,
	                "{\"s\":\"x\",\"sn\":null,\"i\":-3,\"in\":null,"
	                "\"t\":\"2026-01-31T15:30:00.000001Z\",\"tn\":null}");
}

static void
test_object(void)
{
	g_autoptr(JsonNode) root =
	        json_from_string("{\"o\": {\"s\": \"v\", \"n\": 1, \"a\": [1]}, \"x\": 2}", NULL);
	JsonObject *top = json_node_get_object(root);
	JsonObject *o = sg_json_root_get_object(root, "o");
	g_autoptr(JsonObject) to = json_object_new();
	g_autoptr(JsonNode) scalar = json_from_string("3", NULL);

	g_assert_nonnull(o);
	g_assert_true(sg_json_object_get_object(top, "o") == o);
	g_assert_null(sg_json_object_get_object(top, "x"));
	g_assert_null(sg_json_object_get_object(top, "missing"));
	g_assert_null(sg_json_object_get_object(NULL, "o"));
	g_assert_null(sg_json_root_get_object(scalar, "o"));
	g_assert_null(sg_json_root_get_object(NULL, "o"));

	/* Edited files may hold anything: another type reads as missing. */
	g_assert_cmpstr(sg_json_object_get_string(o, "s"), ==, "v");
	g_assert_null(sg_json_object_get_string(o, "n"));
	g_assert_null(sg_json_object_get_string(o, "a"));
	g_assert_null(sg_json_object_get_string(o, "missing"));
	g_assert_null(sg_json_object_get_string(NULL, "s"));

	sg_json_object_set_string_or_null(to, "s", "w");
	sg_json_object_set_string_or_null(to, "sn", NULL);
	sg_json_object_copy_member(to, o, "a");
	sg_json_object_copy_member(to, o, "missing");
	sg_json_object_copy_member(to, NULL, "none");
	g_assert_cmpstr(json_object_get_string_member(to, "s"), ==, "w");
	g_assert_true(json_object_get_null_member(to, "sn"));
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(to, "a")), ==, 1);
	g_assert_true(json_object_has_member(o, "a"));
	g_assert_true(json_object_get_null_member(to, "missing"));
	g_assert_true(json_object_get_null_member(to, "none"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/sg/json/parse-depth", test_parse_depth);
	g_test_add_func("/sg/json/parse-tokens", test_parse_tokens);
	g_test_add_func("/sg/json/parse-nul", test_parse_nul);
	g_test_add_func("/sg/json/parse-error-is-utf8", test_parse_error_is_utf8);
	g_test_add_func("/sg/json/parse-numbers", test_parse_numbers);
	g_test_add_func("/sg/json/parse-size", test_parse_size);
	g_test_add_func("/sg/json/format-time", test_format_time);
	g_test_add_func("/sg/json/builder", test_builder);
	g_test_add_func("/sg/json/object", test_object);
	return g_test_run();
}
