/* test_peer.c - see test_peer.h: a scripted peer with the shard's sockets on the other side, built on test_wire.c (frames in, segments logged) and test_frame.c (frames built). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "mlwip/socket.h"
#include "test_frame.h"
#include "test_peer.h"
#include "test_wire.h"

struct test_wire_log test_peer_log;

static uint8_t our_mac[6];
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x63 };
static char peer_addr[16], our_addr[16];
static char why[256];

void test_peer_fail(const char *fmt, ...)
{
	va_list ap;

	if (why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
}

const char *test_peer_failure(void)
{
	return why;
}

bool test_peer_send(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seqno, uint32_t ackno,
		    uint16_t wnd, const uint8_t *opts, unsigned optlen, unsigned payload)
{
	uint8_t f[1600];
	unsigned len = test_tcp4_build(f, sizeof(f), our_mac, peer_mac, peer_addr, sport, our_addr, dport,
				       flags, seqno, ackno, wnd, opts, optlen, payload);

	if (len == 0) {
		test_peer_fail("a segment of %u bytes does not fit a frame", payload);
		return false;
	}
	test_wire_input(f, len);
	return true;
}

bool test_peer_init(const char *peer_ip, const char *our_ip)
{
	uint8_t arp[42];

	if (test_wire_attach(&test_peer_log, our_mac) != 0)
		return false;
	snprintf(peer_addr, sizeof(peer_addr), "%s", peer_ip);
	snprintf(our_addr, sizeof(our_addr), "%s", our_ip);
	/* The peer asks for our address, so lwIP knows its MAC. */
	test_wire_input(arp, test_arp_request(arp, peer_mac, peer_addr, our_addr));
	test_peer_passes(2);
	return true;
}

void test_peer_passes(unsigned n)
{
	while (n-- > 0)
		test_wire_pass();
}

const struct test_seg *test_peer_last(unsigned from, uint16_t sport, uint16_t dport, uint8_t mask,
				      uint8_t flags)
{
	for (unsigned i = test_peer_log.n; i-- > from;) {
		const struct test_seg *s = &test_peer_log.seg[i];

		if (s->sport == sport && s->dport == dport && (s->flags & mask) == flags)
			return s;
	}
	return NULL;
}

int test_peer_listen(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || mlw_bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || mlw_listen(fd, 4) != 0) {
		test_peer_fail("listen %u: %s", port, strerror(errno));
		return -1;
	}
	return fd;
}

int test_peer_accept(int lfd, uint16_t lport, uint16_t pport, unsigned from, uint32_t seq,
		     const uint8_t *opts, unsigned optlen, uint32_t *isn)
{
	const struct test_seg *sa = NULL;
	int fd;

	for (unsigned i = 0; i < 50 && sa == NULL; i++) {
		test_wire_pass();
		sa = test_peer_last(from, lport, pport, 0x12, 0x12);
	}
	if (sa == NULL) {
		test_peer_fail("no SYN-ACK on port %u from %u", lport, pport);
		return -1;
	}
	*isn = sa->seq;
	test_peer_send(pport, lport, 0x10, seq + 1, *isn + 1, 0xffff, opts, optlen, 0);
	test_wire_pass();
	fd = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	if (fd < 0)
		test_peer_fail("accept on %u from %u: %s", lport, pport, strerror(errno));
	return fd;
}
