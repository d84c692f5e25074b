/* SPDX-License-Identifier: MIT */
/* The supervisor's insides, shared by its parts: sg-supervisor.c (services, dependency order,
 * cascades, stop of everything), sg-supervisor-adopt.c and sg-supervisor-reload.c. */
#pragma once

#include "engine/sg-scheduler.h"
#include "engine/sg-supervisor.h"

struct _SgSupervisor {
	GObject parent_instance;

	SgContext *context;
	SgConfig *config;
	GPtrArray *services;    /* SgService*, configuration order, owned */
	GHashTable *by_name;    /* name -> SgService* */
	GHashTable *dependents; /* name -> GPtrArray of SgService* that depend on it */
	GHashTable *wanted;     /* SgService* the operator asked to run */
	/* SgService* no longer in the configuration (orphans, and services a reload removed):
	 * they go once no process of theirs is left. */
	GHashTable *detached;
	guint removal_idle;
	GHashTable *restarting; /* SgService* between the stop and the start of a restart */
	/* SgService* the operator had stopped before the earlier supervisor went away: the
	 * start of all services after adoption leaves them stopped. */
	GHashTable *held;

	gboolean settle_pending;
	gboolean starting_all;
	gboolean stopping_all;
	gboolean in_stop_all_pass; /* state changes during a pass ask for another pass */
	gboolean stop_all_again;
	GSList *stop_all_waiters; /* StopAllWaiter* */
	SgScheduler *scheduler;   /* cron jobs */
};

enum {
	SIGNAL_SERVICE_STATE_CHANGED,
	SIGNAL_SERVICE_CHANGED,
	SIGNAL_SETTLED,
	SIGNAL_SERVICE_ADDED,
	SIGNAL_SERVICE_REMOVED,
	SIGNAL_RELOADED,
	SIGNAL_CRON_JOB_FINISHED,
	N_SIGNALS,
};

extern guint sg_supervisor_signals[N_SIGNALS];

/* Every service's events come to the supervisor through these. */
extern const SgServiceEvents sg_supervisor_service_events;

/*
 * Starts a wanted service whose dependencies are all satisfied, blocks it when one of them
 * failed or is blocked, and otherwise lets it wait; explicit_request also from backoff and
 * from states that do not wait for dependencies.
 */
void sg_supervisor_evaluate(SgSupervisor *supervisor, SgService *service,
                            gboolean explicit_request);
/* Removes, from an idle callback, the detached services that have no process left. */
void sg_supervisor_schedule_removal(SgSupervisor *supervisor);
/* by_name and dependents, again from services (after the list or the definitions changed). */
void sg_supervisor_rebuild_indexes(SgSupervisor *supervisor);
/* The engine's own restart of service (reload, adoption): stop, then start if still wanted. */
void sg_supervisor_restart_service(SgSupervisor *supervisor, SgService *service);
