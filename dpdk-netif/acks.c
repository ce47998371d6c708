/* acks.c - pure TCP ACKs that a newer ACK of the same connection makes unnecessary: replaced in the TX batch, kept aside while the port is backed up, freed from a received burst before lwIP sees them.
 *
 * Call chains: dpdk_linkoutput (netif.c) -> mlw__txq_queue, or with the
 * port backed up mlw__txq_keep_ack; poll_rx (sharding/shard.c) ->
 * mlw__rx_coalesce_acks.
 *
 * When a newer pure ACK N of a connection makes an older one O unnecessary
 * (supersedes()): N acknowledges more, and N says everything O said beyond
 * that (carries_all()):
 * - SACK (RFC 2018): every block of O is below N's ack number or inside a
 *   block of N. Blocks are the receiver's scoreboard as it was; lwIP
 *   repeats the older ones after the newest, but only 3 fit beside
 *   timestamps, so an ACK whose block the next one dropped is kept. A
 *   D-SACK block (RFC 2883: a first block below O's ack number or inside
 *   O's second block) reports a duplicate once and is never repeated: O
 *   is kept.
 * - Timestamps (RFC 7323): both carry the option or neither does, and N's
 *   TSval is not older than O's. The peer takes TS.Recent from the last
 *   ACK at the left edge of its window, which is N either way, and PAWS
 *   could only have rejected N if its TSval were older.
 * - Any other option (or a malformed one) keeps O: what it says is not
 *   known here. N with such an option replaces nothing.
 * An ACK with the same ack number as O (a duplicate, a window update,
 * new SACK blocks) is information for the peer; only mlw__txq_keep_ack()
 * frees such ones, past the third duplicate, when carries_all() holds.
 * Moving a newer ACK to an older one's place ahead of a data segment of
 * the same connection (mlw__txq_queue) does not trip the peer's PAWS: its
 * sequence number is past that segment, so the peer does not take its
 * TSval as TS.Recent before the segment arrives (RFC 7323 4.3).
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
	if (doff < 20 || seglen != doff || len < tcp + doff || (f[tcp + 13] & 0x17) != 0x10)
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

static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

#define ACK_SACK_MAX 4	/* blocks that fit in 40 option bytes */
#define TS_ONLY 0x0101080au	/* NOP, NOP, timestamps kind and length */

/* What a pure ACK says besides its ack number and window. */
struct ack_opts {
	bool ts;
	uint32_t tsval;
	unsigned nsack;
	uint32_t sack[ACK_SACK_MAX][2];	/* left, right */
};

/* Read the options of the pure ACK @p f (TCP header at @p tcp, inside the
 * frame: pure_ack_tcp_off checked it). False if one is neither NOP, EOL,
 * timestamps nor SACK, or malformed. */
static bool ack_opts_read(const uint8_t *f, unsigned tcp, struct ack_opts *o)
{
	const uint8_t *p = f + tcp + 20, *end = f + tcp + (f[tcp + 12] >> 4) * 4u;

	o->ts = false;
	o->nsack = 0;
	while (p < end && *p != 0) {
		unsigned l;

		if (*p == 1) {
			p++;
			continue;
		}
		if (end - p < 2 || (l = p[1]) < 2 || l > (unsigned)(end - p))
			return false;
		if (*p == 8 && l == 10 && !o->ts) {
			o->ts = true;
			o->tsval = get32(p + 2);
		} else if (*p == 5 && l >= 10 && (l - 2) % 8 == 0 && o->nsack == 0) {
			for (unsigned i = 0; i < (l - 2) / 8; i++) {
				o->sack[i][0] = get32(p + 2 + 8 * i);
				o->sack[i][1] = get32(p + 6 + 8 * i);
			}
			o->nsack = (l - 2) / 8;
		} else {
			return false;
		}
		p += l;
	}
	return true;
}

/* O's first SACK block is a D-SACK (RFC 2883 4): below O's ack number, or
 * inside its second block. */
static bool has_dsack(const struct ack_opts *o, uint32_t ack)
{
	return o->nsack > 0 && (seq_leq(o->sack[0][1], ack) ||
				(o->nsack > 1 && seq_leq(o->sack[1][0], o->sack[0][0]) &&
				 seq_leq(o->sack[0][1], o->sack[1][1])));
}

/* The newer pure ACK @p f says everything the older @p g of the same
 * connection says beyond their ack numbers (see the top of this file).
 * Both TCP headers at @p tcp. */
static bool carries_all(const uint8_t *f, const uint8_t *g, unsigned tcp)
{
	struct ack_opts n, o;
	uint32_t nack;

	/* Neither has options: the common case without timestamps. */
	if ((f[tcp + 12] >> 4) == 5 && (g[tcp + 12] >> 4) == 5)
		return true;
	/* Both NOP, NOP, timestamps and nothing else: the common case with. */
	if ((f[tcp + 12] >> 4) == 8 && (g[tcp + 12] >> 4) == 8 && get32(f + tcp + 20) == TS_ONLY &&
	    get32(g + tcp + 20) == TS_ONLY)
		return !seq_lt(get32(f + tcp + 24), get32(g + tcp + 24));
	if (!ack_opts_read(f, tcp, &n) || !ack_opts_read(g, tcp, &o))
		return false;
	if (n.ts != o.ts || (n.ts && seq_lt(n.tsval, o.tsval)))
		return false;
	if (has_dsack(&o, get32(g + tcp + 8)))
		return false;
	nack = get32(f + tcp + 8);
	for (unsigned i = 0; i < o.nsack; i++) {
		unsigned k = 0;

		if (seq_leq(o.sack[i][1], nack))
			continue;
		while (k < n.nsack && !(seq_leq(n.sack[k][0], o.sack[i][0]) &&
					seq_leq(o.sack[i][1], n.sack[k][1])))
			k++;
		if (k == n.nsack)
			return false;
	}
	return true;
}

/* The newer pure ACK @p f makes the older @p g of the same connection
 * unnecessary: it acknowledges more and carries all @p g says. */
static bool supersedes(const uint8_t *f, const uint8_t *g, unsigned tcp)
{
	return seq_lt(get32(g + tcp + 8), get32(f + tcp + 8)) && carries_all(f, g, tcp);
}

/*
 * Append @p m to the TX batch. A pure ACK first looks for the last pure ACK
 * of its connection still waiting in the batch: if the new one supersedes
 * it (acknowledges more, and repeats its SACK blocks), it takes that one's
 * place and the old one is freed. lwIP answers every second received
 * segment with an ACK, so a burst of 32 segments would produce 16 ACKs in
 * one pass; the peer then runs its ACK processing (in lwIP: tcp_output
 * walking the whole unacked queue) 16 times for what one ACK says. An ACK
 * with the same number as the waiting one is a duplicate ACK (the peer
 * counts them for fast retransmit), a window update or new SACK blocks: it
 * is appended, never merged.
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
		/* Same first IP byte: the TCP header is at the same offset in
		 * both (their options may differ in length). */
		if (g[14] != f[14] || !same_flow(f, g, tcp))
			continue;
		if (supersedes(f, g, tcp)) {
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
 * followed by a pure ACK of the same connection that supersedes it says
 * nothing the later one does not, and lwIP would run its ACK processing
 * (tcp_output walking the whole unacked queue, a cache miss per segment with
 * several connections) for each. Equal ack numbers (duplicate ACKs, window
 * updates) are all kept, and so is an ACK whose SACK blocks the later one
 * does not carry: lwIP ignores received SACK blocks, but SACK-based
 * recovery in mlwip would need them. Walks the burst backwards remembering
 * the nearest later ACK of up to RX_ACK_FLOWS connections.
 */
#define RX_ACK_FLOWS 8

uint16_t mlw__rx_coalesce_acks(struct rte_mbuf **pkts, uint16_t n, uint64_t *dropped_bytes)
{
	struct {
		const uint8_t *f;
		unsigned tcp;
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
				if (later[k].tcp == tcp && later[k].f[14] == f[14] &&
				    same_flow(f, later[k].f, tcp))
					break;
			if (k < nlater && supersedes(later[k].f, f, tcp)) {
				*dropped_bytes += m->pkt_len;
				rte_pktmbuf_free(m);
				gap = true;
				continue;
			}
			if (k == nlater && nlater < RX_ACK_FLOWS)
				nlater++;
			if (k < nlater)
				later[k].f = f, later[k].tcp = tcp;
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
 * kept, up to MLW_TX_DUPACKS per connection after the first kept ACK of
 * its ack number (that first one may be the ACK that moved the ack number,
 * not a duplicate of it). Past that, the newest replaces the last kept one
 * if it carries all that one says (its SACK blocks; carries_all()): the
 * peer has had its three, and the newest carries the newest timestamp. An
 * ACK that moves the ack number frees every kept ACK of the connection it
 * supersedes: the peer's snd_una moves past them, it ignores them as old;
 * one with SACK blocks the new ACK does not repeat stays. A window update
 * (same ack number, another window) is no duplicate; it replaces the last
 * kept ACK only if that one is a window update too (its window differs
 * from the kept ACK before it) and carries_all() holds, since replacing a
 * duplicate would take a count from the peer, and replacing the first
 * kept ACK could too (it may repeat the window the peer has). Freed ACKs
 * whose information a newer kept one carries count as ack_merged;
 * duplicates freed past the third count as ack_dup_drops. Kept ACKs stay
 * in the order lwIP sent them.
 */
bool mlw__txq_keep_ack(struct mlw_txq *q, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *), *lg = NULL;
	unsigned tcp = pure_ack_tcp_off(f, m->data_len);
	uint16_t last = 0, n = 0, dups = 0, wnd, last_wnd = 0, prev_wnd = 0;
	uint32_t ack, run_ack = 0;

	if (tcp == 0)
		return false;
	ack = ack_of(f, tcp);
	wnd = wnd_of(f, tcp);
	/* The connection's kept ACKs of its newest kept ack number: n of
	 * them, dups duplicates among them, the last at acks[last]. */
	for (uint16_t i = 0; i < q->nacks; i++) {
		const uint8_t *g = rte_pktmbuf_mtod(q->acks[i], const uint8_t *);
		uint16_t w;

		if (pure_ack_tcp_off(g, q->acks[i]->data_len) != tcp || !same_flow(f, g, tcp))
			continue;
		if (n > 0 && ack_of(g, tcp) != run_ack)
			n = 0, dups = 0, last_wnd = 0;
		run_ack = ack_of(g, tcp);
		w = wnd_of(g, tcp);
		if (n > 0 && w == last_wnd)
			dups++;
		prev_wnd = last_wnd;
		last_wnd = w;
		last = i;
		n++;
	}
	if (n > 0)
		lg = rte_pktmbuf_mtod(q->acks[last], const uint8_t *);
	if (n > 0 && ack != run_ack) {
		/* lwIP never moves rcv_nxt back: the new ACK is the newer one.
		 * Free the connection's kept ACKs it supersedes, keep the
		 * others in order. */
		uint16_t k = 0;

		for (uint16_t i = 0; i < q->nacks; i++) {
			const uint8_t *g = rte_pktmbuf_mtod(q->acks[i], const uint8_t *);

			if (pure_ack_tcp_off(g, q->acks[i]->data_len) == tcp && same_flow(f, g, tcp) &&
			    supersedes(f, g, tcp)) {
				rte_pktmbuf_free(q->acks[i]);
				q->ack_merged++;
			} else {
				q->acks[k++] = q->acks[i];
			}
		}
		q->nacks = k;
	} else if (n > 0 && wnd != last_wnd) {
		if (n >= 2 && last_wnd != prev_wnd && carries_all(f, lg, tcp)) {
			rte_pktmbuf_free(q->acks[last]);
			q->acks[last] = m;
			q->ack_merged++;
			return true;
		}
	} else if (dups >= MLW_TX_DUPACKS && carries_all(f, lg, tcp)) {
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
