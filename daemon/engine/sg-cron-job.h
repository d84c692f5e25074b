/* SPDX-License-Identifier: MIT */
/* What the supervisor remembers of one cron job: its next due time and its last 10 runs. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* Runs kept per job (SPEC: the last 10). */
#define SG_CRON_JOB_HISTORY 10

typedef enum {
	SG_CRON_RESULT_SUCCESS,
	SG_CRON_RESULT_FAILED,
	SG_CRON_RESULT_OVERLAP, /* due while the previous run still ran: not started */
	SG_CRON_RESULT_KILLED,  /* stopped by the operator or by shutdown */
} SgCronResult;

typedef struct {
	gint64 started_usec; /* realtime; for an overlap, the instant it was due */
	gint64 finished_usec;
	SgCronResult result;
	int exit_code; /* -1: none (killed by a signal, never started, overlap) */
} SgCronRun;

typedef struct _SgCronJob SgCronJob;

/* Called after every recorded run, overlaps included. */
typedef void (*SgCronJobFinishedFunc)(SgCronJob *job, const SgCronRun *run, gpointer user_data);

SgCronJob *sg_cron_job_new(const char *name);
SgCronJob *sg_cron_job_ref(SgCronJob *job);
void sg_cron_job_unref(SgCronJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgCronJob, sg_cron_job_unref)

const char *sg_cron_job_get_name(SgCronJob *job);
void sg_cron_job_set_finished_func(SgCronJob *job, SgCronJobFinishedFunc func, gpointer user_data);

/* The schedule the next run was computed for (expression, and time zone or NULL). */
const char *sg_cron_job_get_expression(SgCronJob *job);
const char *sg_cron_job_get_timezone(SgCronJob *job);
void sg_cron_job_set_schedule(SgCronJob *job, const char *expression, const char *zone);

/* The next due instant (realtime usec; 0: none). */
gint64 sg_cron_job_get_next_run(SgCronJob *job);
void sg_cron_job_set_next_run(SgCronJob *job, gint64 usec);
/* The last instant the job fell due (0: never): a clock set back does not repeat it. */
gint64 sg_cron_job_get_last_due(SgCronJob *job);
void sg_cron_job_set_last_due(SgCronJob *job, gint64 usec);

/* Appends a run (the oldest beyond SG_CRON_JOB_HISTORY is dropped), then tells the
 * finished func. */
void sg_cron_job_record(SgCronJob *job, const SgCronRun *run);
/* The runs, oldest first (borrowed). */
GArray *sg_cron_job_get_history(SgCronJob *job);
/* The result of the newest run, or NULL. */
const char *sg_cron_job_get_last_result(SgCronJob *job);

const char *sg_cron_result_to_string(SgCronResult result);
gboolean sg_cron_result_from_string(const char *text, SgCronResult *ret_result);

/* {"expression", "timezone", "next_run", "history": [{"started_at", "finished_at", "result",
 * "exit_code"}]}, as in cron_state.json and status. */
void sg_cron_job_build_json(SgCronJob *job, JsonBuilder *builder);
/* Takes the history of such an object (as written by sg_cron_job_build_json()); entries
 * that do not parse are skipped. Expression, time zone and next run are not taken: they
 * are recomputed from the configuration. */
void sg_cron_job_load_history(SgCronJob *job, JsonObject *object);
