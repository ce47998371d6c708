/* syn_cookie.c - SYN cookies (RFC 4987 section 3.6) for lwIP's listeners: past a listener's half-open limit a SYN is answered without a PCB, and the ACK that returns a valid cookie becomes an ordinary connection.
 *
 * Call chains (hooks in mlw_lwip_hooks.h; lwIP itself is unchanged):
 *   tcp_input -> (a listener) -> LWIP_HOOK_TCP_INPACKET_PCB (never inline
 *   for a listener) -> mlw__tcp_inpkt (input_guard.c, options checked) ->
 *   mlw__syn_cookie_listen
 *     SYN, queue full: send_synack() -> ip_output_if; ERR_ABRT
 *     ACK, valid cookie: tcp_input(synthetic SYN) -> tcp_listen_input ->
 *       tcp_next_iss -> LWIP_HOOK_TCP_ISN -> mlw__tcp_isn (isn.c) ->
 *       mlw__syn_cookie_iss (the cookie; the SYN-ACK held back) ->
 *       then tcp_input(copy of the ACK) -> tcp_process (SYN_RCVD ->
 *       ESTABLISHED, accept callback); ERR_ABRT
 *     otherwise ERR_OK: lwIP's tcp_listen_input (an ACK gets a reset)
 *
 * When. lwIP keeps a listener's half-open connections (and, through the
 * socket layer's tcp_backlog_delayed(), the ones waiting for accept()) in
 * accepts_pending and drops SYNs once it reaches the backlog; each
 * half-open PCB lives TCP_SYN_RCVD_TIMEOUT (20 s). A few spoofed SYNs a
 * second per shard kept every legitimate client out. As Linux with
 * net.ipv4.tcp_syncookies = 1: once accepts_pending reaches the limit
 * (the listener's backlog, at most [stack] syn_backlog and
 * MLW_SYN_BACKLOG_MAX), a SYN gets a cookie SYN-ACK and no state; with
 * syncookies = 2 every SYN does; with 0 lwIP drops it as before. Half-open
 * PCBs, and so heap, stay bounded by the limit whatever arrives.
 *
 * The cookie is our initial sequence number, 32 bits:
 *   bits 31..9  MAC: SipHash-2-4 under a per-shard random key (made as
 *               isn.c makes the ISN key) of the 4-tuple, the client's ISN,
 *               the time period and bits 8..0; its top 23 bits
 *   bit  8      the time period's low bit; a period is 64 s of
 *               CLOCK_MONOTONIC: a cookie is valid in its period and the
 *               next (64 to 128 s; Linux: about 2 minutes)
 *   bits 7..5   MSS: index into mss_table (the largest entry not above the
 *               client's MSS; 536 without an MSS option)
 *   bits 4..1   the client's window scale (0..14), 15: no window scale
 *   bit  0      the client offered SACK
 * So window scaling and SACK survive the cookie whether or not timestamps
 * are on (Linux keeps them in the TSval's low bits, and loses them without
 * timestamps; FreeBSD keeps them in the ISN as here). Timestamps need no
 * bit: our SYN-ACK carries them only if the SYN did, and a client puts
 * them in its ACK only if both did, so the ACK tells. The MSS is rounded
 * down to the table (Linux: 4 entries). Lost, as in Linux: the client's
 * exact MSS between table entries, and its first TSval (ts_recent starts
 * from the ACK's). Forging an ACK means guessing 23 bits per try (a
 * valid one also needs the 4-tuple's period, its ISN and our key).
 *
 * ACKs. A bare ACK for a listener is checked only within 128 s after
 * this shard last sent a cookie (Linux: tcp_synq_no_recent_overflow);
 * ack - 1 must be the cookie for seq - 1 (the client's ISN; its first data
 * segment has the same sequence number). An invalid or expired cookie
 * goes on to lwIP, which answers with a reset, as Linux does. A valid one
 * becomes a connection as if its SYN had just arrived: a SYN carrying the
 * decoded options goes through tcp_input() (nested; lwIP's listener path
 * does nothing after the hook's ERR_ABRT but free the segment, see
 * tcp_tw.c), tcp_next_iss() returns the cookie, and tcp_input_pcb is set to
 * the new PCB there so that tcp_listen_input()'s tcp_output() sends
 * nothing; the held SYN-ACK is then moved to the unacknowledged queue as if
 * sent, and a copy of the ACK (with its data) goes through tcp_input(): the
 * connection is established and accepted like any other. The listener's
 * count is kept as if the connection had passed its limit: the nested SYN
 * is not counted (TF_BACKLOGPEND cleared), the socket layer counts it once
 * it is queued for accept(). A valid cookie is dropped if that count is
 * full (u8_t): the client's retransmitted data comes back with it.
 *
 * A full accept queue (the socket layer's, mlw__tcp_accept_queue_full())
 * drops the SYN once the limit is reached, and a valid cookie's ACK, as
 * Linux drops both (sk_acceptq_is_full, ListenOverflows): the client
 * retries; cookies do not let connections past the accept backlog.
 *
 * The SYN-ACK is built here: the MSS lwIP would announce
 * (tcp_eff_send_mss_netif, then the socket's TCP_MAXSEG through
 * mlw__tcp_syn_limits), the unscaled window (lowered by SO_RCVBUF), our
 * window scale TCP_RCV_SCALE if the SYN had one, SACK permitted if it had
 * one, timestamps (TSval sys_now(), lwIP's clock) if it had them.
 *
 * Counted per shard (mlw_syn_cookie_stats): cookies sent, cookies that
 * made a connection, ACKs that failed, SYNs and valid ACKs dropped.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "lwip/def.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"
#include "mlw_syn_cookie.h"
#include "mlw_tcp_table.h"
#include "rand_private.h"
#include "siphash.h"
#include "syn_cookie_private.h"
#include "tcp_opts_private.h"

#if !LWIP_CHECKSUM_CTRL_PER_NETIF
#error "syn_cookie.c turns the TCP checksum check off for the segments it hands to tcp_input"
#endif
#if !TCP_LISTEN_BACKLOG
#error "syn_cookie.c needs lwIP's listen backlog (accepts_pending)"
#endif

#define PERIOD_SHIFT 6		/* 64 s periods */
#define WS_NONE 15u

/* Entries Linux uses (IPv4 and IPv6 tables) plus common tunnels' and jumbo. */
static const u16_t mss_table[8] = { 536, 1220, 1300, 1360, 1400, 1440, 1460, 8960 };

__attribute__((weak)) void mlw__syn_cookie_settings(struct mlw_syn_cookie_settings *s)
{
	(void)s;
}

/* The shard's settings, within bounds. */
static void settings(struct mlw_syn_cookie_settings *s)
{
	s->mode = MLW_SYNCOOKIES_ON_FULL;
	s->backlog = MLW_SYN_BACKLOG_MAX;
	s->timeout_ms = TCP_SYN_RCVD_TIMEOUT;
	mlw__syn_cookie_settings(s);
	if (s->mode > MLW_SYNCOOKIES_ALWAYS)
		s->mode = MLW_SYNCOOKIES_ON_FULL;
	if (s->backlog < 1)
		s->backlog = 1;
	if (s->backlog > MLW_SYN_BACKLOG_MAX)
		s->backlog = MLW_SYN_BACKLOG_MAX;
	if (s->timeout_ms == 0)
		s->timeout_ms = TCP_SYN_RCVD_TIMEOUT;
}

uint32_t mlw__syn_rcvd_timeout_ms(void)
{
	struct mlw_syn_cookie_settings s;

	settings(&s);
	return s.timeout_ms;
}

__attribute__((weak)) bool mlw__tcp_accept_queue_full(const struct tcp_pcb_listen *lpcb)
{
	(void)lpcb;
	return false;
}

/* Per shard thread. */
static _Thread_local struct {
	uint8_t key[16];
	bool key_ready;
	bool sent_any;
	u32_t last_sent;	/* period of the last cookie sent */
	bool inner;		/* the synthetic SYN is in tcp_input */
	u32_t iss;		/* its ISN */
	struct tcp_pcb *npcb;	/* the PCB lwIP made for it */
	struct mlw_syn_cookie_stats st;
} sc;

void mlw__syn_cookie_stats(struct mlw_syn_cookie_stats *out)
{
	*out = sc.st;
}

static u32_t period_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u32_t)((uint64_t)ts.tv_sec >> PERIOD_SHIFT);
}

static size_t put_addr(uint8_t *b, const ip_addr_t *a)
{
#if LWIP_IPV6
	if (IP_IS_V6(a)) {
		memcpy(b, ip_2_ip6(a)->addr, 16);
		return 16;
	}
#endif
	memcpy(b, &ip_2_ip4(a)->addr, 4);
	return 4;
}

/* The 23-bit MAC, in bits 31..9. */
static u32_t cookie_mac(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote, u16_t rport,
			u32_t client_isn, u32_t period, u32_t data)
{
	uint8_t msg[16 + 16 + 2 + 2 + 4 + 4 + 2];
	size_t n = 0;

	if (!sc.key_ready) {
		if (mlw__random_bytes(sc.key, sizeof(sc.key)) != 0) {
			for (size_t i = 0; i < sizeof(sc.key); i += 4) {
				uint32_t r = mlw__lwip_rand();

				memcpy(sc.key + i, &r, 4);
			}
		}
		sc.key_ready = true;
	}
	n += put_addr(msg + n, local);
	n += put_addr(msg + n, remote);
	memcpy(msg + n, &lport, 2);
	n += 2;
	memcpy(msg + n, &rport, 2);
	n += 2;
	memcpy(msg + n, &client_isn, 4);
	n += 4;
	memcpy(msg + n, &period, 4);
	n += 4;
	msg[n++] = (uint8_t)data;
	msg[n++] = (uint8_t)(data >> 8);
	return (u32_t)(mlw__siphash24(sc.key, msg, n) >> 32) & ~0x1ffu;
}

/* What a SYN offered, as far as lwIP reads it. */
struct syn_offer {
	u16_t mss;	/* 0: no option */
	u8_t ws;	/* WS_NONE: no option */
	bool sack, ts;
	u32_t tsval;
};

static u32_t get32(const struct mlw__tcp_opts *o, u16_t i)
{
	u32_t v = 0;

	for (u16_t k = 0; k < 4; k++)
		v = v << 8 | *mlw__tcp_opt_at(o, (u16_t)(i + k));
	return v;
}

/* The options lwIP's tcp_parseopt() would take (input_guard.c already cut
 * malformed ones and hid wrong lengths). */
static void parse_offer(const struct mlw__tcp_opts *o, struct syn_offer *f)
{
	u16_t i = 0, l;

	memset(f, 0, sizeof(*f));
	f->ws = WS_NONE;
	for (; i < o->len && (l = mlw__tcp_opt_len(o, i)) != 0; i = (u16_t)(i + l)) {
		u8_t kind = *mlw__tcp_opt_at(o, i);

		if (kind == 2 && l == 4)
			f->mss = (u16_t)(*mlw__tcp_opt_at(o, (u16_t)(i + 2)) << 8 |
					 *mlw__tcp_opt_at(o, (u16_t)(i + 3)));
		else if (kind == 3 && l == 3)
			f->ws = (u8_t)LWIP_MIN(*mlw__tcp_opt_at(o, (u16_t)(i + 2)), 14);
		else if (kind == 4 && l == 2)
			f->sack = true;
		else if (kind == 8 && l == 10) {
			f->ts = true;
			f->tsval = get32(o, (u16_t)(i + 2));
		}
	}
#if !LWIP_WND_SCALE
	f->ws = WS_NONE;
#endif
#if !LWIP_TCP_SACK_OUT
	f->sack = false;
#endif
#if !LWIP_TCP_TIMESTAMPS
	f->ts = false;
#endif
}

static u32_t encode_data(const struct syn_offer *f, u32_t period)
{
	u32_t idx = 0;
	u16_t mss = f->mss != 0 ? f->mss : 536;

	while (idx + 1 < LWIP_ARRAYSIZE(mss_table) && mss_table[idx + 1] <= mss)
		idx++;
	return (period & 1u) << 8 | idx << 5 | (u32_t)f->ws << 1 | (f->sack ? 1u : 0u);
}

static u8_t *put_opt32(u8_t *b, u32_t v)
{
	b[0] = (u8_t)(v >> 24);
	b[1] = (u8_t)(v >> 16);
	b[2] = (u8_t)(v >> 8);
	b[3] = (u8_t)v;
	return b + 4;
}

/* The window a SYN-ACK of @p lpcb announces, and in *@p mss the socket's
 * TCP_MAXSEG (0: none), as for lwIP's SYN-ACK (syn_opts.c): the socket
 * layer finds them from a SYN_RCVD PCB of the listener. */
static u16_t syn_limits(struct tcp_pcb *lpcb, u16_t *mss)
{
	u16_t wnd = TCPWND_MIN16(TCP_WND);
	struct tcp_pcb fake;
	u32_t lim_wnd;

	memset(&fake, 0, sizeof(fake));
	fake.state = SYN_RCVD;
	fake.listener = (struct tcp_pcb_listen *)lpcb;
	fake.callback_arg = lpcb->callback_arg;
	mlw__tcp_syn_limits(&fake, mss, &lim_wnd);
	if (lim_wnd != 0 && lim_wnd < wnd)
		wnd = (u16_t)lim_wnd;
	return wnd;
}

/* Answers the SYN @p hdr (host order) for @p lpcb with a cookie SYN-ACK. */
static bool send_synack(struct tcp_pcb *lpcb, const struct tcp_hdr *hdr, const struct syn_offer *f)
{
	struct netif *nif = ip_current_input_netif();
	const ip_addr_t *local = ip_current_dest_addr(), *remote = ip_current_src_addr();
	u32_t period = period_now(), data = encode_data(f, period), iss;
	u16_t optlen = 4, mss = TCP_MSS, wnd, lim_mss;
	struct tcp_hdr *h;
	struct pbuf *q;
	u8_t *b;
	err_t err;

	iss = cookie_mac(local, hdr->dest, remote, hdr->src, hdr->seqno, period, data) | data;
#if TCP_CALCULATE_EFF_SEND_MSS
	mss = tcp_eff_send_mss_netif(mss, nif, remote);
#endif
	wnd = syn_limits(lpcb, &lim_mss);
	if (lim_mss != 0 && lim_mss < mss)
		mss = lim_mss;
	if (f->ws != WS_NONE)
		optlen += 4;
	if (f->sack)
		optlen += 4;
	if (f->ts)
		optlen += 12;
	q = pbuf_alloc(PBUF_IP, (u16_t)(TCP_HLEN + optlen), PBUF_RAM);
	if (q == NULL)
		return false;
	h = q->payload;
	memset(h, 0, TCP_HLEN);
	h->src = lwip_htons(hdr->dest);
	h->dest = lwip_htons(hdr->src);
	h->seqno = lwip_htonl(iss);
	h->ackno = lwip_htonl(hdr->seqno + 1);
	TCPH_HDRLEN_FLAGS_SET(h, (TCP_HLEN + optlen) / 4, TCP_SYN | TCP_ACK);
	h->wnd = lwip_htons(wnd);
	b = (u8_t *)(h + 1);
	b = put_opt32(b, 0x02040000u | mss);
	if (f->ws != WS_NONE)
		b = put_opt32(b, 0x01030300u | TCP_RCV_SCALE);
	if (f->sack)
		b = put_opt32(b, 0x01010402u);
	if (f->ts) {
		b = put_opt32(b, 0x0101080au);
		b = put_opt32(b, sys_now());
		put_opt32(b, f->tsval);
	}
#if CHECKSUM_GEN_TCP
	IF__NETIF_CHECKSUM_ENABLED(nif, NETIF_CHECKSUM_GEN_TCP) {
		h->chksum = ip_chksum_pseudo(q, IP_PROTO_TCP, q->tot_len, local, remote);
	}
#endif
	err = ip_output_if(q, local, remote, TCP_TTL, 0, IP_PROTO_TCP, nif);
	pbuf_free(q);
	TCP_STATS_INC(tcp.xmit);
	if (err != ERR_OK)
		return false;
	sc.st.sent++;
	sc.sent_any = true;
	sc.last_sent = period;
	return true;
}

/* The decoded options of a valid cookie @p cookie in *@p f, or false. */
static bool check_cookie(const struct tcp_hdr *hdr, const struct mlw__tcp_opts *o, u32_t cookie,
			 struct syn_offer *f)
{
	u32_t now = period_now(), data = cookie & 0x1ffu, period;
	struct syn_offer ack;

	period = ((data >> 8) & 1u) == (now & 1u) ? now : now - 1;
	if (cookie_mac(ip_current_dest_addr(), hdr->dest, ip_current_src_addr(), hdr->src,
		       hdr->seqno - 1, period, data) != (cookie & ~0x1ffu))
		return false;
	memset(f, 0, sizeof(*f));
	f->mss = mss_table[(data >> 5) & 7u];
	f->ws = (u8_t)((data >> 1) & 0xfu);
	f->sack = (data & 1u) != 0;
	parse_offer(o, &ack);
	f->ts = ack.ts;
	f->tsval = ack.tsval;
	return f->ws == WS_NONE || f->ws <= 14;
}

/* A segment in network order in a new pbuf: the TCP header @p hdr (host
 * order, as tcp_input left it) with options @p opt (@p optlen bytes) and
 * the data of @p p (may be NULL). */
static struct pbuf *segment(const struct tcp_hdr *hdr, u8_t flags, u32_t seq, u32_t ack,
			    const u8_t *opt, u16_t optlen, const struct mlw__tcp_opts *o2,
			    struct pbuf *p)
{
	u16_t olen = o2 != NULL ? o2->len : optlen, hlen = (u16_t)(TCP_HLEN + olen);
	u16_t dlen = p != NULL ? p->tot_len : 0;
	struct tcp_hdr *h;
	struct pbuf *q;
	u8_t *b;

	if (dlen > 0xffffu - hlen)
		return NULL;
	q = pbuf_alloc(PBUF_RAW, (u16_t)(hlen + dlen), PBUF_RAM);
	if (q == NULL)
		return NULL;
	b = q->payload;
	h = (struct tcp_hdr *)b;
	memset(h, 0, TCP_HLEN);
	h->src = lwip_htons(hdr->src);
	h->dest = lwip_htons(hdr->dest);
	h->seqno = lwip_htonl(seq);
	h->ackno = lwip_htonl(ack);
	TCPH_HDRLEN_FLAGS_SET(h, hlen / 4, flags);
	h->wnd = lwip_htons(hdr->wnd);
	h->urgp = hdr->urgp;
	if (o2 != NULL) {
		memcpy(b + TCP_HLEN, o2->a, o2->alen);
		if (o2->len > o2->alen)
			memcpy(b + TCP_HLEN + o2->alen, o2->b, (size_t)(o2->len - o2->alen));
	} else {
		memcpy(b + TCP_HLEN, opt, optlen);
	}
	if (dlen != 0)
		pbuf_copy_partial(p, b + hlen, dlen, 0);
	return q;
}

bool mlw__syn_cookie_iss(const ip_addr_t *local_ip, u32_t *iss)
{
	if (!sc.inner || sc.npcb != NULL)
		return false;
	/* tcp_next_iss(npcb) passes &npcb->local_ip. */
	sc.npcb = (struct tcp_pcb *)(void *)((u8_t *)(uintptr_t)local_ip - offsetof(struct tcp_pcb, local_ip));
	/* tcp_listen_input()'s tcp_output() then sends nothing. */
	tcp_input_pcb = sc.npcb;
	*iss = sc.iss;
	return true;
}

/* The ACK @p hdr carries the valid cookie @p cookie for the listener
 * @p lpcb: make its connection (see the file header). */
static void complete(struct tcp_pcb_listen *lpcb, const struct tcp_hdr *hdr,
		     const struct mlw__tcp_opts *o, struct pbuf *p, u32_t cookie,
		     const struct syn_offer *f)
{
	u8_t opt[24], *b = opt;
	struct tcp_pcb *saved_input = tcp_input_pcb, *npcb;
	u8_t pending = lpcb->accepts_pending;
	struct pbuf *syn, *ack;
	struct tcp_seg *seg;
	u16_t mss;

	if (pending >= 0xff || mlw__tcp_accept_queue_full(lpcb)) {
		sc.st.ack_drops++;
		return;
	}
	b = put_opt32(b, 0x02040000u | f->mss);
	if (f->ws != WS_NONE)
		b = put_opt32(b, 0x01030300u | f->ws);
	if (f->sack)
		b = put_opt32(b, 0x01010402u);
	if (f->ts) {
		b = put_opt32(b, 0x0101080au);
		b = put_opt32(b, f->tsval);
		b = put_opt32(b, 0);
	}
	syn = segment(hdr, TCP_SYN, hdr->seqno - 1, 0, opt, (u16_t)(b - opt), NULL, NULL);
	ack = segment(hdr, ((const u8_t *)hdr)[13], hdr->seqno, hdr->ackno, NULL, 0, o, p);
	if (syn == NULL || ack == NULL) {
		if (syn != NULL)
			pbuf_free(syn);
		if (ack != NULL)
			pbuf_free(ack);
		sc.st.ack_drops++;
		return;
	}
	/* lwIP's own limit must let this SYN pass. */
	lpcb->accepts_pending = 0;
	sc.inner = true;
	sc.iss = cookie;
	sc.npcb = NULL;
	mlw__tcp_redeliver(syn);
	sc.inner = false;
	tcp_input_pcb = saved_input;
	npcb = mlw__tcp_table_lookup(ip_current_dest_addr(), hdr->dest, ip_current_src_addr(),
				     hdr->src, MLW_TCP_TABLE_ACTIVE);
	if (npcb == NULL || npcb != sc.npcb || npcb->state != SYN_RCVD || npcb->unsent == NULL ||
	    npcb->unacked != NULL) {
		/* No PCB (no memory), or not ours: nothing to complete. */
		lpcb->accepts_pending = pending;
		pbuf_free(ack);
		sc.npcb = NULL;
		sc.st.ack_drops++;
		return;
	}
	sc.npcb = NULL;
	tcp_clear_flags(npcb, TF_BACKLOGPEND);
	lpcb->accepts_pending = pending;
	/* The held SYN-ACK, as if tcp_output() had sent it: it is what the
	 * cookie SYN-ACK was. */
	seg = npcb->unsent;
	npcb->unsent = seg->next;
	seg->next = NULL;
	npcb->unacked = seg;
	npcb->snd_nxt = cookie + 1;
	npcb->rcv_ann_right_edge = npcb->rcv_nxt + syn_limits((struct tcp_pcb *)lpcb, &mss);
	if (npcb->rtime < 0)
		npcb->rtime = 0;
	mlw__tcp_touch(npcb);
	sc.st.ok++;
	mlw__tcp_redeliver(ack);
}

err_t mlw__syn_cookie_listen(struct tcp_pcb *pcb, struct tcp_hdr *hdr,
			     const struct mlw__tcp_opts *o, struct pbuf *p)
{
	struct tcp_pcb_listen *lpcb = (struct tcp_pcb_listen *)pcb;
	u8_t flags = ((const u8_t *)hdr)[13];
	struct mlw_syn_cookie_settings cfg;
	struct syn_offer f;
	unsigned limit;

	if (sc.inner)
		return ERR_OK;
	if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
		settings(&cfg);
		limit = LWIP_MIN(lpcb->backlog, cfg.backlog);
		if (cfg.mode != MLW_SYNCOOKIES_ALWAYS && lpcb->accepts_pending < limit)
			return ERR_OK;
		if (cfg.mode == MLW_SYNCOOKIES_OFF || mlw__tcp_accept_queue_full(lpcb)) {
			sc.st.syn_drops++;
			return ERR_ABRT;	/* as lwIP would, counted */
		}
		parse_offer(o, &f);
		if (!send_synack(pcb, hdr, &f))
			sc.st.syn_drops++;
		return ERR_ABRT;
	}
	if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_ACK && sc.sent_any &&
	    period_now() - sc.last_sent <= 1) {
		u32_t cookie = hdr->ackno - 1;

		if (!check_cookie(hdr, o, cookie, &f)) {
			sc.st.failed++;
			return ERR_OK;	/* lwIP resets it */
		}
		complete(lpcb, hdr, o, p, cookie, &f);
		return ERR_ABRT;
	}
	return ERR_OK;
}
