/* SPDX-License-Identifier: MIT */
/* helper-child: a tiny libc-only program that does what its arguments say, for process tests. */
/*
 * Runs its arguments as actions, in order, then exits 0. Output is written with write(2),
 * unbuffered, so its order is deterministic. An unknown action or a malformed argument prints
 * a message on stderr and exits 2; an action that fails (a socket, a file) exits 1.
 *
 *   exit:N              exit with status N now
 *   sleep:MS            sleep MS milliseconds
 *   pause               sleep until killed
 *   ignore-term         ignore SIGTERM from now on
 *   signal:N            raise signal N
 *   stdout:TEXT         write TEXT and a newline to stdout
 *   stderr:TEXT         write TEXT and a newline to stderr
 *   print:N             write N bytes 'x' to stdout (64 KiB at a time), then a newline
 *   stamp:FILE          append "MONO_USEC REAL_USEC PID\n" to FILE in a single O_APPEND write
 *   pids:FILE           from now on, every long-lived process that the following actions
 *                       create appends its PID to FILE as a line, before the action returns
 *   bg:MS               fork a background child that sleeps MS and exits; go on at once
 *   grandchild:MS       fork a child that forks a grandchild sleeping MS and exits at once,
 *                       so the grandchild is re-parented (to the nearest subreaper); the
 *                       action returns once the child is gone
 *   daemon:MS           the same with setsid() between the two forks
 *   wiped-daemon:MS     like daemon:, then the grandchild re-executes this program with an
 *                       empty environment to sleep MS (as `env -i setsid` would); the action
 *                       returns once that exec has happened
 *   wiped-child:MS      fork a child that calls setsid() and re-executes this program with
 *                       an empty environment to sleep MS, while we go on as its parent
 *                       (PostgreSQL's backends look like that); returns once the exec
 *                       has happened
 *   zombie              fork a child that exits at once and is never reaped: it stays a
 *                       zombie while we live; returns once it has exited
 *   rewrite-env         overwrite this process's environment strings with zero bytes, as
 *                       process-title rewriting does (/proc/PID/environ then shows nothing)
 *   nondumpable         prctl(PR_SET_DUMPABLE, 0)
 *   notify:TEXT         send TEXT as one datagram to $NOTIFY_SOCKET ('@' = abstract name);
 *                       the two characters \n in TEXT become a newline; exit 1 if unset
 *   http:PORT           serve HTTP on 127.0.0.1:PORT (SO_REUSEADDR, SO_REUSEPORT): every
 *                       request gets "HTTP/1.0 200 OK" and a short body, forever
 *   http-status:PORT:CODE  the same, answering CODE
 *   listen:PORT         accept TCP connections on 127.0.0.1:PORT and close them, forever
 *                       (for http:, http-status: and listen:, PORT 0 lets the kernel choose
 *                       and prints the chosen port and a newline on stdout)
 *   env:NAME            print "NAME=value", or "NAME unset", on stdout
 *   cwd                 print the working directory
 *   nofile              print the soft RLIMIT_NOFILE ("unlimited" when it is)
 *   fds                 print the open fds, ascending, separated by spaces
 *   wait-file:PATH      block until PATH exists (inotify on its directory, no polling)
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *pids_file;

static void
write_all(int fd, const void *data, size_t length)
{
	const char *p = data;

	while (length > 0) {
		ssize_t n = write(fd, p, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		p += n;
		length -= (size_t)n;
	}
}

static void __attribute__((format(printf, 2, 3))) say(int fd, const char *format, ...)
{
	char buffer[8192];
	va_list args;
	int n;

	va_start(args, format);
	n = vsnprintf(buffer, sizeof buffer, format, args);
	va_end(args);
	if (n < 0)
		_exit(1);
	write_all(fd, buffer, (size_t)n < sizeof buffer ? (size_t)n : sizeof buffer - 1);
}

static void __attribute__((noreturn, format(printf, 2, 3))) die(int status, const char *format, ...)
{
	char buffer[4096];
	va_list args;
	int n;

	va_start(args, format);
	n = vsnprintf(buffer, sizeof buffer, format, args);
	va_end(args);
	if (n > 0)
		say(2, "helper-child: %s\n", buffer);
	_exit(status);
}

static unsigned long long
parse_number(const char *action, const char *text, unsigned long long max)
{
	unsigned long long value;
	char *end;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > max)
		die(2, "bad number in '%s'", action);
	return value;
}

static void
sleep_ms(unsigned long long ms)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(ms / 1000);
	deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR)
		;
}

static void
append_line(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		die(1, "cannot open %s: %s", path, strerror(errno));
	write_all(fd, line, strlen(line));
	close(fd);
}

static void
record_pid(pid_t pid)
{
	char line[32];

	if (pids_file == NULL)
		return;
	snprintf(line, sizeof line, "%d\n", (int)pid);
	append_line(pids_file, line);
}

static long long
now_usec(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* The middle child of a double fork: its failure is ours. */
static void
wait_child(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die(1, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die(1, "the middle child failed");
}

/* bg: a child of ours that sleeps and exits. */
static void
spawn_background(unsigned long long ms)
{
	pid_t child = fork();

	if (child < 0)
		die(1, "fork: %s", strerror(errno));
	if (child == 0) {
		sleep_ms(ms);
		_exit(0);
	}
	record_pid(child);
}

/* In a forked child: becomes "helper-child sleep:MS" with an empty environment. */
static void __attribute__((noreturn))
exec_wiped(const char *self, unsigned long long ms, int report_fd)
{
	char argument[64];
	char *argv[] = { "helper-child", argument, NULL };
	char *envp[] = { NULL };

	snprintf(argument, sizeof argument, "sleep:%llu", ms);
	execve(self, argv, envp);
	write_all(report_fd, "x", 1);
	_exit(127);
}

/* Waits for EOF on the read end of a close-on-exec pipe: the child has exec'd. */
static void
wait_exec(int exec_pipe[2], const char *self)
{
	char byte;
	ssize_t n;

	close(exec_pipe[1]);
	do
		n = read(exec_pipe[0], &byte, 1);
	while (n < 0 && errno == EINTR);
	close(exec_pipe[0]);
	if (n != 0)
		die(1, "cannot re-execute %s", self);
}

static void
find_self(char *self, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", self, size - 1);

	if (n < 0)
		die(1, "cannot find my own executable: %s", strerror(errno));
	self[n] = '\0';
}

/* The middle of a double fork: starts the grandchild, reports it, and leaves. */
static void __attribute__((noreturn))
middle_child(unsigned long long ms, int new_session, const char *reexec)
{
	int exec_pipe[2];
	pid_t grandchild;

	if (new_session && setsid() < 0)
		die(1, "setsid: %s", strerror(errno));
	if (reexec != NULL && pipe2(exec_pipe, O_CLOEXEC) < 0)
		die(1, "pipe: %s", strerror(errno));
	grandchild = fork();
	if (grandchild < 0)
		die(1, "fork: %s", strerror(errno));
	if (grandchild == 0) {
		if (reexec != NULL) {
			close(exec_pipe[0]);
			exec_wiped(reexec, ms, exec_pipe[1]);
		}
		sleep_ms(ms);
		_exit(0);
	}
	/* EOF: the exec happened (the write end was close-on-exec). */
	if (reexec != NULL)
		wait_exec(exec_pipe, reexec);
	record_pid(grandchild);
	_exit(0);
}

/* grandchild:, daemon: and wiped-daemon:: returns once the middle child is gone. */
static void
spawn_detached(unsigned long long ms, int new_session, int wipe_env)
{
	char self[4096];
	pid_t child;

	if (wipe_env)
		find_self(self, sizeof self);
	child = fork();
	if (child < 0)
		die(1, "fork: %s", strerror(errno));
	if (child == 0)
		middle_child(ms, new_session, wipe_env ? self : NULL);
	wait_child(child);
}

/* wiped-child: a child of ours in its own session with no environment, like a PostgreSQL
 * backend after its process title replaced the environment. */
static void
spawn_wiped_child(unsigned long long ms)
{
	char self[4096];
	int exec_pipe[2];
	pid_t child;

	find_self(self, sizeof self);
	if (pipe2(exec_pipe, O_CLOEXEC) < 0)
		die(1, "pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die(1, "fork: %s", strerror(errno));
	if (child == 0) {
		close(exec_pipe[0]);
		if (setsid() < 0)
			die(1, "setsid: %s", strerror(errno));
		exec_wiped(self, ms, exec_pipe[1]);
	}
	wait_exec(exec_pipe, self);
	record_pid(child);
}

/* zombie: a child that has exited and that we never reap. */
static void
spawn_zombie(void)
{
	siginfo_t info;
	pid_t child = fork();

	if (child < 0)
		die(1, "fork: %s", strerror(errno));
	if (child == 0)
		_exit(0);
	while (waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			die(1, "waitid: %s", strerror(errno));
	record_pid(child);
}

static void
rewrite_env(void)
{
	for (char **e = environ; *e != NULL; e++)
		memset(*e, 0, strlen(*e));
	environ[0] = NULL;
}

static void
send_notify(const char *text)
{
	const char *address = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char message[4096];
	size_t length = 0;
	size_t address_length;
	socklen_t sa_length;
	int fd;

	if (address == NULL || address[0] == '\0')
		die(1, "NOTIFY_SOCKET is not set");
	address_length = strlen(address);
	if (address_length >= sizeof sa.sun_path)
		die(1, "NOTIFY_SOCKET is too long");
	memcpy(sa.sun_path, address, address_length);
	sa_length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + address_length);
	if (address[0] == '@')
		sa.sun_path[0] = '\0';
	else
		sa_length++;

	for (const char *p = text; *p != '\0' && length < sizeof message; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			message[length++] = '\n';
			p++;
		} else {
			message[length++] = *p;
		}
	}

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(1, "socket: %s", strerror(errno));
	if (sendto(fd, message, length, 0, (struct sockaddr *)&sa, sa_length) != (ssize_t)length)
		die(1, "cannot send to %s: %s", address, strerror(errno));
	close(fd);
}

static int
listen_tcp(unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t sa_length = sizeof sa;
	int one = 1;
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(1, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die(1, "cannot bind 127.0.0.1:%u: %s", port, strerror(errno));
	if (listen(fd, 128) < 0)
		die(1, "listen: %s", strerror(errno));
	if (port == 0) {
		getsockname(fd, (struct sockaddr *)&sa, &sa_length);
		say(1, "%u\n", (unsigned)ntohs(sa.sin_port));
	}
	return fd;
}

static int
accept_one(int listen_fd)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			return fd;
		if (errno != EINTR && errno != ECONNABORTED)
			die(1, "accept: %s", strerror(errno));
	}
}

static const char *
http_reason(unsigned code)
{
	switch (code) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 404:
		return "Not Found";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

static void
serve_http(unsigned port, unsigned code)
{
	int listen_fd = listen_tcp(port);
	struct timeval timeout = { .tv_sec = 2 };

	for (;;) {
		int fd = accept_one(listen_fd);
		char request[8192];
		char response[512];
		char body[64];
		size_t have = 0;
		int n;

		/* Read the request head first: closing with unread data would reset the
		 * connection before the client reads the answer. A silent client is given up on. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
		while (have < sizeof request - 1) {
			ssize_t r = read(fd, request + have, sizeof request - 1 - have);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			have += (size_t)r;
			request[have] = '\0';
			if (strstr(request, "\r\n\r\n") != NULL || strstr(request, "\n\n") != NULL)
				break;
		}
		snprintf(body, sizeof body, code == 200 ? "ok\n" : "status %u\n", code);
		n = snprintf(response, sizeof response,
		             "HTTP/1.0 %u %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		             "Connection: close\r\n\r\n%s",
		             code, http_reason(code), strlen(body), body);
		if (send(fd, response, (size_t)n, MSG_NOSIGNAL) >= 0)
			shutdown(fd, SHUT_WR);
		close(fd);
	}
}

static void
serve_listen(unsigned port)
{
	int listen_fd = listen_tcp(port);

	for (;;)
		close(accept_one(listen_fd));
}

static int
compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a;
	int y = *(const int *)b;

	return (x > y) - (x < y);
}

static void
print_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	int fds[1024];
	size_t n = 0;
	char line[8192];
	size_t length = 0;

	if (dir == NULL)
		die(1, "cannot list /proc/self/fd: %s", strerror(errno));
	while ((entry = readdir(dir)) != NULL && n < sizeof fds / sizeof fds[0]) {
		if (entry->d_name[0] == '.')
			continue;
		fds[n] = atoi(entry->d_name);
		if (fds[n] != dirfd(dir))
			n++;
	}
	closedir(dir);
	qsort(fds, n, sizeof fds[0], compare_ints);
	for (size_t i = 0; i < n && length < sizeof line - 16; i++)
		length += (size_t)snprintf(line + length, sizeof line - length, "%s%d",
		                           i > 0 ? " " : "", fds[i]);
	line[length++] = '\n';
	write_all(1, line, length);
}

static void
wait_file(const char *path)
{
	char directory[4096];
	const char *slash = strrchr(path, '/');
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int fd;

	if (slash == NULL)
		snprintf(directory, sizeof directory, ".");
	else if (slash == path)
		snprintf(directory, sizeof directory, "/");
	else
		snprintf(directory, sizeof directory, "%.*s", (int)(slash - path), path);

	fd = inotify_init1(IN_CLOEXEC);
	if (fd < 0)
		die(1, "inotify: %s", strerror(errno));
	if (inotify_add_watch(fd, directory, IN_CREATE | IN_MOVED_TO | IN_ATTRIB) < 0)
		die(1, "cannot watch %s: %s", directory, strerror(errno));
	/* Checked after the watch exists, and again after every event: nothing can slip by. */
	while (access(path, F_OK) != 0) {
		if (read(fd, events, sizeof events) < 0 && errno != EINTR)
			die(1, "inotify read: %s", strerror(errno));
	}
	close(fd);
}

static void
print_nofile(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
		die(1, "getrlimit: %s", strerror(errno));
	if (limit.rlim_cur == RLIM_INFINITY)
		say(1, "unlimited\n");
	else
		say(1, "%llu\n", (unsigned long long)limit.rlim_cur);
}

static void
print_x(unsigned long long count)
{
	static char chunk[64 * 1024];

	memset(chunk, 'x', sizeof chunk);
	while (count > 0) {
		size_t n = count < sizeof chunk ? (size_t)count : sizeof chunk;

		write_all(1, chunk, n);
		count -= n;
	}
	write_all(1, "\n", 1);
}

/* The part after "name:" when action is "name:...", else NULL. */
static const char *
argument_of(const char *action, const char *name)
{
	size_t length = strlen(name);

	if (strncmp(action, name, length) == 0 && action[length] == ':')
		return action + length + 1;
	return NULL;
}

static void
run_action(const char *action)
{
	const char *arg;

	if ((arg = argument_of(action, "exit")) != NULL) {
		_exit((int)parse_number(action, arg, 255));
	} else if ((arg = argument_of(action, "sleep")) != NULL) {
		sleep_ms(parse_number(action, arg, UINT32_MAX));
	} else if (strcmp(action, "pause") == 0) {
		for (;;)
			pause();
	} else if (strcmp(action, "ignore-term") == 0) {
		struct sigaction sa = { .sa_handler = SIG_IGN };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
	} else if ((arg = argument_of(action, "signal")) != NULL) {
		raise((int)parse_number(action, arg, 64));
	} else if ((arg = argument_of(action, "stdout")) != NULL) {
		say(1, "%s\n", arg);
	} else if ((arg = argument_of(action, "stderr")) != NULL) {
		say(2, "%s\n", arg);
	} else if ((arg = argument_of(action, "print")) != NULL) {
		print_x(parse_number(action, arg, ULLONG_MAX));
	} else if ((arg = argument_of(action, "stamp")) != NULL) {
		char line[96];

		snprintf(line, sizeof line, "%lld %lld %d\n", now_usec(CLOCK_MONOTONIC),
		         now_usec(CLOCK_REALTIME), (int)getpid());
		append_line(arg, line);
	} else if ((arg = argument_of(action, "pids")) != NULL) {
		pids_file = arg;
	} else if ((arg = argument_of(action, "bg")) != NULL) {
		spawn_background(parse_number(action, arg, UINT32_MAX));
	} else if ((arg = argument_of(action, "grandchild")) != NULL) {
		spawn_detached(parse_number(action, arg, UINT32_MAX), 0, 0);
	} else if ((arg = argument_of(action, "daemon")) != NULL) {
		spawn_detached(parse_number(action, arg, UINT32_MAX), 1, 0);
	} else if ((arg = argument_of(action, "wiped-daemon")) != NULL) {
		spawn_detached(parse_number(action, arg, UINT32_MAX), 1, 1);
	} else if ((arg = argument_of(action, "wiped-child")) != NULL) {
		spawn_wiped_child(parse_number(action, arg, UINT32_MAX));
	} else if (strcmp(action, "zombie") == 0) {
		spawn_zombie();
	} else if (strcmp(action, "rewrite-env") == 0) {
		rewrite_env();
	} else if (strcmp(action, "nondumpable") == 0) {
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			die(1, "prctl: %s", strerror(errno));
	} else if ((arg = argument_of(action, "notify")) != NULL) {
		send_notify(arg);
	} else if ((arg = argument_of(action, "http")) != NULL) {
		serve_http((unsigned)parse_number(action, arg, 65535), 200);
	} else if ((arg = argument_of(action, "http-status")) != NULL) {
		char port[16];
		const char *colon = strchr(arg, ':');

		if (colon == NULL || (size_t)(colon - arg) >= sizeof port)
			die(2, "expected http-status:PORT:CODE, got '%s'", action);
		snprintf(port, sizeof port, "%.*s", (int)(colon - arg), arg);
		serve_http((unsigned)parse_number(action, port, 65535),
		           (unsigned)parse_number(action, colon + 1, 999));
	} else if ((arg = argument_of(action, "listen")) != NULL) {
		serve_listen((unsigned)parse_number(action, arg, 65535));
	} else if ((arg = argument_of(action, "env")) != NULL) {
		const char *value = getenv(arg);

		if (value != NULL)
			say(1, "%s=%s\n", arg, value);
		else
			say(1, "%s unset\n", arg);
	} else if (strcmp(action, "cwd") == 0) {
		char path[4096];

		if (getcwd(path, sizeof path) == NULL)
			die(1, "getcwd: %s", strerror(errno));
		say(1, "%s\n", path);
	} else if (strcmp(action, "nofile") == 0) {
		print_nofile();
	} else if (strcmp(action, "fds") == 0) {
		print_fds();
	} else if ((arg = argument_of(action, "wait-file")) != NULL) {
		wait_file(arg);
	} else {
		die(2, "unknown action '%s'", action);
	}
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		run_action(argv[i]);
	return 0;
}
