/* tcp_recovery_private.h - SACK-based loss recovery (RFC 6675 with RACK-style detection, RFC 8985) and NewReno partial-ACK retransmission (RFC 6582) for lwIP's sender, driven from mlwip's hooks (tcp_recovery.c). */
#ifndef MLW_TCP_RECOVERY_PRIVATE_H
#define MLW_TCP_RECOVERY_PRIVATE_H

#include <stdbool.h>

#include "lwip/arch.h"

struct tcp_pcb;
struct tcp_hdr;
struct pbuf;

/* A received segment with ACK set, for a synchronized connection with data
 * in flight, before lwIP reads it (LWIP_HOOK_TCP_INPACKET_PCB): its SACK
 * blocks are kept for mlw__tcp_recovery_run(); a connection in recovery
 * keeps lwIP out of its own fast retransmit (TF_INFR). */
void mlw__tcp_rec_in(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
		     u8_t *opt2);

/* After lwIP processed the shard's segments (tcp_timer.c's settle, at the
 * end of each pass): marks SACKed segments, detects losses and
 * retransmits them, for every connection the input hook saw. */
void mlw__tcp_recovery_run(void);

/* The retransmission timer fired (tcp_timer.c, after lwIP moved the
 * unacknowledged segments back to unsent): the recovery episode and the
 * scoreboard end (RFC 6675 5.1: the sender may keep it; mlwip's go-back-N
 * resends everything anyway). */
void mlw__tcp_rec_rto(struct tcp_pcb *pcb);

/* A data segment lwIP sends again after an RTO (TF_RTO, below rto_end):
 * counted in lwIP's MIB retransmission counter, which lwIP itself counts
 * only for its fast retransmit (LWIP_HOOK_TCP_OUT_ADD_TCPOPTS). */
void mlw__tcp_rec_out_rto(const struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const struct pbuf *p);

/* The probe timer (RACK's reordering timeout and the tail loss probe,
 * RFC 8985 6.3 and 7) on the connection's timer wheel node (tcp_timer.c):
 * true and its deadline in *@p due (sys_now() ms) while armed;
 * mlw__tcp_rec_timer() when it is due. */
bool mlw__tcp_rec_deadline(struct tcp_pcb *pcb, u32_t *due);
void mlw__tcp_rec_timer(struct tcp_pcb *pcb, u32_t now);

/* D-SACK (RFC 2883): a data segment entirely below rcv_nxt (input hook,
 * before lwIP reads it) is reported as the first SACK block of the ACK
 * lwIP sends for it; mlw__tcp_dsack_out() (output hook, after the options
 * are written, @p opts past them) takes the block out once an ACK carried
 * it. Both declared in mlw_lwip_hooks.h too. */
void mlw__tcp_dsack_in(struct tcp_pcb *pcb, u32_t seq, u32_t len);
void mlw__tcp_dsack_out(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const u32_t *opts);

struct mlw_tcp_recovery_stats {
	u64_t episodes;		/* recovery episodes entered (cwnd halved once each) */
	u64_t episodes_lwip;	/* of which lwIP's own fast retransmit started */
	u64_t sack_rexmits;	/* segments retransmitted as lost by the scoreboard */
	u64_t rack_rexmits;	/* of which by the time rule (sent before a SACKed one) */
	u64_t newreno_rexmits;	/* partial-ACK retransmissions (RFC 6582) */
	u64_t sacked_segs;	/* segments marked SACKed */
	u64_t rto_resets;	/* episodes or scoreboards ended by an RTO */
	u64_t probe_timeouts;	/* probe timer expiries (no ACK for 2 RTT) */
	u64_t tlp_probes;	/* of which sent the last segment again (nothing SACKed) */
	u64_t node_alloc_fails;
	u64_t rto_rexmits;	/* data segments sent again after a retransmission
				   timeout (go-back-N included; also in lwIP's
				   MIB tcpRetransSegs) */
	u64_t dsack_marked;	/* duplicate segments received, to be D-SACKed */
	u64_t dsack_sent;	/* ACKs that carried a D-SACK block */
};
void mlw__tcp_recovery_stats(struct mlw_tcp_recovery_stats *out);

#endif
