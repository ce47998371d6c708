/* test_peer.h - a scripted peer against the calling shard's DPDK netif (one shard on net_ring0), with the shard's listening and accepted sockets on the other side: segments built with test_frame.h, put into lwIP's input and read off the ring with test_wire.h. */
#ifndef MLW_TEST_PEER_H
#define MLW_TEST_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "test_frame.h"
#include "test_wire.h"

/** What the shard sent so far, oldest first (test_wire's log). */
extern struct test_wire_log test_peer_log;

/** Set up on the calling shard: the peer @p peer_ip (dotted quad) with MAC
 * 02:00:00:00:00:63 asks for @p our_ip by ARP (so lwIP knows its MAC), two
 * passes. False if the shard has no DPDK netif. */
bool test_peer_init(const char *peer_ip, const char *our_ip);

/** Record the first failure of the run's setup (no frame, no accept):
 * every check after it is void. */
void test_peer_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** The first failure recorded, "" if none. */
const char *test_peer_failure(void);

/** The peer sends a TCP segment from @p sport to @p dport: @p flags,
 * @p seqno, @p ackno, @p wnd, @p optlen bytes of options @p opts,
 * @p payload data bytes. False (and a failure recorded) if it does not fit
 * a frame. */
bool test_peer_send(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seqno, uint32_t ackno,
		    uint16_t wnd, const uint8_t *opts, unsigned optlen, unsigned payload);

/** @p n passes of test_wire_pass(). */
void test_peer_passes(unsigned n);

/** The last segment logged from index @p from on, from port @p sport to
 * @p dport, whose flags under @p mask are @p flags; NULL if none. */
const struct test_seg *test_peer_last(unsigned from, uint16_t sport, uint16_t dport, uint8_t mask,
				      uint8_t flags);

/** A non-blocking listener on our port @p port (any address); -1 (and a
 * failure recorded) if that fails. */
int test_peer_listen(uint16_t port);

/** The peer sent a SYN with sequence number @p seq from @p pport to the
 * listener @p lfd on @p lport: wait for the SYN-ACK (logged from index
 * @p from on), acknowledge it (with @p optlen bytes of options @p opts) and
 * accept. Returns the new descriptor and our ISN in *@p isn, or -1 (and a
 * failure recorded). */
int test_peer_accept(int lfd, uint16_t lport, uint16_t pport, unsigned from, uint32_t seq,
		     const uint8_t *opts, unsigned optlen, uint32_t *isn);

#endif
