/* SPDX-License-Identifier: MIT */
/* Tests of the sd_notify sockets: attribution by socket, credentials, passed fds, limits. */
#include "config.h"

#include "process/sg-notify.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/sg-test.h"

#define WAIT_SECONDS 10

typedef struct {
	SgNotifySocket *socket;
	GPtrArray *messages; /* GHashTable* */
	gboolean free_in_callback;
} Receiver;

static void
receiver_cb(SgNotifySocket *socket, GHashTable *fields, gpointer user_data)
{
	Receiver *receiver = user_data;

	g_assert_true(socket == receiver->socket);
	g_ptr_array_add(receiver->messages, g_hash_table_ref(fields));
	if (receiver->free_in_callback)
		g_clear_pointer(&receiver->socket, sg_notify_socket_free);
}

static void
receiver_init(Receiver *receiver, const char *state_id, const char *service)
{
	g_autoptr(GError) error = NULL;

	receiver->messages = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_unref);
	receiver->socket = sg_notify_socket_new(state_id, service, receiver_cb, receiver, &error);
	g_assert_no_error(error);
	g_assert_nonnull(receiver->socket);
}

static void
receiver_clear(Receiver *receiver)
{
	g_clear_pointer(&receiver->socket, sg_notify_socket_free);
	g_clear_pointer(&receiver->messages, g_ptr_array_unref);
}

static const char *
field(Receiver *receiver, guint index, const char *key)
{
	g_assert_cmpuint(index, <, receiver->messages->len);
	return g_hash_table_lookup(g_ptr_array_index(receiver->messages, index), key);
}

/* A state id of its own, so parallel test runs never share an abstract name. */
static char *
new_state_id(void)
{
	static guint counter;

	return g_strdup_printf("test-%d-%u-%u", (int)getpid(), counter++, g_random_int());
}

/* Iterates the loop until cond holds or the deadline passes; returns cond. */
#define WAIT_FOR(cond)                                                                             \
	G_STMT_START                                                                               \
	{                                                                                          \
		gboolean timed_out_ = FALSE;                                                       \
		guint id_ = g_timeout_add_seconds(WAIT_SECONDS, sg_test_deadline_cb, &timed_out_); \
		while (!(cond) && !timed_out_)                                                     \
			g_main_context_iteration(NULL, TRUE);                                      \
		if (!timed_out_)                                                                   \
			g_source_remove(id_);                                                      \
		g_assert_true(cond);                                                               \
	}                                                                                          \
	G_STMT_END

static socklen_t
abstract_address(const char *address, struct sockaddr_un *addr)
{
	gsize len = strlen(address);

	g_assert_true(address[0] == '@');
	g_assert_cmpuint(len, <=, sizeof(addr->sun_path));
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path + 1, address + 1, len - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

/* Sends one datagram, with fds attached when n_fds > 0; returns 0 or -errno. */
static int
send_datagram(const char *address, const void *data, gsize len, const int *fds, guint n_fds)
{
	struct sockaddr_un addr;
	socklen_t addr_len = abstract_address(address, &addr);
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} control;
	struct msghdr msg = {
		.msg_name = &addr,
		.msg_namelen = addr_len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	int fd, r = 0;

	g_assert_cmpuint(n_fds, <=, 16);
	if (n_fds > 0) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		msg.msg_control = &control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void
send_text(const char *address, const char *text)
{
	g_assert_cmpint(send_datagram(address, text, strlen(text), NULL, 0), ==, 0);
}

/* Datagrams are queued in order: once a marker sent last has arrived, anything sent
 * before it that is missing was dropped. */
static void
send_marker_and_wait(Receiver *receiver, const char *address)
{
	guint before = receiver->messages->len;

	send_text(address, "MARKER=1");
	WAIT_FOR(receiver->messages->len > before &&
	         g_hash_table_contains(
	                 g_ptr_array_index(receiver->messages, receiver->messages->len - 1),
	                 "MARKER"));
}

static void
test_address(void)
{
	g_autofree char *state_id = new_state_id();
	g_autofree char *expected = g_strdup_printf("@systemg/%s/web.api-1", state_id);
	Receiver receiver = { 0 };

	receiver_init(&receiver, state_id, "web.api-1");
	g_assert_cmpstr(sg_notify_socket_address(receiver.socket), ==, expected);
	receiver_clear(&receiver);
}

static void
test_fields(void)
{
	g_autofree char *state_id = new_state_id();
	Receiver receiver = { 0 };
	const char *address;

	receiver_init(&receiver, state_id, "svc");
	address = sg_notify_socket_address(receiver.socket);
	send_text(address, "READY=1\nSTATUS=Serving on port 8080\nMAINPID=4242\n"
	                   "no equals sign\n=no key\nEMPTY=\nX=a=b");
	WAIT_FOR(receiver.messages->len == 1);
	g_assert_cmpstr(field(&receiver, 0, "READY"), ==, "1");
	g_assert_cmpstr(field(&receiver, 0, "STATUS"), ==, "Serving on port 8080");
	g_assert_cmpstr(field(&receiver, 0, "MAINPID"), ==, "4242");
	g_assert_cmpstr(field(&receiver, 0, "EMPTY"), ==, "");
	g_assert_cmpstr(field(&receiver, 0, "X"), ==, "a=b");
	g_assert_cmpuint(g_hash_table_size(g_ptr_array_index(receiver.messages, 0)), ==, 5);

	/* Nothing usable in it: no callback at all. */
	send_text(address, "garbage\n\n");
	send_marker_and_wait(&receiver, address);
	g_assert_cmpuint(receiver.messages->len, ==, 2);
	receiver_clear(&receiver);
}

typedef struct {
	GPid pid;
	gboolean exited;
	int status;
} Child;

static void
child_exited_cb(GPid pid, int status, gpointer user_data)
{
	Child *child = user_data;

	child->exited = TRUE;
	child->status = status;
	g_spawn_close_pid(pid);
}

/* No reaper in this binary: GLib's child watch is fine here. */
static void
child_spawn(Child *child, char **argv, const char *notify_socket)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) envp =
	        g_environ_setenv(g_get_environ(), "NOTIFY_SOCKET", notify_socket, TRUE);

	memset(child, 0, sizeof(*child));
	g_spawn_async(NULL, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &child->pid, &error);
	g_assert_no_error(error);
	g_child_watch_add(child->pid, child_exited_cb, child);
}

static void
child_wait(Child *child)
{
	WAIT_FOR(child->exited);
	g_assert_true(WIFEXITED(child->status));
	g_assert_cmpint(WEXITSTATUS(child->status), ==, 0);
}

static void
test_helper_ready(void)
{
	g_autofree char *state_id = new_state_id();
	const char *helper = g_getenv("SG_TEST_HELPER_CHILD");
	Receiver a = { 0 }, b = { 0 };
	Child child;

	if (helper == NULL) {
		g_test_skip("SG_TEST_HELPER_CHILD is not set");
		return;
	}
	receiver_init(&a, state_id, "a");
	receiver_init(&b, state_id, "b");
	{
		char *argv[] = { (char *)helper, (char *)"notify:READY=1", NULL };
		child_spawn(&child, argv, sg_notify_socket_address(b.socket));
	}
	WAIT_FOR(b.messages->len == 1);
	g_assert_cmpstr(field(&b, 0, "READY"), ==, "1");
	child_wait(&child);
	/* Attribution is by socket: a heard nothing. */
	send_marker_and_wait(&a, sg_notify_socket_address(a.socket));
	g_assert_cmpuint(a.messages->len, ==, 1);
	g_assert_cmpuint(b.messages->len, ==, 1);
	receiver_clear(&a);
	receiver_clear(&b);
}

static void
test_systemd_notify(void)
{
	g_autofree char *program = g_find_program_in_path("systemd-notify");
	g_autofree char *state_id = new_state_id();
	Receiver receiver = { 0 };
	Child child;
	gint64 start;

	if (program == NULL) {
		g_test_skip("systemd-notify is not installed");
		return;
	}
	receiver_init(&receiver, state_id, "svc");
	start = g_get_monotonic_time();
	{
		char *argv[] = { program, (char *)"--ready", (char *)"--status=up and running",
			         NULL };
		child_spawn(&child, argv, sg_notify_socket_address(receiver.socket));
	}
	WAIT_FOR(receiver.messages->len >= 1 && child.exited);
	child_wait(&child);
	/* Its barrier waits up to 5 s for the passed fd to be closed: it was, at once. */
	g_assert_cmpint(g_get_monotonic_time() - start, <, 4 * G_USEC_PER_SEC);
	for (guint i = 0; i < receiver.messages->len; i++) {
		if (field(&receiver, i, "READY") != NULL) {
			g_assert_cmpstr(field(&receiver, i, "READY"), ==, "1");
			g_assert_cmpstr(field(&receiver, i, "STATUS"), ==, "up and running");
			receiver_clear(&receiver);
			return;
		}
	}
	g_assert_not_reached();
}

static void
assert_pipe_eof(int read_fd)
{
	char c;

	g_assert_cmpint(read(read_fd, &c, 1), ==, 0);
}

static void
test_fds_closed(void)
{
	g_autofree char *state_id = new_state_id();
	g_autofree char *big = NULL;
	Receiver receiver = { 0 };
	const char *address;
	int first[2], many[8][2], dropped[2];
	int write_ends[8];

	receiver_init(&receiver, state_id, "svc");
	address = sg_notify_socket_address(receiver.socket);

	/* systemd-notify's barrier: one fd, closed as soon as the message is read. */
	g_assert_cmpint(pipe2(first, O_CLOEXEC | O_NONBLOCK), ==, 0);
	g_assert_cmpint(send_datagram(address, "BARRIER=1", 9, &first[1], 1), ==, 0);
	close(first[1]);
	WAIT_FOR(receiver.messages->len == 1);
	g_assert_cmpstr(field(&receiver, 0, "BARRIER"), ==, "1");
	assert_pipe_eof(first[0]);
	close(first[0]);

	/* Several at once. */
	for (guint i = 0; i < G_N_ELEMENTS(many); i++) {
		g_assert_cmpint(pipe2(many[i], O_CLOEXEC | O_NONBLOCK), ==, 0);
		write_ends[i] = many[i][1];
	}
	g_assert_cmpint(send_datagram(address, "X=1", 3, write_ends, G_N_ELEMENTS(many)), ==, 0);
	for (guint i = 0; i < G_N_ELEMENTS(many); i++)
		close(many[i][1]);
	WAIT_FOR(receiver.messages->len == 2);
	for (guint i = 0; i < G_N_ELEMENTS(many); i++) {
		assert_pipe_eof(many[i][0]);
		close(many[i][0]);
	}

	/* A message that is dropped still has its fds closed. */
	big = g_malloc(5000);
	memset(big, 'x', 5000);
	memcpy(big, "READY=1\nPAD=", 12);
	g_assert_cmpint(pipe2(dropped, O_CLOEXEC | O_NONBLOCK), ==, 0);
	g_assert_cmpint(send_datagram(address, big, 5000, &dropped[1], 1), ==, 0);
	close(dropped[1]);
	send_marker_and_wait(&receiver, address);
	g_assert_cmpuint(receiver.messages->len, ==, 3);
	assert_pipe_eof(dropped[0]);
	close(dropped[0]);
	receiver_clear(&receiver);
}

static void
test_oversized(void)
{
	g_autofree char *state_id = new_state_id();
	g_autofree char *data = g_malloc(4097);
	Receiver receiver = { 0 };
	const char *address;

	receiver_init(&receiver, state_id, "svc");
	address = sg_notify_socket_address(receiver.socket);

	/* 4097 bytes: dropped whole, even though it starts with READY=1. */
	memset(data, 'x', 4097);
	memcpy(data, "READY=1\nPAD=", 12);
	g_assert_cmpint(send_datagram(address, data, 4097, NULL, 0), ==, 0);
	send_marker_and_wait(&receiver, address);
	g_assert_cmpuint(receiver.messages->len, ==, 1);

	/* Exactly 4096 bytes is still fine. */
	g_assert_cmpint(send_datagram(address, data, 4096, NULL, 0), ==, 0);
	WAIT_FOR(receiver.messages->len == 2);
	g_assert_cmpstr(field(&receiver, 1, "READY"), ==, "1");
	g_assert_cmpuint(strlen(field(&receiver, 1, "PAD")), ==, 4096 - 12);
	receiver_clear(&receiver);
}

static void
test_other_uid(void)
{
	g_autofree char *state_id = new_state_id();
	Receiver receiver = { 0 };
	const char *address;
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		g_test_skip("sending as another user needs root");
		return;
	}
	receiver_init(&receiver, state_id, "svc");
	address = sg_notify_socket_address(receiver.socket);

	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		_exit(send_datagram(address, "READY=1", 7, NULL, 0) == 0 ? 0 : 3);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);

	send_marker_and_wait(&receiver, address);
	g_assert_cmpuint(receiver.messages->len, ==, 1);
	receiver_clear(&receiver);
}

static void
test_name_clash(void)
{
	g_autofree char *state_id = new_state_id();
	g_autoptr(GError) error = NULL;
	g_autoptr(SgNotifySocket) again = NULL;
	Receiver receiver = { 0 };

	receiver_init(&receiver, state_id, "svc");
	again = sg_notify_socket_new(state_id, "svc", receiver_cb, &receiver, &error);
	g_assert_null(again);
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, "already in use"));
	g_assert_nonnull(strstr(error->message, state_id));
	g_clear_error(&error);

	/* The name goes with the socket: free, then bind again. */
	g_clear_pointer(&receiver.socket, sg_notify_socket_free);
	receiver.socket = sg_notify_socket_new(state_id, "svc", receiver_cb, &receiver, &error);
	g_assert_no_error(error);
	g_assert_nonnull(receiver.socket);
	receiver_clear(&receiver);

	/* A name the kernel cannot hold is refused, not truncated. */
	{
		g_autofree char *long_name = g_strnfill(120, 'n');
		g_autoptr(SgNotifySocket) too_long =
		        sg_notify_socket_new(state_id, long_name, receiver_cb, &receiver, &error);
		g_assert_null(too_long);
		g_assert_nonnull(error);
	}
}

static void
test_free_in_callback(void)
{
	g_autofree char *state_id = new_state_id();
	g_autofree char *address = NULL;
	Receiver receiver = { 0 };

	receiver_init(&receiver, state_id, "svc");
	receiver.free_in_callback = TRUE;
	address = g_strdup(sg_notify_socket_address(receiver.socket));
	/* Several queued: the first callback frees the socket, the rest must not be read. */
	for (int i = 0; i < 5; i++)
		send_text(address, "READY=1");
	WAIT_FOR(receiver.socket == NULL);
	g_assert_cmpuint(receiver.messages->len, ==, 1);
	/* Whatever is still pending runs now: none of it may be a callback. */
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(receiver.messages->len, ==, 1);
	receiver_clear(&receiver);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/sg/notify/address", test_address);
	g_test_add_func("/sg/notify/fields", test_fields);
	g_test_add_func("/sg/notify/helper-ready", test_helper_ready);
	g_test_add_func("/sg/notify/systemd-notify", test_systemd_notify);
	g_test_add_func("/sg/notify/fds-closed", test_fds_closed);
	g_test_add_func("/sg/notify/oversized", test_oversized);
	g_test_add_func("/sg/notify/other-uid", test_other_uid);
	g_test_add_func("/sg/notify/name-clash", test_name_clash);
	g_test_add_func("/sg/notify/free-in-callback", test_free_in_callback);
	return g_test_run();
}
