/* SPDX-License-Identifier: MIT */
/* Fuzz target: the control socket's line handler, through a real connection to SgControl. */
#include "config.h"

#include "fuzz.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/sg-control.h"
#include "base/sg-json.h"
#include "lib/sg-test-engine.h"

/* One supervisor for the whole run, with no services: nothing to spawn or to kill. */
typedef struct {
	SgContext context;
	SgConfig *config;
	SgSupervisor *supervisor;
	SgApi *api;
	SgControl *control;
	struct sockaddr_un addr;
} Server;

typedef struct {
	GString *in;
	gboolean eof;
	guint watch;
} Peer;

static Server *
server_get(void)
{
	static Server *server;
	g_autoptr(GError) error = NULL;
	g_autofree char *state = NULL;
	SgReaper *reaper;

	if (server != NULL)
		return server;
	state = g_build_filename(sg_fuzz_setup(), "state", NULL);
	g_assert_cmpint(g_mkdir(state, 0700), ==, 0);
	server = g_new0(Server, 1);
	reaper = sg_reaper_new(&error);
	g_assert_no_error(error);
	sg_test_context_init(&server->context, state, reaper);
	/* Thousands of requests a second would only fill supervisor.log. */
	g_clear_pointer(&server->context.log, sg_log_free);
	server->config = sg_config_new_empty();
	server->supervisor = sg_supervisor_new(&server->context, server->config);
	/* A shutdown stops everything (nothing) and refuses starts; the daemon would exit, here it
	 * goes on serving the next input. */
	server->api = sg_api_new(server->supervisor, g_get_real_time(), NULL, NULL);
	server->control = sg_control_new(server->api, &error);
	g_assert_no_error(error);
	server->addr.sun_family = AF_UNIX;
	g_snprintf(server->addr.sun_path, sizeof(server->addr.sun_path), "%s/control.sock", state);
	return server;
}

static gboolean
peer_read_cb(int fd, GIOCondition condition, gpointer user_data)
{
	Peer *peer = user_data;
	char buffer[65536];
	ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);

	if (n > 0) {
		g_string_append_len(peer->in, buffer, n);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	peer->eof = TRUE;
	peer->watch = 0;
	return G_SOURCE_REMOVE;
}

/* Every line the server writes is strict JSON-RPC 2.0: an answer or a notification. */
static void
check_answer(const char *line, gsize length)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) root =
	        sg_json_parse(line, length, G_MAXSIZE, SG_JSON_PARSE_DEFAULT, &error);
	JsonObject *answer;
	JsonNode *id;

	if (root == NULL)
		g_error("the server wrote %.*s: %s", (int)length, line, error->message);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	answer = json_node_get_object(root);
	g_assert_cmpstr(sg_json_object_get_string(answer, "jsonrpc"), ==, "2.0");
	if (json_object_has_member(answer, "method"))
		return;
	g_assert_true(json_object_has_member(answer, "result") !=
	              json_object_has_member(answer, "error"));
	id = json_object_get_member(answer, "id");
	g_assert_nonnull(id);
	g_assert_true(JSON_NODE_HOLDS_NULL(id) || (JSON_NODE_HOLDS_VALUE(id) &&
	                                           (json_node_get_value_type(id) == G_TYPE_STRING ||
	                                            json_node_get_value_type(id) == G_TYPE_INT64)));
}

/* Sends the input as one client would, then reads every answer until the server hangs up. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Server *server = server_get();
	Peer peer = { g_string_new(NULL), FALSE, 0 };
	gsize sent = 0;
	const char *line;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&server->addr, sizeof(server->addr)), ==, 0);
	peer.watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, peer_read_cb, &peer);
	while (sent < size && !peer.eof) {
		ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0)
			sent += (gsize)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			break; /* the server closed it (a line over the limit) */
		else
			g_main_context_iteration(NULL, TRUE);
	}
	shutdown(fd, SHUT_WR);
	/* A server that never hangs up is a hang: libFuzzer's -timeout reports it. */
	while (!peer.eof)
		g_main_context_iteration(NULL, TRUE);
	g_clear_handle_id(&peer.watch, g_source_remove);
	close(fd);

	line = peer.in->str;
	while (*line != '\0') {
		const char *newline = strchr(line, '\n');

		g_assert_nonnull(newline);
		check_answer(line, (gsize)(newline - line));
		line = newline + 1;
	}
	g_string_free(peer.in, TRUE);
	return 0;
}
