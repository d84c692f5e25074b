/* SPDX-License-Identifier: MIT */
/* Every D-Bus name of org.systemg (SPEC section 7), shared by sysgd, sysg and the tests. */
#pragma once

#define SG_BUS_NAME              "org.systemg"
#define SG_BUS_MANAGER_PATH      "/org/systemg"
#define SG_BUS_SERVICE_PATH_BASE "/org/systemg/service" /* + "/" + sd_bus_path_encode'd name */
#define SG_BUS_MANAGER_INTERFACE "org.systemg.Manager"
#define SG_BUS_SERVICE_INTERFACE "org.systemg.Service"

#define SG_BUS_ERROR_NO_SUCH_SERVICE "org.systemg.Error.NoSuchService"
#define SG_BUS_ERROR_INVALID_CONFIG  "org.systemg.Error.InvalidConfig"
#define SG_BUS_ERROR_ACCESS_DENIED   "org.systemg.Error.AccessDenied"
#define SG_BUS_ERROR_FAILED          "org.systemg.Error.Failed"

/* The desktop notification service `sysg monitor --notify` posts to. */
#define SG_BUS_NOTIFICATIONS_NAME      "org.freedesktop.Notifications"
#define SG_BUS_NOTIFICATIONS_PATH      "/org/freedesktop/Notifications"
#define SG_BUS_NOTIFICATIONS_INTERFACE "org.freedesktop.Notifications"
