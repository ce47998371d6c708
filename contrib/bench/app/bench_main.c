/* bench_main.c - mlw_bench: one TCP benchmark, two socket layers (mlwip, or Linux's own sockets and epoll); options, the run, the result line.
 *
 *   mlw_bench --stack linux|mlwip --role server|client [options]
 *     --config FILE.ini      mlwip only: the stack configuration (shards, cores, port)
 *     --threads N            linux only: worker threads (default 1)
 *     --bind ADDR            server: address to listen on (default 0.0.0.0)
 *     --port P               first server port (default 9000)
 *     --nports K             server listens on P..P+K-1, the client spreads
 *                            its connections over them (default 1)
 *     --duration S           server: stop after S s (default: at SIGINT/SIGTERM);
 *                            client: measured seconds of rr/crr/stream (default 5)
 *     --server ADDR          client: the server's IPv4 address
 *     --workload rr|crr|stream|conns
 *     --conns C              connections, total over all workers (default 1)
 *     --msg BYTES            rr/crr request and answer size (default 64)
 *     --transactions N       rr/crr: N transactions in total instead of --duration
 *     --latency-out FILE     rr/crr: latency CDF, "latency_us cumulative_fraction"
 *     --hold S               conns: seconds to keep them open (default 1)
 *     --warmup S             rr/crr/stream: seconds before measuring (default 0.5)
 *     --progress S           seconds between progress lines on stderr (default 1)
 *
 * Workloads (client):
 *   rr      C persistent connections, one --msg request outstanding on each;
 *           every answer checked byte for byte; latency histogram.
 *   crr     connect, request, answer, close (the client closes first, so
 *           TIME-WAIT stays on the client), C of these at once.
 *   stream  C connections write 64 KiB buffers for --duration; then each
 *           shuts down its write side and the server answers with the
 *           number of bytes it read, which must equal what was written.
 *           Gbit/s = bytes written after the warm-up / (time the last count
 *           arrived - start of the measured interval).
 *   conns   open C connections (at most 128 connects in flight per worker,
 *           one until the first is up), time until all are up, memory per
 *           connection, hold, then close them (each shuts down its write
 *           side and is closed when the server's FIN came).
 * The server needs no workload option: the first byte of each connection
 * says echo or sink (see bench.h).
 *
 * Design: the workloads (bench_work.c) are written once against a small
 * table of socket calls (struct bench_ops, bench.h). The Linux backend
 * (bench_linux.c) runs them on worker threads, each with its own epoll
 * instance and SO_REUSEPORT listeners; the mlwip backend (bench_mlwip.c)
 * runs them in each shard's init function on mlwip's sockets and epoll,
 * whose mlw_epoll_wait() drives the shard. Workers share nothing while
 * running but the read-only run description, a few atomic flags and
 * counters, and progress figures they publish for the monitor thread
 * (progress lines, the server's --duration, CPU time at the edges of the
 * measured interval, kernel memory samples); main reads their results
 * after they ended. TCP_NODELAY is set on rr/crr client connections and
 * on every server connection. rr and conns connections end gracefully
 * (shutdown, the server's FIN, close); crr closes at once, client first,
 * so TIME-WAIT stays on the client (Linux with tcp_tw_reuse and mlwip
 * alike reuse a 4-tuple idle in TIME-WAIT for 1 s when a connect meets it).
 *
 * Output: the server prints "mlw_bench: server listening ..." once every
 * worker listens, and at the end one line "SERVER {json}"; the client
 * prints "progress: ..." lines on stderr about once a second and at the end
 * one line "RESULT {json}". mlwip also prints its per-shard stats table on
 * stderr. Exit status 0 only without errors, with real work done, and (mlwip)
 * with every shard heap empty at the end.
 *
 * Memory per connection: mlwip, from the shard heaps (lwIP's memory and the
 * socket layer's): heap bytes in use at the most connections open at once,
 * minus the heap before any connection, minus the bench's own connection
 * state, divided by that number of connections. Linux, from the kernel:
 * /proc/meminfo Slab and the socket-related /proc/slabinfo caches, sampled
 * before the connections and at the most connections the monitor saw open
 * (every 100 ms); these are system-wide figures (over loopback both ends
 * count).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const char *const stack_names[] = { "linux", "mlwip" };
static const char *const workload_names[] = { "rr", "crr", "stream", "conns" };

/* The signal handler's only way to the run. */
static struct bench *g_bench;

void bench_request_stop(struct bench *b)
{
	atomic_store(&b->stop, 1);
	if (b->backend_stop != NULL)
		b->backend_stop(b);	/* mlw_stack_stop(): async-signal-safe */
}

static void on_signal(int sig)
{
	(void)sig;
	if (g_bench != NULL) {
		atomic_store(&g_bench->signalled, 1);
		bench_request_stop(g_bench);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mlw_bench --stack linux|mlwip --role server|client [options]\n"
		"  --config FILE.ini   mlwip: stack configuration\n"
		"  --threads N         linux: worker threads (default 1)\n"
		"  --bind ADDR         server: listen address (default 0.0.0.0)\n"
		"  --port P            first server port (default 9000)\n"
		"  --nports K          server ports P..P+K-1 (default 1)\n"
		"  --duration S        server: run at most S s; client: measured seconds (default 5)\n"
		"  --server ADDR       client: server IPv4 address\n"
		"  --workload W        client: rr | crr | stream | conns\n"
		"  --conns C           client: connections in total (default 1)\n"
		"  --msg BYTES         rr/crr message size (default 64)\n"
		"  --transactions N    rr/crr: stop after N transactions in total\n"
		"  --latency-out FILE  rr/crr: write the latency CDF\n"
		"  --hold S            conns: seconds to hold them (default 1)\n"
		"  --warmup S          rr/crr/stream: seconds before measuring (default 0.5)\n"
		"  --progress S        seconds between progress lines (default 1, at least 0.01)\n");
}

static int bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "mlw_bench: %s %s: %s\n", opt, val, why);
	return -1;
}

static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
		char why[96];

		snprintf(why, sizeof(why), "expected an integer from %" PRIu64 " to %" PRIu64, lo, hi);
		return bad(opt, s, why);
	}
	*out = v;
	return 0;
}

static int parse_secs(const char *opt, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 1e6)
		return bad(opt, s, "expected seconds (>= 0)");
	*out = v;
	return 0;
}

static int parse_addr(const char *opt, const char *s, struct in_addr *out)
{
	if (inet_pton(AF_INET, s, out) != 1)
		return bad(opt, s, "expected an IPv4 address");
	return 0;
}

static int parse_name(const char *opt, const char *s, const char *const *names, unsigned n, int *out)
{
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return bad(opt, s, "unknown value");
}

enum {
	OPT_STACK = 256, OPT_ROLE, OPT_CONFIG, OPT_THREADS, OPT_BIND, OPT_PORT, OPT_NPORTS,
	OPT_DURATION, OPT_SERVER, OPT_WORKLOAD, OPT_CONNS, OPT_MSG, OPT_TRANSACTIONS,
	OPT_LATENCY_OUT, OPT_HOLD, OPT_WARMUP, OPT_PROGRESS, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "stack", required_argument, NULL, OPT_STACK },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "nports", required_argument, NULL, OPT_NPORTS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "workload", required_argument, NULL, OPT_WORKLOAD },
	{ "conns", required_argument, NULL, OPT_CONNS },
	{ "msg", required_argument, NULL, OPT_MSG },
	{ "transactions", required_argument, NULL, OPT_TRANSACTIONS },
	{ "latency-out", required_argument, NULL, OPT_LATENCY_OUT },
	{ "hold", required_argument, NULL, OPT_HOLD },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Parse and check the command line; 0, 1 (--help), or -1 (message printed). */
static int parse_options(int argc, char **argv, struct bench_opts *o)
{
	int stack = -1, role = -1, workload = -1, opt;
	bool have_threads = false, have_duration = false, have_server = false, have_bind = false;
	uint64_t v;

	*o = (struct bench_opts){ .threads = 1, .port = 9000, .nports = 1, .conns = 1, .msg = 64,
				  .hold = 1, .warmup = 0.5, .duration = 5, .progress = 1 };
	o->bind.s_addr = htonl(INADDR_ANY);
	while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		int rc = 0;

		switch (opt) {
		case OPT_STACK:
			rc = parse_name("--stack", optarg, stack_names, 2, &stack);
			break;
		case OPT_ROLE:
			role = strcmp(optarg, "server") == 0 ? BENCH_SERVER :
			       strcmp(optarg, "client") == 0 ? BENCH_CLIENT : -1;
			if (role < 0)
				rc = bad("--role", optarg, "expected server or client");
			break;
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_THREADS:
			rc = parse_u64("--threads", optarg, 1, BENCH_MAX_WORKERS, &v);
			o->threads = (unsigned)v;
			have_threads = true;
			break;
		case OPT_BIND:
			rc = parse_addr("--bind", optarg, &o->bind);
			have_bind = true;
			break;
		case OPT_PORT:
			rc = parse_u64("--port", optarg, 1, 65535, &v);
			o->port = (uint16_t)v;
			break;
		case OPT_NPORTS:
			rc = parse_u64("--nports", optarg, 1, BENCH_MAX_PORTS, &v);
			o->nports = (unsigned)v;
			break;
		case OPT_DURATION:
			rc = parse_secs("--duration", optarg, &o->duration);
			have_duration = true;
			break;
		case OPT_SERVER:
			rc = parse_addr("--server", optarg, &o->server);
			have_server = true;
			break;
		case OPT_WORKLOAD:
			rc = parse_name("--workload", optarg, workload_names, 4, &workload);
			break;
		case OPT_CONNS:
			rc = parse_u64("--conns", optarg, 1, 10000000, &v);
			o->conns = (unsigned)v;
			break;
		case OPT_MSG:
			rc = parse_u64("--msg", optarg, 1, BENCH_MSG_MAX, &v);
			o->msg = (unsigned)v;
			break;
		case OPT_TRANSACTIONS:
			rc = parse_u64("--transactions", optarg, 1, UINT64_MAX / BENCH_MAX_WORKERS, &v);
			o->transactions = v;
			break;
		case OPT_LATENCY_OUT:
			o->latency_out = optarg;
			break;
		case OPT_HOLD:
			rc = parse_secs("--hold", optarg, &o->hold);
			break;
		case OPT_WARMUP:
			rc = parse_secs("--warmup", optarg, &o->warmup);
			break;
		case OPT_PROGRESS:
			rc = parse_secs("--progress", optarg, &o->progress);
			if (rc == 0 && o->progress < 0.01)
				rc = bad("--progress", optarg, "expected at least 0.01 s");
			break;
		case OPT_HELP:
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "mlw_bench: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (stack < 0 || role < 0) {
		fprintf(stderr, "mlw_bench: --stack and --role are required\n");
		usage(stderr);
		return -1;
	}
	o->stack = (enum bench_stack)stack;
	o->role = (enum bench_role)role;
	if (o->stack == BENCH_MLWIP && o->config == NULL) {
		fprintf(stderr, "mlw_bench: --stack mlwip needs --config FILE.ini\n");
		return -1;
	}
	if (o->stack == BENCH_LINUX && o->config != NULL) {
		fprintf(stderr, "mlw_bench: --config is for --stack mlwip\n");
		return -1;
	}
	if (o->stack == BENCH_MLWIP && have_threads) {
		fprintf(stderr, "mlw_bench: --threads is for --stack linux (mlwip: [stack] shards in the config)\n");
		return -1;
	}
	if ((unsigned)o->port + o->nports - 1 > 65535) {
		fprintf(stderr, "mlw_bench: ports %u..%u go past 65535\n", o->port, o->port + o->nports - 1);
		return -1;
	}
	if (o->role == BENCH_SERVER) {
		if (!have_duration)
			o->duration = 0;	/* until a signal */
		o->warmup = 0;
		return 0;
	}
	if (have_bind) {
		fprintf(stderr, "mlw_bench: --bind is for the server\n");
		return -1;
	}
	if (!have_server || workload < 0) {
		fprintf(stderr, "mlw_bench: a client needs --server ADDR and --workload\n");
		return -1;
	}
	o->workload = (enum bench_workload)workload;
	if (o->transactions > 0 && o->workload != BENCH_RR && o->workload != BENCH_CRR) {
		fprintf(stderr, "mlw_bench: --transactions is for rr and crr\n");
		return -1;
	}
	if (o->latency_out != NULL && o->workload != BENCH_RR && o->workload != BENCH_CRR) {
		fprintf(stderr, "mlw_bench: --latency-out is for rr and crr\n");
		return -1;
	}
	if (o->transactions > 0 || o->workload == BENCH_CONNS)
		o->warmup = 0;	/* everything counts */
	if (o->workload != BENCH_CONNS && o->transactions == 0 && o->duration <= 0) {
		fprintf(stderr, "mlw_bench: --duration must be > 0\n");
		return -1;
	}
	return 0;
}

/* ---- results ---- */

struct totals {
	uint64_t transactions, transactions_all, bytes, bytes_acked, bytes_out, errors;
	uint64_t connect_failures, port_exhausted, resets, accepted, established, established_peak;
	uint64_t t_done, t_established, t_release;
	bool heap_valid;
	uint64_t heap_base, heap_peak, heap_end, app_bytes;
	struct bench_hist hist;
};

static void sum_results(const struct bench *b, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	bench_hist_reset(&t->hist);
	t->heap_valid = b->nworkers > 0;
	for (unsigned i = 0; i < b->nworkers; i++) {
		const struct bench_result *r = b->res[i];

		t->transactions += r->transactions;
		t->transactions_all += r->transactions_all;
		t->bytes += r->bytes;
		t->bytes_acked += r->bytes_acked;
		t->bytes_out += r->bytes_out;
		t->errors += r->errors;
		t->connect_failures += r->connect_failures;
		t->port_exhausted += r->port_exhausted;
		t->resets += r->resets;
		t->accepted += r->accepted;
		t->established += r->established;
		t->established_peak += r->established_peak;
		if (r->t_done_ns > t->t_done)
			t->t_done = r->t_done_ns;
		if (r->t_established_ns > t->t_established)
			t->t_established = r->t_established_ns;
		if (r->t_release_ns != 0 && (t->t_release == 0 || r->t_release_ns < t->t_release))
			t->t_release = r->t_release_ns;
		t->heap_valid = t->heap_valid && r->heap_valid;
		t->heap_base += r->heap_base;
		t->heap_peak += r->heap_peak;
		t->heap_end += r->heap_end;
		t->app_bytes += r->app_bytes_at_peak;
		bench_hist_merge(&t->hist, &r->hist);
	}
}

/* Process RSS growth per connection: (RSS at the most connections the
 * monitor saw - RSS before any connection - the bench's own connection
 * state) / those connections. Both stacks; on linux it leaves out the
 * kernel's memory, on mlwip it takes in the shard heaps' pages as they
 * are touched (the heap prefaults a little ahead of need). */
static void json_rss(struct bench_json *j, const struct bench *b, const struct totals *t)
{
	bench_json_u64(j, "rss_base_kb", b->rss_base_kb);
	bench_json_u64(j, "rss_peak_kb", b->rss_peak_kb);
	bench_json_u64(j, "rss_conns", b->rss_conns);
	if (b->rss_conns > 0 && b->rss_base_kb > 0 && b->rss_peak_kb >= b->rss_base_kb)
		bench_json_num(j, "rss_per_conn_bytes",
			       ((double)(b->rss_peak_kb - b->rss_base_kb) * 1024.0 - (double)t->app_bytes) /
			       (double)b->rss_conns, 1);
	else
		bench_json_null(j, "rss_per_conn_bytes");
}

/* Memory per connection and where it came from. */
static void json_memory(struct bench_json *j, const struct bench *b, const struct totals *t,
			bool is_server)
{
	json_rss(j, b, t);
	if (b->o->stack == BENCH_MLWIP) {
		bench_json_str(j, "mem_source", "mlwip shard heaps: (in use at peak connections - before "
			       "any connection - bench connection state) / peak connections");
		if (t->heap_valid && t->established_peak > 0 && t->heap_peak >= t->heap_base + t->app_bytes)
			bench_json_num(j, "mem_per_conn_bytes",
				       (double)(t->heap_peak - t->heap_base - t->app_bytes) /
				       (double)t->established_peak, 1);
		else
			bench_json_null(j, "mem_per_conn_bytes");
		bench_json_u64(j, "mem_conns", t->established_peak);
		bench_json_u64(j, "heap_base_bytes", t->heap_base);
		bench_json_u64(j, "heap_peak_bytes", t->heap_peak);
		bench_json_u64(j, "app_bytes_at_peak", t->app_bytes);
		if (is_server)
			bench_json_u64(j, "heap_end_bytes", t->heap_end);
		bench_json_u64(j, "heap_final_bytes", b->heap_final);
		bench_json_bool(j, "heaps_clean", b->heaps_unclean == 0);
		return;
	}
	const struct bench_kmem *k0 = &b->kmem_base, *k1 = &b->kmem_peak;
	char slab[1024];
	size_t n = 0;
	double objs = 0;

	bench_json_str(j, "mem_source", "linux kernel, system-wide: /proc/meminfo Slab and /proc/slabinfo "
		       "socket caches, before the connections and at the most connections seen open "
		       "(sampled every 100 ms; over loopback both ends count)");
	if (k0->valid && k1->valid && k1->conns > 0)
		bench_json_num(j, "mem_per_conn_bytes",
			       ((double)k1->slab_kb - (double)k0->slab_kb) * 1024.0 / (double)k1->conns, 1);
	else
		bench_json_null(j, "mem_per_conn_bytes");
	bench_json_u64(j, "mem_conns", k1->conns);
	bench_json_u64(j, "slab_kb_base", k0->slab_kb);
	bench_json_u64(j, "slab_kb_peak", k1->slab_kb);
	n += (size_t)snprintf(slab + n, sizeof(slab) - n, "{");
	for (unsigned i = 0; i < BENCH_KMEM_CACHES && n < sizeof(slab); i++) {
		n += (size_t)snprintf(slab + n, sizeof(slab) - n,
				      "%s\"%s\": {\"base\": %" PRIu64 ", \"peak\": %" PRIu64 ", \"objsize\": %" PRIu64 "}",
				      i ? ", " : "", bench_kmem_caches[i], k0->active[i], k1->active[i],
				      k1->objsize[i]);
		objs += ((double)k1->active[i] - (double)k0->active[i]) * (double)k1->objsize[i];
	}
	if (n < sizeof(slab))
		snprintf(slab + n, sizeof(slab) - n, "}");
	if (k0->slab_valid && k1->slab_valid && k1->conns > 0) {
		bench_json_num(j, "slab_objs_bytes_per_conn", objs / (double)k1->conns, 1);
		bench_json_raw(j, "slabinfo", slab);
	} else {
		bench_json_null(j, "slab_objs_bytes_per_conn");
		bench_json_null(j, "slabinfo");
	}
}

static void json_cpu(struct bench_json *j, const struct bench *b, double *total)
{
	double user = bench_rusage_s(&b->ru_end.ru_utime) - bench_rusage_s(&b->ru_start.ru_utime);
	double sys = bench_rusage_s(&b->ru_end.ru_stime) - bench_rusage_s(&b->ru_start.ru_stime);

	bench_json_num(j, "cpu_user_s", user, 3);
	bench_json_num(j, "cpu_sys_s", sys, 3);
	*total = user + sys;
}

static void json_workers(struct bench_json *j, const struct bench *b)
{
	bench_json_str(j, "stack", stack_names[b->o->stack]);
	bench_json_str(j, "role", b->o->role == BENCH_SERVER ? "server" : "client");
	bench_json_u64(j, b->o->stack == BENCH_MLWIP ? "shards" : "threads", b->nworkers);
	bench_json_u64(j, "workers", b->nworkers);
	bench_json_u64(j, "ports", b->o->nports);
}

static int server_output(const struct bench *b, uint64_t t_stop)
{
	struct bench_json j;
	struct totals t;
	double cpu;
	bool ok;

	sum_results(b, &t);
	bench_json_begin(&j);
	json_workers(&j, b);
	bench_json_num(&j, "seconds", (double)(t_stop - b->t_start) / 1e9, 3);
	bench_json_u64(&j, "accepted", t.accepted);
	bench_json_u64(&j, "peak_established", t.established_peak);
	bench_json_u64(&j, "bytes_in", t.bytes);
	bench_json_u64(&j, "bytes_out", t.bytes_out);
	bench_json_u64(&j, "resets", t.resets);
	bench_json_u64(&j, "errors", t.errors);
	json_cpu(&j, b, &cpu);
	json_memory(&j, b, &t, true);
	bench_json_bool(&j, "ok", !b->backend_error && t.errors == 0 && b->heaps_unclean == 0);
	bench_json_end(&j);
	printf("SERVER %s\n", j.s);
	fflush(stdout);
	ok = !b->backend_error && t.errors == 0 && b->heaps_unclean == 0;
	return ok ? 0 : 1;
}

/* --transactions runs: transactions/s in the first and in the last tenth of
 * each worker's share, summed over the workers (which run side by side).
 * The first tenth is timed from the first completed transaction, so the
 * first connect's address resolution stays out. */
static void json_tenths(struct bench_json *j, const struct bench *b)
{
	double first = 0, last = 0;
	unsigned n = 0;

	for (unsigned i = 0; i < b->nworkers; i++) {
		const struct bench_result *r = b->res[i];
		double share = (double)r->transactions_all;

		if (r->ntenth < 11 || r->tenth_ns[1] <= r->tenth_ns[0] || r->tenth_ns[10] <= r->tenth_ns[9])
			continue;
		first += (share / 10 - 1) / ((double)(r->tenth_ns[1] - r->tenth_ns[0]) / 1e9);
		last += (share / 10) / ((double)(r->tenth_ns[10] - r->tenth_ns[9]) / 1e9);
		n++;
	}
	if (n > 0 && n == b->nworkers) {
		bench_json_num(j, "tps_first_tenth", first, 1);
		bench_json_num(j, "tps_last_tenth", last, 1);
	} else {
		bench_json_null(j, "tps_first_tenth");
		bench_json_null(j, "tps_last_tenth");
	}
}

static int client_output(const struct bench *b)
{
	const struct bench_opts *o = b->o;
	struct bench_json j;
	struct totals t;
	double secs, cpu;
	char warnings[1024] = "[";
	size_t wn = 1;
	bool ok, work, rr = o->workload == BENCH_RR || o->workload == BENCH_CRR;

	sum_results(b, &t);
	/* The measured interval. */
	if (o->workload == BENCH_CONNS)
		secs = (double)((t.t_done > b->t_start ? t.t_done : bench_now_ns()) - b->t_start) / 1e9;
	else if (o->transactions > 0)
		secs = t.t_done > b->t_start ? (double)(t.t_done - b->t_start) / 1e9 : 0;
	else if (o->workload == BENCH_STREAM && t.t_done > b->t_measure)
		secs = (double)(t.t_done - b->t_measure) / 1e9;
	else if (atomic_load(&b->signalled))
		secs = t.t_done > b->t_measure ? (double)((t.t_done < b->t_end ? t.t_done : b->t_end) -
							  b->t_measure) / 1e9 : 0;
	else
		secs = o->duration;
	switch (o->workload) {
	case BENCH_RR:
	case BENCH_CRR:
		work = t.transactions > 0 && (o->transactions == 0 || t.transactions == o->transactions);
		break;
	case BENCH_STREAM:
		work = t.bytes_acked > 0;
		break;
	default:
		work = t.established == o->conns;
		break;
	}
	ok = !b->backend_error && t.errors == 0 && work && !atomic_load(&b->signalled) &&
	     b->heaps_unclean == 0;

	bench_json_begin(&j);
	json_workers(&j, b);
	bench_json_str(&j, "workload", workload_names[o->workload]);
	bench_json_u64(&j, "conns", o->conns);
	bench_json_u64(&j, "msg", o->msg);
	bench_json_num(&j, "warmup_s", o->warmup, 3);
	bench_json_num(&j, "seconds", secs, 3);
	bench_json_u64(&j, "transactions", rr ? t.transactions : 0);
	bench_json_u64(&j, "transactions_all", rr ? t.transactions_all : 0);
	if (rr && secs > 0) {
		bench_json_num(&j, "tps", (double)t.transactions / secs, 1);
	} else {
		bench_json_null(&j, "tps");
	}
	if (rr && t.hist.n > 0) {
		bench_json_num(&j, "p50_us", bench_hist_quantile_us(&t.hist, 0.50), 2);
		bench_json_num(&j, "p99_us", bench_hist_quantile_us(&t.hist, 0.99), 2);
		bench_json_num(&j, "p999_us", bench_hist_quantile_us(&t.hist, 0.999), 2);
		bench_json_num(&j, "mean_us", t.hist.sum_ns / (double)t.hist.n / 1e3, 2);
		bench_json_num(&j, "max_us", (double)t.hist.max_ns / 1e3, 2);
	} else {
		bench_json_null(&j, "p50_us");
		bench_json_null(&j, "p99_us");
		bench_json_null(&j, "p999_us");
		bench_json_null(&j, "mean_us");
		bench_json_null(&j, "max_us");
	}
	if (o->workload == BENCH_STREAM) {
		bench_json_u64(&j, "bytes", t.bytes);
		bench_json_u64(&j, "bytes_acked", t.bytes_acked);
		bench_json_num(&j, "gbps", secs > 0 ? (double)t.bytes * 8 / secs / 1e9 : 0, 3);
		/* From the end of writing to the last count: what the bytes
		 * still buffered took (a retransmission timeout shows here). */
		bench_json_num(&j, "drain_s", t.t_done > b->t_end ?
			       (double)(t.t_done - b->t_end) / 1e9 : 0, 3);
	} else {
		bench_json_null(&j, "bytes");
		bench_json_null(&j, "bytes_acked");
		bench_json_null(&j, "gbps");
		bench_json_null(&j, "drain_s");
	}
	if (o->workload == BENCH_CONNS && t.established == o->conns && t.t_established > b->t_start)
		bench_json_num(&j, "establish_s", (double)(t.t_established - b->t_start) / 1e9, 3);
	else
		bench_json_null(&j, "establish_s");
	bench_json_u64(&j, "conns_established", t.established);
	json_tenths(&j, b);
	/* conns: from the end of the hold to the server's FIN on the last one. */
	if (o->workload == BENCH_CONNS && t.t_release != 0 && t.t_done > t.t_release)
		bench_json_num(&j, "close_s", (double)(t.t_done - t.t_release) / 1e9, 3);
	else
		bench_json_null(&j, "close_s");
	json_memory(&j, b, &t, false);
	json_cpu(&j, b, &cpu);
	if (rr && t.transactions > 0)
		bench_json_num(&j, "cpu_us_per_txn", cpu * 1e6 / (double)t.transactions, 3);
	else
		bench_json_null(&j, "cpu_us_per_txn");
	bench_json_u64(&j, "errors", t.errors);
	bench_json_u64(&j, "connect_failures", t.connect_failures);
	bench_json_u64(&j, "port_exhausted", t.port_exhausted);
	bench_json_bool(&j, "interrupted", atomic_load(&b->signalled));
	if (t.port_exhausted > 0)
		wn += (size_t)snprintf(warnings + wn, sizeof(warnings) - wn,
				       "%s\"connect found no free local port %" PRIu64 " times (TIME-WAIT from "
				       "closing first); the rate is limited by port reuse\"", wn > 1 ? ", " : "",
				       t.port_exhausted);
	if (rr && o->transactions == 0 && t.transactions_all > 0 && t.transactions == 0)
		wn += (size_t)snprintf(warnings + wn, sizeof(warnings) - wn,
				       "%s\"no transaction completed inside the measured interval\"",
				       wn > 1 ? ", " : "");
	if (wn < sizeof(warnings))
		snprintf(warnings + wn, sizeof(warnings) - wn, "]");
	bench_json_raw(&j, "warnings", warnings);
	bench_json_bool(&j, "ok", ok);
	bench_json_end(&j);
	if (o->latency_out != NULL) {
		int rc = bench_hist_write_cdf(&t.hist, o->latency_out);

		if (rc != 0) {
			fprintf(stderr, "mlw_bench: cannot write %s: %s\n", o->latency_out, strerror(-rc));
			ok = false;
		}
	}
	printf("RESULT %s\n", j.s);
	fflush(stdout);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct bench_opts o;
	static struct bench b;
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	b.o = &o;
	/* Result slots, one cache-line aligned block per worker. */
	for (unsigned i = 0; i < BENCH_MAX_WORKERS; i++) {
		b.res[i] = aligned_alloc(64, (sizeof(struct bench_result) + 63) & ~(size_t)63);
		if (b.res[i] == NULL) {
			fprintf(stderr, "mlw_bench: out of memory\n");
			return 1;
		}
		memset(b.res[i], 0, sizeof(struct bench_result));
	}
	g_bench = &b;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = o.stack == BENCH_MLWIP ? bench_mlwip_run(&b) : bench_linux_run(&b);
	if (rc != 0) {
		b.backend_error = 1;
		if (b.t_start == 0)
			return 1;	/* did not run at all (message printed) */
	}
	rc = o.role == BENCH_SERVER ? server_output(&b, bench_now_ns()) : client_output(&b);
	for (unsigned i = 0; i < BENCH_MAX_WORKERS; i++)
		free(b.res[i]);
	return rc;
}
