/* SPDX-License-Identifier: MIT */
/* Desktop notifications through org.freedesktop.Notifications on the session bus. */
#pragma once

#include <glib.h>

typedef struct _SgDesktopNotify SgDesktopNotify;

typedef enum {
	SG_DESKTOP_URGENCY_LOW = 0,
	SG_DESKTOP_URGENCY_NORMAL = 1,
	SG_DESKTOP_URGENCY_CRITICAL = 2,
} SgDesktopUrgency;

/* Opens the session bus and drives it from the thread-default main context. */
SgDesktopNotify *sg_desktop_notify_new(GError **error);
/* Sends what is still queued, then closes. */
void sg_desktop_notify_free(SgDesktopNotify *notify);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgDesktopNotify, sg_desktop_notify_free)

/*
 * Posts a notification from app "systemg" without waiting for the answer. Notifications
 * with the same key (may be NULL) replace each other on screen, so a recovery takes the
 * place of the failure it ends. A failure to post is printed to stderr.
 */
void sg_desktop_notify_post(SgDesktopNotify *notify, const char *key, const char *summary,
                            const char *body, SgDesktopUrgency urgency);
