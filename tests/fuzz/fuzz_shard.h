/* fuzz_shard.h - a shard for libFuzzer harnesses: one mlwip shard (DPDK without hugepages or PCI, net_ring0) whose lwIP gets each input's frames through the netif's input, with sockets in every state made again before each input and everything torn down and checked after it. */
#ifndef MLW_FUZZ_SHARD_H
#define MLW_FUZZ_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The shard is 10.0.0.2 and fd00::2 on MAC fs_our_mac; the peer is
 * 10.0.0.1 / fd00::1 on MAC 02:00:00:00:00:63. */
extern uint8_t fs_our_mac[6];
extern const uint8_t fs_peer_mac[6];
extern const uint8_t fs_our_ip6[16], fs_peer_ip6[16];

/* The connections made before each input (index into fs_conn[]). */
enum {
	FS_LISTEN,	/* listener on 80: a new SYN from the peer's port 1000 + n */
	FS_ESTAB,	/* accepted, 100 bytes each way unread and unacknowledged */
	FS_CLOSE_WAIT,	/* the peer's FIN came */
	FS_FIN_WAIT_1,	/* we shut down writing, our FIN not acknowledged */
	FS_FIN_WAIT_2,	/* our FIN acknowledged */
	FS_TIME_WAIT,	/* we closed first, both FINs acknowledged */
	FS_SYN_SENT,	/* our connect() to the peer's 5000 */
	FS_SYN_RCVD,	/* the peer's SYN answered, no ACK yet */
	FS_CLOSED,	/* nothing on our port 81 */
	FS_SYN_SENT6,	/* our connect() to [fd00::1]:5000 */
	FS_NCONN
};

/* One TCP connection as the peer sees it. */
struct fs_conn {
	uint16_t pport, lport;	/* the peer's port, ours */
	uint32_t peer_nxt;	/* the peer's next sequence number */
	uint32_t our_nxt;	/* what the peer acknowledges next: our snd_nxt */
	int fd;			/* our descriptor, -1 if none */
	bool v6;
};
extern struct fs_conn fs_conn[FS_NCONN];

/* UDP: a socket bound to 53, one on 5353 connected to the peer's 6000,
 * one on [::]:5354 connected to [fd00::1]:6000. */
extern int fs_udp_bound, fs_udp_conn, fs_udp_conn6;

/* Run libFuzzer (LLVMFuzzerRunDriver with @p argc/@p argv) on the shard of
 * a one-shard stack named @p name, @p one per input between fs_setup()
 * and fs_reset(). Returns what main() returns. */
int fs_main(int argc, char **argv, const char *name, int (*one)(const uint8_t *data, size_t size));

/* Frame @p f of @p len bytes into the shard's lwIP input (copied), then a
 * shard pass (what the shard sends is read off the ring and dropped; the
 * connections' our_nxt/peer_nxt follow lwIP's PCBs). */
void fs_input(const uint8_t *f, unsigned len);

/* A TCP segment of the peer on connection @p c (IPv4 or IPv6 as the
 * connection is), valid checksums, @p payload bytes from @p data (NULL:
 * a pattern); not sent, built into @p buf (1600 bytes): returns its
 * length. */
unsigned fs_tcp_frame(uint8_t *buf, const struct fs_conn *c, uint8_t flags, uint32_t seq, uint32_t ack,
		      uint16_t wnd, const uint8_t *opts, unsigned optlen, const uint8_t *data,
		      unsigned payload);

/* Correct the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksum
 * of the Ethernet frame @p f (lengths as its headers say, cut to @p len);
 * what cannot be parsed is left as is. */
void fs_fix_checksums(uint8_t *f, unsigned len);

/* One shard pass (flush, ring read and dropped, poll), then our_nxt and
 * peer_nxt refreshed from lwIP's PCBs. */
void fs_pass(void);

/* With FUZZ_SHARD_DEBUG set: the allocation site of every live block of
 * the shard heap, on stderr (fuzz_leaktrace.c). */
void fs_leaktrace_dump(void);

/* An input read a byte at a time: 0 once it is used up. */
struct reader {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t byte(struct reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

#endif
