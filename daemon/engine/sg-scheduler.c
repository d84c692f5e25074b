/* SPDX-License-Identifier: MIT */
/* The cron scheduler: a queue of next runs, soonest first, and one realtime alarm for the
 * soonest; a wake runs what is due and plans those jobs again, a change plans one job. */
#include "config.h"

#include "engine/sg-scheduler.h"

#include "engine/sg-cron-job.h"
#include "engine/sg-cron-queue.h"
#include "base/sg-local-zone.h"
#include "base/sg-paths.h"
#include "state/sg-state.h"
#include "base/sg-json.h"

/*
 * A clock set back by at most this much does not make a job run again for a time it has
 * already run for (Vixie cron's limit for small clock changes); set back further, the old
 * time was wrong and the schedule starts over from the new one.
 */
#define BACKWARD_JUMP_USEC ((gint64)3 * 3600 * G_USEC_PER_SEC)

struct _SgScheduler {
	const SgSchedulerHost *host;
	gpointer owner;
	SgContext *context;
	SgClockAlarm *alarm;
	SgLocalZone *local_zone;
	/* name -> SgCronJob* (owned): the cron jobs of the configuration, and before the first
	 * reschedule the histories read from cron_state.json */
	GHashTable *jobs;
	SgCronQueue *queue; /* those of them that have a next run */
	GHashTable *zones;  /* IANA name -> GTimeZone* */
	guint write_id;
	gboolean dirty;
	gboolean running; /* in a pass that starts runs */
};

/* The job's service, while the job is one of the configuration. */
static SgService *
service_of(SgScheduler *scheduler, SgCronJob *job)
{
	const char *name = sg_cron_job_get_name(job);
	SgService *service = scheduler->host->lookup(scheduler->owner, name);

	if (service == NULL || sg_service_get_cron_job(service) != job ||
	    g_hash_table_lookup(scheduler->jobs, name) != job)
		return NULL;
	return service;
}

/* ---- cron_state.json ---- */

static JsonNode *
build_state(SgScheduler *scheduler)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	GPtrArray *services = scheduler->host->get_services(scheduler->owner);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "jobs");
	json_builder_begin_object(builder);
	/* In the configuration's order; a job a reload removed is gone at once. */
	for (guint i = 0; i < services->len; i++) {
		SgCronJob *job = sg_service_get_cron_job(services->pdata[i]);

		if (job == NULL || service_of(scheduler, job) == NULL)
			continue;
		json_builder_set_member_name(builder, sg_cron_job_get_name(job));
		sg_cron_job_build_json(job, builder);
	}
	json_builder_end_object(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

void
sg_scheduler_flush(SgScheduler *scheduler)
{
	SgContext *context = scheduler->context;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error = NULL;
	int lock;

	g_clear_handle_id(&scheduler->write_id, g_source_remove);
	if (!scheduler->dirty || context->state_dir == NULL)
		return;
	scheduler->dirty = FALSE;
	root = build_state(scheduler);
	lock = sg_state_lock(context->state_dir, &error);
	if (lock < 0) {
		sg_context_log(context, SG_LOG_ERROR, "cannot lock the state files: %s",
		               error->message);
		return;
	}
	if (!sg_state_write_json(context->state_dir, SG_STATE_CRON_JSON, root, &error))
		sg_context_log(context, SG_LOG_ERROR, "cannot write %s: %s", SG_STATE_CRON_JSON,
		               error->message);
	sg_state_unlock(lock);
}

static gboolean
write_cb(gpointer user_data)
{
	SgScheduler *scheduler = user_data;

	scheduler->write_id = 0;
	sg_scheduler_flush(scheduler);
	return G_SOURCE_REMOVE;
}

static void
mark_dirty(SgScheduler *scheduler)
{
	scheduler->dirty = TRUE;
	/* Idle priority: every change of one loop turn costs one write. */
	if (scheduler->write_id == 0)
		scheduler->write_id = g_idle_add(write_cb, scheduler);
}

static void
load_state(SgScheduler *scheduler)
{
	SgContext *context = scheduler->context;
	g_autoptr(GError) error = NULL;
	g_autofree char *quarantined = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonNode *jobs;
	g_autoptr(GList) names = NULL;

	if (context->state_dir == NULL)
		return;
	root = sg_state_read_json(context->state_dir, SG_STATE_CRON_JSON, SG_STATE_READ_QUARANTINE,
	                          &quarantined, &error);
	if (quarantined != NULL)
		sg_context_log(context, SG_LOG_WARN, "%s was corrupt; set aside as %s",
		               SG_STATE_CRON_JSON, quarantined);
	if (root == NULL) {
		if (error != NULL)
			sg_context_log(context, SG_LOG_WARN, "cannot read %s: %s",
			               SG_STATE_CRON_JSON, error->message);
		return;
	}
	jobs = json_object_get_member(json_node_get_object(root), "jobs");
	if (jobs == NULL || !JSON_NODE_HOLDS_OBJECT(jobs))
		return;
	names = json_object_get_members(json_node_get_object(jobs));
	for (GList *l = names; l != NULL; l = l->next) {
		JsonNode *node = json_object_get_member(json_node_get_object(jobs), l->data);
		SgCronJob *job;

		if (!JSON_NODE_HOLDS_OBJECT(node))
			continue;
		job = sg_cron_job_new(l->data);
		sg_cron_job_load_history(job, json_node_get_object(node));
		g_hash_table_replace(scheduler->jobs, (gpointer)sg_cron_job_get_name(job), job);
	}
}

/* ---- planning ---- */

static GTimeZone *
zone_of(SgScheduler *scheduler, const SgServiceConfig *cfg)
{
	GTimeZone *tz;

	if (cfg->cron_timezone == NULL)
		return sg_local_zone_get(scheduler->local_zone);
	tz = g_hash_table_lookup(scheduler->zones, cfg->cron_timezone);
	if (tz == NULL) {
		tz = g_time_zone_new_identifier(cfg->cron_timezone);
		if (tz == NULL)
			return NULL;
		g_hash_table_insert(scheduler->zones, g_strdup(cfg->cron_timezone), tz);
	}
	return tz;
}

/* The first due time after now; after the last one when the clock went back a little. */
static gint64
next_due(SgScheduler *scheduler, SgService *service, SgCronJob *job, gint64 now)
{
	const SgServiceConfig *cfg = sg_service_get_config(service);
	gint64 last_due = sg_cron_job_get_last_due(job);
	gint64 after = now;
	GTimeZone *tz;
	gint64 next;

	if (cfg->cron == NULL)
		return 0;
	tz = zone_of(scheduler, cfg);
	if (tz == NULL) {
		sg_context_log(scheduler->context, SG_LOG_ERROR,
		               "cron job %s: time zone %s is not installed: not scheduled",
		               cfg->name, cfg->cron_timezone);
		return 0;
	}
	if (last_due > now && last_due - now <= BACKWARD_JUMP_USEC)
		after = last_due;
	next = sg_cron_next(cfg->cron, tz, after);
	return next > 0 ? next : 0;
}

/* Stopping every service takes cron jobs out of their schedule until they are started. */
static gboolean
in_schedule(SgService *service)
{
	SgServiceState state = sg_service_get_state(service);

	return state != SG_SERVICE_STOPPED && state != SG_SERVICE_SKIPPED;
}

/* Sets a job's next run (0: none) in its record and in the queue; announced when it moved. */
static void
set_next_run(SgScheduler *scheduler, SgService *service, SgCronJob *job, gint64 next)
{
	sg_cron_queue_set(scheduler->queue, job, next);
	if (next == sg_cron_job_get_next_run(job))
		return;
	sg_cron_job_set_next_run(job, next);
	mark_dirty(scheduler);
	scheduler->host->next_run_changed(scheduler->owner, service);
}

/* Plans one job again from now. */
static void
plan_job(SgScheduler *scheduler, SgService *service, SgCronJob *job, gint64 now)
{
	set_next_run(scheduler, service, job,
	             in_schedule(service) ? next_due(scheduler, service, job, now) : 0);
}

/* Arms the alarm for the soonest next run, or disarms it. */
static void
arm(SgScheduler *scheduler)
{
	gint64 soonest = 0;
	g_autoptr(GError) error = NULL;

	sg_cron_queue_peek(scheduler->queue, &soonest);
	if (soonest != sg_clock_alarm_get(scheduler->alarm) &&
	    !sg_clock_alarm_set(scheduler->alarm, soonest, &error))
		sg_context_log(scheduler->context, SG_LOG_ERROR,
		               "cannot arm the cron timer: %s; cron jobs will not run",
		               error->message);
}

/* ---- runs ---- */

static void
run_due(SgScheduler *scheduler, SgService *service, SgCronJob *job, gint64 due)
{
	const char *name = sg_service_get_name(service);
	g_autofree char *due_text = sg_json_format_time(due);
	SgCronRun overlap = { .exit_code = -1, .result = SG_CRON_RESULT_OVERLAP };

	sg_cron_job_set_last_due(job, due);
	if (sg_service_get_state(service) == SG_SERVICE_SCHEDULED) {
		sg_context_log(scheduler->context, SG_LOG_INFO, "cron job %s is due (%s): starting",
		               name, due_text);
		sg_service_start(service);
		return;
	}
	sg_context_log(scheduler->context, SG_LOG_WARN,
	               "cron job %s is due (%s) while its previous run still runs: not started "
	               "(overlap)",
	               name, due_text);
	overlap.started_usec = due;
	overlap.finished_usec = due;
	sg_cron_job_record(job, &overlap);
}

/* Runs (or records as overlaps) the jobs whose next run has come, soonest first, each once
 * however many of its due times were missed, and plans each of them again. */
static void
run_due_jobs(SgScheduler *scheduler, gint64 now)
{
	SgCronJob *job;
	gint64 due;

	while ((job = sg_cron_queue_peek(scheduler->queue, &due)) != NULL && due <= now) {
		SgService *service = service_of(scheduler, job);

		if (service == NULL) {
			sg_cron_queue_remove(scheduler->queue, job);
			continue;
		}
		if (in_schedule(service))
			run_due(scheduler, service, job, due);
		plan_job(scheduler, service, job, now);
	}
}

/*
 * Every job planned again from now (the wall clock jumped, the local time zone changed):
 * the ones due run first when run is TRUE, and keep their next run for the alarm otherwise.
 */
static void
plan_all(SgScheduler *scheduler, gint64 now, gboolean run)
{
	GPtrArray *services = scheduler->host->get_services(scheduler->owner);

	for (guint i = 0; i < services->len; i++) {
		SgService *service = services->pdata[i];
		SgCronJob *job = sg_service_get_cron_job(service);
		gint64 next;

		if (job == NULL || service_of(scheduler, job) != service)
			continue;
		next = sg_cron_queue_get_due(scheduler->queue, job);
		if (next > 0 && next <= now) {
			if (!run)
				continue;
			run_due(scheduler, service, job, next);
		}
		plan_job(scheduler, service, job, now);
	}
}

static void
alarm_cb(gpointer user_data)
{
	SgScheduler *scheduler = user_data;
	gint64 now = sg_clock_realtime_usec(scheduler->context->clock);

	/* A run started here can end at once (spawn failure): nothing here re-enters. */
	if (scheduler->running)
		return;
	scheduler->running = TRUE;
	if (sg_clock_alarm_clock_changed(scheduler->alarm)) {
		/* Every next run was computed on the old time, maybe in an old time zone. */
		sg_local_zone_refresh(scheduler->local_zone);
		plan_all(scheduler, now, TRUE);
	} else {
		run_due_jobs(scheduler, now);
	}
	scheduler->running = FALSE;
	arm(scheduler);
}

static void
local_zone_changed_cb(gpointer user_data)
{
	SgScheduler *scheduler = user_data;

	sg_context_log(scheduler->context, SG_LOG_INFO,
	               "the local time zone changed: cron jobs are planned again");
	plan_all(scheduler, sg_clock_realtime_usec(scheduler->context->clock), FALSE);
	arm(scheduler);
}

static void
job_finished_cb(SgCronJob *job, const SgCronRun *run, gpointer user_data)
{
	SgScheduler *scheduler = user_data;
	SgService *service = scheduler->host->lookup(scheduler->owner, sg_cron_job_get_name(job));

	/* Its next run was planned when it fell due; runs due meanwhile come from the alarm. */
	mark_dirty(scheduler);
	if (service == NULL)
		return;
	scheduler->host->job_finished(scheduler->owner, service, run);
}

void
sg_scheduler_service_state_changed(SgScheduler *scheduler, SgService *service,
                                   SgServiceState old_state, SgServiceState new_state)
{
	SgCronJob *job = sg_service_get_cron_job(service);

	/* Taken out of its schedule (stop-all) or put back: that job's next run and the alarm. */
	if (job == NULL || service_of(scheduler, job) != service)
		return;
	if (old_state != SG_SERVICE_STOPPED && new_state != SG_SERVICE_STOPPED &&
	    old_state != SG_SERVICE_SKIPPED && new_state != SG_SERVICE_SKIPPED)
		return;
	plan_job(scheduler, service, job, sg_clock_realtime_usec(scheduler->context->clock));
	arm(scheduler);
}

/* ---- the jobs of the configuration ---- */

/* The record of a configured cron job: kept by name, or the one its service still holds. */
static SgCronJob *
take_job(SgScheduler *scheduler, SgService *service, GHashTable *jobs)
{
	const char *name = sg_service_get_name(service);
	SgCronJob *job = g_hash_table_lookup(scheduler->jobs, name);

	if (job == NULL)
		job = g_hash_table_lookup(jobs, name);
	if (job == NULL)
		job = sg_service_get_cron_job(service);
	return job != NULL ? sg_cron_job_ref(job) : sg_cron_job_new(name);
}

void
sg_scheduler_reschedule(SgScheduler *scheduler)
{
	SgConfig *config = scheduler->host->get_config(scheduler->owner);
	gint64 now = sg_clock_realtime_usec(scheduler->context->clock);
	g_autoptr(GHashTable) jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                                   (GDestroyNotify)sg_cron_job_unref);
	g_autoptr(GHashTable) old_jobs = NULL;
	g_autoptr(GPtrArray) to_plan = g_ptr_array_new();
	GHashTableIter iter;
	gpointer value;

	for (guint i = 0; i < config->services->len; i++) {
		const SgServiceConfig *cfg = g_ptr_array_index(config->services, i);
		SgService *service = scheduler->host->lookup(scheduler->owner, cfg->name);
		SgCronJob *job;
		gboolean changed;

		if (cfg->cron == NULL || service == NULL)
			continue;
		job = take_job(scheduler, service, jobs);
		changed = g_strcmp0(sg_cron_job_get_expression(job), cfg->cron_expression) != 0 ||
		          g_strcmp0(sg_cron_job_get_timezone(job), cfg->cron_timezone) != 0;
		if (changed) {
			/* A new schedule: its times start from now. */
			sg_cron_job_set_schedule(job, cfg->cron_expression, cfg->cron_timezone);
			sg_cron_job_set_last_due(job, 0);
			mark_dirty(scheduler);
		}
		/* Only new and changed jobs are planned: the others keep their next run. */
		if (changed || sg_cron_queue_get_due(scheduler->queue, job) == 0)
			g_ptr_array_add(to_plan, job);
		sg_cron_job_set_finished_func(job, job_finished_cb, scheduler);
		sg_service_set_cron_job(service, job);
		g_hash_table_replace(jobs, (gpointer)sg_cron_job_get_name(job), job);
	}
	old_jobs = g_steal_pointer(&scheduler->jobs);
	scheduler->jobs = g_steal_pointer(&jobs);

	/* Jobs that are gone leave the schedule (their runs in progress still hold them). */
	g_hash_table_iter_init(&iter, old_jobs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		SgCronJob *job = value;

		if (g_hash_table_lookup(scheduler->jobs, sg_cron_job_get_name(job)) == job)
			continue;
		sg_cron_queue_remove(scheduler->queue, job);
		mark_dirty(scheduler);
	}
	for (guint i = 0; i < to_plan->len; i++) {
		SgCronJob *job = to_plan->pdata[i];
		SgService *service = service_of(scheduler, job);

		if (service != NULL)
			plan_job(scheduler, service, job, now);
	}
	arm(scheduler);
}

SgScheduler *
sg_scheduler_new(SgContext *context, const SgSchedulerHost *host, gpointer owner)
{
	SgScheduler *scheduler = g_new0(SgScheduler, 1);

	scheduler->host = host;
	scheduler->owner = owner;
	scheduler->context = context;
	scheduler->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                        (GDestroyNotify)sg_cron_job_unref);
	scheduler->zones = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                         (GDestroyNotify)g_time_zone_unref);
	scheduler->queue = sg_cron_queue_new();
	scheduler->alarm = sg_clock_alarm_new(scheduler->context->clock, alarm_cb, scheduler);
	scheduler->local_zone = sg_local_zone_new(local_zone_changed_cb, scheduler);
	load_state(scheduler);
	sg_scheduler_reschedule(scheduler);
	return scheduler;
}

void
sg_scheduler_free(SgScheduler *scheduler)
{
	GPtrArray *services;
	GHashTableIter iter;
	gpointer value;

	if (scheduler == NULL)
		return;
	sg_scheduler_flush(scheduler);
	/* Runs still in progress outlive the scheduler in their services, removed jobs too. */
	services = scheduler->host->get_services(scheduler->owner);
	for (guint i = 0; i < services->len; i++) {
		SgCronJob *job = sg_service_get_cron_job(services->pdata[i]);
		if (job != NULL)
			sg_cron_job_set_finished_func(job, NULL, NULL);
	}
	g_hash_table_iter_init(&iter, scheduler->jobs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		sg_cron_job_set_finished_func(value, NULL, NULL);
	g_clear_pointer(&scheduler->alarm, sg_clock_alarm_free);
	g_clear_pointer(&scheduler->local_zone, sg_local_zone_free);
	g_clear_pointer(&scheduler->queue, sg_cron_queue_free);
	g_hash_table_unref(scheduler->jobs);
	g_hash_table_unref(scheduler->zones);
	g_free(scheduler);
}
