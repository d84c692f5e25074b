/* SPDX-License-Identifier: MIT */
/* Runs helper shell commands through sg-spawn and the reaper, logging their output. */
#include "config.h"

#include "process/sg-command.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process/sg-ownership.h"
#include "process/sg-spawn.h"
#include "base/sg-limits.h"

struct _SgCommand {
	SgContext *context;
	char *label;
	pid_t pid;
	int output_fd;
	guint output_source;
	GString *pending; /* a partial line of output */
	guint timeout_id;
	guint failure_idle_id;
	gboolean timed_out;
	guint64 timeout_ms;
	SgCommandDoneFunc done;
	gpointer user_data;
};

char *
sg_command_describe_status(int wait_status)
{
	if (wait_status < 0)
		return g_strdup("unknown status");
	if (WIFEXITED(wait_status))
		return g_strdup_printf("exit status %d", WEXITSTATUS(wait_status));
	if (WIFSIGNALED(wait_status))
		return g_strdup_printf("killed by signal %d (SIG%s)", WTERMSIG(wait_status),
		                       sigabbrev_np(WTERMSIG(wait_status)) != NULL
		                               ? sigabbrev_np(WTERMSIG(wait_status))
		                               : "?");
	return g_strdup_printf("wait status %d", wait_status);
}

static void
log_line(SgCommand *command, const char *line, gsize len)
{
	sg_context_log(command->context, SG_LOG_INFO, "%s: %.*s", command->label, (int)len, line);
}

static void
flush_lines(SgCommand *command, gboolean final)
{
	char *start = command->pending->str;
	char *newline;

	while ((newline = memchr(start, '\n',
	                         command->pending->len - (gsize)(start - command->pending->str))) !=
	       NULL) {
		log_line(command, start, (gsize)(newline - start));
		start = newline + 1;
	}
	g_string_erase(command->pending, 0, start - command->pending->str);
	if ((final && command->pending->len > 0) || command->pending->len > SG_COMMAND_LINE_MAX) {
		log_line(command, command->pending->str, command->pending->len);
		g_string_truncate(command->pending, 0);
	}
}

static void
drain_output(SgCommand *command)
{
	char buffer[4096];
	ssize_t got;

	while ((got = read(command->output_fd, buffer, sizeof(buffer))) > 0) {
		g_string_append_len(command->pending, buffer, got);
		flush_lines(command, FALSE);
	}
}

static void
close_output(SgCommand *command)
{
	if (command->output_fd < 0)
		return;
	drain_output(command);
	flush_lines(command, TRUE);
	g_clear_handle_id(&command->output_source, g_source_remove);
	close(command->output_fd);
	command->output_fd = -1;
}

static gboolean
output_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgCommand *command = user_data;
	char buffer[4096];
	ssize_t got = read(fd, buffer, sizeof(buffer));

	if (got > 0) {
		g_string_append_len(command->pending, buffer, got);
		flush_lines(command, FALSE);
		return G_SOURCE_CONTINUE;
	}
	if (got < 0 && errno == EAGAIN)
		return G_SOURCE_CONTINUE;
	/* EOF: every writer closed the pipe; the exit is reported by the reaper. */
	command->output_source = 0;
	flush_lines(command, TRUE);
	close(command->output_fd);
	command->output_fd = -1;
	return G_SOURCE_REMOVE;
}

static void
command_free(SgCommand *command)
{
	close_output(command);
	sg_clock_clear(command->context->clock, &command->timeout_id);
	g_clear_handle_id(&command->failure_idle_id, g_source_remove);
	g_string_free(command->pending, TRUE);
	g_free(command->label);
	g_free(command);
}

static void
exited_cb(pid_t pid, int wait_status, gpointer user_data)
{
	SgCommand *command = user_data;
	g_autofree char *cause = NULL;

	g_hash_table_remove(command->context->known_pids, GINT_TO_POINTER(pid));
	close_output(command);
	if (command->timed_out) {
		cause = g_strdup_printf("timed out after %" G_GUINT64_FORMAT " ms",
		                        command->timeout_ms);
		wait_status = -1;
	}
	command->done(wait_status, cause, command->user_data);
	command_free(command);
}

static void
timeout_cb(gpointer user_data)
{
	SgCommand *command = user_data;

	command->timeout_id = 0;
	command->timed_out = TRUE;
	sg_context_log(command->context, SG_LOG_WARN, "%s: killed after %" G_GUINT64_FORMAT " ms",
	               command->label, command->timeout_ms);
	(void)sg_ownership_signal_child(command->pid, TRUE, SIGKILL);
}

static gboolean
report_failure_cb(gpointer user_data)
{
	SgCommand *command = user_data;

	command->failure_idle_id = 0;
	command->done(-1, "cannot start /bin/sh", command->user_data);
	command_free(command);
	return G_SOURCE_REMOVE;
}

SgCommand *
sg_command_run(SgContext *context, const char *label, const char *command_line, char **envp,
               const char *cwd, guint64 timeout_ms, SgCommandDoneFunc done, gpointer user_data)
{
	return sg_command_run_to(context, label, command_line, envp, cwd, timeout_ms, -1, -1, done,
	                         user_data);
}

SgCommand *
sg_command_run_to(SgContext *context, const char *label, const char *command_line, char **envp,
                  const char *cwd, guint64 timeout_ms, int stdout_fd, int stderr_fd,
                  SgCommandDoneFunc done, gpointer user_data)
{
	SgCommand *command = g_new0(SgCommand, 1);
	g_autoptr(GError) error = NULL;
	SgSpawnOptions options = SG_SPAWN_OPTIONS_INIT;
	SgSpawnResult result;
	char *argv[] = { "/bin/sh", "-c", (char *)command_line, NULL };
	int pipe_fds[2] = { -1, -1 };
	gboolean to_log = stdout_fd < 0 || stderr_fd < 0;

	command->context = context;
	command->label = g_strdup(label);
	command->pending = g_string_new(NULL);
	command->output_fd = -1;
	command->timeout_ms = timeout_ms;
	command->done = done;
	command->user_data = user_data;

	if (to_log && pipe2(pipe_fds, O_CLOEXEC) < 0) {
		sg_context_log(context, SG_LOG_ERROR, "%s: cannot create a pipe: %s", label,
		               g_strerror(errno));
		command->failure_idle_id = g_idle_add(report_failure_cb, command);
		return command;
	}
	options.argv = argv;
	options.envp = envp;
	options.cwd = cwd;
	options.stdout_fd = to_log ? pipe_fds[1] : stdout_fd;
	options.stderr_fd = to_log ? pipe_fds[1] : stderr_fd;
	options.new_session = TRUE;
	options.nofile = &context->service_nofile;
	if (!sg_spawn(&options, &result, &error)) {
		sg_context_log(context, SG_LOG_ERROR, "%s: %s", label, error->message);
		if (to_log) {
			close(pipe_fds[0]);
			close(pipe_fds[1]);
		}
		command->failure_idle_id = g_idle_add(report_failure_cb, command);
		return command;
	}
	/* /bin/sh exists; the shell itself reports what it cannot run, on its stderr. */
	close(result.status_fd);
	command->pid = result.pid;
	g_hash_table_add(context->known_pids, GINT_TO_POINTER(result.pid));
	if (to_log) {
		close(pipe_fds[1]);
		command->output_fd = pipe_fds[0];
		g_unix_set_fd_nonblocking(command->output_fd, TRUE, NULL);
		command->output_source = g_unix_fd_add(
		        command->output_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, output_cb, command);
	}
	sg_reaper_watch(context->reaper, result.pid, exited_cb, command);
	if (timeout_ms > 0)
		command->timeout_id =
		        sg_clock_add_timeout(context->clock, timeout_ms, timeout_cb, command);
	return command;
}

void
sg_command_cancel(SgCommand *command)
{
	if (command == NULL)
		return;
	if (command->pid > 0) {
		(void)sg_ownership_signal_child(command->pid, TRUE, SIGKILL);
		/* The reaper still reaps it; nobody is told. */
		sg_reaper_unwatch(command->context->reaper, command->pid);
		g_hash_table_remove(command->context->known_pids, GINT_TO_POINTER(command->pid));
	}
	command_free(command);
}

void
sg_command_detach(SgCommand *command)
{
	if (command == NULL)
		return;
	if (command->pid > 0) {
		sg_reaper_unwatch(command->context->reaper, command->pid);
		g_hash_table_remove(command->context->known_pids, GINT_TO_POINTER(command->pid));
	}
	command_free(command);
}
