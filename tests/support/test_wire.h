/* test_wire.h - a peer played by hand-built frames against the calling shard's DPDK port (net_ring0, whose TX ring loops back to its RX ring): frames go into lwIP's input, and what the shard sends is read off the ring before the shard's RX sees it and logged with the time it was read. One shard per process. */
#ifndef MLW_TEST_WIRE_H
#define MLW_TEST_WIRE_H

#include <stdint.h>

#include "test_frame.h"

#define TEST_WIRE_MAX 4096

/* What the stack under test sent, in order; segments past TEST_WIRE_MAX
 * are not kept (n stays at TEST_WIRE_MAX). */
struct test_wire_log {
	struct test_seg seg[TEST_WIRE_MAX];
	unsigned n;
};

/** Append the TCP segment in @p f (seen at @p t_us) to @p log; anything
 * that is not Ethernet + IPv4 + TCP is left out. */
void test_wire_log_frame(struct test_wire_log *log, const uint8_t *f, unsigned len, int64_t t_us);

/**
 * Play the peer on the calling shard's DPDK netif, logging into @p log:
 * *@p mac gets the shard's MAC. Returns 0, or -1 if the shard has no
 * DPDK netif.
 */
int test_wire_attach(struct test_wire_log *log, uint8_t mac[6]);

/** Put the frame of @p len bytes at @p f into the shard's lwIP input (copied). */
void test_wire_input(const uint8_t *f, unsigned len);

/** Log what the shard has sent since the last read. */
void test_wire_read(void);

/** One application pass, the ring read before the shard's RX could:
 * mlw_socket_flush(), read, mlw_shard_poll(), mlw_socket_flush(), read. */
void test_wire_pass(void);

#endif
