/* SPDX-License-Identifier: MIT */
/* The cron scheduler: each wake runs what is due, records overlaps, computes every job's next
 * due time and arms one realtime alarm for the soonest; nothing polls. */
#include "config.h"

#include "sg-scheduler.h"

#include "sg-cron-job.h"
#include "sg-paths.h"
#include "sg-state.h"
#include "sg-json.h"

/*
 * A clock set back by at most this much does not make a job run again for a time it has
 * already run for (Vixie cron's limit for small clock changes); set back further, the old
 * time was wrong and the schedule starts over from the new one.
 */
#define BACKWARD_JUMP_USEC ((gint64)3 * 3600 * G_USEC_PER_SEC)

struct _SgScheduler {
	SgSupervisor *supervisor;
	SgEngine *engine;
	SgClockAlarm *alarm;
	GHashTable *jobs;  /* name -> SgCronJob* (owned) */
	GHashTable *zones; /* IANA name -> GTimeZone* */
	guint write_id;
	gboolean dirty;
	gboolean planning;
};

/* ---- cron_state.json ---- */

static JsonNode *
build_state(SgScheduler *scheduler)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	GPtrArray *services = sg_supervisor_get_services(scheduler->supervisor);

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "jobs");
	json_builder_begin_object(builder);
	for (guint i = 0; i < services->len; i++) {
		SgCronJob *job = sg_service_get_cron_job(services->pdata[i]);

		if (job == NULL)
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
	SgEngine *engine = scheduler->engine;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error = NULL;
	int lock;

	g_clear_handle_id(&scheduler->write_id, g_source_remove);
	if (!scheduler->dirty || engine->state_dir == NULL)
		return;
	scheduler->dirty = FALSE;
	root = build_state(scheduler);
	lock = sg_state_lock(engine->state_dir, &error);
	if (lock < 0) {
		sg_engine_log(engine, SG_LOG_ERROR, "cannot lock the state files: %s",
		              error->message);
		return;
	}
	if (!sg_state_write_json(engine->state_dir, SG_STATE_CRON_JSON, root, &error))
		sg_engine_log(engine, SG_LOG_ERROR, "cannot write %s: %s", SG_STATE_CRON_JSON,
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
	SgEngine *engine = scheduler->engine;
	g_autoptr(GError) error = NULL;
	g_autofree char *quarantined = NULL;
	g_autoptr(JsonNode) root = NULL;
	JsonNode *jobs;
	g_autoptr(GList) names = NULL;

	if (engine->state_dir == NULL)
		return;
	root = sg_state_read_json(engine->state_dir, SG_STATE_CRON_JSON, SG_STATE_READ_QUARANTINE,
	                          &quarantined, &error);
	if (quarantined != NULL)
		sg_engine_log(engine, SG_LOG_WARN, "%s was corrupt; set aside as %s",
		              SG_STATE_CRON_JSON, quarantined);
	if (root == NULL) {
		if (error != NULL)
			sg_engine_log(engine, SG_LOG_WARN, "cannot read %s: %s", SG_STATE_CRON_JSON,
			              error->message);
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

/* ---- runs ---- */

static void plan(SgScheduler *scheduler, gboolean run);

static void
job_finished_cb(SgCronJob *job, const SgCronRun *run, gpointer user_data)
{
	SgScheduler *scheduler = user_data;
	SgService *service = sg_supervisor_lookup(scheduler->supervisor, sg_cron_job_get_name(job));

	mark_dirty(scheduler);
	/* Re-armed after every run; runs due meanwhile start from the alarm, not from inside
	 * the service's own callback. */
	plan(scheduler, FALSE);
	if (service == NULL)
		return;
	g_signal_emit_by_name(scheduler->supervisor, "cron-job-finished", service,
	                      sg_cron_result_to_string(run->result), run->exit_code,
	                      run->started_usec, run->finished_usec);
}

static GTimeZone *
zone_of(SgScheduler *scheduler, const SgServiceConfig *cfg)
{
	GTimeZone *tz;

	if (cfg->cron_timezone == NULL)
		return NULL;
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
	gint64 next;

	if (cfg->cron == NULL)
		return 0;
	if (cfg->cron_timezone != NULL && zone_of(scheduler, cfg) == NULL) {
		sg_engine_log(scheduler->engine, SG_LOG_ERROR,
		              "cron job %s: time zone %s is not installed: not scheduled",
		              cfg->name, cfg->cron_timezone);
		return 0;
	}
	if (last_due > now && last_due - now <= BACKWARD_JUMP_USEC)
		after = last_due;
	next = sg_cron_next(cfg->cron, zone_of(scheduler, cfg), after);
	return next > 0 ? next : 0;
}

static void
run_due(SgScheduler *scheduler, SgService *service, SgCronJob *job, gint64 due)
{
	const char *name = sg_service_get_name(service);
	g_autofree char *due_text = sg_json_format_time(due);
	SgCronRun overlap = { .exit_code = -1, .result = SG_CRON_RESULT_OVERLAP };

	sg_cron_job_set_last_due(job, due);
	if (sg_service_get_state(service) == SG_SERVICE_SCHEDULED) {
		sg_engine_log(scheduler->engine, SG_LOG_INFO, "cron job %s is due (%s): starting",
		              name, due_text);
		sg_service_start(service);
		return;
	}
	sg_engine_log(scheduler->engine, SG_LOG_WARN,
	              "cron job %s is due (%s) while its previous run still runs: not started "
	              "(overlap)",
	              name, due_text);
	overlap.started_usec = due;
	overlap.finished_usec = due;
	sg_cron_job_record(job, &overlap);
}

/* One pass over every cron job: due ones run (or overlap) when run is TRUE, next runs, the
 * alarm. */
static void
plan(SgScheduler *scheduler, gboolean run)
{
	GPtrArray *services = sg_supervisor_get_services(scheduler->supervisor);
	gint64 now = sg_clock_realtime_usec(scheduler->engine->clock);
	gint64 soonest = 0;
	g_autoptr(GError) error = NULL;

	/* A run started here can end at once (spawn failure) and land back here. */
	if (scheduler->planning)
		return;
	scheduler->planning = TRUE;
	for (guint i = 0; i < services->len; i++) {
		SgService *service = services->pdata[i];
		SgCronJob *job = sg_service_get_cron_job(service);
		SgServiceState state = sg_service_get_state(service);
		gint64 next;

		if (job == NULL)
			continue;
		next = sg_cron_job_get_next_run(job);
		if (state == SG_SERVICE_STOPPED || state == SG_SERVICE_SKIPPED) {
			next = 0; /* out of its schedule until started again */
		} else if (next > 0 && next <= now) {
			/* Due: a run, or an overlap. Once, however many due times were missed
			 * (the machine slept, the clock jumped). */
			if (run) {
				run_due(scheduler, service, job, next);
				next = next_due(scheduler, service, job, now);
			}
		} else {
			next = next_due(scheduler, service, job, now);
		}
		if (next != sg_cron_job_get_next_run(job)) {
			sg_cron_job_set_next_run(job, next);
			mark_dirty(scheduler);
			g_signal_emit_by_name(scheduler->supervisor, "service-changed", service);
		}
		if (next > 0 && (soonest == 0 || next < soonest))
			soonest = next;
	}
	if (soonest != sg_clock_alarm_get(scheduler->alarm) &&
	    !sg_clock_alarm_set(scheduler->alarm, soonest, &error))
		sg_engine_log(scheduler->engine, SG_LOG_ERROR,
		              "cannot arm the cron timer: %s; cron jobs will not run",
		              error->message);
	scheduler->planning = FALSE;
}

static void
alarm_cb(gpointer user_data)
{
	/* Due, or the wall clock was set or jumped: plan() reads the time and sorts it out. */
	plan(user_data, TRUE);
}

static void
state_changed_cb(SgSupervisor *supervisor, SgService *service, guint old_state, guint new_state,
                 gpointer user_data)
{
	/* Taken out of its schedule (stop-all) or put back: the next run and the alarm follow. */
	if (sg_service_get_cron_job(service) != NULL &&
	    (old_state == SG_SERVICE_STOPPED || new_state == SG_SERVICE_STOPPED))
		plan(user_data, FALSE);
}

/* ---- the jobs of the configuration ---- */

void
sg_scheduler_reschedule(SgScheduler *scheduler)
{
	GPtrArray *services = sg_supervisor_get_services(scheduler->supervisor);
	g_autoptr(GHashTable) jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                                   (GDestroyNotify)sg_cron_job_unref);

	for (guint i = 0; i < services->len; i++) {
		SgService *service = services->pdata[i];
		const SgServiceConfig *cfg = sg_service_get_config(service);
		SgCronJob *job;

		if (cfg->cron == NULL)
			continue;
		job = g_hash_table_lookup(scheduler->jobs, cfg->name);
		if (job == NULL)
			job = g_hash_table_lookup(jobs, cfg->name);
		if (job == NULL)
			job = sg_cron_job_new(cfg->name);
		else
			sg_cron_job_ref(job);
		if (g_strcmp0(sg_cron_job_get_expression(job), cfg->cron_expression) != 0 ||
		    g_strcmp0(sg_cron_job_get_timezone(job), cfg->cron_timezone) != 0) {
			/* A new schedule: its times start from now. */
			sg_cron_job_set_schedule(job, cfg->cron_expression, cfg->cron_timezone);
			sg_cron_job_set_next_run(job, 0);
			sg_cron_job_set_last_due(job, 0);
			mark_dirty(scheduler);
		}
		sg_cron_job_set_finished_func(job, job_finished_cb, scheduler);
		sg_service_set_cron_job(service, job);
		g_hash_table_replace(jobs, (gpointer)sg_cron_job_get_name(job), job);
	}
	/* Records of jobs that are gone: their runs in progress still hold them. */
	if (g_hash_table_size(scheduler->jobs) != g_hash_table_size(jobs))
		mark_dirty(scheduler);
	g_hash_table_unref(scheduler->jobs);
	scheduler->jobs = g_steal_pointer(&jobs);
	plan(scheduler, TRUE);
}

static void
reloaded_cb(SgSupervisor *supervisor, const char *config_path, gpointer user_data)
{
	sg_scheduler_reschedule(user_data);
}

SgScheduler *
sg_scheduler_new(SgSupervisor *supervisor)
{
	SgScheduler *scheduler = g_new0(SgScheduler, 1);

	scheduler->supervisor = supervisor;
	scheduler->engine = sg_supervisor_get_engine(supervisor);
	scheduler->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                        (GDestroyNotify)sg_cron_job_unref);
	scheduler->zones = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                         (GDestroyNotify)g_time_zone_unref);
	scheduler->alarm = sg_clock_alarm_new(scheduler->engine->clock, alarm_cb, scheduler);
	load_state(scheduler);
	/* Connected for the supervisor's life: it frees the scheduler in its finalize, after
	 * its handlers are gone. */
	g_signal_connect(supervisor, "reloaded", G_CALLBACK(reloaded_cb), scheduler);
	g_signal_connect(supervisor, "service-state-changed", G_CALLBACK(state_changed_cb),
	                 scheduler);
	sg_scheduler_reschedule(scheduler);
	return scheduler;
}

void
sg_scheduler_free(SgScheduler *scheduler)
{
	GHashTableIter iter;
	gpointer value;

	if (scheduler == NULL)
		return;
	sg_scheduler_flush(scheduler);
	/* Runs still in progress outlive the scheduler in their services. */
	g_hash_table_iter_init(&iter, scheduler->jobs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		sg_cron_job_set_finished_func(value, NULL, NULL);
	g_clear_pointer(&scheduler->alarm, sg_clock_alarm_free);
	g_hash_table_unref(scheduler->jobs);
	g_hash_table_unref(scheduler->zones);
	g_free(scheduler);
}
