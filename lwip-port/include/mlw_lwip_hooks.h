/* mlw_lwip_hooks.h - lwIP hook declarations (included by lwIP via LWIP_HOOK_FILENAME). */
#ifndef MLW_LWIP_HOOKS_H
#define MLW_LWIP_HOOKS_H

#include "lwip/err.h"
#include "lwip/ip_addr.h"

u32_t mlw__tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		   const ip_addr_t *remote_ip, u16_t remote_port);
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport) mlw__tcp_isn(lip, lport, rip, rport)

/* ICMP/ICMPv6 errors for the transport that sent the quoted datagram
 * (icmp_err.c; ICMPv6 comes through mlw__ip6_input below). The inline
 * test keeps the packet path at one byte compare; the packet always
 * continues into lwIP (mlw__icmp4/6_input return 0). */
struct pbuf;
struct netif;
int mlw__icmp4_input(struct pbuf *p, struct netif *inp);
int mlw__icmp6_input(struct pbuf *p, struct netif *inp);
#define LWIP_HOOK_IP4_INPUT(p, inp) \
	((p)->len > 9 && ((const u8_t *)(p)->payload)[9] == 1 /* ICMP */ ? mlw__icmp4_input(p, inp) : 0)

/* IPv6: ICMPv6 (errors above, and neighbour discovery checked in
 * input_guard.c) or an extension header that may lead to it (hop-by-hop 0,
 * routing 43, fragment 44, destination options 60) go to
 * mlw__ip6_input(), which may drop the packet (returns 1, freed). A TCP or
 * UDP packet pays one compare, one shift and one test. */
int mlw__ip6_input(struct pbuf *p, struct netif *inp);
#define MLW__IP6_NH_WATCHED(nh) \
	((nh) < 64 && ((1ull << (nh)) & (1ull << 0 | 1ull << 43 | 1ull << 44 | 1ull << 58 | 1ull << 60)))
#define LWIP_HOOK_IP6_INPUT(p, inp) \
	((p)->len > 6 && MLW__IP6_NH_WATCHED(((const u8_t *)(p)->payload)[6]) ? mlw__ip6_input(p, inp) : 0)

/* TCP: every received segment that found a PCB (listening, active or
 * TIME-WAIT), before lwIP looks at its flags or options (input_guard.c):
 * malformed options are cut as Linux cuts them, segments without ACK are
 * dropped in synchronized states, a SYN or RST may end TIME-WAIT
 * (tcp_tw.c), a listener may answer with a SYN cookie (syn_cookie.c). A
 * segment without options, with ACK set and SYN and RST clear (the common
 * one) for a connection passes inline: one compare, two tests. */
struct tcp_pcb;
struct tcp_hdr;
/* The connection table (tcp_table.c) shows tcp_input() lists that begin
 * with the segment's PCB; the real ones come back here, once lwIP found
 * it and before anything else runs. */
extern _Thread_local u8_t mlw__tcp_table_detached;
void mlw__tcp_table_attach(void);
#define MLW__TCP_TABLE_ATTACH() ((void)(mlw__tcp_table_detached ? mlw__tcp_table_attach() : (void)0))
err_t mlw__tcp_inpkt(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
		     u8_t *opt2, struct pbuf *p);
/* The two tests the segment hooks below share: a connection in a state
 * that sends and receives ACKs (ESTABLISHED .. LAST_ACK; a listening or
 * TIME-WAIT PCB fails it before any field it lacks is read), and a segment
 * with ACK set and SYN and RST clear. */
#define MLW__TCP_SYNCED(pcb) ((pcb)->state >= ESTABLISHED && (pcb)->state <= LAST_ACK)
#define MLW__TCP_PLAIN_ACK(hdr) ((((const u8_t *)(hdr))[13] & 0x16) == 0x10)
/* Loss recovery (tcp_recovery.c): an ACK for a synchronized connection
 * with data in flight hands its SACK blocks over before lwIP reads it. */
void mlw__tcp_rec_in(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
		     u8_t *opt2);
#define MLW__TCP_REC_IN(pcb, hdr, optlen, opt1len, opt2)                                 \
	(MLW__TCP_SYNCED(pcb) && (pcb)->unacked != NULL && MLW__TCP_PLAIN_ACK(hdr)              \
	 ? mlw__tcp_rec_in(pcb, hdr, optlen, opt1len, opt2) : (void)0)
/* A data segment (no SYN or RST) entirely below rcv_nxt, on a connection
 * with SACK: reported as a D-SACK block (RFC 2883) in the ACK lwIP sends for
 * it (tcp_recovery.c). LISTEN and TIME-WAIT PCBs fail the state test first. */
void mlw__tcp_dsack_in(struct tcp_pcb *pcb, u32_t seq, u32_t len);
void mlw__tcp_dsack_out(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const u32_t *opts);
/* A D-SACK block waits in front of lwIP's SACK blocks: lwIP's own lie
 * above rcv_nxt, so a first block ending at or below it is ours. A macro:
 * struct tcp_pcb is incomplete where this header is read. */
#define MLW__TCP_DSACK_PENDING(pcb) \
	((pcb)->rcv_sacks[0].left != (pcb)->rcv_sacks[0].right && TCP_SEQ_LEQ((pcb)->rcv_sacks[0].right, (pcb)->rcv_nxt))
#define MLW__TCP_DSACK_IN(pcb, hdr, p)                                                          \
	(MLW__TCP_SYNCED(pcb) && ((pcb)->flags & TF_SACK) &&                                    \
	 (p)->tot_len != 0 && (((const u8_t *)(hdr))[13] & 0x06) == 0 &&                        \
	 TCP_SEQ_LEQ((hdr)->seqno + (p)->tot_len, (pcb)->rcv_nxt)                                \
	 ? mlw__tcp_dsack_in(pcb, (hdr)->seqno, (p)->tot_len) : (void)0)
/* An out-of-order data segment (no SYN or RST) that starts inside the
 * receive window and ends past it, in a state that takes data: dropped
 * (input_guard.c says why). Listening and TIME-WAIT PCBs fail the state
 * test before any field they lack is read. */
#define MLW__TCP_PAST_WINDOW(pcb, hdr, p)                                                       \
	((pcb)->state >= SYN_RCVD && (pcb)->state < CLOSE_WAIT && (p)->tot_len != 0 &&          \
	 (((const u8_t *)(hdr))[13] & 0x06) == 0 && TCP_SEQ_GT((hdr)->seqno, (pcb)->rcv_nxt) &&  \
	 TCP_SEQ_LT((hdr)->seqno, (pcb)->rcv_nxt + (pcb)->rcv_wnd) &&                           \
	 TCP_SEQ_GT((hdr)->seqno + (p)->tot_len + (((const u8_t *)(hdr))[13] & 0x01u),           \
		    (pcb)->rcv_nxt + (pcb)->rcv_wnd))
/* The peer's window from an ACK that acknowledges new data, whatever its
 * sequence number (Linux's rule, tcp_may_update_window()). lwIP takes a
 * window only from a segment not older than the last one that gave it
 * (snd_wl1, RFC 9293) yet measures the window it holds from the newest
 * ACK: a data segment the peer sends again (below snd_wl1) that
 * acknowledges new data moved the right edge on by what it acknowledged,
 * and lwIP sent past the peer's window. Linux drops such segments without
 * reading their ACK, so an echo under loss stalled for good. Setting
 * snd_wl1 to the segment's sequence number makes lwIP take its window
 * (snd_wl2 is below the new ACK). */
#define MLW__TCP_SND_WND_FRESH(pcb, hdr)                                                          \
	(MLW__TCP_SYNCED(pcb) && MLW__TCP_PLAIN_ACK(hdr) &&                                       \
	 TCP_SEQ_LT((hdr)->seqno, (pcb)->snd_wl1) && TCP_SEQ_GT((hdr)->ackno, (pcb)->lastack) &&  \
	 TCP_SEQ_LEQ((hdr)->ackno, (pcb)->snd_nxt) && TCP_SEQ_LT((pcb)->snd_wl2, (hdr)->ackno)    \
	 ? (void)((pcb)->snd_wl1 = (hdr)->seqno) : (void)0)
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
	(MLW__TCP_TABLE_ATTACH(),                                            \
	 mlw__tcp_touch_in(pcb, hdr, p),                                     \
	 MLW__TCP_SND_WND_FRESH(pcb, hdr),                                   \
	 MLW__TCP_REC_IN(pcb, hdr, optlen, opt1len, opt2),                   \
	 MLW__TCP_DSACK_IN(pcb, hdr, p),                                     \
	 MLW__TCP_PAST_WINDOW(pcb, hdr, p) ? ERR_ABRT                        \
	 : (optlen) == 0 && MLW__TCP_PLAIN_ACK(hdr)                          \
	   && (pcb)->state != LISTEN ? ERR_OK                                \
	 : mlw__tcp_inpkt(pcb, hdr, optlen, opt1len, opt2, p))

/* TCP output: a reset built in reply to a received segment gets RFC 9293's
 * form (tcp_rst.c), through LWIP_HOOK_TCP_OUT_ADD_TCPOPTS below. */
u32_t *mlw__tcp_out_rst(struct tcp_hdr *out, u32_t *opts);
u64_t mlw__tcp_rst_rewritten(void);

/* What input_guard.c changed or dropped, per shard (mlw_shard_stats). */
struct mlw_input_guard_stats {
	u64_t rx_tcp_opts_cut;		/* segments whose options were cut at a malformed one */
	u64_t rx_tcp_noack_drops;	/* segments without ACK/RST/SYN dropped (SYN_RCVD..LAST_ACK) */
	u64_t rx_nd_drops;		/* ND messages dropped: bad options, fragmented, RFC 4861 7.1 */
	u64_t rx_tcp_tw_syn_reopens;	/* SYNs that ended a TIME-WAIT and went to the listener */
	u64_t rx_tcp_tw_rst_kills;	/* resets that ended a TIME-WAIT */
};
void mlw__input_guard_stats(struct mlw_input_guard_stats *out);

/* Receive those errors (socket-api/udp.c and tcp.c; weak no-ops in
 * icmp_err.c when the socket layer is not linked): the quoted datagram's
 * addresses and ports as seen from this host, TCP's sequence number, and
 * the errno value to report. */
void mlw__udp_icmp_error(const ip_addr_t *local, u16_t local_port, const ip_addr_t *remote,
			 u16_t remote_port, int err);
void mlw__tcp_icmp_error(const ip_addr_t *local, u16_t local_port, const ip_addr_t *remote,
			 u16_t remote_port, u32_t seq, int err);

/* TCP_MAXSEG and SO_RCVBUF in the SYN (syn_opts.c): a SYN or SYN-ACK
 * announces the socket's MSS and window when below lwIP's;
 * mlw__tcp_syn_limits() names them (socket-api/tcp.c; a weak default
 * giving 0, "none", in syn_opts.c). */
struct tcp_pcb;
struct tcp_hdr;
void mlw__tcp_syn_limits(const struct tcp_pcb *pcb, u16_t *mss, u32_t *wnd);
void mlw__tcp_syn_opts(struct tcp_pcb *pcb, struct tcp_hdr *hdr);

/* lwIP has one TCP output hook; it serves the above: a reset
 * (tcp_rst.c; pcb may be NULL there) and a SYN or SYN-ACK (syn_opts.c);
 * every other segment a PCB sends touches its timers (tcp_timer.c), and
 * one sent again after an RTO is counted as a retransmission
 * (tcp_recovery.c; lwIP counts only its fast retransmit), and an ACK that
 * carried a D-SACK block drops it (tcp_recovery.c). */
void mlw__tcp_rec_out_rto(const struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const struct pbuf *p);
#define LWIP_HOOK_TCP_OUT_ADD_TCPOPTS(p, hdr, pcb, opts) \
	((((const u8_t *)(hdr))[13] & 0x04 /* RST */) ? mlw__tcp_out_rst(hdr, opts) : \
	 (mlw__tcp_touch((struct tcp_pcb *)(pcb)),                                  \
	  ((pcb) != NULL && ((pcb)->flags & TF_RTO) ? mlw__tcp_rec_out_rto(pcb, hdr, p) : (void)0), \
	  ((pcb) != NULL && MLW__TCP_DSACK_PENDING(pcb)                               \
	   ? mlw__tcp_dsack_out((struct tcp_pcb *)(pcb), hdr, opts) : (void)0),          \
	  (((const u8_t *)(hdr))[13] & 0x02 /* SYN */) ? (mlw__tcp_syn_opts(pcb, hdr), (opts)) : (opts)))

/* TCP timers per connection on a wheel (tcp_timer.c), replacing lwIP's
 * walk of every connection in tcp_tmr() (linked with --wrap=tcp_tmr).
 * A touch marks a connection whose timers lwIP may have changed;
 * mlw__tcp_timer_settle() re-arms the touched ones (the shard calls it
 * at the start of each pass); mlw__tcp_timer_tick() fires what is due. */
struct tcp_pcb;
void mlw__tcp_touch(struct tcp_pcb *pcb);
void mlw__tcp_touch_in(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const struct pbuf *p);
void mlw__tcp_timer_settle(void);
void mlw__tcp_timer_tick(void);
/* Frees the shard's wheel; returns the connections still on it (0 once
 * every PCB is gone). */
int mlw__tcp_timer_fini(void);
/* SYN retransmissions allowed before a connect gives up: TCP_SYNMAXRTX,
 * or the socket's TCP_SYNCNT (socket-api/tcp.c overrides this weak one). */
u8_t mlw__tcp_syn_retries(const struct tcp_pcb *pcb);
/* tcp_output(), then the ACK it may have left unsent: lwIP's tcp_output()
 * (2.1.3 and 2.2.1) leaves without the ACK that TF_ACK_NOW asked for when
 * Nagle holds back a small unsent segment. Returns tcp_output()'s result,
 * else the empty ACK's. Used by the timer wheel's delayed ACK and the
 * socket layer's flush. */
err_t mlw__tcp_output_ack(struct tcp_pcb *pcb);
/* The connection's retransmission timeout in ms as the wheel uses it:
 * lwIP's estimate (or backed-off value) within MLW_TCP_RTO_MIN/MAX_MS. */
u32_t mlw__tcp_rto_ms(const struct tcp_pcb *pcb);

struct mlw_tcp_timer_stats {
	u64_t ticks;
	u64_t visits;		/* connections looked at by the wheel */
	u64_t rto_fired;	/* retransmission timeouts */
	u64_t rto_aborts;	/* connections ended after the last retransmission */
	u64_t persist_probes;	/* zero-window probes */
	u64_t keepalive_probes;
	u64_t keepalive_aborts;
	u64_t delayed_acks;	/* sent by the timer (raw-API connections) */
	u64_t hole_fill_acks;	/* immediate ACKs for data filling a hole */
	u64_t state_timeouts;	/* SYN-RCVD, LAST-ACK, FIN-WAIT-2 ended */
	u64_t tw_expired;	/* TIME-WAIT ended after 2 MSL */
	u64_t iw_raised;	/* connections given RFC 6928's initial window */
	u64_t node_alloc_fails;	/* no heap for a connection's timer node */
	u64_t output_retries;	/* tcp_output() again for data stuck unsent */
	u64_t accepts;		/* new connections handed to a listener's accept
				   callback (TCP_EVENT_ACCEPT below), SYN cookies'
				   included */
};
void mlw__tcp_timer_stats(struct mlw_tcp_timer_stats *out);

/*
 * Connection table (tcp_table.c): a build-time substitution through lwIP's
 * hook header. lwIP's tcp.c and tcp_in.c include lwip/priv/tcp_priv.h and
 * then this file (LWIP_HOOK_FILENAME), so the list macros TCP_REG and
 * TCP_RMV defined there are replaced here, for those files only, by calls
 * that do the same to the list (push to the front and tcp_timer_needed();
 * unlink and clear ->next) and keep the table: O(1) unlinking and lookup
 * by 4-tuple. TCP_REG_ACTIVE, TCP_RMV_ACTIVE and tcp_pcb_remove() use
 * them. lwIP's source is not changed; a file that included this header
 * before tcp_priv.h would keep lwIP's macros, which the table's tests
 * would catch (its PCBs would not be found).
 */
/*
 * Accepted connections: lwIP hands a connection to its listener's accept
 * callback through TCP_EVENT_ACCEPT (tcp_in.c: SYN-RECEIVED -> ESTABLISHED,
 * also for a connection a SYN cookie made; with a NULL PCB and ERR_MEM when
 * no PCB could be allocated). Replaced here, for the files that include
 * this header after tcp_priv.h, by the same call preceded by a count of
 * the calls that hand over a connection (tcp_timer.c keeps it).
 */
#if defined(TCP_EVENT_ACCEPT) && LWIP_CALLBACK_API
void mlw__tcp_accepted(void);
#undef TCP_EVENT_ACCEPT
#define TCP_EVENT_ACCEPT(lpcb, pcb, arg, err, ret)                              \
	do {                                                                    \
		if ((pcb) != NULL && (err) == ERR_OK)                           \
			mlw__tcp_accepted();                                    \
		if ((lpcb)->accept != NULL)                                     \
			(ret) = (lpcb)->accept((arg), (pcb), (err));            \
		else                                                            \
			(ret) = ERR_ARG;                                        \
	} while (0)
#endif

#ifdef TCP_REG
struct tcp_pcb;
void mlw__tcp_reg(struct tcp_pcb **pcbs, struct tcp_pcb *npcb);
void mlw__tcp_rmv(struct tcp_pcb **pcbs, struct tcp_pcb *npcb);
#undef TCP_REG
#define TCP_REG(pcbs, npcb) mlw__tcp_reg((pcbs), (npcb))
#endif
#ifdef TCP_RMV
#undef TCP_RMV
#define TCP_RMV(pcbs, npcb) mlw__tcp_rmv((pcbs), (npcb))
#endif

#endif /* MLW_LWIP_HOOKS_H */
