/* SPDX-License-Identifier: MIT */
/* Tests of the queue of next cron runs: order, one job moved, jobs taken out. */
#include "config.h"

#include <glib.h>

#include "engine/sg-cron-queue.h"

/* Empties the queue soonest first, checking that each job comes after the one before: due
 * later, or as soon and after it by name. */
static GPtrArray *
drain(SgCronQueue *queue)
{
	GPtrArray *order = g_ptr_array_new();
	gint64 previous = 0;
	SgCronJob *job;
	gint64 due;

	while ((job = sg_cron_queue_peek(queue, &due)) != NULL) {
		g_assert_cmpint(due, >=, previous);
		if (due == previous)
			g_assert_cmpstr(sg_cron_job_get_name(order->pdata[order->len - 1]), <,
			                sg_cron_job_get_name(job));
		g_assert_cmpint(sg_cron_queue_get_due(queue, job), ==, due);
		previous = due;
		g_ptr_array_add(order, job);
		sg_cron_queue_remove(queue, job);
		g_assert_cmpint(sg_cron_queue_get_due(queue, job), ==, 0);
	}
	return order;
}

static void
test_order(void)
{
	g_autoptr(SgCronQueue) queue = sg_cron_queue_new();
	g_autoptr(GPtrArray) jobs =
	        g_ptr_array_new_with_free_func((GDestroyNotify)sg_cron_job_unref);
	g_autoptr(GPtrArray) order = NULL;

	g_assert_null(sg_cron_queue_peek(queue, NULL));
	for (guint i = 0; i < 2000; i++) {
		g_autofree char *name = g_strdup_printf("job%04u", i);
		SgCronJob *job = sg_cron_job_new(name);

		g_ptr_array_add(jobs, job);
		/* Few distinct instants: many ties, ordered by name. */
		sg_cron_queue_set(queue, job, 1000 + g_test_rand_int_range(0, 50));
	}
	g_assert_cmpuint(sg_cron_queue_get_size(queue), ==, 2000);
	order = drain(queue);
	g_assert_cmpuint(order->len, ==, 2000);
	g_assert_cmpuint(sg_cron_queue_get_size(queue), ==, 0);
}

static void
test_ties_by_name(void)
{
	g_autoptr(SgCronQueue) queue = sg_cron_queue_new();
	g_autoptr(SgCronJob) b = sg_cron_job_new("b");
	g_autoptr(SgCronJob) a = sg_cron_job_new("a");
	g_autoptr(SgCronJob) c = sg_cron_job_new("c");
	g_autoptr(GPtrArray) order = NULL;

	sg_cron_queue_set(queue, c, 5);
	sg_cron_queue_set(queue, b, 5);
	sg_cron_queue_set(queue, a, 5);
	order = drain(queue);
	g_assert_true(order->pdata[0] == a && order->pdata[1] == b && order->pdata[2] == c);
}

/* Planning one job again moves that job only: the others keep their order. */
static void
test_replan_one(void)
{
	g_autoptr(SgCronQueue) queue = sg_cron_queue_new();
	g_autoptr(GPtrArray) jobs =
	        g_ptr_array_new_with_free_func((GDestroyNotify)sg_cron_job_unref);
	g_autoptr(GPtrArray) order = NULL;
	SgCronJob *moved;
	gint64 due;

	for (guint i = 0; i < 100; i++) {
		g_autofree char *name = g_strdup_printf("job%03u", i);
		SgCronJob *job = sg_cron_job_new(name);

		g_ptr_array_add(jobs, job);
		sg_cron_queue_set(queue, job, 100 + 10 * (gint64)i);
	}
	g_assert_true(sg_cron_queue_peek(queue, &due) == jobs->pdata[0]);
	g_assert_cmpint(due, ==, 100);

	/* The soonest runs, and is due again after all the others. */
	sg_cron_queue_set(queue, jobs->pdata[0], 5000);
	g_assert_true(sg_cron_queue_peek(queue, &due) == jobs->pdata[1]);
	g_assert_cmpint(due, ==, 110);
	/* One from the middle becomes the soonest; setting the same instant changes nothing. */
	moved = jobs->pdata[57];
	sg_cron_queue_set(queue, moved, 1);
	sg_cron_queue_set(queue, moved, 1);
	g_assert_true(sg_cron_queue_peek(queue, &due) == moved);
	g_assert_cmpint(due, ==, 1);
	g_assert_cmpint(sg_cron_queue_get_due(queue, moved), ==, 1);
	g_assert_cmpuint(sg_cron_queue_get_size(queue), ==, 100);

	order = drain(queue);
	g_assert_cmpuint(order->len, ==, 100);
	g_assert_true(order->pdata[0] == moved);
	g_assert_true(order->pdata[99] == jobs->pdata[0]);
	for (guint i = 1, expected = 1; i < 99; i++, expected++) {
		if (expected == 57)
			expected++;
		g_assert_true(order->pdata[i] == jobs->pdata[expected]);
	}
}

static void
test_remove(void)
{
	g_autoptr(SgCronQueue) queue = sg_cron_queue_new();
	g_autoptr(GPtrArray) jobs =
	        g_ptr_array_new_with_free_func((GDestroyNotify)sg_cron_job_unref);
	g_autoptr(SgCronJob) outside = sg_cron_job_new("outside");
	g_autoptr(GPtrArray) order = NULL;
	g_autoptr(GHashTable) gone = g_hash_table_new(NULL, NULL);

	for (guint i = 0; i < 64; i++) {
		g_autofree char *name = g_strdup_printf("job%02u", i);
		SgCronJob *job = sg_cron_job_new(name);

		g_ptr_array_add(jobs, job);
		sg_cron_queue_set(queue, job, 1000 - 7 * (gint64)i);
	}
	/* The soonest, the latest, one from the middle, one by a due time of 0 (no next run),
	 * one that is not queued, and one twice. */
	g_hash_table_add(gone, jobs->pdata[63]);
	g_hash_table_add(gone, jobs->pdata[0]);
	g_hash_table_add(gone, jobs->pdata[20]);
	g_hash_table_add(gone, jobs->pdata[41]);
	sg_cron_queue_remove(queue, jobs->pdata[63]);
	sg_cron_queue_remove(queue, jobs->pdata[0]);
	sg_cron_queue_remove(queue, jobs->pdata[20]);
	sg_cron_queue_set(queue, jobs->pdata[41], 0);
	sg_cron_queue_remove(queue, outside);
	sg_cron_queue_remove(queue, jobs->pdata[20]);
	g_assert_cmpuint(sg_cron_queue_get_size(queue), ==, 60);
	g_assert_cmpint(sg_cron_queue_get_due(queue, jobs->pdata[41]), ==, 0);

	order = drain(queue);
	g_assert_cmpuint(order->len, ==, 60);
	for (guint i = 0; i < order->len; i++)
		g_assert_false(g_hash_table_contains(gone, order->pdata[i]));
	/* Later ones were queued sooner: job62 first, job01 last. */
	g_assert_true(order->pdata[0] == jobs->pdata[62]);
	g_assert_true(order->pdata[59] == jobs->pdata[1]);
}

/* The queue holds its jobs: one whose owner let go stays valid until it leaves the queue. */
static void
test_references(void)
{
	SgCronQueue *queue = sg_cron_queue_new();
	SgCronJob *job = sg_cron_job_new("held");

	sg_cron_queue_set(queue, job, 10);
	sg_cron_job_unref(job);
	g_assert_cmpstr(sg_cron_job_get_name(sg_cron_queue_peek(queue, NULL)), ==, "held");
	/* Freed with queued jobs: no leak under the sanitizers. */
	sg_cron_queue_free(queue);
	sg_cron_queue_free(NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/sg/cron-queue/order", test_order);
	g_test_add_func("/sg/cron-queue/ties-by-name", test_ties_by_name);
	g_test_add_func("/sg/cron-queue/replan-one", test_replan_one);
	g_test_add_func("/sg/cron-queue/remove", test_remove);
	g_test_add_func("/sg/cron-queue/references", test_references);
	return g_test_run();
}
