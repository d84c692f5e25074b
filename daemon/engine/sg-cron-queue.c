/* SPDX-License-Identifier: MIT */
/* A binary min-heap of cron jobs by due time; each job's place is indexed, so a job is moved
 * or taken out without a search. */
#include "config.h"

#include "engine/sg-cron-queue.h"

#include <string.h>

typedef struct {
	SgCronJob *job; /* a reference */
	gint64 due;
} Entry;

struct _SgCronQueue {
	GArray *heap;       /* Entry; heap[0] is due soonest, heap[i]'s children 2i+1 and 2i+2 */
	GHashTable *places; /* SgCronJob* -> its index in heap, plus one */
};

SgCronQueue *
sg_cron_queue_new(void)
{
	SgCronQueue *queue = g_new0(SgCronQueue, 1);

	queue->heap = g_array_new(FALSE, FALSE, sizeof(Entry));
	queue->places = g_hash_table_new(NULL, NULL);
	return queue;
}

void
sg_cron_queue_free(SgCronQueue *queue)
{
	if (queue == NULL)
		return;
	for (guint i = 0; i < queue->heap->len; i++)
		sg_cron_job_unref(g_array_index(queue->heap, Entry, i).job);
	g_array_unref(queue->heap);
	g_hash_table_unref(queue->places);
	g_free(queue);
}

static Entry *
entry_at(SgCronQueue *queue, guint index)
{
	return &g_array_index(queue->heap, Entry, index);
}

/* Whether a comes before b: sooner, or as soon and first by name (a stable order of runs). */
static gboolean
comes_before(const Entry *a, const Entry *b)
{
	if (a->due != b->due)
		return a->due < b->due;
	return strcmp(sg_cron_job_get_name(a->job), sg_cron_job_get_name(b->job)) < 0;
}

static void
place(SgCronQueue *queue, guint index, Entry entry)
{
	*entry_at(queue, index) = entry;
	g_hash_table_insert(queue->places, entry.job, GUINT_TO_POINTER(index + 1));
}

static void
swap(SgCronQueue *queue, guint a, guint b)
{
	Entry first = *entry_at(queue, a);

	place(queue, a, *entry_at(queue, b));
	place(queue, b, first);
}

/* Moves the entry at index up or down until the heap is ordered again. */
static void
restore(SgCronQueue *queue, guint index)
{
	while (index > 0 &&
	       comes_before(entry_at(queue, index), entry_at(queue, (index - 1) / 2))) {
		swap(queue, index, (index - 1) / 2);
		index = (index - 1) / 2;
	}
	for (;;) {
		guint soonest = index;
		guint left = 2 * index + 1;
		guint right = left + 1;

		if (left < queue->heap->len &&
		    comes_before(entry_at(queue, left), entry_at(queue, soonest)))
			soonest = left;
		if (right < queue->heap->len &&
		    comes_before(entry_at(queue, right), entry_at(queue, soonest)))
			soonest = right;
		if (soonest == index)
			return;
		swap(queue, index, soonest);
		index = soonest;
	}
}

/* The index of job in the heap plus one, or 0. */
static guint
place_of(SgCronQueue *queue, SgCronJob *job)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(queue->places, job));
}

void
sg_cron_queue_remove(SgCronQueue *queue, SgCronJob *job)
{
	guint place_plus_one = place_of(queue, job);
	guint last = queue->heap->len - 1;
	guint index;

	if (place_plus_one == 0)
		return;
	index = place_plus_one - 1;
	g_hash_table_remove(queue->places, job);
	if (index != last) {
		place(queue, index, *entry_at(queue, last));
		g_array_set_size(queue->heap, last);
		restore(queue, index);
	} else {
		g_array_set_size(queue->heap, last);
	}
	sg_cron_job_unref(job);
}

void
sg_cron_queue_set(SgCronQueue *queue, SgCronJob *job, gint64 due)
{
	guint place_plus_one = place_of(queue, job);
	Entry entry = { .job = job, .due = due };

	if (due <= 0) {
		sg_cron_queue_remove(queue, job);
		return;
	}
	if (place_plus_one > 0) {
		entry_at(queue, place_plus_one - 1)->due = due;
		restore(queue, place_plus_one - 1);
		return;
	}
	sg_cron_job_ref(job);
	g_array_set_size(queue->heap, queue->heap->len + 1);
	place(queue, queue->heap->len - 1, entry);
	restore(queue, queue->heap->len - 1);
}

SgCronJob *
sg_cron_queue_peek(SgCronQueue *queue, gint64 *ret_due)
{
	if (queue->heap->len == 0)
		return NULL;
	if (ret_due != NULL)
		*ret_due = entry_at(queue, 0)->due;
	return entry_at(queue, 0)->job;
}

gint64
sg_cron_queue_get_due(SgCronQueue *queue, SgCronJob *job)
{
	guint place_plus_one = place_of(queue, job);

	return place_plus_one > 0 ? entry_at(queue, place_plus_one - 1)->due : 0;
}

guint
sg_cron_queue_get_size(SgCronQueue *queue)
{
	return queue->heap->len;
}
