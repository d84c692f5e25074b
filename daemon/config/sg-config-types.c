/* SPDX-License-Identifier: MIT */
/* The names of the configuration's enumerations, as files and status show them. */
#include "config.h"

#include "config/sg-config-types.h"

static const char *const hook_names[SG_HOOK_N] = {
	[SG_HOOK_ON_START_SUCCESS] = "on_start.success",
	[SG_HOOK_ON_START_ERROR] = "on_start.error",
	[SG_HOOK_ON_STOP_SUCCESS] = "on_stop.success",
	[SG_HOOK_ON_STOP_ERROR] = "on_stop.error",
	[SG_HOOK_ON_RESTART_SUCCESS] = "on_restart.success",
	[SG_HOOK_ON_RESTART_ERROR] = "on_restart.error",
};

const char *
sg_hook_kind_to_string(SgHookKind kind)
{
	g_return_val_if_fail(kind < SG_HOOK_N, "");
	return hook_names[kind];
}

const char *
sg_restart_policy_to_string(SgRestartPolicy policy)
{
	switch (policy) {
	case SG_RESTART_ALWAYS:
		return "always";
	case SG_RESTART_ON_FAILURE:
		return "on-failure";
	case SG_RESTART_NEVER:
	default:
		return "never";
	}
}

const char *
sg_check_kind_to_string(SgCheckKind kind)
{
	switch (kind) {
	case SG_CHECK_URL:
		return "url";
	case SG_CHECK_TCP:
		return "tcp";
	case SG_CHECK_COMMAND:
		return "command";
	case SG_CHECK_NOTIFY:
		return "notify";
	case SG_CHECK_NONE:
	default:
		return "none";
	}
}
