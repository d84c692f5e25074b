/* SPDX-License-Identifier: MIT */
/* Start, stop and restart that answer when done, shared by the control socket and the bus. */
#include "config.h"

#include "api/sg-operation.h"

#include <glib/gi18n.h>

#include "base/sg-error.h"
#include "base/sg-escape.h"
#include "base/sg-json.h"
#include "engine/sg-persist.h"
#include "base/sg-tail.h"

typedef enum {
	PHASE_SYNC,
	PHASE_IN_ENGINE, /* a stop callback of the supervisor will come */
	PHASE_IDLE,      /* the start half of a restart is scheduled */
	PHASE_WAITING,   /* for its services to settle */
} Phase;

struct _SgOperation {
	SgSupervisor *supervisor; /* outlives the work: it calls a stop back before it goes */
	SgOperationKind kind;
	char *name; /* the service, or NULL for all */
	SgOperationRefuseFunc refuse;
	gpointer refuse_data;
	SgOperationDoneFunc done;
	gpointer user_data;
	Phase phase;
	guint idle_id;
	GPtrArray *targets; /* SgService* whose start is awaited */
	gulong state_handler;
	gulong changed_handler;
	gulong removed_handler;
};

static void
operation_free(SgOperation *op)
{
	g_clear_signal_handler(&op->state_handler, op->supervisor);
	g_clear_signal_handler(&op->changed_handler, op->supervisor);
	g_clear_signal_handler(&op->removed_handler, op->supervisor);
	g_clear_handle_id(&op->idle_id, g_source_remove);
	g_clear_pointer(&op->targets, g_ptr_array_unref);
	g_free(op->name);
	g_free(op);
}

static void
finish(SgOperation *op, const GError *error, JsonNode *failed)
{
	if (op->done != NULL) {
		/* The rule for every answer, socket and bus alike: the state files say it first. */
		sg_persist_flush_supervisor(op->supervisor);
		op->done(error, failed, op->user_data);
	}
	operation_free(op);
}

typedef enum {
	OUTCOME_PENDING,
	OUTCOME_UP,
	OUTCOME_DOWN,
} Outcome;

static Outcome
start_outcome(SgSupervisor *supervisor, SgService *service)
{
	SgServiceState state = sg_service_get_state(service);

	/* Stopped by the engine's own restart (a reload's): its start is still to come. */
	if (sg_supervisor_is_restarting(supervisor, service))
		return OUTCOME_PENDING;
	if (sg_service_state_is_up(state))
		return OUTCOME_UP;
	/* Down: failed, blocked, stopped by someone else before it was ready, orphaned. */
	if (sg_service_state_is_settled(state, sg_service_failed_before_ready(service)))
		return OUTCOME_DOWN;
	return OUTCOME_PENDING;
}

/* Finishes a start once every target is up or down for now; FALSE while waiting. */
static gboolean
check_started(SgOperation *op)
{
	g_autoptr(GString) message = NULL;
	g_autoptr(JsonBuilder) failed = NULL;
	g_autoptr(JsonNode) failed_node = NULL;
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < op->targets->len; i++)
		if (start_outcome(op->supervisor, op->targets->pdata[i]) == OUTCOME_PENDING)
			return FALSE;
	for (guint i = 0; i < op->targets->len; i++) {
		SgService *service = op->targets->pdata[i];
		const char *state = sg_service_state_to_string(sg_service_get_state(service));
		const char *cause = sg_service_get_cause(service);
		g_autofree char *stderr_log = NULL;

		if (start_outcome(op->supervisor, service) == OUTCOME_UP)
			continue;
		if (message == NULL) {
			message = g_string_new(NULL);
			failed = json_builder_new();
			json_builder_begin_array(failed);
		}
		/* One line per service, with its last stderr lines as sysg start shows them. */
		g_string_append_printf(message, _("%s did not start: %s"),
		                       sg_service_get_name(service), state);
		if (cause != NULL) {
			/* The report keeps its lines: what it quotes may not add any. */
			g_autofree char *escaped = sg_escape(cause);

			g_string_append_printf(message, " (%s)", escaped);
		}
		g_string_append_c(message, '\n');
		stderr_log = g_strdup_printf("%s/%s_stderr.log",
		                             sg_supervisor_get_context(op->supervisor)->log_dir,
		                             sg_service_get_name(service));
		sg_tail_append_indented(message, stderr_log, SG_TAIL_FAILURE_LINES);
		json_builder_begin_object(failed);
		json_builder_set_member_name(failed, "name");
		json_builder_add_string_value(failed, sg_service_get_name(service));
		json_builder_set_member_name(failed, "state");
		json_builder_add_string_value(failed, state);
		sg_json_builder_add_string_or_null(failed, "cause", cause);
		json_builder_end_object(failed);
	}
	if (message != NULL) {
		g_string_truncate(message, message->len - 1); /* the last newline */
		json_builder_end_array(failed);
		failed_node = json_builder_get_root(failed);
		error = g_error_new_literal(SG_ERROR, SG_ERROR_FAILED, message->str);
	}
	finish(op, error, failed_node);
	return TRUE;
}

static void
state_changed_cb(SgSupervisor *supervisor, SgService *service, guint old_state, guint new_state,
                 gpointer user_data)
{
	check_started(user_data);
}

/* The end of an engine restart changes no state by itself when it starts nothing. */
static void
changed_cb(SgSupervisor *supervisor, SgService *service, gpointer user_data)
{
	check_started(user_data);
}

/* A reload removed a service: a start waiting for it waits no more. */
static void
service_removed_cb(SgSupervisor *supervisor, const char *name, gpointer user_data)
{
	SgOperation *op = user_data;

	for (guint i = op->targets->len; i > 0; i--)
		if (g_strcmp0(sg_service_get_name(op->targets->pdata[i - 1]), name) == 0)
			g_ptr_array_remove_index(op->targets, i - 1);
	check_started(op);
}

static gboolean
refuse_start(SgOperation *op)
{
	g_autoptr(GError) error = NULL;

	if (!op->refuse(op->refuse_data, &error))
		return FALSE;
	finish(op, error, NULL);
	return TRUE;
}

static void
start(SgOperation *op)
{
	GPtrArray *services = sg_supervisor_get_services(op->supervisor);
	g_autoptr(GError) error = NULL;

	if (refuse_start(op))
		return;
	op->targets = g_ptr_array_new();
	if (op->name != NULL) {
		if (!sg_supervisor_start_service(op->supervisor, op->name, &error)) {
			finish(op, error, NULL);
			return;
		}
		g_ptr_array_add(op->targets, sg_supervisor_lookup(op->supervisor, op->name));
	} else {
		sg_supervisor_start_all(op->supervisor);
		for (guint i = 0; i < services->len; i++) {
			SgService *service = services->pdata[i];
			/* An orphan is never started: not a target of "start everything". */
			if (sg_service_get_config(service)->cron == NULL &&
			    !sg_service_is_orphaned(service))
				g_ptr_array_add(op->targets, service);
		}
	}
	/* Whatever settled during the call is seen now; the rest by state changes. */
	op->phase = PHASE_WAITING;
	if (!check_started(op)) {
		op->state_handler = g_signal_connect(op->supervisor, "service-state-changed",
		                                     G_CALLBACK(state_changed_cb), op);
		op->changed_handler = g_signal_connect(op->supervisor, "service-changed",
		                                       G_CALLBACK(changed_cb), op);
		op->removed_handler = g_signal_connect(op->supervisor, "service-removed",
		                                       G_CALLBACK(service_removed_cb), op);
	}
}

static gboolean
restart_start_cb(gpointer user_data)
{
	SgOperation *op = user_data;

	op->idle_id = 0;
	start(op);
	return G_SOURCE_REMOVE;
}

static void
stopped_cb(SgSupervisor *supervisor, gpointer user_data)
{
	SgOperation *op = user_data;

	if (op->kind != SG_OPERATION_RESTART || op->done == NULL) {
		finish(op, NULL, NULL);
		return;
	}
	/* Out of the supervisor's callback before starting again. */
	op->phase = PHASE_IDLE;
	op->idle_id = g_idle_add(restart_start_cb, op);
}

static void
stop(SgOperation *op)
{
	g_autoptr(GError) error = NULL;

	op->phase = PHASE_IN_ENGINE;
	if (op->name == NULL) {
		sg_supervisor_stop_all(op->supervisor, stopped_cb, op);
		return;
	}
	if (!sg_supervisor_stop_service(op->supervisor, op->name, stopped_cb, op, &error)) {
		op->phase = PHASE_SYNC;
		finish(op, error, NULL);
	}
}

SgOperation *
sg_operation_new(SgSupervisor *supervisor, SgOperationKind kind, const char *name,
                 SgOperationRefuseFunc refuse, gpointer refuse_data, SgOperationDoneFunc done,
                 gpointer user_data)
{
	SgOperation *op = g_new0(SgOperation, 1);

	op->refuse = refuse;
	op->refuse_data = refuse_data;
	op->supervisor = supervisor;
	op->kind = kind;
	op->name = g_strdup(name);
	op->done = done;
	op->user_data = user_data;
	return op;
}

void
sg_operation_run(SgOperation *op)
{
	switch (op->kind) {
	case SG_OPERATION_START:
		start(op);
		break;
	case SG_OPERATION_STOP:
		stop(op);
		break;
	case SG_OPERATION_RESTART:
		if (!refuse_start(op))
			stop(op);
		break;
	}
}

void
sg_operation_cancel(SgOperation *op)
{
	if (op == NULL)
		return;
	op->done = NULL;
	/* The supervisor still holds a stop's callback: it frees the operation. */
	if (op->phase != PHASE_IN_ENGINE)
		operation_free(op);
}
