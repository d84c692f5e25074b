/* SPDX-License-Identifier: MIT */
/* The address of control.sock, reached through the state directory when the path is too long. */
#pragma once

#include <glib.h>
#include <sys/socket.h>
#include <sys/un.h>

/*
 * The address of STATE_DIR/control.sock for bind() or connect(). A path that does not fit
 * sun_path (108 bytes with its NUL) is never truncated: the state directory is opened
 * (O_PATH) and the address becomes /proc/self/fd/N/control.sock. *ret_dir_fd then holds N,
 * which the caller closes once bind() or connect() is done; otherwise it is -1.
 */
gboolean sg_sockaddr_control(const char *state_dir, struct sockaddr_un *ret_addr,
                             socklen_t *ret_len, int *ret_dir_fd, GError **error);
