/* SPDX-License-Identifier: MIT */
/* One service's status as a plain value, with its JSON and D-Bus forms and a diff of two. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <systemd/sd-bus.h>

/* One finished run of a cron job. */
typedef struct {
	gint64 started_at;  /* realtime usec */
	gint64 finished_at; /* realtime usec */
	char *result;       /* success, failed, overlap, killed; NULL if unknown */
	int exit_code;      /* -1 if none */
} SgServiceStatusRun;

/*
 * Every field of one service object of `sysg status --json` (SPEC section 5). Absent values:
 * 0 for pids, times and tasks, -1 for exit_code, memory_bytes and cpu_usec, 0 for
 * exit_signal, NULL for strings and lists.
 */
typedef struct {
	char *name;
	char *kind; /* service or cron */
	char *state;
	gint64 pid;
	gint64 pgid;
	gint64 started_at;
	gint64 restart_count;
	gint64 exit_code;
	gint64 exit_signal;
	char *restart_policy;
	char **depends_on;
	char *health;
	gint64 memory_bytes;
	gint64 cpu_usec;
	gint64 tasks;
	char *command;
	char **argv; /* NULL: the service has a shell command, no argv */
	gboolean orphaned;
	/* kind "cron" only */
	char *cron_expression;
	char *cron_timezone;
	gint64 next_run;
	GArray *cron_history; /* of SgServiceStatusRun, oldest first; NULL: none */
	char *last_result;    /* the last run's result, NULL before the first (D-Bus only) */
	char *cause;
} SgServiceStatus;

/* A new value, every field absent. */
SgServiceStatus *sg_service_status_new(void);
void sg_service_status_free(SgServiceStatus *status);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgServiceStatus, sg_service_status_free)
/* Appends a run to cron_history (result is copied). */
void sg_service_status_add_run(SgServiceStatus *status, gint64 started_at, gint64 finished_at,
                               const char *result, int exit_code);

/* The service object of `status --json` and get_service. */
void sg_service_status_build_json(const SgServiceStatus *status, JsonBuilder *builder);
JsonNode *sg_service_status_to_json(const SgServiceStatus *status);
/* The members of the service's entry in state.json this value holds (the caller adds the rest). */
void sg_service_status_build_state_json(const SgServiceStatus *status, JsonBuilder *builder);

/* How a D-Bus property changes. */
typedef enum {
	SG_SERVICE_STATUS_EMITS_CHANGE, /* PropertiesChanged announces it */
	SG_SERVICE_STATUS_CONST,        /* never changes */
	SG_SERVICE_STATUS_LIVE,         /* read live, never announced */
} SgServiceStatusChange;

typedef struct {
	const char *name;      /* org.systemg.Service property */
	const char *signature; /* its D-Bus type */
	SgServiceStatusChange change;
} SgServiceStatusProperty;

/* The org.systemg.Service properties, one by one from index 0; NULL past the last. */
const SgServiceStatusProperty *sg_service_status_property(guint index);
/* Appends the value of property to reply; -ENOENT for a property that is not there. */
int sg_service_status_append_property(const SgServiceStatus *status, const char *property,
                                      sd_bus_message *reply);
/*
 * Reads an a{sv} of org.systemg.Service properties (GetAll, GetManagedObjects) into status;
 * unknown properties and properties of another type are skipped. Returns < 0 on a bad message.
 */
int sg_service_status_read_properties(SgServiceStatus *status, sd_bus_message *message);

/*
 * The announced properties (SG_SERVICE_STATUS_EMITS_CHANGE) whose values differ between old
 * and new, as a NULL-terminated array of static names (free the array, not the names).
 */
const char **sg_service_status_diff(const SgServiceStatus *old, const SgServiceStatus *new);
