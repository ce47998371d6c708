/* bench_work.h - mlw_bench's private workload types: connections, a worker's state, the helpers the server and the clients share. */
#ifndef MLW_BENCH_WORK_H
#define MLW_BENCH_WORK_H

#include <stdbool.h>
#include <stdint.h>

#include "bench.h"

#define MAX_EVENTS 256
#define MAX_REPORTED 5			/* error messages printed per worker */
#define PUBLISH_NS 100000000ull		/* progress published every 100 ms */
#define POOL_CHUNK 1024			/* server: connection structs allocated at once */
#define BACKOFF_MAX_NS 1000000000ull	/* longest pause after EADDRNOTAVAIL */
/* Connects, and closes at the end, in flight per worker at once. Below
 * 255: an mlwip server takes at most that many pending connections per
 * listener (lwIP's backlog is a u8_t) and drops further SYNs, which lwIP
 * clients resend only after 3 s. */
#define IN_FLIGHT 128

enum kind { KIND_LISTENER = 1, KIND_CONN };

enum conn_state {
	C_IDLE,		/* client: no socket (waiting to connect, or finished) */
	C_CONNECTING,
	C_RR,		/* rr/crr: a request is being written or its answer read */
	C_STREAM,	/* stream: writing */
	C_FIN,		/* stream: write side shut, waiting for the server's count */
	C_EOF,		/* stream: count checked, waiting for the server's FIN */
	C_HOLD,		/* conns: established, idle */
	C_CLOSEQ,	/* done: waiting its turn to shut down its write side */
	C_CLOSING,	/* done: write side shut, waiting for the server's FIN */
	S_OPEN,		/* server: accepted */
};

struct listener {
	uint8_t kind;	/* KIND_LISTENER: epoll data points at a listener or a conn */
	int fd;
	uint16_t port;
};

/* One connection. Client: one slot per connection the worker keeps (crr
 * reuses a slot for each new connection). Server: from a pool. */
struct conn {
	uint8_t kind;		/* KIND_CONN */
	uint8_t st;		/* enum conn_state */
	uint8_t mode;		/* server: 0 until the tag came, then the tag */
	bool eof;		/* server: the peer's FIN was read */
	bool replied;		/* server (sink): the count was written */
	bool tag_sent;		/* client: the tag went out on this connection */
	uint8_t hdr;		/* client: 1 if the current write unit starts with the tag */
	int fd;
	uint32_t serial;	/* client: connection number, seeds the pattern */
	uint32_t ntx;		/* client: transactions done on this connection */
	uint32_t seed;		/* client: ramp offset of the current message */
	uint32_t sent, got;	/* client: bytes of the unit written, of the answer read */
	uint64_t t0;		/* client: when the transaction began */
	uint64_t count;		/* stream: bytes written (client) or read (server) */
	uint64_t count0;	/* stream client: count when the measured interval began */
	uint8_t rep[8];		/* stream: the server's count, big-endian */
	uint8_t *pend;		/* server: bytes the socket did not take yet */
	uint32_t pend_off, pend_len;
	struct conn *next;	/* server: free list */
};

struct worker {
	struct bench *b;
	const struct bench_opts *o;
	const struct bench_ops *ops;
	struct bench_result *r;
	unsigned id;
	int ep;
	uint64_t now;			/* time of the current pass */
	uint64_t next_publish;
	uint64_t last_progress;		/* client: last time anything moved */
	uint8_t *ramp;			/* ramp[i] = i & 0xff */
	uint8_t *buf;			/* receive scratch, BENCH_IO_CHUNK bytes */

	/* server */
	struct listener lis[BENCH_MAX_PORTS];
	unsigned nlis;
	struct conn **chunks;		/* the pool's blocks of POOL_CHUNK */
	unsigned nchunks, chunks_cap;
	struct conn *free_conns;
	uint64_t app_bytes;		/* pool memory: the bench's own, not the stack's */

	/* client */
	struct conn *conns;
	unsigned nconns;
	struct conn **openq;		/* slots waiting for a connect (a stack) */
	unsigned nopenq;
	struct conn **closeq;		/* slots waiting to shut down (a stack) */
	unsigned ncloseq;
	unsigned closing;		/* shut down, waiting for the server's FIN */
	unsigned connecting;		/* connects in flight */
	unsigned finished;		/* slots done for good */
	uint64_t target;		/* --transactions: this worker's share; 0: timed */
	uint64_t issued;		/* transactions started */
	uint64_t written;		/* stream: bytes written, all connections */
	bool draining;			/* no new transactions */
	bool measuring;			/* stream: count0 taken */
	bool holding;			/* conns: all established, holding */
	bool released;			/* conns: the hold is over */
	uint64_t hold_until;
	uint64_t open_after;		/* no connect before this (EADDRNOTAVAIL back-off) */
	uint64_t backoff;
	uint32_t serial;
	unsigned next_port;
};

/* bench_work.c */
void worker_report(struct worker *w, const char *what, int err);
bool worker_stopping(const struct worker *w);
void worker_publish(struct worker *w);
void worker_heap_sample(struct worker *w, uint64_t *out);
void worker_established_inc(struct worker *w);
void worker_nodelay(struct worker *w, int fd);
/* bench_server.c, bench_client.c: a worker's whole run; 0, or -1 if it
 * could not start (message printed). */
int server_run(struct worker *w);
int client_run(struct worker *w);

#endif /* MLW_BENCH_WORK_H */
