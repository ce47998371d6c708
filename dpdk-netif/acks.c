/* acks.c - pure TCP ACKs that a newer ACK of the same connection makes unnecessary: replaced in the TX batch, kept aside while the port is backed up, freed from a received burst before lwIP sees them.
 *
 * Call chains: dpdk_linkoutput (netif.c) -> mlw__txq_queue, or with the
 * port backed up mlw__txq_keep_ack; poll_rx (sharding/shard.c) ->
 * mlw__rx_coalesce_acks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

#include "dpdk_netif.h"

/* The TCP header's offset in frame @p f if it is a pure ACK (TCP over
 * IPv4, or IPv6 without extension headers; no payload; ACK without SYN,
 * FIN or RST), else 0. */
static unsigned pure_ack_tcp_off(const uint8_t *f, unsigned len)
{
	const unsigned l3 = 14;
	unsigned tcp, seglen, doff;
	uint16_t type;

	if (len < l3 + 40)
		return 0;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x0800) {
		unsigned ihl = (f[l3] & 0xfu) * 4u;

		if (f[l3 + 9] != 6 || ihl < 20)
			return 0;
		tcp = l3 + ihl;
		seglen = (unsigned)(f[l3 + 2] << 8 | f[l3 + 3]);
		if (seglen < ihl)
			return 0;
		seglen -= ihl;
	} else if (type == 0x86dd) {
		if (f[l3 + 6] != 6)
			return 0;
		tcp = l3 + 40;
		seglen = (unsigned)(f[l3 + 4] << 8 | f[l3 + 5]);
	} else {
		return 0;
	}
	if (len < tcp + 20)
		return 0;
	doff = (f[tcp + 12] >> 4) * 4u;
	if (doff < 20 || seglen != doff || (f[tcp + 13] & 0x17) != 0x10)
		return 0;
	return tcp;
}

/* Same connection: ethertype, both addresses and both ports. */
static bool same_flow(const uint8_t *a, const uint8_t *b, unsigned tcp)
{
	unsigned addr = a[12] == 0x08 ? 14 + 12 : 14 + 8;	/* IPv4 : IPv6 */

	return a[12] == b[12] && a[13] == b[13] &&
	       memcmp(a + addr, b + addr, tcp - addr) == 0 && memcmp(a + tcp, b + tcp, 4) == 0;
}

static uint32_t ack_of(const uint8_t *f, unsigned tcp)
{
	return (uint32_t)f[tcp + 8] << 24 | (uint32_t)f[tcp + 9] << 16 | (uint32_t)f[tcp + 10] << 8 |
	       f[tcp + 11];
}

static uint16_t wnd_of(const uint8_t *f, unsigned tcp)
{
	return (uint16_t)(f[tcp + 14] << 8 | f[tcp + 15]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Append @p m to the TX batch. A pure ACK first looks for the last pure ACK
 * of its connection still waiting in the batch: if the new one acknowledges
 * more, it takes that one's place and the old one is freed. lwIP answers
 * every second received segment with an ACK, so a burst of 32 segments
 * would produce 16 ACKs in one pass; the peer then runs its ACK processing
 * (in lwIP: tcp_output walking the whole unacked queue) 16 times for what
 * one ACK says. An ACK with the same number as the waiting one is a
 * duplicate ACK (the peer counts them for fast retransmit) or a window
 * update: it is appended, never merged.
 */
void mlw__txq_queue(struct mlw_txq *q, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t slots = q->ack_slots;
	unsigned tcp;

	if (m->data_len > MLW_ACK_FRAME_MAX || (tcp = pure_ack_tcp_off(f, m->data_len)) == 0) {
		q->pkts[q->n++] = m;
		return;
	}
	while (slots != 0) {
		unsigned i = 63u - (unsigned)__builtin_clzll(slots);
		struct rte_mbuf *old = q->pkts[i];
		const uint8_t *g = rte_pktmbuf_mtod(old, const uint8_t *);

		slots &= ~(UINT64_C(1) << i);
		/* Same length and first IP byte: the TCP header is at the
		 * same offset in both. */
		if (old->data_len != m->data_len || g[14] != f[14] || !same_flow(f, g, tcp))
			continue;
		if ((int32_t)(get32(f + tcp + 8) - get32(g + tcp + 8)) > 0) {
			rte_pktmbuf_free(old);
			q->pkts[i] = m;
			q->ack_coalesced++;
			return;
		}
		break;
	}
	q->ack_slots |= UINT64_C(1) << q->n;
	q->pkts[q->n++] = m;
}

/*
 * Received ACKs, the mirror of mlw__txq_queue: in one RX burst, a pure ACK
 * followed by a pure ACK of the same connection that acknowledges more says
 * nothing the later one does not, and lwIP would run its ACK processing
 * (tcp_output walking the whole unacked queue, a cache miss per segment with
 * several connections) for each. Equal ack numbers (duplicate ACKs, window
 * updates) are all kept. Walks the burst backwards remembering the nearest
 * later ACK of up to RX_ACK_FLOWS connections.
 */
#define RX_ACK_FLOWS 8

uint16_t mlw__rx_coalesce_acks(struct rte_mbuf **pkts, uint16_t n, uint64_t *dropped_bytes)
{
	struct {
		const uint8_t *f;
		unsigned tcp;
		uint16_t len;
	} later[RX_ACK_FLOWS];
	unsigned nlater = 0, out = n;
	bool gap = false;

	for (unsigned i = n; i-- > 0;) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		unsigned tcp = m->data_len <= MLW_ACK_FRAME_MAX ? pure_ack_tcp_off(f, m->data_len) : 0;
		unsigned k;

		if (tcp != 0) {
			for (k = 0; k < nlater; k++)
				if (later[k].tcp == tcp && later[k].len == m->data_len &&
				    later[k].f[14] == f[14] && same_flow(f, later[k].f, tcp))
					break;
			if (k < nlater && (int32_t)(get32(later[k].f + tcp + 8) - get32(f + tcp + 8)) > 0) {
				*dropped_bytes += m->pkt_len;
				rte_pktmbuf_free(m);
				gap = true;
				continue;
			}
			if (k == nlater && nlater < RX_ACK_FLOWS)
				nlater++;
			if (k < nlater)
				later[k].f = f, later[k].tcp = tcp, later[k].len = m->data_len;
		}
		/* Keep the frames in order, packed at the end of the array. */
		out--;
		if (gap)
			pkts[out] = m;
	}
	if (out > 0)
		memmove(pkts, pkts + out, (size_t)(n - out) * sizeof(pkts[0]));
	return (uint16_t)(n - out);
}


/*
 * With the port backed up: keep @p m aside if it is a pure ACK (see
 * struct mlw_txq). False if it is not one, or no room is left.
 *
 * Which older ACKs of the same connection a new one makes unnecessary
 * follows from what the peer does with them (RFC 5681, 2 and 3.2). An ACK
 * with the same ack number and window as the previous one, and no data, is
 * a duplicate: the peer counts them and retransmits at the third, then
 * grows its window by one segment per further duplicate. So duplicates are
 * kept, up to MLW_TX_DUPACKS per connection after the first kept ACK (that
 * first one may be the ACK that moved the ack number, not a duplicate of
 * it). Past that, the newest replaces the last kept one: the peer has had
 * its three, and the newest carries the newest timestamp. An ACK that
 * moves the ack number makes every kept ACK of the connection obsolete:
 * the peer's snd_una moves past them, it ignores them as old. A window
 * update (same ack number, another window) is no duplicate; it replaces
 * the last kept ACK only if that one is a window update too (its window
 * differs from the kept ACK before it), since replacing a duplicate would
 * take a count from the peer, and replacing the first kept ACK could too
 * (it may repeat the window the peer has). Freed ACKs whose information a
 * newer kept one carries count as ack_merged; duplicates freed past the
 * third count as ack_dup_drops. Kept ACKs of one connection all have the
 * same ack number, and stay in the order lwIP sent them.
 */
bool mlw__txq_keep_ack(struct mlw_txq *q, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	unsigned tcp = pure_ack_tcp_off(f, m->data_len);
	uint16_t last = 0, n = 0, dups = 0, wnd, last_wnd = 0, prev_wnd = 0;
	uint32_t ack;

	if (tcp == 0)
		return false;
	ack = ack_of(f, tcp);
	wnd = wnd_of(f, tcp);
	for (uint16_t i = 0; i < q->nacks; i++) {
		const uint8_t *g = rte_pktmbuf_mtod(q->acks[i], const uint8_t *);
		uint16_t w;

		if (pure_ack_tcp_off(g, q->acks[i]->data_len) != tcp || !same_flow(f, g, tcp))
			continue;
		w = wnd_of(g, tcp);
		if (n > 0 && w == last_wnd)
			dups++;
		prev_wnd = last_wnd;
		last_wnd = w;
		last = i;
		n++;
	}
	if (n > 0 && ack != ack_of(rte_pktmbuf_mtod(q->acks[last], const uint8_t *), tcp)) {
		/* lwIP never moves rcv_nxt back: the new ACK is the newer one.
		 * Free the connection's kept ACKs, keep the others in order. */
		uint16_t k = 0;

		for (uint16_t i = 0; i < q->nacks; i++) {
			const uint8_t *g = rte_pktmbuf_mtod(q->acks[i], const uint8_t *);

			if (pure_ack_tcp_off(g, q->acks[i]->data_len) == tcp && same_flow(f, g, tcp)) {
				rte_pktmbuf_free(q->acks[i]);
				q->ack_merged++;
			} else {
				q->acks[k++] = q->acks[i];
			}
		}
		q->nacks = k;
	} else if (n > 0 && wnd != last_wnd) {
		if (n >= 2 && last_wnd != prev_wnd) {
			rte_pktmbuf_free(q->acks[last]);
			q->acks[last] = m;
			q->ack_merged++;
			return true;
		}
	} else if (dups >= MLW_TX_DUPACKS) {
		/* The last kept one is a duplicate, or a window update whose
		 * window @p m repeats and so carries on (dups > 0: n >= 2). */
		if (last_wnd == prev_wnd)
			q->ack_dup_drops++;
		else
			q->ack_merged++;
		rte_pktmbuf_free(q->acks[last]);
		q->acks[last] = m;
		return true;
	}
	if (q->nacks == MLW_TX_ACKS)
		return false;
	q->acks[q->nacks++] = m;
	return true;
}
