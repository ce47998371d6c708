/* steer.h - classify a received frame to its owner shard (private; safe beside lwIP or DPDK ethdev headers; no DPDK of its own: frame.h). */
#ifndef MLW_STEER_H
#define MLW_STEER_H

#include <stdbool.h>

#include "frame.h"
#include "mlwip/flow.h"

#define MLW_STEER_LOCAL	(-1)	/* this shard (echo and other ICMP, fragments, anything without ports) */
#define MLW_STEER_ALL	(-2)	/* ARP / IPv6 ND: every shard */

/* How a port's frames are steered (struct mlw_port.steer_how). */
enum mlw__steer_how {
	MLW_STEER_HOW_SOFT = 0,	/* RETA[Toeplitz(4-tuple)] computed here */
	MLW_STEER_HOW_NIC,	/* the same, from the NIC's RSS hash when the frame has one */
	/* A kernel engine port with steer = ports (afpacket-netif/afp.h):
	 * TCP and UDP owned by mlw_afp_steer_ports(sport, dport, shards),
	 * the queue the kernel's fanout program gave them; ICMP errors by
	 * the ports of the datagram they quote. */
	MLW_STEER_HOW_PORTS,
};

/* The owner of a frame received on a port steered @p how (one of enum
 * mlw__steer_how); the rest as mlw__steer_classify(). */
int mlw__steer_owner(const struct mlw_rss *rss, mlw__frame_t *m, unsigned how);

/* Returns the owner shard (>= 0) or one of MLW_STEER_LOCAL/MLW_STEER_ALL.
 * With @p hw_hash (the port was programmed with rss's key and RETA and
 * hashes TCP and UDP on their 4-tuple), a TCP or UDP frame that carries the
 * NIC's RSS hash (mlw__frame_rss()) is steered by that hash instead
 * of a software Toeplitz. */
int mlw__steer_classify(const struct mlw_rss *rss, mlw__frame_t *m, bool hw_hash);

/* Every shard sees ARP and ND frames; one (the owner of RETA entry 0,
 * where a NIC's RSS puts frames without ports) answers. For a shard that
 * is not that one: an ARP request in @p m is rewritten in place into a
 * reply, which lwIP learns the sender from without answering; returns true
 * for an IPv6 neighbour solicitation, which the caller drops (it cannot be
 * turned into something lwIP learns from silently). */
bool mlw__neigh_quiet(mlw__frame_t *m);

#endif
