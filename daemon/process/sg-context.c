/* SPDX-License-Identifier: MIT */
/* Small services of the engine context: logging, ids, stray children. */
#include "config.h"

#include "process/sg-context.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

void
sg_context_clear(SgContext *context)
{
	g_clear_pointer(&context->log_watch, sg_log_watch_free);
	g_clear_pointer(&context->contain, sg_contain_free);
	g_clear_pointer(&context->reaper, sg_reaper_free);
	g_clear_pointer(&context->clock, sg_clock_unref);
	g_clear_pointer(&context->known_pids, g_hash_table_unref);
	g_clear_pointer(&context->log, sg_log_free);
	g_clear_pointer(&context->state_dir, g_free);
	g_clear_pointer(&context->log_dir, g_free);
	g_clear_pointer(&context->state_id, g_free);
}

void
sg_context_log(SgContext *context, SgLogLevel level, const char *format, ...)
{
	va_list args;

	if (context->log == NULL || !sg_log_enabled(context->log, level))
		return;
	va_start(args, format);
	sg_log_writev(context->log, level, format, args);
	va_end(args);
}

char *
sg_context_random_id(void)
{
	guint8 bytes[16];
	GString *out = g_string_sized_new(33);

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		for (guint i = 0; i < sizeof(bytes); i++)
			bytes[i] = (guint8)g_random_int_range(0, 256);
	}
	for (guint i = 0; i < sizeof(bytes); i++)
		g_string_append_printf(out, "%02x", bytes[i]);
	return g_string_free(out, FALSE);
}

/* /proc/self/task/TID/children lists our children without a scan of all of /proc. */
gboolean
sg_context_has_stray_children(SgContext *context)
{
	g_autoptr(GDir) tasks = g_dir_open("/proc/self/task", 0, NULL);
	const char *tid;

	if (tasks == NULL)
		return TRUE;
	while ((tid = g_dir_read_name(tasks)) != NULL) {
		g_autofree char *path = g_strdup_printf("/proc/self/task/%s/children", tid);
		g_autofree char *text = NULL;
		g_auto(GStrv) pids = NULL;

		if (!g_file_get_contents(path, &text, NULL, NULL))
			return TRUE; /* cannot tell: assume the worst and scan */
		pids = g_strsplit_set(g_strstrip(text), " ", -1);
		for (guint i = 0; pids[i] != NULL; i++) {
			int pid = atoi(pids[i]);
			if (pid > 0 &&
			    !g_hash_table_contains(context->known_pids, GINT_TO_POINTER(pid)))
				return TRUE;
		}
	}
	return FALSE;
}
