/* SPDX-License-Identifier: MIT */
/* Runs a service's hooks in order through sg-command, from a bounded queue. */
#include "config.h"

#include "engine/sg-hook.h"

#include <sys/wait.h>

#include "process/sg-command.h"

typedef struct {
	SgHookKind kind;
	char *command;
	guint64 timeout_ms;
	char **envp;
	char *cwd;
} HookRun;

struct _SgHookQueue {
	SgContext *context;
	char *service;
	GQueue pending; /* HookRun* */
	SgCommand *running;
	HookRun *running_run;
};

static void
hook_run_free(HookRun *run)
{
	g_free(run->command);
	g_strfreev(run->envp);
	g_free(run->cwd);
	g_free(run);
}

static void run_next(SgHookQueue *queue);

static void
hook_done_cb(int wait_status, const char *cause, gpointer user_data)
{
	SgHookQueue *queue = user_data;
	HookRun *run = queue->running_run;
	g_autofree char *status = sg_command_describe_status(wait_status);
	gboolean ok = wait_status >= 0 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;

	sg_context_log(queue->context, ok ? SG_LOG_INFO : SG_LOG_WARN, "hook %s %s: %s",
	               queue->service, sg_hook_kind_to_string(run->kind),
	               cause != NULL ? cause : status);
	queue->running = NULL;
	queue->running_run = NULL;
	hook_run_free(run);
	run_next(queue);
}

static void
run_next(SgHookQueue *queue)
{
	HookRun *run;
	g_autofree char *label = NULL;

	if (queue->running != NULL || (run = g_queue_pop_head(&queue->pending)) == NULL)
		return;
	label = g_strdup_printf("hook %s %s", queue->service, sg_hook_kind_to_string(run->kind));
	sg_context_log(queue->context, SG_LOG_INFO, "%s: running %s", label, run->command);
	queue->running_run = run;
	queue->running = sg_command_run(queue->context, label, run->command, run->envp, run->cwd,
	                                run->timeout_ms, hook_done_cb, queue);
}

SgHookQueue *
sg_hook_queue_new(SgContext *context, const char *service)
{
	SgHookQueue *queue = g_new0(SgHookQueue, 1);

	queue->context = context;
	queue->service = g_strdup(service);
	g_queue_init(&queue->pending);
	return queue;
}

void
sg_hook_queue_free(SgHookQueue *queue)
{
	if (queue == NULL)
		return;
	/* A running hook is left to finish on its own: it is a helper, not part of the
	 * service, and the supervisor's exit must not cut it short. */
	if (queue->running != NULL) {
		sg_command_detach(queue->running);
		hook_run_free(queue->running_run);
	}
	g_queue_clear_full(&queue->pending, (GDestroyNotify)hook_run_free);
	g_free(queue->service);
	g_free(queue);
}

void
sg_hook_queue_push(SgHookQueue *queue, SgHookKind kind, const SgHook *hook, char **envp,
                   const char *cwd, int exit_code, int exit_signal)
{
	HookRun *run;

	if (hook->command == NULL)
		return;
	if (g_queue_get_length(&queue->pending) >= SG_HOOK_QUEUE_MAX) {
		HookRun *dropped = g_queue_pop_head(&queue->pending);
		sg_context_log(queue->context, SG_LOG_WARN,
		               "hook %s %s dropped: more than %d hooks waiting", queue->service,
		               sg_hook_kind_to_string(dropped->kind), SG_HOOK_QUEUE_MAX);
		hook_run_free(dropped);
	}
	run = g_new0(HookRun, 1);
	run->kind = kind;
	run->command = g_strdup(hook->command);
	run->timeout_ms = hook->timeout_ms;
	run->cwd = g_strdup(cwd);
	run->envp = g_strdupv(envp);
	run->envp = g_environ_setenv(run->envp, "SYSTEMG_HOOK", sg_hook_kind_to_string(kind), TRUE);
	if (exit_code >= 0) {
		g_autofree char *text = g_strdup_printf("%d", exit_code);
		run->envp = g_environ_setenv(run->envp, "SYSTEMG_EXIT_CODE", text, TRUE);
	}
	if (exit_signal > 0) {
		g_autofree char *text = g_strdup_printf("%d", exit_signal);
		run->envp = g_environ_setenv(run->envp, "SYSTEMG_EXIT_SIGNAL", text, TRUE);
	}
	g_queue_push_tail(&queue->pending, run);
	run_next(queue);
}

guint
sg_hook_queue_length(SgHookQueue *queue)
{
	return g_queue_get_length(&queue->pending) + (queue->running != NULL ? 1 : 0);
}
