/* SPDX-License-Identifier: MIT */
/* A cron job's record: next due time, last due time and a bounded history of runs. */
#include "config.h"

#include "engine/sg-cron-job.h"

#include "base/sg-json.h"

struct _SgCronJob {
	int refcount;
	char *name;
	char *expression;
	char *timezone;
	gint64 next_run;
	gint64 last_due;
	GArray *history; /* SgCronRun, oldest first */
	SgCronJobFinishedFunc finished;
	gpointer finished_data;
};

static const char *const result_names[] = {
	[SG_CRON_RESULT_SUCCESS] = "success",
	[SG_CRON_RESULT_FAILED] = "failed",
	[SG_CRON_RESULT_OVERLAP] = "overlap",
	[SG_CRON_RESULT_KILLED] = "killed",
};

const char *
sg_cron_result_to_string(SgCronResult result)
{
	g_return_val_if_fail((guint)result < G_N_ELEMENTS(result_names), "failed");
	return result_names[result];
}

gboolean
sg_cron_result_from_string(const char *text, SgCronResult *ret_result)
{
	for (guint i = 0; text != NULL && i < G_N_ELEMENTS(result_names); i++) {
		if (g_str_equal(text, result_names[i])) {
			*ret_result = (SgCronResult)i;
			return TRUE;
		}
	}
	return FALSE;
}

SgCronJob *
sg_cron_job_new(const char *name)
{
	SgCronJob *job = g_new0(SgCronJob, 1);

	job->refcount = 1;
	job->name = g_strdup(name);
	job->history = g_array_sized_new(FALSE, TRUE, sizeof(SgCronRun), SG_CRON_JOB_HISTORY + 1);
	return job;
}

SgCronJob *
sg_cron_job_ref(SgCronJob *job)
{
	job->refcount++;
	return job;
}

void
sg_cron_job_unref(SgCronJob *job)
{
	if (job == NULL || --job->refcount > 0)
		return;
	g_array_unref(job->history);
	g_free(job->name);
	g_free(job->expression);
	g_free(job->timezone);
	g_free(job);
}

const char *
sg_cron_job_get_name(SgCronJob *job)
{
	return job->name;
}

void
sg_cron_job_set_finished_func(SgCronJob *job, SgCronJobFinishedFunc func, gpointer user_data)
{
	job->finished = func;
	job->finished_data = user_data;
}

const char *
sg_cron_job_get_expression(SgCronJob *job)
{
	return job->expression;
}

const char *
sg_cron_job_get_timezone(SgCronJob *job)
{
	return job->timezone;
}

void
sg_cron_job_set_schedule(SgCronJob *job, const char *expression, const char *zone)
{
	g_free(job->expression);
	g_free(job->timezone);
	job->expression = g_strdup(expression);
	job->timezone = g_strdup(zone);
}

gint64
sg_cron_job_get_next_run(SgCronJob *job)
{
	return job->next_run;
}

void
sg_cron_job_set_next_run(SgCronJob *job, gint64 usec)
{
	job->next_run = MAX(usec, 0);
}

gint64
sg_cron_job_get_last_due(SgCronJob *job)
{
	return job->last_due;
}

void
sg_cron_job_set_last_due(SgCronJob *job, gint64 usec)
{
	job->last_due = usec;
}

static void
append_run(SgCronJob *job, const SgCronRun *run)
{
	g_array_append_val(job->history, *run);
	if (job->history->len > SG_CRON_JOB_HISTORY)
		g_array_remove_range(job->history, 0, job->history->len - SG_CRON_JOB_HISTORY);
}

void
sg_cron_job_record(SgCronJob *job, const SgCronRun *run)
{
	append_run(job, run);
	if (job->finished != NULL)
		job->finished(job, run, job->finished_data);
}

GArray *
sg_cron_job_get_history(SgCronJob *job)
{
	return job->history;
}

const char *
sg_cron_job_get_last_result(SgCronJob *job)
{
	if (job->history->len == 0)
		return NULL;
	return sg_cron_result_to_string(
	        g_array_index(job->history, SgCronRun, job->history->len - 1).result);
}

void
sg_cron_job_build_json(SgCronJob *job, JsonBuilder *builder)
{
	json_builder_begin_object(builder);
	sg_json_builder_add_string_or_null(builder, "expression", job->expression);
	sg_json_builder_add_string_or_null(builder, "timezone", job->timezone);
	sg_json_builder_add_time(builder, "next_run", job->next_run);
	json_builder_set_member_name(builder, "history");
	json_builder_begin_array(builder);
	for (guint i = 0; i < job->history->len; i++) {
		const SgCronRun *run = &g_array_index(job->history, SgCronRun, i);

		json_builder_begin_object(builder);
		sg_json_builder_add_time(builder, "started_at", run->started_usec);
		sg_json_builder_add_time(builder, "finished_at", run->finished_usec);
		sg_json_builder_add_string_or_null(builder, "result",
		                                   sg_cron_result_to_string(run->result));
		sg_json_builder_add_int_or_null(builder, "exit_code", run->exit_code,
		                                run->exit_code >= 0);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	json_builder_end_object(builder);
}

static gboolean
parse_time(JsonObject *object, const char *name, gint64 *ret_usec)
{
	const char *text = sg_json_object_get_string(object, name);
	g_autoptr(GDateTime) time = NULL;

	if (text == NULL)
		return FALSE;
	time = g_date_time_new_from_iso8601(text, NULL);
	if (time == NULL)
		return FALSE;
	*ret_usec = g_date_time_to_unix(time) * G_USEC_PER_SEC + g_date_time_get_microsecond(time);
	return *ret_usec > 0;
}

void
sg_cron_job_load_history(SgCronJob *job, JsonObject *object)
{
	JsonNode *node = json_object_get_member(object, "history");
	JsonArray *array;

	if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
		return;
	array = json_node_get_array(node);
	g_array_set_size(job->history, 0);
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);
		JsonObject *entry;
		JsonNode *code;
		SgCronRun run = { .exit_code = -1 };

		if (!JSON_NODE_HOLDS_OBJECT(element))
			continue;
		entry = json_node_get_object(element);
		if (!parse_time(entry, "started_at", &run.started_usec) ||
		    !parse_time(entry, "finished_at", &run.finished_usec) ||
		    !sg_cron_result_from_string(sg_json_object_get_string(entry, "result"),
		                                &run.result))
			continue;
		code = json_object_get_member(entry, "exit_code");
		if (code != NULL && JSON_NODE_HOLDS_VALUE(code) &&
		    json_node_get_value_type(code) == G_TYPE_INT64 &&
		    json_node_get_int(code) >= 0 && json_node_get_int(code) <= 255)
			run.exit_code = (int)json_node_get_int(code);
		append_run(job, &run);
	}
}
