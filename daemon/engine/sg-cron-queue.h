/* SPDX-License-Identifier: MIT */
/* The cron jobs waiting for their next run, soonest first: one job moves in O(log n). */
#pragma once

#include <glib.h>

#include "engine/sg-cron-job.h"

typedef struct _SgCronQueue SgCronQueue;

SgCronQueue *sg_cron_queue_new(void);
/* Drops the queue's references to its jobs. */
void sg_cron_queue_free(SgCronQueue *queue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgCronQueue, sg_cron_queue_free)

/*
 * Queues job for due (realtime usec), moving it when it is queued already; due <= 0 takes it
 * out. The queue holds a reference to each job in it.
 */
void sg_cron_queue_set(SgCronQueue *queue, SgCronJob *job, gint64 due);
void sg_cron_queue_remove(SgCronQueue *queue, SgCronJob *job);

/* The job due soonest (jobs due at the same instant by name), borrowed, or NULL; its due time
 * in *ret_due when not NULL. */
SgCronJob *sg_cron_queue_peek(SgCronQueue *queue, gint64 *ret_due);
/* When job is due, or 0 when it is not queued. */
gint64 sg_cron_queue_get_due(SgCronQueue *queue, SgCronJob *job);
guint sg_cron_queue_get_size(SgCronQueue *queue);
