/* lwip_pair.c - two lwIP endpoints on an in-memory Ethernet link, and a verified TCP transfer between them.
 *
 * One pass of the run loop (stack_poll), per lwIP instance:
 *   ep_rx_burst -> pbuf_alloc + copy -> netif->input (ethernet_input -> ip4_input/ip6_input
 *     -> tcp_input -> conn_recv / conn_sent / ep_accept)
 *   conn_pump -> tcp_write + tcp_output -> etharp_output/ethip6_output -> ep_linkoutput -> ring
 *   sys_check_timeouts
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "lwip_pair.h"
#include "mlwip/lwip_shard.h"

/* ---- Link: one SPSC ring of frame slots per direction ---- */

#define LINK_SLOT_SIZE	2048u
#define LINK_FRAME_MAX	(LINK_SLOT_SIZE - 16u)
/* Small enough to stay in cache (256 KiB per direction): a ring large
 * enough for a whole 2 MiB window (4096 slots) measured about half as
 * fast, in both modes. A full ring costs little,
 * because ep_linkoutput() then refuses the frame with ERR_MEM and lwIP
 * keeps the TCP segment queued until its next tcp_output() (stack_poll
 * calls that every pass); nothing waits for a retransmission timeout. */
#define LINK_SLOTS	128u
/* Two cache lines: Intel's adjacent-line prefetcher pulls lines in pairs,
 * so 64-byte separation still lets the producer's and the consumer's
 * indices bounce together. */
#define LINK_ALIGN	128
#define RX_BURST	64u
#define TX_CHUNK	65535u	/* one tcp_write; its length is a u16_t */
#define DEFAULT_PORT	5001

struct link_slot {
	uint32_t len;
	uint32_t reserved[3];	/* keeps frame[] 16-byte aligned for memcpy */
	uint8_t frame[LINK_FRAME_MAX];
};
_Static_assert(sizeof(struct link_slot) == LINK_SLOT_SIZE, "slot layout");
_Static_assert((LINK_SLOTS & (LINK_SLOTS - 1)) == 0, "ring size must be a power of two");

struct link_ring {
	/* Producer's line: head is written only by the producer, tail_cache is
	 * its private copy of tail, refreshed only when the ring looks full. */
	_Alignas(LINK_ALIGN) _Atomic uint32_t head;
	uint32_t tail_cache;
	/* Consumer's line, on its own so that consuming does not invalidate
	 * the line the producer writes on every frame (and vice versa). */
	_Alignas(LINK_ALIGN) _Atomic uint32_t tail;
	uint32_t head_cache;
	/* Read-only after creation. */
	_Alignas(LINK_ALIGN) struct link_slot *slots;
};
_Static_assert(offsetof(struct link_ring, tail) % LINK_ALIGN == 0, "tail on its own line");
_Static_assert(offsetof(struct link_ring, slots) % LINK_ALIGN == 0, "slots on its own line");

/* ring[0] carries server (side 0) -> client frames, ring[1] the reverse.
 * done[side] is set by a threaded endpoint when its work is finished; it
 * keeps polling until the peer's flag is set too, so that the last ACK of
 * the close is never left unanswered. */
struct pair_link {
	struct link_ring ring[2];
	_Alignas(LINK_ALIGN) _Atomic int done[2];
};

/* Producer side: is there a free slot? */
static bool ring_has_room(struct link_ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (head - r->tail_cache < LINK_SLOTS)
		return true;
	/* Pairs with the release store of tail in ring_release(): the
	 * consumer has finished reading every slot below tail before we
	 * overwrite one. */
	r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
	return head - r->tail_cache < LINK_SLOTS;
}

static struct link_slot *ring_reserve(struct link_ring *r)
{
	if (!ring_has_room(r))
		return NULL;
	return &r->slots[atomic_load_explicit(&r->head, memory_order_relaxed) & (LINK_SLOTS - 1)];
}

static void ring_publish(struct link_ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	/* Pairs with the acquire load of head in ring_peek(): the frame
	 * written into the slot is visible before the consumer sees it. */
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

static struct link_slot *ring_peek(struct link_ring *r)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (tail == r->head_cache) {
		/* Pairs with the release store of head in ring_publish(). */
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail == r->head_cache)
			return NULL;
	}
	return &r->slots[tail & (LINK_SLOTS - 1)];
}

static void ring_release(struct link_ring *r)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	/* Pairs with the acquire load of tail in ring_reserve(). */
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

static void link_free(struct pair_link *link)
{
	if (link == NULL)
		return;
	free(link->ring[0].slots);
	free(link->ring[1].slots);
	free(link);
}

/* Links are shared by two threads, so they come from libc, not from a
 * shard heap (a shard may only free what it allocated itself). */
static struct pair_link *link_new(void)
{
	struct pair_link *link = aligned_alloc(LINK_ALIGN, sizeof(*link));

	if (link == NULL)
		return NULL;
	memset(link, 0, sizeof(*link));
	for (int i = 0; i < 2; i++) {
		link->ring[i].slots = aligned_alloc(LINK_ALIGN, (size_t)LINK_SLOTS * LINK_SLOT_SIZE);
		if (link->ring[i].slots == NULL) {
			link_free(link);
			return NULL;
		}
	}
	return link;
}

/* ---- The byte pattern ---- */

static uint64_t mix64(uint64_t x)
{
	/* splitmix64's finaliser: every input bit affects every output bit,
	 * so a byte at the wrong offset, in the wrong direction or from the
	 * wrong pair does not match by accident. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t pattern_seed(unsigned pair, int dir)
{
	return mix64(0x6d6c776970000000ull ^ ((uint64_t)pair << 1) ^ (uint64_t)(dir & 1));
}

static uint64_t pattern_word(uint64_t seed, uint64_t word)
{
	return mix64(seed + word * 0x9e3779b97f4a7c15ull);
}

static uint8_t pattern_byte(uint64_t seed, uint64_t offset)
{
	return (uint8_t)(pattern_word(seed, offset >> 3) >> (8 * (offset & 7)));
}

static void pattern_fill_seed(uint8_t *p, size_t len, uint64_t offset, uint64_t seed)
{
	for (; len > 0 && (offset & 7); len--)
		*p++ = pattern_byte(seed, offset++);
	for (; len >= 8; len -= 8, p += 8, offset += 8) {
		/* Byte k of a word belongs at offset 8w + k on every host. */
		uint64_t v = htole64(pattern_word(seed, offset >> 3));

		memcpy(p, &v, 8);
	}
	for (; len > 0; len--)
		*p++ = pattern_byte(seed, offset++);
}

void mlw_pair_pattern_fill(void *buf, size_t len, uint64_t offset, unsigned pair, int dir)
{
	pattern_fill_seed(buf, len, offset, pattern_seed(pair, dir));
}

uint64_t mlw_pair_pattern_check(const void *buf, size_t len, uint64_t offset, unsigned pair, int dir)
{
	const uint8_t *p = buf;
	uint64_t seed = pattern_seed(pair, dir), bad = 0;
	uint8_t expect[1024];

	while (len > 0) {
		size_t n = len < sizeof(expect) ? len : sizeof(expect);

		pattern_fill_seed(expect, n, offset, seed);
		/* memcmp first: the common case is a match, and only a
		 * mismatching block is counted byte by byte. */
		if (memcmp(p, expect, n) != 0) {
			for (size_t i = 0; i < n; i++)
				bad += p[i] != expect[i];
		}
		p += n;
		offset += n;
		len -= n;
	}
	return bad;
}

/* ---- Time and idling ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield");
#endif
}

static void sleep_ns(long ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };

	nanosleep(&ts, NULL);
}

/* Nothing arrived: spin briefly (the next frame is usually a few hundred
 * nanoseconds away), then give the CPU to other shard threads (there may
 * be more of them than cores), then sleep so an idle stack does not burn
 * a core while it only waits for timers. */
static void idle_backoff(unsigned idle)
{
	if (idle < 64)
		cpu_relax();
	else if (idle < 4096)
		sched_yield();
	else
		sleep_ns(50000);
}


/* ---- Endpoints and connections ---- */

struct pair_conn {
	struct pair_endpoint *ep;
	struct tcp_pcb *pcb;	/* NULL once closed or failed: lwIP owns it then */
	uint64_t total;
	uint64_t tx_written, tx_acked, rx_bytes, mismatches;
	uint64_t done_ns;	/* when both directions were complete: all received, all acked */
	int err;		/* 0 or -errno */
	bool connected, closed;
};

struct pair_endpoint {
	struct netif netif;
	struct pair_stack *st;
	struct link_ring *tx, *rx;
	int side;
	unsigned pair;
	bool netif_added;
	int setup_err;
	ip_addr_t addr, peer_addr;
	struct tcp_pcb *listener;
	struct pair_conn conn;
	struct mlw_pair_result *res;
	uint8_t txbuf[TX_CHUNK];
};

/* Start gate of a threaded run: every thread brings its stack up, then
 * waits until all have; the main thread opens (1) or aborts (-1) it. */
struct run_gate {
	_Atomic unsigned arrived;
	_Atomic int state;
};

/* One lwIP instance: one endpoint (threaded) or both (same thread). */
struct pair_stack {
	struct pair_endpoint *ep[2];
	unsigned nep;
	const struct mlw_pair_opts *opts;
	struct pair_link *link;
	struct run_gate *gate;
	uint64_t start_ns, deadline_ns, heap_peak;
};

static const uint8_t pair_mac[2][ETH_HWADDR_LEN] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },	/* locally administered */
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 },
};
static const char *const pair_ip4[2] = { "10.0.0.1", "10.0.0.2" };
static const char *const pair_ip6[2] = { "fd00::1", "fd00::2" };

static int err_to_errno(err_t err)
{
	switch (err) {
	case ERR_OK:	return 0;
	case ERR_MEM:	return -ENOMEM;
	case ERR_RST:	return -ECONNRESET;
	case ERR_ABRT:	return -ECONNABORTED;
	case ERR_CLSD:	return -ENOTCONN;
	case ERR_TIMEOUT: return -ETIMEDOUT;
	case ERR_RTE:	return -EHOSTUNREACH;
	case ERR_USE:	return -EADDRINUSE;
	default:	return -EIO;
	}
}

static err_t ep_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct pair_endpoint *ep = netif->state;
	struct link_slot *slot;

	if (p->tot_len > LINK_FRAME_MAX) {
		ep->res->tx_dropped++;
		return ERR_IF;
	}
	slot = ring_reserve(ep->tx);
	if (slot == NULL) {
		/* Neither wait for the peer (two senders could wait on each
		 * other's full rings) nor drain our own RX ring (that would
		 * re-enter lwIP from inside its output path). ERR_MEM makes
		 * tcp_output keep the segment queued for its next call. */
		ep->res->tx_dropped++;
		return ERR_MEM;
	}
	slot->len = pbuf_copy_partial(p, slot->frame, p->tot_len, 0);
	ring_publish(ep->tx);
	ep->res->frames_tx++;
	return ERR_OK;
}

static unsigned ep_rx_burst(struct pair_endpoint *ep)
{
	unsigned n;

	for (n = 0; n < RX_BURST; n++) {
		struct link_slot *slot = ring_peek(ep->rx);
		struct pbuf *p = NULL;

		if (slot == NULL)
			break;
		if (slot->len <= LINK_FRAME_MAX) {
			p = pbuf_alloc(PBUF_RAW, (u16_t)slot->len, PBUF_RAM);
			if (p != NULL)
				pbuf_take(p, slot->frame, (u16_t)slot->len);
		}
		ring_release(ep->rx);
		if (p == NULL) {
			ep->res->rx_dropped++;
			continue;
		}
		ep->res->frames_rx++;
		if (ep->netif.input(p, &ep->netif) != ERR_OK)
			pbuf_free(p);
	}
	return n;
}

static err_t ep_netif_init(struct netif *netif)
{
	struct pair_endpoint *ep = netif->state;

	netif->name[0] = 'p';
	netif->name[1] = (char)('0' + ep->side);
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = ep_linkoutput;
	netif->mtu = 1500;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, pair_mac[ep->side], ETH_HWADDR_LEN);
	/* MLD6: join the solicited-node groups of our IPv6 addresses, which
	 * is how a peer's neighbour solicitation gets accepted. */
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_LINK_UP | NETIF_FLAG_MLD6;
	/* Frames are copied in memory and cannot be corrupted, so checksums
	 * may be skipped; by default they are not, so the real path runs. */
	if (ep->st->opts->no_checksum)
		NETIF_SET_CHECKSUM_CTRL(netif, NETIF_CHECKSUM_DISABLE_ALL);
	return ERR_OK;
}

static void conn_note_done(struct pair_conn *c)
{
	if (c->done_ns == 0 && c->tx_acked >= c->total && c->rx_bytes >= c->total)
		c->done_ns = now_ns();
}

static void conn_write(struct pair_conn *c)
{
	struct pair_endpoint *ep = c->ep;

	while (c->tx_written < c->total) {
		uint64_t n = c->total - c->tx_written;
		u32_t room = tcp_sndbuf(c->pcb), mss = tcp_mss(c->pcb);
		err_t err;

		/* Whole segments only, except for the very end of the stream:
		 * with Nagle off (see conn_attach) every write would otherwise
		 * end in a small segment. */
		if (n > room)
			n = room - room % mss;
		if (n > TX_CHUNK)
			n = TX_CHUNK - TX_CHUNK % mss;
		if (n == 0)
			break;
		mlw_pair_pattern_fill(ep->txbuf, n, c->tx_written, ep->pair, ep->side);
		err = tcp_write(c->pcb, ep->txbuf, (u16_t)n, TCP_WRITE_FLAG_COPY);
		if (err == ERR_MEM)
			break;	/* queue full or heap short: retry on a later pass */
		if (err != ERR_OK) {
			c->err = err_to_errno(err);
			break;
		}
		c->tx_written += n;
	}
}

static err_t conn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct pair_conn *c = arg;
	struct pair_endpoint *ep = c->ep;

	if (p == NULL) {
		/* The peer closes only after it has received everything we
		 * sent and sent everything itself, so an early FIN means it
		 * gave up. */
		if (c->rx_bytes < c->total && c->err == 0)
			c->err = -EIO;
		return ERR_OK;
	}
	if (err == ERR_OK) {
		for (struct pbuf *q = p; q != NULL; q = q->next) {
			c->mismatches += mlw_pair_pattern_check(q->payload, q->len, c->rx_bytes,
								ep->pair, 1 - ep->side);
			c->rx_bytes += q->len;
		}
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	conn_note_done(c);
	return ERR_OK;
}

static err_t conn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct pair_conn *c = arg;

	(void)pcb;
	c->tx_acked += len;
	/* Refill the send buffer now: tcp_input sends it when we return.
	 * (After conn_close() everything is written, and c->pcb is NULL.) */
	if (!c->closed)
		conn_write(c);
	conn_note_done(c);
	return ERR_OK;
}

static err_t conn_poll(void *arg, struct tcp_pcb *pcb)
{
	struct pair_conn *c = arg;

	/* Safety net for a write that failed with ERR_MEM while no ACK was
	 * due to call conn_sent again. */
	if (c->connected && !c->closed) {
		conn_write(c);
		tcp_output(pcb);
	}
	return ERR_OK;
}

static void conn_err(void *arg, err_t err)
{
	struct pair_conn *c = arg;

	/* lwIP has already freed the PCB. */
	c->pcb = NULL;
	if (c->err == 0)
		c->err = err != ERR_OK ? err_to_errno(err) : -EIO;
}

static void conn_attach(struct pair_conn *c, struct tcp_pcb *pcb)
{
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_recv(pcb, conn_recv);
	tcp_sent(pcb, conn_sent);
	tcp_err(pcb, conn_err);
	tcp_poll(pcb, conn_poll, 2);
	/* lwIP's tcp_output() (2.1.3, and 2.2.1 unchanged) does not send a
	 * pending immediate ACK when Nagle holds back the first unsent
	 * segment. Both ends of a bulk transfer reach that state at the
	 * end of the stream (each holds a short last segment, each owes
	 * the other an ACK) and then wait for a retransmission timeout.
	 * Writes are whole segments anyway, so Nagle has nothing to
	 * coalesce. */
	tcp_nagle_disable(pcb);
}

static void conn_detach(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
}

static err_t conn_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct pair_conn *c = arg;

	(void)pcb;
	if (err != ERR_OK)
		return err;	/* lwIP 2.1 and 2.2 always pass ERR_OK here */
	c->connected = true;
	conn_write(c);
	return ERR_OK;
}

static err_t ep_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct pair_endpoint *ep = arg;

	if (err != ERR_OK || newpcb == NULL)
		return ERR_VAL;
	/* One connection per pair; anything else is not ours. */
	if (ep->conn.pcb != NULL || ep->conn.connected) {
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	conn_attach(&ep->conn, newpcb);
	ep->conn.connected = true;
	conn_write(&ep->conn);
	return ERR_OK;
}

/* Everything received and everything written: close. The FIN follows our
 * last data, and the peer acknowledges a FIN at once, whereas it would
 * delay the ACK of a lone last segment by up to a TCP timer tick (250 ms)
 * if we waited for that ACK before closing. lwIP keeps the PCB until the
 * close handshake is done (or in TIME-WAIT). The sent callback stays to
 * count the last acknowledged bytes, the error callback to see a failure
 * after close; the receive callback goes, as nothing but the FIN can
 * arrive. */
static void conn_close(struct pair_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	tcp_recv(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	if (tcp_close(pcb) != ERR_OK) {
		/* ERR_MEM: the FIN could not be queued; try again next pass. */
		tcp_recv(pcb, conn_recv);
		return;
	}
	c->pcb = NULL;
	c->closed = true;
}

static void conn_pump(struct pair_conn *c)
{
	if (c->pcb == NULL || !c->connected || c->closed || c->err != 0)
		return;
	conn_write(c);
	if (c->tx_written == c->total && c->rx_bytes >= c->total)
		conn_close(c);
}

static int ep_connect(struct pair_endpoint *ep)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IP_GET_TYPE(&ep->addr));
	err_t err;

	if (pcb == NULL)
		return -ENOMEM;
	/* Bound to our netif: in same-thread mode both netifs share one
	 * subnet, and routing by address alone would pick the wrong one. */
	tcp_bind_netif(pcb, &ep->netif);
	err = tcp_bind(pcb, &ep->addr, 0);
	if (err == ERR_OK) {
		conn_attach(&ep->conn, pcb);
		err = tcp_connect(pcb, &ep->peer_addr, ep->st->opts->port ? ep->st->opts->port : DEFAULT_PORT,
				  conn_connected);
	}
	if (err != ERR_OK) {
		conn_detach(pcb);
		ep->conn.pcb = NULL;
		tcp_close(pcb);
		return err_to_errno(err);
	}
	return 0;
}

static int ep_listen(struct pair_endpoint *ep)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IP_GET_TYPE(&ep->addr)), *lpcb;
	err_t err;

	if (pcb == NULL)
		return -ENOMEM;
	tcp_bind_netif(pcb, &ep->netif);
	err = tcp_bind(pcb, &ep->addr, ep->st->opts->port ? ep->st->opts->port : DEFAULT_PORT);
	if (err != ERR_OK) {
		tcp_close(pcb);
		return err_to_errno(err);
	}
	lpcb = tcp_listen_with_backlog(pcb, 1);
	if (lpcb == NULL) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	ep->listener = lpcb;
	tcp_arg(lpcb, ep);
	tcp_accept(lpcb, ep_accept);
	return 0;
}

static int ep_setup(struct pair_endpoint *ep)
{
	ip4_addr_t ip, mask, gw;
	ip6_addr_t ip6;
	s8_t idx;

	ip4addr_aton(pair_ip4[ep->side], &ip);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	ip4_addr_set_zero(&gw);
	if (netif_add(&ep->netif, &ip, &mask, &gw, ep, ep_netif_init, ethernet_input) == NULL)
		return -ENOMEM;
	ep->netif_added = true;
	if (ep->st->opts->ipv6) {
		/* Skip duplicate address detection: the link has exactly two
		 * stations and we chose their addresses. */
		netif_create_ip6_linklocal_address(&ep->netif, 1);
		netif_ip6_addr_set_state(&ep->netif, 0, IP6_ADDR_PREFERRED);
		ip6addr_aton(pair_ip6[ep->side], &ip6);
		if (netif_add_ip6_address(&ep->netif, &ip6, &idx) != ERR_OK)
			return -ENOMEM;
		netif_ip6_addr_set_state(&ep->netif, idx, IP6_ADDR_PREFERRED);
		ipaddr_aton(pair_ip6[ep->side], &ep->addr);
		ipaddr_aton(pair_ip6[1 - ep->side], &ep->peer_addr);
	} else {
		ipaddr_aton(pair_ip4[ep->side], &ep->addr);
		ipaddr_aton(pair_ip4[1 - ep->side], &ep->peer_addr);
	}
	netif_set_up(&ep->netif);
	return ep->side == 0 ? ep_listen(ep) : 0;
}

/* ---- One lwIP instance: run loop and teardown ---- */

static unsigned stack_poll(struct pair_stack *st)
{
	struct mlw_alloc_stats s;
	unsigned n = 0;

	for (unsigned i = 0; i < st->nep; i++)
		n += ep_rx_burst(st->ep[i]);
	for (unsigned i = 0; i < st->nep; i++)
		conn_pump(&st->ep[i]->conn);
	/* One output pass per PCB with something pending. This also covers
	 * segments a full ring refused (lwIP keeps them queued after ERR_MEM)
	 * on PCBs we no longer drive, such as a FIN after tcp_close(). While
	 * the ring is still full, trying again would only build a segment to
	 * throw away. Every PCB is bound to its endpoint's netif. */
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next) {
		struct netif *nif = netif_get_by_index(pcb->netif_idx);

		if ((pcb->unsent != NULL || (pcb->flags & TF_ACK_NOW)) &&
		    (nif == NULL || ring_has_room(((struct pair_endpoint *)nif->state)->tx)))
			tcp_output(pcb);
	}
	sys_check_timeouts();
	if (mlw_alloc_stats(&s) == 0 && s.bytes_in_use > st->heap_peak)
		st->heap_peak = s.bytes_in_use;
	return n;
}

/* Our work is over when every connection is closed (or has failed) and no
 * PCB is still closing: then the peer has acknowledged our FIN. */
static bool stack_finished(const struct pair_stack *st)
{
	bool failed = false;

	for (unsigned i = 0; i < st->nep; i++) {
		const struct pair_conn *c = &st->ep[i]->conn;

		if (c->err != 0 || st->ep[i]->setup_err != 0)
			failed = true;
		else if (!c->closed)
			return false;
	}
	return failed || tcp_active_pcbs == NULL;
}

static bool peer_done(const struct pair_stack *st)
{
	if (st->link == NULL)
		return true;
	return atomic_load_explicit(&st->link->done[1 - st->ep[0]->side], memory_order_acquire);
}

static void set_done(struct pair_stack *st)
{
	if (st->link != NULL)
		atomic_store_explicit(&st->link->done[st->ep[0]->side], 1, memory_order_release);
}

/* Release everything lwIP holds so the shard heap ends empty. */
static int stack_teardown(struct pair_stack *st)
{

	for (unsigned i = 0; i < st->nep; i++) {
		struct pair_endpoint *ep = st->ep[i];

		if (ep->conn.pcb != NULL) {
			conn_detach(ep->conn.pcb);
			tcp_abort(ep->conn.pcb);
			ep->conn.pcb = NULL;
		}
	}
	/* After a failed run, closing PCBs may remain; after a good one, the
	 * side that closed first is in TIME-WAIT, which would hold its PCB
	 * for 2 * MSL. */
	while (tcp_active_pcbs != NULL) {
		tcp_err(tcp_active_pcbs, NULL);
		tcp_abort(tcp_active_pcbs);
	}
	while (tcp_tw_pcbs != NULL)
		tcp_abort(tcp_tw_pcbs);
	while (tcp_bound_pcbs != NULL)
		tcp_close(tcp_bound_pcbs);
	for (unsigned i = 0; i < st->nep; i++) {
		struct pair_endpoint *ep = st->ep[i];

		if (ep->listener != NULL) {
			tcp_close(ep->listener);
			ep->listener = NULL;
		}
		/* Also takes the netif down: frees ARP/ND queues and MLD groups. */
		if (ep->netif_added) {
			netif_remove(&ep->netif);
			ep->netif_added = false;
		}
	}
	/* lwIP has no deinit: remove the loopback netif lwip_init() added and
	 * free the cyclic timers and the TCP timer, so the shard heap ends with
	 * nothing in use. */
	mlw_lwip_teardown();
	if (sys_timeouts_sleeptime() != SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		return -EBUSY;
	return 0;
}

static void gate_arrive_and_wait(struct run_gate *gate)
{
	int state;

	/* Release: our netif_add happens before any thread passes the gate. */
	atomic_fetch_add_explicit(&gate->arrived, 1, memory_order_release);
	while ((state = atomic_load_explicit(&gate->state, memory_order_acquire)) == 0)
		sleep_ns(100000);
}

static void record_netifs(struct pair_stack *st)
{
	unsigned count = 0, own = 0;

	for (struct netif *n = netif_list; n != NULL; n = n->next) {
		/* lwip_init() adds this thread's own loopback netif (127.0.0.1). */
		if (n->name[0] == 'l' && n->name[1] == 'o')
			continue;
		count++;
		for (unsigned i = 0; i < st->nep; i++)
			own += n == &st->ep[i]->netif;
	}
	for (unsigned i = 0; i < st->nep; i++) {
		struct mlw_pair_result *r = st->ep[i]->res;

		r->netifs_seen = count;
		r->netif_list_is_own = count == st->nep && own == st->nep;
		r->netif_list_addr = (const void *)&netif_list;
	}
}

static void stack_results(struct pair_stack *st, int rc, uint64_t end_ns)
{
	for (unsigned i = 0; i < st->nep; i++) {
		struct pair_endpoint *ep = st->ep[i];
		struct pair_conn *c = &ep->conn;
		struct mlw_pair_result *r = ep->res;
		uint64_t done = c->done_ns != 0 ? c->done_ns : end_ns;

		r->pair = ep->pair;
		r->side = ep->side;
		r->bytes_sent = c->tx_acked;
		r->bytes_received = c->rx_bytes;
		r->mismatches = c->mismatches;
		r->elapsed_s = st->start_ns && done > st->start_ns ? (double)(done - st->start_ns) / 1e9 : 0.0;
		r->heap_peak_bytes = st->heap_peak;
		/* The root cause first: a failed connection, then a stalled
		 * run, then wrong data, then teardown trouble. */
		if (ep->setup_err != 0)
			r->status = ep->setup_err;
		else if (c->err != 0)
			r->status = c->err;
		else if (rc == -ETIMEDOUT)
			r->status = rc;
		else if (c->mismatches != 0 || c->rx_bytes != c->total || c->tx_acked != c->total)
			r->status = -EBADMSG;
		else
			r->status = rc;
	}
}

/* Runs on the stack's own thread: lwip_init, bring the endpoints up, meet
 * the other threads at the gate, transfer, tear down. */
static void stack_run(struct pair_stack *st)
{
	uint64_t end;
	unsigned idle = 0;
	bool flagged = false;
	int rc = 0, trc;

	lwip_init();
	for (unsigned i = 0; i < st->nep; i++) {
		struct pair_endpoint *ep = st->ep[i];

		ep->conn.ep = ep;
		ep->conn.total = st->opts->bytes;
		ep->setup_err = ep_setup(ep);
	}
	if (st->gate != NULL)
		gate_arrive_and_wait(st->gate);
	record_netifs(st);
	st->start_ns = now_ns();
	st->deadline_ns = st->start_ns + (uint64_t)st->opts->timeout_ms * 1000000u;
	if (st->gate != NULL && atomic_load_explicit(&st->gate->state, memory_order_relaxed) < 0)
		rc = -ECANCELED;
	for (unsigned i = 0; i < st->nep && rc == 0; i++) {
		struct pair_endpoint *ep = st->ep[i];

		if (ep->side == 1 && ep->setup_err == 0)
			ep->setup_err = ep_connect(ep);
	}
	while (rc == 0) {
		unsigned n = stack_poll(st);

		if (!flagged && stack_finished(st)) {
			set_done(st);
			flagged = true;
		}
		if (flagged && peer_done(st))
			break;
		if (now_ns() > st->deadline_ns) {
			rc = -ETIMEDOUT;
			break;
		}
		if (n == 0)
			idle_backoff(idle++);
		else
			idle = 0;
	}
	/* A peer must not wait for us after we stop, whatever the reason. */
	set_done(st);
	end = now_ns();
	trc = stack_teardown(st);
	if (rc == 0)
		rc = trc;
	stack_results(st, rc, end);
}

static struct pair_endpoint *ep_new(struct pair_stack *st, struct pair_link *link, int side,
				    unsigned pair, struct mlw_pair_result *res)
{
	/* From libc: the endpoint holds the netif lwIP links to, and must
	 * outlive every lwIP object, including the heap's own teardown. */
	struct pair_endpoint *ep = calloc(1, sizeof(*ep));

	if (ep == NULL)
		return NULL;
	ep->st = st;
	ep->side = side;
	ep->pair = pair;
	ep->res = res;
	ep->tx = &link->ring[side];
	ep->rx = &link->ring[1 - side];
	return ep;
}

static int opts_valid(const struct mlw_pair_opts *opts)
{
	return opts != NULL && opts->bytes > 0 && opts->timeout_ms > 0;
}

/* ---- Threaded mode ---- */

struct pair_thread {
	pthread_t tid;
	struct pair_stack st;
	struct mlw_pair_result *res;
	int init_rc;
};

static void *pair_thread_main(void *arg)
{
	struct pair_thread *t = arg;
	struct mlw_pair_result *res = t->res;

	/* Our own heap: every lwIP allocation of this thread comes from it. */
	t->init_rc = mlw_alloc_thread_init(-1);
	if (t->init_rc != 0) {
		res->status = t->init_rc;
		set_done(&t->st);
		gate_arrive_and_wait(t->st.gate);
		return NULL;
	}
	stack_run(&t->st);
	res->alloc_fini_rc = mlw_alloc_thread_fini(&res->alloc_end);
	if (res->status == 0)
		res->status = res->alloc_fini_rc;
	return NULL;
}

int mlw_pair_run_threaded(unsigned npairs, const struct mlw_pair_opts *opts,
			  struct mlw_pair_result *res)
{
	unsigned nthreads = 2 * npairs, started = 0;
	struct pair_link **links = NULL;
	struct pair_thread *th = NULL;
	struct run_gate gate;
	int rc = 0;

	if (!opts_valid(opts) || res == NULL || npairs == 0 || npairs > MLW_PAIR_MAX_PAIRS)
		return -EINVAL;
	memset(res, 0, sizeof(*res) * nthreads);
#ifdef MLW_PRISTINE_LWIP
	/* A plain lwIP keeps its state in process-wide globals. */
	for (unsigned i = 0; i < nthreads; i++)
		res[i].status = -ENOTSUP;
	return -ENOTSUP;
#endif
	atomic_init(&gate.arrived, 0);
	atomic_init(&gate.state, 0);
	links = calloc(npairs, sizeof(*links));
	th = calloc(nthreads, sizeof(*th));
	if (links == NULL || th == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned p = 0; p < npairs; p++) {
		links[p] = link_new();
		if (links[p] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (unsigned i = 0; i < nthreads; i++) {
		struct pair_thread *t = &th[i];
		unsigned pair = i / 2;
		int side = (int)(i % 2);

		t->res = &res[i];
		t->st.nep = 1;
		t->st.opts = opts;
		t->st.link = links[pair];
		t->st.gate = &gate;
		t->st.ep[0] = ep_new(&t->st, links[pair], side, pair, &res[i]);
		if (t->st.ep[0] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (; started < nthreads; started++) {
		if (pthread_create(&th[started].tid, NULL, pair_thread_main, &th[started]) != 0) {
			rc = -EAGAIN;
			break;
		}
	}
	while (atomic_load_explicit(&gate.arrived, memory_order_acquire) < started)
		sleep_ns(100000);
	/* Release: pairs with the acquire load in gate_arrive_and_wait(). */
	atomic_store_explicit(&gate.state, rc == 0 ? 1 : -1, memory_order_release);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);
out:
	for (unsigned i = 0; i < nthreads; i++) {
		if (rc != 0 && res[i].status == 0)
			res[i].status = rc;
		if (rc == 0 && res[i].status != 0)
			rc = res[i].status;
	}
	if (th != NULL) {
		for (unsigned i = 0; i < nthreads; i++)
			free(th[i].st.ep[0]);
		free(th);
	}
	if (links != NULL) {
		for (unsigned p = 0; p < npairs; p++)
			link_free(links[p]);
		free(links);
	}
	return rc;
}

/* ---- Same-thread mode ---- */

int mlw_pair_run_same_thread(const struct mlw_pair_opts *opts, struct mlw_pair_result res[2])
{
	struct pair_stack st = { .nep = 2, .opts = opts };
	struct pair_link *link;
	int rc;

	if (!opts_valid(opts) || res == NULL)
		return -EINVAL;
	memset(res, 0, 2 * sizeof(*res));
	link = link_new();
	if (link == NULL)
		return -ENOMEM;
	st.ep[0] = ep_new(&st, link, 0, 0, &res[0]);
	st.ep[1] = ep_new(&st, link, 1, 0, &res[1]);
	rc = st.ep[0] && st.ep[1] ? mlw_alloc_thread_init(-1) : -ENOMEM;
	if (rc == 0) {
		stack_run(&st);
		res[0].alloc_fini_rc = mlw_alloc_thread_fini(&res[0].alloc_end);
		res[1].alloc_fini_rc = res[0].alloc_fini_rc;
		res[1].alloc_end = res[0].alloc_end;
	}
	for (int i = 0; i < 2; i++) {
		if (res[i].status == 0)
			res[i].status = rc != 0 ? rc : res[i].alloc_fini_rc;
		if (rc == 0)
			rc = res[i].status;
	}
	free(st.ep[0]);
	free(st.ep[1]);
	link_free(link);
	return rc;
}
