/* SPDX-License-Identifier: MIT */
/* The hooks of one service: a queue run one at a time, never waited for by the lifecycle. */
#pragma once

#include <glib.h>

#include "config/sg-config.h"
#include "process/sg-context.h"
#include "base/sg-limits.h"

typedef struct _SgHookQueue SgHookQueue;

SgHookQueue *sg_hook_queue_new(SgContext *context, const char *service);
void sg_hook_queue_free(SgHookQueue *queue);

/*
 * Queues a hook run with the service's environment (without its markers) and working
 * directory, plus SYSTEMG_HOOK, and SYSTEMG_EXIT_CODE / SYSTEMG_EXIT_SIGNAL when >= 0.
 * A full queue drops its oldest entry with a warning. Does nothing when the hook has no
 * command.
 */
void sg_hook_queue_push(SgHookQueue *queue, SgHookKind kind, const SgHook *hook, char **envp,
                        const char *cwd, int exit_code, int exit_signal);

/* Hooks waiting or running (tests). */
guint sg_hook_queue_length(SgHookQueue *queue);
