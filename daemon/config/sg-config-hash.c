/* SPDX-License-Identifier: MIT */
/* The per-service hash: SHA-256 of the canonical form of what the running process sees. */
#include "config.h"

#include "config/sg-config-hash.h"

#include <string.h>

static void
canon_string(GString *out, const char *field, const char *value)
{
	if (value == NULL)
		g_string_append_printf(out, "%s -\n", field);
	else
		g_string_append_printf(out, "%s %zu:%s\n", field, strlen(value), value);
}

static void
canon_check(GString *out, const char *field, const SgHealthCheck *check)
{
	g_string_append_printf(out, "%s %s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %u\n", field,
	                       sg_check_kind_to_string(check->kind), check->interval_ms,
	                       check->timeout_ms, check->retries);
	canon_string(out, "target", check->target);
}

void
sg_config_hash_service(SgServiceConfig *service)
{
	g_autoptr(GString) canon = g_string_new("systemg-service-v1\n");
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);

	canon_string(canon, "command", service->command);
	if (service->argv != NULL) {
		g_string_append_printf(canon, "exec %u\n", g_strv_length(service->argv));
		for (guint i = 0; service->argv[i] != NULL; i++)
			canon_string(canon, "arg", service->argv[i]);
	}
	canon_string(canon, "working_dir", service->working_dir);
	g_string_append_printf(canon, "env %u\n", g_strv_length(service->env));
	for (guint i = 0; service->env[i] != NULL; i++)
		canon_string(canon, "var", service->env[i]);
	g_string_append_printf(canon, "stop_timeout_ms %" G_GUINT64_FORMAT "\n",
	                       service->stop_timeout_ms);
	canon_check(canon, "health_check", &service->health_check);
	g_checksum_update(checksum, (const guchar *)canon->str, (gssize)canon->len);
	g_strlcpy(service->hash, g_checksum_get_string(checksum), sizeof(service->hash));
}
