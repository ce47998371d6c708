/* shard.c - one shard's life: its lwIP instance and netifs, the run-to-completion loop, and teardown.
 *
 * Loop pass: timer settle -> sys_check_timeouts -> rx_queues (-> capture, when on) -> steer
 *            -> (own: pbuf -> netif->input | other: ring) -> inbox rings
 *            -> TX flush -> idle policy (back-off, or idle.c's sleep).
 * Stop:      abort_connections -> application fini -> close_left_open
 *            (descriptors the application did not close) -> teardown
 *            (listeners, UDP, netifs, lwIP's timers and tables, rings)
 *            -> the heap's check (mlw_alloc_thread_fini).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"

#include "mlwip/alloc.h"
#include "mlwip/lwip_shard.h"
#include "mlwip/socket.h"
#include "mlw_limits.h"
#include "mlw_lwip_hooks.h"
#include "mlw_syn_cookie.h"
#include "mlw_tcp_table.h"
#include "tcp_recovery_private.h"
#include "stack_private.h"
#include "tsan_private.h"

#define RING_BURST 64

/* The shard the calling thread runs, for mlw_shard_id() and the raw-API
 * helpers. Thread-local: each shard thread has its own. */
static _Thread_local struct mlw_shard *current_shard;

int mlw_shard_id(void)
{
	return current_shard ? (int)current_shard->id : -1;
}

struct mlw_shard *mlw__current_shard(void);
struct mlw_shard *mlw__current_shard(void)
{
	return current_shard;
}

/*
 * lwIP's checksum checks for one received frame: the netif's own, less the
 * ones the port did. MLW_FRAME_CK_GOOD means the port verified the
 * checksum, _NONE that it verified the data some other way (the field
 * itself may be wrong, e.g. virtio or a veth from the same host); both make
 * lwIP's check redundant. The port checks TCP and UDP only, never ICMP.
 * Returns -1 if the port found a checksum wrong.
 */
static int frame_cksum_flags(const struct mlw_netif_state *ns, const mlw__frame_t *m)
{
	uint16_t flags = ns->cksum_flags;
	enum mlw__frame_ck ip = mlw__frame_ck_ip(m), l4 = mlw__frame_ck_l4(m);

	if (ip == MLW_FRAME_CK_BAD || l4 == MLW_FRAME_CK_BAD)
		return -1;
	if (ip != MLW_FRAME_CK_UNKNOWN)
		flags &= (uint16_t)~NETIF_CHECKSUM_CHECK_IP;
	if (l4 != MLW_FRAME_CK_UNKNOWN)
		flags &= (uint16_t)~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
	return flags;
}

/* @p pool: the shard whose frame pool @p m is from (the receiving shard's:
 * an RX queue fills from its shard's pool, a forwarded frame or ARP/ND copy
 * comes from the sender's). */
static void input_frame(struct mlw_shard *sh, mlw__frame_t *m, unsigned pool)
{
	const struct mlw_netif_state *ns;
	struct netif *nif;
	struct pbuf *p;
	int flags = -2;

	if (m->port >= sh->stack->p.nports) {
		mlw__frame_free(m);
		sh->stats.rx_drops++;
		return;
	}
	nif = &sh->netif[m->port];
	ns = &sh->nst[m->port];
	/* A trusted link ignores what the port says: its peer does not fill
	 * checksums in. Otherwise a frame the port found wrong is dropped
	 * here rather than spend lwIP's time on it. */
	if (!ns->trust_cksum && unlikely(mlw__frame_ck_any(m))) {
		flags = frame_cksum_flags(ns, m);
		if (flags < 0) {
			mlw__frame_free(m);
			sh->rx_cksum_flagged++;
			return;
		}
	}
	/* Every shard sees ARP and neighbour solicitations, one answers. */
	if (!sh->neigh_responder && mlw__neigh_quiet(m)) {
		mlw__frame_free(m);
		return;
	}
	p = mlw__frame_to_pbuf(m, pool);
	if (p == NULL) {
		sh->stats.rx_drops++;
		return;
	}
	/* netif->input runs the frame through lwIP before it returns, so the
	 * flags apply to this frame only; the netif's own are put back for
	 * the next one and for lwIP's loopback queue. */
	if (flags >= 0)
		NETIF_SET_CHECKSUM_CTRL(nif, (uint16_t)flags);
	if (nif->input(p, nif) != ERR_OK) {
		pbuf_free(p);
		sh->stats.rx_drops++;
	}
	if (flags >= 0)
		NETIF_SET_CHECKSUM_CTRL(nif, ns->cksum_flags);
}

/* Put @p m on the ring to shard @p owner, counted per ring (sent, the
 * fullest it was). False if the ring was full. */
static bool ring_put(struct mlw_shard *sh, unsigned owner, mlw__frame_t *m)
{
	struct mlw__ring_counts *rc = &sh->ring[owner];
	unsigned waiting;

	if (!mlw__ring_put(sh->outbox[owner], m, &waiting))
		return false;
	rc->sent++;
	if (unlikely(waiting + 1 > rc->peak))
		rc->peak = waiting + 1;
	return true;
}

/* A frame for shard @p owner lost: freed, counted per ring and per shard. */
static void ring_drop(struct mlw_shard *sh, unsigned owner, mlw__frame_t *m)
{
	mlw__frame_free(m);
	sh->ring[owner].dropped++;
	sh->stats.fwd_drops++;
}

/* fwd_hold.h's put and release, for the held frames. */
static bool hold_put(void *ctx, unsigned owner, void *frame)
{
	struct mlw_shard *sh = ctx;

	if (!ring_put(sh, owner, frame))
		return false;
	sh->stats.fwd_out++;
	return true;
}

static void hold_drop(void *ctx, unsigned owner, void *frame)
{
	ring_drop(ctx, owner, frame);
}

/* @p to: the shards a frame was put on the ring of, for wake_owners().
 * A full ring (or frames for @p owner already waiting) holds the frame
 * (fwd_hold.h: the shard stops reading its RX queues until it has gone). */
static void forward(struct mlw_shard *sh, unsigned owner, mlw__frame_t *m, uint64_t *to)
{
	if (likely(!mlw__fwd_hold_blocks(&sh->hold, owner)) && ring_put(sh, owner, m)) {
		*to |= UINT64_C(1) << owner;
		sh->stats.fwd_out++;
		return;
	}
	if (mlw__fwd_hold_empty(&sh->hold))
		sh->hold_tsc = mlw__rt_ticks();
	if (!mlw__fwd_hold_add(&sh->hold, owner, m)) {
		ring_drop(sh, owner, m);
		return;
	}
	sh->stats.fwd_held++;
}

/* Before reading the RX queues: send what the hold has that now fits.
 * Frames held longer than MLW_FWD_HOLD_MS (their owner does not drain its
 * ring: it is stopped, or starved of its core) are dropped, so that this
 * shard's own traffic does not wait on another shard for long. */
static void hold_release(struct mlw_shard *sh, uint64_t *to, unsigned *work)
{
	*work += mlw__fwd_hold_retry(&sh->hold, hold_put, sh, to);
	if (mlw__fwd_hold_empty(&sh->hold))
		return;
	if (mlw__rt_ticks() - sh->hold_tsc > sh->tsc_hz / 1000 * MLW_FWD_HOLD_MS)
		(void)mlw__fwd_hold_flush(&sh->hold, hold_drop, sh);
	else
		(*work)++;	/* not idle: the hold waits on another shard */
}

static void fan_out(struct mlw_shard *sh, mlw__frame_t *m, uint64_t *to)
{
	for (unsigned s = 0; s < sh->stack->p.nshards; s++) {
		mlw__frame_t *c;

		if (s == sh->id)
			continue;
		c = mlw__frame_copy(m, sh->pool);
		if (c == NULL) {
			sh->stats.fwd_drops++;
			continue;
		}
		if (!ring_put(sh, s, c)) {
			ring_drop(sh, s, c);
			continue;
		}
		*to |= UINT64_C(1) << s;
		sh->stats.fanout++;
	}
}

/* idle = interrupt: once per burst, wake the shards given frames that
 * sleep (idle_private.h: the fence, then the flag; a system call only
 * for a sleeping shard). @p to has a bit per shard. */
_Static_assert(MLW_MAX_SHARDS_INTERNAL <= 64, "wake_owners() takes a 64-bit mask of shards");
static void wake_owners(struct mlw_shard *sh, uint64_t to)
{
	if (sh->stack->p.idle != MLW_IDLE_INTERRUPT)
		return;
	while (to != 0) {
		unsigned s = (unsigned)__builtin_ctzll(to);

		to &= to - 1;
		mlw__idle_forwarded(&sh->stack->shards[s]->idle);
	}
}

static unsigned poll_rx(struct mlw_shard *sh)
{
	struct mlw_stack *st = sh->stack;
	mlw__frame_t *pkts[512];
	unsigned work = 0;
	uint64_t to = 0;

	if (unlikely(!mlw__fwd_hold_empty(&sh->hold))) {
		hold_release(sh, &to, &work);
		if (to != 0) {
			wake_owners(sh, to);
			to = 0;
		}
	}
	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		uint16_t n;

		/* Backpressure: a frame still held for a full ring stops the
		 * reading (fwd_hold.h); the port's queue keeps the rest
		 * meanwhile. */
		if (unlikely(!mlw__fwd_hold_empty(&sh->hold)))
			break;
		n = mlw__port_rx_burst(&st->ports[pi], (uint16_t)sh->id, pkts,
						(uint16_t)st->p.burst);

		work += n;
		/* Captured as the port gave them: before ACK coalescing and
		 * steering, so a frame forwarded to its owner is captured
		 * once, by the shard that received it. */
#if MLW_RT_DPDK
		if (n > 0 && mlw__capture_on(&sh->cap))
			mlw__capture_rx(&sh->cap, st->ports[pi].port_id, pkts, n);
		if (n > 1) {
			uint64_t bytes = 0;
			uint16_t left = mlw__rx_coalesce_acks(pkts, n, &bytes);

			/* Taken from the queue all the same: counted as received. */
			sh->stats.rx_pkts += (uint16_t)(n - left);
			sh->stats.rx_bytes += bytes;
			sh->stats.rx_acks_coalesced += (uint16_t)(n - left);
			n = left;
		}
#endif	/* without DPDK: no capture (rte_pcapng), no ACK coalescing yet
	   (dpdk-netif/acks.c parses with DPDK's headers) */
		for (uint16_t i = 0; i < n; i++) {
			mlw__frame_t *m = pkts[i];
			int owner;

			if (i + 1 < n)
				__builtin_prefetch(mlw__frame_data(pkts[i + 1]));
			sh->stats.rx_pkts++;
			sh->stats.rx_bytes += mlw__frame_len(m);
			m->port = (uint16_t)pi;	/* netif index, not DPDK port id */
			owner = st->p.nshards > 1 ? mlw__steer_owner(&st->rss, m, st->ports[pi].steer_how) :
						    MLW_STEER_LOCAL;
			if (owner == MLW_STEER_ALL)
				fan_out(sh, m, &to);
			else if (owner >= 0 && (unsigned)owner != sh->id) {
				forward(sh, (unsigned)owner, m, &to);
				continue;
			}
			input_frame(sh, m, sh->id);
		}
		if (unlikely(to != 0)) {
			wake_owners(sh, to);
			to = 0;
		}
	}
	for (unsigned s = 0; s < st->p.nshards; s++) {
		unsigned n;

		if (sh->inbox[s] == NULL)
			continue;
		n = mlw__ring_take(sh->inbox[s], (void **)pkts, RING_BURST);
		work += n;
		sh->stats.fwd_in += n;
		for (unsigned i = 0; i < n; i++)
			input_frame(sh, pkts[i], s);
	}
	return work;
}

static void idle(struct mlw_shard *sh, unsigned *idle_passes)
{
	const struct mlw__stack_params *p = &sh->stack->p;

	(*idle_passes)++;
	switch (p->idle) {
	case MLW_IDLE_POLL:
		break;
	case MLW_IDLE_BACKOFF:
		/* Spin briefly (a burst is often right behind), then yield
		 * the core with short sleeps so an idle board stays cool. */
		if (*idle_passes < 1024)
			mlw__rt_pause();
		else
			usleep(p->idle_sleep_us);
		break;
	case MLW_IDLE_SLEEP:
		usleep(p->idle_sleep_us);
		break;
	case MLW_IDLE_INTERRUPT:
		/* Its own polling period and sleep (idle.c); the re-check
		 * pass before sleeping may find work. */
		if (mlw__idle_wait(sh, 0) != 0)
			*idle_passes = 0;
		break;
	}
}

static int netifs_up(struct mlw_shard *sh)
{
	struct mlw_stack *st = sh->stack;

	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		const struct mlw__port_params *pp = &st->p.ports[pi];
		struct netif *nif = &sh->netif[pi];
		ip4_addr_t ip, mask, gw;

		sh->txq[pi].port_id = st->ports[pi].port_id;
		sh->txq[pi].queue_id = (uint16_t)sh->id;
		sh->txq[pi].cap = &sh->cap;
		sh->nst[pi].txq = &sh->txq[pi];
		sh->nst[pi].pool = sh->pool;
		sh->nst[pi].tx_cksum = st->ports[pi].caps.tx_cksum;
		sh->nst[pi].trust_cksum = pp->trust_checksums;
		sh->nst[pi].tx_zero_copy = st->ports[pi].caps.tx_zero_copy;
		sh->nst[pi].port = &st->ports[pi];
		ip.addr = pp->has_ipv4 ? pp->ip4 : 0;
		mask.addr = pp->has_ipv4 ? pp->mask4 : 0;
		gw.addr = pp->has_ipv4 ? pp->gw4 : 0;
		/* Every shard has the same MAC and addresses on its netif: to
		 * the network the shards are one host. */
		memcpy(nif->hwaddr, pp->has_mac ? pp->mac : st->ports[pi].caps.mac, 6);
		nif->mtu = pp->mtu ? pp->mtu : st->ports[pi].caps.mtu;
		if (netif_add(nif, &ip, &mask, &gw, &sh->nst[pi], mlw__port_netif_init,
			      ethernet_input) == NULL)
			return -ENOMEM;
		nif->hwaddr_len = 6;
#if LWIP_IPV6
		nif->mtu6 = nif->mtu;
		/* Addresses come from the configuration only. lwIP 2.1.3's
		 * netif_add() left stateless autoconfiguration off; 2.2.1's
		 * turns it on, and a router advertisement would then add
		 * the same address on every shard. Off on both. */
		netif_set_ip6_autoconfig_enabled(nif, 0);
		netif_create_ip6_linklocal_address(nif, 1);
		if (pp->has_ipv6) {
			ip6_addr_t a;
			s8_t idx;

			memcpy(a.addr, pp->ip6, 16);
			ip6_addr_clear_zone(&a);
			if (netif_add_ip6_address(nif, &a, &idx) != ERR_OK)
				return -ENOMEM;
			/* Every shard would run duplicate address detection
			 * against the others' identical address: configured
			 * addresses are taken as preferred at once. */
			netif_ip6_addr_set_state(nif, idx, IP6_ADDR_PREFERRED);
		}
		netif_ip6_addr_set_state(nif, 0, IP6_ADDR_PREFERRED);
#endif
		if (pi == 0)
			netif_set_default(nif);
		netif_set_up(nif);
		netif_set_link_up(nif);
	}
	return 0;
}

/* Stop: end every connection first, while the application's state is
 * still alive. Each connection's error callback is called with ERR_ABRT
 * while its PCB is still valid, then the PCB is aborted without callbacks.
 * lwIP itself calls the error callback after freeing the PCB, and
 * applications that still touch the PCB there (lwIP 2.1.3's lwiperf closes
 * it; 2.2.1's no longer does) would free it twice; for applications that
 * follow lwIP's rule the two orders look the same. */
static void abort_list(struct tcp_pcb **list)
{
	struct tcp_pcb *pcb;

	while ((pcb = *list) != NULL) {
		tcp_err_fn errf = pcb->errf;

		if (errf != NULL) {
			/* The callback may close or abort the PCB itself; the
			 * loop starts again from the list head either way. */
			pcb->errf = NULL;
			errf(pcb->callback_arg, ERR_ABRT);
			continue;
		}
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_poll(pcb, NULL, 0);
		tcp_abort(pcb);
	}
}

static void abort_connections(void)
{
	abort_list(&tcp_active_pcbs);
	abort_list(&tcp_tw_pcbs);
	abort_list(&tcp_bound_pcbs);
}

/*
 * The socket layer (socket-api/fd.c) is a library above this one: a
 * program that uses it links mlw_socket_close_all(), one that uses lwIP's
 * raw API alone has no descriptors. The weak reference resolves to the
 * socket layer's function when it is linked and to NULL otherwise, without
 * making this library depend on it.
 */
#pragma weak mlw_socket_close_all

/*
 * Stop, after the application's fini and before lwIP's teardown: close
 * every descriptor the application left open on the shard (connections,
 * listeners, UDP sockets, epoll instances), as the kernel does for a
 * process that exits. The connections' PCBs are gone already
 * (abort_connections() ran before fini), so what is freed here is the
 * socket layer's own: sockets, their unread data and accept queues, epoll
 * instances, the descriptor table; listeners and UDP PCBs are closed
 * through their sockets. Without this a forgotten descriptor, e.g. an idle
 * edge-triggered connection that epoll never reported, leaves its blocks
 * on the shard heap and the stop reports "heap not empty". The count is
 * logged once, so that the application's author sees it.
 */
static void close_left_open(struct mlw_shard *sh)
{
	int n = mlw_socket_close_all != NULL ? mlw_socket_close_all() : 0;

	if (n <= 0)
		return;
	sh->stats.fds_closed_at_stop += (uint64_t)n;
	fprintf(stderr, "shard %u: closed %d descriptor%s the application left open\n", sh->id, n,
		n == 1 ? "" : "s");
}

/* lwIP has no deinit: after the application's fini, close the listeners,
 * remove the netifs and timers, free what the rings still hold, so the
 * shard heap ends empty. */
static void teardown(struct mlw_shard *sh)
{
	struct mlw_stack *st = sh->stack;
	mlw__frame_t *m;

	abort_connections();	/* anything the application's fini opened */
	while (tcp_listen_pcbs.listen_pcbs != NULL)
		tcp_close((struct tcp_pcb *)tcp_listen_pcbs.listen_pcbs);
	while (udp_pcbs != NULL)
		udp_remove(udp_pcbs);
	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		mlw__txq_flush(&sh->txq[pi]);
		netif_remove(&sh->netif[pi]);
	}
	mlw_lwip_teardown();
	for (unsigned s = 0; s < st->p.nshards; s++)
		while (sh->inbox[s] != NULL && mlw__ring_take(sh->inbox[s], (void **)&m, 1) == 1)
			mlw__frame_free(m);
	(void)mlw__fwd_hold_flush(&sh->hold, hold_drop, sh);
	for (unsigned pi = 0; pi < st->p.nports; pi++) {
		struct mlw_txq *q = &sh->txq[pi];

		for (uint16_t i = 0; i < q->n; i++)
			mlw__frame_free(q->pkts[i]);
		for (uint16_t i = 0; i < q->nacks; i++)
			mlw__frame_free(q->acks[i]);
		q->tx_drops += q->n + q->nacks;
		q->n = q->nacks = 0;
		q->ack_slots = 0;
	}
}

static void collect_stats(struct mlw_shard *sh)
{
	struct mlw_shard_stats *s = &sh->stats;
	struct mlw_input_guard_stats g;
	struct mlw__limits_stats l;
	struct mlw_syn_cookie_stats sc;
	struct mlw_tcp_timer_stats tt;
	struct mlw_tcp_recovery_stats rs;

	s->tx_pkts = s->tx_bytes = s->tx_drops = 0;
	for (unsigned pi = 0; pi < sh->stack->p.nports; pi++) {
		s->tx_pkts += sh->txq[pi].tx_pkts;
		s->tx_bytes += sh->txq[pi].tx_bytes;
		s->tx_drops += sh->txq[pi].tx_drops;
	}
#if MIB2_STATS
	s->tcp_active_opens = lwip_stats.mib2.tcpactiveopens;
	s->tcp_passive_opens = lwip_stats.mib2.tcppassiveopens;
	s->tcp_resets = lwip_stats.mib2.tcpoutrsts;
	s->tcp_retrans = lwip_stats.mib2.tcpretranssegs;
#endif
	mlw__tcp_timer_stats(&tt);	/* lwip-port/tcp_timer.c */
	mlw__tcp_recovery_stats(&rs);	/* lwip-port/tcp_recovery.c */
	/* tcpRetransSegs counts lwIP's fast retransmit, loss recovery's
	 * retransmissions and the data segments resent after a timeout. */
	s->tcp_rto_retrans = rs.rto_rexmits;
	s->tcp_fast_retrans = s->tcp_retrans >= rs.rto_rexmits ? s->tcp_retrans - rs.rto_rexmits : 0;
	s->tcp_rto_timeouts = tt.rto_fired;
	s->tcp_accepts = tt.accepts;
	s->rx_copied = mlw__rx_copied();
	s->rx_cksum_drops = sh->rx_cksum_flagged;
#if LWIP_STATS
	/* lwIP's own verification, where the port did not check. */
	s->rx_cksum_drops += lwip_stats.ip.chkerr + lwip_stats.tcp.chkerr + lwip_stats.udp.chkerr +
			     lwip_stats.icmp.chkerr + lwip_stats.icmp6.chkerr;
#endif
	mlw_alloc_stats(&s->alloc);
	mlw__input_guard_stats(&g);
	s->rx_tcp_opts_cut = g.rx_tcp_opts_cut;
	s->rx_tcp_noack_drops = g.rx_tcp_noack_drops;
	s->rx_nd_drops = g.rx_nd_drops;
	s->rx_tcp_tw_syn_reopens = g.rx_tcp_tw_syn_reopens;
	s->rx_tcp_tw_rst_kills = g.rx_tcp_tw_rst_kills;
	s->tx_tcp_rst_replies = mlw__tcp_rst_rewritten();
	mlw__syn_cookie_stats(&sc);	/* lwip-port/syn_cookie.c */
	s->syncookies_sent = sc.sent;
	s->syncookies_ok = sc.ok;
	s->syncookies_failed = sc.failed;
	s->syn_drops = sc.syn_drops + sc.ack_drops;
	/* A valid cookie runs a synthetic SYN through tcp_listen_input(),
	 * which counts a passive open for a PCB that is never half-open. */
	s->tcp_half_open = s->tcp_passive_opens >= sc.ok ? s->tcp_passive_opens - sc.ok : 0;
	s->tcp_conns = mlw__tcp_table_active_count();
	s->tcp_time_wait = mlw__tcp_table_tw_count();
	mlw__limits_stats(&l);
	s->lim_nd6_queue_drops = l.nd6_queue_drops;
	s->lim_arp_queue_drops = l.arp_queue_drops;
	s->lim_reass_drops = l.reass_drops;
	s->lim_ooseq_drops = l.ooseq_drops;
}

void mlw__shard_publish(struct mlw_shard *sh)
{
	const uint64_t *src = (const uint64_t *)&sh->stats;

	_Static_assert(sizeof(struct mlw_shard_stats) % sizeof(uint64_t) == 0, "stats are 64-bit words");
	for (size_t i = 0; i < sizeof(sh->stats) / sizeof(uint64_t); i++)
		atomic_store_explicit(&sh->pub.v[i], src[i], memory_order_relaxed);
	for (unsigned d = 0; d < sh->stack->p.nshards; d++) {
		atomic_store_explicit(&sh->pub.ring_sent[d], sh->ring[d].sent, memory_order_relaxed);
		atomic_store_explicit(&sh->pub.ring_dropped[d], sh->ring[d].dropped, memory_order_relaxed);
		atomic_store_explicit(&sh->pub.ring_peak[d], sh->ring[d].peak, memory_order_relaxed);
	}
}

/* One pass of the run loop, without the idle policy: timers (settled,
 * then fired when due), RX and inbox rings, TX flush, stats publication.
 * Returns the frames handled. */
unsigned mlw__shard_pass(struct mlw_shard *sh)
{
	struct mlw_stack *st = sh->stack;
	uint64_t now = mlw__rt_ticks();
	unsigned work;

	/* Timers of the connections touched since the last pass: those the
	 * last pass received on and those the application has written to
	 * since (lwip-port/tcp_timer.c reads what lwIP changed). Settled, and
	 * the timers fired, here at the start of a pass rather than after
	 * its receive, so a request the application has answered in between
	 * is seen with its ACK gone out with the answer: no delayed-ACK
	 * deadline to place on the wheel and visit later, one arm() per
	 * connection for both. Whatever arm() or a timer sends goes out in
	 * this pass's flush. */
	mlw__tcp_timer_settle();
	/* lwIP's timers have millisecond resolution: look at them once a
	 * millisecond, not on every pass. */
	if (now - sh->timer_tsc >= sh->tsc_hz / 1000) {
		sys_check_timeouts();
		sh->timer_tsc = now;
		if (now - sh->tw_tsc >= sh->tsc_hz / 100) {
			mlw__tw_trim(sh);
			sh->tw_tsc = now;
		}
	}
	work = poll_rx(sh);
	/* Frames a shard sent to its own addresses (lwIP's loopback queue). */
	netif_poll_all();
	for (unsigned pi = 0; pi < st->p.nports; pi++)
		work += mlw__txq_flush(&sh->txq[pi]);
	sh->stats.loops++;
	/* Counted here rather than in idle(), so that passes run through
	 * mlw_shard_poll() (epoll waits, attached threads) count too. */
	if (work == 0)
		sh->stats.idle_loops++;
	/* A connection listing asked by a telemetry reader (conns.c): here,
	 * between receive and the next pass, lwIP's lists are quiet. */
	mlw__conns_poll(sh);
	if (now - sh->last_publish_tsc >= sh->tsc_hz / 10) {
		collect_stats(sh);
		mlw__shard_publish(sh);
		sh->last_publish_tsc = now;
	}
	if (work != 0)
		mlw__idle_busy(&sh->idle);
	return work;
}

int mlw_shard_poll(void)
{
	if (current_shard == NULL)
		return -EPERM;
	return (int)mlw__shard_pass(current_shard);
}

int mlw_shard_max_sockets(void)
{
	if (current_shard == NULL)
		return -EPERM;
	return (int)current_shard->stack->p.max_sockets;
}

int mlw_shard_tcp_bufs(uint32_t *rcvbuf, uint32_t *sndbuf)
{
	if (current_shard == NULL)
		return -EPERM;
	*rcvbuf = current_shard->stack->p.tcp_rcvbuf;
	*sndbuf = current_shard->stack->p.tcp_sndbuf;
	return 0;
}

/* lwip-port/syn_cookie.c's settings: the shard's [stack] syncookies,
 * syn_backlog and syn_timeout_ms (overrides the weak default there). */
void mlw__syn_cookie_settings(struct mlw_syn_cookie_settings *s)
{
	if (current_shard == NULL)
		return;
	s->mode = current_shard->stack->p.syncookies;
	s->backlog = current_shard->stack->p.syn_backlog;
	s->timeout_ms = current_shard->stack->p.syn_timeout_ms;
}

int mlw_shard_stopping(void)
{
	if (current_shard == NULL)
		return -EPERM;
	return atomic_load_explicit(&current_shard->stack->stop, memory_order_relaxed) != 0;
}

/* Record the first failed start as mlw_stack_run()'s result and stop every shard. */
static void start_failed(struct mlw_stack *st, int rc)
{
	int expected = 0;

	atomic_compare_exchange_strong(&st->init_rc, &expected, rc);
	mlw_stack_stop(st);
}

int mlw__shard_main(void *arg)
{
	struct mlw_shard *sh = arg;
	struct mlw_stack *st = sh->stack;
	unsigned idle_passes = 0;
	bool app_started;
	int rc;

	MLW_TSAN_ACQUIRE(sh);	/* mlw_stack_run() released it before the launch */
	current_shard = sh;
	sh->tsc_hz = mlw__rt_hz();
	rc = mlw_alloc_thread_init(sh->node);
	/* The cap is set before lwIP starts, so that everything the shard
	 * allocates counts against it. */
	if (rc == 0 || rc == -EEXIST)
		rc = mlw_alloc_set_limit(st->p.heap_limit);
	if (rc != 0) {
		/* Without its heap the shard cannot run: stop the others too,
		 * or mlw_stack_run() would wait for them forever. */
		start_failed(st, rc);
		goto out;
	}
	mlw__rx_zc_setup(sh->id, st->p.zc_own, st->p.zc_fwd);
	mlw__frame_pool_own(sh->pool);	/* its frees without atomics (frame.h) */
	sh->neigh_responder = st->rss.reta[0] == sh->id;
	lwip_init();
	mlw__limits_apply(&sh->stack->p.limits);
	rc = netifs_up(sh);
	/* No application code starts once the stack is stopping (a shard
	 * failed to start or launch, or the application stopped it); fini
	 * runs only where init did. */
	app_started = rc == 0 && !atomic_load_explicit(&st->stop, memory_order_relaxed);
	/* Before the application: its blocking calls run the loop too. */
	if (rc == 0)
		mlw__idle_start(sh);
	if (app_started && st->init != NULL)
		rc = st->init(sh->id, st->init_arg);
	if (rc != 0)
		start_failed(st, rc);
	while (!atomic_load_explicit(&st->stop, memory_order_relaxed)) {
		if (mlw__shard_pass(sh) == 0)
			idle(sh, &idle_passes);
		else
			idle_passes = 0;
	}
	abort_connections();
	if (app_started && st->fini != NULL)
		st->fini(sh->id, st->init_arg);
	close_left_open(sh);
	mlw__idle_stop(sh);
	teardown(sh);
	collect_stats(sh);
	sh->stats.alloc_fini_rc = mlw_alloc_thread_fini(&sh->stats.alloc);
	mlw__shard_publish(sh);
	mlw__frame_pool_own(NULL);
out:
	current_shard = NULL;
	MLW_TSAN_RELEASE(st);	/* acquired after mlw__rt_wait() */
	return rc;
}

/*
 * A shard on a thread that runs its own loop (attach.c): the start and the
 * end of mlw__shard_main() without the loop between them, which the
 * thread drives through mlw_shard_poll() and the blocking socket calls.
 * No init or fini function runs here: the thread is the application.
 */
int mlw__shard_attach(struct mlw_shard *sh)
{
	int rc;

	current_shard = sh;
	sh->tsc_hz = mlw__rt_hz();
	rc = mlw_alloc_thread_init(sh->node);
	if (rc == 0 || rc == -EEXIST)
		rc = mlw_alloc_set_limit(sh->stack->p.heap_limit);
	if (rc != 0) {
		current_shard = NULL;
		return rc;
	}
	mlw__rx_zc_setup(sh->id, sh->stack->p.zc_own, sh->stack->p.zc_fwd);
	mlw__frame_pool_own(sh->pool);
	sh->neigh_responder = sh->stack->rss.reta[0] == sh->id;
	lwip_init();
	mlw__limits_apply(&sh->stack->p.limits);
	rc = netifs_up(sh);
	if (rc != 0)
		start_failed(sh->stack, rc);
	else
		mlw__idle_start(sh);
	return rc;
}

void mlw__shard_detach(struct mlw_shard *sh)
{
	abort_connections();
	close_left_open(sh);
	mlw__idle_stop(sh);
	teardown(sh);
	collect_stats(sh);
	sh->stats.alloc_fini_rc = mlw_alloc_thread_fini(&sh->stats.alloc);
	mlw__shard_publish(sh);
	mlw__frame_pool_own(NULL);
	current_shard = NULL;
}
