/* SPDX-License-Identifier: MIT */
/* sd_notify sockets: one abstract datagram socket per service, credentials checked, fds closed. */
#include "config.h"

#define G_LOG_DOMAIN "sg-notify"

#include "process/sg-notify.h"

#include "base/sg-error.h"
#include "base/sg-limits.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct _SgNotifySocket {
	int fd;
	GSource *source;
	char *address; /* "@systemg/STATE_ID/SERVICE" */
	SgNotifyFunc func;
	gpointer user_data;
	gboolean dispatching;
	gboolean free_pending; /* freed from inside func: finish after the callback */
};

static void
close_passed_fds(struct msghdr *msg)
{
	for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	     cmsg = CMSG_NXTHDR(msg, cmsg)) {
		size_t n;
		const int *fds;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (const int *)(gconstpointer)CMSG_DATA(cmsg);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, &fds[i], sizeof(fd));
			if (fd >= 0)
				close(fd);
		}
	}
}

static gboolean
sender_is_us(struct msghdr *msg)
{
	for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	     cmsg = CMSG_NXTHDR(msg, cmsg)) {
		struct ucred cred;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_CREDENTIALS ||
		    cmsg->cmsg_len != CMSG_LEN(sizeof(cred)))
			continue;
		memcpy(&cred, CMSG_DATA(cmsg), sizeof(cred));
		return cred.uid == geteuid();
	}
	return FALSE;
}

/* KEY=VALUE lines; lines without '=' or that are not UTF-8 (values reach JSON and D-Bus) are
 * ignored. */
static GHashTable *
parse_fields(const char *data, gsize len)
{
	GHashTable *fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	const char *end = data + len;
	const char *line = data;

	while (line < end) {
		const char *eol = memchr(line, '\n', (gsize)(end - line));
		const char *line_end = eol != NULL ? eol : end;
		const char *eq = memchr(line, '=', (gsize)(line_end - line));

		if (eq != NULL && eq > line && g_utf8_validate(line, line_end - line, NULL))
			g_hash_table_insert(fields, g_strndup(line, (gsize)(eq - line)),
			                    g_strndup(eq + 1, (gsize)(line_end - eq - 1)));
		line = line_end + 1;
	}
	return fields;
}

/* Returns FALSE when there is nothing more to read now. */
static gboolean
receive_one(SgNotifySocket *notify)
{
	char data[SG_NOTIFY_MESSAGE_MAX];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
		         CMSG_SPACE(sizeof(int) * SG_NOTIFY_FDS_MAX)];
	} control;
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = &control,
		.msg_controllen = sizeof(control),
	};
	g_autoptr(GHashTable) fields = NULL;
	ssize_t n;

	n = recvmsg(notify->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
	if (n < 0) {
		if (errno == EINTR)
			return TRUE;
		if (errno != EAGAIN)
			g_debug("%s: recvmsg: %s", notify->address, g_strerror(errno));
		return FALSE;
	}
	/* Whatever the message says, passed descriptors are closed now: systemd-notify's
	 * BARRIER=1 waits for exactly that. MSG_CTRUNC only means the kernel closed some. */
	close_passed_fds(&msg);

	if (!sender_is_us(&msg)) {
		g_debug("%s: dropped a message from another user", notify->address);
		return TRUE;
	}
	if ((msg.msg_flags & MSG_TRUNC) || n > SG_NOTIFY_MESSAGE_MAX) {
		g_debug("%s: dropped a message of %zd bytes", notify->address, n);
		return TRUE;
	}
	fields = parse_fields(data, (gsize)n);
	if (g_hash_table_size(fields) > 0)
		notify->func(notify, fields, notify->user_data);
	return TRUE;
}

static void
notify_socket_destroy(SgNotifySocket *notify)
{
	g_free(notify->address);
	g_free(notify);
}

static gboolean
notify_readable_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgNotifySocket *notify = user_data;

	notify->dispatching = TRUE;
	for (guint i = 0; i < SG_NOTIFY_BATCH_MAX && !notify->free_pending; i++) {
		if (!receive_one(notify))
			break;
	}
	notify->dispatching = FALSE;
	if (notify->free_pending) {
		notify_socket_destroy(notify);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
notify_bind(int fd, const char *name, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	gsize len = strlen(name);

	/* Abstract namespace: a leading NUL, then the name without terminator. */
	if (len + 1 > sizeof(addr.sun_path)) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("notify socket name @%s is longer than %zu bytes"), name,
		            sizeof(addr.sun_path) - 1);
		return FALSE;
	}
	memcpy(addr.sun_path + 1, name, len);
	if (bind(fd, (struct sockaddr *)&addr,
	         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0) {
		int saved = errno;
		if (saved == EADDRINUSE) {
			g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
			            _("notify socket @%s is already in use: another supervisor "
			              "runs with the same state id"),
			            name);
			return FALSE;
		}
		return sg_error_set_errno(error, -saved, _("cannot bind notify socket @%s"), name);
	}
	return TRUE;
}

SgNotifySocket *
sg_notify_socket_new(const char *state_id, const char *service, SgNotifyFunc func,
                     gpointer user_data, GError **error)
{
	g_autofree char *name = NULL;
	SgNotifySocket *notify;
	int fd, one = 1;

	g_return_val_if_fail(state_id != NULL && service != NULL && func != NULL, NULL);

	name = g_strdup_printf("systemg/%s/%s", state_id, service);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		sg_error_set_errno(error, -errno, _("cannot create notify socket"));
		return NULL;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		sg_error_set_errno(error, -errno, _("cannot enable credentials on notify socket"));
		close(fd);
		return NULL;
	}
	if (!notify_bind(fd, name, error)) {
		close(fd);
		return NULL;
	}

	notify = g_new0(SgNotifySocket, 1);
	notify->fd = fd;
	notify->address = g_strconcat("@", name, NULL);
	notify->func = func;
	notify->user_data = user_data;
	notify->source = g_unix_fd_source_new(fd, G_IO_IN);
	g_source_set_callback(notify->source, G_SOURCE_FUNC(notify_readable_cb), notify, NULL);
	g_source_set_static_name(notify->source, "sg-notify");
	g_source_attach(notify->source, g_main_context_get_thread_default());
	return notify;
}

void
sg_notify_socket_free(SgNotifySocket *notify)
{
	if (notify == NULL)
		return;
	if (notify->source != NULL) {
		g_source_destroy(notify->source);
		g_clear_pointer(&notify->source, g_source_unref);
	}
	if (notify->fd >= 0) {
		close(notify->fd);
		notify->fd = -1;
	}
	if (notify->dispatching) {
		notify->free_pending = TRUE;
		return;
	}
	notify_socket_destroy(notify);
}

const char *
sg_notify_socket_address(SgNotifySocket *notify)
{
	return notify->address;
}
