/* SPDX-License-Identifier: MIT */
/* Reads the kernel's boot id once: state recorded under another one is from before a reboot. */
#include "config.h"

#include "state/sg-boot.h"

#include <string.h>

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
#define BOOT_ID_LEN  36 /* 8-4-4-4-12 hex digits */

gboolean
sg_boot_id_is_valid(const char *text)
{
	if (text == NULL || strlen(text) != BOOT_ID_LEN)
		return FALSE;
	for (guint i = 0; i < BOOT_ID_LEN; i++) {
		gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? text[i] != '-' : !g_ascii_isxdigit(text[i]) || g_ascii_isupper(text[i]))
			return FALSE;
	}
	return TRUE;
}

const char *
sg_boot_id(void)
{
	static gsize done;
	static char *boot_id;

	if (g_once_init_enter(&done)) {
		char *text = NULL;

		/* A few dozen bytes; the kernel gives the whole line in one read. */
		if (g_file_get_contents(BOOT_ID_PATH, &text, NULL, NULL)) {
			g_strstrip(text);
			if (sg_boot_id_is_valid(text))
				boot_id = g_steal_pointer(&text);
		}
		g_free(text);
		g_once_init_leave(&done, 1);
	}
	return boot_id;
}

gboolean
sg_boot_id_is_other(const char *recorded)
{
	return sg_boot_id_is_valid(recorded) && sg_boot_id() != NULL &&
	       !g_str_equal(recorded, sg_boot_id());
}
