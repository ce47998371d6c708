/* telemetry.c - the stack's commands on DPDK's telemetry socket: per-shard counters, ports, configuration, connection listings.
 *
 * DPDK's telemetry library (rte_telemetry, on unless the EAL gets
 * --no-telemetry) listens on <runtime dir>/dpdk_telemetry.v2, a
 * SOCK_SEQPACKET socket (/var/run/dpdk/<file-prefix>/ as root,
 * $XDG_RUNTIME_DIR/dpdk/<file-prefix>/ otherwise) and answers each
 * command from a thread of its own. The commands registered here:
 *
 *   /mlwip/info               version, lwIP and DPDK versions, uptime, shards
 *   /mlwip/config             shards, cores, ports and addresses, [stack] values
 *   /mlwip/stats              every counter, one array of per-shard values each
 *   /mlwip/shard,N            every counter of shard N, by name
 *   /mlwip/ports              per-port counters (rte_eth_stats), one array each
 *   /mlwip/port,N             port N: rte_eth_stats and every xstat by name
 *   /mlwip/conns              per shard, connections by state (a fresh listing)
 *   /mlwip/conns,S[,SNAP,I]   shard S's listing from entry I (columns), SNAP
 *                             naming the listing that an earlier page began
 *
 * Counters are the copies the shards publish every 100 ms with relaxed
 * stores (mlw_stack_stats()): a reader never touches a shard's live state
 * and never makes it wait. A listing is asked of the shard (conns.c) and
 * answered by it between two loop passes.
 *
 * DPDK 22.11's callbacks take no argument of ours, and mlwip keeps no
 * mutable global (tests/shared-nothing): the stack is found through a
 * DPDK memzone holding its address (one stack per process).
 *
 * A telemetry reply is at most 16 KiB of JSON, a dict at most 256 names,
 * an array 512 values, and containers hold arrays of numbers or strings
 * only: hence the columns, and a listing served in pages of CONNS_PAGE.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_memzone.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "lwip/init.h"

#include "engine.h"
#include "stack_private.h"

#define TEL_MZ		"mlw_telemetry"
#define CONNS_PAGE	64	/* entries per reply: IPv6 pages stay under 16 KiB */
#define CONNS_WAIT_MS	1000	/* a shard's answer to a listing request */
#define XSTATS_MAX	200	/* xstats per port reply (a dict holds 256 names) */

#ifndef MLW_VERSION_STRING
#define MLW_VERSION_STRING "unknown"
#endif

/* Every counter of struct mlw_shard_stats, by the name the replies use. */
#define STAT(f) { #f, offsetof(struct mlw_shard_stats, f) }
#define ASTAT(f) { "heap_" #f, offsetof(struct mlw_shard_stats, alloc.f) }
static const struct stat_field {
	const char *name;
	size_t off;
} stat_fields[] = {
	STAT(rx_pkts), STAT(rx_bytes), STAT(tx_pkts), STAT(tx_bytes), STAT(rx_drops),
	STAT(rx_copied), STAT(tx_drops), STAT(fwd_out), STAT(fwd_in), STAT(fwd_drops),
	STAT(fanout), STAT(tcp_active_opens), STAT(tcp_passive_opens), STAT(tcp_resets),
	STAT(tcp_retrans), STAT(tcp_tw_reused), STAT(tcp_tw_dropped), STAT(loops),
	STAT(idle_loops), ASTAT(bytes_in_use), ASTAT(objects_in_use), ASTAT(bytes_reserved),
	ASTAT(allocs), ASTAT(frees), ASTAT(failures), ASTAT(bytes_limit), ASTAT(os_maps),
	ASTAT(os_unmaps), STAT(rx_cksum_drops), STAT(rx_acks_coalesced), STAT(rx_tcp_opts_cut),
	STAT(rx_tcp_noack_drops), STAT(rx_nd_drops), STAT(tx_tcp_rst_replies),
	STAT(rx_tcp_tw_syn_reopens), STAT(rx_tcp_tw_rst_kills), STAT(syncookies_sent),
	STAT(syncookies_ok), STAT(syncookies_failed), STAT(syn_drops), STAT(tcp_conns),
	STAT(tcp_time_wait), STAT(fds_closed_at_stop), STAT(lim_nd6_queue_drops),
	STAT(lim_arp_queue_drops), STAT(lim_reass_drops), STAT(lim_ooseq_drops), STAT(tcp_accepts),
	STAT(tcp_half_open), STAT(tcp_fast_retrans), STAT(tcp_rto_retrans), STAT(tcp_rto_timeouts),
	STAT(fwd_held),
};
#define NSTAT_FIELDS (sizeof(stat_fields) / sizeof(stat_fields[0]))
/* A counter added to struct mlw_shard_stats must be added above (the one
 * non-counter, alloc_fini_rc, takes one 8-byte slot). */
_Static_assert(sizeof(struct mlw_shard_stats) == (NSTAT_FIELDS + 1) * sizeof(uint64_t),
	       "stat_fields lists every counter of struct mlw_shard_stats");

static uint64_t stat_of(const struct mlw_shard_stats *s, const struct stat_field *f)
{
	uint64_t v;

	memcpy(&v, (const char *)s + f->off, sizeof(v));
	return v;
}

static struct mlw_stack *the_stack(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup(TEL_MZ);
	if (mz == NULL)
		return NULL;
	return __atomic_load_n((struct mlw_stack **)mz->addr, __ATOMIC_ACQUIRE);
}

static int tel_error(struct rte_tel_data *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tel_error(struct rte_tel_data *d, const char *fmt, ...)
{
	char msg[RTE_TEL_MAX_STRING_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

/* A decimal number from the start of @p s (advanced past it); -1 if none. */
static long parse_num(const char **s)
{
	char *end;
	long v;

	while (**s == ' ' || **s == ',' || **s == ';')
		(*s)++;
	if (**s < '0' || **s > '9')
		return -1;
	v = strtol(*s, &end, 10);
	*s = end;
	return v;
}

#define TEL_REPLY_MAX	15000	/* bytes of JSON a reply may take (DPDK 22.11: 16 KiB) */

static size_t digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* The length of /mlwip/stats' JSON for these counters, about. */
static size_t stats_json_len(const struct mlw_shard_stats *s, unsigned n)
{
	size_t len = 64;

	for (size_t f = 0; f < NSTAT_FIELDS; f++) {
		len += strlen(stat_fields[f].name) + 6;
		for (unsigned i = 0; i < n; i++)
			len += digits(stat_of(&s[i], &stat_fields[f])) + 1;
	}
	return len + 16 + 4 * n;	/* idle_pct */
}

static unsigned idle_pct(const struct mlw_shard_stats *s)
{
	return s->loops ? (unsigned)(s->idle_loops * 100 / s->loops) : 0;
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw_stack *st = the_stack();
	struct mlw_shard_stats s[MLW_MAX_SHARDS_INTERNAL];
	unsigned n;

	(void)cmd;
	(void)params;
	if (st == NULL)
		return tel_error(d, "no stack");
	n = st->p.nshards;
	for (unsigned i = 0; i < n; i++)
		if (mlw_stack_stats(st, i, &s[i]) != 0)
			memset(&s[i], 0, sizeof(s[i]));
	/* Too many shards for one reply (DPDK cuts it at 16 KiB): the
	 * reader asks /mlwip/shard,N for each instead. */
	if (stats_json_len(s, n) > TEL_REPLY_MAX)
		return tel_error(d, "%u shards do not fit one reply: ask /mlwip/shard,N for each", n);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "nshards", n);
	for (size_t f = 0; f < NSTAT_FIELDS; f++) {
		struct rte_tel_data *a = rte_tel_data_alloc();

		if (a == NULL)
			return -ENOMEM;
		rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
		for (unsigned i = 0; i < n; i++)
			rte_tel_data_add_array_u64(a, stat_of(&s[i], &stat_fields[f]));
		rte_tel_data_add_dict_container(d, stat_fields[f].name, a, 0);
	}
	{
		struct rte_tel_data *a = rte_tel_data_alloc();

		if (a == NULL)
			return -ENOMEM;
		rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
		for (unsigned i = 0; i < n; i++)
			rte_tel_data_add_array_u64(a, idle_pct(&s[i]));
		rte_tel_data_add_dict_container(d, "idle_pct", a, 0);
	}
	return 0;
}

static int cmd_shard(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw_stack *st = the_stack();
	struct mlw_shard_stats s;
	const char *p = params ? params : "";
	long id = parse_num(&p);

	(void)cmd;
	if (st == NULL)
		return tel_error(d, "no stack");
	if (id < 0 || (unsigned long)id >= st->p.nshards)
		return tel_error(d, "usage: /mlwip/shard,N with N in 0..%u", st->p.nshards - 1);
	if (mlw_stack_stats(st, (unsigned)id, &s) != 0)
		return tel_error(d, "no counters for shard %ld", id);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "shard", (uint64_t)id);
	for (size_t f = 0; f < NSTAT_FIELDS; f++)
		rte_tel_data_add_dict_u64(d, stat_fields[f].name, stat_of(&s, &stat_fields[f]));
	rte_tel_data_add_dict_u64(d, "idle_pct", idle_pct(&s));
	return 0;
}

/* /mlwip/rings[,FROM]: the inter-shard rings that carried or dropped a
 * frame (all senders, or shard FROM's), as arrays of equal length. */
static int cmd_rings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const names[] = { "from", "to", "sent", "dropped", "peak", "size" };
	struct mlw_stack *st = the_stack();
	struct rte_tel_data *a[6];
	const char *p = params ? params : "";
	unsigned lo = 0, hi, n = 0;

	(void)cmd;
	if (st == NULL)
		return tel_error(d, "no stack");
	hi = st->p.nshards;
	if (*p != '\0') {
		long from = parse_num(&p);

		if (from < 0 || (unsigned long)from >= st->p.nshards)
			return tel_error(d, "usage: /mlwip/rings[,FROM] with FROM in 0..%u", st->p.nshards - 1);
		lo = (unsigned)from;
		hi = lo + 1;
	}
	for (unsigned x = lo; x < hi; x++)
		for (unsigned y = 0; y < st->p.nshards; y++) {
			struct mlw_ring_stats r;

			if (mlw_stack_ring_stats(st, x, y, &r) == 0 && (r.sent != 0 || r.dropped != 0))
				n++;
		}
	/* Six numbers of at most 20 digits per ring. */
	if ((size_t)n * 6 * 21 + 128 > TEL_REPLY_MAX)
		return tel_error(d, "%u rings do not fit one reply: ask /mlwip/rings,FROM for each shard", n);
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < 6; i++) {
		a[i] = rte_tel_data_alloc();
		if (a[i] == NULL) {
			while (i-- > 0)
				rte_tel_data_free(a[i]);
			return -ENOMEM;
		}
		rte_tel_data_start_array(a[i], RTE_TEL_U64_VAL);
	}
	for (unsigned x = lo; x < hi; x++)
		for (unsigned y = 0; y < st->p.nshards; y++) {
			struct mlw_ring_stats r;

			if (mlw_stack_ring_stats(st, x, y, &r) != 0 || (r.sent == 0 && r.dropped == 0))
				continue;
			rte_tel_data_add_array_u64(a[0], x);
			rte_tel_data_add_array_u64(a[1], y);
			rte_tel_data_add_array_u64(a[2], r.sent);
			rte_tel_data_add_array_u64(a[3], r.dropped);
			rte_tel_data_add_array_u64(a[4], r.peak);
			rte_tel_data_add_array_u64(a[5], r.size);
		}
	for (unsigned i = 0; i < 6; i++)
		rte_tel_data_add_dict_container(d, names[i], a[i], 0);
	return 0;
}

static const char *idle_name(enum mlw_idle_policy p)
{
	switch (p) {
	case MLW_IDLE_POLL:
		return "poll";
	case MLW_IDLE_BACKOFF:
		return "backoff";
	case MLW_IDLE_SLEEP:
		return "sleep";
	case MLW_IDLE_INTERRUPT:
		return "interrupt";
	}
	return "?";
}

static int cmd_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw_stack *st = the_stack();

	(void)cmd;
	(void)params;
	if (st == NULL)
		return tel_error(d, "no stack");
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", MLW_VERSION_STRING);
	rte_tel_data_add_dict_string(d, "lwip_version", LWIP_VERSION_STRING);
	rte_tel_data_add_dict_string(d, "dpdk_version", rte_version());
	rte_tel_data_add_dict_u64(d, "pid", (uint64_t)getpid());
	rte_tel_data_add_dict_u64(d, "uptime_ms", (rte_rdtsc() - st->create_tsc) * 1000 / rte_get_tsc_hz());
	rte_tel_data_add_dict_u64(d, "nshards", st->p.nshards);
	rte_tel_data_add_dict_u64(d, "nports", st->p.nports);
	rte_tel_data_add_dict_u64(d, "running", atomic_load_explicit(&st->ran, memory_order_relaxed) &&
						 !atomic_load_explicit(&st->stop, memory_order_relaxed));
	rte_tel_data_add_dict_string(d, "runtime_dir", rte_eal_get_runtime_dir());
	return 0;
}

static struct rte_tel_data *u64_array(void)
{
	struct rte_tel_data *a = rte_tel_data_alloc();

	if (a != NULL)
		rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
	return a;
}

static struct rte_tel_data *str_array(void)
{
	struct rte_tel_data *a = rte_tel_data_alloc();

	if (a != NULL)
		rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
	return a;
}

static void port_addr(const struct mlw__port_params *pp, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	size_t o = 0;

	out[0] = '\0';
	if (pp->has_ipv4) {
		struct in_addr in = { pp->ip4 }, gw = { pp->gw4 };
		int bits = __builtin_popcount(pp->mask4);

		inet_ntop(AF_INET, &in, a, sizeof(a));
		inet_ntop(AF_INET, &gw, g, sizeof(g));
		o += (size_t)snprintf(out + o, len - o, "%s/%d", a, bits);
		if (pp->gw4 != 0 && o < len)
			o += (size_t)snprintf(out + o, len - o, " gw %s", g);
	}
	if (pp->has_ipv6 && o < len) {
		inet_ntop(AF_INET6, pp->ip6, a, sizeof(a));
		snprintf(out + o, len - o, "%s%s/%u", o ? " " : "", a, pp->prefix6);
	}
}

static int cmd_config(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw_stack *st = the_stack();
	struct rte_tel_data *cores, *addrs, *drivers, *macs;
	const struct mlw__stack_params *p;

	(void)cmd;
	(void)params;
	if (st == NULL)
		return tel_error(d, "no stack");
	p = &st->p;
	cores = u64_array();
	addrs = str_array();
	drivers = str_array();
	macs = str_array();
	if (cores == NULL || addrs == NULL || drivers == NULL || macs == NULL) {
		rte_tel_data_free(cores);
		rte_tel_data_free(addrs);
		rte_tel_data_free(drivers);
		rte_tel_data_free(macs);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < p->nshards; i++)
		rte_tel_data_add_array_u64(cores, p->cores[i]);
	for (unsigned pi = 0; pi < p->nports; pi++) {
		const uint8_t *m = p->ports[pi].has_mac ? p->ports[pi].mac : st->ports[pi].caps.mac;
		char buf[RTE_TEL_MAX_STRING_LEN];

		port_addr(&p->ports[pi], buf, sizeof(buf));
		rte_tel_data_add_array_string(addrs, buf);
		rte_tel_data_add_array_string(drivers, st->ports[pi].caps.driver);
		snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		rte_tel_data_add_array_string(macs, buf);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "nshards", p->nshards);
	rte_tel_data_add_dict_container(d, "cores", cores, 0);
	rte_tel_data_add_dict_u64(d, "nports", p->nports);
	rte_tel_data_add_dict_container(d, "port_addresses", addrs, 0);
	rte_tel_data_add_dict_container(d, "port_drivers", drivers, 0);
	rte_tel_data_add_dict_container(d, "port_macs", macs, 0);
	rte_tel_data_add_dict_string(d, "idle", idle_name(p->idle));
	rte_tel_data_add_dict_u64(d, "idle_sleep_us", p->idle_sleep_us);
	rte_tel_data_add_dict_u64(d, "burst", p->burst);
	rte_tel_data_add_dict_u64(d, "ring_size", p->ring_size);
	rte_tel_data_add_dict_u64(d, "syncookies", p->syncookies);
	rte_tel_data_add_dict_u64(d, "syn_backlog", p->syn_backlog);
	rte_tel_data_add_dict_u64(d, "syn_timeout_ms", p->syn_timeout_ms);
	rte_tel_data_add_dict_u64(d, "max_sockets", p->max_sockets);
	rte_tel_data_add_dict_u64(d, "max_time_wait", p->max_time_wait);
	rte_tel_data_add_dict_u64(d, "tcp_rcvbuf", p->tcp_rcvbuf);
	rte_tel_data_add_dict_u64(d, "tcp_sndbuf", p->tcp_sndbuf);
	rte_tel_data_add_dict_u64(d, "local_port_lo", p->port_lo);
	rte_tel_data_add_dict_u64(d, "local_port_hi", p->port_hi);
	rte_tel_data_add_dict_u64(d, "heap_limit_bytes", p->heap_limit);
	rte_tel_data_add_dict_u64(d, "rx_desc", p->rx_desc);
	rte_tel_data_add_dict_u64(d, "tx_desc", p->tx_desc);
	rte_tel_data_add_dict_u64(d, "mbufs_per_shard", p->pool_mbufs);
	rte_tel_data_add_dict_u64(d, "mbuf_cache", p->mbuf_cache);
	rte_tel_data_add_dict_string(d, "runtime_dir", rte_eal_get_runtime_dir());
	return 0;
}

/* The rte_eth_stats fields every reply names. */
#define ETH_FIELDS(X) X(ipackets) X(opackets) X(ibytes) X(obytes) X(imissed) X(ierrors) X(oerrors) X(rx_nombuf)

/* A kernel engine port's counters in rte_eth_stats' names, as the stats
 * table prints them (stack.c, print_afp_port): imissed what the kernel
 * dropped (the shards are asked for it: up to idle_wait_ms + 50 ms). */
static void afp_eth_stats(const struct mlw_stack *st, struct mlw_port *port, struct rte_eth_stats *es)
{
	struct mlw__afp_counters c;
	bool running = atomic_load(&st->ran) && !atomic_load(&st->stop);

	mlw__afp_engine_read(port->afp, running, st->p.idle_wait_ms + 50, &c);
	memset(es, 0, sizeof(*es));
	es->ipackets = c.rx_pkts;
	es->opackets = c.tx_pkts;
	es->ibytes = c.rx_bytes;
	es->obytes = c.tx_bytes;
	es->imissed = c.rx_kernel_drops;
	es->rx_nombuf = c.rx_nombuf;
	es->ierrors = c.rx_too_big;
	es->oerrors = c.tx_rejected + c.tx_flush_errors;
}

static int cmd_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw_stack *st = the_stack();
	struct rte_tel_data *drv;
	struct rte_eth_stats es[MLW_MAX_PORTS_INTERNAL];

	(void)cmd;
	(void)params;
	if (st == NULL)
		return tel_error(d, "no stack");
	drv = str_array();
	if (drv == NULL)
		return -ENOMEM;
	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		if (st->ports[pi].afp != NULL)
			afp_eth_stats(st, &st->ports[pi], &es[pi]);
		else if (!st->ports[pi].started || rte_eth_stats_get(st->ports[pi].port_id, &es[pi]) != 0)
			memset(&es[pi], 0, sizeof(es[pi]));
		rte_tel_data_add_array_string(drv, st->ports[pi].caps.driver);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "nports", st->p.nports);
	rte_tel_data_add_dict_container(d, "driver", drv, 0);
#define ETH_COL(f)                                                                    \
	{                                                                             \
		struct rte_tel_data *a = u64_array();                                 \
		if (a == NULL)                                                        \
			return -ENOMEM;                                               \
		for (unsigned pi = 0; pi < st->p.nports; pi++)                       \
			rte_tel_data_add_array_u64(a, es[pi].f);                      \
		rte_tel_data_add_dict_container(d, #f, a, 0);                         \
	}
	ETH_FIELDS(ETH_COL)
#undef ETH_COL
	return 0;
}

static int cmd_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw_stack *st = the_stack();
	const char *p = params ? params : "";
	long pi = parse_num(&p);
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *xs = NULL;
	struct rte_eth_stats es;
	uint16_t id;
	int n;

	(void)cmd;
	if (st == NULL)
		return tel_error(d, "no stack");
	if (pi < 0 || (unsigned long)pi >= st->p.nports)
		return tel_error(d, "usage: /mlwip/port,N with N in 0..%u", st->p.nports - 1);
	if (st->ports[pi].afp != NULL) {
		/* A kernel engine port: its counters, no DPDK port or xstats. */
		struct mlw__afp_counters c;
		bool running = atomic_load(&st->ran) && !atomic_load(&st->stop);

		afp_eth_stats(st, &st->ports[pi], &es);
		mlw__afp_engine_read(st->ports[pi].afp, running, 0, &c);
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_u64(d, "port", (uint64_t)pi);
		rte_tel_data_add_dict_string(d, "driver", st->ports[pi].caps.driver);
#define ETH_VAL(f) rte_tel_data_add_dict_u64(d, #f, es.f);
		ETH_FIELDS(ETH_VAL)
#undef ETH_VAL
		rte_tel_data_add_dict_u64(d, "tx_full", c.tx_full);
		rte_tel_data_add_dict_u64(d, "rx_vlan", c.rx_vlan);
		return 0;
	}
	id = st->ports[pi].port_id;
	if (!st->ports[pi].started || rte_eth_stats_get(id, &es) != 0)
		return tel_error(d, "port %ld: not started", pi);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "port", (uint64_t)pi);
	rte_tel_data_add_dict_u64(d, "dpdk_port_id", id);
	rte_tel_data_add_dict_string(d, "driver", st->ports[pi].caps.driver);
#define ETH_VAL(f) rte_tel_data_add_dict_u64(d, #f, es.f);
	ETH_FIELDS(ETH_VAL)
#undef ETH_VAL
	n = rte_eth_xstats_get_names(id, NULL, 0);
	if (n <= 0)
		return 0;
	names = calloc((size_t)n, sizeof(*names));
	xs = calloc((size_t)n, sizeof(*xs));
	if (names != NULL && xs != NULL && rte_eth_xstats_get_names(id, names, (unsigned)n) == n &&
	    rte_eth_xstats_get(id, xs, (unsigned)n) == n) {
		for (int i = 0; i < n && i < XSTATS_MAX; i++) {
			char name[RTE_ETH_XSTATS_NAME_SIZE];

			if (xs[i].id >= (uint64_t)n)
				continue;
			/* DPDK refuses names with other characters than
			 * letters, digits and '_' (some drivers use '-'). */
			snprintf(name, sizeof(name), "%s", names[xs[i].id].name);
			for (char *c = name; *c != '\0'; c++)
				if (!isalnum((unsigned char)*c) && *c != '_')
					*c = '_';
			rte_tel_data_add_dict_u64(d, name, xs[i].value);
		}
		if (n > XSTATS_MAX)
			rte_tel_data_add_dict_u64(d, "xstats_not_shown", (uint64_t)(n - XSTATS_MAX));
	}
	free(names);
	free(xs);
	return 0;
}

static const char *state_name(const struct mlw__conn *c)
{
	static const char *const names[] = {
		"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECV", "ESTAB", "FIN-WAIT-1", "FIN-WAIT-2",
		"CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
	};

	if (c->proto == MLW_CONN_UDP)
		return "UNCONN";
	return c->state < sizeof(names) / sizeof(names[0]) ? names[c->state] : "?";
}

static void endpoint(const struct mlw__conn *c, const uint8_t *a, uint16_t port, char *out, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	if (c->flags & MLW_CONN_V6) {
		inet_ntop(AF_INET6, a, s, sizeof(s));
		snprintf(out, len, "[%s]:%u", s, port);
	} else {
		inet_ntop(AF_INET, a, s, sizeof(s));
		snprintf(out, len, "%s:%u", s, port);
	}
}

static const char *conns_error(int rc)
{
	switch (rc) {
	case -EBUSY:
		return "another reader holds the listing";
	case -ETIMEDOUT:
		return "the shard did not answer within 1 s (stopped, not started, or busy in the application)";
	case -ESTALE:
		return "that listing was replaced: ask for a new one";
	case -ENOMEM:
		return "no listing buffer";
	}
	return "failed";
}

/* /mlwip/conns: per shard, the listing's entries by state. */
static int conns_summary(struct mlw_stack *st, struct rte_tel_data *d)
{
	enum { NCOL = 13 };
	/* DPDK takes names of letters, digits and '_' only: lwIP's state names. */
	static const char *const cols[NCOL] = {
		"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2",
		"CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT", "UDP", "truncated",
	};
	uint64_t cnt[NCOL][MLW_MAX_SHARDS_INTERNAL];
	struct rte_tel_data *errs = str_array();

	if (errs == NULL)
		return -ENOMEM;
	memset(cnt, 0, sizeof(cnt));
	for (unsigned s = 0; s < st->p.nshards; s++) {
		struct mlw_shard *sh = st->shards[s];
		unsigned snap = 0;
		int rc = mlw__conns_take(sh, &snap, CONNS_WAIT_MS);

		rte_tel_data_add_array_string(errs, rc == 0 ? "" : conns_error(rc));
		if (rc != 0)
			continue;
		for (uint32_t i = 0; i < sh->conns.n; i++) {
			const struct mlw__conn *c = &sh->conns.e[i];

			cnt[c->proto == MLW_CONN_UDP ? 11 : c->state <= 10 ? c->state : 0][s]++;
		}
		cnt[12][s] = sh->conns.truncated;
		mlw__conns_release(sh);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "nshards", st->p.nshards);
	for (unsigned k = 0; k < NCOL; k++) {
		struct rte_tel_data *a = u64_array();

		if (a == NULL) {
			rte_tel_data_free(errs);
			return -ENOMEM;
		}
		for (unsigned s = 0; s < st->p.nshards; s++)
			rte_tel_data_add_array_u64(a, cnt[k][s]);
		rte_tel_data_add_dict_container(d, cols[k], a, 0);
	}
	rte_tel_data_add_dict_container(d, "error", errs, 0);
	return 0;
}

static int cmd_conns(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw_stack *st = the_stack();
	const char *p = params ? params : "";
	struct rte_tel_data *col[8];
	static const char *const col_names[8] = {
		"proto", "state", "local", "remote", "send_q", "recv_q", "rexmits", "flags",
	};
	long shard, snap_arg, start;
	struct mlw_shard *sh;
	unsigned snap;
	uint32_t n, end;
	int rc;

	(void)cmd;
	if (st == NULL)
		return tel_error(d, "no stack");
	shard = parse_num(&p);
	if (shard < 0)
		return conns_summary(st, d);
	snap_arg = parse_num(&p);
	start = parse_num(&p);
	if ((unsigned long)shard >= st->p.nshards)
		return tel_error(d, "usage: /mlwip/conns[,SHARD[,SNAPSHOT,START]], SHARD in 0..%u",
				 st->p.nshards - 1);
	if (snap_arg < 0)
		snap_arg = 0;
	if (start < 0 || snap_arg == 0)
		start = 0;
	sh = st->shards[shard];
	snap = (unsigned)snap_arg;
	rc = mlw__conns_take(sh, &snap, CONNS_WAIT_MS);
	if (rc != 0)
		return tel_error(d, "shard %ld: %s", shard, conns_error(rc));
	n = sh->conns.n;
	end = (uint32_t)start + CONNS_PAGE < n ? (uint32_t)start + CONNS_PAGE : n;
	for (int k = 0; k < 8; k++) {
		col[k] = k == 0 || k == 1 || k == 2 || k == 3 ? str_array() : u64_array();
		if (col[k] == NULL) {
			for (int j = 0; j < k; j++)
				rte_tel_data_free(col[j]);
			mlw__conns_release(sh);
			return -ENOMEM;
		}
	}
	for (uint32_t i = (uint32_t)start; i < end; i++) {
		const struct mlw__conn *c = &sh->conns.e[i];
		char buf[64];

		rte_tel_data_add_array_string(col[0], c->proto == MLW_CONN_UDP ? "udp" : "tcp");
		rte_tel_data_add_array_string(col[1], state_name(c));
		endpoint(c, c->laddr, c->lport, buf, sizeof(buf));
		rte_tel_data_add_array_string(col[2], buf);
		endpoint(c, c->raddr, c->rport, buf, sizeof(buf));
		rte_tel_data_add_array_string(col[3], buf);
		rte_tel_data_add_array_u64(col[4], c->send_q);
		rte_tel_data_add_array_u64(col[5], c->recv_q);
		rte_tel_data_add_array_u64(col[6], c->nrtx);
		rte_tel_data_add_array_u64(col[7], c->flags);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "shard", (uint64_t)shard);
	rte_tel_data_add_dict_u64(d, "snapshot", snap);
	rte_tel_data_add_dict_u64(d, "total", n);
	rte_tel_data_add_dict_u64(d, "truncated", sh->conns.truncated);
	rte_tel_data_add_dict_u64(d, "start", (uint64_t)start);
	rte_tel_data_add_dict_u64(d, "next", end < n ? end : 0);
	mlw__conns_release(sh);
	for (int k = 0; k < 8; k++)
		rte_tel_data_add_dict_container(d, col_names[k], col[k], 0);
	return 0;
}

int mlw__telemetry_start(struct mlw_stack *st)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/mlwip/info", cmd_info, "mlwip: versions, uptime, shards. No parameters" },
		{ "/mlwip/config", cmd_config, "mlwip: shards, cores, ports, addresses, [stack] values. No parameters" },
		{ "/mlwip/stats", cmd_stats, "mlwip: every counter, an array of per-shard values each. No parameters" },
		{ "/mlwip/shard", cmd_shard, "mlwip: every counter of one shard. Parameter: shard" },
		{ "/mlwip/rings", cmd_rings,
		  "mlwip: inter-shard rings that carried frames: from, to, sent, dropped, peak, size. Parameter: FROM (optional)" },
		{ "/mlwip/ports", cmd_ports, "mlwip: per-port counters, an array of per-port values each. No parameters" },
		{ "/mlwip/port", cmd_port, "mlwip: one port's counters and xstats. Parameter: port (0..nports-1)" },
		{ "/mlwip/conns", cmd_conns,
		  "mlwip: connections. No parameter: counts by state per shard; SHARD[,SNAPSHOT,START]: "
		  "a page of that shard's listing" },
	};
	const struct rte_memzone *mz;

	st->create_tsc = rte_rdtsc();
	for (unsigned i = 0; i < st->p.nshards; i++) {
		int rc = mlw__conns_alloc(st->shards[i]);

		if (rc != 0)
			return rc;
	}
	mz = rte_memzone_lookup(TEL_MZ);
	if (mz == NULL)
		mz = rte_memzone_reserve(TEL_MZ, sizeof(st), SOCKET_ID_ANY, 0);
	if (mz == NULL)
		return -ENOMEM;
	__atomic_store_n((struct mlw_stack **)mz->addr, st, __ATOMIC_RELEASE);
	st->tel_mz = mz;
	/* The EAL keeps a command once registered (no way to remove one):
	 * a second stack in the same process (never, EAL init is once) would
	 * be refused here and the first registration serve it all the same. */
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help);
	return 0;
}

/* Before the stack is freed: new commands find no stack; a listing being
 * formatted holds its shard's buffer (busy), which is freed once taken
 * here (a reader that found the stack just before may still be reading
 * its counters: the EAL gives no way to wait for its telemetry threads). */
void mlw__telemetry_stop(struct mlw_stack *st)
{
	if (st->tel_mz != NULL) {
		__atomic_store_n((struct mlw_stack **)st->tel_mz->addr, NULL, __ATOMIC_RELEASE);
		rte_memzone_free(st->tel_mz);
		st->tel_mz = NULL;
	}
	for (unsigned i = 0; i < st->p.nshards; i++) {
		struct mlw_shard *sh = st->shards[i];
		int expected = 0;

		if (sh == NULL || sh->conns.e == NULL)
			continue;
		for (unsigned t = 0; t < 2000 && !atomic_compare_exchange_weak(&sh->conns.busy, &expected, 1); t++) {
			expected = 0;
			rte_delay_us_sleep(1000);
		}
		mlw__conns_free(sh);
	}
}
