/* SPDX-License-Identifier: MIT */
/* The configuration's types: SgConfig and SgServiceConfig with their parts, and their names. */
#pragma once

#include <glib.h>

#include "config/sg-cron.h"
#include "base/sg-limits.h"

typedef enum {
	SG_RESTART_NEVER,
	SG_RESTART_ON_FAILURE,
	SG_RESTART_ALWAYS,
} SgRestartPolicy;

typedef enum {
	SG_CHECK_NONE,
	SG_CHECK_URL,
	SG_CHECK_TCP,
	SG_CHECK_COMMAND,
	SG_CHECK_NOTIFY,
} SgCheckKind;

typedef struct {
	SgCheckKind kind;
	char *target; /* the URL, "host:port" or shell command; NULL for notify and none */
	guint64 interval_ms;
	guint64 timeout_ms;
	guint retries;
} SgHealthCheck;

typedef enum {
	SG_STRATEGY_IMMEDIATE,
	SG_STRATEGY_ROLLING,
} SgStrategy;

typedef struct {
	SgStrategy strategy;
	char *pre_start; /* shell command or NULL */
	SgHealthCheck health_check;
	guint64 grace_period_ms;
} SgDeployment;

typedef enum {
	SG_HOOK_ON_START_SUCCESS,
	SG_HOOK_ON_START_ERROR,
	SG_HOOK_ON_STOP_SUCCESS,
	SG_HOOK_ON_STOP_ERROR,
	SG_HOOK_ON_RESTART_SUCCESS,
	SG_HOOK_ON_RESTART_ERROR,
	SG_HOOK_N,
} SgHookKind;

typedef struct {
	char *command; /* NULL when the hook is not configured */
	guint64 timeout_ms;
} SgHook;

typedef struct {
	guint64 max_bytes; /* 0: never rotate */
	guint max_files;
} SgLogLimits;

typedef enum {
	SG_CONDITION_READY,
	SG_CONDITION_COMPLETED,
} SgCondition;

typedef struct {
	char *service;
	SgCondition condition;
} SgDependency;

typedef struct {
	char *name;
	int line; /* where the service's key is written */
	int column;
	char *command;     /* shell command, or NULL for an exec service */
	char **argv;       /* exec argv after ${VAR} expansion, or NULL */
	char *working_dir; /* absolute */
	/* KEY=VALUE set by the file's env layers (root file, root vars, service file, service
	 * vars), sorted by key; the supervisor's own environment is kept once in SgConfig. */
	char **env;
	SgDependency *depends_on;
	guint n_depends_on;
	SgRestartPolicy restart_policy;
	guint64 backoff_ms;
	guint64 backoff_max_ms; /* 0: the backoff does not grow */
	gint64 max_restarts;    /* -1: unlimited */
	guint64 stop_timeout_ms;
	gboolean skip;
	char *skip_command; /* shell command whose exit 0 means skip, or NULL */
	SgHealthCheck health_check;
	SgDeployment deployment;
	SgHook hooks[SG_HOOK_N];
	SgLogLimits logs;
	char *cron_expression; /* NULL unless a cron job */
	char *cron_timezone;   /* IANA name, NULL for local time */
	SgCronSchedule *cron;
	char hash[65]; /* SHA-256 (hex) of the canonical form, see docs/configuration.md */
} SgServiceConfig;

typedef struct {
	int refcount;
	char *path;          /* absolute */
	char *display_name;  /* as given, for messages */
	char *dir;           /* project_dir, or the file's directory: base of relative paths */
	char **base_env;     /* the supervisor's environment minus its manager's variables */
	SgLogLimits logs;    /* root defaults */
	GPtrArray *services; /* SgServiceConfig*, in file order */
	GHashTable *by_name; /* name -> SgServiceConfig* (borrowed) */
} SgConfig;

const char *sg_hook_kind_to_string(SgHookKind kind);
const char *sg_restart_policy_to_string(SgRestartPolicy policy);
const char *sg_check_kind_to_string(SgCheckKind kind);
