/* SPDX-License-Identifier: MIT */
/* The JSON-RPC server: listening, clients on plain nonblocking fds, framing and limits. */
#include "config.h"

#include "control/sg-jsonrpc-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/sg-paths.h"
#include "base/sg-sockaddr.h"

#define READ_CHUNK      65536
#define ACCEPT_RETRY_MS 1000

static void client_process(SgJsonrpcClient *client);
static void client_update_events(SgJsonrpcClient *client);
static gboolean client_flush(SgJsonrpcClient *client);
static void client_close(SgJsonrpcClient *client);
static void listen_start(SgJsonrpc *server);

static gint64
now_usec(SgJsonrpc *server)
{
	return sg_clock_monotonic_usec(server->context->clock);
}

/* ---- clients ---- */

SgJsonrpcClient *
sg_jsonrpc_client_ref(SgJsonrpcClient *client)
{
	client->refcount++;
	return client;
}

void
sg_jsonrpc_client_unref(SgJsonrpcClient *client)
{
	if (--client->refcount > 0)
		return;
	g_byte_array_unref(client->in);
	g_string_free(client->out, TRUE);
	g_free(client);
}

static gboolean
client_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	return callback(user_data);
}

static GSourceFuncs client_source_funcs = {
	.dispatch = client_source_dispatch,
};

static void
client_close(SgJsonrpcClient *client)
{
	SgJsonrpc *server = client->server;

	if (server == NULL)
		return;
	client->server = NULL;
	server->clients = g_list_remove(server->clients, client);
	server->n_clients--;
	sg_clock_clear(server->context->clock, &client->timer_id);
	g_source_destroy(client->source);
	g_clear_pointer(&client->source, g_source_unref);
	close(client->fd);
	client->fd = -1;
	/* Accepting may have paused at the client limit. */
	if (server->listen_id == 0 && server->accept_retry == 0 && server->listen_fd >= 0)
		listen_start(server);
	sg_jsonrpc_client_unref(client);
}

void
sg_jsonrpc_client_send(SgJsonrpcClient *client, const char *text, gsize len)
{
	SgJsonrpc *server = client->server;

	if (server == NULL)
		return;
	/* Checked before appending, so one answer larger than the limit still goes out. */
	if (client->out->len - client->out_pos > SG_CONTROL_OUTPUT_MAX) {
		sg_log_limit_log(&server->misbehaving_log,
		                 "control client (PID %d) does not read its answers: more than %d "
		                 "bytes pending; disconnected",
		                 (int)client->pid, SG_CONTROL_OUTPUT_MAX);
		client_close(client);
		return;
	}
	/* The stall clock starts when output starts to wait. */
	if (client->out_pos == client->out->len)
		client->out_at = now_usec(server);
	g_string_append_len(client->out, text, (gssize)len);
	g_string_append_c(client->out, '\n');
	if (client_flush(client))
		client_update_events(client);
}

/* Writes what it can; FALSE when the client was closed. */
static gboolean
client_flush(SgJsonrpcClient *client)
{
	while (client->server != NULL && client->out_pos < client->out->len) {
		ssize_t n = send(client->fd, client->out->str + client->out_pos,
		                 client->out->len - client->out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return TRUE;
		if (n < 0) {
			sg_context_log(client->server->context, SG_LOG_DEBUG,
			               "control client (PID %d): write failed: %s",
			               (int)client->pid, g_strerror(errno));
			client_close(client);
			return FALSE;
		}
		client->out_pos += (gsize)n;
		client->out_at = now_usec(client->server);
	}
	if (client->server == NULL)
		return FALSE;
	if (client->out_pos == client->out->len) {
		/* Quiet time counts from the last answer read. */
		if (client->out->len > 0)
			client->active_at = now_usec(client->server);
		/* A large answer's buffer goes with it: idle clients hold little. */
		if (client->out->allocated_len > READ_CHUNK) {
			g_string_free(client->out, TRUE);
			client->out = g_string_new(NULL);
		}
		g_string_truncate(client->out, 0);
		client->out_pos = 0;
		/* A client that said all it had to say is done once it has every answer. */
		if (client->eof && !client->busy) {
			client_close(client);
			return FALSE;
		}
	} else if (client->out_pos > 65536 && client->out_pos * 2 > client->out->len) {
		g_string_erase(client->out, 0, (gssize)client->out_pos);
		client->out_pos = 0;
	}
	return TRUE;
}

/* ---- deadlines: idle and stalled clients ---- */

/* Nothing in progress and nothing to wait for: a client that may be timed out or dropped. */
static gboolean
client_is_idle(SgJsonrpcClient *client)
{
	return !client->busy && !client->subscribed && client->out_pos == client->out->len;
}

/* When the client is dropped if nothing changes (0: never). */
static gint64
client_deadline(SgJsonrpcClient *client)
{
	if (client->out_pos < client->out->len)
		return client->out_at + (gint64)SG_CONTROL_STALL_TIMEOUT_S * G_USEC_PER_SEC;
	if (client_is_idle(client))
		return client->active_at + (gint64)SG_CONTROL_IDLE_TIMEOUT_S * G_USEC_PER_SEC;
	return 0;
}

static void client_timer_cb(gpointer user_data);

/*
 * One timeout per client, armed only while it has a deadline. Activity moves the deadline
 * later without re-arming: the timeout then finds it early and waits for the rest.
 */
static void
client_update_timer(SgJsonrpcClient *client)
{
	SgJsonrpc *server = client->server;
	gint64 deadline = client_deadline(client);
	gint64 now;

	if (deadline == 0) {
		sg_clock_clear(server->context->clock, &client->timer_id);
		return;
	}
	if (client->timer_id != 0 && client->timer_at <= deadline)
		return;
	sg_clock_clear(server->context->clock, &client->timer_id);
	now = now_usec(server);
	client->timer_at = deadline;
	client->timer_id = sg_clock_add_timeout(
	        server->context->clock, deadline > now ? (guint64)(deadline - now + 999) / 1000 : 0,
	        client_timer_cb, client);
}

static void
client_timer_cb(gpointer user_data)
{
	SgJsonrpcClient *client = user_data;
	SgJsonrpc *server = client->server;
	gint64 deadline = client_deadline(client);

	client->timer_id = 0;
	if (deadline == 0 || now_usec(server) < deadline) {
		client_update_timer(client);
		return;
	}
	if (client->out_pos < client->out->len)
		sg_log_limit_log(&server->misbehaving_log,
		                 "control client (PID %d) did not read its answers for %d s (%zu "
		                 "bytes pending); disconnected",
		                 (int)client->pid, SG_CONTROL_STALL_TIMEOUT_S,
		                 client->out->len - client->out_pos);
	else
		sg_log_limit_log(&server->idle_log,
		                 "control client (PID %d) sent nothing for %d s; disconnected",
		                 (int)client->pid, SG_CONTROL_IDLE_TIMEOUT_S);
	client_close(client);
}

static void
client_update_events(SgJsonrpcClient *client)
{
	GIOCondition events = 0;

	if (client->server == NULL)
		return;
	/* A busy client's further requests wait in the buffer, up to one line's worth. */
	if (!client->eof && client->in->len <= SG_CONTROL_LINE_MAX)
		events |= G_IO_IN;
	if (client->out_pos < client->out->len)
		events |= G_IO_OUT;
	g_source_modify_unix_fd(client->source, client->tag, events);
	client_update_timer(client);
}

/* Reads what is there; FALSE when the client was closed. */
static gboolean
client_read(SgJsonrpcClient *client)
{
	while (!client->eof && client->in->len <= SG_CONTROL_LINE_MAX) {
		/* Through the stack: the buffer holds what came, not a chunk per client. */
		guint8 chunk[READ_CHUNK];
		ssize_t n = recv(client->fd, chunk, sizeof(chunk), MSG_DONTWAIT);

		if (n > 0) {
			g_byte_array_append(client->in, chunk, (guint)n);
			client->active_at = now_usec(client->server);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			sg_context_log(client->server->context, SG_LOG_DEBUG,
			               "control client (PID %d): read failed: %s", (int)client->pid,
			               g_strerror(errno));
			client_close(client);
			return FALSE;
		}
		if (n == 0)
			client->eof = TRUE;
	}
	return TRUE;
}

static gboolean
client_io_cb(gpointer user_data)
{
	SgJsonrpcClient *client = user_data;
	GIOCondition revents;

	if (client->server == NULL)
		return G_SOURCE_REMOVE;
	revents = g_source_query_unix_fd(client->source, client->tag);
	sg_jsonrpc_client_ref(client);
	if ((revents & G_IO_OUT) && !client_flush(client))
		goto out;
	if ((revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !client_read(client))
		goto out;
	client_process(client);
	if (client->server != NULL && (revents & (G_IO_HUP | G_IO_ERR))) {
		/* Gone for good: what it asked is done, but nobody is left to answer. */
		client_close(client);
		goto out;
	}
	if (client->server != NULL && client_flush(client))
		client_update_events(client);
out:
	sg_jsonrpc_client_unref(client);
	return G_SOURCE_CONTINUE;
}

static void
client_new(SgJsonrpc *server, int fd, pid_t pid)
{
	SgJsonrpcClient *client = g_new0(SgJsonrpcClient, 1);

	client->refcount = 1;
	client->server = server;
	client->fd = fd;
	client->pid = pid;
	client->in = g_byte_array_new();
	client->out = g_string_new(NULL);
	client->active_at = now_usec(server);
	client->source = g_source_new(&client_source_funcs, sizeof(GSource));
	g_source_set_static_name(client->source, "sg-control client");
	client->tag = g_source_add_unix_fd(client->source, fd, G_IO_IN);
	g_source_set_callback(client->source, client_io_cb, client, NULL);
	g_source_attach(client->source, NULL);
	server->clients = g_list_prepend(server->clients, client);
	server->n_clients++;
	client_update_timer(client);
}

static gboolean
client_resume_cb(gpointer user_data)
{
	SgJsonrpcClient *client = user_data;

	client->resume_id = 0;
	if (client->server != NULL) {
		client_process(client);
		if (client->server != NULL && client_flush(client))
			client_update_events(client);
	}
	return G_SOURCE_REMOVE;
}

void
sg_jsonrpc_client_call_done(SgJsonrpcClient *client)
{
	SgJsonrpc *server = client->server;

	client->busy = FALSE;
	if (server != NULL)
		client->active_at = now_usec(server);
	/* Accepting may have paused with every client in a call. */
	if (server != NULL && server->listen_id == 0 && server->accept_retry == 0 &&
	    server->listen_fd >= 0)
		listen_start(server);
	/*
	 * Not from here: an answer may come from inside a supervisor signal, and the next
	 * request may change the engine again.
	 */
	if (client->server != NULL && !client->processing && client->resume_id == 0)
		client->resume_id = g_idle_add_full(G_PRIORITY_DEFAULT, client_resume_cb,
		                                    sg_jsonrpc_client_ref(client),
		                                    (GDestroyNotify)sg_jsonrpc_client_unref);
}

/* ---- framing ---- */

static gboolean
line_is_blank(const char *line, gsize len)
{
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isspace(line[i]))
			return FALSE;
	return TRUE;
}

/* Answers every complete line in order, one call at a time. */
static void
client_process(SgJsonrpcClient *client)
{
	gsize start = 0;

	sg_jsonrpc_client_ref(client);
	client->processing = TRUE;
	while (client->server != NULL && !client->busy) {
		gsize from = MAX(start, client->scanned);
		const guint8 *newline =
		        from < client->in->len
		                ? memchr(client->in->data + from, '\n', client->in->len - from)
		                : NULL;
		gsize end = newline != NULL ? (gsize)(newline - client->in->data) : client->in->len;
		gsize len = end - start;

		if (newline == NULL)
			client->scanned = client->in->len;
		if (len > SG_CONTROL_LINE_MAX) {
			sg_log_limit_log(
			        &client->server->misbehaving_log,
			        "control client (PID %d) sent a line longer than %d bytes; "
			        "disconnected",
			        (int)client->pid, SG_CONTROL_LINE_MAX);
			client_close(client);
			break;
		}
		/* At end of input, a last line without its newline still counts. */
		if (newline == NULL && (!client->eof || len == 0))
			break;
		{
			const char *line = (const char *)client->in->data + start;
			gsize line_len = len > 0 && line[len - 1] == '\r' ? len - 1 : len;

			start = newline != NULL ? end + 1 : end;
			if (line_is_blank(line, line_len))
				continue;
			sg_jsonrpc_handle_request(client, line, line_len);
		}
		/* One request per turn of the loop: a client that sends many at once does not
		 * keep the others, or the timers, waiting. */
		if (client->server != NULL && !client->busy && client->resume_id == 0)
			client->resume_id = g_idle_add_full(
			        G_PRIORITY_DEFAULT, client_resume_cb, sg_jsonrpc_client_ref(client),
			        (GDestroyNotify)sg_jsonrpc_client_unref);
		break;
	}
	if (start > 0 && start == client->in->len && start > READ_CHUNK) {
		/* All consumed, after a large request: let its buffer go. */
		g_byte_array_unref(client->in);
		client->in = g_byte_array_new();
		client->scanned = 0;
	} else if (start > 0) {
		g_byte_array_remove_range(client->in, 0, (guint)start);
		client->scanned = client->scanned > start ? client->scanned - start : 0;
	}
	client->processing = FALSE;
	sg_jsonrpc_client_unref(client);
}

/* ---- notifications ---- */

JsonBuilder *
sg_jsonrpc_notification_begin(const char *method)
{
	JsonBuilder *builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "jsonrpc");
	json_builder_add_string_value(builder, "2.0");
	json_builder_set_member_name(builder, "method");
	json_builder_add_string_value(builder, method);
	json_builder_set_member_name(builder, "params");
	json_builder_begin_object(builder);
	return builder;
}

void
sg_jsonrpc_notification_send(SgJsonrpc *server, JsonBuilder *builder)
{
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *text = NULL;
	GList *next;

	json_builder_end_object(builder);
	json_builder_end_object(builder);
	root = json_builder_get_root(builder);
	text = json_to_string(root, FALSE);
	for (GList *l = server->clients; l != NULL; l = next) {
		SgJsonrpcClient *client = l->data;

		next = l->next;
		if (client->subscribed)
			sg_jsonrpc_client_send(client, text, strlen(text));
	}
}

gboolean
sg_jsonrpc_has_subscribers(SgJsonrpc *server)
{
	for (GList *l = server->clients; l != NULL; l = l->next)
		if (((SgJsonrpcClient *)l->data)->subscribed)
			return TRUE;
	return FALSE;
}

/* ---- listening ---- */

static gboolean accept_cb(int fd, GIOCondition condition, gpointer user_data);

static void
listen_start(SgJsonrpc *server)
{
	if (server->listen_id == 0)
		server->listen_id = g_unix_fd_add(server->listen_fd, G_IO_IN, accept_cb, server);
}

static void
accept_retry_cb(gpointer user_data)
{
	SgJsonrpc *server = user_data;

	server->accept_retry = 0;
	listen_start(server);
}

static void
accept_pause(SgJsonrpc *server, gboolean retry)
{
	g_clear_handle_id(&server->listen_id, g_source_remove);
	if (retry && server->accept_retry == 0)
		server->accept_retry = sg_clock_add_timeout(server->context->clock, ACCEPT_RETRY_MS,
		                                            accept_retry_cb, server);
}

/*
 * Whom to drop for a newcomer when the clients are at their limit: the one quiet longest
 * with nothing in progress, else the subscriber quiet longest; never one in a call or with
 * answers on their way. NULL when there is none.
 */
static SgJsonrpcClient *
room_victim(SgJsonrpc *server)
{
	SgJsonrpcClient *idle = NULL, *subscriber = NULL;

	for (GList *l = server->clients; l != NULL; l = l->next) {
		SgJsonrpcClient *client = l->data;

		if (client->busy || client->out_pos < client->out->len)
			continue;
		if (!client->subscribed && (idle == NULL || client->active_at < idle->active_at))
			idle = client;
		else if (client->subscribed &&
		         (subscriber == NULL || client->active_at < subscriber->active_at))
			subscriber = client;
	}
	return idle != NULL ? idle : subscriber;
}

static void
make_room(SgJsonrpc *server, pid_t newcomer)
{
	SgJsonrpcClient *victim = room_victim(server);

	sg_log_limit_log(&server->room_log,
	                 "control socket: %d clients connected; dropped the one quiet longest "
	                 "(PID %d, %s for %d s) to make room for PID %d",
	                 SG_CONTROL_CLIENTS_MAX, (int)victim->pid,
	                 victim->subscribed ? "subscribed, sent nothing" : "idle",
	                 (int)((now_usec(server) - victim->active_at) / G_USEC_PER_SEC),
	                 (int)newcomer);
	client_close(victim);
}

static gboolean
accept_cb(int listen_fd, GIOCondition condition, gpointer user_data)
{
	SgJsonrpc *server = user_data;

	for (;;) {
		struct ucred cred;
		socklen_t cred_len = sizeof(cred);
		int fd;

		/* Every client in a call: newcomers wait in the backlog until one ends. */
		if (server->n_clients >= SG_CONTROL_CLIENTS_MAX && room_victim(server) == NULL) {
			sg_log_limit_log(
			        &server->room_log,
			        "control socket: %d clients connected, each in a call; new "
			        "clients wait until one ends",
			        SG_CONTROL_CLIENTS_MAX);
			server->listen_id = 0;
			accept_pause(server, FALSE);
			return G_SOURCE_REMOVE;
		}
		fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				sg_context_log(server->context, SG_LOG_WARN,
				               "control socket: cannot accept a client: %s",
				               g_strerror(errno));
				/* Not a spin: listening again when a client leaves, or later. */
				server->listen_id = 0;
				accept_pause(server, TRUE);
				return G_SOURCE_REMOVE;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sg_context_log(server->context, SG_LOG_WARN,
				               "control socket: accept failed: %s",
				               g_strerror(errno));
			return G_SOURCE_CONTINUE;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0) {
			sg_context_log(server->context, SG_LOG_WARN,
			               "control socket: cannot identify a client: %s",
			               g_strerror(errno));
			close(fd);
			continue;
		}
		if (cred.uid != geteuid()) {
			sg_log_limit_log(
			        &server->refused_log,
			        "control socket: refused a client of UID %u (PID %d): only "
			        "UID %u is served",
			        (unsigned)cred.uid, (int)cred.pid, (unsigned)geteuid());
			close(fd);
			continue;
		}
		if (server->n_clients >= SG_CONTROL_CLIENTS_MAX)
			make_room(server, cred.pid);
		client_new(server, fd, cred.pid);
	}
}

static gboolean
bind_socket(SgJsonrpc *server, GError **error)
{
	struct sockaddr_un addr;
	socklen_t len;
	int dir_fd = -1;
	mode_t old_mask;
	int rc, saved;

	if (!sg_sockaddr_control(server->context->state_dir, &addr, &len, &dir_fd, error))
		return FALSE;
	server->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (server->listen_fd < 0) {
		saved = errno;
		if (dir_fd >= 0)
			close(dir_fd);
		return sg_error_set_errno(error, -saved, _("cannot create the control socket"));
	}
	if (unlink(server->socket_path) < 0 && errno != ENOENT)
		sg_context_log(server->context, SG_LOG_WARN, "cannot remove %s: %s",
		               server->socket_path, g_strerror(errno));
	/* Created 0600 from the start: no instant where another user could connect. */
	old_mask = umask(0177);
	rc = bind(server->listen_fd, (struct sockaddr *)&addr, len);
	saved = errno;
	umask(old_mask);
	if (dir_fd >= 0)
		close(dir_fd);
	if (rc < 0)
		return sg_error_set_errno(error, -saved, _("cannot bind the control socket %s"),
		                          server->socket_path);
	if (fchmodat(AT_FDCWD, server->socket_path, 0600, AT_SYMLINK_NOFOLLOW) < 0 ||
	    listen(server->listen_fd, SOMAXCONN) < 0) {
		saved = errno;
		unlink(server->socket_path);
		return sg_error_set_errno(error, -saved,
		                          _("cannot listen on the control socket %s"),
		                          server->socket_path);
	}
	return TRUE;
}

SgJsonrpc *
sg_jsonrpc_new(SgContext *context, const SgJsonrpcMethod *methods, guint n_methods,
               gpointer user_data, GError **error)
{
	SgJsonrpc *server = g_new0(SgJsonrpc, 1);

	server->context = context;
	server->methods = methods;
	server->n_methods = n_methods;
	server->user_data = user_data;
	server->socket_path = sg_paths_state_file(context->state_dir, SG_STATE_SOCKET);
	server->listen_fd = -1;
	sg_log_limit_init(&server->refused_log, context, SG_LOG_WARN,
	                  "control socket: refused clients of another UID");
	sg_log_limit_init(&server->room_log, context, SG_LOG_WARN,
	                  "control socket: dropped clients to make room");
	sg_log_limit_init(&server->idle_log, context, SG_LOG_INFO,
	                  "control socket: disconnected idle clients");
	sg_log_limit_init(&server->misbehaving_log, context, SG_LOG_WARN,
	                  "control socket: disconnected clients that do not read or send too much");
	if (!bind_socket(server, error)) {
		if (server->listen_fd >= 0)
			close(server->listen_fd);
		server->listen_fd = -1;
		sg_jsonrpc_free(server);
		return NULL;
	}
	listen_start(server);
	return server;
}

guint
sg_jsonrpc_client_count(SgJsonrpc *server)
{
	return server->n_clients;
}

void
sg_jsonrpc_free(SgJsonrpc *server)
{
	if (server == NULL)
		return;
	g_clear_handle_id(&server->listen_id, g_source_remove);
	sg_clock_clear(server->context->clock, &server->accept_retry);
	if (server->listen_fd >= 0) {
		close(server->listen_fd);
		server->listen_fd = -1;
		if (unlink(server->socket_path) < 0 && errno != ENOENT)
			sg_context_log(server->context, SG_LOG_WARN, "cannot remove %s: %s",
			               server->socket_path, g_strerror(errno));
	}
	/* Unanswered calls go; what they wait for runs to its end unanswered. */
	while (server->calls != NULL) {
		SgJsonrpcCall *call = server->calls->data;

		server->calls = g_list_delete_link(server->calls, server->calls);
		call->server = NULL;
		sg_jsonrpc_call_free(call);
	}
	while (server->clients != NULL) {
		SgJsonrpcClient *client = sg_jsonrpc_client_ref(server->clients->data);

		/* Last answers (shutdown's) go out if the socket takes them now. */
		client_flush(client);
		client_close(client);
		g_clear_handle_id(&client->resume_id, g_source_remove);
		sg_jsonrpc_client_unref(client);
	}
	sg_log_limit_clear(&server->refused_log);
	sg_log_limit_clear(&server->room_log);
	sg_log_limit_clear(&server->idle_log);
	sg_log_limit_clear(&server->misbehaving_log);
	g_free(server->socket_path);
	g_free(server);
}
