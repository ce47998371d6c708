/* tcp_tw.c - TIME-WAIT as Linux keeps it: a new SYN on the 4-tuple opens a new connection at once (RFC 6191), a reset with the expected sequence number ends TIME-WAIT.
 *
 * Call chain (hooks in mlw_lwip_hooks.h; lwIP itself is unchanged):
 *   tcp_input -> (no active PCB, a TIME-WAIT one) ->
 *   LWIP_HOOK_TCP_INPACKET_PCB (inline: SYN or RST set) -> mlw__tcp_inpkt
 *   (input_guard.c, options checked) -> mlw__tcp_tw_input
 *     SYN accepted: tcp_abort(TIME-WAIT PCB) -> tcp_input(copy of the
 *       segment) -> tcp_listen_input -> SYN-ACK; returns ERR_ABRT
 *     reset accepted: tcp_abort(TIME-WAIT PCB); returns ERR_ABRT
 *     another SYN: tcp_output(ACK); returns ERR_ABRT
 *   -> otherwise tcp_timewait_input (a reset ignored, RFC 1337)
 *
 * lwIP answers a new SYN for a 4-tuple in TIME-WAIT with an ACK (an RST when
 * the SYN lies inside the old receive window) and ignores resets there. A
 * client that reuses its port (Linux's connect walks its port range and
 * comes back to the same port; ab and wrk churn through it) then waits in
 * connect until lwIP's TIME-WAIT (2 * TCP_MSL) ends, or fails on the RST.
 * Linux (tcp_timewait_state_process, net.ipv4.tcp_rfc1337 = 0):
 * - A SYN without ACK and RST is accepted if its sequence number is after
 *   the old connection's rcv_nxt, or, when it carries timestamps, if its
 *   TSval is newer than the old connection's ts_recent; one whose TSval is
 *   older is refused (PAWS). RFC 6191 says the same, and that a SYN with
 *   timestamps is accepted when the old connection had none. The
 *   TIME-WAIT socket goes and the SYN opens a connection on the listener.
 * - A reset whose sequence number is rcv_nxt (and that PAWS does not
 *   refuse) ends TIME-WAIT ("TIME-WAIT assassination", which Linux allows
 *   by default). A Linux client in SYN-SENT sends exactly that reset when
 *   its SYN was answered with TIME-WAIT's ACK, then resends the SYN 1 s
 *   later and finds the listener.
 * - Any other SYN is answered with an ACK (lwIP resets one that lies in
 *   the old receive window: the peer's connect fails).
 * mlwip does the same. Timestamps count only with LWIP_TCP_TIMESTAMPS
 * (without, the new connection would not use them).
 *
 * The SYN reaches the listener in the same pass: tcp_abort() frees a
 * TIME-WAIT PCB without sending anything or calling any callback, and the
 * segment goes through tcp_input() once more. tcp_input is not reentrant
 * (its per-packet state is in file-scope statics), but on the TIME-WAIT path
 * lwIP (2.1.3 and 2.2.1) does nothing after the hook returns an error except
 * free its pbuf and return, so the inner call may overwrite that state; and
 * lwIP's current IP header and addresses (ip_data) still describe the same
 * packet. tcp_input had turned the header's ports, numbers and window to
 * host order in place and stripped the header from the pbuf, so the inner
 * call gets a copy in a new pbuf (shard heap) in network order. Its checksum
 * was verified once (input_guard.c may since have changed options, which it
 * does not correct), so the copy's is not checked again. The inner call
 * finds no TIME-WAIT PCB for the 4-tuple any more; it is kept from coming
 * back here all the same. Without a listener lwIP answers it with a reset,
 * as Linux does. Without memory for the copy the PCB still goes and the SYN
 * is dropped: the client's retransmission finds the listener.
 *
 * Counted per shard in rx_tcp_tw_syn_reopens and rx_tcp_tw_rst_kills.
 */
#include <stdbool.h>
#include <string.h>

#include "lwip/def.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"
#include "tcp_opts_private.h"

#if !LWIP_CHECKSUM_CTRL_PER_NETIF
#error "tcp_tw.c turns the TCP checksum check off for the segment it hands to tcp_input again"
#endif

/* Per shard thread. */
static _Thread_local struct {
	u64_t syn_reopens, rst_kills;
	bool inner;	/* in the inner tcp_input() call */
} tw;

void mlw__tcp_tw_stats(struct mlw_input_guard_stats *out)
{
	out->rx_tcp_tw_syn_reopens = tw.syn_reopens;
	out->rx_tcp_tw_rst_kills = tw.rst_kills;
}

#if LWIP_TCP_TIMESTAMPS
/* The TSval of the segment's timestamps option, if it has one (the walk
 * stops at EOL and at a malformed option, as input_guard.c's). */
static bool tsval_of(const struct mlw__tcp_opts *o, u32_t *tsval)
{
	u16_t i = 0, l;

	for (; i < o->len && (l = mlw__tcp_opt_len(o, i)) != 0; i = (u16_t)(i + l)) {
		if (*mlw__tcp_opt_at(o, i) != 8 || l != 10)
			continue;
		*tsval = 0;
		for (u16_t k = 2; k < 6; k++)
			*tsval = *tsval << 8 | *mlw__tcp_opt_at(o, (u16_t)(i + k));
		return true;
	}
	return false;
}
#endif

/* Whether @p pcb's old connection used timestamps and the segment carries
 * an older TSval (*@p has_ts: it carries one, @p tsval). */
static bool paws_rejects(const struct tcp_pcb *pcb, const struct mlw__tcp_opts *o, bool *has_ts,
			 u32_t *tsval)
{
	*has_ts = false;
#if LWIP_TCP_TIMESTAMPS
	*has_ts = tsval_of(o, tsval);
	return *has_ts && (pcb->flags & TF_TIMESTAMP) && (s32_t)(pcb->ts_recent - *tsval) > 0;
#else
	(void)pcb;
	(void)o;
	(void)tsval;
	return false;
#endif
}

/* RFC 6191 / Linux: a SYN (no ACK, no RST) with sequence number @p seq may
 * end @p pcb's TIME-WAIT. */
static bool syn_acceptable(const struct tcp_pcb *pcb, u32_t seq, const struct mlw__tcp_opts *o)
{
	bool has_ts;
	u32_t tsval = 0;

	if (paws_rejects(pcb, o, &has_ts, &tsval))
		return false;
#if LWIP_TCP_TIMESTAMPS
	if (has_ts && (!(pcb->flags & TF_TIMESTAMP) || tsval != pcb->ts_recent))
		return true;	/* newer TSval, or the old connection had none */
#endif
	return TCP_SEQ_GT(seq, pcb->rcv_nxt);
}

/* The segment as it arrived, from the TCP header on, in a new pbuf:
 * tcp_input turned src, dest, seqno, ackno and wnd to host order in @p hdr
 * and left @p p at the data. */
static struct pbuf *copy_segment(const struct tcp_hdr *hdr, const struct mlw__tcp_opts *o,
				 struct pbuf *p)
{
	u16_t hlen = (u16_t)(TCP_HLEN + o->len);
	struct pbuf *q;
	struct tcp_hdr *h;
	u8_t *b;

	if (p->tot_len > 0xffffu - hlen)
		return NULL;
	q = pbuf_alloc(PBUF_RAW, (u16_t)(hlen + p->tot_len), PBUF_RAM);
	if (q == NULL)
		return NULL;
	b = q->payload;
	memcpy(b, hdr, TCP_HLEN);
	h = (struct tcp_hdr *)b;
	h->src = lwip_htons(hdr->src);
	h->dest = lwip_htons(hdr->dest);
	h->seqno = lwip_htonl(hdr->seqno);
	h->ackno = lwip_htonl(hdr->ackno);
	h->wnd = lwip_htons(hdr->wnd);
	memcpy(b + TCP_HLEN, o->a, o->alen);
	if (o->len > o->alen)
		memcpy(b + TCP_HLEN + o->alen, o->b, (size_t)(o->len - o->alen));
	pbuf_copy_partial(p, b + hlen, p->tot_len, 0);
	return q;
}

/* @p q, a copy of the segment being processed (its checksum verified),
 * through tcp_input() again, counted once (tcp_tw.c: to the listener, see
 * the file header; syn_cookie.c: a cookie's synthetic SYN and its ACK). */
void mlw__tcp_redeliver(struct pbuf *q)
{
	struct netif *inp = ip_current_input_netif();
	u16_t ck = inp->chksum_flags;

	NETIF_SET_CHECKSUM_CTRL(inp, (u16_t)(ck & ~NETIF_CHECKSUM_CHECK_TCP));
	tcp_input(q, inp);
	NETIF_SET_CHECKSUM_CTRL(inp, ck);
	/* One segment received, counted once. */
#if TCP_STATS
	lwip_stats.tcp.recv--;
#endif
#if MIB2_STATS
	lwip_stats.mib2.tcpinsegs--;
#endif
}

err_t mlw__tcp_tw_input(struct tcp_pcb *pcb, struct tcp_hdr *hdr, const struct mlw__tcp_opts *o,
			struct pbuf *p)
{
	u8_t flags = ((const u8_t *)hdr)[13];
	bool has_ts;
	u32_t tsval = 0;
	struct pbuf *q;

	if (flags & TCP_RST) {
		if (hdr->seqno != pcb->rcv_nxt || paws_rejects(pcb, o, &has_ts, &tsval))
			return ERR_OK;	/* lwIP ignores it */
		tcp_abort(pcb);
		tw.rst_kills++;
		return ERR_ABRT;
	}
	if (tw.inner)
		return ERR_OK;
	if (!(flags & TCP_ACK) && syn_acceptable(pcb, hdr->seqno, o)) {
		q = copy_segment(hdr, o, p);
		tcp_abort(pcb);
		tw.syn_reopens++;
		if (q != NULL) {
			tw.inner = true;
			mlw__tcp_redeliver(q);
			tw.inner = false;
		}
		return ERR_ABRT;
	}
	/* Any other SYN gets an ACK, as from Linux; lwIP would reset one
	 * inside the old receive window, which fails the peer's connect
	 * (ECONNREFUSED) where Linux's ACK makes the peer reset TIME-WAIT
	 * and retry. tcp_input_pcb is not this PCB: tcp_output() sends. */
	tcp_ack_now(pcb);
	tcp_output(pcb);
	return ERR_ABRT;
}
