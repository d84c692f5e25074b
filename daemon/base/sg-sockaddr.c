/* SPDX-License-Identifier: MIT */
/* The address of control.sock, reached through the state directory when the path is too long. */
#include "config.h"

#include "base/sg-sockaddr.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "base/sg-error.h"
#include "base/sg-paths.h"

static gboolean
fill(struct sockaddr_un *addr, socklen_t *len, const char *path)
{
	gsize n = strlen(path);

	if (n + 1 > sizeof(addr->sun_path))
		return FALSE;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, path, n + 1);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return TRUE;
}

gboolean
sg_sockaddr_control(const char *state_dir, struct sockaddr_un *ret_addr, socklen_t *ret_len,
                    int *ret_dir_fd, GError **error)
{
	g_autofree char *path = g_build_filename(state_dir, SG_STATE_SOCKET, NULL);
	g_autofree char *relative = NULL;
	struct sockaddr_un addr;
	socklen_t len;
	int fd;

	if (fill(&addr, &len, path)) {
		*ret_addr = addr;
		*ret_len = len;
		*ret_dir_fd = -1;
		return TRUE;
	}
	/* Too long for sun_path: the kernel resolves the rest of the path through the fd. */
	fd = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;
		return sg_error_set_errno(error, -saved, _("cannot open the state directory %s"),
		                          state_dir);
	}
	relative = g_strdup_printf("/proc/self/fd/%d/%s", fd, SG_STATE_SOCKET);
	if (!fill(&addr, &len, relative)) {
		close(fd);
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED, _("socket path %s is too long"),
		            relative);
		return FALSE;
	}
	*ret_addr = addr;
	*ret_len = len;
	*ret_dir_fd = fd;
	return TRUE;
}
