/* test_peer.h - a peer played by hand-built frames against the calling shard's DPDK netif (one shard on net_ring0, whose TX ring loops back to its RX ring): frames go into lwIP's input, what the shard sends is read off the ring before the shard's RX sees it, and logged. */
#ifndef MLW_TEST_PEER_H
#define MLW_TEST_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "test_frame.h"

#define TEST_WIRE_MAX_LOG 4096

/* The segments logged are test_frame.h's struct test_seg (t_us left 0). */

/** What the shard sent so far, oldest first. */
extern struct test_seg test_wire[TEST_WIRE_MAX_LOG];
extern unsigned test_nwire;

/** Set up on the calling shard: its DPDK netif, its TX queue, the peer
 * @p peer_ip (dotted quad) with MAC 02:00:00:00:00:63 that asks for
 * @p our_ip by ARP (so lwIP knows its MAC), two passes. False if the shard
 * has no DPDK netif. */
bool test_wire_init(const char *peer_ip, const char *our_ip);

/** Record the first failure of the run's setup (no frame, no accept):
 * every check after it is void. */
void test_wire_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** The first failure recorded, "" if none. */
const char *test_wire_failure(void);

/** The peer sends a TCP segment from @p sport to @p dport: @p flags,
 * @p seqno, @p ackno, @p wnd, @p optlen bytes of options @p opts,
 * @p payload data bytes. False (and a failure recorded) if no pbuf. */
bool test_wire_send(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seqno, uint32_t ackno,
		    uint16_t wnd, const uint8_t *opts, unsigned optlen, unsigned payload);

/** One application pass (mlw_socket_flush, mlw_shard_poll), the ring read
 * into the log before and after the shard's RX could. */
void test_wire_pass(void);
void test_wire_passes(unsigned n);

/** The last segment logged from index @p from on, from port @p sport to
 * @p dport, whose flags under @p mask are @p flags; NULL if none. */
const struct test_seg *test_wire_last(unsigned from, uint16_t sport, uint16_t dport, uint8_t mask,
				      uint8_t flags);

/** A non-blocking listener on our port @p port (any address); -1 (and a
 * failure recorded) if that fails. */
int test_wire_listen(uint16_t port);

/** The peer sent a SYN with sequence number @p seq from @p pport to the
 * listener @p lfd on @p lport: wait for the SYN-ACK (logged from index
 * @p from on), acknowledge it (with @p optlen bytes of options @p opts) and
 * accept. Returns the new descriptor and our ISN in *@p isn, or -1 (and a
 * failure recorded). */
int test_wire_accept(int lfd, uint16_t lport, uint16_t pport, unsigned from, uint32_t seq,
		     const uint8_t *opts, unsigned optlen, uint32_t *isn);

#endif
