/* SPDX-License-Identifier: MIT */
/* Tests of the YAML tag policy: the core schema's tags pass, any other is refused where it is. */
#include "config.h"

#include "config/sg-problem.h"
#include "config/sg-yaml-tag.h"
#include "config/sg-yaml.h"

#include <glib.h>
#include <string.h>

#define ONLY "only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are allowed"

static GPtrArray *
problems_of(const char *text)
{
	GPtrArray *problems = sg_problem_list_new();
	g_autoptr(SgYamlNode) root = sg_yaml_load_data(text, strlen(text), "t.yaml", problems);

	g_assert_true((root == NULL) == (problems->len > 0));
	return problems;
}

static void
assert_only_problem(GPtrArray *problems, int line, int column, const char *path,
                    const char *message)
{
	const SgProblem *problem;

	g_assert_cmpuint(problems->len, ==, 1);
	problem = problems->pdata[0];
	g_assert_cmpstr(problem->message, ==, message);
	g_assert_cmpstr(problem->path, ==, path);
	g_assert_cmpint(problem->line, ==, line);
	g_assert_cmpint(problem->column, ==, column);
}

static void
test_core_tags_pass(void)
{
	g_autoptr(GPtrArray) problems = problems_of("a: !!str 8080\n"
	                                            "b: !!int 3\n"
	                                            "c: !!float 0.5\n"
	                                            "d: !!bool true\n"
	                                            "e: !!null\n"
	                                            "f: !<tag:yaml.org,2002:str> x\n"
	                                            "g: !!map {k: v}\n"
	                                            "h: !!seq [1]\n"
	                                            "base: &base {x: 1}\n"
	                                            "i: {!!merge <<: *base, y: 2}\n");

	g_assert_cmpuint(problems->len, ==, 0);
}

static void
test_unknown_tag_refused(void)
{
	g_autoptr(GPtrArray) include =
	        problems_of("services:\n  web:\n    command: !include /etc/passwd\n");
	g_autoptr(GPtrArray) local = problems_of("a: [1, !secret x]\n");
	g_autoptr(GPtrArray) other = problems_of("a: !<tag:example.com,2000:app> {b: 1}\n");
	g_autoptr(GPtrArray) core = problems_of("a: !!binary aGk=\n");
	g_autoptr(GPtrArray) bare = problems_of("a: ! x\n");

	assert_only_problem(include, 3, 14, "services.web.command",
	                    "unknown tag \"!include\": " ONLY);
	assert_only_problem(local, 1, 8, "a[1]", "unknown tag \"!secret\": " ONLY);
	assert_only_problem(other, 1, 4, "a", "unknown tag \"!<tag:example.com,2000:app>\": " ONLY);
	assert_only_problem(core, 1, 4, "a", "unknown tag \"!!binary\": " ONLY);
	assert_only_problem(bare, 1, 4, "a", "unknown tag \"!\": " ONLY);
}

static void
test_kind_mismatch(void)
{
	g_autoptr(GPtrArray) map_on_scalar = problems_of("a: !!map x\n");
	g_autoptr(GPtrArray) str_on_seq = problems_of("a: !!str [x]\n");
	g_autoptr(GPtrArray) merge_elsewhere = problems_of("a: !!merge x\n");

	assert_only_problem(map_on_scalar, 1, 4, "a",
	                    "the tag \"!!map\" cannot be put on a scalar");
	assert_only_problem(str_on_seq, 1, 4, "a", "the tag \"!!str\" cannot be put on a sequence");
	assert_only_problem(merge_elsewhere, 1, 4, "a",
	                    "the tag \"!!merge\" cannot be put on a scalar");
}

/* A typed scalar means what the same plain scalar means; !!str keeps a scalar a string. */
static void
test_typed_scalars(void)
{
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	const char *text = "a: !!bool \"true\"\nb: !!int '3'\nc: !!null\nd: !!str true\n";
	g_autoptr(SgYamlNode) root = sg_yaml_load_data(text, strlen(text), "t.yaml", problems);
	g_autoptr(GPtrArray) bad_int = problems_of("a: !!int x\n");
	g_autoptr(GPtrArray) bad_bool = problems_of("a: !!bool yes\n");
	g_autoptr(GPtrArray) good_float = problems_of("a: !!float -0.5\nb: !!float .inf\n");
	SgYamlNode *a, *b, *d;

	g_assert_nonnull(root);
	a = sg_yaml_mapping_lookup(root, "a")->value;
	b = sg_yaml_mapping_lookup(root, "b")->value;
	d = sg_yaml_mapping_lookup(root, "d")->value;
	g_assert_null(a->tag);
	g_assert_false(a->quoted);
	g_assert_cmpstr(a->value, ==, "true");
	g_assert_false(b->quoted);
	g_assert_true(sg_yaml_node_is_null(sg_yaml_mapping_lookup(root, "c")->value));
	g_assert_cmpstr(d->tag, ==, "tag:yaml.org,2002:str");
	assert_only_problem(bad_int, 1, 4, "a", "\"x\" is not a value of the tag \"!!int\"");
	assert_only_problem(bad_bool, 1, 4, "a", "\"yes\" is not a value of the tag \"!!bool\"");
	g_assert_cmpuint(good_float->len, ==, 0);
}

static void
test_display(void)
{
	g_autofree char *core = sg_yaml_tag_display("tag:yaml.org,2002:str");
	g_autofree char *local = sg_yaml_tag_display("!include");
	g_autofree char *global = sg_yaml_tag_display("tag:example.com,2000:x");

	g_assert_cmpstr(core, ==, "!!str");
	g_assert_cmpstr(local, ==, "!include");
	g_assert_cmpstr(global, ==, "!<tag:example.com,2000:x>");
	g_assert_null(sg_yaml_tag_check(NULL, SG_YAML_SCALAR, "x"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sg/yaml-tag/core-tags-pass", test_core_tags_pass);
	g_test_add_func("/sg/yaml-tag/unknown-tag-refused", test_unknown_tag_refused);
	g_test_add_func("/sg/yaml-tag/kind-mismatch", test_kind_mismatch);
	g_test_add_func("/sg/yaml-tag/typed-scalars", test_typed_scalars);
	g_test_add_func("/sg/yaml-tag/display", test_display);
	return g_test_run();
}
