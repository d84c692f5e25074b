/* SPDX-License-Identifier: MIT */
/* What the two halves of the JSON-RPC server share: the server (sg-jsonrpc.c) and calls. */
#pragma once

#include <sys/types.h>

#include "control/sg-jsonrpc.h"
#include "process/sg-log-limit.h"

typedef struct _SgJsonrpcClient SgJsonrpcClient;

struct _SgJsonrpc {
	SgContext *context;
	char *socket_path;
	const SgJsonrpcMethod *methods;
	guint n_methods;
	gpointer user_data;

	int listen_fd;
	guint listen_id;
	guint accept_retry; /* on the engine clock, after EMFILE */
	GList *clients;     /* SgJsonrpcClient*, each holding one reference */
	guint n_clients;
	GList *calls; /* SgJsonrpcCall* not answered yet */
	/* Lines that a flood of clients could otherwise repeat without end. */
	SgLogLimit refused_log;
	SgLogLimit room_log;
	SgLogLimit idle_log;
	SgLogLimit misbehaving_log;
};

struct _SgJsonrpcClient {
	int refcount;
	SgJsonrpc *server; /* NULL once closed */
	int fd;
	pid_t pid;
	GSource *source;
	gpointer tag;
	GByteArray *in;
	gsize scanned; /* bytes of in known to hold no newline */
	GString *out;
	gsize out_pos;
	gboolean busy;       /* a call is being answered: later requests wait their turn */
	gboolean processing; /* inside client_process() */
	gboolean eof;
	gboolean subscribed;
	guint resume_id;
	gint64 active_at; /* monotonic: when it last sent bytes or got its last answer */
	gint64 out_at;    /* when its pending output last moved (or began) */
	guint timer_id;   /* on the engine clock: its idle or stall deadline */
	gint64 timer_at;
};

struct _SgJsonrpcCall {
	SgJsonrpc *server; /* NULL once the server is gone */
	SgJsonrpcClient *client;
	JsonNode *id; /* NULL for a notification: no answer */
	GList *link;
	gpointer pending; /* what the call waits for, cancelled if it goes unanswered */
	GDestroyNotify cancel;
};

/* sg-jsonrpc.c */
SgJsonrpcClient *sg_jsonrpc_client_ref(SgJsonrpcClient *client);
void sg_jsonrpc_client_unref(SgJsonrpcClient *client);
/* Queues one line; a client that lets too much pile up is dropped. */
void sg_jsonrpc_client_send(SgJsonrpcClient *client, const char *text, gsize len);
/* The client's call is answered: its next request may go. */
void sg_jsonrpc_client_call_done(SgJsonrpcClient *client);

/* sg-jsonrpc-call.c */
/* Answers one request line of client (or starts a call that answers later). */
void sg_jsonrpc_handle_request(SgJsonrpcClient *client, const char *line, gsize len);
/* Frees a call that will not be answered, cancelling what it waits for. */
void sg_jsonrpc_call_free(SgJsonrpcCall *call);
