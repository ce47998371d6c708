/* fuzz_icmp.c - libFuzzer harness for ICMP and ICMPv6 error handling (lwip-port/icmp_err.c and the sockets it reports to: socket-api/udp.c, socket-api/tcp.c), on the shard fuzz_shard.c sets up before each input.
 *
 * An input is up to 16 messages, each:
 *   b0: bit 0 IPv6, bits 1-3 the datagram quoted: 0 our SYN in SYN_SENT,
 *       1 the connected UDP socket's datagram, 2 a segment of the
 *       ESTABLISHED connection, 3 a datagram of the bound UDP socket,
 *       4 the SYN_RCVD connection's SYN-ACK, 5-7 addresses and ports from
 *       the input's overlay alone; bit 4: leave the ICMP checksum as the
 *       overlay makes it; bit 5: leave the outer IP header's checksum;
 *       bit 6: a fragment (outer header's MF set).
 *   b1, b2: ICMP type and code; b3..b6: the 4 bytes after the checksum
 *       (unused / MTU / pointer);
 *   b7: n, then n bytes XORed over the quoted datagram (its IP header
 *       and 8 bytes of transport header, then bytes appended up to n);
 *   then an application step: SO_ERROR of the SYN_SENT sockets and of
 *       the UDP sockets, recv on the UDP sockets (where a hard error is
 *       reported), connect() again on the failed SYN_SENT socket.
 * A quote with nothing XORed is the exact datagram, so the fuzzer starts
 * from errors that reach the sockets. One check beyond the sanitizers: an
 * unaltered port unreachable for our SYN_SENT (IPv4 type 3 code 3, IPv6
 * type 1 code 4) with valid checksums, the input's first message, must
 * fail that connect with ECONNREFUSED, as on Linux.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mlwip/socket.h"
#include "fuzz_shard.h"
#include "test_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The quoted datagram (from us to the peer) into @p q; returns its length
 * (IP header and 8 transport bytes). */
static unsigned quote(uint8_t *q, bool v6, unsigned which)
{
	const struct fs_conn *c = NULL;
	uint16_t sport = 0, dport = 0;
	uint32_t seq = 0;
	uint8_t proto = 6;
	unsigned n;

	switch (which) {
	case 0:
		c = &fs_conn[v6 ? FS_SYN_SENT6 : FS_SYN_SENT];
		seq = c->our_nxt - 1;
		break;
	case 1:
		proto = 17, sport = v6 ? 5354 : 5353, dport = 6000;
		break;
	case 2:
		c = &fs_conn[FS_ESTAB];
		seq = c->our_nxt - 100;
		break;
	case 3:
		proto = 17, sport = 53, dport = 7000;
		break;
	case 4:
		c = &fs_conn[FS_SYN_RCVD];
		seq = c->our_nxt - 1;
		break;
	default:
		break;
	}
	if (c != NULL)
		sport = c->lport, dport = c->pport;
	if (v6) {
		memset(q, 0, 48);
		q[0] = 0x60;
		test_put16(q + 4, proto == 6 ? 20 : 8);
		q[6] = proto;
		q[7] = 64;
		memcpy(q + 8, fs_our_ip6, 16);
		memcpy(q + 24, fs_peer_ip6, 16);
		n = 40;
	} else {
		memset(q, 0, 28);
		q[0] = 0x45;
		test_put16(q + 2, proto == 6 ? 40 : 28);
		q[8] = 64;
		q[9] = proto;
		q[12] = 10, q[15] = 2;
		q[16] = 10, q[19] = 1;
		test_put16(q + 10, (uint16_t)~test_fold(test_sum16(q, 20, 0)));
		n = 20;
	}
	test_put16(q + n, sport);
	test_put16(q + n + 2, dport);
	if (proto == 6)
		test_put32(q + n + 4, seq);
	else
		test_put16(q + n + 4, 8);
	return n + 8;
}

static void message(struct reader *r, bool first)
{
	uint8_t b0 = byte(r), type = byte(r), code = byte(r), rest[4], x[255];
	uint8_t f[14 + 40 + 8 + 48 + 255] = { 0 }, *ip = f + 14, *icmp, *q;
	bool v6 = b0 & 1, exact;
	unsigned which = (b0 >> 1) & 7, n, qlen, len, hl = v6 ? 40 : 20;

	for (int i = 0; i < 4; i++)
		rest[i] = byte(r);
	n = byte(r);
	for (unsigned i = 0; i < n; i++)
		x[i] = byte(r);
	memcpy(f, fs_our_mac, 6);
	memcpy(f + 6, fs_peer_mac, 6);
	icmp = ip + hl;
	q = icmp + 8;
	qlen = quote(q, v6, which);
	exact = first && which == 0 && (b0 & 0x70) == 0;
	for (unsigned i = 0; i < n; i++) {
		q[i] ^= x[i];
		exact = exact && x[i] == 0;
	}
	if (n > qlen)
		qlen = n;
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 4, rest, 4);
	len = 14 + hl + 8 + qlen;
	if (v6) {
		f[12] = 0x86, f[13] = 0xdd;
		ip[0] = 0x60;
		test_put16(ip + 4, (uint16_t)(8 + qlen));
		ip[6] = 58;
		ip[7] = 64;
		memcpy(ip + 8, fs_peer_ip6, 16);
		memcpy(ip + 24, fs_our_ip6, 16);
	} else {
		f[12] = 0x08, f[13] = 0x00;
		ip[0] = 0x45;
		test_put16(ip + 2, (uint16_t)(hl + 8 + qlen));
		if (b0 & 0x40)
			ip[6] = 0x20;
		ip[8] = 64;
		ip[9] = 1;
		ip[12] = 10, ip[15] = 1;
		ip[16] = 10, ip[19] = 2;
	}
	if (!(b0 & 0x10)) {
		uint8_t keep[2] = { ip[10], ip[11] };

		fs_fix_checksums(f, len);
		if (b0 & 0x20) {
			ip[10] = keep[0] ^ 0x5a;	/* a wrong IPv4 header checksum */
			ip[11] = keep[1];
		}
	}
	if (!v6 && (b0 & 0x10) && !(b0 & 0x20)) {
		ip[10] = ip[11] = 0;
		test_put16(ip + 10, (uint16_t)~test_fold(test_sum16(ip, 20, 0)));
	}
	fs_input(f, len);
	if (exact && ((!v6 && type == 3 && code == 3) || (v6 && type == 1 && code == 4))) {
		int err = 0, fd = fs_conn[v6 ? FS_SYN_SENT6 : FS_SYN_SENT].fd;
		socklen_t el = sizeof(err);

		int rc = mlw_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);

		if (getenv("FUZZ_SHARD_DEBUG") != NULL)
			fprintf(stderr, "fuzz_icmp: port unreachable for our SYN: SO_ERROR %d\n", err);
		if (fd >= 0 && rc == 0 && err != ECONNREFUSED) {
			fprintf(stderr, "fuzz_icmp: port unreachable for our SYN: SO_ERROR %d, not ECONNREFUSED\n",
				err);
			abort();
		}
	}
}

static void app_step(void)
{
	int fds[] = { fs_conn[FS_SYN_SENT].fd, fs_conn[FS_SYN_SENT6].fd, fs_udp_bound, fs_udp_conn,
		      fs_udp_conn6 };
	char buf[64];

	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		int err;
		socklen_t el = sizeof(err);

		mlw_getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &el);
		if (i >= 2)
			mlw_recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
	}
	fs_pass();
}

static int run(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };

	for (int i = 0; i < 16 && r.n > 0; i++) {
		message(&r, i == 0);
		app_step();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return run(data, size);
}

int main(int argc, char **argv)
{
	return fs_main(argc, argv, "fuzzicmp", run);
}
