/* SPDX-License-Identifier: MIT */
/* The engine object: owns the services, applies dependency order and cascades, and emits one
 * stream of events for the state files, the log, the socket and the bus. */
#include "config.h"

#include "engine/sg-supervisor-private.h"

#include <glib/gi18n.h>

#include "base/sg-error.h"
#include "engine/sg-depends.h"

typedef struct {
	SgSupervisorDoneFunc done;
	gpointer user_data;
} StopAllWaiter;

guint sg_supervisor_signals[N_SIGNALS];

G_DEFINE_TYPE(SgSupervisor, sg_supervisor, G_TYPE_OBJECT)

static void continue_stop_all(SgSupervisor *supervisor);
static gboolean stop_all_pass(SgSupervisor *supervisor);

/* ---- dependency decisions ---- */

static SgService *
lookup(SgSupervisor *supervisor, const char *name)
{
	return g_hash_table_lookup(supervisor->by_name, name);
}

static GPtrArray *
dependents_of(SgSupervisor *supervisor, SgService *service)
{
	return g_hash_table_lookup(supervisor->dependents, sg_service_get_name(service));
}

/* The states a dependent may be (re)started from when its dependencies change. */
static gboolean
waits_for_dependencies(SgService *service)
{
	SgServiceState state = sg_service_get_state(service);

	if (!sg_service_state_awaits_dependencies(state))
		return FALSE;
	/* Starting: waiting, not preparing an instance (skip, pre_start). */
	return state != SG_SERVICE_STARTING ||
	       (!sg_service_is_busy(service) && sg_service_get_pid(service) == 0);
}

/*
 * Starts a wanted service whose dependencies are all satisfied, blocks it when one of them
 * failed or is blocked, and otherwise lets it wait.
 */
void
sg_supervisor_evaluate(SgSupervisor *supervisor, SgService *service, gboolean explicit_request)
{
	g_autofree char *cause = NULL;
	SgServiceState state = sg_service_get_state(service);

	if (supervisor->stopping_all || !g_hash_table_contains(supervisor->wanted, service))
		return;
	if (sg_service_is_active(service))
		return;
	if (!waits_for_dependencies(service) && !explicit_request)
		return;
	if (state == SG_SERVICE_BACKOFF && !explicit_request)
		return;

	switch (sg_depends_judge(sg_service_get_config(service), supervisor->by_name,
	                         sg_clock_monotonic_usec(supervisor->context->clock), &cause)) {
	case SG_DEPENDS_RECOVERING:
		/* A crash that a restart follows leaves alone what is already under way. */
		if (sg_service_is_busy(service))
			break;
		G_GNUC_FALLTHROUGH;
	case SG_DEPENDS_BLOCKED:
		if (state != SG_SERVICE_BLOCKED ||
		    g_strcmp0(sg_service_get_cause(service), cause) != 0)
			sg_service_block(service, cause);
		break;
	case SG_DEPENDS_WAITING:
		sg_service_set_waiting(service, cause);
		break;
	case SG_DEPENDS_SATISFIED:
	default:
		sg_service_start(service);
		break;
	}
}

/* Marks a service and the stopped or failed services it depends on as wanted. */
static void
request(SgSupervisor *supervisor, SgService *service, GHashTable *seen)
{
	const SgServiceConfig *cfg = sg_service_get_config(service);

	if (!g_hash_table_add(seen, service))
		return;
	g_hash_table_add(supervisor->wanted, service);
	for (guint i = 0; i < cfg->n_depends_on; i++) {
		SgService *dep = lookup(supervisor, cfg->depends_on[i].service);

		if (sg_service_state_wants_request(sg_service_get_state(dep)))
			request(supervisor, dep, seen);
	}
}

/* ---- settling ---- */

gboolean
sg_supervisor_is_settled(SgSupervisor *supervisor, gboolean *ret_all_up)
{
	gboolean all_up = TRUE;
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, supervisor->wanted);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		SgService *service = key;
		SgServiceState state = sg_service_get_state(service);
		gboolean failed_before_ready = sg_service_failed_before_ready(service);

		if (g_hash_table_contains(supervisor->restarting, service))
			return FALSE;
		if (!sg_service_state_is_settled(state, failed_before_ready))
			return FALSE;
		if (sg_service_state_counts_failed(state, failed_before_ready))
			all_up = FALSE;
	}
	if (ret_all_up != NULL)
		*ret_all_up = all_up;
	return TRUE;
}

static void
check_settled(SgSupervisor *supervisor)
{
	if (!supervisor->settle_pending || supervisor->starting_all)
		return;
	if (!sg_supervisor_is_settled(supervisor, NULL))
		return;
	supervisor->settle_pending = FALSE;
	g_signal_emit(supervisor, sg_supervisor_signals[SIGNAL_SETTLED], 0);
}

/* ---- services no longer configured ---- */

static gboolean
is_removable(SgService *service)
{
	return sg_service_state_is_removable(sg_service_get_state(service)) &&
	       !sg_service_is_active(service);
}

static gboolean
removal_cb(gpointer user_data)
{
	SgSupervisor *supervisor = user_data;

	supervisor->removal_idle = 0;
	for (guint i = supervisor->services->len; i > 0; i--) {
		SgService *service = g_ptr_array_index(supervisor->services, i - 1);
		g_autofree char *name = NULL;

		if (!g_hash_table_contains(supervisor->detached, service))
			continue;
		/* A cron job no longer configured is out of its schedule once its run is over. */
		sg_service_set_scheduled(service, FALSE);
		if (!is_removable(service))
			continue;
		name = g_strdup(sg_service_get_name(service));
		sg_context_log(supervisor->context, SG_LOG_INFO,
		               "%s is no longer in the configuration and has no process left: "
		               "removed",
		               name);
		g_hash_table_remove(supervisor->detached, service);
		g_hash_table_remove(supervisor->wanted, service);
		g_hash_table_remove(supervisor->restarting, service);
		if (g_hash_table_lookup(supervisor->by_name, name) == service)
			g_hash_table_remove(supervisor->by_name, name);
		/* Freed after the signal: a listener may still drop its pointers to it. */
		g_ptr_array_steal_index(supervisor->services, i - 1);
		g_signal_emit(supervisor, sg_supervisor_signals[SIGNAL_SERVICE_REMOVED], 0, name);
		sg_service_free(service);
	}
	return G_SOURCE_REMOVE;
}

/* Not at once: the service may be in the middle of its own callback. */
void
sg_supervisor_schedule_removal(SgSupervisor *supervisor)
{
	if (supervisor->removal_idle == 0)
		supervisor->removal_idle = g_idle_add(removal_cb, supervisor);
}

/* ---- service events ---- */

static void
service_state_changed_cb(SgService *service, SgServiceState old_state, gpointer user_data)
{
	SgSupervisor *supervisor = user_data;
	SgServiceState state = sg_service_get_state(service);
	GPtrArray *dependents = dependents_of(supervisor, service);

	/* The scheduler first: a cron job's next run is known to whoever hears of it. */
	sg_scheduler_service_state_changed(supervisor->scheduler, service, old_state, state);
	g_signal_emit(supervisor, sg_supervisor_signals[SIGNAL_SERVICE_STATE_CHANGED], 0, service,
	              (guint)old_state, (guint)state);

	if (g_hash_table_contains(supervisor->detached, service))
		sg_supervisor_schedule_removal(supervisor);
	if (supervisor->stopping_all) {
		continue_stop_all(supervisor);
		return;
	}
	for (guint i = 0; dependents != NULL && i < dependents->len; i++) {
		SgService *dependent = g_ptr_array_index(dependents, i);

		if (!g_hash_table_contains(supervisor->wanted, dependent))
			continue;
		if (sg_service_state_blocks_dependents(state)) {
			/* No restart is coming: the dependents go down too, and come back
			 * when it is ready again. */
			g_autofree char *cause = sg_depends_failed_cause(service);
			if (sg_service_get_state(dependent) != SG_SERVICE_BLOCKED) {
				if (sg_service_is_active(dependent))
					sg_context_log(supervisor->context, SG_LOG_WARN,
					               "cascade: stopping %s because %s",
					               sg_service_get_name(dependent), cause);
				sg_service_block(dependent, cause);
			}
		} else {
			/* Ready, or a change that waiting dependents tell (backoff blocks them). */
			sg_supervisor_evaluate(supervisor, dependent, FALSE);
		}
	}
	check_settled(supervisor);
}

static void
service_changed_cb(SgService *service, gpointer user_data)
{
	SgSupervisor *supervisor = user_data;

	g_signal_emit(supervisor, sg_supervisor_signals[SIGNAL_SERVICE_CHANGED], 0, service);
}

const SgServiceEvents sg_supervisor_service_events = {
	.state_changed = service_state_changed_cb,
	.changed = service_changed_cb,
};

/* ---- operations ---- */

void
sg_supervisor_start_all(SgSupervisor *supervisor)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);

	supervisor->stopping_all = FALSE;
	supervisor->settle_pending = TRUE;
	supervisor->starting_all = TRUE;
	for (guint i = 0; i < supervisor->services->len; i++) {
		SgService *service = g_ptr_array_index(supervisor->services, i);
		if (sg_service_get_config(service)->cron == NULL &&
		    sg_service_get_state(service) == SG_SERVICE_STOPPED &&
		    !g_hash_table_contains(supervisor->detached, service) &&
		    !g_hash_table_contains(supervisor->held, service))
			request(supervisor, service, seen);
		/* Cron jobs taken out of their schedule by a stop-all go back to it. */
		sg_service_set_scheduled(service, TRUE);
	}
	/* Roots first, in file order; dependents follow as their dependencies get ready. */
	for (guint i = 0; i < supervisor->services->len; i++) {
		SgService *service = g_ptr_array_index(supervisor->services, i);
		if (g_hash_table_contains(seen, service))
			sg_supervisor_evaluate(supervisor, service, TRUE);
	}
	supervisor->starting_all = FALSE;
	g_hash_table_remove_all(supervisor->held);
	check_settled(supervisor);
}

gboolean
sg_supervisor_start_service(SgSupervisor *supervisor, const char *name, GError **error)
{
	SgService *service = lookup(supervisor, name);
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
	GHashTableIter iter;
	gpointer key;

	if (service == NULL) {
		g_set_error(error, SG_ERROR, SG_ERROR_NO_SUCH_SERVICE, "no such service: %s", name);
		return FALSE;
	}
	if (g_hash_table_contains(supervisor->detached, service)) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("%s is no longer in the configuration: it can only be stopped"),
		            name);
		return FALSE;
	}
	supervisor->stopping_all = FALSE;
	request(supervisor, service, seen);
	/* Dependencies first: evaluating a dependent before them would only make it wait. */
	g_hash_table_iter_init(&iter, seen);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		if (key != service)
			sg_supervisor_evaluate(supervisor, key, TRUE);
	sg_supervisor_evaluate(supervisor, service, TRUE);
	return TRUE;
}

typedef struct {
	SgSupervisor *supervisor;
	SgSupervisorDoneFunc done;
	gpointer user_data;
} StopOne;

static void
stop_one_done_cb(SgService *service, gpointer user_data)
{
	StopOne *stop = user_data;

	if (stop->done != NULL)
		stop->done(stop->supervisor, stop->user_data);
	g_object_unref(stop->supervisor);
	g_free(stop);
}

gboolean
sg_supervisor_stop_service(SgSupervisor *supervisor, const char *name, SgSupervisorDoneFunc done,
                           gpointer user_data, GError **error)
{
	SgService *service = lookup(supervisor, name);
	StopOne *stop;

	if (service == NULL) {
		g_set_error(error, SG_ERROR, SG_ERROR_NO_SUCH_SERVICE, "no such service: %s", name);
		return FALSE;
	}
	g_hash_table_remove(supervisor->wanted, service);
	stop = g_new0(StopOne, 1);
	stop->supervisor = g_object_ref(supervisor);
	stop->done = done;
	stop->user_data = user_data;
	sg_service_stop(service, stop_one_done_cb, stop);
	return TRUE;
}

/* A service may stop once nothing that depends on it runs any more. */
static gboolean
has_active_dependent(SgSupervisor *supervisor, SgService *service)
{
	GPtrArray *dependents = dependents_of(supervisor, service);

	for (guint i = 0; dependents != NULL && i < dependents->len; i++)
		if (sg_service_is_active(g_ptr_array_index(dependents, i)))
			return TRUE;
	return FALSE;
}

static void
continue_stop_all(SgSupervisor *supervisor)
{
	gboolean any_active;
	GSList *waiters;

	if (supervisor->in_stop_all_pass) {
		supervisor->stop_all_again = TRUE;
		return;
	}
	supervisor->in_stop_all_pass = TRUE;
	do {
		supervisor->stop_all_again = FALSE;
		any_active = stop_all_pass(supervisor);
	} while (supervisor->stop_all_again);
	supervisor->in_stop_all_pass = FALSE;
	if (any_active || !supervisor->stopping_all)
		return;
	supervisor->stopping_all = FALSE;
	waiters = g_steal_pointer(&supervisor->stop_all_waiters);
	for (GSList *l = waiters; l != NULL; l = l->next) {
		StopAllWaiter *waiter = l->data;
		waiter->done(supervisor, waiter->user_data);
	}
	g_slist_free_full(waiters, g_free);
}

/* One pass: stops what may stop now; returns whether anything is still active. */
static gboolean
stop_all_pass(SgSupervisor *supervisor)
{
	gboolean any_active = FALSE;

	for (guint i = 0; i < supervisor->services->len; i++) {
		SgService *service = g_ptr_array_index(supervisor->services, i);
		SgServiceState state = sg_service_get_state(service);

		if (sg_service_is_active(service)) {
			any_active = TRUE;
			if (state != SG_SERVICE_STOPPING &&
			    !has_active_dependent(supervisor, service))
				sg_service_stop(service, NULL, NULL);
		} else if (sg_service_state_is_pending(state)) {
			/* A pending restart or a helper: cancelled, nothing to wait for. */
			sg_service_stop(service, NULL, NULL);
		} else if (state == SG_SERVICE_SCHEDULED) {
			/* No more cron runs until a start. */
			sg_service_set_scheduled(service, FALSE);
		}
	}
	return any_active;
}

void
sg_supervisor_stop_all(SgSupervisor *supervisor, SgSupervisorDoneFunc done, gpointer user_data)
{
	StopAllWaiter *waiter = g_new0(StopAllWaiter, 1);

	waiter->done = done;
	waiter->user_data = user_data;
	supervisor->stop_all_waiters = g_slist_append(supervisor->stop_all_waiters, waiter);
	g_hash_table_remove_all(supervisor->wanted);
	supervisor->settle_pending = FALSE;
	if (!supervisor->stopping_all) {
		supervisor->stopping_all = TRUE;
		g_object_ref(supervisor);
		continue_stop_all(supervisor);
		g_object_unref(supervisor);
	}
}

/* ---- indexes ---- */

/* by_name and dependents borrow the names of the current definitions: rebuilt on reload. */
void
sg_supervisor_rebuild_indexes(SgSupervisor *supervisor)
{
	g_hash_table_remove_all(supervisor->by_name);
	g_hash_table_remove_all(supervisor->dependents);
	for (guint i = 0; i < supervisor->services->len; i++) {
		SgService *service = g_ptr_array_index(supervisor->services, i);
		const SgServiceConfig *cfg = sg_service_get_config(service);

		g_hash_table_insert(supervisor->by_name, (gpointer)cfg->name, service);
		if (g_hash_table_contains(supervisor->detached, service))
			continue;
		for (guint d = 0; d < cfg->n_depends_on; d++) {
			GPtrArray *list = g_hash_table_lookup(supervisor->dependents,
			                                      cfg->depends_on[d].service);
			if (list == NULL) {
				list = g_ptr_array_new();
				g_hash_table_insert(supervisor->dependents,
				                    (gpointer)cfg->depends_on[d].service, list);
			}
			g_ptr_array_add(list, service);
		}
	}
}

/* ---- restarts of adoption and reload: stop, then start ---- */

static void
restart_done_cb(SgService *service, gpointer user_data)
{
	SgSupervisor *supervisor = user_data;

	g_hash_table_remove(supervisor->restarting, service);
	if (!supervisor->stopping_all && g_hash_table_contains(supervisor->wanted, service) &&
	    !g_hash_table_contains(supervisor->detached, service))
		sg_supervisor_evaluate(supervisor, service, TRUE);
	/* Whoever waits for its start learns that the restart is over, started or not. */
	g_signal_emit(supervisor, sg_supervisor_signals[SIGNAL_SERVICE_CHANGED], 0, service);
	check_settled(supervisor);
	g_object_unref(supervisor);
}

void
sg_supervisor_restart_service(SgSupervisor *supervisor, SgService *service)
{
	g_hash_table_add(supervisor->wanted, service);
	g_hash_table_add(supervisor->restarting, service);
	sg_service_stop(service, restart_done_cb, g_object_ref(supervisor));
}

/* ---- object ---- */

/* What the scheduler asks of the supervisor (it never includes this file's header). */
static GPtrArray *
host_get_services(gpointer owner)
{
	return ((SgSupervisor *)owner)->services;
}

static SgService *
host_lookup(gpointer owner, const char *name)
{
	return lookup(owner, name);
}

static SgConfig *
host_get_config(gpointer owner)
{
	return ((SgSupervisor *)owner)->config;
}

static void
host_next_run_changed(gpointer owner, SgService *service)
{
	g_signal_emit(owner, sg_supervisor_signals[SIGNAL_SERVICE_CHANGED], 0, service);
}

static void
host_job_finished(gpointer owner, SgService *service, const SgCronRun *run)
{
	g_signal_emit(owner, sg_supervisor_signals[SIGNAL_CRON_JOB_FINISHED], 0, service,
	              sg_cron_result_to_string(run->result), run->exit_code, run->started_usec,
	              run->finished_usec);
}

static const SgSchedulerHost scheduler_host = {
	.get_services = host_get_services,
	.lookup = host_lookup,
	.get_config = host_get_config,
	.next_run_changed = host_next_run_changed,
	.job_finished = host_job_finished,
};

SgSupervisor *
sg_supervisor_new(SgContext *context, SgConfig *config)
{
	SgSupervisor *supervisor = g_object_new(SG_TYPE_SUPERVISOR, NULL);

	supervisor->context = context;
	supervisor->config = sg_config_ref(config);
	for (guint i = 0; i < config->services->len; i++) {
		const SgServiceConfig *cfg = g_ptr_array_index(config->services, i);
		SgService *service = sg_service_new(context, config, cfg,
		                                    &sg_supervisor_service_events, supervisor);
		g_ptr_array_add(supervisor->services, service);
	}
	sg_supervisor_rebuild_indexes(supervisor);
	supervisor->scheduler = sg_scheduler_new(context, &scheduler_host, supervisor);
	return supervisor;
}

void
sg_supervisor_reschedule_cron(SgSupervisor *supervisor)
{
	sg_scheduler_reschedule(supervisor->scheduler);
}

void
sg_supervisor_flush_cron(SgSupervisor *supervisor)
{
	sg_scheduler_flush(supervisor->scheduler);
}

SgConfig *
sg_supervisor_get_config(SgSupervisor *supervisor)
{
	return supervisor->config;
}

const char *
sg_supervisor_get_config_path(SgSupervisor *supervisor)
{
	return supervisor->config->path;
}

SgContext *
sg_supervisor_get_context(SgSupervisor *supervisor)
{
	return supervisor->context;
}

GPtrArray *
sg_supervisor_get_services(SgSupervisor *supervisor)
{
	return supervisor->services;
}

SgService *
sg_supervisor_lookup(SgSupervisor *supervisor, const char *name)
{
	return lookup(supervisor, name);
}

gboolean
sg_supervisor_is_stopping_all(SgSupervisor *supervisor)
{
	return supervisor->stopping_all;
}

gboolean
sg_supervisor_is_restarting(SgSupervisor *supervisor, SgService *service)
{
	return g_hash_table_contains(supervisor->restarting, service);
}

static void
sg_supervisor_finalize(GObject *object)
{
	SgSupervisor *supervisor = SG_SUPERVISOR(object);

	g_clear_pointer(&supervisor->scheduler, sg_scheduler_free);
	g_clear_handle_id(&supervisor->removal_idle, g_source_remove);
	g_hash_table_unref(supervisor->wanted);
	g_hash_table_unref(supervisor->detached);
	g_hash_table_unref(supervisor->restarting);
	g_hash_table_unref(supervisor->held);
	g_hash_table_unref(supervisor->dependents);
	g_hash_table_unref(supervisor->by_name);
	g_ptr_array_unref(supervisor->services);
	g_slist_free_full(supervisor->stop_all_waiters, g_free);
	sg_config_unref(supervisor->config);
	G_OBJECT_CLASS(sg_supervisor_parent_class)->finalize(object);
}

static void
sg_supervisor_init(SgSupervisor *supervisor)
{
	supervisor->services = g_ptr_array_new_with_free_func((GDestroyNotify)sg_service_free);
	supervisor->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	supervisor->dependents = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                                               (GDestroyNotify)g_ptr_array_unref);
	supervisor->wanted = g_hash_table_new(NULL, NULL);
	supervisor->detached = g_hash_table_new(NULL, NULL);
	supervisor->restarting = g_hash_table_new(NULL, NULL);
	supervisor->held = g_hash_table_new(NULL, NULL);
}

static void
sg_supervisor_class_init(SgSupervisorClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = sg_supervisor_finalize;
	sg_supervisor_signals[SIGNAL_SERVICE_STATE_CHANGED] = g_signal_new(
	        "service-state-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
	        NULL, G_TYPE_NONE, 3, G_TYPE_POINTER, G_TYPE_UINT, G_TYPE_UINT);
	sg_supervisor_signals[SIGNAL_SERVICE_CHANGED] =
	        g_signal_new("service-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
	                     NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
	sg_supervisor_signals[SIGNAL_SETTLED] =
	        g_signal_new("settled", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
	                     NULL, G_TYPE_NONE, 0);
	sg_supervisor_signals[SIGNAL_SERVICE_ADDED] =
	        g_signal_new("service-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
	                     NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
	sg_supervisor_signals[SIGNAL_SERVICE_REMOVED] =
	        g_signal_new("service-removed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
	                     NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
	sg_supervisor_signals[SIGNAL_RELOADED] =
	        g_signal_new("reloaded", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
	                     NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
	sg_supervisor_signals[SIGNAL_CRON_JOB_FINISHED] =
	        g_signal_new("cron-job-finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
	                     NULL, NULL, NULL, G_TYPE_NONE, 5, G_TYPE_POINTER, G_TYPE_STRING,
	                     G_TYPE_INT, G_TYPE_INT64, G_TYPE_INT64);
}
