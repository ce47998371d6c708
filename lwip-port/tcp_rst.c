/* tcp_rst.c - a reset lwIP sends in reply to a received segment gets the form RFC 9293 and Linux give it: no ACK bit after a segment with ACK, sequence number 0 after one without.
 *
 * Call chain: tcp_input -> (tcp_listen_input | tcp_process |
 * tcp_timewait_input | no PCB) -> tcp_rst / tcp_rst_netif ->
 * tcp_rst_common -> tcp_output_fill_options ->
 * LWIP_HOOK_TCP_OUT_ADD_TCPOPTS (mlw_lwip_hooks.h; inline: RST bit set)
 * -> mlw__tcp_out_rst, before tcp_output_control computes the checksum.
 *
 * lwIP (2.1.3 and 2.2.1) sends every reset with ACK set, <SEQ=SEG.ACK>
 * <ACK=SEG.SEQ+SEG.LEN>, whatever the segment it answers carried. RFC 9293
 * 3.10.7.1 (and Linux's tcp_v4_send_reset/tcp_v6_send_reset): if the
 * segment has ACK set, <SEQ=SEG.ACK><CTL=RST>; otherwise <SEQ=0>
 * <ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. A reset is taken as such a reply when
 * it is built while lwIP processes a received TCP segment (lwIP's current
 * IP header is set) whose ports are the reset's swapped and whose
 * acknowledgment field is the reset's sequence number; that also covers
 * lwIP aborting the connection of that segment (data after the receive
 * side was shut), where Linux answers the same way. Its window becomes 0,
 * as Linux's. Resets sent outside input (close with unread data, timers)
 * keep ACK, as Linux's active resets do. IPv6 segments with extension
 * headers keep lwIP's form.
 */
#include <string.h>

#include "lwip/def.h"
#include "lwip/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"

#include "mlw_lwip_hooks.h"

static _Thread_local u64_t rewritten;

u64_t mlw__tcp_rst_rewritten(void)
{
	return rewritten;
}

u32_t *mlw__tcp_out_rst(struct tcp_hdr *out, u32_t *opts)
{
	const u8_t *in;
	u16_t in_src, in_dst;
	u32_t in_ack;

	if (ip_current_netif() == NULL)
		return opts;	/* not while a segment is received */
#if LWIP_IPV6
	if (ip_current_is_v6()) {
		const u8_t *h = (const u8_t *)ip6_current_header();

		if (h[6] != IP_PROTO_TCP || ip_current_header_tot_len() != 40)
			return opts;
		in = h + 40;
	} else
#endif
	{
		const struct ip_hdr *h = ip4_current_header();

		if (IPH_PROTO(h) != IP_PROTO_TCP)
			return opts;
		in = (const u8_t *)h + IPH_HL_BYTES(h);
	}
	/* tcp_input turned the received header's ports, sequence and
	 * acknowledgment numbers to host order in place. */
	memcpy(&in_src, in, 2);
	memcpy(&in_dst, in + 2, 2);
	memcpy(&in_ack, in + 8, 4);
	if (in_src != lwip_ntohs(out->dest) || in_dst != lwip_ntohs(out->src) ||
	    in_ack != lwip_ntohl(out->seqno))
		return opts;
	if (in[13] & TCP_ACK) {
		((u8_t *)out)[13] &= (u8_t)~TCP_ACK;
		out->ackno = 0;
	} else {
		out->seqno = 0;
	}
	out->wnd = 0;
	rewritten++;
	return opts;
}
