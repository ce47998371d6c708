/* bench_mlwip.c - mlw_bench's mlwip backend: one worker per shard, run inside the shard's init function on mlwip's sockets and epoll.
 *
 * mlw_stack_create_from_file() -> mlw_stack_run(shard_main): every shard
 * runs bench_worker() to its end, its mlw_epoll_wait() calls driving the
 * shard loop; a server's shards end when the stack is stopped (signal or
 * --duration, from the monitor thread), a client's last shard stops the
 * stack itself. Then the per-shard stats and the heap check.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mlwip/alloc.h"
#include "mlwip/config.h"
#include "mlwip/epoll.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"

#include "bench.h"

static int mlwip_heap_in_use(uint64_t *bytes)
{
	struct mlw_alloc_stats s;

	if (mlw_alloc_stats(&s) != 0)
		return -1;
	*bytes = s.bytes_in_use;
	return 0;
}

static int mlwip_stopping(void)
{
	return mlw_shard_stopping();
}

static const struct bench_ops mlwip_ops = {
	.name = "mlwip",
	.socket = mlw_socket,
	.bind = mlw_bind,
	.listen = mlw_listen,
	.accept4 = mlw_accept4,
	.connect = mlw_connect,
	.read = mlw_read,
	.write = mlw_write,
	.writev = mlw_writev,
	.shutdown = mlw_shutdown,
	.close = mlw_close,
	.setsockopt = mlw_setsockopt,
	.getsockopt = mlw_getsockopt,
	.epoll_create1 = mlw_epoll_create1,
	.epoll_ctl = mlw_epoll_ctl,
	.epoll_wait = mlw_epoll_wait,
	.calloc = mlw_alloc_calloc,
	.free = mlw_alloc_free,
	.heap_in_use = mlwip_heap_in_use,
	.stopping = mlwip_stopping,
	/* The clients end their connections gracefully (the server's FIN
	 * has come when a socket is closed); this lets the last ACKs leave
	 * before the stack stops. */
	.close_linger_ms = 100,
};

static void mlwip_stop(struct bench *b)
{
	mlw_stack_stop(b->backend);
}

static int shard_main(unsigned shard, void *arg)
{
	struct bench *b = arg;
	int rc = bench_worker(b, shard);

	/* Normally nothing is left; whatever is, is reset and freed here so
	 * the shard heap can end empty. */
	mlw_socket_close_all();
	return rc;	/* non-zero (a server that cannot listen) stops the stack */
}

static void *monitor_main(void *arg)
{
	bench_monitor(arg);
	return NULL;
}

/*
 * A client must fit its connections into every shard's descriptor table
 * ([stack] max_sockets) and local ports; say so before starting rather
 * than half-running. A local port is taken by 4-tuple ([stack]
 * local_ports), so a shard holds up to |local_ports| / shards connections
 * (the ports whose replies hash back to it) per server port: --nports
 * multiplies that. The port check refuses only what cannot fit; the hash
 * spreads ports unevenly, so a run close to the bound may still meet
 * EADDRNOTAVAIL (reported as port_exhausted).
 */
static int check_limits(const struct bench_opts *o, const struct mlw_config *cfg, unsigned nshards)
{
	unsigned per_shard = (o->conns + nshards - 1) / nshards;
	unsigned per_port = (per_shard + o->nports - 1) / o->nports;
	unsigned range = (unsigned)cfg->local_port_hi - cfg->local_port_lo + 1;

	if (o->role != BENCH_CLIENT)
		return 0;
	if (per_shard > cfg->max_sockets - 1) {
		fprintf(stderr, "mlw_bench: %u connections on %u shards is %u per shard, more than a "
			"shard's descriptor table holds ([stack] max_sockets = %u, one of them the epoll "
			"instance): use more shards\n", o->conns, nshards, per_shard, cfg->max_sockets);
		return -1;
	}
	if (o->workload != BENCH_CRR && (uint64_t)per_port * nshards > range) {
		fprintf(stderr, "mlw_bench: %u connections on %u shards over %u server ports is %u per "
			"shard and server port, but a shard has about %u of the %u local ports ([stack] "
			"local_ports = %u-%u) for each server port: use more --nports or a wider "
			"local_ports\n", o->conns, nshards, o->nports, per_port, range / nshards, range,
			cfg->local_port_lo, cfg->local_port_hi);
		return -1;
	}
	return 0;
}

int bench_mlwip_run(struct bench *b)
{
	const struct bench_opts *o = b->o;
	static struct mlw_config cfg;
	struct mlw_config_error cerr;
	struct mlw_stack *st;
	pthread_t mon;
	char msg[512];
	int rc;

	rc = mlw_config_load_file(&cfg, o->config, &cerr);
	if (rc != 0) {
		mlw_config_format_error(&cerr, o->config, msg, sizeof(msg));
		fprintf(stderr, "mlw_bench: %s\n", msg);
		return -1;
	}
	rc = mlw_stack_create(&st, &cfg, msg, sizeof(msg));
	if (rc != 0) {
		fprintf(stderr, "mlw_bench: %s\n", msg);
		return -1;
	}
	b->ops = &mlwip_ops;
	b->nworkers = mlw_stack_nshards(st);
	b->backend = st;
	b->backend_stop = mlwip_stop;
	if (b->nworkers > BENCH_MAX_WORKERS || check_limits(o, &cfg, b->nworkers) != 0) {
		mlw_stack_destroy(st);
		return -1;
	}
	b->t_start = bench_now_ns();
	b->t_measure = b->t_start + bench_s_to_ns(o->warmup);
	b->t_end = b->t_measure + bench_s_to_ns(o->duration);
	getrusage(RUSAGE_SELF, &b->ru_start);
	if (pthread_create(&mon, NULL, monitor_main, b) != 0) {
		fprintf(stderr, "mlw_bench: cannot start the monitor thread\n");
		mlw_stack_destroy(st);
		return -1;
	}
	rc = mlw_stack_run(st, shard_main, NULL, b);
	atomic_store(&b->finished, 1);
	pthread_join(mon, NULL);
	if (!atomic_exchange(&b->ru_end_taken, 1))
		getrusage(RUSAGE_SELF, &b->ru_end);	/* a server: the whole run */
	fflush(stdout);
	mlw_stack_print_stats(st, stderr);
	for (unsigned i = 0; i < b->nworkers; i++) {
		struct mlw_shard_stats s;

		if (mlw_stack_stats(st, i, &s) == 0)
			b->heap_final += s.alloc.bytes_in_use;
	}
	b->heaps_unclean = mlw_stack_check_heaps(st, stderr);
	mlw_stack_destroy(st);
	if (rc != 0) {
		fprintf(stderr, "mlw_bench: a shard could not start (%d)\n", rc);
		return -1;
	}
	return 0;
}
