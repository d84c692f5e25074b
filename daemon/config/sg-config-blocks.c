/* SPDX-License-Identifier: MIT */
/* The blocks a service shares with its deployment and the file's root: logs, health checks,
 * hooks, the deployment itself. */
#include "config.h"

#include "config/sg-config-blocks.h"

#include <glib/gi18n.h>
#include <string.h>

static const char *const logs_keys[] = { "max_bytes", "max_files", NULL };
static const char *const health_check_keys[] = { "url",      "tcp",     "command", "notify",
	                                         "interval", "timeout", "retries", NULL };
static const char *const deployment_keys[] = { "strategy", "pre_start", "health_check",
	                                       "grace_period", NULL };
static const char *const hooks_keys[] = { "on_start", "on_stop", "on_restart", NULL };
static const char *const hook_outcome_keys[] = { "success", "error", NULL };
static const char *const hook_keys[] = { "command", "timeout", NULL };

#define MAX_LOG_BYTES ((guint64)1 << 40)
#define MAX_RETRIES   1000000

void
sg_config_load_logs(SgLoader *loader, const SgYamlNode *node, const char *path, SgLogLimits *limits)
{
	SgYamlPair *pair;

	if (!sg_loader_expect_mapping(loader, node, path))
		return;
	sg_loader_check_keys(loader, node, path, logs_keys);
	if ((pair = sg_yaml_mapping_lookup(node, "max_bytes")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "max_bytes");
		sg_loader_read_uint(loader, pair->value, p, MAX_LOG_BYTES, &limits->max_bytes);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "max_files")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "max_files");
		guint64 files;
		if (sg_loader_read_uint(loader, pair->value, p, SG_LOG_FILES_MAX, &files))
			limits->max_files = (guint)files;
	}
}

static gboolean
check_tcp_target(const char *target)
{
	const char *colon = strrchr(target, ':');
	g_autofree char *host = NULL;
	guint64 port;

	if (colon == NULL || colon == target)
		return FALSE;
	host = g_strndup(target, (gsize)(colon - target));
	if (host[0] == '[' && !g_str_has_suffix(host, "]"))
		return FALSE;
	return sg_loader_parse_uint(colon + 1, 65535, &port) && port > 0;
}

static gboolean
check_url_target(const char *target)
{
	g_autoptr(GUri) uri = g_uri_parse(target, G_URI_FLAGS_NONE, NULL);
	const char *scheme;

	if (uri == NULL)
		return FALSE;
	scheme = g_uri_get_scheme(uri);
	return (g_ascii_strcasecmp(scheme, "http") == 0) && g_uri_get_host(uri) != NULL &&
	       g_uri_get_host(uri)[0] != '\0';
}

void
sg_config_load_health_check(SgLoader *loader, const SgYamlNode *node, const char *path,
                            SgHealthCheck *check)
{
	static const char *const kinds[] = { "url", "tcp", "command", "notify", NULL };
	const SgYamlPair *chosen = NULL;
	SgYamlPair *pair;
	guint n_kinds = 0;

	check->interval_ms = DEFAULT_CHECK_INTERVAL_MS;
	check->timeout_ms = DEFAULT_CHECK_TIMEOUT_MS;
	check->retries = DEFAULT_CHECK_RETRIES;
	if (!sg_loader_expect_mapping(loader, node, path))
		return;
	sg_loader_check_keys(loader, node, path, health_check_keys);

	for (guint i = 0; kinds[i] != NULL; i++) {
		pair = sg_yaml_mapping_lookup(node, kinds[i]);
		if (pair == NULL)
			continue;
		if (++n_kinds == 2) {
			g_autofree char *p = sg_loader_child_path(path, kinds[i]);
			sg_loader_error(
			        loader, pair->key, p,
			        _("a health check has exactly one of url, tcp, command or notify; "
			          "\"%s\" is already given"),
			        chosen->key->value);
		}
		if (chosen == NULL)
			chosen = pair;
	}
	if (n_kinds == 0) {
		sg_loader_error(loader, node, path,
		                _("a health check needs one of url, tcp, command or notify"));
	} else if (n_kinds == 1) {
		const char *kind = chosen->key->value;
		g_autofree char *p = sg_loader_child_path(path, kind);
		char *raw;

		if (g_str_equal(kind, "notify")) {
			gboolean on;
			if (sg_loader_read_bool(loader, chosen->value, p, &on)) {
				if (on)
					check->kind = SG_CHECK_NOTIFY;
				else
					sg_loader_error(
					        loader, chosen->value, p,
					        _("notify: false is no health check; remove "
					          "health_check or use another kind"));
			}
		} else if (g_str_equal(kind, "command")) {
			if (sg_loader_read_string(loader, chosen->value, p, FALSE, &raw)) {
				check->kind = SG_CHECK_COMMAND;
				check->target = g_strdup(raw);
			}
		} else if (sg_loader_read_string(loader, chosen->value, p, FALSE, &raw)) {
			g_autofree char *target =
			        sg_loader_expand(loader, chosen->value, p, raw, SG_N_LAYERS);
			gboolean is_url = g_str_equal(kind, "url");

			if (target == NULL) {
				/* reported by sg_loader_expand() */
			} else if (is_url && !check_url_target(target)) {
				sg_loader_error(
				        loader, chosen->value, p,
				        _("invalid URL \"%s\": expected http://HOST[:PORT]/PATH"),
				        target);
			} else if (!is_url && !check_tcp_target(target)) {
				sg_loader_error(loader, chosen->value, p,
				                _("invalid address \"%s\": expected HOST:PORT"),
				                target);
			} else {
				check->kind = is_url ? SG_CHECK_URL : SG_CHECK_TCP;
				check->target = g_steal_pointer(&target);
			}
		}
	}

	if ((pair = sg_yaml_mapping_lookup(node, "interval")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "interval");
		sg_loader_read_duration(loader, pair->value, p, FALSE, &check->interval_ms);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "timeout")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "timeout");
		sg_loader_read_duration(loader, pair->value, p, FALSE, &check->timeout_ms);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "retries")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "retries");
		guint64 retries;
		if (sg_loader_read_uint(loader, pair->value, p, MAX_RETRIES, &retries))
			check->retries = (guint)retries;
	}
}

void
sg_config_load_hooks(SgLoader *loader, const SgYamlNode *node, const char *path, SgHook *hooks)
{
	static const char *const events[] = { "on_start", "on_stop", "on_restart" };

	if (!sg_loader_expect_mapping(loader, node, path))
		return;
	sg_loader_check_keys(loader, node, path, hooks_keys);
	for (guint e = 0; e < G_N_ELEMENTS(events); e++) {
		SgYamlPair *event = sg_yaml_mapping_lookup(node, events[e]);
		g_autofree char *epath = sg_loader_child_path(path, events[e]);

		if (event == NULL || !sg_loader_expect_mapping(loader, event->value, epath))
			continue;
		sg_loader_check_keys(loader, event->value, epath, hook_outcome_keys);
		for (guint o = 0; o < 2; o++) {
			SgHook *hook = &hooks[e * 2 + o];
			SgYamlPair *outcome =
			        sg_yaml_mapping_lookup(event->value, hook_outcome_keys[o]);
			g_autofree char *opath = sg_loader_child_path(epath, hook_outcome_keys[o]);
			SgYamlPair *pair;

			if (outcome == NULL ||
			    !sg_loader_expect_mapping(loader, outcome->value, opath))
				continue;
			sg_loader_check_keys(loader, outcome->value, opath, hook_keys);
			pair = sg_yaml_mapping_lookup(outcome->value, "command");
			if (pair == NULL) {
				sg_loader_error(loader, outcome->key, opath,
				                _("a hook needs a command"));
			} else {
				g_autofree char *p = sg_loader_child_path(opath, "command");
				char *raw;
				if (sg_loader_read_string(loader, pair->value, p, FALSE, &raw))
					hook->command = g_strdup(raw);
			}
			if ((pair = sg_yaml_mapping_lookup(outcome->value, "timeout")) != NULL) {
				g_autofree char *p = sg_loader_child_path(opath, "timeout");
				sg_loader_read_duration(loader, pair->value, p, FALSE,
				                        &hook->timeout_ms);
			}
		}
	}
}

void
sg_config_load_deployment(SgLoader *loader, const SgYamlNode *node, const char *path,
                          SgDeployment *deploy)
{
	SgYamlPair *pair;
	char *text;

	if (!sg_loader_expect_mapping(loader, node, path))
		return;
	sg_loader_check_keys(loader, node, path, deployment_keys);
	if ((pair = sg_yaml_mapping_lookup(node, "strategy")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "strategy");
		if (sg_loader_read_string(loader, pair->value, p, FALSE, &text)) {
			if (g_str_equal(text, "rolling"))
				deploy->strategy = SG_STRATEGY_ROLLING;
			else if (!g_str_equal(text, "immediate"))
				sg_loader_error(
				        loader, pair->value, p,
				        _("unknown strategy \"%s\": use immediate or rolling"),
				        text);
		}
	}
	if ((pair = sg_yaml_mapping_lookup(node, "pre_start")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "pre_start");
		if (sg_loader_read_string(loader, pair->value, p, FALSE, &text))
			deploy->pre_start = g_strdup(text);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "health_check")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "health_check");
		sg_config_load_health_check(loader, pair->value, p, &deploy->health_check);
	}
	if ((pair = sg_yaml_mapping_lookup(node, "grace_period")) != NULL) {
		g_autofree char *p = sg_loader_child_path(path, "grace_period");
		sg_loader_read_duration(loader, pair->value, p, TRUE, &deploy->grace_period_ms);
	}
}
