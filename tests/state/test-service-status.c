/* SPDX-License-Identifier: MIT */
/* SgServiceStatus: its JSON, its D-Bus properties read back, and the diff of two values. */
#include "config.h"

#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "base/sg-bus-autoptr.h"
#include "base/sg-json.h"
#include "state/sg-service-status.h"

static SgServiceStatus *
cron_status(void)
{
	SgServiceStatus *status = sg_service_status_new();
	char *depends[] = { "db", "cache", NULL };
	char *argv[] = { "/bin/backup", "--all", NULL };

	status->name = g_strdup("backup");
	status->kind = g_strdup("cron");
	status->state = g_strdup("running");
	status->pid = 4242;
	status->pgid = 4242;
	status->started_at = 1769873400123456;
	status->restart_count = 3;
	status->exit_code = 1;
	status->restart_policy = g_strdup("on-failure");
	status->depends_on = g_strdupv(depends);
	status->health = g_strdup("healthy");
	status->memory_bytes = 1048576;
	status->cpu_usec = 1500000;
	status->tasks = 2;
	status->command = g_strdup("/bin/backup --all");
	status->argv = g_strdupv(argv);
	status->cron_expression = g_strdup("*/5 * * * *");
	status->cron_timezone = g_strdup("Europe/Paris");
	status->next_run = 1769873700000000;
	sg_service_status_add_run(status, 1769873100000000, 1769873101000000, "failed", 1);
	sg_service_status_add_run(status, 1769873400000000, 1769873401000000, "killed", -1);
	status->last_result = g_strdup("killed");
	status->cause = g_strdup("exited with code 1");
	return status;
}

static char *
to_text(const SgServiceStatus *status)
{
	g_autoptr(JsonNode) node = sg_service_status_to_json(status);

	return json_to_string(node, FALSE);
}

static void
test_json(void)
{
	g_autoptr(SgServiceStatus) status = cron_status();
	g_autoptr(SgServiceStatus) plain = sg_service_status_new();
	g_autofree char *text = to_text(status);
	g_autofree char *empty = NULL;

	g_assert_cmpstr(
	        text, ==,
	        "{\"name\":\"backup\",\"kind\":\"cron\",\"state\":\"running\",\"pid\":4242,"
	        "\"pgid\":4242,\"started_at\":\"2026-01-31T15:30:00.123456Z\",\"restart_count\":3,"
	        "\"exit_code\":1,\"exit_signal\":null,\"restart_policy\":\"on-failure\","
	        "\"depends_on\":[\"db\",\"cache\"],\"health\":\"healthy\",\"memory_bytes\":1048576,"
	        "\"cpu_seconds\":1.5,\"tasks\":2,\"command\":\"/bin/backup --all\","
	        "\"argv\":[\"/bin/backup\",\"--all\"],\"orphaned\":false,\"cron\":{\"expression\":"
	        "\"*/5 * * * *\",\"timezone\":\"Europe/Paris\",\"next_run\":"
	        "\"2026-01-31T15:35:00.000000Z\",\"history\":[{\"started_at\":"
	        "\"2026-01-31T15:25:00.000000Z\",\"finished_at\":\"2026-01-31T15:25:01.000000Z\","
	        "\"result\":\"failed\",\"exit_code\":1},{\"started_at\":"
	        "\"2026-01-31T15:30:00.000000Z\",\"finished_at\":\"2026-01-31T15:30:01.000000Z\","
	        "\"result\":\"killed\",\"exit_code\":null}]},\"cause\":\"exited with code 1\"}");
	/* Absent values are null; a plain service has neither argv (a shell command) nor cron. */
	plain->kind = g_strdup("service");
	empty = to_text(plain);
	g_assert_cmpstr(empty, ==,
	                "{\"name\":null,\"kind\":\"service\",\"state\":null,\"pid\":null,"
	                "\"pgid\":null,\"started_at\":null,\"restart_count\":0,\"exit_code\":null,"
	                "\"exit_signal\":null,\"restart_policy\":null,\"depends_on\":[],"
	                "\"health\":null,\"memory_bytes\":null,\"cpu_seconds\":null,\"tasks\":null,"
	                "\"command\":null,\"orphaned\":false,\"cause\":null}");
}

static void
test_state_json(void)
{
	g_autoptr(SgServiceStatus) status = cron_status();
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *text = NULL;

	json_builder_begin_object(builder);
	sg_service_status_build_state_json(status, builder);
	json_builder_end_object(builder);
	node = json_builder_get_root(builder);
	text = json_to_string(node, FALSE);
	g_assert_cmpstr(text, ==,
	                "{\"status\":\"running\",\"pid\":4242,\"started_at\":"
	                "\"2026-01-31T15:30:00.123456Z\",\"restart_count\":3,\"exit_code\":1,"
	                "\"exit_signal\":null,\"cause\":\"exited with code 1\"}");
}

/* A message holding every property of status as GetAll answers, rewound for reading. */
static sd_bus_message *
properties_message(sd_bus *bus, const SgServiceStatus *status)
{
	sd_bus_message *m = NULL;
	const SgServiceStatusProperty *property;

	g_assert_cmpint(sd_bus_message_new_signal(bus, &m, "/org/systemg/service/backup",
	                                          "org.systemg.Test", "Properties"),
	                >=, 0);
	g_assert_cmpint(sd_bus_message_open_container(m, 'a', "{sv}"), >=, 0);
	for (guint i = 0; (property = sg_service_status_property(i)) != NULL; i++) {
		g_assert_cmpint(sd_bus_message_open_container(m, 'e', "sv"), >=, 0);
		g_assert_cmpint(sd_bus_message_append(m, "s", property->name), >=, 0);
		g_assert_cmpint(sd_bus_message_open_container(m, 'v', property->signature), >=, 0);
		g_assert_cmpint(sg_service_status_append_property(status, property->name, m), >=,
		                0);
		g_assert_cmpint(sd_bus_message_close_container(m), >=, 0);
		g_assert_cmpint(sd_bus_message_close_container(m), >=, 0);
	}
	/* A property this client does not know is passed over. */
	g_assert_cmpint(sd_bus_message_append(m, "{sv}", "FromTheFuture", "u", 7), >=, 0);
	g_assert_cmpint(sd_bus_message_close_container(m), >=, 0);
	g_assert_cmpint(sd_bus_message_seal(m, 1, 0), >=, 0);
	g_assert_cmpint(sd_bus_message_rewind(m, 1), >=, 0);
	return m;
}

static void
test_bus_round_trip(void)
{
	int fds[2];
	g_autoptr(sd_bus) bus = NULL;
	g_autoptr(SgServiceStatus) status = cron_status();
	g_autoptr(SgServiceStatus) empty = sg_service_status_new();
	g_autoptr(SgServiceStatus) read = sg_service_status_new();
	g_autoptr(SgServiceStatus) read_empty = sg_service_status_new();
	g_autoptr(sd_bus_message) m = NULL;
	g_autoptr(sd_bus_message) m_empty = NULL;
	g_autofree char *expected = NULL, *got = NULL, *expected_empty = NULL, *got_empty = NULL;
	g_autofree const char **changed = NULL;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
	g_assert_cmpint(sd_bus_new(&bus), >=, 0);
	g_assert_cmpint(sd_bus_set_fd(bus, fds[0], fds[0]), >=, 0);
	g_assert_cmpint(sd_bus_start(bus), >=, 0);
	m = properties_message(bus, status);
	g_assert_cmpint(sg_service_status_read_properties(read, m), >=, 0);
	expected = to_text(status);
	got = to_text(read);
	g_assert_cmpstr(got, ==, expected);
	changed = sg_service_status_diff(status, read);
	g_assert_null(changed[0]);
	/* Absent values come back absent. */
	empty->kind = g_strdup("service");
	m_empty = properties_message(bus, empty);
	g_assert_cmpint(sg_service_status_read_properties(read_empty, m_empty), >=, 0);
	expected_empty = to_text(empty);
	got_empty = to_text(read_empty);
	g_assert_cmpstr(got_empty, ==, expected_empty);
	sd_bus_close(bus);
	close(fds[1]);
}

static void
test_diff(void)
{
	g_autoptr(SgServiceStatus) old = cron_status();
	g_autoptr(SgServiceStatus) new = cron_status();
	g_autofree const char **none = sg_service_status_diff(old, new);
	g_autofree const char **changed = NULL;
	g_autofree char *joined = NULL;

	g_assert_null(none[0]);
	g_free(new->state);
	new->state = g_strdup("exited");
	new->pid = 0;
	new->exit_signal = 9;
	g_free(new->depends_on[1]);
	new->depends_on[1] = g_strdup("queue");
	sg_service_status_add_run(new, 1769873700000000, 1769873701000000, "success", 0);
	new->orphaned = TRUE;
	g_free(new->health);
	new->health = g_strdup("unhealthy");
	/* Live values are never announced. */
	new->memory_bytes = 1;
	new->cpu_usec = 2;
	new->tasks = 9;
	changed = sg_service_status_diff(old, new);
	joined = g_strjoinv(",", (char **)changed);
	g_assert_cmpstr(joined, ==, "State,Pid,ExitSignal,DependsOn,Health,Orphaned,CronHistory");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sg/service-status/json", test_json);
	g_test_add_func("/sg/service-status/state-json", test_state_json);
	g_test_add_func("/sg/service-status/bus-round-trip", test_bus_round_trip);
	g_test_add_func("/sg/service-status/diff", test_diff);
	return g_test_run();
}
