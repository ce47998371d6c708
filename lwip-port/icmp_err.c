/* icmp_err.c - ICMP and ICMPv6 errors (destination unreachable, parameter problem, time exceeded, packet too big) handed to the UDP socket or connecting TCP socket that sent the quoted datagram.
 *
 * lwIP's icmp_input() and icmp6_input() count these messages and drop
 * them (2.1.3 and 2.2.1 alike): no transport ever hears that its datagram
 * was refused. lwIP's IP
 * input hooks (LWIP_HOOK_IP4_INPUT / LWIP_HOOK_IP6_INPUT, see
 * mlw_lwip_hooks.h) show every IP packet first; the inline part of the
 * IPv4 hook passes on only ICMP (one byte compare), the IPv6 hook's goes
 * through mlw__ip6_input (input_guard.c), which calls mlw__icmp6_input for
 * ICMPv6 right after the IPv6 header once neighbour discovery messages
 * are checked. Here the
 * message is checked (header, length, checksums where the netif asks lwIP
 * to check them, addressed to one of our interfaces, not a fragment), the
 * datagram it quotes is read (addresses, protocol, ports, TCP sequence
 * number) and the transport gets the error in Linux's terms. The packet
 * itself always continues into lwIP unchanged.
 *
 * What each message means follows Linux 6.1 (icmp_err_convert,
 * icmpv6_err_convert, __udp4_lib_err, __udp6_lib_err, tcp_v4_err,
 * tcp_v6_err), see judge4()/judge6(): a connected UDP socket hears of hard
 * errors (mlw__udp_icmp_error, socket-api/udp.c); a TCP connection in
 * SYN_SENT whose SYN is quoted fails with the error
 * (mlw__tcp_icmp_error, socket-api/tcp.c). Without the socket layer linked,
 * the weak defaults below ignore the error, as lwIP does.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lwip/inet_chksum.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "mlw_lwip_hooks.h"

#define ICMP4_DEST_UNREACH 3
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_PARAM_PROBLEM 12
#define ICMP4_FRAG_NEEDED 4	/* code of DEST_UNREACH */
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROBLEM 4
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMP6 58
#define IP6_HDR_LEN 40
/* The longest message read: an outer IPv4 header with options, ICMP's 8
 * bytes, the quoted IPv4 header with options, 8 bytes of transport header
 * (IPv6: 40 + 8 + 40 + 8). The rest of a message only matters to the
 * checksum, which is computed on the pbuf itself. */
#define HEAD_MAX (60 + 8 + 60 + 8)

struct unreach_err {
	int err;	/* errno value */
	bool hard;	/* UDP: reported to a connected socket without IP_RECVERR */
};

/* Linux's icmp_err_convert, by code of ICMP type 3. */
static const struct unreach_err icmp4_unreach[16] = {
	{ ENETUNREACH, false },  /* net unreachable */
	{ EHOSTUNREACH, false }, /* host unreachable */
	{ ENOPROTOOPT, true },   /* protocol unreachable */
	{ ECONNREFUSED, true },  /* port unreachable */
	{ EMSGSIZE, false },     /* fragmentation needed (handled apart) */
	{ EOPNOTSUPP, false },   /* source route failed */
	{ ENETUNREACH, true },   /* net unknown */
	{ EHOSTDOWN, true },     /* host unknown */
	{ ENONET, true },        /* host isolated */
	{ ENETUNREACH, true },   /* net administratively prohibited */
	{ EHOSTUNREACH, true },  /* host administratively prohibited */
	{ ENETUNREACH, false },  /* net unreachable for TOS */
	{ EHOSTUNREACH, false }, /* host unreachable for TOS */
	{ EHOSTUNREACH, true },  /* communication administratively prohibited */
	{ EHOSTUNREACH, true },  /* host precedence violation */
	{ EHOSTUNREACH, true },  /* precedence cutoff */
};

/* Linux's icmpv6_err_convert, by code of ICMPv6 type 1; other codes are
 * EPROTO, hard. */
static const struct unreach_err icmp6_unreach[7] = {
	{ ENETUNREACH, false },  /* no route */
	{ EACCES, true },        /* administratively prohibited */
	{ EHOSTUNREACH, false }, /* beyond scope of source address */
	{ EHOSTUNREACH, false }, /* address unreachable */
	{ ECONNREFUSED, true },  /* port unreachable */
	{ EACCES, true },        /* source address failed policy */
	{ EACCES, true },        /* reject route */
};

/* What one ICMP error means to each transport (0: nothing). */
struct verdict {
	int udp;	/* for a connected UDP socket */
	int tcp;	/* for a connection in SYN_SENT */
};

/* Linux 6.1: icmp_unreach() passes DEST_UNREACH codes 0..15, PARAMETERPROB
 * and TIME_EXCEEDED (not "reassembly time exceeded") on; __udp4_lib_err()
 * and tcp_v4_err() decide. Path MTU messages only matter to UDP here
 * (Linux's default IP_PMTUDISC_WANT makes them EMSGSIZE, hard); lwIP has
 * no path MTU discovery for TCP to feed. */
static struct verdict judge4(u8_t type, u8_t code)
{
	struct verdict v = { 0, 0 };

	switch (type) {
	case ICMP4_DEST_UNREACH:
		if (code >= LWIP_ARRAYSIZE(icmp4_unreach))
			break;
		if (code == ICMP4_FRAG_NEEDED) {
			v.udp = EMSGSIZE;
			break;
		}
		v.udp = icmp4_unreach[code].hard ? icmp4_unreach[code].err : 0;
		v.tcp = icmp4_unreach[code].err;
		break;
	case ICMP4_PARAM_PROBLEM:
		v.udp = v.tcp = EPROTO;
		break;
	case ICMP4_TIME_EXCEEDED:
		if (code != 1)
			v.tcp = EHOSTUNREACH;	/* soft for UDP */
		break;
	}
	return v;
}

/* Linux 6.1: icmpv6_err_convert(), __udp6_lib_err(), tcp_v6_err(). */
static struct verdict judge6(u8_t type, u8_t code)
{
	struct verdict v = { 0, 0 };

	switch (type) {
	case ICMP6_DEST_UNREACH:
		if (code >= LWIP_ARRAYSIZE(icmp6_unreach)) {
			v.udp = v.tcp = EPROTO;
			break;
		}
		v.udp = icmp6_unreach[code].hard ? icmp6_unreach[code].err : 0;
		v.tcp = icmp6_unreach[code].err;
		break;
	case ICMP6_PACKET_TOO_BIG:
		v.udp = EMSGSIZE;
		break;
	case ICMP6_PARAM_PROBLEM:
		v.udp = v.tcp = EPROTO;
		break;
	case ICMP6_TIME_EXCEEDED:
		v.tcp = EHOSTUNREACH;	/* soft for UDP */
		break;
	}
	return v;
}

__attribute__((weak)) void mlw__udp_icmp_error(const ip_addr_t *local, u16_t local_port,
					       const ip_addr_t *remote, u16_t remote_port, int err)
{
	(void)local, (void)local_port, (void)remote, (void)remote_port, (void)err;
}

__attribute__((weak)) void mlw__tcp_icmp_error(const ip_addr_t *local, u16_t local_port,
					       const ip_addr_t *remote, u16_t remote_port, u32_t seq,
					       int err)
{
	(void)local, (void)local_port, (void)remote, (void)remote_port, (void)seq, (void)err;
}

static u16_t be16(const u8_t *b)
{
	return (u16_t)((b[0] << 8) | b[1]);
}

/* Hand the error to the transport of the quoted datagram; @p t points at
 * its first 8 bytes (ports, and TCP's sequence number). */
static void deliver(struct verdict v, u8_t proto, const ip_addr_t *local, const ip_addr_t *remote,
		    const u8_t *t)
{
	if (proto == PROTO_UDP && v.udp != 0)
		mlw__udp_icmp_error(local, be16(t), remote, be16(t + 2), v.udp);
	else if (proto == PROTO_TCP && v.tcp != 0)
		mlw__tcp_icmp_error(local, be16(t), remote, be16(t + 2),
				    (u32_t)t[4] << 24 | (u32_t)t[5] << 16 | (u32_t)t[6] << 8 | t[7], v.tcp);
}

/* One of this stack's own addresses (lwIP accepts a packet for any of
 * them on any interface). */
static bool is_ours4(const ip4_addr_t *a)
{
	struct netif *n;

	NETIF_FOREACH(n) {
		if (netif_is_up(n) && ip4_addr_cmp(a, netif_ip4_addr(n)))
			return true;
	}
	return false;
}

static bool is_ours6(const ip6_addr_t *a)
{
	struct netif *n;

	NETIF_FOREACH(n) {
		if (netif_is_up(n) && netif_get_ip6_addr_match(n, a) >= 0)
			return true;
	}
	return false;
}

/* Checksum of the bytes from @p off to the end of @p p: zero when valid. */
static u16_t chksum_from(struct pbuf *p, u16_t off, const ip_addr_t *src, const ip_addr_t *dst,
			 u16_t len)
{
	u16_t sum;

	if (pbuf_remove_header(p, off) != 0)
		return 1;
	sum = src != NULL ? ip6_chksum_pseudo(p, PROTO_ICMP6, len, ip_2_ip6(src), ip_2_ip6(dst))
			  : inet_chksum_pbuf(p);
	pbuf_add_header_force(p, off);
	return sum;
}

int mlw__icmp4_input(struct pbuf *p, struct netif *inp)
{
	u8_t h[HEAD_MAX];
	u16_t n = (u16_t)pbuf_copy_partial(p, h, sizeof(h), 0);
	unsigned hl = (h[0] & 0x0fu) * 4u, tot, ql;
	ip_addr_t local, remote;
	struct verdict v;

	if (n < 20 || hl < 20 || n < hl + 8 + 20 + 8)
		return 0;
	tot = be16(h + 2);
	if (tot > p->tot_len || tot < hl + 8 + 20 + 8 || (be16(h + 6) & 0x3fffu) != 0)
		return 0;	/* truncated, or a fragment: lwIP's business */
	v = judge4(h[hl], h[hl + 1]);
	if (v.udp == 0 && v.tcp == 0)
		return 0;
	ql = (h[hl + 8] & 0x0fu) * 4u;
	if ((h[hl + 8] >> 4) != 4 || ql < 20 || n < hl + 8 + ql + 8 || tot < hl + 8 + ql + 8)
		return 0;
	/* Checksums are checked where lwIP would check them: not on a netif
	 * whose hardware did, nor on the loopback netif, which skips them. */
	IF__NETIF_CHECKSUM_ENABLED(inp, NETIF_CHECKSUM_CHECK_IP) {
		if (inet_chksum(h, (u16_t)hl) != 0)
			return 0;
	}
	IP_ADDR4(&local, h[16], h[17], h[18], h[19]);	/* the outer destination */
	if (!is_ours4(ip_2_ip4(&local)))
		return 0;
	pbuf_realloc(p, (u16_t)tot);	/* drop Ethernet padding, as ip4_input does */
	IF__NETIF_CHECKSUM_ENABLED(inp, NETIF_CHECKSUM_CHECK_ICMP) {
		if (chksum_from(p, (u16_t)hl, NULL, NULL, 0) != 0)
			return 0;
	}
	/* The quoted datagram went from us (source) to the peer (destination). */
	IP_ADDR4(&local, h[hl + 8 + 12], h[hl + 8 + 13], h[hl + 8 + 14], h[hl + 8 + 15]);
	IP_ADDR4(&remote, h[hl + 8 + 16], h[hl + 8 + 17], h[hl + 8 + 18], h[hl + 8 + 19]);
	deliver(v, h[hl + 8 + 9], &local, &remote, h + hl + 8 + ql);
	return 0;
}

int mlw__icmp6_input(struct pbuf *p, struct netif *inp)
{
	u8_t h[HEAD_MAX];
	u16_t n = (u16_t)pbuf_copy_partial(p, h, sizeof(h), 0);
	const u16_t q = IP6_HDR_LEN + 8;	/* the quoted IPv6 header */
	ip_addr_t src, dst, local, remote;
	unsigned plen;
	struct verdict v;

	if (n < q + IP6_HDR_LEN + 8)
		return 0;
	plen = be16(h + 4);
	if (IP6_HDR_LEN + plen > p->tot_len || plen < 8 + IP6_HDR_LEN + 8)
		return 0;
	v = judge6(h[IP6_HDR_LEN], h[IP6_HDR_LEN + 1]);
	if (v.udp == 0 && v.tcp == 0)
		return 0;
	/* Only a transport header right after the quoted IPv6 header. */
	if ((h[q] >> 4) != 6)
		return 0;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	IP_SET_TYPE_VAL(src, IPADDR_TYPE_V6);
	IP_SET_TYPE_VAL(dst, IPADDR_TYPE_V6);
	memcpy(ip_2_ip6(&src)->addr, h + 8, 16);
	memcpy(ip_2_ip6(&dst)->addr, h + 24, 16);
	if (!is_ours6(ip_2_ip6(&dst)))
		return 0;
	pbuf_realloc(p, (u16_t)(IP6_HDR_LEN + plen));
	IF__NETIF_CHECKSUM_ENABLED(inp, NETIF_CHECKSUM_CHECK_ICMP6) {
		if (chksum_from(p, IP6_HDR_LEN, &src, &dst, (u16_t)plen) != 0)
			return 0;
	}
	local = remote = src;
	memcpy(ip_2_ip6(&local)->addr, h + q + 8, 16);
	memcpy(ip_2_ip6(&remote)->addr, h + q + 24, 16);
	deliver(v, h[q + 6], &local, &remote, h + q + IP6_HDR_LEN);
	return 0;
}
