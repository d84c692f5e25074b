/* SPDX-License-Identifier: MIT */
/* SgClient over the control socket (JSON-RPC 2.0, one object per line) or over D-Bus. */
#include "config.h"

#include "sg-client.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sg-client-bus.h"
#include "base/sg-error.h"
#include "config/sg-config.h"
#include "base/sg-fileio.h"
#include "base/sg-json.h"
#include "base/sg-limits.h"
#include "base/sg-paths.h"
#include "base/sg-sockaddr.h"
#include "state/sg-state.h"

struct _SgClient {
	SgClientBus *bus; /* the D-Bus transport, or NULL for the socket */
	int fd;
	char *path;
	char *state_dir;
	GString *in;
	gint64 next_id;
	GQueue events; /* JsonNode* notifications that arrived before they could be delivered */
	SgClientEventFunc event_cb;
	SgClientClosedFunc closed_cb;
	gpointer user_data;
	guint watch_id;
	guint idle_id;
	gboolean closed;
};

static void
set_send_timeout(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* "did not answer": named by its PID, which says which process to look at. */
static void
no_answer(const char *state_dir, const char *path, GError **error)
{
	pid_t pid = 0;

	if (sg_pid_file_query(state_dir, &pid) && pid > 0)
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("The supervisor (PID %d) did not answer within %d s"), (int)pid,
		            SG_CLIENT_ANSWER_TIMEOUT_S);
	else
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("The supervisor on %s did not answer within %d s"), path,
		            SG_CLIENT_ANSWER_TIMEOUT_S);
}

static void
set_no_answer_error(SgClient *client, GError **error)
{
	no_answer(client->state_dir, client->path, error);
}

/*
 * Methods that answer at once: their answer is awaited SG_CLIENT_ANSWER_TIMEOUT_S at most.
 * Not start, stop and restart (they wait for processes) nor subscribe (monitor waits for
 * events for ever).
 */
static gboolean
answers_at_once(const char *method)
{
	static const char *const prompt[] = { "list_services", "get_service", "status", "logs",
		                              "reload",        "shutdown",    NULL };

	return g_strv_contains(prompt, method);
}

static int
no_supervisor(const char *state_dir, GError **error)
{
	g_set_error(error, SG_ERROR, SG_ERROR_NO_SUPERVISOR, _("No supervisor is running on %s"),
	            state_dir);
	return -1;
}

static int refuse(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static int
refuse(GError **error, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, SG_ERROR, SG_ERROR_STATE_DIR, message);
	return -1;
}

/*
 * The address to connect to: the socket found at dir_fd/control.sock itself, through
 * /proc/self/fd/N of an O_PATH descriptor of it (so no link can be followed between the
 * check and the connect), or, without /proc, its path.
 */
static gboolean
socket_address(const char *state_dir, int sock_fd, struct sockaddr_un *addr, socklen_t *len,
               int *ret_dir_fd, GError **error)
{
	g_autofree char *proc_path = g_strdup_printf("/proc/self/fd/%d", sock_fd);

	if (access("/proc/self/fd", F_OK) < 0)
		return sg_sockaddr_control(state_dir, addr, len, ret_dir_fd, error);
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	g_strlcpy(addr->sun_path, proc_path, sizeof(addr->sun_path));
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(proc_path) + 1);
	*ret_dir_fd = -1;
	return TRUE;
}

/*
 * Connects to STATE_DIR/control.sock only if it belongs to the supervisor of STATE_DIR: a
 * socket (not a link to one elsewhere) owned by us in our state directory, served by a
 * process of ours that holds STATE_DIR/sysg.pid. Returns the fd, or -1 with error set.
 */
static int
connect_control(const char *state_dir, const char *path, GError **error)
{
	struct sockaddr_un addr;
	socklen_t len;
	struct ucred cred = { 0 };
	socklen_t cred_len = sizeof(cred);
	struct stat st;
	pid_t holder = 0;
	int dir_fd, sock_fd, addr_dir_fd = -1, fd, r;

	dir_fd = sg_fileio_open_dir(state_dir, error);
	if (dir_fd == -ENOENT) {
		g_clear_error(error);
		return no_supervisor(state_dir, error);
	}
	if (dir_fd < 0)
		return -1;
	sock_fd = openat(dir_fd, SG_STATE_SOCKET, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	r = sock_fd < 0 ? -errno : 0;
	close(dir_fd);
	if (r == -ENOENT)
		return no_supervisor(state_dir, error);
	if (r < 0) {
		sg_error_set_errno(error, r, _("Cannot open %s"), path);
		return -1;
	}
	if (fstat(sock_fd, &st) < 0) {
		r = -errno;
		close(sock_fd);
		sg_error_set_errno(error, r, _("Cannot examine %s"), path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		close(sock_fd);
		if (S_ISLNK(st.st_mode))
			return refuse(error, _("refusing %s: it is a symbolic link"), path);
		if (!S_ISSOCK(st.st_mode))
			return refuse(error, _("refusing %s: not a socket (%s)"), path,
			              sg_fileio_type_name(st.st_mode));
		return refuse(error, _("refusing %s: it is owned by uid %u, and we run as uid %u"),
		              path, (unsigned)st.st_uid, (unsigned)geteuid());
	}

	if (!socket_address(state_dir, sock_fd, &addr, &len, &addr_dir_fd, error)) {
		close(sock_fd);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : 0;
	/* A supervisor that accepts nobody fills its backlog: then connect() waits, not for ever.
	 */
	if (fd >= 0)
		set_send_timeout(fd, SG_CLIENT_ANSWER_TIMEOUT_S);
	while (r == 0 && connect(fd, (struct sockaddr *)&addr, len) < 0 && (r = -errno) == -EINTR)
		r = 0;
	if (fd >= 0)
		set_send_timeout(fd, 0);
	close(sock_fd);
	if (addr_dir_fd >= 0)
		close(addr_dir_fd);
	if (r < 0 && fd >= 0)
		close(fd);
	if (r == -ENOENT || r == -ECONNREFUSED || r == -ENOTDIR)
		return no_supervisor(state_dir, error);
	if (r == -EAGAIN || r == -EINPROGRESS || r == -ETIMEDOUT) {
		no_answer(state_dir, path, error);
		return -1;
	}
	if (r < 0) {
		sg_error_set_errno(error, r, _("Cannot connect to %s"), path);
		return -1;
	}

	/* A socket moved here from another state directory answers for another supervisor. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0 ||
	    cred.uid != geteuid() || !sg_pid_file_query(state_dir, &holder) || holder != cred.pid) {
		close(fd);
		return refuse(error,
		              _("refusing %s: it is served by PID %d, which is not the supervisor "
		                "of %s"),
		              path, (int)cred.pid, state_dir);
	}
	return fd;
}

SgClient *
sg_client_connect(const char *state_dir, SgClientTransport transport, GError **error)
{
	g_autoptr(SgClient) client = g_new0(SgClient, 1);

	client->fd = -1;
	client->in = g_string_new(NULL);
	client->next_id = 1;
	g_queue_init(&client->events);
	client->path = sg_paths_state_file(state_dir, SG_STATE_SOCKET);
	client->state_dir = g_strdup(state_dir);
	if (transport == SG_CLIENT_BUS) {
		client->bus = sg_client_bus_connect(state_dir, error);
		return client->bus != NULL ? g_steal_pointer(&client) : NULL;
	}
	client->fd = connect_control(state_dir, client->path, error);
	if (client->fd < 0)
		return NULL;
	return g_steal_pointer(&client);
}

void
sg_client_free(SgClient *client)
{
	if (client == NULL)
		return;
	g_clear_handle_id(&client->watch_id, g_source_remove);
	g_clear_handle_id(&client->idle_id, g_source_remove);
	g_clear_pointer(&client->bus, sg_client_bus_free);
	if (client->fd >= 0)
		close(client->fd);
	g_queue_clear_full(&client->events, (GDestroyNotify)json_node_unref);
	g_string_free(client->in, TRUE);
	g_free(client->path);
	g_free(client->state_dir);
	g_free(client);
}

static gboolean
send_all(SgClient *client, const char *data, gsize length, GError **error)
{
	while (length > 0) {
		ssize_t n = send(client->fd, data, length, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sg_error_set_errno(error, -errno, _("Cannot write to %s"),
			                          client->path);
		data += n;
		length -= (gsize)n;
	}
	return TRUE;
}

/* Waits until fd is readable or deadline (monotonic µs, 0: none) passes: FALSE then. */
static gboolean
wait_readable(int fd, gint64 deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		gint64 left = deadline - g_get_monotonic_time();
		int r;

		if (deadline == 0)
			return TRUE;
		if (left <= 0)
			return FALSE;
		r = poll(&pfd, 1, (int)MIN((left + 999) / 1000, G_MAXINT));
		if (r > 0 || (r < 0 && errno != EINTR))
			return TRUE;
	}
}

/* Reads once into the buffer: > 0 bytes read, 0 at the end, negative errno. */
static gssize
read_some(SgClient *client)
{
	char buffer[65536];
	ssize_t n;

	do
		n = read(client->fd, buffer, sizeof(buffer));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	g_string_append_len(client->in, buffer, n);
	return n;
}

/* The next complete line as parsed JSON, or NULL (with error set on a bad line). */
static JsonNode *
take_line(SgClient *client, gboolean *ret_found, GError **error)
{
	char *newline = memchr(client->in->str, '\n', client->in->len);
	JsonNode *root;
	gsize length;

	*ret_found = newline != NULL;
	if (newline == NULL) {
		if (client->in->len > SG_CLIENT_ANSWER_MAX)
			g_set_error(error, SG_ERROR, SG_ERROR_LIMIT,
			            _("The supervisor sent a line longer than %d bytes on %s"),
			            SG_CLIENT_ANSWER_MAX, client->path);
		return NULL;
	}
	length = (gsize)(newline - client->in->str);
	root = sg_json_parse(client->in->str, length, SG_CLIENT_ANSWER_MAX, SG_JSON_PARSE_DEFAULT,
	                     NULL);
	g_string_erase(client->in, 0, (gssize)length + 1);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_clear_pointer(&root, json_node_unref);
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("The supervisor sent something that is not a JSON-RPC object on %s"),
		            client->path);
		return NULL;
	}
	return root;
}

static gboolean
answer_to_result(SgClient *client, JsonObject *answer, JsonNode **ret_result, GError **error)
{
	if (json_object_has_member(answer, "error")) {
		JsonNode *node = json_object_get_member(answer, "error");
		JsonObject *object =
		        JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
		const char *message = NULL;
		gint64 code = 0;

		if (object != NULL) {
			message =
			        json_object_get_string_member_with_default(object, "message", NULL);
			code = json_object_get_int_member_with_default(object, "code", 0);
		}
		g_set_error_literal(error, SG_ERROR, sg_error_from_jsonrpc_code(code),
		                    message != NULL ? message
		                                    : _("The supervisor answered an error"));
		return FALSE;
	}
	if (!json_object_has_member(answer, "result")) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("The supervisor's answer on %s has neither a result nor an error"),
		            client->path);
		return FALSE;
	}
	if (ret_result != NULL)
		*ret_result = json_node_copy(json_object_get_member(answer, "result"));
	return TRUE;
}

static void parse_buffer(SgClient *client);
static gboolean deliver_queued_cb(gpointer user_data);

static gboolean
is_notification(JsonObject *message)
{
	return json_object_has_member(message, "method") && !json_object_has_member(message, "id");
}

gboolean
sg_client_call(SgClient *client, const char *method, JsonObject *params, JsonNode **ret_result,
               GError **error)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autoptr(JsonNode) request = NULL;
	g_autofree char *text = NULL;
	GString *line;
	gint64 id = client->next_id++;
	gint64 deadline = 0;

	g_return_val_if_fail(client != NULL && method != NULL, FALSE);
	if (client->bus != NULL)
		return sg_client_bus_call(client->bus, method, params, ret_result, error);
	if (client->closed) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("The connection to the supervisor on %s is closed"), client->path);
		return FALSE;
	}
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "jsonrpc");
	json_builder_add_string_value(builder, "2.0");
	json_builder_set_member_name(builder, "id");
	json_builder_add_int_value(builder, id);
	json_builder_set_member_name(builder, "method");
	json_builder_add_string_value(builder, method);
	if (params != NULL) {
		JsonNode *node = json_node_new(JSON_NODE_OBJECT);

		json_node_set_object(node, params);
		json_builder_set_member_name(builder, "params");
		json_builder_add_value(builder, node);
	}
	json_builder_end_object(builder);
	request = json_builder_get_root(builder);
	json_generator_set_root(generator, request);
	text = json_generator_to_data(generator, NULL);
	line = g_string_new(text);
	g_string_append_c(line, '\n');
	if (answers_at_once(method))
		deadline = g_get_monotonic_time() +
		           (gint64)SG_CLIENT_ANSWER_TIMEOUT_S * G_USEC_PER_SEC;
	if (!send_all(client, line->str, line->len, error)) {
		g_string_free(line, TRUE);
		return FALSE;
	}
	g_string_free(line, TRUE);

	for (;;) {
		gboolean found;
		g_autoptr(JsonNode) message = take_line(client, &found, error);
		JsonObject *object;
		gssize n;

		if (message == NULL && found)
			return FALSE;
		if (message == NULL) {
			if (error != NULL && *error != NULL)
				return FALSE;
			if (!wait_readable(client->fd, deadline)) {
				/* A late answer must not be taken for the next one's. */
				client->closed = TRUE;
				set_no_answer_error(client, error);
				return FALSE;
			}
			n = read_some(client);
			if (n <= 0) {
				client->closed = TRUE;
				g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
				            _("The supervisor closed the connection on %s before "
				              "answering %s"),
				            client->path, method);
				return FALSE;
			}
			continue;
		}
		object = json_node_get_object(message);
		if (is_notification(object)) {
			g_queue_push_tail(&client->events, g_steal_pointer(&message));
			continue;
		}
		if (json_object_get_int_member_with_default(object, "id", -1) != id &&
		    !json_object_get_null_member(object, "id"))
			continue;
		/* Notifications read with the answer must not wait for the next byte to come. */
		if (client->watch_id != 0) {
			parse_buffer(client);
			if (!g_queue_is_empty(&client->events) && client->idle_id == 0)
				client->idle_id = g_idle_add(deliver_queued_cb, client);
		}
		return answer_to_result(client, object, ret_result, error);
	}
}

static void
deliver_events(SgClient *client)
{
	JsonNode *message;

	while ((message = g_queue_pop_head(&client->events)) != NULL) {
		JsonObject *object = json_node_get_object(message);
		JsonNode *params = json_object_get_member(object, "params");
		const char *name = json_object_get_string_member_with_default(object, "method", "");
		g_autoptr(JsonObject) empty = json_object_new();

		if (client->event_cb != NULL)
			client->event_cb(name,
			                 params != NULL && JSON_NODE_HOLDS_OBJECT(params)
			                         ? json_node_get_object(params)
			                         : empty,
			                 client->user_data);
		json_node_unref(message);
	}
}

/* Queues every complete notification in the buffer; answers to nobody are dropped. */
static void
parse_buffer(SgClient *client)
{
	for (;;) {
		gboolean found;
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) message = take_line(client, &found, &error);

		if (message != NULL && is_notification(json_node_get_object(message)))
			g_queue_push_tail(&client->events, g_steal_pointer(&message));
		if (!found)
			break;
	}
}

static gboolean
readable_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgClient *client = user_data;
	gssize n = read_some(client);

	parse_buffer(client);
	deliver_events(client);
	if (n <= 0 && n != -EAGAIN) {
		client->watch_id = 0;
		client->closed = TRUE;
		if (client->closed_cb != NULL)
			client->closed_cb(client->user_data);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
deliver_queued_cb(gpointer user_data)
{
	SgClient *client = user_data;

	client->idle_id = 0;
	deliver_events(client);
	return G_SOURCE_REMOVE;
}

gboolean
sg_client_subscribe(SgClient *client, SgClientEventFunc event_cb, SgClientClosedFunc closed_cb,
                    gpointer user_data, GError **error)
{
	g_return_val_if_fail(client != NULL && client->watch_id == 0, FALSE);
	if (client->bus != NULL)
		return sg_client_bus_subscribe(client->bus, event_cb, closed_cb, user_data, error);
	if (!sg_client_call(client, "subscribe", NULL, NULL, error))
		return FALSE;
	client->event_cb = event_cb;
	client->closed_cb = closed_cb;
	client->user_data = user_data;
	client->watch_id =
	        g_unix_fd_add(client->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, readable_cb, client);
	/* Events that came with the answer are delivered from the loop, like the others. */
	parse_buffer(client);
	if (!g_queue_is_empty(&client->events))
		client->idle_id = g_idle_add(deliver_queued_cb, client);
	return TRUE;
}

JsonNode *
sg_client_status(SgClient *client, GError **error)
{
	JsonNode *result = NULL;

	if (!sg_client_call(client, "status", NULL, &result, error))
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(result)) {
		json_node_unref(result);
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("The supervisor's status is not a JSON object"));
		return NULL;
	}
	return result;
}

char *
sg_client_config_path(SgClient *client, GError **error)
{
	g_autoptr(JsonNode) status = NULL;
	JsonNode *supervisor;
	JsonNode *config;

	if (client->bus != NULL)
		return sg_client_bus_config_path(client->bus, error);
	status = sg_client_status(client, error);
	if (status == NULL)
		return NULL;
	supervisor = json_object_get_member(json_node_get_object(status), "supervisor");
	if (supervisor == NULL || !JSON_NODE_HOLDS_OBJECT(supervisor))
		return NULL;
	config = json_object_get_member(json_node_get_object(supervisor), "config");
	if (config == NULL || !JSON_NODE_HOLDS_VALUE(config) ||
	    json_node_get_value_type(config) != G_TYPE_STRING)
		return NULL;
	return g_strdup(json_node_get_string(config));
}

char *
sg_client_discover_config(const char *explicit_path, const char *running_config,
                          const char *state_dir, GError **error)
{
	g_autofree char *hint = NULL;

	if (running_config == NULL && state_dir != NULL)
		hint = sg_state_read_config_hint(state_dir);
	return sg_config_discover(explicit_path, running_config != NULL ? running_config : hint,
	                          error);
}
