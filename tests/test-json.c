/* SPDX-License-Identifier: MIT */
/* Tests of the shared JSON helpers: nullable members, RFC 3339 times, tolerant readers. */
#include "config.h"

#include <glib.h>

#include "sg-json.h"

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
	g_test_add_func("/sg/json/format-time", test_format_time);
	g_test_add_func("/sg/json/builder", test_builder);
	g_test_add_func("/sg/json/object", test_object);
	return g_test_run();
}
