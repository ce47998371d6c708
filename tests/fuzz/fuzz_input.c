/* fuzz_input.c - libFuzzer harness for a shard's input path: frames into lwIP (through the DPDK netif's input function, as received frames go) with sockets in every state (fuzz_shard.c makes them again before each input), and the application's calls between them.
 *
 * An input is a list of records (at most 64), each followed by a shard pass:
 *   op & 3 == 0 or 1: a TCP segment of the peer on connection
 *     b0 % FS_NCONN (FS_LISTEN: from port 1000 + b0 / FS_NCONN % 8, a new
 *     connection), flags b1, sequence number peer_nxt + (int16)b2b3,
 *     acknowledgement our_nxt + (int16)b4b5, window b6b7, b8 % 41 option
 *     bytes from the input, b9 payload bytes (from the input if op & 4,
 *     else a pattern); valid checksums.
 *   op & 3 == 2: a frame of (b0b1 % 1515) bytes from the input; op & 4:
 *     its IP/TCP/UDP/ICMP checksums corrected; op & 8: the bytes are an IP
 *     packet, put behind an Ethernet header from the peer to us (IPv4 or
 *     IPv6 by its version nibble).
 *   op & 3 == 3: an application call b0 & 7 on connection (b0 >> 3) %
 *     FS_NCONN: recv, send (b1 * 8 bytes), shutdown(SHUT_WR), close,
 *     accept, UDP recvfrom on every UDP socket, UDP send on the connected
 *     ones, SO_ERROR of every descriptor.
 * What it covers: Ethernet, ARP, IPv4/IPv6 (options, fragments, extension
 * headers, ND, MLD, ICMP, ICMPv6), TCP in every state, UDP, mlwip's hooks on
 * that path (input guard, ICMP errors, TIME-WAIT records, the connection
 * table, SACK recovery, RST handling) and the socket layer's callbacks. Not
 * covered: DPDK's RX burst and mbuf handling (frames come as pbufs), the
 * steering between shards (fuzz_steer), more than one shard.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "mlwip/socket.h"
#include "fuzz_shard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t word(struct reader *r)
{
	uint16_t hi = byte(r);

	return (uint16_t)(hi << 8 | byte(r));
}

/* Up to @p n bytes of the input into @p out, the rest zero. */
static void take(struct reader *r, uint8_t *out, unsigned n)
{
	unsigned k = n < r->n ? n : (unsigned)r->n;

	memcpy(out, r->p, k);
	memset(out + k, 0, n - k);
	r->p += k;
	r->n -= k;
}

static void tcp_record(struct reader *r, uint8_t op)
{
	uint8_t b0 = byte(r), flags = byte(r), opts[40], data[255], f[1600];
	int16_t seq_off = (int16_t)word(r), ack_off = (int16_t)word(r);
	uint16_t wnd = word(r);
	unsigned optlen = byte(r) % 41, payload, len;
	struct fs_conn c = fs_conn[b0 % FS_NCONN];

	take(r, opts, optlen);
	payload = byte(r);
	if (op & 4)
		take(r, data, payload);
	if (b0 % FS_NCONN == FS_LISTEN)
		c.pport = (uint16_t)(1000 + b0 / FS_NCONN % 8);
	len = fs_tcp_frame(f, &c, flags, c.peer_nxt + (uint32_t)(int32_t)seq_off,
			   c.our_nxt + (uint32_t)(int32_t)ack_off, wnd, opts, optlen,
			   (op & 4) ? data : NULL, payload);
	if (len > 0)
		fs_input(f, len);
}

static void raw_record(struct reader *r, uint8_t op)
{
	unsigned n = word(r) % 1515, len = n;
	uint8_t f[1515 + 14] = { 0 };

	if (op & 8) {
		memcpy(f, fs_our_mac, 6);
		memcpy(f + 6, fs_peer_mac, 6);
		take(r, f + 14, n);
		f[12] = (f[14] >> 4) == 6 ? 0x86 : 0x08;
		f[13] = (f[14] >> 4) == 6 ? 0xdd : 0x00;
		len += 14;
	} else {
		take(r, f, n);
	}
	if (op & 4)
		fs_fix_checksums(f, len);
	fs_input(f, len);
}

static void app_record(struct reader *r)
{
	uint8_t b0 = byte(r), b1 = byte(r), buf[4096];
	struct fs_conn *c = &fs_conn[(b0 >> 3) % FS_NCONN];
	int udp[3] = { fs_udp_bound, fs_udp_conn, fs_udp_conn6 }, err;
	socklen_t len;

	memset(buf, 0x5a, sizeof(buf));
	switch (b0 & 7) {
	case 0:
		mlw_recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		break;
	case 1:
		mlw_send(c->fd, buf, (size_t)b1 * 8, MSG_DONTWAIT);
		break;
	case 2:
		mlw_shutdown(c->fd, SHUT_WR);
		break;
	case 3:
		if (c->fd >= 0 && c != &fs_conn[FS_LISTEN]) {
			mlw_close(c->fd);
			c->fd = -1;
		}
		break;
	case 4:
		/* Accepted descriptors are closed by the teardown. */
		mlw_accept4(fs_conn[FS_LISTEN].fd, NULL, NULL, SOCK_NONBLOCK);
		break;
	case 5:
		for (int i = 0; i < 3; i++)
			mlw_recvfrom(udp[i], buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
		break;
	case 6:
		mlw_send(fs_udp_conn, buf, (size_t)b1 * 4, MSG_DONTWAIT);
		mlw_send(fs_udp_conn6, buf, (size_t)b1 * 4, MSG_DONTWAIT);
		break;
	default:
		for (int i = 0; i < FS_NCONN; i++) {
			len = sizeof(err);
			mlw_getsockopt(fs_conn[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
		}
		break;
	}
	fs_pass();
}

static int run(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };

	for (int i = 0; i < 64 && r.n > 0; i++) {
		uint8_t op = byte(&r);

		switch (op & 3) {
		case 0:
		case 1:
			tcp_record(&r, op);
			break;
		case 2:
			raw_record(&r, op);
			break;
		default:
			app_record(&r);
			break;
		}
	}
	return 0;
}

/* libFuzzer calls run() through fs_main's driver; this symbol only keeps
 * the link happy for tools that look for it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return run(data, size);
}

int main(int argc, char **argv)
{
	return fs_main(argc, argv, "fuzzinput", run);
}
