/* fuzz_shard.c - see fuzz_shard.h.
 *
 * The stack is created once per process (DPDK's EAL starts once); libFuzzer
 * runs on its shard thread (LLVMFuzzerRunDriver). Every input starts from
 * the same state, made again from nothing: the peer's ARP request and
 * neighbour solicitation, a listener, connections driven by the peer's
 * segments into ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1, FIN_WAIT_2, TIME-WAIT and
 * SYN_RCVD, our connects in SYN_SENT (IPv4 and IPv6), UDP sockets bound and
 * connected. After the input everything is closed (mlw_socket_close_all),
 * the PCBs left (SYN_RCVD without a listener, TIME-WAIT) are ended, ARP and
 * neighbour caches cleared, fragments aged out; then the connection table
 * must pass mlw__tcp_table_verify() and the shard heap must hold no more
 * blocks than after the first input's teardown: a leak of one input is
 * caught by that input (abort, which libFuzzer reports as a crash with the
 * input). Sequence numbers of the input's segments are relative to the
 * connections' (the ISNs are random), so an input means the same to every
 * run. lwIP's timers run in each pass on the real clock: an input that
 * depends on a timer firing may not reproduce exactly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sanitizer/lsan_interface.h>

#include "lwip/etharp.h"
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "mlw_tcp_table.h"
#include "mlwip/alloc.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "fuzz_shard.h"
#include "test_frame.h"
#include "test_stack.h"
#include "test_wire.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size));

uint8_t fs_our_mac[6];
const uint8_t fs_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x63 };
const uint8_t fs_our_ip6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
const uint8_t fs_peer_ip6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
struct fs_conn fs_conn[FS_NCONN];
int fs_udp_bound = -1, fs_udp_conn = -1, fs_udp_conn6 = -1;

static struct test_wire_log wire_log;
static struct netif *nif;
static struct mlw_stack *stack;
static const char *stack_name;
static int (*one_input)(const uint8_t *data, size_t size);
static int drv_argc;
static char **drv_argv;
#define FS_HEAP_SLACK 4
static uint64_t heap_base, heap_last;
static const uint8_t *cur_data;
static size_t cur_size;
static unsigned long inputs;

static void die(const char *fmt, const char *what)
{
	fprintf(stderr, "fuzz_shard: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n");
	abort();
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void fs_fix_checksums(uint8_t *f, unsigned len)
{
	const uint8_t *src, *dst;
	unsigned alen, l4len, proto;
	uint8_t *l4;
	uint32_t s;

	if (len < 14)
		return;
	if (f[12] == 0x08 && f[13] == 0x00) {
		uint8_t *ip = f + 14;
		unsigned hl = (ip[0] & 15u) * 4u, tot;

		if (len < 14 + 20 || hl < 20 || 14 + hl > len)
			return;
		tot = be16(ip + 2);
		if (tot > len - 14)
			tot = len - 14;
		ip[10] = ip[11] = 0;
		test_put16(ip + 10, (uint16_t)~test_fold(test_sum16(ip, hl, 0)));
		if ((be16(ip + 6) & 0x3fff) != 0 || tot < hl)
			return;
		l4 = ip + hl;
		l4len = tot - hl;
		proto = ip[9];
		src = ip + 12;
		dst = ip + 16;
		alen = 4;
		if (proto == 1) {
			if (l4len < 4)
				return;
			l4[2] = l4[3] = 0;
			test_put16(l4 + 2, (uint16_t)~test_fold(test_sum16(l4, l4len, 0)));
			return;
		}
	} else if (f[12] == 0x86 && f[13] == 0xdd) {
		uint8_t *ip = f + 14;

		if (len < 14 + 40)
			return;
		l4len = be16(ip + 4);
		if (l4len > len - 54)
			l4len = len - 54;
		l4 = ip + 40;
		proto = ip[6];
		src = ip + 8;
		dst = ip + 24;
		alen = 16;
	} else {
		return;
	}
	if (proto == 6 && l4len >= 20) {
		l4[16] = l4[17] = 0;
		s = test_sum16(l4, l4len, 0);
	} else if (proto == 17 && l4len >= 8) {
		l4[6] = l4[7] = 0;
		s = test_sum16(l4, l4len, 0);
	} else if (proto == 58 && alen == 16 && l4len >= 4) {
		l4[2] = l4[3] = 0;
		s = test_sum16(l4, l4len, 0);
	} else {
		return;
	}
	s = test_sum16(src, alen, s);
	s = test_sum16(dst, alen, s);
	s += proto + (l4len & 0xffff) + (l4len >> 16);
	{
		uint16_t c = (uint16_t)~test_fold(s);

		if (proto == 17 && c == 0)
			c = 0xffff;
		test_put16(l4 + (proto == 6 ? 16 : proto == 17 ? 6 : 2), c);
	}
}

unsigned fs_tcp_frame(uint8_t *buf, const struct fs_conn *c, uint8_t flags, uint32_t seq, uint32_t ack,
		      uint16_t wnd, const uint8_t *opts, unsigned optlen, const uint8_t *data,
		      unsigned payload)
{
	unsigned ipl = c->v6 ? 40 : 20, thl = 20 + ((optlen + 3) & ~3u), len = 14 + ipl + thl + payload;
	uint8_t *ip = buf + 14, *t = ip + ipl;

	if (len > 1514 || optlen > 40)
		return 0;
	memset(buf, 0, len);
	memcpy(buf, fs_our_mac, 6);
	memcpy(buf + 6, fs_peer_mac, 6);
	if (c->v6) {
		buf[12] = 0x86, buf[13] = 0xdd;
		ip[0] = 0x60;
		test_put16(ip + 4, (uint16_t)(thl + payload));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, fs_peer_ip6, 16);
		memcpy(ip + 24, fs_our_ip6, 16);
	} else {
		buf[12] = 0x08, buf[13] = 0x00;
		ip[0] = 0x45;
		test_put16(ip + 2, (uint16_t)(ipl + thl + payload));
		ip[8] = 64;
		ip[9] = 6;
		ip[12] = 10, ip[15] = 1;
		ip[16] = 10, ip[19] = 2;
	}
	test_put16(t, c->pport);
	test_put16(t + 2, c->lport);
	test_put32(t + 4, seq);
	test_put32(t + 8, ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	test_put16(t + 14, wnd);
	if (optlen > 0)
		memcpy(t + 20, opts, optlen);
	for (unsigned i = 0; i < payload; i++)
		t[thl + i] = data != NULL ? data[i] : (uint8_t)i;
	fs_fix_checksums(buf, len);
	return len;
}

/* The PCB of connection @p c (active or TIME-WAIT list), NULL if none. */
static struct tcp_pcb *conn_pcb(const struct fs_conn *c)
{
	for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next)
		if (p->local_port == c->lport && p->remote_port == c->pport &&
		    IP_IS_V6_VAL(p->remote_ip) == c->v6)
			return p;
	for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next)
		if (p->local_port == c->lport && p->remote_port == c->pport &&
		    IP_IS_V6_VAL(p->remote_ip) == c->v6)
			return p;
	return NULL;
}

static void refresh(void)
{
	for (int i = 0; i < FS_NCONN; i++) {
		struct tcp_pcb *p = conn_pcb(&fs_conn[i]);

		if (p == NULL)
			continue;
		fs_conn[i].our_nxt = p->snd_nxt;
		if (p->state != SYN_SENT)
			fs_conn[i].peer_nxt = p->rcv_nxt;
	}
}

void fs_pass(void)
{
	wire_log.n = 0;
	test_wire_pass();
	refresh();
}

void fs_input(const uint8_t *f, unsigned len)
{
	test_wire_input(f, len);
	fs_pass();
}

/* The setup's segments: lwIP handles a frame in its input function, and
 * what it sends waits in the TX batch until the next pass. */
static void peer_seg(struct fs_conn *c, uint8_t flags, unsigned payload)
{
	uint8_t f[1600];
	unsigned len = fs_tcp_frame(f, c, flags, c->peer_nxt, (flags & 0x10) ? c->our_nxt : 0, 0xffff,
				    NULL, 0, NULL, payload);

	test_wire_input(f, len);
	refresh();
}

static int listener(int domain, uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = mlw_socket(domain, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || mlw_bind(fd, domain == AF_INET ? (struct sockaddr *)&a : (struct sockaddr *)&a6,
			       domain == AF_INET ? sizeof(a) : sizeof(a6)) != 0 || mlw_listen(fd, 16) != 0)
		die("listener: %s", strerror(errno));
	return fd;
}

static int udp(int domain, uint16_t port, bool connect_peer)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = mlw_socket(domain, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	socklen_t len = domain == AF_INET ? sizeof(a) : sizeof(a6);

	if (fd < 0 || mlw_bind(fd, domain == AF_INET ? (struct sockaddr *)&a : (struct sockaddr *)&a6, len) != 0)
		die("udp: %s", strerror(errno));
	if (connect_peer) {
		a.sin_port = a6.sin6_port = htons(6000);
		a.sin_addr.s_addr = htonl(0x0a000001);
		memcpy(&a6.sin6_addr, fs_peer_ip6, 16);
		if (mlw_connect(fd, domain == AF_INET ? (struct sockaddr *)&a : (struct sockaddr *)&a6, len) != 0)
			die("udp connect: %s", strerror(errno));
	}
	return fd;
}

/* Our connect() to the peer's 5000; the connection's local port is read
 * off its PCB. */
static void connect_out(struct fs_conn *c, bool v6)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(5000) };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5000) };
	int fd = mlw_socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	/* A fixed local port: the connection table keeps a page of port
	 * counts for every 256 ports it has seen (until the shard ends), so
	 * ephemeral ports wandering over the range would grow the heap
	 * between inputs; and the same port makes each input mean the same. */
	a.sin_port = a6.sin6_port = htons(v6 ? 50001 : 50000);
	if (fd < 0 || mlw_bind(fd, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a,
			       v6 ? sizeof(a6) : sizeof(a)) != 0)
		die("bind: %s", strerror(errno));
	a.sin_port = a6.sin6_port = htons(5000);
	a.sin_addr.s_addr = htonl(0x0a000001);
	memcpy(&a6.sin6_addr, fs_peer_ip6, 16);
	if (mlw_connect(fd, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a,
				  v6 ? sizeof(a6) : sizeof(a)) == 0 || errno != EINPROGRESS)
		die("connect: %s", strerror(errno));
	c->fd = fd;
	c->v6 = v6;
	c->pport = 5000;
	c->peer_nxt = 7777;
	for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next)
		if (p->state == SYN_SENT && p->remote_port == 5000 && IP_IS_V6_VAL(p->remote_ip) == v6)
			c->lport = p->local_port;
}

/* The peer's neighbour solicitation for fd00::2, with its link-layer
 * address, so that lwIP knows the peer's MAC. */
static void neighbour_solicit(void)
{
	uint8_t f[14 + 40 + 32] = { 0 };
	uint8_t *ip = f + 14, *ns = ip + 40;

	memcpy(f, fs_our_mac, 6);
	memcpy(f + 6, fs_peer_mac, 6);
	f[12] = 0x86, f[13] = 0xdd;
	ip[0] = 0x60;
	test_put16(ip + 4, 32);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, fs_peer_ip6, 16);
	memcpy(ip + 24, fs_our_ip6, 16);
	ns[0] = 135;
	memcpy(ns + 8, fs_our_ip6, 16);
	ns[24] = 1, ns[25] = 1;
	memcpy(ns + 26, fs_peer_mac, 6);
	fs_fix_checksums(f, sizeof(f));
	fs_input(f, sizeof(f));
}

static const u8_t want_state[FS_NCONN] = {
	[FS_ESTAB] = ESTABLISHED, [FS_CLOSE_WAIT] = CLOSE_WAIT, [FS_FIN_WAIT_1] = FIN_WAIT_1,
	[FS_FIN_WAIT_2] = FIN_WAIT_2, [FS_TIME_WAIT] = TIME_WAIT, [FS_SYN_SENT] = SYN_SENT,
	[FS_SYN_RCVD] = SYN_RCVD, [FS_SYN_SENT6] = SYN_SENT,
};

static void setup(void)
{
	uint8_t arp[42];
	int lfd;

	memset(fs_conn, 0, sizeof(fs_conn));
	test_wire_input(arp, test_arp_request(arp, fs_peer_mac, "10.0.0.1", "10.0.0.2"));
	neighbour_solicit();
	lfd = listener(AF_INET, 80);
	fs_conn[FS_LISTEN] = (struct fs_conn){ .pport = 1000, .lport = 80, .peer_nxt = 0x10000, .fd = lfd };
	fs_conn[FS_CLOSED] = (struct fs_conn){ .pport = 2000, .lport = 81, .peer_nxt = 0x20000, .fd = -1 };
	for (int i = FS_ESTAB; i <= FS_SYN_RCVD; i++) {
		struct fs_conn *c = &fs_conn[i];

		if (i == FS_SYN_SENT)
			continue;
		*c = (struct fs_conn){ .pport = (uint16_t)(40000 + i), .lport = 80,
				       .peer_nxt = 1000000u * (unsigned)i, .fd = -1 };
		peer_seg(c, 0x02, 0);
		c->peer_nxt++;
		if (i == FS_SYN_RCVD)
			continue;
		peer_seg(c, 0x10, 0);
		c->fd = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (c->fd < 0)
			die("accept: %s", strerror(errno));
	}
	/* Data both ways, unread and unacknowledged. */
	peer_seg(&fs_conn[FS_ESTAB], 0x18, 100);
	if (mlw_send(fs_conn[FS_ESTAB].fd, wire_log.seg, 100, 0) != 100)
		die("send: %s", strerror(errno));
	fs_pass();
	peer_seg(&fs_conn[FS_CLOSE_WAIT], 0x11, 0);
	mlw_shutdown(fs_conn[FS_FIN_WAIT_1].fd, SHUT_WR);
	mlw_shutdown(fs_conn[FS_FIN_WAIT_2].fd, SHUT_WR);
	fs_pass();
	peer_seg(&fs_conn[FS_FIN_WAIT_2], 0x10, 0);
	mlw_close(fs_conn[FS_TIME_WAIT].fd);
	fs_conn[FS_TIME_WAIT].fd = -1;
	fs_pass();
	peer_seg(&fs_conn[FS_TIME_WAIT], 0x11, 0);
	fs_conn[FS_TIME_WAIT].peer_nxt++;	/* the record has no PCB to refresh from */
	connect_out(&fs_conn[FS_SYN_SENT], false);
	connect_out(&fs_conn[FS_SYN_SENT6], true);
	fs_udp_bound = udp(AF_INET, 53, false);
	fs_udp_conn = udp(AF_INET, 5353, true);
	fs_udp_conn6 = udp(AF_INET6, 5354, true);
	fs_pass();
	for (int i = 0; i < FS_NCONN; i++) {
		struct tcp_pcb *p;

		if (want_state[i] == CLOSED)
			continue;
		p = conn_pcb(&fs_conn[i]);
		if (i == FS_TIME_WAIT ? !mlw__tcp_table_tw_find(&(ip_addr_t)IPADDR4_INIT_BYTES(10, 0, 0, 2), 80,
								&(ip_addr_t)IPADDR4_INIT_BYTES(10, 0, 0, 1),
								fs_conn[i].pport, NULL)
				      : p == NULL || p->state != want_state[i]) {
			fprintf(stderr, "fuzz_shard: setup: connection %d in state %d, not %d\n", i,
				p != NULL ? p->state : -1, want_state[i]);
			abort();
		}
	}
}

static void teardown(void)
{
	struct mlw_alloc_stats s;
	int rc;

	mlw_socket_close_all();
	fs_udp_bound = fs_udp_conn = fs_udp_conn6 = -1;
	fs_pass();
	while (mlw__tcp_table_tw_drop_oldest())
		;
	while (tcp_active_pcbs != NULL)
		tcp_abort(tcp_active_pcbs);
	fs_pass();
	rc = mlw__tcp_table_verify();
	if (rc != 0) {
		fprintf(stderr, "fuzz_shard: connection table check failed at line %d\n", -rc);
		abort();
	}
	if (tcp_active_pcbs != NULL || tcp_tw_pcbs != NULL || tcp_bound_pcbs != NULL ||
	    tcp_listen_pcbs.listen_pcbs != NULL || udp_pcbs != NULL)
		die("%s PCBs left after every descriptor was closed", "TCP or UDP");
	/* What lwIP keeps between inputs: ARP and neighbour entries (and the
	 * frames queued for them), fragments waiting for the rest. Timers
	 * running on the real clock hold a block or two more or less at
	 * times (seen: 10 and 11 blocks after the same input), so a leak is
	 * more than FS_HEAP_SLACK blocks above the baseline after three more
	 * passes: an input that leaks is caught when it (or inputs like it)
	 * ran FS_HEAP_SLACK + 1 times, e.g. with -runs=5 on its file. */
	for (int round = 0;; round++) {
		etharp_cleanup_netif(nif);
		nd6_cleanup_netif(nif);
		for (int i = 0; i <= IP_REASS_MAXAGE; i++)
			ip_reass_tmr();
		for (int i = 0; i <= IPV6_REASS_MAXAGE; i++)
			ip6_reass_tmr();
		fs_pass();
		mlw_alloc_stats(&s);
		if (getenv("FUZZ_SHARD_DEBUG") != NULL) {
			struct mlw_tcp_table_stats t;

			mlw__tcp_table_stats(&t);
			fprintf(stderr, "fuzz_shard: %llu blocks (%llu bytes) in use, table %u buckets %u resizing %u records\n",
				(unsigned long long)s.objects_in_use, (unsigned long long)s.bytes_in_use,
				t.buckets, t.resizing, t.records);
		}
		if (inputs < 8 || s.objects_in_use <= heap_base + FS_HEAP_SLACK)
			break;
		if (round == 3) {
			fprintf(stderr, "fuzz_shard: heap leak: %llu blocks in use after the input, %llu before\n",
				(unsigned long long)s.objects_in_use, (unsigned long long)heap_base);
			fs_leaktrace_dump();
			abort();
		}
	}
	if (getenv("FUZZ_SHARD_DEBUG") != NULL && inputs >= 8 && s.objects_in_use > heap_last &&
	    cur_data != NULL) {
		fprintf(stderr, "fuzz_shard: grew to %llu with input", (unsigned long long)s.objects_in_use);
		for (size_t i = 0; i < cur_size; i++)
			fprintf(stderr, " %02x", cur_data[i]);
		fprintf(stderr, "\n");
	}
	heap_last = s.objects_in_use;
	if (getenv("FUZZ_SHARD_DEBUG") != NULL && inputs >= 8 && s.objects_in_use == heap_base + 8)
		fs_leaktrace_dump();
	if (inputs++ < 8)
		heap_base = s.objects_in_use;
}

static int one(const uint8_t *data, size_t size)
{
	setup();
	cur_data = data;
	cur_size = size;
	one_input(data, size);
	teardown();
	return 0;
}

/* libFuzzer ends the process with exit() while the stack runs: what the
 * stack holds then (its parameters, referenced from DPDK's memory, which
 * LeakSanitizer does not scan) is not a leak of an input. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:mlw_stack_create\n";
}

static void remove_dir(void)
{
	test_stack_destroy(NULL, stack_name);
}

static int on_shard(unsigned shard, void *arg)
{
	int rc;

	(void)shard, (void)arg;
	if (test_wire_attach(&wire_log, fs_our_mac) != 0)
		die("%s", "the shard has no DPDK netif");
	nif = test_dpdk_netif();
	/* Warm up: what the first connections allocate for good (the
	 * connection table's buckets, lwIP's lazily made state) is in the
	 * heap's baseline, taken after the last of these. */
	for (int i = 0; i < 8; i++) {
		setup();
		teardown();
	}
	if (getenv("FUZZ_SHARD_DEBUG") != NULL)
		fprintf(stderr, "fuzz_shard: heap baseline %llu blocks\n", (unsigned long long)heap_base);
	rc = LLVMFuzzerRunDriver(&drv_argc, &drv_argv, one);
	mlw_socket_close_all();
	mlw_stack_stop(stack);
	return rc;
}

int fs_main(int argc, char **argv, const char *name, int (*cb)(const uint8_t *data, size_t size))
{
	char err[600];
	int rc;

	stack_name = name;
	one_input = cb;
	drv_argc = argc;
	drv_argv = argv;
	rc = test_stack_create_eal(&stack, name, "-m 512 --vdev=net_ring0 --log-level=3",
				   "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\nipv6 = fd00::2/64\n", err,
				   sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s: the stack did not start: %s\n", name, err);
		return 77;
	}
	/* libFuzzer ends the process with exit() when it is done. */
	atexit(remove_dir);
	rc = mlw_stack_run(stack, on_shard, NULL, NULL);
	test_stack_destroy(stack, name);
	return rc;
}
