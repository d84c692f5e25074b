/* SPDX-License-Identifier: MIT */
/* Fuzz target: the state-file readers of sg-state.c and the JSON reader under them. */
#include "config.h"

#include "fuzz.h"

#include <glib/gstdio.h>
#include <string.h>

#include "base/sg-error.h"
#include "base/sg-json.h"
#include "base/sg-paths.h"
#include "state/sg-state-id.h"
#include "state/sg-state.h"

static guint
depth_of(JsonNode *node)
{
	guint deepest = 0;

	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObjectIter iter;
		JsonNode *member;

		json_object_iter_init(&iter, json_node_get_object(node));
		while (json_object_iter_next(&iter, NULL, &member))
			deepest = MAX(deepest, depth_of(member));
		return deepest + 1;
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);

		for (guint i = 0; i < json_array_get_length(array); i++)
			deepest = MAX(deepest, depth_of(json_array_get_element(array, i)));
		return deepest + 1;
	}
	return 0;
}

/* What the reader accepts is within its limits and written back as JSON it accepts again. */
static void
check_tree(JsonNode *root)
{
	g_autofree char *text = NULL;
	g_autoptr(JsonNode) again = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	g_assert_cmpuint(depth_of(root), <=, SG_JSON_MAX_DEPTH);
	text = json_to_string(root, FALSE);
	again = sg_json_parse(text, strlen(text), G_MAXSIZE, SG_JSON_PARSE_DEFAULT, &error);
	if (again == NULL)
		g_error("written back as %s: %s", text, error->message);
	g_assert_true(json_node_equal(root, again));
}

static gboolean
touch_cb(JsonObject *root, gpointer user_data, GError **error)
{
	json_object_set_boolean_member(root, "touched", TRUE);
	return TRUE;
}

/* Quarantined copies pile up otherwise: one input, one scratch state. */
static void
remove_quarantined(const char *quarantined)
{
	if (quarantined != NULL)
		g_assert_cmpint(g_unlink(quarantined), ==, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = sg_fuzz_setup();
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonNode) after = NULL;
	g_autofree char *quarantined = NULL;
	g_autofree char *state_id = NULL;
	g_autofree char *path = g_build_filename(dir, SG_STATE_STATE_JSON, NULL);

	/* An offline reader: a tree within the limits, or corrupt with the file left alone. */
	sg_fuzz_write(dir, SG_STATE_STATE_JSON, data, size);
	root = sg_state_read_json(dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, &error);
	if (root != NULL) {
		g_assert_no_error(error);
		check_tree(root);
	} else {
		g_assert_error(error, SG_ERROR, SG_ERROR_CORRUPT);
		g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
		g_clear_error(&error);
	}

	/* A lock holder: the same verdict, and a corrupt file set aside. */
	after = sg_state_read_json(dir, SG_STATE_STATE_JSON, SG_STATE_READ_QUARANTINE, &quarantined,
	                           &error);
	g_assert_no_error(error);
	g_assert_true((after != NULL) == (root != NULL));
	g_assert_true((quarantined != NULL) == (root == NULL));
	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS) == (root != NULL));
	remove_quarantined(quarantined);
	g_clear_pointer(&quarantined, g_free);
	g_clear_pointer(&after, json_node_unref);

	/* The state id goes in, every other member stays. */
	sg_fuzz_write(dir, SG_STATE_STATE_JSON, data, size);
	state_id = sg_state_ensure_state_id(dir, &quarantined, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(strlen(state_id), ==, 32);
	remove_quarantined(quarantined);
	g_clear_pointer(&quarantined, g_free);
	after = sg_state_read_json(dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_assert_no_error(error);
	check_tree(after);
	g_assert_cmpstr(sg_json_object_get_string(json_node_get_object(after), "state_id"), ==,
	                state_id);
	if (root != NULL)
		g_assert_cmpuint(json_object_get_size(json_node_get_object(after)), >=,
		                 json_object_get_size(json_node_get_object(root)));
	g_clear_pointer(&after, json_node_unref);

	/* A read-modify-write. */
	sg_fuzz_write(dir, SG_STATE_PID_JSON, data, size);
	g_assert_true(
	        sg_state_update_json(dir, SG_STATE_PID_JSON, touch_cb, NULL, &quarantined, &error));
	g_assert_no_error(error);
	remove_quarantined(quarantined);
	after = sg_state_read_json(dir, SG_STATE_PID_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_assert_no_error(error);
	check_tree(after);
	g_assert_true(json_object_get_boolean_member(json_node_get_object(after), "touched"));
	return 0;
}
