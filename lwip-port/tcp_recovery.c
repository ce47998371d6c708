/* tcp_recovery.c - loss recovery for lwIP's sender: SACK scoreboard and loss detection (RFC 6675, with RACK's time rule, RFC 8985), retransmission of every lost segment within one round trip, one cwnd halving per episode, NewReno partial-ACK retransmission (RFC 6582) for peers without SACK.
 *
 * lwIP (2.1.3 and 2.2.1) sends SACK blocks but ignores the ones it
 * receives; it retransmits one segment after three duplicate ACKs (only
 * those with an unchanged window), leaves fast recovery on the first new
 * ACK, and a second loss in the same window waits for the RTO. Nothing of
 * lwIP's source changes here; the call chain is:
 *
 *   tcp_input -> LWIP_HOOK_TCP_INPACKET_PCB (mlw_lwip_hooks.h; inline test:
 *     synchronized state, data in flight, ACK set) -> mlw__tcp_rec_in():
 *     the segment's SACK blocks are kept in the connection's node (an lwIP
 *     ext arg, from the shard heap, freed with the PCB); the node goes on
 *     the shard's pending list; during an episode TF_INFR is set, so
 *     lwIP's own fast retransmit (and its second halving) stays off.
 *   lwIP processes the ACK (cumulative ACK, cwnd growth, its own fast
 *     retransmit when it counted three duplicates).
 *   end of the shard's pass -> mlw__tcp_timer_settle (tcp_timer.c) ->
 *     mlw__tcp_recovery_run() -> run_one() for each pending connection:
 *     1. segments of the unacked queue inside a received block are marked
 *        SACKed (a spare bit of tcp_seg.flags: the scoreboard lives on
 *        the segments, no size limit); the newest TSval among them (read
 *        back from the segment's own timestamps option) is RACK's
 *        "most recently delivered" send time.
 *     2. a segment is lost when more than 2 x MSS bytes above it are
 *        SACKed (RFC 6675 IsLost, DupThresh 3), or, with timestamps, when
 *        it was sent before a SACKed segment and one RTT plus a reordering
 *        window (RTT/4) has passed since (RACK; it also catches a lost
 *        retransmission).
 *     3. the first lost segment starts an episode: ssthresh = FlightSize/2
 *        (at least 2 MSS), cwnd = ssthresh, recovery point = snd_nxt.
 *        lwIP's own fast retransmit is adopted as an episode (lwIP halved).
 *     4. lost segments go out while pipe (RFC 6675: bytes in flight, not
 *        SACKed, not lost unless retransmitted) stays below cwnd, the
 *        first one at once; then new data up to cwnd - pipe.
 *     5. the episode ends when snd_una reaches the recovery point.
 *   RTO (tcp_timer.c rto_expired) -> mlw__tcp_rec_rto(): the episode and
 *     the marks end (lwIP resends from snd_una, go-back-N).
 *
 * Retransmitting one segment: it is unlinked from the unacked queue and
 * made the only unsent segment (the rest of unsent set aside), cwnd is
 * raised for that call to cover its offset from snd_una (lwIP's
 * tcp_output() measures the window from snd_una, not by pipe), then
 * tcp_output() sends it and puts it back into unacked in order, as after
 * lwIP's own tcp_rexmit(). Counted in lwIP's MIB tcpretranssegs. The RTT
 * sample lwIP would start on it is dropped (Karn).
 *
 * Without SACK (the peer did not offer it, or TF_SACK is unset): an
 * episode starts only from lwIP's fast retransmit, and each partial ACK
 * (snd_una moved but below the recovery point) retransmits the new first
 * unacknowledged segment at once (RFC 6582) instead of waiting for three
 * more duplicates or the RTO.
 *
 * Probe timer (mlw__tcp_rec_deadline() / mlw__tcp_rec_timer() on the timer
 * wheel): RACK's reordering timeout and the tail loss probe, at 2 x RTT +
 * MLW_TCP_REC_PTO_MIN_MS (see pto_ms()), armed by each ACK that leaves data
 * in flight and by data sent with nothing in flight.
 *
 * Receiver's half: D-SACK blocks for duplicate segments (below, before
 * mlw__tcp_rec_deadline()), for the peer's undo.
 *
 * Left out: a tail loss probe before the connection's first SACK block or
 * duplicate ACK (no node yet: the RTO's), PRR, undo on received D-SACKs,
 * SACK reneging (the marks are dropped at an RTO only).
 */
#include <stdbool.h>
#include <string.h>

#include "lwip/def.h"
#include "lwip/opt.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"
#include "tcp_opts_private.h"
#include "tcp_recovery_private.h"

#define SEG_SACKED 0x80u	/* tcp_seg.flags bits lwIP leaves unused (2.1.3, 2.2.1) */
#define SEG_REXMIT 0x40u	/* retransmitted in this episode */
#define RC_BLOCKS 16		/* SACK blocks kept between two passes */

_Static_assert(((TF_SEG_OPTS_MSS | TF_SEG_OPTS_TS | TF_SEG_DATA_CHECKSUMMED | TF_SEG_OPTS_WND_SCALE | 0x10u) &
		(SEG_SACKED | SEG_REXMIT)) == 0,
	       "lwIP uses the tcp_seg.flags bits taken for the SACK scoreboard");

struct rc_node {
	struct tcp_pcb *pcb;
	struct rc_node *next, **pprev;	/* the pending list, when on it */
	u32_t blk[RC_BLOCKS][2];	/* SACK blocks received since the last run */
	u8_t nblk;
	u8_t in_rec;			/* an episode runs */
	u32_t rec_point;		/* snd_nxt when it started */
	u32_t rec_cwnd;			/* cwnd during the episode (ssthresh) */
	u32_t last_ack;			/* snd_una at the last run */
	u32_t rack_ts;			/* TSval of the newest SACKed segment, 0: none */
	u32_t rack_rtt;			/* ms, measured on it */
	u32_t probe_due;		/* ms: no ACK until then fires the probe timer */
	u8_t probe_armed;
	u8_t probes;			/* fired since snd_una moved or data was newly SACKed */
	u8_t sacked;			/* segments up to high_sacked may be marked */
	u8_t reo_wait;			/* a segment below a SACKed one waits out RACK's reordering window */
	u32_t high_sacked;		/* the end of the highest SACKed segment */
};

static _Thread_local struct rc_node *pending;
static _Thread_local int rc_id = -1;
static _Thread_local struct mlw_tcp_recovery_stats rs;

static void rc_destroy(u8_t id, void *data);
static const struct tcp_ext_arg_callbacks rc_callbacks = { .destroy = rc_destroy };

void mlw__tcp_recovery_stats(struct mlw_tcp_recovery_stats *out)
{
	*out = rs;
}

static void unpend(struct rc_node *n)
{
	if (n->pprev != NULL) {
		*n->pprev = n->next;
		if (n->next != NULL)
			n->next->pprev = n->pprev;
	}
	n->next = NULL;
	n->pprev = NULL;
}

static void pend(struct rc_node *n)
{
	if (n->pprev != NULL)
		return;
	n->next = pending;
	if (n->next != NULL)
		n->next->pprev = &n->next;
	n->pprev = &pending;
	pending = n;
}

static void rc_destroy(u8_t id, void *data)
{
	struct rc_node *n = data;

	(void)id;
	if (n == NULL)
		return;
	unpend(n);
	mlw__lwip_free(n);
}

static struct rc_node *node_get(struct tcp_pcb *pcb, bool create)
{
	struct rc_node *n;

	if (rc_id < 0) {
		if (!create)
			return NULL;
		rc_id = tcp_ext_arg_alloc_id();
	}
	if (rc_id >= LWIP_TCP_PCB_NUM_EXT_ARGS)
		return NULL;
	n = tcp_ext_arg_get(pcb, (u8_t)rc_id);
	if (n != NULL || !create)
		return n;
	n = mlw__lwip_calloc(1, sizeof(*n));
	if (n == NULL) {
		rs.node_alloc_fails++;
		return NULL;
	}
	n->pcb = pcb;
	n->last_ack = pcb->lastack;
	tcp_ext_arg_set_callbacks(pcb, (u8_t)rc_id, &rc_callbacks);
	tcp_ext_arg_set(pcb, (u8_t)rc_id, n);
	return n;
}

static u32_t get32(const struct mlw__tcp_opts *o, u16_t i)
{
	u32_t v = 0;

	for (u16_t k = 0; k < 4; k++)
		v = v << 8 | *mlw__tcp_opt_at(o, (u16_t)(i + k));
	return v;
}

void mlw__tcp_rec_in(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
		     u8_t *opt2)
{
	u32_t ackno = hdr->ackno;	/* tcp_input turned it to host order */
	struct rc_node *n = node_get(pcb, false);
	struct mlw__tcp_opts o;
	u16_t i = 0;

	if (pcb->flags & TF_SACK && optlen != 0) {
		o.a = (u8_t *)(hdr + 1);
		o.b = opt2;
		o.alen = opt2 != NULL ? opt1len : optlen;
		o.len = optlen;
		while (i < optlen) {
			u8_t kind = *mlw__tcp_opt_at(&o, i);
			u16_t l = mlw__tcp_opt_len(&o, i);

			if (l == 0)
				break;
			if (kind == 5 && l >= 10 && (l - 2) % 8 == 0) {
				for (u16_t b = (u16_t)(i + 2); b + 8 <= i + l; b = (u16_t)(b + 8)) {
					u32_t left = get32(&o, b), right = get32(&o, (u16_t)(b + 4));

					/* Above snd_una (a D-SACK block is not) and
					 * within what was sent. */
					if (!TCP_SEQ_LT(left, right) || TCP_SEQ_LEQ(right, ackno) ||
					    TCP_SEQ_GT(right, pcb->snd_nxt))
						continue;
					if (n == NULL && (n = node_get(pcb, true)) == NULL)
						return;
					if (n->nblk < RC_BLOCKS) {
						n->blk[n->nblk][0] = left;
						n->blk[n->nblk][1] = right;
						n->nblk++;
					}
				}
			}
			i = (u16_t)(i + l);
		}
	}
	/* A duplicate that may start lwIP's fast retransmit: seen afterwards
	 * to adopt it as an episode. */
	if (n == NULL && ackno == pcb->lastack && pcb->dupacks >= 2)
		n = node_get(pcb, true);
	if (n == NULL)
		return;
	if (n->in_rec) {
		tcp_set_flags(pcb, TF_INFR);	/* no second fast retransmit, no second halving */
		if (pcb->flags & TF_SACK)
			pcb->dupacks = 0;	/* nor its cwnd inflation: pipe rules here */
	}
	pend(n);
}

void mlw__tcp_rec_out_rto(const struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const struct pbuf *p)
{
	if (p->tot_len > TCPH_HDRLEN_BYTES(hdr) && TCP_SEQ_LT(lwip_ntohl(hdr->seqno), pcb->rto_end)) {
		MIB2_STATS_INC(mib2.tcpretranssegs);
		rs.rto_rexmits++;
	}
}

static void clear_marks(struct tcp_seg *s, u8_t bits)
{
	for (; s != NULL; s = s->next)
		s->flags &= (u8_t)~bits;
}

void mlw__tcp_rec_rto(struct tcp_pcb *pcb)
{
	struct rc_node *n = node_get(pcb, false);

	if (n == NULL)
		return;
	if (n->in_rec || n->rack_ts != 0)
		rs.rto_resets++;
	n->in_rec = 0;
	n->nblk = 0;
	n->rack_ts = 0;
	n->sacked = 0;
	n->probe_armed = 0;
	n->probes = 0;
	tcp_clear_flags(pcb, TF_INFR);
	clear_marks(pcb->unsent, SEG_SACKED | SEG_REXMIT);
	clear_marks(pcb->unacked, SEG_SACKED | SEG_REXMIT);
}

static u32_t seg_seq(const struct tcp_seg *s)
{
	return lwip_ntohl(s->tcphdr->seqno);
}

/* The TSval of the segment's last transmission (lwIP rewrites its options
 * each time it sends it); false without timestamps. */
static bool seg_tsval(const struct tcp_seg *s, u32_t *ts)
{
	const u8_t *o = (const u8_t *)(s->tcphdr + 1);

	if (!(s->flags & TF_SEG_OPTS_TS) || (s->flags & TF_SEG_OPTS_MSS) || o[0] != 1 || o[1] != 1 ||
	    o[2] != 8 || o[3] != 10)
		return false;
	*ts = (u32_t)o[4] << 24 | (u32_t)o[5] << 16 | (u32_t)o[6] << 8 | o[7];
	return true;
}

/* Marks the unacked segments inside the blocks received; RACK's newest
 * delivered send time from them. */
static void apply_blocks(struct rc_node *n, struct tcp_pcb *pcb, u32_t now)
{
	u32_t newest = 0;
	bool any = false;

	for (struct tcp_seg *s = pcb->unacked; s != NULL && n->nblk != 0; s = s->next) {
		u32_t a = seg_seq(s), b = a + TCP_TCPLEN(s), ts;

		if (s->flags & SEG_SACKED)
			continue;
		for (unsigned k = 0; k < n->nblk; k++) {
			if (TCP_SEQ_LEQ(n->blk[k][0], a) && TCP_SEQ_LEQ(b, n->blk[k][1])) {
				s->flags |= SEG_SACKED;
				rs.sacked_segs++;
				if (!n->sacked || TCP_SEQ_GT(b, n->high_sacked))
					n->high_sacked = b;
				n->sacked = 1;
				if (seg_tsval(s, &ts) && (!any || TCP_SEQ_GT(ts, newest))) {
					newest = ts;
					any = true;
				}
				break;
			}
		}
	}
	n->nblk = 0;
	if (any && (n->rack_ts == 0 || TCP_SEQ_GEQ(newest, n->rack_ts))) {
		n->rack_ts = newest;
		n->rack_rtt = now - newest;
	}
}

/* RACK: sent before the newest delivered segment, and an RTT plus a
 * quarter of it (at least 1 ms) has passed since. */
static bool rack_lost(const struct rc_node *n, const struct tcp_seg *s, u32_t now)
{
	u32_t ts, reo;

	if (n->rack_ts == 0 || !seg_tsval(s, &ts) || !TCP_SEQ_LT(ts, n->rack_ts))
		return false;
	reo = LWIP_MAX(n->rack_rtt / 4u, 1u);
	return (s32_t)(now - ts) >= (s32_t)(n->rack_rtt + reo);
}

/* Sent (its last transmission) no later than the newest SACKed segment,
 * to the millisecond of the TSval: a tie counts, as RACK orders segments
 * sent together by sequence and a retransmission goes before the new data
 * of its pass. */
static bool rack_sent_before(const struct rc_node *n, const struct tcp_seg *s)
{
	u32_t ts;

	return n->rack_ts != 0 && seg_tsval(s, &ts) && TCP_SEQ_LEQ(ts, n->rack_ts);
}

/* Sends the unacked segment *@p link again; false if it could not go. */
static bool rexmit(struct tcp_pcb *pcb, struct tcp_seg **link)
{
	struct tcp_seg *s = *link, *rest = pcb->unsent;
	u32_t seq = seg_seq(s), off = seq - pcb->lastack + s->len;
	tcpwnd_size_t cwnd = pcb->cwnd;
	u32_t rttest = pcb->rttest;
#if TCP_OVERSIZE
	u16_t oversize = pcb->unsent_oversize;
#endif
	bool sent;

	if (s->p->ref != 1 || pcb->snd_wnd < off)
		return false;	/* still held by the driver, or outside the peer's window */
	*link = s->next;
	s->next = NULL;
	pcb->unsent = s;
	if (pcb->cwnd < off)
		pcb->cwnd = (tcpwnd_size_t)off;
	if (rttest != 0 && pcb->rtseq == seq)
		rttest = 0;	/* Karn: this segment's sample is void */
	pcb->rttest = 0;
	tcp_set_flags(pcb, TF_INFR);	/* past Nagle */
	tcp_output(pcb);
	sent = pcb->unsent != s;
	pcb->unsent = rest;
	if (!sent) {
		/* Not sent (no buffer, the port refused it): back in its place
		 * in unacked. Left first in unsent, it would sit behind the
		 * other unacked segments once an RTO moved them there, where
		 * lwIP's window test (from snd_una) never lets them out. */
		s->next = *link;
		*link = s;
	}
#if TCP_OVERSIZE
	pcb->unsent_oversize = rest != NULL ? oversize : 0;
#endif
	pcb->cwnd = cwnd;
	pcb->rttest = rttest;
	if (sent) {
		s->flags |= SEG_REXMIT;
		MIB2_STATS_INC(mib2.tcpretranssegs);
	}
	return sent;
}

/* A tail loss probe (RFC 8985 7.3): one new segment if the peer's window
 * takes it, else the last one sent (@p last) again. */
static void tail_probe(struct tcp_pcb *pcb, struct tcp_seg *last)
{
	struct tcp_seg *u = pcb->unsent, **l;
	u32_t end;

	if (u != NULL && (end = seg_seq(u) + u->len - pcb->lastack) <= pcb->snd_wnd) {
		tcpwnd_size_t cwnd = pcb->cwnd;

		if (pcb->cwnd < end)
			pcb->cwnd = (tcpwnd_size_t)end;
		tcp_output(pcb);
		pcb->cwnd = cwnd;
		if (pcb->unsent != u) {
			rs.tlp_probes++;
			return;
		}
	}
	for (l = &pcb->unacked; *l != last; l = &(*l)->next)
		;
	if (rexmit(pcb, l))
		rs.tlp_probes++;
}

static void enter(struct rc_node *n, struct tcp_pcb *pcb, bool halve)
{
	n->in_rec = 1;
	n->rec_point = pcb->snd_nxt;
	clear_marks(pcb->unacked, SEG_REXMIT);
	clear_marks(pcb->unsent, SEG_REXMIT);
	rs.episodes++;
	if (halve) {
		u32_t flight = pcb->snd_nxt - pcb->lastack;

		pcb->ssthresh = (tcpwnd_size_t)LWIP_MAX(flight / 2u, 2u * pcb->mss);
		pcb->cwnd = pcb->ssthresh;
		pcb->bytes_acked = 0;
	} else {
		/* lwIP's fast retransmit sent the first segment already. */
		rs.episodes_lwip++;
		if (pcb->unacked != NULL && seg_seq(pcb->unacked) == pcb->lastack)
			pcb->unacked->flags |= SEG_REXMIT;
		else if (pcb->unsent != NULL && seg_seq(pcb->unsent) == pcb->lastack)
			pcb->unsent->flags |= SEG_REXMIT;
	}
	n->rec_cwnd = pcb->ssthresh;
	tcp_set_flags(pcb, TF_INFR);
}

/* The probe timeout (RFC 8985 7.2): two RTTs plus MLW_TCP_REC_PTO_MIN_MS,
 * doubling per probe; one segment in flight without a FIN adds the peer's
 * delayed ACK (MLW_TCP_REC_DELACK_MS). The RTT is RACK's (from the TSval
 * of the newest SACKed segment, to the millisecond) once there is one,
 * else lwIP's estimate (4 ms ticks). A floor of 10 ms (two RTTs at least
 * 10 ms) was most of the waiting in the fault matrix on its
 * sub-millisecond link (the combined runs: 7-15 waits of 10-20 ms per
 * transfer); Linux's is 2 x SRTT + 2 ms. */
static u32_t pto_ms(const struct rc_node *n, const struct tcp_pcb *pcb)
{
	u32_t srtt = (u32_t)(pcb->sa >> 3) * TCP_SLOW_INTERVAL, t;

	/* RACK's reordering timer (RFC 8985 6.2): a segment sent before a
	 * SACKed one is lost an RTT plus the reordering window after it was
	 * sent. Waiting for the probe timeout instead was most of a
	 * transfer's time under reordering with loss on a sub-millisecond
	 * path (about 40 waits of 10-11 ms in 1.7 s of the fault matrix's
	 * combined run). */
	if (n->reo_wait && n->probes == 0 && n->rack_ts != 0)
		return LWIP_MAX(n->rack_rtt + LWIP_MAX(n->rack_rtt / 4u, 1u), (u32_t)MLW_TCP_REC_REO_MIN_MS);

	if (n->rack_ts != 0)
		srtt = n->rack_rtt;
	t = 2u * srtt + MLW_TCP_REC_PTO_MIN_MS;
	/* One segment out: the peer may hold its ACK for a second one (a FIN
	 * it answers at once). */
	if (pcb->unacked != NULL && pcb->unacked->next == NULL && pcb->unsent == NULL &&
	    !(TCPH_FLAGS(pcb->unacked->tcphdr) & TCP_FIN))
		t += MLW_TCP_REC_DELACK_MS;
	return n->probes < 8 ? t << n->probes : t << 8;
}

/* An RTO in progress (lwIP's TF_RTO). lwIP's RTO of a SYN sets the flag with
 * rto_end = ISS + 1 and its SYN-SENT path never clears it (only an ACK of
 * new data does, in tcp_receive): after a lost SYN on an active open the
 * flag stayed set through the handshake, and every hole of the first flight
 * waited for the data's RTO. An RTO whose range is acknowledged is over,
 * which is lwIP's own rule for ending it. */
static bool rto_on(struct tcp_pcb *pcb)
{
	if ((pcb->flags & TF_RTO) && TCP_SEQ_LEQ(pcb->rto_end, pcb->lastack))
		tcp_clear_flags(pcb, TF_RTO);
	return (pcb->flags & TF_RTO) != 0;
}

static void arm_probe(struct rc_node *n, struct tcp_pcb *pcb, u32_t now)
{
	if (pcb->unacked == NULL || n->probes >= MLW_TCP_REC_PROBES || rto_on(pcb) ||
	    pcb->persist_backoff != 0 || pcb->snd_wnd == 0) {
		n->probe_armed = 0;
		return;
	}
	n->probe_armed = 1;
	n->probe_due = now + pto_ms(n, pcb);
	mlw__tcp_touch(pcb);	/* the timer wheel reads the deadline */
}

static void recover(struct rc_node *n, u32_t now, bool timeout);

static void run_one(struct rc_node *n, u32_t now)
{
	u32_t rack_ts = n->rack_ts;

	if (n->last_ack != n->pcb->lastack)
		n->probes = 0;
	recover(n, now, false);
	/* Newly SACKed data is progress as much as a new cumulative ACK: the
	 * peer is there, so the probe timeout starts again from its base (no
	 * backoff; RFC 8985 re-arms it on every ACK). Before, while a lost
	 * retransmission kept snd_una still and later data was SACKed, each
	 * probe doubled the next (captures of the fault matrix's combined
	 * runs: single segments at 2, 4, 8 and 21 ms). */
	if (n->rack_ts != rack_ts)
		n->probes = 0;
	arm_probe(n, n->pcb, now);
}

/* @p timeout: the probe timer fired (no ACK for a probe timeout): every
 * segment below a SACKed one is lost (RACK's reordering window is over);
 * with nothing SACKed, the last segment goes again (a tail loss probe,
 * RFC 8985 7), which makes the peer report what it holds. */
static void recover(struct rc_node *n, u32_t now, bool timeout)
{
	struct tcp_pcb *pcb = n->pcb;
	u32_t mss = pcb->mss, total = 0, below = 0, pipe = 0, nsegs = 0, thresh;
	bool sack = (pcb->flags & TF_SACK) != 0, forced = false;
	struct tcp_seg **link, *last = NULL;

	n->reo_wait = 0;
	if (pcb->state < ESTABLISHED || pcb->state > LAST_ACK || pcb->unacked == NULL || rto_on(pcb)) {
		n->nblk = 0;
		if (n->in_rec && (pcb->unacked == NULL || TCP_SEQ_GEQ(pcb->lastack, n->rec_point)))
			n->in_rec = 0;
		n->last_ack = pcb->lastack;
		return;
	}
	apply_blocks(n, pcb, now);
	if (n->in_rec && TCP_SEQ_GEQ(pcb->lastack, n->rec_point))
		n->in_rec = 0;	/* lwIP already set cwnd = ssthresh on this ACK */
	if (n->sacked && TCP_SEQ_LEQ(n->high_sacked, pcb->lastack))
		n->sacked = 0;	/* every SACKed segment is acknowledged (and freed) */
	if (!n->in_rec && !timeout && !n->sacked && !(pcb->flags & TF_INFR)) {
		n->last_ack = pcb->lastack;
		return;	/* nothing to look at: no walk of the queue */
	}
	if (!n->in_rec && (pcb->flags & TF_INFR)) {
		enter(n, pcb, false);
		forced = true;	/* lwIP retransmitted the first one */
	} else if (timeout) {
		forced = true;	/* no ACK for a probe timeout: one goes regardless of pipe */
	}
	if (!sack) {
		/* RFC 6582: a partial ACK retransmits the next hole at once. */
		if (n->in_rec && n->last_ack != pcb->lastack && !(pcb->unacked->flags & SEG_REXMIT) &&
		    seg_seq(pcb->unacked) == pcb->lastack && rexmit(pcb, &pcb->unacked))
			rs.newreno_rexmits++;
		n->last_ack = pcb->lastack;
		return;
	}
	n->last_ack = pcb->lastack;
	for (struct tcp_seg *s = pcb->unacked; s != NULL; s = s->next) {
		if (s->flags & SEG_SACKED)
			total += TCP_TCPLEN(s);
		nsegs++;
		last = s;
	}
	if (total == 0 && !n->in_rec) {
		if (timeout && last != NULL)
			tail_probe(pcb, last);
		return;
	}
	if (total == 0 && timeout) {
		/* In an episode with nothing SACKed: the first segment's
		 * retransmission is the likely loss; send it again now rather
		 * than at the RTO. */
		if (rexmit(pcb, &pcb->unacked))
			rs.sack_rexmits++, rs.rack_rexmits++;
		return;
	}
	/* DupThresh 3, lowered when fewer segments are out and no new data
	 * waits (early retransmit, RFC 5827): more than @p thresh bytes
	 * SACKed above a segment make it lost. */
	thresh = 2u * mss;
	if (pcb->unsent == NULL && nsegs <= 3)
		thresh = nsegs >= 2 ? (nsegs - 2u) * mss : 0;
	/* pipe: RFC 6675's, over the unacked queue. */
	for (struct tcp_seg *s = pcb->unacked; s != NULL; s = s->next) {
		u32_t len = TCP_TCPLEN(s);

		if (s->flags & SEG_SACKED) {
			below += len;
			continue;
		}
		if (total - below > thresh || (timeout && total - below > 0) || rack_lost(n, s, now)) {
			if ((s->flags & SEG_REXMIT) && !rack_lost(n, s, now))
				pipe += len;	/* its retransmission is in flight */
		} else {
			pipe += len;
		}
	}
	/* Retransmit what is lost, while pipe < cwnd (the first at once). */
	below = 0;
	link = &pcb->unacked;
	while (*link != NULL) {
		struct tcp_seg *s = *link;
		u32_t len = TCP_TCPLEN(s);
		bool lost, rl;

		if (s->flags & SEG_SACKED) {
			below += len;
			link = &s->next;
			continue;
		}
		rl = rack_lost(n, s, now);
		lost = total - below > thresh || (timeout && total - below > 0) || rl;
		if (!lost && total - below > 0 && !(s->flags & SEG_REXMIT))
			n->reo_wait = 1;
		/* A retransmission sent before the newest SACKed segment: RACK
		 * finds it lost an RTT plus the reordering window after it
		 * went, so wait for that rather than the probe timeout. */
		if ((s->flags & SEG_REXMIT) && !rl && rack_sent_before(n, s))
			n->reo_wait = 1;
		if (lost && (!(s->flags & SEG_REXMIT) || timeout || rl)) {
			bool rack = total - below <= thresh || (s->flags & SEG_REXMIT);

			if (!n->in_rec) {
				enter(n, pcb, true);
				forced = true;	/* RFC 6675 5 (4.3): the first one at once */
			}
			if (!forced && pipe >= n->rec_cwnd)
				break;
			forced = false;
			if (!rexmit(pcb, link))
				break;
			rs.sack_rexmits++;
			rs.rack_rexmits += rack;
			pipe += len;
			if (*link != s) {	/* not back in place: find it again */
				for (link = &pcb->unacked; *link != NULL && *link != s; link = &(*link)->next)
					;
				if (*link == NULL)
					break;
			}
		}
		link = &(*link)->next;
	}
	if (!n->in_rec)
		return;
	/* New data: what cwnd leaves beside pipe. lwIP counts its window from
	 * snd_una, so cwnd becomes flight + room (room 0: nothing new, and
	 * lwIP's inflation by duplicate ACKs is undone); lwIP puts it back to
	 * ssthresh at the next new ACK (TF_INFR). */
	pcb->cwnd = (tcpwnd_size_t)(pcb->snd_nxt - pcb->lastack +
				    (pipe < n->rec_cwnd ? n->rec_cwnd - pipe : 0));
	if (pipe < n->rec_cwnd && pcb->unsent != NULL)
		tcp_output(pcb);
	/* Until the next run, lwIP sends nothing new on its own (its
	 * tcp_output() after the next ACK would spend the room a lost
	 * segment needs). */
	if (pcb->unsent != NULL)
		pcb->cwnd = (tcpwnd_size_t)(pcb->snd_nxt - pcb->lastack);
}

/* ---- D-SACK (RFC 2883), the receiver's half ----------------------------
 *
 * A data segment that arrives entirely below rcv_nxt (a duplicate: a
 * spurious retransmission, a late original, a copy the network made) is
 * reported in the first SACK block of the ACK lwIP sends for it at once
 * (tcp_receive acknowledges it with TF_ACK_NOW), so the peer learns that its
 * retransmission was not needed. Linux undoes the cwnd reduction of an
 * episode whose retransmissions are all D-SACKed (TCPDSACKUndo) and widens
 * RACK's reordering window on D-SACKs (RFC 8985 6.2); without them, in the
 * fault matrix's combined run (5% reordering and duplication), a Linux
 * sender towards mlwip received no D-SACK, undid no episode and hit its RTO
 * three to four times per 4 MiB (against a Linux receiver: 15-27 undos, one
 * RTO).
 *
 * mlw__tcp_dsack_in() (input hook, before lwIP reads the segment) puts the
 * range first in pcb->rcv_sacks (lwIP's SACK blocks, newest first), so the
 * ACK makes room for it; lwIP's own blocks always lie above rcv_nxt, so a
 * block ending at or below rcv_nxt is the D-SACK. mlw__tcp_dsack_out()
 * (output hook, after lwIP wrote the SACK option) takes it out once an ACK
 * carried it: reported once. lwIP drops it itself when in-order data
 * arrives first (tcp_remove_sacks_lt, or the reset of rcv_sacks when the
 * out-of-order queue empties). Duplicates of out-of-order data (above
 * rcv_nxt) are not reported: lwIP's tcp_add_sack() for them would drop the
 * block again. */
#if LWIP_TCP_SACK_OUT
static void sacks_shift_out(struct tcp_pcb *pcb)
{
	for (unsigned i = 0; i + 1 < LWIP_TCP_MAX_SACK_NUM; i++)
		pcb->rcv_sacks[i] = pcb->rcv_sacks[i + 1];
	pcb->rcv_sacks[LWIP_TCP_MAX_SACK_NUM - 1].left = 0;
	pcb->rcv_sacks[LWIP_TCP_MAX_SACK_NUM - 1].right = 0;
}
#endif

void mlw__tcp_dsack_in(struct tcp_pcb *pcb, u32_t seq, u32_t len)
{
#if LWIP_TCP_SACK_OUT
	if (MLW__TCP_DSACK_PENDING(pcb))
		sacks_shift_out(pcb);	/* one not sent yet: the newer one replaces it */
	for (unsigned i = LWIP_TCP_MAX_SACK_NUM - 1; i > 0; i--)
		pcb->rcv_sacks[i] = pcb->rcv_sacks[i - 1];
	pcb->rcv_sacks[0].left = seq;
	pcb->rcv_sacks[0].right = seq + len;
	rs.dsack_marked++;
#else
	(void)pcb, (void)seq, (void)len;
#endif
}

void mlw__tcp_dsack_out(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const u32_t *opts)
{
#if LWIP_TCP_SACK_OUT
	const u8_t *o = (const u8_t *)(hdr + 1), *end = (const u8_t *)opts;

	if (!MLW__TCP_DSACK_PENDING(pcb))
		return;
	/* Options written so far (TS, then SACK when the segment has room for
	 * blocks: pure ACKs only). */
	while (o < end && *o != 0) {
		if (*o == 1) {
			o++;
			continue;
		}
		if (*o == 5) {
			sacks_shift_out(pcb);
			rs.dsack_sent++;
			return;
		}
		if (end - o < 2 || o[1] < 2)
			return;
		o += o[1];
	}
#else
	(void)pcb, (void)hdr, (void)opts;
#endif
}

bool mlw__tcp_rec_deadline(struct tcp_pcb *pcb, u32_t *due)
{
	struct rc_node *n;

	if (rc_id < 0 || rc_id >= LWIP_TCP_PCB_NUM_EXT_ARGS)
		return false;
	n = tcp_ext_arg_get(pcb, (u8_t)rc_id);
	if (n == NULL)
		return false;
	/* Data sent with nothing in flight before (the timer wheel arms after
	 * every segment out): a tail loss probe is due if no ACK comes, as
	 * when an ACK leaves data in flight (run_one()). Only a connection
	 * that has seen SACK blocks or duplicate ACKs has a node; without it
	 * the RTO covers the tail, as in lwIP. Without this a lost last
	 * segment (an echo's data and FIN) waited for the RTO, 200 ms at
	 * least, in the fault matrix. */
	if (!n->probe_armed && pcb->unacked != NULL && MLW__TCP_SYNCED(pcb))
		arm_probe(n, pcb, sys_now());
	if (!n->probe_armed)
		return false;
	if (pcb->persist_backoff != 0 || pcb->snd_wnd == 0) {
		/* The window closed: persist probes, not loss probes (a probe
		 * timer here kept firing each millisecond and, under a full
		 * heap, stalled test_resources' hogs). */
		n->probe_armed = 0;
		return false;
	}
	*due = n->probe_due;
	return true;
}

void mlw__tcp_rec_timer(struct tcp_pcb *pcb, u32_t now)
{
	struct rc_node *n = node_get(pcb, false);

	if (n == NULL || !n->probe_armed || (s32_t)(now - n->probe_due) < 0)
		return;
	n->probe_armed = 0;
	if (pcb->state < ESTABLISHED || pcb->state > LAST_ACK || pcb->unacked == NULL || rto_on(pcb))
		return;
	rs.probe_timeouts++;
	n->probes++;
	recover(n, now, true);
	arm_probe(n, pcb, now);
}

void mlw__tcp_recovery_run(void)
{
	struct rc_node *n;
	u32_t now;

	if (pending == NULL)
		return;
	now = sys_now();
	while ((n = pending) != NULL) {
		unpend(n);
		run_one(n, now);
	}
}
