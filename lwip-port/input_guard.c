/* input_guard.c - received TCP segments and IPv6 neighbour discovery messages that lwIP 2.1.3 and 2.2.1 would mis-parse or accept against RFC 9293/4861, fixed up or dropped before lwIP reads them.
 *
 * Call chains (hooks in mlw_lwip_hooks.h; lwIP itself is unchanged):
 *   tcp_input -> LWIP_HOOK_TCP_INPACKET_PCB (inline: no options, ACK set,
 *     SYN and RST clear passes) -> mlw__tcp_inpkt -> tcp_listen_input / tcp_process /
 *     tcp_timewait_input (-> tcp_parseopt) unless it returned an error;
 *     a SYN or RST for a TIME-WAIT PCB first goes to mlw__tcp_tw_input
 *     (tcp_tw.c); a segment for a listener goes to mlw__syn_cookie_listen
 *     (syn_cookie.c)
 *   ip6_input -> LWIP_HOOK_IP6_INPUT (inline: ICMPv6 or an extension
 *     header) -> mlw__ip6_input -> nd6_input / icmp6_input (icmp_err.c)
 *
 * TCP options. tcp_parseopt() reads an option's length byte without
 * checking that it lies inside the options (an option kind in the last
 * option byte makes it read the byte after them: data, or past the
 * packet). Linux's tcp_parse_options() stops at the first malformed option
 * (kind without room for its length, length < 2, length past the options)
 * and keeps the segment with the options before it. mlwip does the same:
 * an EOL byte is written over the malformed option's kind, so lwIP's parser
 * stops there too (the checksum was verified before this hook; nothing
 * checks it again). An MSS, window scale, SACK permitted or timestamps
 * option of the wrong length stops lwIP's parser too, where Linux ignores
 * that option and reads on: its kind is changed to 253 (experimental),
 * which lwIP skips. The same hides an MSS option outside a SYN and an MSS
 * of 0; an MSS below 48 is raised to 48 (first_bad_option()). All counted
 * in rx_tcp_opts_cut.
 *
 * Segments without ACK. RFC 9293 3.10.7.4: in SYN-RECEIVED and the
 * synchronized states, a segment with neither ACK, RST nor SYN is dropped
 * (Linux: tcp_rcv_state_process / tcp_rcv_established, silently). lwIP
 * accepts and queues its data. Dropped here, from SYN_RCVD to LAST_ACK
 * (TIME-WAIT keeps lwIP's answer, an ACK, as Linux does); counted in
 * rx_tcp_noack_drops.
 *
 * Out-of-order data past the window (MLW__TCP_PAST_WINDOW in
 * mlw_lwip_hooks.h, inline). tcp_receive() keeps an out-of-order segment
 * that reaches an empty ooseq queue whole, even where it ends past
 * rcv_nxt + rcv_wnd (only a segment appended behind others is cut to the
 * window); when the data before it arrives, the window left is shorter
 * than the segment and lwIP asserts "tcp_receive: ooseq tcplen > rcv_wnd"
 * (2.1.3 and 2.2.1). A sender that keeps to RFC 9293 can send such a
 * segment: it bounds its data by SND.UNA + SND.WND, and an ACK that moves
 * SND.UNA without updating SND.WND (a retransmitted segment of ours carries
 * a new ACK but an old sequence number) moves its edge past ours; so can
 * one that misbehaves. Such a segment (it starts inside the window, past
 * rcv_nxt, and ends beyond it) is dropped here, as if lost: the sender
 * sends it again, and once it is next in sequence lwIP cuts it to the
 * window itself. Segments starting at rcv_nxt or outside the window are
 * lwIP's as before (trimmed, or answered with an ACK).
 *
 * Neighbour discovery. nd6_input() takes the first option of an NS or NA
 * as the link-layer address option without checking its type or that its
 * length is non-zero (an option of length 0 at the end of an NS makes it
 * copy 6 bytes after the packet into the neighbour cache), and the
 * redirect handler the same way except for the type. RFC 4861 7.1: an ND
 * message with an option of length 0 is silently discarded; Linux's
 * ndisc_parse_options() also discards one whose options do not end exactly
 * at the end of the message, and RFC 6980 (and Linux) fragmented ND
 * messages. All of that is dropped here. A message whose link-layer address
 * option is not the first option gets it moved to the front (whole 8-byte
 * units move, so the ICMPv6 checksum still holds); an NS from a unicast
 * source or an NA whose first option is of another type and that has no
 * such option at all is dropped, as lwIP would read the other option as the
 * address (lwIP drops such an NS anyway; Linux takes such an NA without
 * updating the address). RFC 4861's checks lwIP leaves as to-dos and
 * Linux makes are added: a duplicate address detection NS (source ::)
 * must go to a solicited-node address and carry no source address option,
 * an NA to a multicast address must not be solicited. Counted in
 * rx_nd_drops.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lwip/ip6.h"
#include "lwip/pbuf.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"

#include "mlw_lwip_hooks.h"
#include "syn_cookie_private.h"
#include "tcp_opts_private.h"

/* The smallest MSS a peer may make us send (Linux: net.ipv4.tcp_min_snd_mss,
 * default 48 since 5.2 and the SACK fixes of 2019). */
#define MLW_TCP_MIN_SND_MSS 48

#define ICMP6_ND_FIRST 133	/* router solicitation */
#define ICMP6_ND_NS 135
#define ICMP6_ND_NA 136
#define ICMP6_ND_REDIRECT 137
#define ND_OPT_SRC_LLADDR 1
#define ND_OPT_TGT_LLADDR 2
#define ND_LLADDR_MAX 64	/* longest link-layer address option moved */

/* Per shard thread. */
static _Thread_local struct mlw_input_guard_stats gs;

void mlw__input_guard_stats(struct mlw_input_guard_stats *out)
{
	*out = gs;
	mlw__tcp_tw_stats(out);
}

/* The length Linux and lwIP require of the options lwIP reads (MSS,
 * window scale, SACK permitted, timestamps); 0 for the others. */
static u8_t known_len(u8_t kind)
{
	switch (kind) {
	case 2: return 4;
	case 3: return 3;
	case 4: return 2;
	case 8: return 10;
	default: return 0;
	}
}

/* Index of the first malformed option, or @p o->len if none. An option
 * lwIP reads with a length other than its own is hidden from lwIP (its
 * kind becomes 253, experimental, which lwIP skips by its length): lwIP
 * would stop parsing there, Linux ignores just that option. So is an MSS
 * option in a segment without SYN (RFC 9293 3.7.1: it is sent only with
 * SYN; Linux's tcp_parse_options() reads it only there; lwIP's
 * tcp_parseopt() takes it from any segment reaching tcp_process(), before
 * the sequence number is checked) and an MSS of 0 (Linux ignores it, so the
 * default 536 holds; lwIP took its own TCP_MSS). An MSS below
 * MLW_TCP_MIN_SND_MSS is raised to it, as Linux's net.ipv4.tcp_min_snd_mss
 * bounds what it sends (lwIP sent segments of the peer's size, down to 1
 * byte each). *@p hidden counts the options hidden or changed. */
static u16_t first_bad_option(const struct mlw__tcp_opts *o, u8_t flags, unsigned *hidden)
{
	u16_t i = 0;

	while (i < o->len) {
		u8_t kind = *mlw__tcp_opt_at(o, i);
		u16_t l = mlw__tcp_opt_len(o, i);

		if (kind == 0)	/* EOL: lwIP and Linux stop here */
			return o->len;
		if (l == 0)
			return i;
		if (known_len(kind) != 0 && known_len(kind) != l) {
			*mlw__tcp_opt_at(o, i) = 253;
			(*hidden)++;
		} else if (kind == 2) {
			u8_t *hi = mlw__tcp_opt_at(o, (u16_t)(i + 2)), *lo = mlw__tcp_opt_at(o, (u16_t)(i + 3));
			unsigned mss = (unsigned)(*hi << 8 | *lo);

			if (!(flags & TCP_SYN) || mss == 0) {
				*mlw__tcp_opt_at(o, i) = 253;
				(*hidden)++;
			} else if (mss < MLW_TCP_MIN_SND_MSS) {
				*hi = (u8_t)(MLW_TCP_MIN_SND_MSS >> 8);
				*lo = (u8_t)MLW_TCP_MIN_SND_MSS;
				(*hidden)++;
			}
		}
		i = (u16_t)(i + l);
	}
	return o->len;
}

err_t mlw__tcp_inpkt(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
		     u8_t *opt2, struct pbuf *p)
{
	u8_t flags = ((const u8_t *)hdr)[13];
	struct mlw__tcp_opts o;
	unsigned hidden = 0;
	u16_t bad;

	if (!(flags & (TCP_ACK | TCP_RST | TCP_SYN)) && pcb->state >= SYN_RCVD &&
	    pcb->state <= LAST_ACK) {
		gs.rx_tcp_noack_drops++;
		return ERR_ABRT;	/* lwIP frees the segment */
	}
	o.a = (u8_t *)(hdr + 1);
	o.b = opt2;
	o.alen = opt2 != NULL ? opt1len : optlen;
	o.len = optlen;
	/* NOP, NOP, timestamps: what Linux puts in every segment. */
	if (optlen != 0 && !(optlen == 12 && o.alen >= 4 && o.a[0] == 1 && o.a[1] == 1 &&
			     o.a[2] == 8 && o.a[3] == 10)) {
		bad = first_bad_option(&o, flags, &hidden);
		if (bad < optlen)
			*mlw__tcp_opt_at(&o, bad) = 0;
		if (bad < optlen || hidden != 0)
			gs.rx_tcp_opts_cut++;
	}
	if (pcb->state == TIME_WAIT && (flags & (TCP_SYN | TCP_RST)))
		return mlw__tcp_tw_input(pcb, hdr, &o, p);
	if (pcb->state == LISTEN)
		return mlw__syn_cookie_listen(pcb, hdr, &o, p);	/* syn_cookie.c */
	return ERR_OK;
}

/* Moves the option at @p w (@p wlen bytes) in front of the option at
 * @p first (both inside the contiguous @p b). */
static bool move_to_front(u8_t *b, unsigned first, unsigned w, unsigned wlen)
{
	u8_t tmp[ND_LLADDR_MAX];

	if (wlen > sizeof(tmp))
		return false;
	memcpy(tmp, b + w, wlen);
	memmove(b + first + wlen, b + first, w - first);
	memcpy(b + first, tmp, wlen);
	return true;
}

/* ff02::1:ffXX:XXXX */
static bool solicited_node(const u8_t *a)
{
	static const u8_t prefix[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* Checks the ND message of @p type at @p off (up to @p end) in @p p, whose
 * IPv6 header is @p ip6; may reorder its options. False: discard it. */
static bool nd_ok(struct pbuf *p, const u8_t *ip6, u8_t type, unsigned off, unsigned end)
{
	static const u8_t unspec[16];
	bool src_unspec = memcmp(ip6 + 8, unspec, 16) == 0;
	static const u8_t hdr_len[5] = { 8, 16, 24, 24, 40 };	/* RS, RA, NS, NA, redirect */
	unsigned o = off + hdr_len[type - ICMP6_ND_FIRST], first = end, want = end, wlen = 0;
	u8_t want_type = 0, first_type = 0;

	if (o > end)
		return true;	/* too short: nd6_input counts and drops it */
	/* RFC 4861 7.1.1 and 7.1.2, left as to-dos in nd6_input, checked by
	 * Linux's ndisc_recv_ns/ndisc_recv_na: a duplicate address detection
	 * NS goes to a solicited-node address; an NA to a multicast address is
	 * not solicited. */
	if (type == ICMP6_ND_NS && src_unspec && !solicited_node(ip6 + 24))
		return false;
	if (type == ICMP6_ND_NA && ip6[24] == 0xff && (pbuf_get_at(p, (u16_t)(off + 4)) & 0x40))
		return false;
	if (type == ICMP6_ND_NS && !src_unspec)
		want_type = ND_OPT_SRC_LLADDR;
	else if (type == ICMP6_ND_NA || type == ICMP6_ND_REDIRECT)
		want_type = ND_OPT_TGT_LLADDR;
	while (o < end) {
		u8_t h[2];
		unsigned l;

		if (end - o < 2 || pbuf_copy_partial(p, h, 2, (u16_t)o) != 2)
			return false;
		l = h[1] * 8u;
		if (l == 0 || l > end - o)
			return false;
		if (first == end)
			first = o, first_type = h[0];
		if (h[0] == want_type && want == end)
			want = o, wlen = l;
		if (h[0] == ND_OPT_SRC_LLADDR && type == ICMP6_ND_NS && src_unspec)
			return false;	/* 7.1.1: no source address option in DAD */
		o += l;
	}
	if (want_type == 0 || first == end || first_type == want_type)
		return true;
	if (want == end)	/* no such option, another one first */
		return type == ICMP6_ND_REDIRECT;	/* nd6_input checks the type there */
	/* The address option later: move it to the front. The checksum is
	 * not verified yet, so only whole 8-byte units move. */
	return p->len >= end && move_to_front(p->payload, first, want, wlen);
}

static u16_t be16(const u8_t *b)
{
	return (u16_t)((b[0] << 8) | b[1]);
}

int mlw__ip6_input(struct pbuf *p, struct netif *inp)
{
	const u8_t *ip6 = p->payload;
	unsigned off = IP6_HLEN, end, hops = 0;
	u8_t nh = ip6[6], type;
	bool frag = false;

	if (p->len < IP6_HLEN)
		return 0;
	end = IP6_HLEN + be16(ip6 + 4);
	if (end > p->tot_len)
		return 0;	/* ip6_input drops it */
	while (nh != IP6_NEXTH_ICMP6) {
		u8_t h[4];

		if (++hops > 8 || pbuf_copy_partial(p, h, 4, (u16_t)off) != 4)
			return 0;
		if (nh == IP6_NEXTH_FRAGMENT) {
			if ((be16(h + 2) & 0xfff8u) != 0)
				return 0;	/* not the first fragment: no ICMPv6 header */
			frag = true;
			off += 8;
		} else if (nh == IP6_NEXTH_HOPBYHOP || nh == IP6_NEXTH_DESTOPTS ||
			   nh == IP6_NEXTH_ROUTING) {
			off += (h[1] + 1u) * 8u;
		} else {
			return 0;
		}
		nh = h[0];
	}
	if (off >= end)
		return 0;
	type = pbuf_get_at(p, (u16_t)off);
	if (type >= ICMP6_ND_FIRST && type <= ICMP6_ND_REDIRECT &&
	    (frag || !nd_ok(p, ip6, type, off, end))) {
		gs.rx_nd_drops++;
		pbuf_free(p);
		return 1;
	}
	return hops == 0 ? mlw__icmp6_input(p, inp) : 0;
}
