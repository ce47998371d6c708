/* syn_opts.c - a socket's TCP_MAXSEG and SO_RCVBUF in the SYN and SYN-ACK it sends: the MSS option and the window lowered (LWIP_HOOK_TCP_OUT_ADD_TCPOPTS).
 *
 * lwIP (2.1.3 and 2.2.1 alike) writes TCP_MSS, reduced to the outgoing
 * netif's MTU, into every SYN it sends (tcp_output_segment); pcb->mss is
 * what it sends, not what it announces, and tcp_connect() resets it. Its
 * SYN also offers the whole 64 KiB unscaled window. The hook runs in
 * tcp_output_segment after the header and options are written and before
 * the checksum: for a segment with SYN, whose first option is always the
 * MSS, mlw__tcp_syn_limits() (socket-api/tcp.c) names the socket's limits
 * and smaller values replace lwIP's. For a SYN-ACK the right edge lwIP
 * remembers announcing (rcv_ann_right_edge, set just before) moves with
 * the window, so later segments keep to it. The PCB's rcv_wnd and
 * rcv_ann_wnd are left alone here: tcp_parseopt() asserts that they are
 * untouched when a SYN with window scaling arrives; the socket layer cuts
 * the window once the connection is established. Without the socket layer
 * linked, the weak default below leaves the segment as lwIP wrote it.
 */
#include "lwip/def.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"

__attribute__((weak)) void mlw__tcp_syn_limits(const struct tcp_pcb *pcb, u16_t *mss, u32_t *wnd)
{
	(void)pcb;
	*mss = 0;
	*wnd = 0;
}

void mlw__tcp_syn_opts(struct tcp_pcb *pcb, struct tcp_hdr *hdr)
{
	u8_t *o = (u8_t *)(hdr + 1);
	u16_t mss, cur;
	u32_t wnd;

	mlw__tcp_syn_limits(pcb, &mss, &wnd);
	if (mss != 0 && TCPH_HDRLEN(hdr) >= 6 && o[0] == 2 /* MSS */ && o[1] == 4) {
		cur = (u16_t)(o[2] << 8 | o[3]);
		if (mss < cur) {
			o[2] = (u8_t)(mss >> 8);
			o[3] = (u8_t)mss;
		}
	}
	/* A SYN's window is never scaled (RFC 7323). */
	if (wnd != 0 && wnd < lwip_ntohs(hdr->wnd)) {
		hdr->wnd = lwip_htons((u16_t)wnd);
		if (pcb->state == SYN_RCVD)
			pcb->rcv_ann_right_edge = pcb->rcv_nxt + wnd;
	}
}
