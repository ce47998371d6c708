/* steer.c - which shard owns a received frame: RETA[Toeplitz(4-tuple)] (or the NIC's own hash of it, or on a kernel engine port with steer = ports (sport ^ dport) % shards) for TCP/UDP and for ICMP errors (the quoted flow's), every shard for ARP/ND, and which one of them answers. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "afp.h"
#include "steer.h"

/* The headers as they are on the wire (network byte order). */
struct eth_hdr {
	uint8_t dst[6], src[6];
	uint16_t type;
} __attribute__((packed));

struct ip4_hdr {
	uint8_t ver_ihl, tos;
	uint16_t total_len, id, frag;	/* frag: flags and fragment offset */
	uint8_t ttl, proto;
	uint16_t csum;
	uint32_t src, dst;
} __attribute__((packed, aligned(2)));

struct ip6_hdr6 {
	uint32_t vtc_flow;
	uint16_t payload_len;
	uint8_t proto, hop_limit;
	uint8_t src[16], dst[16];
} __attribute__((packed, aligned(2)));

#define IP4_FRAG_MASK 0x3fffu	/* more fragments, and the offset */

static inline uint32_t ip4_hdr_len(const struct ip4_hdr *ip)
{
	return (uint32_t)(ip->ver_ihl & 0x0f) * 4;
}

/* Both TCP and UDP start with the two ports. */
struct l4_ports {
	uint16_t src, dst;
};

/* A kernel engine port with steer = ports: the queue the fanout program
 * gives the flow (symmetric in the ports), which is its owner's. */
static inline int ports_owner(const struct mlw_rss *rss, const struct l4_ports *l4)
{
	return (int)mlw_afp_steer_ports(ntohs(l4->src), ntohs(l4->dst), rss->nshards);
}

/* An ICMP(v6) error goes to the shard that owns the flow of the datagram
 * it quotes: that datagram went from us to the peer, so the owner is the
 * one a frame from the peer would hash to (quoted destination first). */
static int steer_quoted_v4(const struct mlw_rss *rss, const uint8_t *q, uint32_t len, unsigned how)
{
	const struct ip4_hdr *qip = (const struct ip4_hdr *)q;
	const struct l4_ports *l4;
	uint32_t qhl;

	if (len < sizeof(*qip))
		return MLW_STEER_LOCAL;
	qhl = ip4_hdr_len(qip);
	if ((qip->proto != IPPROTO_TCP && qip->proto != IPPROTO_UDP) ||
	    qhl < sizeof(*qip) || len < qhl + sizeof(*l4))
		return MLW_STEER_LOCAL;
	l4 = (const struct l4_ports *)(q + qhl);
	if (how == MLW_STEER_HOW_PORTS)
		return ports_owner(rss, l4);
	return (int)mlw_rss_owner_v4(rss, qip->dst, qip->src, l4->dst, l4->src);
}

static int steer_quoted_v6(const struct mlw_rss *rss, const uint8_t *q, uint32_t len, unsigned how)
{
	const struct ip6_hdr6 *qip = (const struct ip6_hdr6 *)q;
	const struct l4_ports *l4 = (const struct l4_ports *)(qip + 1);

	if (len < sizeof(*qip) + sizeof(*l4) ||
	    (qip->proto != IPPROTO_TCP && qip->proto != IPPROTO_UDP))
		return MLW_STEER_LOCAL;
	if (how == MLW_STEER_HOW_PORTS)
		return ports_owner(rss, l4);
	return (int)mlw_rss_owner_v6(rss, qip->dst, qip->src, l4->dst, l4->src);
}

/* The NIC's hash of a frame, when it has one that is ours. */
static inline bool nic_hash(const mlw__frame_t *m, unsigned how, uint32_t *hash)
{
	return how == MLW_STEER_HOW_NIC && mlw__frame_rss(m, hash);
}

static int steer_ipv4(const struct mlw_rss *rss, const struct ip4_hdr *ip, uint32_t len,
		      const mlw__frame_t *m, unsigned how)
{
	const struct l4_ports *l4;
	uint32_t hl, hash;

	if (len < sizeof(*ip))
		return MLW_STEER_LOCAL;
	hl = ip4_hdr_len(ip);
	if (ip->proto == IPPROTO_ICMP) {
		const uint8_t *icmp = (const uint8_t *)ip + hl;

		/* Destination unreachable, time exceeded, parameter problem
		 * (not fragmented: a fragment's ports are not there). */
		if (hl < sizeof(*ip) || len < hl + 8 ||
		    (ip->frag & htons(IP4_FRAG_MASK)) ||
		    (icmp[0] != 3 && icmp[0] != 11 && icmp[0] != 12))
			return MLW_STEER_LOCAL;
		return steer_quoted_v4(rss, icmp + 8, len - hl - 8, how);
	}
	if (ip->proto != IPPROTO_TCP && ip->proto != IPPROTO_UDP)
		return MLW_STEER_LOCAL;
	/* Fragments carry no ports. They stay on the shard that received
	 * them; with hardware RSS every fragment of a datagram hashes on its
	 * addresses alone, so a split flow is possible: counted as a known
	 * limit (reassembly before steering is not done yet). */
	if (ip->frag & htons(IP4_FRAG_MASK))
		return MLW_STEER_LOCAL;
	if (hl < sizeof(*ip) || len < hl + sizeof(*l4))
		return MLW_STEER_LOCAL;
	/* The NIC hashed the same 4-tuple with the same key. */
	if (nic_hash(m, how, &hash))
		return rss->reta[hash & (rss->reta_size - 1)];
	l4 = (const struct l4_ports *)((const uint8_t *)ip + hl);
	if (how == MLW_STEER_HOW_PORTS)
		return ports_owner(rss, l4);
	/* A received frame: its source is the remote end. The hash is taken
	 * exactly as the NIC takes it (src, dst, sport, dport). */
	return (int)mlw_rss_owner_v4(rss, ip->src, ip->dst, l4->src, l4->dst);
}

static int steer_ipv6(const struct mlw_rss *rss, const struct ip6_hdr6 *ip, uint32_t len,
		      const mlw__frame_t *m, unsigned how)
{
	const uint8_t *l4 = (const uint8_t *)(ip + 1);
	uint32_t hash;

	if (len < sizeof(*ip))
		return MLW_STEER_LOCAL;
	if (ip->proto == IPPROTO_ICMPV6) {
		/* Router/neighbour solicitation and advertisement, redirect:
		 * every shard keeps its own neighbour table. */
		if (len >= sizeof(*ip) + 1 && l4[0] >= 133 && l4[0] <= 137)
			return MLW_STEER_ALL;
		/* Destination unreachable, packet too big, time exceeded,
		 * parameter problem: to the owner of the quoted flow. */
		if (len >= sizeof(*ip) + 8 && l4[0] >= 1 && l4[0] <= 4)
			return steer_quoted_v6(rss, l4 + 8, len - (uint32_t)sizeof(*ip) - 8, how);
		return MLW_STEER_LOCAL;
	}
	if ((ip->proto != IPPROTO_TCP && ip->proto != IPPROTO_UDP) ||
	    len < sizeof(*ip) + sizeof(struct l4_ports))
		return MLW_STEER_LOCAL;
	if (nic_hash(m, how, &hash))
		return rss->reta[hash & (rss->reta_size - 1)];
	if (how == MLW_STEER_HOW_PORTS)
		return ports_owner(rss, (const struct l4_ports *)l4);
	return (int)mlw_rss_owner_v6(rss, ip->src, ip->dst,
				     ((const struct l4_ports *)l4)->src,
				     ((const struct l4_ports *)l4)->dst);
}

int mlw__steer_classify(const struct mlw_rss *rss, mlw__frame_t *m, bool hw_hash)
{
	return mlw__steer_owner(rss, m, hw_hash ? MLW_STEER_HOW_NIC : MLW_STEER_HOW_SOFT);
}

int mlw__steer_owner(const struct mlw_rss *rss, mlw__frame_t *m, unsigned how)
{
	const struct eth_hdr *eth = (const struct eth_hdr *)mlw__frame_data(m);
	uint32_t len = mlw__frame_len(m);

	if (len < sizeof(*eth))
		return MLW_STEER_LOCAL;
	len -= sizeof(*eth);
	switch (ntohs(eth->type)) {
	case 0x0806:	/* ARP */
		return MLW_STEER_ALL;
	case 0x0800:	/* IPv4 */
		return steer_ipv4(rss, (const struct ip4_hdr *)(eth + 1), len, m, how);
	case 0x86dd:	/* IPv6 */
		return steer_ipv6(rss, (const struct ip6_hdr6 *)(eth + 1), len, m, how);
	default:
		return MLW_STEER_LOCAL;
	}
}

bool mlw__neigh_quiet(mlw__frame_t *m)
{
	uint8_t *f = mlw__frame_data(m);
	uint32_t len = mlw__frame_len(m);
	const uint32_t l3 = sizeof(struct eth_hdr);

	if (len < l3 + 28)
		return false;
	/* ARP over Ethernet/IPv4, opcode 1 (request) at bytes 6-7: as a
	 * reply (2) lwIP records the sender's address (and, when the request
	 * was for our address, creates the entry) but sends nothing. */
	if (f[12] == 0x08 && f[13] == 0x06) {
		if (f[l3 + 6] == 0 && f[l3 + 7] == 1)
			f[l3 + 7] = 2;
		return false;
	}
	/* IPv6 without extension headers, ICMPv6 type 135: this shard
	 * resolves the neighbour itself when it needs it. */
	return f[12] == 0x86 && f[13] == 0xdd && len >= l3 + 41 && f[l3 + 6] == IPPROTO_ICMPV6 &&
	       f[l3 + 40] == 135;
}
