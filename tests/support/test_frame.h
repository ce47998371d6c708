/* test_frame.h - helpers for tests that build and read frames by hand: big-endian fields and the Internet checksum (RFC 1071), computed independently of lwIP's and DPDK's. */
#ifndef MLW_TEST_FRAME_H
#define MLW_TEST_FRAME_H

#include <stdbool.h>
#include <stdint.h>

/** Store @p v at @p p in network byte order. */
void test_put16(uint8_t *p, uint16_t v);
void test_put32(uint8_t *p, uint32_t v);

/** Load 16 / 32 bits in network byte order from @p p. */
uint16_t test_get16(const uint8_t *p);
uint32_t test_get32(const uint8_t *p);

/** Add @p len bytes at @p p to the running one's complement sum @p s as
 * big-endian 16-bit words (an odd last byte padded with zero). */
uint32_t test_sum16(const uint8_t *p, unsigned len, uint32_t s);

/** Fold the carries of @p s into 16 bits (not inverted: 0xffff over data
 * with a right checksum in it). */
uint16_t test_fold(uint32_t s);

/**
 * Write an Ethernet + IPv4 + TCP frame into @p buf of @p size bytes: @p dmac,
 * @p smac, @p src:@p sport to @p dst:@p dport (dotted quads), @p flags,
 * @p seqno, @p ackno, @p wnd, @p optlen bytes of options @p opts (may be NULL
 * when 0) and @p payload data bytes 0, 1, 2, ...; valid IP and TCP
 * checksums. Returns the frame's length, 0 if it does not fit.
 */
unsigned test_tcp4_build(uint8_t *buf, unsigned size, const uint8_t *dmac, const uint8_t *smac,
			 const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags,
			 uint32_t seqno, uint32_t ackno, uint16_t wnd, const uint8_t *opts,
			 unsigned optlen, unsigned payload);

/** Write an ARP request of @p smac / @p sip (dotted quad) for @p tip into
 * @p buf (at least 42 bytes); returns its length, 42. */
unsigned test_arp_request(uint8_t *buf, const uint8_t *smac, const char *sip, const char *tip);

/* A TCP segment as read off the wire. */
struct test_seg {
	int64_t t_us;	/* when it was seen (CLOCK_MONOTONIC, microseconds) */
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;
	unsigned plen;	/* data bytes */
	uint16_t mss;	/* MSS option when it is the first option, 0: none */
	bool ts;	/* a timestamps option: */
	uint32_t tsval, tsecr;
	uint8_t nsack;	/* SACK blocks (left, right), in the order sent */
	uint32_t sack[4][2];
};

/** Parse @p len bytes at @p f as Ethernet + IPv4 (no IP options) + TCP into
 * @p s, all but t_us; false (and @p s untouched) if they are not. */
bool test_tcp4_parse(const uint8_t *f, unsigned len, struct test_seg *s);

/**
 * Options as Linux and lwIP lay them out on an ACK, into @p out (40 bytes
 * at least): NOP, NOP, timestamps @p tsval / @p tsecr if @p ts; then NOP,
 * NOP, SACK with @p nsack blocks (left, right) from @p sack if @p nsack > 0.
 * Returns their length, a multiple of 4.
 */
unsigned test_tcp_ack_opts(uint8_t *out, bool ts, uint32_t tsval, uint32_t tsecr,
			   const uint32_t (*sack)[2], unsigned nsack);

/**
 * The option of @p kind in the TCP header at @p tcp (as many option bytes
 * as its data offset says): a pointer at its kind byte, or NULL. Reading
 * stops at EOL and at a malformed option.
 */
const uint8_t *test_tcp_opt(const uint8_t *tcp, uint8_t kind);

struct netif;
/** Frame @p f of @p len bytes into @p nif's input, as if received (copied
 * into a new pbuf, freed if lwIP refuses it). */
void test_netif_receive(struct netif *nif, const uint8_t *f, unsigned len);

struct pbuf;

/**
 * As test_tcp4_build(), in a new PBUF_RAM pbuf: @p dmac, @p smac,
 * @p src:@p sport to @p dst:@p dport (dotted quads), @p flags, @p seqno,
 * @p ackno, @p wnd, @p optlen bytes of options @p opts (may be NULL when 0)
 * and @p payload data bytes 0, 1, 2, ...; valid IP and TCP checksums.
 * NULL if no pbuf.
 */
struct pbuf *test_tcp4_frame(const uint8_t *dmac, const uint8_t *smac, const char *src, uint16_t sport,
			     const char *dst, uint16_t dport, uint8_t flags, uint32_t seqno,
			     uint32_t ackno, uint16_t wnd, const uint8_t *opts, unsigned optlen,
			     unsigned payload);

#endif
