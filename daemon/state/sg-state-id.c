/* SPDX-License-Identifier: MIT */
/* The state directory's state_id: random, stored once in state.json under the state lock. */
#include "config.h"

#include "state/sg-state-id.h"
#include "state/sg-state-private.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "base/sg-paths.h"
#include "state/sg-state.h"

#define STATE_ID_BYTES 16

static void
fill_random(guint8 *buffer, gsize length)
{
	gsize done = 0;

	while (done < length) {
		ssize_t n = getrandom(buffer + done, length - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += (gsize)n;
	}
	/* No getrandom(2) (old kernel, seccomp): GLib's generator is seeded from urandom. */
	for (; done < length; done++)
		buffer[done] = (guint8)g_random_int_range(0, 256);
}

static char *
state_id_generate(void)
{
	guint8 bytes[STATE_ID_BYTES];
	GString *id = g_string_sized_new(2 * STATE_ID_BYTES);

	fill_random(bytes, sizeof(bytes));
	for (gsize i = 0; i < sizeof(bytes); i++)
		g_string_append_printf(id, "%02x", bytes[i]);
	return g_string_free(id, FALSE);
}

/* The valid state_id of a state.json root, or NULL. */
static const char *
state_id_lookup(JsonNode *root)
{
	JsonNode *member;
	const char *id;

	if (root == NULL)
		return NULL;
	member = json_object_get_member(json_node_get_object(root), "state_id");
	if (member == NULL || json_node_get_value_type(member) != G_TYPE_STRING)
		return NULL;
	id = json_node_get_string(member);
	if (strlen(id) != 2 * STATE_ID_BYTES)
		return NULL;
	for (const char *p = id; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p) && (*p < 'a' || *p > 'f'))
			return NULL;
	}
	return id;
}

char *
sg_state_ensure_state_id(const char *dir, char **ret_quarantined, GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *quarantined = NULL;
	g_autofree char *id = NULL;
	int lock_fd;

	g_return_val_if_fail(dir != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (ret_quarantined != NULL)
		*ret_quarantined = NULL;

	/* Usually already there: atomic writes make reading it without the lock safe. */
	root = sg_state_read_json(dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, NULL);
	if (state_id_lookup(root) != NULL)
		return g_strdup(state_id_lookup(root));
	g_clear_pointer(&root, json_node_unref);

	lock_fd = sg_state_lock(dir, error);
	if (lock_fd < 0)
		return NULL;

	root = sg_state_read_locked(dir, SG_STATE_STATE_JSON, &quarantined, error);
	if (root != NULL && state_id_lookup(root) != NULL) {
		id = g_strdup(state_id_lookup(root));
	} else if (root != NULL) {
		id = state_id_generate();
		json_object_set_string_member(json_node_get_object(root), "state_id", id);
		if (!sg_state_write_json(dir, SG_STATE_STATE_JSON, root, error))
			g_clear_pointer(&id, g_free);
	}
	sg_state_unlock(lock_fd);

	if (ret_quarantined != NULL)
		*ret_quarantined = g_steal_pointer(&quarantined);
	return g_steal_pointer(&id);
}
