/* stack.c - create a stack (EAL, ports, per-shard pools and rings), run its shards on their cores, stop, stats. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MLW_RT_DPDK
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#endif

#include "engine.h"
#include "mlwip/config.h"
#include "stack_private.h"
#include "tsan_private.h"

#define LINK_WAIT_MS 3000

int mlw__params_from_config(struct mlw__stack_params *p, const struct mlw_config *cfg,
			    char *err, size_t errlen);

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The frames shard @p id receives into (DPDK: an mbuf pool with the
 * private area for zero-copy pbufs; without DPDK: frame_pool.c's). */
static int create_pool(struct mlw_stack *st, struct mlw_shard *sh, char *err, size_t errlen)
{
#if MLW_RT_DPDK
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "mlw_pool_%u", sh->id);
	sh->pool = rte_pktmbuf_pool_create(name, st->p.pool_mbufs, st->p.mbuf_cache, MLW_MBUF_PRIV_SIZE,
					   RTE_MBUF_DEFAULT_BUF_SIZE, sh->node);
	if (sh->pool == NULL)
		return fail(err, errlen, -ENOMEM, "cannot create a pool of %u mbufs for shard %u: %s "
			    "(give DPDK more memory with -m in [eal] args, or lower [stack] rx_desc, "
			    "tx_desc, rx_zero_copy)", st->p.pool_mbufs, sh->id, rte_strerror(rte_errno));
#else
	/* Room for a full-size Ethernet frame with a VLAN tag put back. */
	sh->pool = mlw__frame_pool_create(st->p.pool_mbufs, MLW_FRAME_ROOM, sh->node);
	if (sh->pool == NULL)
		return fail(err, errlen, -ENOMEM, "cannot create a pool of %u frames for shard %u "
			    "(lower [stack] mbufs or rx_zero_copy)", st->p.pool_mbufs, sh->id);
#endif
	return 0;
}

static void free_pool(struct mlw_shard *sh)
{
#if MLW_RT_DPDK
	rte_mempool_free(sh->pool);
#else
	mlw__frame_pool_free(sh->pool);
#endif
	sh->pool = NULL;
}

static int create_shard(struct mlw_stack *st, unsigned id, char *err, size_t errlen)
{
	struct mlw_shard *sh;
	int rc;
	unsigned lcore = id;	/* lcore ids are shard indices (params.c) */
	int socket = mlw__rt_node(id, st->p.cores[id]);

	/* One struct per shard, on the shard's own node. */
	sh = mlw__rt_zalloc(sizeof(*sh), socket);
	if (sh == NULL)
		return fail(err, errlen, -ENOMEM, "no memory for shard %u on node %d", id, socket);
	sh->id = id;
	sh->lcore = lcore;
	sh->node = socket;
	sh->stack = st;
	rc = create_pool(st, sh, err, errlen);
	if (rc != 0) {
		mlw__rt_free(sh, sizeof(*sh));
		return rc;
	}
	st->shards[id] = sh;
	if (mlw__idle_create(sh) != 0)
		return fail(err, errlen, -EMFILE, "no eventfd for shard %u (idle = interrupt)", id);
	return 0;
}

static int create_rings(struct mlw_stack *st, char *err, size_t errlen)
{
	char name[32];

	/* One single-producer/single-consumer ring per ordered pair of shards,
	 * on the consumer's node. */
	for (unsigned src = 0; src < st->p.nshards; src++) {
		for (unsigned dst = 0; dst < st->p.nshards; dst++) {
			mlw__ring_t *r;

			if (src == dst)
				continue;
			snprintf(name, sizeof(name), "mlw_r%u_%u", src, dst);
			r = mlw__ring_create(name, st->p.ring_size, st->shards[dst]->node);
			if (r == NULL)
				return fail(err, errlen, -ENOMEM, "cannot create ring %s: %s", name,
					    strerror(errno));
			st->shards[dst]->inbox[src] = r;
			st->shards[src]->outbox[dst] = r;
		}
	}
	return 0;
}

/*
 * The stack's RSS table: the symmetric key, and a RETA spreading entries
 * round-robin over the shards whose size is the smallest RETA among the
 * ports with RSS (128 if none has it). Every port with RSS is programmed
 * with this table repeated to its own size, so a flow hashes to the same
 * shard whichever port it uses, and software steering on ports without RSS
 * names the same shard.
 */
static int rss_table(struct mlw_stack *st, char *err, size_t errlen)
{
	unsigned reta = 0;

	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		struct mlw_port_caps caps;
		uint16_t id = st->p.ports[pi].dpdk_id;

		if (st->p.ports[pi].engine != MLW_ENGINE_DPDK)
			continue;
#if MLW_RT_DPDK
		if (mlw__port_probe(id, &caps) != 0)
			return fail(err, errlen, -ENODEV, "[port%u] is configured but DPDK has no port %u "
				    "(add a device with -a/--vdev in [eal] args)", pi, id);
		/* A RETA that is no power of two cannot repeat ours. */
		if (caps.rss && caps.reta_size >= st->p.nshards && (caps.reta_size & (caps.reta_size - 1)) == 0 &&
		    (reta == 0 || caps.reta_size < reta))
			reta = caps.reta_size;
#else
		(void)caps;
		(void)id;
		return fail(err, errlen, -ENOTSUP, "[port%u] engine = dpdk: this mlwip is built without DPDK "
			    "(-DMLW_WITH_DPDK=OFF): use engine = afpacket", pi);
#endif
	}
	/* 128 entries hold every shard count (MLW_MAX_SHARDS_INTERNAL). */
	if (reta == 0)
		reta = 128;
	else if (reta > MLW_RSS_RETA_SIZE_MAX)
		reta = MLW_RSS_RETA_SIZE_MAX;
	if (mlw_rss_init(&st->rss, st->p.nshards, reta, NULL, MLW_RSS_KEY_LEN_DEFAULT) != 0)
		return fail(err, errlen, -EINVAL, "no RSS table of %u entries for %u shards", reta,
			    st->p.nshards);
	return 0;
}

/* [portN] engine = afpacket: the interface through the kernel engine. */
static int open_afp_port(struct mlw_stack *st, unsigned pi, mlw__frame_pool_t *const *pools, char *err,
			 size_t errlen)
{
	const struct mlw__port_params *pp = &st->p.ports[pi];
	struct mlw_port *port = &st->ports[pi];
	struct mlw_afp_conf c = {
		.ifname = pp->iface, .nqueues = st->p.nshards, .rx_block_size = pp->rx_block_size,
		.rx_blocks = pp->rx_blocks, .tx_frames = pp->tx_frames,
		.steer = pp->steer_ports ? MLW_AFP_STEER_PORTS : MLW_AFP_STEER_HASH,
	};
	char why[192];
	int rc = mlw__port_open_afp(port, &c, pools, why, sizeof(why));

	if (rc != 0)
		return fail(err, errlen, rc, "[port%u] engine = afpacket: %s", pi,
			    why[0] ? why : strerror(-rc));
	port->steer_how = st->p.nshards > 1 && pp->steer_ports ? MLW_STEER_HOW_PORTS : MLW_STEER_HOW_SOFT;
	return 0;
}

static int open_ports(struct mlw_stack *st, char *err, size_t errlen)
{
	mlw__frame_pool_t *pools[MLW_MAX_SHARDS_INTERNAL];
	int rc = rss_table(st, err, errlen);

	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < st->p.nshards; i++)
		pools[i] = st->shards[i]->pool;
	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		if (st->p.ports[pi].engine == MLW_ENGINE_AFPACKET) {
			rc = open_afp_port(st, pi, pools, err, errlen);
			if (rc != 0)
				return rc;
			continue;
		}
		if (st->p.ports[pi].engine == MLW_ENGINE_LOOP) {
#if MLW_RT_DPDK
			return fail(err, errlen, -ENOTSUP, "[port%u] engine = loop is the loopback port of "
				    "builds without DPDK; with DPDK use --vdev=net_ring0 in [eal] args", pi);
#else
			char why[128] = "";

			rc = mlw__port_open_loop(&st->ports[pi], st->p.nshards, pools, why, sizeof(why));
			if (rc != 0)
				return fail(err, errlen, rc, "[port%u] engine = loop: %s", pi, why);
			st->ports[pi].steer_how = MLW_STEER_HOW_SOFT;
			continue;
#endif
		}
#if MLW_RT_DPDK
		struct mlw_port *port = &st->ports[pi];

		rc = mlw__port_open(port, st->p.ports[pi].dpdk_id, (uint16_t)st->p.nshards, pools, &st->rss,
				    (uint16_t)st->p.rx_desc, (uint16_t)st->p.tx_desc, LINK_WAIT_MS,
				    st->p.idle == MLW_IDLE_INTERRUPT);
		if (rc == -ERANGE)
			return fail(err, errlen, rc, "port %u (%s) needs at least %u RX and %u TX descriptors "
				    "per queue ([stack] rx_desc = %u, tx_desc = %u)", pi, port->caps.driver,
				    port->want_rx_desc, port->want_tx_desc, st->p.rx_desc, st->p.tx_desc);
		if (rc != 0)
			return fail(err, errlen, rc, "cannot set up port %u (%s) with %u queues: %s",
				    pi, port->caps.driver, st->p.nshards, strerror(-rc));
		port->steer_how = port->caps.hash_l4 ? MLW_STEER_HOW_NIC : MLW_STEER_HOW_SOFT;
#endif
	}
	return 0;
}

#if MLW_RT_DPDK
/* The capture controller, and the capture itself with [capture] start = on. */
static int capture_setup(struct mlw_stack *st, const struct mlw_capture_config *cc, char *err, size_t errlen)
{
	struct mlw__cap_slot *slots[MLW_MAX_SHARDS_INTERNAL];
	int nodes[MLW_MAX_SHARDS_INTERNAL];
	uint32_t max_frame = 0;
	char msg[256];
	int rc;

	for (unsigned i = 0; i < st->p.nshards; i++) {
		slots[i] = &st->shards[i]->cap;
		nodes[i] = st->shards[i]->node;
	}
	/* The longest frame a port passes: its MTU, Ethernet header, a VLAN tag. */
	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		uint32_t mtu = st->p.ports[pi].mtu ? st->p.ports[pi].mtu : st->ports[pi].caps.mtu;

		if (mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN > max_frame)
			max_frame = mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
	}
	st->capture = mlw__capture_create(st->p.nshards, slots, nodes, st->p.nports, max_frame);
	if (st->capture == NULL)
		return fail(err, errlen, -ENOMEM, "out of memory (capture)");
	if (!cc->start)
		return 0;
	rc = mlw__capture_start(st->capture, cc, msg, sizeof(msg));
	if (rc != 0)
		return fail(err, errlen, rc, "[capture] %s", msg);
	return 0;
}

/* Stop a capture still running once the shards are done (every frame they
 * sent or received is in the file) and say what it wrote. */
static void capture_finish(struct mlw_stack *st)
{
	struct mlw__capture_status cs;

	if (st->capture == NULL || mlw__capture_stop(st->capture, &cs) != 0)
		return;
	fprintf(stderr, "mlwip: capture %s: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " dropped, "
		"%" PRIu64 " bytes in the file%s%s\n", cs.file, cs.packets, cs.bytes, cs.dropped, cs.file_bytes,
		cs.limit_reached ? " (stopped at limit_mb)" : "", cs.error[0] ? ", write error" : "");
}

#else
/* Packet capture writes pcapng with DPDK's rte_pcapng: not in this build. */
static int capture_setup(struct mlw_stack *st, const struct mlw_capture_config *cc, char *err, size_t errlen)
{
	(void)st;
	if (cc->start)
		return fail(err, errlen, -ENOTSUP, "[capture] start = on: packet capture needs the DPDK build "
			    "(this mlwip is built with -DMLW_WITH_DPDK=OFF)");
	return 0;
}

static void capture_finish(struct mlw_stack *st)
{
	(void)st;
}
#endif

int mlw_stack_create(struct mlw_stack **out, const struct mlw_config *cfg, char *err, size_t errlen)
{
	struct mlw_stack *st;
	struct mlw__stack_params *p;
	int rc;

	if (out == NULL || cfg == NULL)
		return fail(err, errlen, -EINVAL, "mlw_stack_create: NULL argument");
	*out = NULL;
	/* The parameters are needed before DPDK's allocator exists. */
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return fail(err, errlen, -ENOMEM, "out of memory");
	rc = mlw__params_from_config(p, cfg, err, errlen);
	if (rc != 0) {
		free(p);
		return rc;
	}
	rc = mlw__rt_init(p->eal.argc, p->eal.argv, err, errlen);
	if (rc != 0) {
		free(p);
		return rc;
	}
	/* Shard 0 runs on this thread (mlw_stack_run). */
	rc = mlw__rt_pin_main(p->cores[0]);
	if (rc != 0) {
		fail(err, errlen, rc, "cannot run on CPU %u ([stack] cores): %s", p->cores[0], strerror(-rc));
		mlw__rt_fini();
		free(p);
		return rc;
	}
	st = mlw__rt_zalloc(sizeof(*st), -1);
	if (st == NULL) {
		mlw__rt_fini();
		free(p);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	/* The EAL may keep pointers into its argv: the original block stays
	 * allocated until mlw_stack_destroy(); st->p is a copy for the rest. */
	memcpy(&st->p, p, sizeof(*p));
	st->eal_params = p;
#if MLW_RT_DPDK
	for (unsigned i = 0; i < st->p.nshards; i++) {
		if (!rte_lcore_is_enabled(i)) {
			rc = fail(err, errlen, -EINVAL, "shard %u (core %u) has no EAL lcore", i, st->p.cores[i]);
			goto fail;
		}
	}
#endif
	for (unsigned i = 0; i < st->p.nshards; i++) {
		rc = create_shard(st, i, err, errlen);
		if (rc != 0)
			goto fail;
	}
	rc = create_rings(st, err, errlen);
	if (rc == 0)
		rc = open_ports(st, err, errlen);
	if (rc == 0)
		rc = capture_setup(st, &cfg->capture, err, errlen);
	if (rc != 0)
		goto fail;
	/* DPDK telemetry commands and the listing buffers (telemetry.c;
	 * without DPDK telemetry_none.c, which serves nothing). */
	rc = mlw__telemetry_start(st);
	if (rc != 0) {
		fail(err, errlen, rc, "cannot set up the telemetry commands: %s", strerror(-rc));
		goto fail;
	}
	*out = st;
	return 0;
fail:
	mlw_stack_destroy(st);
	return rc;
}

int mlw_stack_create_from_file(struct mlw_stack **out, const char *path, char *err, size_t errlen)
{
	struct mlw_config cfg;
	struct mlw_config_error cerr;
	int rc;

	if (out == NULL || path == NULL)
		return fail(err, errlen, -EINVAL, "mlw_stack_create_from_file: NULL argument");
	rc = mlw_config_load_file(&cfg, path, &cerr);
	if (rc != 0) {
		if (err != NULL && errlen > 0)
			mlw_config_format_error(&cerr, path, err, errlen);
		return rc;
	}
	return mlw_stack_create(out, &cfg, err, errlen);
}

/* Launch shards 1..n-1 on their lcores (@p claim: marked as taken, for
 * mlw_stack_attach_shard()). An lcore that cannot be launched means the
 * stack cannot run as configured: the error goes to init_rc, the stack
 * stops, and that error is returned; 0 when every shard was launched. */
int mlw__stack_launch_others(struct mlw_stack *st, bool claim)
{
	for (unsigned i = 1; i < st->p.nshards; i++) {
		int rc, expected = 0;

		if (claim)
			atomic_store(&st->shards[i]->claimed, true);
		MLW_TSAN_RELEASE(st->shards[i]);
		rc = mlw__rt_launch(&st->threads, i, st->p.cores[i], mlw__shard_main, st->shards[i]);
		if (rc == 0)
			continue;
		atomic_compare_exchange_strong(&st->init_rc, &expected, rc < 0 ? rc : -EBUSY);
		mlw_stack_stop(st);
		return atomic_load(&st->init_rc);
	}
	return 0;
}

int mlw_stack_run(struct mlw_stack *st, mlw_shard_init_fn init, mlw_shard_fini_fn fini, void *arg)
{
	if (st == NULL)
		return -EINVAL;
	if (atomic_exchange(&st->ran, 1))
		return -EALREADY;
	st->init = init;
	st->fini = fini;
	st->init_arg = arg;
	/* Shard 0 runs here; the EAL's main lcore must be shard 0's core. */
	if (!mlw__rt_is_main())
		return -EINVAL;
	/* A busy lcore (the application launched something there): shards
	 * already launched see the stop; shard 0 below runs no application
	 * code. */
	mlw__stack_launch_others(st, false);
	mlw__shard_main(st->shards[0]);
	mlw__rt_wait(&st->threads);
	MLW_TSAN_ACQUIRE(st);
	capture_finish(st);
	return atomic_load(&st->init_rc);
}

void mlw_stack_stop(struct mlw_stack *st)
{
	if (st != NULL) {
		atomic_store_explicit(&st->stop, 1, memory_order_relaxed);
		mlw__idle_wake_all(st);	/* shards asleep (idle = interrupt) */
	}
}

unsigned mlw_stack_nshards(const struct mlw_stack *st)
{
	return st ? st->p.nshards : 0;
}

int mlw_stack_stats(const struct mlw_stack *st, unsigned shard, struct mlw_shard_stats *out)
{
	uint64_t *dst = (uint64_t *)out;
	const struct mlw__published *pub;

	if (st == NULL || out == NULL || shard >= st->p.nshards || st->shards[shard] == NULL)
		return -EINVAL;
	pub = &st->shards[shard]->pub;
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = atomic_load_explicit((_Atomic uint64_t *)&pub->v[i], memory_order_relaxed);
	return 0;
}

int mlw_stack_ring_stats(const struct mlw_stack *st, unsigned from, unsigned to, struct mlw_ring_stats *out)
{
	const struct mlw__published *pub;

	if (st == NULL || out == NULL || from >= st->p.nshards || to >= st->p.nshards || from == to ||
	    st->shards[from] == NULL || st->shards[from]->outbox[to] == NULL)
		return -EINVAL;
	pub = &st->shards[from]->pub;
	out->sent = atomic_load_explicit(&pub->ring_sent[to], memory_order_relaxed);
	out->dropped = atomic_load_explicit(&pub->ring_dropped[to], memory_order_relaxed);
	out->peak = atomic_load_explicit(&pub->ring_peak[to], memory_order_relaxed);
	out->size = mlw__ring_capacity(st->shards[from]->outbox[to]);
	return 0;
}

/* The rings that carried frames, one line each: "0->1". */
static void print_rings(const struct mlw_stack *st, FILE *f)
{
	bool header = false;

	for (unsigned a = 0; a < st->p.nshards; a++)
		for (unsigned b = 0; b < st->p.nshards; b++) {
			struct mlw_ring_stats r;
			char name[24];

			if (mlw_stack_ring_stats(st, a, b, &r) != 0 || (r.sent == 0 && r.dropped == 0))
				continue;
			if (!header)
				fprintf(f, "%-9s %12s %10s %7s %7s\n", "ring", "sent", "dropped", "peak", "size");
			header = true;
			snprintf(name, sizeof(name), "%u->%u", a, b);
			fprintf(f, "%-9s %12llu %10llu %7u %7u\n", name, (unsigned long long)r.sent,
				(unsigned long long)r.dropped, r.peak, r.size);
		}
}

/*
 * A kernel engine port's line in the port table: rx_missed is what the
 * kernel dropped (RX ring full), rx_nombuf frames without an mbuf to copy
 * into, rx_errors frames too long for one, tx_errors frames the TX ring
 * refused plus failed flushes; then the engine's own counters, name=value.
 * While the shards run they are asked for the kernel's count (up to
 * idle_wait_ms + 50 ms); after a run the queues are read here.
 */
static void print_afp_port(const struct mlw_stack *st, const struct mlw_port *port, const char *name, FILE *f)
{
	struct mlw__afp_counters c;
	bool running = atomic_load(&st->ran) && !atomic_load(&st->stop);

	mlw__afp_engine_read(port->afp, running, st->p.idle_wait_ms + 50, &c);
	fprintf(f, "%-5s %-16s %10llu %10llu %13llu %13llu %9llu %9llu %9llu %9llu tx_full=%llu vlan=%llu\n",
		name, port->caps.driver, (unsigned long long)c.rx_pkts, (unsigned long long)c.tx_pkts,
		(unsigned long long)c.rx_bytes, (unsigned long long)c.tx_bytes,
		(unsigned long long)c.rx_kernel_drops, (unsigned long long)c.rx_nombuf,
		(unsigned long long)c.rx_too_big, (unsigned long long)(c.tx_rejected + c.tx_flush_errors),
		(unsigned long long)c.tx_full, (unsigned long long)c.rx_vlan);
}

void mlw_stack_print_stats(const struct mlw_stack *st, FILE *f)
{
	fprintf(f, "%-5s %10s %10s %10s %10s %8s %8s %8s %8s %8s %7s %7s %7s %12s %9s %9s %9s %9s %9s %8s %9s %8s %9s %9s %9s %10s %10s %11s\n", "shard",
		"rx_pkts", "tx_pkts", "rx_MB", "tx_MB", "rx_drop", "tx_drop", "fwd_out", "fwd_in", "fwd_drop",
		"opens", "accepts", "resets", "heap_in_use", "heap_fail", "tw_reuse", "tw_drop", "rx_copy", "retrans",
		"ck_drop", "tw_reopen", "tw_rst", "conns", "time_wait", "half_open", "fast_rexmit", "rto_rexmit", "rto_timeout");
	for (unsigned i = 0; st != NULL && i < st->p.nshards; i++) {
		struct mlw_shard_stats s;

		if (mlw_stack_stats(st, i, &s) != 0)
			continue;
		fprintf(f, "%-5u %10llu %10llu %10.1f %10.1f %8llu %8llu %8llu %8llu %8llu %7llu %7llu %7llu %12llu %9llu %9llu %9llu %9llu %9llu %8llu %9llu %8llu %9llu %9llu %9llu %10llu %10llu %11llu\n",
			i, (unsigned long long)s.rx_pkts, (unsigned long long)s.tx_pkts,
			s.rx_bytes / 1e6, s.tx_bytes / 1e6, (unsigned long long)s.rx_drops,
			(unsigned long long)s.tx_drops, (unsigned long long)s.fwd_out,
			(unsigned long long)s.fwd_in, (unsigned long long)s.fwd_drops,
			(unsigned long long)s.tcp_active_opens,
			(unsigned long long)s.tcp_accepts, (unsigned long long)s.tcp_resets,
			(unsigned long long)s.alloc.bytes_in_use, (unsigned long long)s.alloc.failures,
			(unsigned long long)s.tcp_tw_reused, (unsigned long long)s.tcp_tw_dropped,
			(unsigned long long)s.rx_copied, (unsigned long long)s.tcp_retrans,
			(unsigned long long)s.rx_cksum_drops, (unsigned long long)s.rx_tcp_tw_syn_reopens,
			(unsigned long long)s.rx_tcp_tw_rst_kills, (unsigned long long)s.tcp_conns,
			(unsigned long long)s.tcp_time_wait, (unsigned long long)s.tcp_half_open,
			(unsigned long long)s.tcp_fast_retrans, (unsigned long long)s.tcp_rto_retrans,
			(unsigned long long)s.tcp_rto_timeouts);
	}
	/* The queue limits ([limits], lwip-port/limits.c), the heap's
	 * high-water mark (bytes_reserved: chunks are never given back) and
	 * the frames held for a full inter-shard ring (fwd_held). A
	 * table of its own, headed "shard heap_reserved", so readers of the
	 * table above stop at its header. */
	fprintf(f, "%-5s %13s %9s %9s %11s %11s %9s\n", "shard", "heap_reserved", "nd6_drop", "arp_drop",
		"reass_drop", "ooseq_drop", "fwd_held");
	for (unsigned i = 0; st != NULL && i < st->p.nshards; i++) {
		struct mlw_shard_stats s;

		if (mlw_stack_stats(st, i, &s) != 0)
			continue;
		fprintf(f, "%-5u %13llu %9llu %9llu %11llu %11llu %9llu\n", i,
			(unsigned long long)s.alloc.bytes_reserved,
			(unsigned long long)s.lim_nd6_queue_drops, (unsigned long long)s.lim_arp_queue_drops,
			(unsigned long long)s.lim_reass_drops, (unsigned long long)s.lim_ooseq_drops,
			(unsigned long long)s.fwd_held);
	}
	/* Inter-shard rings: only those that carried (or dropped) a frame;
	 * rows named "A->B", so the tables above stop at the header. */
	if (st != NULL)
		print_rings(st, f);
	/* One line per port, from the port's own counters (rte_eth_stats_get):
	 * what it carried, and what it lost before any shard saw it (no room:
	 * rx_missed; no mbuf to receive into: rx_nombuf). Rows are named
	 * "portN", never a bare number, so readers of the shard table above
	 * (tests, bench/run.py) stop at the header. */
	if (st == NULL || st->p.nports == 0)
		return;
	fprintf(f, "%-5s %-16s %10s %10s %13s %13s %9s %9s %9s %9s\n", "port", "driver",
		"rx_pkts", "tx_pkts", "rx_bytes", "tx_bytes", "rx_missed", "rx_nombuf",
		"rx_errors", "tx_errors");
	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		const struct mlw_port *port = &st->ports[pi];
		char name[16];

		snprintf(name, sizeof(name), "port%u", pi);
		if (port->afp != NULL) {
			print_afp_port(st, port, name, f);
			continue;
		}
#if MLW_RT_DPDK
		struct rte_eth_stats es;
		int rc = -ENODEV;

		if (port->started)
			rc = rte_eth_stats_get(port->port_id, &es);
		if (rc != 0) {
			fprintf(f, "%-5s %-16s %s\n", name, port->caps.driver,
				port->started ? "no counters" : "not started");
			continue;
		}
		fprintf(f, "%-5s %-16s %10llu %10llu %13llu %13llu %9llu %9llu %9llu %9llu\n",
			name, port->caps.driver, (unsigned long long)es.ipackets,
			(unsigned long long)es.opackets, (unsigned long long)es.ibytes,
			(unsigned long long)es.obytes, (unsigned long long)es.imissed,
			(unsigned long long)es.rx_nombuf, (unsigned long long)es.ierrors,
			(unsigned long long)es.oerrors);
#else
		fprintf(f, "%-5s %-16s %s\n", name, port->caps.driver, "no counters");
#endif
	}
}

unsigned mlw_stack_check_heaps(const struct mlw_stack *st, FILE *f)
{
	unsigned bad = 0;

	for (unsigned i = 0; st != NULL && i < st->p.nshards; i++) {
		struct mlw_shard_stats s = {0};	/* filled as uint64_t words: GCC cannot tell */

		if (mlw_stack_stats(st, i, &s) != 0 || s.alloc_fini_rc == 0)
			continue;
		bad++;
		if (f != NULL)
			fprintf(f, "shard %u: heap not empty at stop: %llu bytes in %llu objects\n", i,
				(unsigned long long)s.alloc.bytes_in_use,
				(unsigned long long)s.alloc.objects_in_use);
	}
	return bad;
}

void mlw_stack_destroy(struct mlw_stack *st)
{
	struct mlw__stack_params *p;

	if (st == NULL)
		return;
	mlw__telemetry_stop(st);
	capture_finish(st);
#if MLW_RT_DPDK
	mlw__capture_destroy(st->capture);
#endif
	for (unsigned pi = 0; pi < st->p.nports; pi++)
		mlw__port_close(&st->ports[pi]);
	mlw__idle_quiesce(st);
	for (unsigned i = 0; i < st->p.nshards; i++) {
		struct mlw_shard *sh = st->shards[i];

		if (sh == NULL)
			continue;
		for (unsigned s = 0; s < st->p.nshards; s++)
			mlw__ring_free(sh->inbox[s]);
		free_pool(sh);
		mlw__idle_destroy(sh);
		mlw__rt_free(sh, sizeof(*sh));
	}
	p = st->eal_params;
	mlw__rt_free(st, sizeof(*st));
	mlw__rt_fini();
	free(p);
}
