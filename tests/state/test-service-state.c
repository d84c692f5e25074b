/* SPDX-License-Identifier: MIT */
/* The table of service states: every name, and every column against its documented meaning. */
#include "config.h"

#include <glib.h>

#include "state/sg-service-state.h"

/* The names of SPEC section 4, in the enum's order. */
static const char *const spec_names[] = {
	"stopped", "starting", "running", "stopping",  "exited",   "failed",
	"backoff", "blocked",  "skipped", "scheduled", "orphaned",
};

static void
test_names_round_trip(void)
{
	SgServiceState state;

	g_assert_cmpuint(G_N_ELEMENTS(spec_names), ==, SG_SERVICE_N_STATES);
	for (guint i = 0; i < SG_SERVICE_N_STATES; i++) {
		const char *name = sg_service_state_to_string((SgServiceState)i);

		g_assert_cmpstr(name, ==, spec_names[i]);
		g_assert_true(sg_service_state_from_string(name, &state));
		g_assert_cmpuint(state, ==, i);
	}
	g_assert_false(sg_service_state_from_string("runing", &state));
	g_assert_false(sg_service_state_from_string("", &state));
	g_assert_false(sg_service_state_from_string(NULL, &state));
	g_assert_false(sg_service_state_from_string("Running", &state));
}

/* Each column as a list of the states it holds for; backoff listed where it depends. */
typedef struct {
	const char *column;
	gboolean (*predicate)(SgServiceState state);
	const char *states; /* space-separated names */
} Column;

static gboolean
listed(const char *states, SgServiceState state)
{
	g_auto(GStrv) names = g_strsplit(states, " ", -1);

	return g_strv_contains((const char *const *)names, sg_service_state_to_string(state));
}

static void
test_plain_columns(void)
{
	static const Column columns[] = {
		/* A start succeeded: ready, done with 0, skipped, a cron job waiting for runs. */
		{ "up", sg_service_state_is_up, "running exited skipped scheduled" },
		/* No restart is coming after a failure: dependents are blocked. */
		{ "blocks dependents", sg_service_state_blocks_dependents, "failed blocked" },
		/* Down with nothing coming: a dependent's start brings it up first. */
		{ "wants request", sg_service_state_wants_request, "stopped failed blocked" },
		{ "awaits dependencies", sg_service_state_awaits_dependencies,
		  "stopped blocked starting" },
		/* No process and no timer: a service no longer configured can go. */
		{ "removable", sg_service_state_is_removable,
		  "stopped failed exited blocked skipped" },
		/* A restart or a start under way without a main process to wait for. */
		{ "pending", sg_service_state_is_pending, "starting backoff" },
		{ "live", sg_service_state_is_live, "starting running stopping orphaned" },
		{ "troubled", sg_service_state_is_troubled, "failed backoff" },
		/* Passed readiness; an orphan was adopted ready. */
		{ "ready", sg_service_state_is_ready, "running orphaned" },
		{ "done", sg_service_state_is_done, "exited skipped" },
		/* Recorded with no process: taken over as it is, or as the restart due. */
		{ "restorable", sg_service_state_is_restorable, "stopped exited failed backoff" },
	};

	for (guint c = 0; c < G_N_ELEMENTS(columns); c++) {
		for (guint i = 0; i < SG_SERVICE_N_STATES; i++) {
			gboolean expected = listed(columns[c].states, (SgServiceState)i);

			if (columns[c].predicate((SgServiceState)i) != expected)
				g_error("column %s, state %s: expected %s", columns[c].column,
				        sg_service_state_to_string((SgServiceState)i),
				        expected ? "yes" : "no");
		}
	}
}

static void
test_settled_and_failed(void)
{
	for (guint i = 0; i < SG_SERVICE_N_STATES; i++) {
		SgServiceState state = (SgServiceState)i;
		gboolean transient = state == SG_SERVICE_STARTING || state == SG_SERVICE_STOPPING;

		if (state == SG_SERVICE_BACKOFF)
			continue;
		/* Only the states that move on their own are not settled; the rest do not depend
		 * on how the instance ended. */
		g_assert_cmpint(sg_service_state_is_settled(state, FALSE), ==, !transient);
		g_assert_cmpint(sg_service_state_is_settled(state, TRUE), ==, !transient);
		/* Every up state is settled. */
		if (sg_service_state_is_up(state))
			g_assert_true(sg_service_state_is_settled(state, FALSE));
		/* Failed for a start's report: exactly those that block their dependents. */
		g_assert_cmpint(sg_service_state_counts_failed(state, FALSE), ==,
		                sg_service_state_blocks_dependents(state));
		g_assert_cmpint(sg_service_state_counts_failed(state, TRUE), ==,
		                sg_service_state_blocks_dependents(state));
	}
	/* A crash of a ready instance: the restart is still to come. */
	g_assert_false(sg_service_state_is_settled(SG_SERVICE_BACKOFF, FALSE));
	g_assert_false(sg_service_state_counts_failed(SG_SERVICE_BACKOFF, FALSE));
	/* Never ready: the start did not work, and the answer says so now. */
	g_assert_true(sg_service_state_is_settled(SG_SERVICE_BACKOFF, TRUE));
	g_assert_true(sg_service_state_counts_failed(SG_SERVICE_BACKOFF, TRUE));
	g_assert_false(sg_service_state_is_up(SG_SERVICE_BACKOFF));
}

static void
test_tones(void)
{
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_RUNNING), ==, SG_SERVICE_TONE_GOOD);
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_FAILED), ==, SG_SERVICE_TONE_BAD);
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_ORPHANED), ==, SG_SERVICE_TONE_BAD);
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_SCHEDULED), ==, SG_SERVICE_TONE_SCHEDULED);
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_STOPPED), ==, SG_SERVICE_TONE_NEUTRAL);
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_EXITED), ==, SG_SERVICE_TONE_NEUTRAL);
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_SKIPPED), ==, SG_SERVICE_TONE_NEUTRAL);
	/* Every state that moves on, or waits to, is shown as passing. */
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_STARTING), ==, SG_SERVICE_TONE_TRANSIENT);
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_STOPPING), ==, SG_SERVICE_TONE_TRANSIENT);
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_BACKOFF), ==, SG_SERVICE_TONE_TRANSIENT);
	g_assert_cmpint(sg_service_state_tone(SG_SERVICE_BLOCKED), ==, SG_SERVICE_TONE_TRANSIENT);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/service-state/names-round-trip", test_names_round_trip);
	g_test_add_func("/service-state/plain-columns", test_plain_columns);
	g_test_add_func("/service-state/settled-and-failed", test_settled_and_failed);
	g_test_add_func("/service-state/tones", test_tones);
	return g_test_run();
}
