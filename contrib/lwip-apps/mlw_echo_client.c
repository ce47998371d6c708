/* mlw_echo_client.c - a raw-API TCP echo client on every shard of an mlwip stack: each shard opens
 * N connections to an echo server, sends a known pattern and verifies every byte that comes back.
 *
 *   mlw_echo_client CONFIG.ini --server A.B.C.D [--port 7] [--conns N] [--bytes B]
 *                   [--plain-connect] [--timeout S]
 *
 * --conns is per shard (default 8), --bytes per connection (default 1 MiB).
 * Every connection's local port is chosen with mlw_tcp_bind_rss_v4() so
 * that the server's replies hash to the shard that opened it. With
 * --plain-connect the client calls tcp_connect() on an unbound PCB, as an
 * unmodified lwIP application does; mlwip's tcp_connect() wrapper
 * (sharding/connect.c) then picks such a port itself. Exits 0 only if every connection got all its bytes back
 * unchanged and every shard's heap ended empty.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwip/mem.h"
#include "lwip/tcp.h"

#include "mlwip/config.h"
#include "mlwip/stack.h"

#define CHUNK 16384	/* bytes generated and written at once */

/* What a shard reports; each shard writes only its own entry, main()
 * reads them after mlw_stack_run() returned. */
struct shard_result {
	unsigned ok, failed;
	uint64_t bytes_verified, mismatches;
	int init_error;
};

/* Shared by main() and every shard (passed as the run argument). */
struct client {
	struct mlw_stack *stack;
	uint32_t server_be;
	uint16_t port;
	bool rss;
	unsigned conns;
	uint64_t bytes;
	atomic_uint shards_done;
	atomic_int timed_out;
	struct shard_result res[MLW_MAX_SHARDS];
	struct shard_ctx *ctx[MLW_MAX_SHARDS];	/* each shard's own, for its fini */
};

struct shard_ctx;

/* One connection, inside its shard's context. */
struct conn {
	struct shard_ctx *sh;
	struct tcp_pcb *pcb;	/* NULL once closed, aborted or failed */
	unsigned idx;
	uint64_t sent, verified;
	bool finished;		/* counted as ok or failed */
};

/* One shard's state, allocated from the shard heap in init. */
struct shard_ctx {
	struct client *cl;
	unsigned id;
	unsigned left;		/* connections not yet finished */
	struct conn c[];
};

/* The signal handler's only way to reach the client. */
static struct client *g_client;

static void on_signal(int sig)
{
	if (sig == SIGALRM)
		atomic_store(&g_client->timed_out, 1);
	mlw_stack_stop(g_client->stack);
}

/* Byte @p off of connection @p conn of shard @p shard: the low byte of the
 * offset masked by a hash of (shard, conn, offset / 256). */
static inline uint8_t pattern(unsigned shard, unsigned conn, uint64_t off)
{
	uint32_t x = (uint32_t)(off >> 8) * 2654435761u ^ shard * 0x9e3779b9u ^ (conn + 1) * 0x85ebca6bu;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	return (uint8_t)(off ^ (x >> 24));
}

static void conn_finish(struct conn *c, bool ok)
{
	struct shard_ctx *sh = c->sh;
	struct shard_result *r = &sh->cl->res[sh->id];

	if (c->finished)
		return;
	c->finished = true;
	if (ok)
		r->ok++;
	else
		r->failed++;
	if (--sh->left == 0) {
		printf("shard %u: all %u connections finished\n", sh->id, sh->cl->conns);
		fflush(stdout);
		if (atomic_fetch_add(&sh->cl->shards_done, 1) + 1 == mlw_stack_nshards(sh->cl->stack))
			mlw_stack_stop(sh->cl->stack);
	}
}

/* Detach our callbacks and abort the PCB (no callback runs afterwards). */
static void conn_abort(struct conn *c)
{
	if (c->pcb == NULL)
		return;
	tcp_arg(c->pcb, NULL);
	tcp_recv(c->pcb, NULL);
	tcp_sent(c->pcb, NULL);
	tcp_err(c->pcb, NULL);
	tcp_abort(c->pcb);
	c->pcb = NULL;
}

/* Write as much of the pattern as the send buffer takes. */
static err_t conn_send(struct conn *c)
{
	struct client *cl = c->sh->cl;
	uint8_t buf[CHUNK];

	while (c->sent < cl->bytes) {
		uint64_t left = cl->bytes - c->sent;
		size_t n = tcp_sndbuf(c->pcb);
		err_t e;

		if (n > CHUNK)
			n = CHUNK;
		if (n > left)
			n = (size_t)left;
		if (n == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 4)
			break;
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(c->sh->id, c->idx, c->sent + i);
		e = tcp_write(c->pcb, buf, (u16_t)n,
			      TCP_WRITE_FLAG_COPY | (n < left ? TCP_WRITE_FLAG_MORE : 0));
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK)
			return e;
		c->sent += n;
	}
	return tcp_output(c->pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct conn *c = arg;

	(void)pcb;
	(void)len;
	if (c->sent < c->sh->cl->bytes && conn_send(c) != ERR_OK) {
		conn_abort(c);
		conn_finish(c, false);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;
	struct shard_ctx *sh = c->sh;
	struct shard_result *r = &sh->cl->res[sh->id];
	uint64_t bad = 0;

	if (p == NULL || err != ERR_OK) {
		/* The server closed before echoing everything. */
		if (p != NULL)
			pbuf_free(p);
		fprintf(stderr, "shard %u conn %u: closed by the server after %llu of %llu bytes\n",
			sh->id, c->idx, (unsigned long long)c->verified,
			(unsigned long long)sh->cl->bytes);
		conn_abort(c);
		conn_finish(c, false);
		return ERR_ABRT;
	}
	for (struct pbuf *q = p; q != NULL; q = q->next) {
		const uint8_t *b = q->payload;

		for (u16_t i = 0; i < q->len; i++) {
			if (c->verified + i >= sh->cl->bytes || b[i] != pattern(sh->id, c->idx, c->verified + i)) {
				if (bad++ == 0 && r->mismatches == 0)
					fprintf(stderr, "shard %u conn %u: first mismatch at offset %llu\n",
						sh->id, c->idx, (unsigned long long)(c->verified + i));
			}
		}
		c->verified += q->len;
	}
	r->mismatches += bad;
	r->bytes_verified += p->tot_len - bad;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (bad != 0 || c->verified > sh->cl->bytes) {
		conn_abort(c);
		conn_finish(c, false);
		return ERR_ABRT;
	}
	if (c->verified == sh->cl->bytes) {
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		c->pcb = NULL;
		conn_finish(c, true);
		if (tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			return ERR_ABRT;
		}
	}
	return ERR_OK;
}

/* The PCB is already freed when this runs. */
static void on_err(void *arg, err_t err)
{
	struct conn *c = arg;

	fprintf(stderr, "shard %u conn %u: error %d after %llu bytes verified\n", c->sh->id, c->idx,
		(int)err, (unsigned long long)c->verified);
	c->pcb = NULL;
	conn_finish(c, false);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn *c = arg;

	(void)pcb;
	if (err != ERR_OK || conn_send(c) != ERR_OK) {
		conn_abort(c);
		conn_finish(c, false);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static int conn_open(struct conn *c)
{
	struct client *cl = c->sh->cl;
	ip_addr_t server = IPADDR4_INIT(cl->server_be);
	err_t e;
	int rc;

	c->pcb = tcp_new();
	if (c->pcb == NULL)
		return -ENOMEM;
	if (cl->rss) {
		rc = mlw_tcp_bind_rss_v4(c->pcb, cl->server_be, htons(cl->port));
		if (rc != 0) {
			tcp_abort(c->pcb);
			c->pcb = NULL;
			return rc;
		}
	}
	tcp_arg(c->pcb, c);
	tcp_recv(c->pcb, on_recv);
	tcp_sent(c->pcb, on_sent);
	tcp_err(c->pcb, on_err);
	tcp_nagle_disable(c->pcb);
	e = tcp_connect(c->pcb, &server, cl->port, on_connected);
	if (e != ERR_OK) {
		conn_abort(c);
		return -EIO;
	}
	return 0;
}

static int shard_init(unsigned shard, void *arg)
{
	struct client *cl = arg;
	struct shard_ctx *sh;

	sh = mem_calloc(1, sizeof(*sh) + cl->conns * sizeof(sh->c[0]));
	if (sh == NULL) {
		cl->res[shard].init_error = -ENOMEM;
		return -ENOMEM;
	}
	sh->cl = cl;
	sh->id = shard;
	sh->left = cl->conns;
	cl->ctx[shard] = sh;	/* for shard_fini */
	for (unsigned i = 0; i < cl->conns; i++) {
		struct conn *c = &sh->c[i];
		int rc;

		c->sh = sh;
		c->idx = i;
		rc = conn_open(c);
		if (rc != 0) {
			fprintf(stderr, "shard %u conn %u: cannot open: %s\n", shard, i, strerror(-rc));
			conn_finish(c, false);
		}
	}
	return 0;
}

/* Runs before the shard aborts what is left: unfinished connections
 * (timeout, stop by signal) count as failed; free the context. */
static void shard_fini(unsigned shard, void *arg)
{
	struct client *cl = arg;
	struct shard_ctx *sh = cl->ctx[shard];

	if (sh == NULL)
		return;
	for (unsigned i = 0; i < cl->conns; i++) {
		struct conn *c = &sh->c[i];

		if (!c->finished)
			fprintf(stderr, "shard %u conn %u: unfinished at stop: %llu of %llu bytes sent, "
				"%llu verified\n", shard, i, (unsigned long long)c->sent,
				(unsigned long long)cl->bytes, (unsigned long long)c->verified);
		conn_abort(c);
		conn_finish(c, false);
	}
	cl->ctx[shard] = NULL;
	mem_free(sh);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int usage(const char *prog)
{
	fprintf(stderr, "usage: %s CONFIG.ini --server A.B.C.D [--port 7] [--conns N per shard (8)]\n"
		"       [--bytes B per connection (1048576)] [--plain-connect] [--timeout S (60)]\n", prog);
	return 2;
}

int main(int argc, char **argv)
{
	struct client cl;
	struct in_addr server;
	char msg[512];
	uint64_t v, timeout = 60;
	unsigned nshards, ok = 0, failed = 0, want;
	uint64_t verified = 0, mismatches = 0;
	bool have_server = false, leaked = false;
	int rc;

	if (argc < 2 || argv[1][0] == '-')
		return usage(argv[0]);
	memset(&cl, 0, sizeof(cl));
	cl.port = 7;
	cl.conns = 8;
	cl.bytes = 1 << 20;
	cl.rss = true;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--plain-connect") == 0) {
			cl.rss = false;
			continue;
		}
		if (val == NULL)
			return usage(argv[0]);
		i++;
		if (strcmp(a, "--server") == 0 && inet_pton(AF_INET, val, &server) == 1) {
			cl.server_be = server.s_addr;
			have_server = true;
		} else if (strcmp(a, "--port") == 0 && parse_u64(val, 1, 65535, &v) == 0) {
			cl.port = (uint16_t)v;
		} else if (strcmp(a, "--conns") == 0 && parse_u64(val, 1, 10000, &v) == 0) {
			cl.conns = (unsigned)v;
		} else if (strcmp(a, "--bytes") == 0 && parse_u64(val, 1, UINT64_MAX / 2, &v) == 0) {
			cl.bytes = v;
		} else if (strcmp(a, "--timeout") == 0 && parse_u64(val, 1, 86400, &v) == 0) {
			timeout = v;
		} else {
			fprintf(stderr, "%s: bad argument '%s %s'\n", argv[0], a, val);
			return usage(argv[0]);
		}
	}
	if (!have_server)
		return usage(argv[0]);
	rc = mlw_stack_create_from_file(&cl.stack, argv[1], msg, sizeof(msg));
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], msg);
		return 1;
	}
	g_client = &cl;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	alarm((unsigned)timeout);
	nshards = mlw_stack_nshards(cl.stack);
	printf("mlwip: %u shards x %u connections x %llu bytes to %s:%u (%s local ports)\n", nshards,
	       cl.conns, (unsigned long long)cl.bytes, inet_ntoa(server), cl.port,
	       cl.rss ? "mlw_tcp_bind_rss_v4" : "plain tcp_connect");
	fflush(stdout);
	rc = mlw_stack_run(cl.stack, shard_init, shard_fini, &cl);
	alarm(0);
	for (unsigned i = 0; i < nshards; i++) {
		const struct shard_result *r = &cl.res[i];

		printf("shard %u: connections ok %u failed %u, bytes verified %llu, mismatches %llu\n", i,
		       r->ok, r->failed, (unsigned long long)r->bytes_verified,
		       (unsigned long long)r->mismatches);
		ok += r->ok;
		failed += r->failed;
		verified += r->bytes_verified;
		mismatches += r->mismatches;
	}
	mlw_stack_print_stats(cl.stack, stdout);
	leaked = mlw_stack_check_heaps(cl.stack, stdout) != 0;
	mlw_stack_destroy(cl.stack);
	want = nshards * cl.conns;
	printf("total: connections ok %u/%u failed %u, bytes verified %llu/%llu, mismatches %llu%s\n",
	       ok, want, failed, (unsigned long long)verified,
	       (unsigned long long)(cl.bytes * want), (unsigned long long)mismatches,
	       atomic_load(&cl.timed_out) ? ", TIMED OUT" : "");
	rc = rc == 0 && !leaked && ok == want && failed == 0 && mismatches == 0 &&
	     verified == cl.bytes * want && !atomic_load(&cl.timed_out);
	printf("mlw_echo_client: %s\n", rc ? "PASS" : "FAIL");
	return rc ? 0 : 1;
}
