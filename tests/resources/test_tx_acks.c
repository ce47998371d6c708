/* test_tx_acks.c - with the port backed up: pure ACKs are not refused, duplicate ACKs (up to three per connection) reach the wire, an advancing ACK supersedes older ones unless they carry SACK blocks it does not, and a socket write refused with ERR_MEM is sent within a pass or two once the port drains.
 *
 * main -> mlw_stack_run(one shard on net_ring0, whose TX ring loops back to
 * its RX ring) -> run():
 *   acks_case(): without polling, junk frames through the port's
 *   linkoutput until the ring and the queue are full -> pure ACKs of eight
 *   connections (advancing, duplicates, duplicates then an advance, window
 *   updates; duplicates with growing SACK blocks, with a block dropped, an
 *   advance that leaves a block uncovered, a D-SACK), a SYN and a big
 *   frame -> passes until the queue is empty,
 *   reading the ring (the wire) before each pass's RX does.
 *   write_case(): a listening socket, a peer at 10.0.0.99 played by frames
 *   put into lwIP's input (ARP request, SYN, ACK) -> port filled -> a write
 *   whose tcp_output() is refused -> the ring drained -> passes counted
 *   until the data is on the wire.
 * -> mlw_stack_stop -> CMocka asserts what the shard and the wire saw.
 * A "pass" is what an application loop does: mlw_socket_flush(), then
 * mlw_shard_poll(); the test reads the ring in between, so lwIP never sees
 * its own frames.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dpdk_netif.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "test_frame.h"
#include "test_stack.h"

#define MAX_FILL	100000	/* frames tried before giving up on filling the port */
#define NFLOWS		8
#define MAX_SEEN	16	/* ACKs recorded per connection on the wire */
#define WRITE_LEN	1000
#define MAX_PASSES	100000	/* passes waited for the refused write (a few are needed) */

/* The pure ACKs put through linkoutput: connection (source port 40000 +
 * flow), ack number and window, in this order; their options: TSval (0:
 * no timestamps option) and SACK blocks. */
struct ack_in {
	unsigned flow;
	uint32_t ackno;
	uint16_t wnd;
	struct {
		uint32_t tsval;
		unsigned nsack;
		uint32_t sack[3][2];
	} o;
};
static const struct ack_in acks_in[] = {
	/* flow 0 advances, flow 1 repeats one ack number (six duplicates of
	 * its first), interleaved. */
	{0, 0, 0xffff, {0}}, {1, 100, 0xffff, {0}}, {0, 1, 0xffff, {0}}, {1, 100, 0xffff, {0}},
	{0, 2, 0xffff, {0}}, {1, 100, 0xffff, {0}}, {0, 3, 0xffff, {0}}, {1, 100, 0xffff, {0}},
	{0, 4, 0xffff, {0}}, {1, 100, 0xffff, {0}}, {1, 100, 0xffff, {0}},
	/* flow 2: duplicates, then an ACK that advances. */
	{2, 200, 0xffff, {0}}, {2, 200, 0xffff, {0}}, {2, 200, 0xffff, {0}}, {2, 201, 0xffff, {0}},
	/* flow 3: window updates of one ack number, then a duplicate of the
	 * last window. */
	{3, 300, 1000, {0}}, {3, 300, 2000, {0}}, {3, 300, 3000, {0}}, {3, 300, 3000, {0}},
	/* flow 4: duplicates whose SACK block grows: the fifth carries all
	 * the fourth says and replaces it. */
	{4, 400, 0xffff, {.tsval = 1}},
	{4, 400, 0xffff, {.tsval = 2, .nsack = 1, .sack = {{500, 600}}}},
	{4, 400, 0xffff, {.tsval = 3, .nsack = 1, .sack = {{500, 700}}}},
	{4, 400, 0xffff, {.tsval = 4, .nsack = 1, .sack = {{500, 800}}}},
	{4, 400, 0xffff, {.tsval = 5, .nsack = 1, .sack = {{500, 900}}}},
	/* flow 5: duplicates with three blocks each (all that fit beside
	 * timestamps), newest first: the fifth drops 800-900, so all stay. */
	{5, 500, 0xffff, {.tsval = 1, .nsack = 1, .sack = {{600, 700}}}},
	{5, 500, 0xffff, {.tsval = 2, .nsack = 2, .sack = {{800, 900}, {600, 700}}}},
	{5, 500, 0xffff, {.tsval = 3, .nsack = 3, .sack = {{1000, 1100}, {800, 900}, {600, 700}}}},
	{5, 500, 0xffff, {.tsval = 4, .nsack = 3, .sack = {{1200, 1300}, {1000, 1100}, {800, 900}}}},
	{5, 500, 0xffff, {.tsval = 5, .nsack = 3, .sack = {{1400, 1500}, {1200, 1300}, {1000, 1100}}}},
	/* flow 6: an advance that does not repeat the block 700-800 leaves
	 * that ACK; the next advance covers both. */
	{6, 600, 0xffff, {.tsval = 1, .nsack = 1, .sack = {{700, 800}}}},
	{6, 650, 0xffff, {.tsval = 2, .nsack = 1, .sack = {{900, 1000}}}},
	{6, 1000, 0xffff, {.tsval = 3}},
	/* flow 7: a D-SACK (below its ack number) is never freed. */
	{7, 700, 0xffff, {.tsval = 1, .nsack = 1, .sack = {{600, 650}}}},
	{7, 750, 0xffff, {.tsval = 2}},
};
#define NACKS_IN (sizeof(acks_in) / sizeof(acks_in[0]))

struct seen_ack {
	uint32_t ackno;
	uint16_t wnd;
	uint32_t tsval;		/* 0: no timestamps option */
};

static struct {
	bool ran;
	char why[256];
	/* acks_case */
	unsigned filled_with;		/* junk frames taken before the first refusal */
	int ack_rc[NACKS_IN];		/* linkoutput's answers to the ACKs */
	uint64_t drops_before, drops_after_acks;
	unsigned kept;			/* ACKs waiting after the last one */
	uint64_t merged, dup_drops;
	int syn_rc, big_rc;
	uint64_t drops_after_others;
	bool drained;			/* every kept ACK left */
	unsigned seen_n[NFLOWS];	/* the wire: pure ACKs of each connection */
	struct seen_ack seen[NFLOWS][MAX_SEEN];
	unsigned seen_syn, seen_big;	/* the refused frames (must be 0) */
	/* write_case */
	bool write_ran;
	char write_why[256];
	uint64_t write_refused;		/* tx_drops during the flush after the write */
	bool data_before_drain;		/* the data was on the wire before the drain */
	unsigned data_pass;		/* passes after the drain until it was (0: never) */
	unsigned data_frames;		/* frames carrying the data */
	bool data_ok;			/* its bytes are the ones written */
} res;

static uint8_t our_mac[6];
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x63};

/* A pure ACK (or other segment) of connection @p flow, as the shard would
 * send it: 10.0.0.2:(40000 + flow) -> 10.0.0.99:80, with the options of
 * @p a if given. */
static struct pbuf *out_frame(unsigned flow, uint8_t flags, uint32_t ackno, uint16_t wnd,
			      unsigned payload, const struct ack_in *a)
{
	uint8_t opts[40];
	unsigned optlen = a != NULL ? test_tcp_ack_opts(opts, a->o.tsval != 0, a->o.tsval, 9, a->o.sack,
							a->o.nsack) : 0;

	return test_tcp4_frame(peer_mac, our_mac, "10.0.0.2", (uint16_t)(40000 + flow), "10.0.0.99", 80,
			 flags, 1000, ackno, wnd, opts, optlen, payload);
}

static int send_frame(struct netif *nif, struct pbuf *p)
{
	int rc = p != NULL ? nif->linkoutput(nif, p) : -100;

	pbuf_free(p);
	return rc;
}

/* Into lwIP, as if received from the port (ethernet_input). */
static void receive(struct netif *nif, struct pbuf *p)
{
	if (p != NULL && nif->input(p, nif) != ERR_OK)
		pbuf_free(p);
}

/* Junk frames through linkoutput until the port and the queue refuse one:
 * false (and res.why) if the port never filled. */
static bool fill_port(struct netif *nif, struct mlw_txq *q, unsigned *taken)
{
	uint64_t drops = q->tx_drops;

	*taken = 0;
	while (q->tx_drops == drops && *taken < MAX_FILL) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, 1000, PBUF_RAM);

		if (p == NULL)
			break;
		memset(p->payload, 0, 1000);
		((uint8_t *)p->payload)[12] = 0x88, ((uint8_t *)p->payload)[13] = 0xb5;
		if (send_frame(nif, p) == ERR_OK)
			(*taken)++;
	}
	if (q->tx_drops == drops) {
		snprintf(res.why, sizeof(res.why), "the port took %u frames without filling up", *taken);
		return false;
	}
	return true;
}

/* What the shard sent on the server connection of write_case. */
static struct {
	bool synack;
	uint32_t isn;
	unsigned data_frames;
	bool data_ok;
} conn;

static void look_at(const uint8_t *f, unsigned len)
{
	const uint8_t *tcp = f + 34;
	unsigned hlen, plen;
	uint16_t sport;

	if (len < 54 || test_get16(f + 12) != 0x0800 || f[23] != 6 || (f[14] & 0xf) != 5)
		return;
	sport = test_get16(tcp);
	hlen = (tcp[12] >> 4) * 4u;
	plen = test_get16(f + 16) - 20u - hlen;
	if (sport >= 40000 && sport < 40000 + NFLOWS && tcp[13] == 0x10 && plen == 0) {
		unsigned fl = sport - 40000u;

		if (res.seen_n[fl] < MAX_SEEN) {
			const uint8_t *ts = test_tcp_opt(tcp, 8);

			res.seen[fl][res.seen_n[fl]].ackno = test_get32(tcp + 8);
			res.seen[fl][res.seen_n[fl]].wnd = test_get16(tcp + 14);
			res.seen[fl][res.seen_n[fl]].tsval = ts != NULL ? test_get32(ts + 2) : 0;
		}
		res.seen_n[fl]++;
	} else if (sport == 40000 + 9) {
		res.seen_syn++;
	} else if (sport == 40000 && plen > 0) {
		res.seen_big++;
	} else if (sport == 80 && (tcp[13] & 0x12) == 0x12) {
		conn.synack = true;
		conn.isn = test_get32(tcp + 4);
	} else if (sport == 80 && plen > 0) {
		bool ok = plen == WRITE_LEN && len >= 34 + hlen + plen;

		for (unsigned i = 0; ok && i < plen; i++)
			ok = tcp[hlen + i] == (uint8_t)(i * 7u);
		conn.data_frames++;
		conn.data_ok = ok;
	}
}

/* Take everything off the ring (the wire) and look at it; returns frames. */
static unsigned wire_read(struct mlw_txq *q)
{
	struct rte_mbuf *pkts[64];
	unsigned total = 0;
	uint16_t n;

	while ((n = mlw__rx_burst(q->port_id, q->queue_id, pkts, 64)) > 0) {
		for (uint16_t i = 0; i < n; i++) {
			look_at(rte_pktmbuf_mtod(pkts[i], const uint8_t *), pkts[i]->data_len);
			rte_pktmbuf_free(pkts[i]);
		}
		total += n;
	}
	return total;
}

/* One application pass, the ring read before the shard's RX could. */
static void pass(struct mlw_txq *q)
{
	mlw_socket_flush();
	wire_read(q);
	mlw_shard_poll();
}

static void acks_case(struct netif *nif, struct mlw_txq *q)
{
	unsigned passes = 0;

	if (!fill_port(nif, q, &res.filled_with))
		return;
	res.drops_before = q->tx_drops;
	for (unsigned i = 0; i < NACKS_IN; i++)
		res.ack_rc[i] = send_frame(nif, out_frame(acks_in[i].flow, 0x10, acks_in[i].ackno,
							  acks_in[i].wnd, 0, &acks_in[i]));
	res.drops_after_acks = q->tx_drops;
	res.kept = q->nacks;
	res.merged = q->ack_merged;
	res.dup_drops = q->ack_dup_drops;
	res.syn_rc = send_frame(nif, out_frame(9, 0x02, 0, 0xffff, 0, NULL));
	res.big_rc = send_frame(nif, out_frame(0, 0x10, 7, 0xffff, 100, NULL));
	res.drops_after_others = q->tx_drops;
	while ((q->n > 0 || q->nacks > 0) && passes++ < MAX_PASSES)
		pass(q);
	wire_read(q);
	res.drained = q->n == 0 && q->nacks == 0;
	res.ran = true;
}

static void write_case(struct netif *nif, struct mlw_txq *q)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
	uint8_t opt_mss[4] = {2, 4, 0x05, 0xb4}, buf[WRITE_LEN], arp[42];
	int lfd, fd = -1;
	unsigned taken;
	uint64_t drops;

	lfd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || mlw_bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || mlw_listen(lfd, 4) != 0) {
		snprintf(res.write_why, sizeof(res.write_why), "listen: %s", strerror(errno));
		goto out;
	}
	/* The peer asks for our address (lwIP learns its MAC), then opens. */
	test_netif_receive(nif, arp, test_arp_request(arp, peer_mac, "10.0.0.99", "10.0.0.2"));
	/* MSS option: lwIP's default of 536 would split the write. */
	receive(nif, test_tcp4_frame(our_mac, peer_mac, "10.0.0.99", 5000, "10.0.0.2", 80, 0x02, 7000, 0,
			       0xffff, opt_mss, sizeof(opt_mss), 0));
	for (unsigned i = 0; i < 100 && !conn.synack; i++)
		pass(q);
	if (!conn.synack) {
		snprintf(res.write_why, sizeof(res.write_why), "no SYN-ACK on the wire");
		goto out;
	}
	receive(nif, test_tcp4_frame(our_mac, peer_mac, "10.0.0.99", 5000, "10.0.0.2", 80, 0x10, 7001,
			       conn.isn + 1, 0xffff, NULL, 0, 0));
	fd = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	if (fd < 0) {
		snprintf(res.write_why, sizeof(res.write_why), "accept: %s", strerror(errno));
		goto out;
	}
	pass(q);
	wire_read(q);

	/* Port full: the write's segment is refused (ERR_MEM from tcp_output). */
	if (!fill_port(nif, q, &taken)) {
		snprintf(res.write_why, sizeof(res.write_why), "%s", res.why);
		goto out;
	}
	for (unsigned i = 0; i < WRITE_LEN; i++)
		buf[i] = (uint8_t)(i * 7u);
	if (mlw_write(fd, buf, WRITE_LEN) != WRITE_LEN) {
		snprintf(res.write_why, sizeof(res.write_why), "write: %s", strerror(errno));
		goto out;
	}
	drops = q->tx_drops;
	mlw_socket_flush();
	res.write_refused = q->tx_drops - drops;
	/* The port drains: the ring is emptied, the queue's 64 frames wait. */
	wire_read(q);
	res.data_before_drain = conn.data_frames > 0;
	for (unsigned i = 1; i <= MAX_PASSES && conn.data_frames == 0; i++) {
		pass(q);
		if (conn.data_frames > 0)
			res.data_pass = i;
	}
	res.data_frames = conn.data_frames;
	res.data_ok = conn.data_ok;
	res.write_ran = true;
out:
	if (fd >= 0)
		mlw_close(fd);
	if (lfd >= 0)
		mlw_close(lfd);
	for (unsigned i = 0; i < 10; i++)
		pass(q);
}

static void run(void)
{
	struct netif *nif;
	struct mlw_txq *q;

	nif = test_dpdk_netif();
	if (nif == NULL) {
		snprintf(res.why, sizeof(res.why), "no DPDK netif");
		snprintf(res.write_why, sizeof(res.write_why), "no DPDK netif");
		return;
	}
	memcpy(our_mac, nif->hwaddr, 6);
	q = ((struct mlw_netif_state *)nif->state)->txq;
	acks_case(nif, q);
	write_case(nif, q);
}

static unsigned bad_heaps;

static void test_acks_kept_not_refused(void **state)
{
	(void)state;
	if (!res.ran)
		fail_msg("%s", res.why);
	for (unsigned i = 0; i < NACKS_IN; i++)
		assert_int_equal(res.ack_rc[i], ERR_OK);
	assert_int_equal(res.drops_after_acks, res.drops_before);
}

/* Flow 0's ACKs advance: only the newest (4) goes out. */
static void test_advancing_ack_supersedes(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.seen_n[0], 1);
	assert_int_equal(res.seen[0][0].ackno, 4);
}

/* Flow 1 sent six ACKs of one ack number: the first and three duplicates
 * reach the wire (the peer's fast retransmit needs three). */
static void test_duplicate_acks_reach_wire(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.seen_n[1], 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(res.seen[1][i].ackno, 100);
		assert_int_equal(res.seen[1][i].wnd, 0xffff);
	}
}

/* Flow 2: three duplicates of 200 are obsolete once 201 comes. */
static void test_advance_after_duplicates(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.seen_n[2], 1);
	assert_int_equal(res.seen[2][0].ackno, 201);
}

/* Flow 3: windows 1000, 2000, 3000, 3000 of ack 300: the first stays (it
 * may be a duplicate of what the peer had), 2000 is replaced by 3000 (a
 * window update is no duplicate), the last is a duplicate of 3000. */
static void test_window_updates(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.seen_n[3], 3);
	assert_int_equal(res.seen[3][0].ackno, 300);
	assert_int_equal(res.seen[3][0].wnd, 1000);
	assert_int_equal(res.seen[3][1].ackno, 300);
	assert_int_equal(res.seen[3][1].wnd, 3000);
	assert_int_equal(res.seen[3][2].ackno, 300);
	assert_int_equal(res.seen[3][2].wnd, 3000);
}

/* Flow 4: duplicates whose block grows: the first and three duplicates
 * leave, the fifth (TSval 5) in the fourth's place, which it covers. */
static void test_sack_duplicates(void **state)
{
	static const uint32_t ts[] = {1, 2, 3, 5};

	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.seen_n[4], 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(res.seen[4][i].ackno, 400);
		assert_int_equal(res.seen[4][i].tsval, ts[i]);
	}
}

/* Flow 5: the fifth duplicate no longer names 800-900: nothing is freed. */
static void test_sack_block_dropped(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.seen_n[5], 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(res.seen[5][i].tsval, i + 1);
}

/* Flow 6: only the last advance leaves: it covers both blocks. Flow 7:
 * the D-SACK and the advance after it both leave. */
static void test_sack_advances(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.seen_n[6], 1);
	assert_int_equal(res.seen[6][0].ackno, 1000);
	assert_int_equal(res.seen_n[7], 2);
	assert_int_equal(res.seen[7][0].ackno, 700);
	assert_int_equal(res.seen[7][1].ackno, 750);
}

/* Every ACK given to linkoutput is kept, merged or counted as a dropped
 * duplicate, and the counts match what reached the wire. */
static void test_ack_counts(void **state)
{
	unsigned wire = 0;

	(void)state;
	assert_true(res.ran);
	for (unsigned fl = 0; fl < NFLOWS; fl++)
		wire += res.seen_n[fl];
	assert_int_equal(res.kept, wire);
	assert_int_equal(res.kept + res.merged + res.dup_drops, NACKS_IN);
	assert_int_equal(res.merged, 4 + 3 + 1 + 2);
	assert_int_equal(res.dup_drops, 2 + 1);
}

static void test_other_frames_refused(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_int_equal(res.syn_rc, ERR_MEM);
	assert_int_equal(res.big_rc, ERR_MEM);
	assert_int_equal(res.drops_after_others, res.drops_after_acks + 2);
	assert_int_equal(res.seen_syn, 0);
	assert_int_equal(res.seen_big, 0);
}

static void test_kept_acks_leave(void **state)
{
	(void)state;
	assert_true(res.ran);
	assert_true(res.drained);
}

/* The write's segment was refused while the port was full; once the port
 * drains it must leave within a few passes, not at lwIP's next timer. */
static void test_refused_write_retried(void **state)
{
	(void)state;
	if (!res.write_ran)
		fail_msg("%s", res.write_why);
	assert_int_equal(res.write_refused, 1);
	assert_false(res.data_before_drain);
	print_message("data on the wire after %u passes\n", res.data_pass);
	assert_in_range(res.data_pass, 1, 3);
	assert_int_equal(res.data_frames, 1);
	assert_true(res.data_ok);
}

static void test_no_leak(void **state)
{
	(void)state;
	assert_int_equal(bad_heaps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acks_kept_not_refused),
		cmocka_unit_test(test_advancing_ack_supersedes),
		cmocka_unit_test(test_duplicate_acks_reach_wire),
		cmocka_unit_test(test_advance_after_duplicates),
		cmocka_unit_test(test_window_updates),
		cmocka_unit_test(test_sack_duplicates),
		cmocka_unit_test(test_sack_block_dropped),
		cmocka_unit_test(test_sack_advances),
		cmocka_unit_test(test_ack_counts),
		cmocka_unit_test(test_other_frames_refused),
		cmocka_unit_test(test_kept_acks_leave),
		cmocka_unit_test(test_refused_write_retried),
		cmocka_unit_test(test_no_leak),
	};
	int rc = test_stack_run("mlwacks", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", run,
				&bad_heaps);

	if (rc != 0)
		return rc;
	return cmocka_run_group_tests_name("tx_acks", tests, NULL, NULL);
}
