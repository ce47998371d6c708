/* syn_mss.c - the MSS option of outgoing SYN and SYN-ACK segments, lowered to a socket's TCP_MAXSEG (LWIP_HOOK_TCP_OUT_ADD_TCPOPTS).
 *
 * lwIP (2.1.3 and 2.2.1 alike) writes TCP_MSS, reduced to the outgoing
 * netif's MTU, into every SYN it sends (tcp_output_segment); pcb->mss is
 * what it sends, not what it announces, and tcp_connect() resets it. The
 * hook runs in tcp_output_segment after the options are written and before
 * the checksum: for a segment with SYN, whose first option is always the
 * MSS, mlw__tcp_syn_mss() (socket-api/tcp.c) names the socket's limit and
 * a smaller value replaces the announced one. Without the socket layer
 * linked, the weak default below leaves the option as lwIP wrote it.
 */
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"

__attribute__((weak)) u16_t mlw__tcp_syn_mss(const struct tcp_pcb *pcb)
{
	(void)pcb;
	return 0;
}

void mlw__tcp_syn_opts(const struct tcp_pcb *pcb, struct tcp_hdr *hdr)
{
	u8_t *o = (u8_t *)(hdr + 1);
	u16_t want, cur;

	if (TCPH_HDRLEN(hdr) < 6 || o[0] != 2 /* MSS */ || o[1] != 4)
		return;
	want = mlw__tcp_syn_mss(pcb);
	cur = (u16_t)(o[2] << 8 | o[3]);
	if (want != 0 && want < cur) {
		o[2] = (u8_t)(want >> 8);
		o[3] = (u8_t)want;
	}
}
