/* SPDX-License-Identifier: MIT */
/* Tests of the YAML loader: positions, anchors, merge keys, duplicates and the limits. */
#include "config.h"

#include "config/sg-problem.h"
#include "config/sg-yaml.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

static SgYamlNode *
load(const char *text, GPtrArray **ret_problems)
{
	*ret_problems = sg_problem_list_new();
	return sg_yaml_load_data(text, strlen(text), "test.yaml", *ret_problems);
}

static void
dump_problems(GPtrArray *problems)
{
	for (guint i = 0; i < problems->len; i++) {
		g_autofree char *text = sg_problem_format(g_ptr_array_index(problems, i));
		g_test_message("problem: %s", text);
	}
}

static void
assert_problem(GPtrArray *problems, guint index, int line, int column, const char *path,
               const char *message)
{
	const SgProblem *problem;

	if (index >= problems->len)
		dump_problems(problems);
	g_assert_cmpuint(index, <, problems->len);
	problem = g_ptr_array_index(problems, index);
	g_assert_cmpint(problem->severity, ==, SG_PROBLEM_ERROR);
	g_assert_cmpstr(problem->file, ==, "test.yaml");
	g_assert_cmpstr(problem->message, ==, message);
	g_assert_cmpstr(problem->path, ==, path);
	g_assert_cmpint(problem->line, ==, line);
	g_assert_cmpint(problem->column, ==, column);
}

static void
assert_at(const SgYamlNode *node, SgYamlKind kind, int line, int column)
{
	g_assert_nonnull(node);
	g_assert_cmpstr(sg_yaml_kind_to_string(node->kind), ==, sg_yaml_kind_to_string(kind));
	g_assert_cmpint(node->line, ==, line);
	g_assert_cmpint(node->column, ==, column);
}

static void
assert_scalar(const SgYamlNode *node, const char *value, gboolean quoted, int line, int column)
{
	assert_at(node, SG_YAML_SCALAR, line, column);
	g_assert_cmpstr(node->value, ==, value);
	g_assert_cmpint(node->quoted, ==, quoted);
}

/* Asserts a key exists and where the key and its value start; returns the value. */
static SgYamlNode *
assert_pair(const SgYamlNode *mapping, const char *key, int key_line, int key_column,
            int value_line, int value_column)
{
	SgYamlPair *pair = sg_yaml_mapping_lookup(mapping, key);

	g_assert_nonnull(pair);
	assert_scalar(pair->key, key, pair->key->quoted, key_line, key_column);
	g_assert_cmpint(pair->value->line, ==, value_line);
	g_assert_cmpint(pair->value->column, ==, value_column);
	return pair->value;
}

static SgYamlNode *
item(const SgYamlNode *node, guint index)
{
	g_assert_cmpint(node->kind, ==, SG_YAML_SEQUENCE);
	g_assert_cmpuint(index, <, node->items->len);
	return g_ptr_array_index(node->items, index);
}

static const char *
key_at(const SgYamlNode *mapping, guint index)
{
	const SgYamlPair *pair;

	g_assert_cmpint(mapping->kind, ==, SG_YAML_MAPPING);
	g_assert_cmpuint(index, <, mapping->items->len);
	pair = g_ptr_array_index(mapping->items, index);
	return pair->key->value;
}

static void
test_positions(void)
{
	const char *text = "plain: value\n"
	                   "double: \"dq\"\n"
	                   "single:   'sq'\n"
	                   "literal: |\n"
	                   "  line one\n"
	                   "  line two\n"
	                   "folded: >-\n"
	                   "  folded\n"
	                   "  text\n"
	                   "flow: [a, \"b\", {c: d}]\n"
	                   "nested:\n"
	                   "  inner:\n"
	                   "    - x\n"
	                   "    - key: 'v'\n"
	                   "empty:\n"
	                   "tagged: !!str 5\n";
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load(text, &problems);
	SgYamlNode *value, *flow, *inner, *map;

	dump_problems(problems);
	g_assert_nonnull(root);
	g_assert_cmpuint(problems->len, ==, 0);
	assert_at(root, SG_YAML_MAPPING, 1, 1);
	g_assert_cmpuint(root->items->len, ==, 9);
	g_assert_cmpstr(key_at(root, 0), ==, "plain");
	g_assert_cmpstr(key_at(root, 8), ==, "tagged");

	value = assert_pair(root, "plain", 1, 1, 1, 8);
	assert_scalar(value, "value", FALSE, 1, 8);
	g_assert_null(value->tag);
	value = assert_pair(root, "double", 2, 1, 2, 9);
	assert_scalar(value, "dq", TRUE, 2, 9);
	value = assert_pair(root, "single", 3, 1, 3, 11);
	assert_scalar(value, "sq", TRUE, 3, 11);
	value = assert_pair(root, "literal", 4, 1, 4, 10);
	assert_scalar(value, "line one\nline two\n", TRUE, 4, 10);
	value = assert_pair(root, "folded", 7, 1, 7, 9);
	assert_scalar(value, "folded text", TRUE, 7, 9);

	flow = assert_pair(root, "flow", 10, 1, 10, 7);
	assert_at(flow, SG_YAML_SEQUENCE, 10, 7);
	g_assert_cmpuint(flow->items->len, ==, 3);
	assert_scalar(item(flow, 0), "a", FALSE, 10, 8);
	assert_scalar(item(flow, 1), "b", TRUE, 10, 11);
	map = item(flow, 2);
	assert_at(map, SG_YAML_MAPPING, 10, 16);
	assert_scalar(assert_pair(map, "c", 10, 17, 10, 20), "d", FALSE, 10, 20);

	value = assert_pair(root, "nested", 11, 1, 12, 3);
	assert_at(value, SG_YAML_MAPPING, 12, 3);
	inner = assert_pair(value, "inner", 12, 3, 13, 5);
	assert_at(inner, SG_YAML_SEQUENCE, 13, 5);
	assert_scalar(item(inner, 0), "x", FALSE, 13, 7);
	map = item(inner, 1);
	assert_at(map, SG_YAML_MAPPING, 14, 7);
	assert_scalar(assert_pair(map, "key", 14, 7, 14, 12), "v", TRUE, 14, 12);

	value = assert_pair(root, "empty", 15, 1, 15, 7);
	g_assert_true(sg_yaml_node_is_null(value));

	value = assert_pair(root, "tagged", 16, 1, 16, 9);
	assert_scalar(value, "5", FALSE, 16, 9);
	g_assert_cmpstr(value->tag, ==, "tag:yaml.org,2002:str");
	g_assert_false(sg_yaml_node_is_null(value));
}

static void
test_bom(void)
{
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load("\xEF\xBB\xBF"
	                                  "a: 1\n"
	                                  "b: \"x\"\n",
	                                  &problems);

	g_assert_nonnull(root);
	g_assert_cmpuint(problems->len, ==, 0);
	assert_scalar(assert_pair(root, "a", 1, 1, 1, 4), "1", FALSE, 1, 4);
	assert_scalar(assert_pair(root, "b", 2, 1, 2, 4), "x", TRUE, 2, 4);
}

static void
test_anchors(void)
{
	const char *text = "base: &b {x: 1}\n"
	                   "use: *b\n"
	                   "list: [*b, *b]\n"
	                   "s: &v one\n"
	                   "t: *v\n"
	                   "u: &v two\n"
	                   "w: *v\n";
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load(text, &problems);
	SgYamlNode *base, *list;

	g_assert_nonnull(root);
	g_assert_cmpuint(problems->len, ==, 0);
	base = assert_pair(root, "base", 1, 1, 1, 7);
	assert_at(base, SG_YAML_MAPPING, 1, 7);
	/* The alias shares the anchored node, which keeps its own position. */
	g_assert_true(assert_pair(root, "use", 2, 1, 1, 7) == base);
	list = sg_yaml_mapping_lookup(root, "list")->value;
	g_assert_true(item(list, 0) == base);
	g_assert_true(item(list, 1) == base);
	g_assert_cmpint(base->refcount, ==, 4);
	/* A redefined anchor applies from its new definition on. */
	assert_scalar(sg_yaml_mapping_lookup(root, "t")->value, "one", FALSE, 4, 4);
	assert_scalar(sg_yaml_mapping_lookup(root, "w")->value, "two", FALSE, 6, 4);
}

static void
test_alias_errors(void)
{
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load("a: *nope\n"
	                                  "b: &r [1, *r]\n",
	                                  &problems);

	g_assert_null(root);
	g_assert_cmpuint(problems->len, ==, 2);
	assert_problem(problems, 0, 1, 4, "a", "undefined alias \"nope\"");
	assert_problem(problems, 1, 2, 11, "b[1]", "alias \"r\" refers to a node that contains it");
}

static void
test_merge_single(void)
{
	const char *text = "base: &base\n"
	                   "  x: 1\n"
	                   "  y: 2\n"
	                   "svc:\n"
	                   "  first: f\n"
	                   "  <<: *base\n"
	                   "  y: 3\n";
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load(text, &problems);
	SgYamlNode *base, *svc;

	g_assert_nonnull(root);
	g_assert_cmpuint(problems->len, ==, 0);
	base = sg_yaml_mapping_lookup(root, "base")->value;
	svc = sg_yaml_mapping_lookup(root, "svc")->value;
	/* Merged pairs go where "<<" was; the written y wins over the merged one. */
	g_assert_cmpuint(svc->items->len, ==, 3);
	g_assert_cmpstr(key_at(svc, 0), ==, "first");
	g_assert_cmpstr(key_at(svc, 1), ==, "x");
	g_assert_cmpstr(key_at(svc, 2), ==, "y");
	g_assert_null(sg_yaml_mapping_lookup(svc, "<<"));
	/* Merged values keep their position in the anchored mapping, and are shared. */
	assert_scalar(assert_pair(svc, "x", 2, 3, 2, 6), "1", FALSE, 2, 6);
	g_assert_true(sg_yaml_mapping_lookup(svc, "x")->value ==
	              sg_yaml_mapping_lookup(base, "x")->value);
	assert_scalar(assert_pair(svc, "y", 7, 3, 7, 6), "3", FALSE, 7, 6);
	/* The anchored mapping itself is untouched. */
	g_assert_cmpuint(base->items->len, ==, 2);
	assert_scalar(sg_yaml_mapping_lookup(base, "y")->value, "2", FALSE, 3, 6);
}

static void
test_merge_list(void)
{
	const char *text = "a: &a {x: 1, y: 1}\n"
	                   "b: &b {x: 2, z: 2}\n"
	                   "c: &c\n"
	                   "  <<: [*a, *b, {w: 3, x: 3}]\n"
	                   "  y: 9\n"
	                   "d: {<<: {k: v}, j: i}\n"
	                   "e:\n"
	                   "  <<: *c\n";
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load(text, &problems);
	SgYamlNode *c, *d, *e;

	dump_problems(problems);
	g_assert_nonnull(root);
	g_assert_cmpuint(problems->len, ==, 0);
	c = sg_yaml_mapping_lookup(root, "c")->value;
	g_assert_cmpuint(c->items->len, ==, 4);
	g_assert_cmpstr(key_at(c, 0), ==, "x");
	g_assert_cmpstr(key_at(c, 1), ==, "z");
	g_assert_cmpstr(key_at(c, 2), ==, "w");
	g_assert_cmpstr(key_at(c, 3), ==, "y");
	/* Earlier mappings of the list win. */
	assert_scalar(assert_pair(c, "x", 1, 8, 1, 11), "1", FALSE, 1, 11);
	assert_scalar(assert_pair(c, "z", 2, 14, 2, 17), "2", FALSE, 2, 17);
	assert_scalar(assert_pair(c, "w", 4, 17, 4, 20), "3", FALSE, 4, 20);
	assert_scalar(assert_pair(c, "y", 5, 3, 5, 6), "9", FALSE, 5, 6);

	d = sg_yaml_mapping_lookup(root, "d")->value;
	g_assert_cmpuint(d->items->len, ==, 2);
	assert_scalar(assert_pair(d, "k", 6, 10, 6, 13), "v", FALSE, 6, 13);
	assert_scalar(assert_pair(d, "j", 6, 17, 6, 20), "i", FALSE, 6, 20);

	/* A mapping that merged is merged again with its resolved pairs. */
	e = sg_yaml_mapping_lookup(root, "e")->value;
	g_assert_cmpuint(e->items->len, ==, 4);
	assert_scalar(assert_pair(e, "x", 1, 8, 1, 11), "1", FALSE, 1, 11);
}

static void
test_merge_quoted_key(void)
{
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load("\"<<\": 5\n", &problems);

	/* Only a plain << merges; a quoted one is an ordinary key. */
	g_assert_nonnull(root);
	assert_scalar(assert_pair(root, "<<", 1, 1, 1, 7), "5", FALSE, 1, 7);
	g_assert_true(sg_yaml_mapping_lookup(root, "<<")->key->quoted);
}

static void
test_merge_bad(void)
{
	const char *text = "a: &a {x: 1}\n"
	                   "s:\n"
	                   "  <<: 5\n"
	                   "t:\n"
	                   "  <<: [*a, [1], two]\n"
	                   "u:\n"
	                   "  <<: *a\n"
	                   "  <<: *a\n";
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load(text, &problems);

	g_assert_null(root);
	g_assert_cmpuint(problems->len, ==, 4);
	assert_problem(problems, 0, 3, 7, "s.<<",
	               "a merge key (<<) takes a mapping or a list of mappings");
	assert_problem(problems, 1, 5, 12, "t.<<[1]",
	               "a merge key (<<) takes a mapping or a list of mappings");
	assert_problem(problems, 2, 5, 17, "t.<<[2]",
	               "a merge key (<<) takes a mapping or a list of mappings");
	assert_problem(problems, 3, 8, 3, "u.<<",
	               "duplicate key \"<<\" (first at line 7, column 3)");
}

static void
test_duplicate_keys(void)
{
	const char *text = "a: 1\n"
	                   "b: 2\n"
	                   "a: 3\n"
	                   "services:\n"
	                   "  api:\n"
	                   "    command: x\n"
	                   "    \"command\": y\n"
	                   "flow: {k: 1, k: 2}\n";
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load(text, &problems);

	g_assert_null(root);
	g_assert_cmpuint(problems->len, ==, 3);
	assert_problem(problems, 0, 3, 1, "a", "duplicate key \"a\" (first at line 1, column 1)");
	assert_problem(problems, 1, 7, 5, "services.api.command",
	               "duplicate key \"command\" (first at line 6, column 5)");
	assert_problem(problems, 2, 8, 14, "flow.k",
	               "duplicate key \"k\" (first at line 8, column 8)");
}

static void
test_non_scalar_key(void)
{
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load("top:\n"
	                                  "  ? [a, b]\n"
	                                  "  : 1\n"
	                                  "  {x: y}: 2\n",
	                                  &problems);

	g_assert_null(root);
	g_assert_cmpuint(problems->len, ==, 2);
	assert_problem(problems, 0, 2, 5, "top", "keys must be scalars");
	assert_problem(problems, 1, 4, 3, "top", "keys must be scalars");
}

static void
test_two_documents(void)
{
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load("a: 1\n"
	                                  "---\n"
	                                  "b: 2\n",
	                                  &problems);
	g_autoptr(GPtrArray) problems2 = NULL;
	g_autoptr(SgYamlNode) root2 = load("---\n"
	                                   "a: 1\n"
	                                   "...\n"
	                                   "--- [b]\n",
	                                   &problems2);

	g_assert_null(root);
	g_assert_cmpuint(problems->len, ==, 1);
	assert_problem(problems, 0, 2, 1, "", "only one YAML document is allowed");
	g_assert_null(root2);
	g_assert_cmpuint(problems2->len, ==, 1);
	assert_problem(problems2, 0, 4, 1, "", "only one YAML document is allowed");
}

static void
test_empty(void)
{
	const char *texts[] = { "", "# just a comment\n\n", "---\n", "--- # c\n...\n",
		                "\xEF\xBB\xBF" };

	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autoptr(GPtrArray) problems = NULL;
		g_autoptr(SgYamlNode) root = load(texts[i], &problems);

		g_assert_nonnull(root);
		g_assert_cmpuint(problems->len, ==, 0);
		assert_at(root, SG_YAML_MAPPING, 1, 1);
		g_assert_cmpuint(root->items->len, ==, 0);
		g_assert_null(root->tag);
		g_assert_cmpint(root->refcount, ==, 1);
	}
}

static char *
nested_flow(guint levels)
{
	GString *text = g_string_new(NULL);

	for (guint i = 0; i < levels; i++)
		g_string_append_c(text, '[');
	for (guint i = 0; i < levels; i++)
		g_string_append_c(text, ']');
	g_string_append_c(text, '\n');
	return g_string_free(text, FALSE);
}

static void
test_depth(void)
{
	g_autofree char *ok_text = nested_flow(SG_YAML_MAX_DEPTH);
	g_autofree char *bad_text = nested_flow(SG_YAML_MAX_DEPTH + 1);
	g_autoptr(GPtrArray) ok_problems = NULL;
	g_autoptr(GPtrArray) bad_problems = NULL;
	g_autoptr(GPtrArray) block_problems = NULL;
	g_autoptr(SgYamlNode) ok = load(ok_text, &ok_problems);
	g_autoptr(SgYamlNode) bad = load(bad_text, &bad_problems);
	g_autoptr(SgYamlNode) block = NULL;
	g_autoptr(GString) expected_path = g_string_new(NULL);
	g_autoptr(GString) block_text = g_string_new(NULL);
	const SgYamlNode *node = ok;
	guint levels = 0;

	g_assert_nonnull(ok);
	g_assert_cmpuint(ok_problems->len, ==, 0);
	while (node->kind == SG_YAML_SEQUENCE) {
		levels++;
		if (node->items->len == 0)
			break;
		node = item(node, 0);
	}
	g_assert_cmpuint(levels, ==, SG_YAML_MAX_DEPTH);

	g_assert_null(bad);
	g_assert_cmpuint(bad_problems->len, ==, 1);
	for (guint i = 0; i < SG_YAML_MAX_DEPTH; i++)
		g_string_append(expected_path, "[0]");
	assert_problem(bad_problems, 0, 1, SG_YAML_MAX_DEPTH + 1, expected_path->str,
	               "nesting deeper than 64 levels");

	/* Block mappings: a scalar value at level 65 is fine, a mapping there is not. */
	for (guint i = 0; i < SG_YAML_MAX_DEPTH; i++) {
		for (guint j = 0; j < i; j++)
			g_string_append_c(block_text, ' ');
		g_string_append_printf(block_text, "k%u:\n", i);
	}
	for (guint j = 0; j < SG_YAML_MAX_DEPTH; j++)
		g_string_append_c(block_text, ' ');
	g_string_append(block_text, "last: 1\n");
	block = load(block_text->str, &block_problems);
	g_assert_null(block);
	g_assert_cmpuint(block_problems->len, ==, 1);
	g_assert_cmpint(((SgProblem *)g_ptr_array_index(block_problems, 0))->line, ==,
	                SG_YAML_MAX_DEPTH + 1);
	g_assert_cmpint(((SgProblem *)g_ptr_array_index(block_problems, 0))->column, ==,
	                SG_YAML_MAX_DEPTH + 1);
	g_assert_true(g_str_has_suffix(((SgProblem *)g_ptr_array_index(block_problems, 0))->path,
	                               "k62.k63"));
}

static void
test_billion_laughs(void)
{
	GString *text = g_string_new("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = NULL;
	const SgProblem *problem;

	for (char c = 'b'; c <= 'j'; c++) {
		g_string_append_printf(text, "%c: &%c [", c, c);
		for (int i = 0; i < 9; i++)
			g_string_append_printf(text, "%s*%c", i > 0 ? ", " : "", c - 1);
		g_string_append(text, "]\n");
	}
	root = load(text->str, &problems);
	g_string_free(text, TRUE);

	g_assert_null(root);
	dump_problems(problems);
	g_assert_cmpuint(problems->len, ==, 1);
	problem = g_ptr_array_index(problems, 0);
	g_assert_cmpstr(problem->message, ==, "alias expansion exceeds 100000 nodes");
	/* a to e already count 74738 nodes; the first alias to e (66430 more) crosses the cap. */
	g_assert_cmpint(problem->line, ==, 6);
	g_assert_cmpint(problem->column, ==, 8);
	g_assert_cmpstr(problem->path, ==, "f[0]");
}

static void
test_many_nodes(void)
{
	GString *text = g_string_new(NULL);
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = NULL;

	for (int i = 0; i < SG_YAML_MAX_EXPANDED_NODES; i++)
		g_string_append(text, "- x\n");
	root = load(text->str, &problems);
	g_string_free(text, TRUE);

	/* The root sequence plus 100000 items is one node too many. */
	g_assert_null(root);
	assert_problem(problems, 0, SG_YAML_MAX_EXPANDED_NODES, 3, "[99999]",
	               "the document has more than 100000 nodes");
}

static char *
write_temp(const char *name, const char *contents, gssize length)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("test-yaml-XXXXXX", &error);
	char *path;

	g_assert_no_error(error);
	path = g_build_filename(dir, name, NULL);
	g_file_set_contents(path, contents, length, &error);
	g_assert_no_error(error);
	return path;
}

static void
remove_temp(const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);

	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_size_limit(void)
{
	gsize size = SG_YAML_MAX_FILE_BYTES;
	g_autofree char *big = g_malloc(size + 1);
	g_autofree char *path = NULL;
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(GPtrArray) problems_at_limit = sg_problem_list_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(SgYamlNode) root = NULL;
	g_autoptr(SgYamlNode) at_limit = NULL;
	const SgProblem *problem;

	/* Comment lines: valid YAML of any length. */
	for (gsize i = 0; i < size + 1; i += 64) {
		gsize n = MIN(64, size + 1 - i);
		memset(big + i, '#', n);
		big[i + n - 1] = '\n';
	}
	path = write_temp("big.yaml", big, size + 1);
	root = sg_yaml_load_file(path, "test.yaml", problems, &error);
	g_assert_no_error(error);
	g_assert_null(root);
	g_assert_cmpuint(problems->len, ==, 1);
	problem = g_ptr_array_index(problems, 0);
	g_assert_cmpint(problem->line, ==, 0);
	g_assert_cmpstr(problem->file, ==, "test.yaml");
	g_assert_cmpstr(problem->message, ==,
	                "the file is 8388609 bytes, more than the limit of 8388608 bytes");
	remove_temp(path);
	g_clear_pointer(&path, g_free);

	/* Exactly at the limit is read. */
	big[size - 1] = '\n';
	path = write_temp("limit.yaml", big, size);
	at_limit = sg_yaml_load_file(path, "test.yaml", problems_at_limit, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(problems_at_limit->len, ==, 0);
	assert_at(at_limit, SG_YAML_MAPPING, 1, 1);
	remove_temp(path);
}

static void
test_load_file(void)
{
	g_autofree char *path = write_temp("ok.yaml", "version: \"1\"\nservices: {}\n", -1);
	g_autoptr(GPtrArray) problems = sg_problem_list_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(SgYamlNode) root = sg_yaml_load_file(path, "test.yaml", problems, &error);
	g_autoptr(SgYamlNode) missing = NULL;
	g_autofree char *missing_path = NULL;

	g_assert_no_error(error);
	g_assert_nonnull(root);
	assert_scalar(assert_pair(root, "version", 1, 1, 1, 10), "1", TRUE, 1, 10);
	remove_temp(path);

	missing_path = g_build_filename(g_get_tmp_dir(), "test-yaml-missing", "x.yaml", NULL);
	missing = sg_yaml_load_file(missing_path, "x.yaml", problems, &error);
	g_assert_null(missing);
	g_assert_nonnull(error);
	g_assert_true(g_str_has_prefix(error->message, "cannot read x.yaml: "));
	g_assert_cmpuint(problems->len, ==, 0);
}

static void
test_syntax_error(void)
{
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load("a: 1\n"
	                                  "b: x: y\n",
	                                  &problems);
	g_autoptr(GPtrArray) problems2 = NULL;
	g_autoptr(SgYamlNode) root2 = load("a: [1, {b: 2}\n", &problems2);
	g_autoptr(GPtrArray) problems3 = NULL;
	g_autoptr(SgYamlNode) root3 = load("a: 1\n"
	                                   "b: \xFF\n",
	                                   &problems3);
	g_autoptr(GPtrArray) problems4 = NULL;
	g_autoptr(SgYamlNode) root4 = load("s:\n"
	                                   "  x: 1\n"
	                                   "  x: 2\n"
	                                   "t: \"open\n",
	                                   &problems4);

	g_assert_null(root);
	g_assert_cmpuint(problems->len, ==, 1);
	assert_problem(problems, 0, 2, 5, "", "mapping values are not allowed in this context");

	g_assert_null(root2);
	g_assert_cmpuint(problems2->len, ==, 1);
	assert_problem(problems2, 0, 2, 1, "",
	               "did not find expected ',' or ']' (while parsing a flow sequence at line 1, "
	               "column 4)");

	g_assert_null(root3);
	g_assert_cmpuint(problems3->len, ==, 1);
	assert_problem(problems3, 0, 2, 4, "", "invalid leading UTF-8 octet (0xFF)");

	/* Problems found before the syntax error are kept. */
	g_assert_null(root4);
	g_assert_cmpuint(problems4->len, ==, 2);
	assert_problem(problems4, 0, 3, 3, "s.x",
	               "duplicate key \"x\" (first at line 2, column 3)");
	assert_problem(problems4, 1, 5, 1, "",
	               "found unexpected end of stream (while scanning a quoted scalar at line 4, "
	               "column 4)");
}

static void
test_several_problems(void)
{
	const char *text = "base: &b {x: 1}\n"
	                   "services:\n"
	                   "  api:\n"
	                   "    <<: [*b, 7]\n"
	                   "    command: a\n"
	                   "    command: b\n"
	                   "  db:\n"
	                   "    depends_on: [*missing, \"nul\\0\"]\n"
	                   "    [k]: v\n";
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load(text, &problems);

	g_assert_null(root);
	dump_problems(problems);
	g_assert_cmpuint(problems->len, ==, 5);
	assert_problem(problems, 0, 4, 14, "services.api.<<[1]",
	               "a merge key (<<) takes a mapping or a list of mappings");
	assert_problem(problems, 1, 6, 5, "services.api.command",
	               "duplicate key \"command\" (first at line 5, column 5)");
	assert_problem(problems, 2, 8, 18, "services.db.depends_on[0]",
	               "undefined alias \"missing\"");
	assert_problem(problems, 3, 8, 28, "services.db.depends_on[1]",
	               "NUL characters are not allowed in strings");
	assert_problem(problems, 4, 9, 5, "services.db", "keys must be scalars");
}

static void
test_is_null(void)
{
	const char *text = "a:\n"
	                   "b: ~\n"
	                   "c: null\n"
	                   "d: Null\n"
	                   "e: NULL\n"
	                   "f: nUll\n"
	                   "g: \"null\"\n"
	                   "h: ''\n"
	                   "i: !!null null\n"
	                   "j: nil\n"
	                   "k: {}\n"
	                   "l: []\n"
	                   "m: |\n"
	                   "  null\n";
	/* !!null is checked, then reads as the plain null (sg-yaml-tag.h). */
	const struct {
		const char *key;
		gboolean is_null;
	} cases[] = {
		{ "a", TRUE },  { "b", TRUE },  { "c", TRUE },  { "d", TRUE }, { "e", TRUE },
		{ "f", FALSE }, { "g", FALSE }, { "h", FALSE }, { "i", TRUE }, { "j", FALSE },
		{ "k", FALSE }, { "l", FALSE }, { "m", FALSE },
	};
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load(text, &problems);

	g_assert_nonnull(root);
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		SgYamlPair *pair = sg_yaml_mapping_lookup(root, cases[i].key);

		g_assert_nonnull(pair);
		g_assert_cmpint(sg_yaml_node_is_null(pair->value), ==, cases[i].is_null);
	}
	g_assert_false(sg_yaml_node_is_null(NULL));
	g_assert_false(sg_yaml_node_is_null(root));
}

static void
test_lookup(void)
{
	g_autoptr(GPtrArray) problems = NULL;
	g_autoptr(SgYamlNode) root = load("a: [1]\nb: 2\n", &problems);
	SgYamlNode *a;

	g_assert_nonnull(root);
	g_assert_null(sg_yaml_mapping_lookup(root, "c"));
	g_assert_null(sg_yaml_mapping_lookup(NULL, "a"));
	a = sg_yaml_mapping_lookup(root, "a")->value;
	g_assert_null(sg_yaml_mapping_lookup(a, "a"));
	g_assert_null(sg_yaml_mapping_lookup(item(a, 0), "a"));
	g_assert_cmpstr(sg_yaml_kind_to_string(SG_YAML_SCALAR), ==, "scalar");
	g_assert_cmpstr(sg_yaml_kind_to_string(SG_YAML_MAPPING), ==, "mapping");
	g_assert_cmpstr(sg_yaml_kind_to_string(SG_YAML_SEQUENCE), ==, "sequence");

	/* A node outlives the tree it was taken from while referenced. */
	a = sg_yaml_node_ref(a);
	g_clear_pointer(&root, sg_yaml_node_unref);
	assert_scalar(item(a, 0), "1", FALSE, 1, 5);
	sg_yaml_node_unref(a);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/sg/yaml/positions", test_positions);
	g_test_add_func("/sg/yaml/bom", test_bom);
	g_test_add_func("/sg/yaml/anchors", test_anchors);
	g_test_add_func("/sg/yaml/alias-errors", test_alias_errors);
	g_test_add_func("/sg/yaml/merge-single", test_merge_single);
	g_test_add_func("/sg/yaml/merge-list", test_merge_list);
	g_test_add_func("/sg/yaml/merge-quoted-key", test_merge_quoted_key);
	g_test_add_func("/sg/yaml/merge-bad", test_merge_bad);
	g_test_add_func("/sg/yaml/duplicate-keys", test_duplicate_keys);
	g_test_add_func("/sg/yaml/non-scalar-key", test_non_scalar_key);
	g_test_add_func("/sg/yaml/two-documents", test_two_documents);
	g_test_add_func("/sg/yaml/empty", test_empty);
	g_test_add_func("/sg/yaml/depth", test_depth);
	g_test_add_func("/sg/yaml/billion-laughs", test_billion_laughs);
	g_test_add_func("/sg/yaml/many-nodes", test_many_nodes);
	g_test_add_func("/sg/yaml/size-limit", test_size_limit);
	g_test_add_func("/sg/yaml/load-file", test_load_file);
	g_test_add_func("/sg/yaml/syntax-error", test_syntax_error);
	g_test_add_func("/sg/yaml/several-problems", test_several_problems);
	g_test_add_func("/sg/yaml/is-null", test_is_null);
	g_test_add_func("/sg/yaml/lookup", test_lookup);

	return g_test_run();
}
