/* test_rss_nic.c - a port with hardware RSS (DPDK's net_null implements the key and RETA operations): what mlwip programs reads back from the port, software steering names the queue the NIC would deliver each flow to, and RSS-aware connect() works on every shard.
 *
 * main(nshards) -> test_stack_create_eal(net_null0, nshards shards sharing
 * the machine's cores) -> the port's key and RETA read back with DPDK's own
 * calls -> 10,000 random IPv4 and 10,000 IPv6 flows: the owner the NIC gives
 * (RETA[rte_softrss(tuple, key read back)], computed here, not by mlwip) ==
 * mlw__steer_classify() on a frame of that flow -> mlw_stack_run(): every
 * shard connects to 10.9.0.1:80 and checks that its local port comes back to
 * it -> CMocka asserts. One process per shard count: an EAL starts once per
 * process.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_thash.h>

#include "mlwip/socket.h"
#include "stack_private.h"
#include "test_stack.h"

#define FLOWS 10000
#define RETA_MAX 512

static unsigned nshards;
static struct mlw_stack *st;
static char create_err[600];
static int create_rc = -1;

static struct {
	bool rss;			/* the stack uses the port's RSS */
	_Alignas(4) uint8_t key[64];	/* rte_softrss reads it as words */
	unsigned key_len;
	uint16_t reta[RETA_MAX];
	unsigned reta_size;
	unsigned mismatch_v4, mismatch_v6;	/* flows steered elsewhere than the NIC sends them */
	unsigned per_shard[MLW_MAX_SHARDS];
	int run_rc;
	int connect_errno[MLW_MAX_SHARDS];	/* EINPROGRESS expected */
	int port_owner[MLW_MAX_SHARDS];		/* the NIC's owner of the reply flow */
	_Atomic unsigned done;
} res;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void read_port(void)
{
	struct rte_eth_rss_conf rc = { .rss_key = res.key, .rss_key_len = sizeof(res.key) };
	struct rte_eth_rss_reta_entry64 conf[RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	struct rte_eth_dev_info info;

	res.rss = st->ports[0].caps.rss;
	if (rte_eth_dev_info_get(0, &info) != 0 || rte_eth_dev_rss_hash_conf_get(0, &rc) != 0 ||
	    info.reta_size > RETA_MAX)
		return;
	/* Drivers that do not report their key length (net_null) leave
	 * rss_key_len as given: the stack's guess is the length to compare. */
	res.key_len = st->ports[0].caps.key_len;
	res.reta_size = info.reta_size;
	memset(conf, 0, sizeof(conf));
	for (unsigned g = 0; g < info.reta_size / RTE_ETH_RETA_GROUP_SIZE; g++)
		conf[g].mask = ~0ull;
	if (rte_eth_dev_rss_reta_query(0, conf, info.reta_size) != 0) {
		res.reta_size = 0;
		return;
	}
	for (unsigned i = 0; i < info.reta_size; i++)
		res.reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
}

/* The queue the NIC delivers a frame with this RSS input to, from what the
 * port itself reports (rte_softrss takes the input as host-order words). */
static unsigned nic_owner(const uint8_t *in, unsigned len)
{
	uint32_t w[9];

	for (unsigned i = 0; i < len / 4; i++)
		w[i] = (uint32_t)in[4 * i] << 24 | (uint32_t)in[4 * i + 1] << 16 |
		       (uint32_t)in[4 * i + 2] << 8 | in[4 * i + 3];
	return res.reta[rte_softrss(w, len / 4, res.key) & (res.reta_size - 1)];
}

static void check_flows(void)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create("rss_test", 63, 0, 0, 256, SOCKET_ID_ANY);

	assert_non_null(mp);
	for (unsigned v6 = 0; v6 < 2; v6++) {
		for (unsigned f = 0; f < FLOWS; f++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
			uint8_t *fr, in[36];
			unsigned len;
			int got;

			assert_non_null(m);
			fr = (uint8_t *)rte_pktmbuf_append(m, 14 + 40 + 20);
			assert_non_null(fr);
			memset(fr, 0, 14 + 40 + 20);
			for (unsigned i = 0; i < 36; i++)
				in[i] = (uint8_t)rnd();
			if (!v6) {
				fr[12] = 0x08, fr[13] = 0x00;
				fr[14] = 0x45, fr[16] = 0, fr[17] = 40, fr[22] = 64, fr[23] = IPPROTO_TCP;
				memcpy(fr + 26, in, 8);		/* source, destination */
				memcpy(fr + 34, in + 8, 4);	/* ports */
				len = 12;
			} else {
				fr[12] = 0x86, fr[13] = 0xdd;
				fr[14] = 0x60, fr[19] = 20, fr[20] = IPPROTO_TCP, fr[21] = 64;
				memcpy(fr + 22, in, 32);
				memcpy(fr + 54, in + 32, 4);
				len = 36;
			}
			got = mlw__steer_classify(&st->rss, m, false);
			if (got < 0 || (unsigned)got != nic_owner(in, len))
				(*(v6 ? &res.mismatch_v6 : &res.mismatch_v4))++;
			else
				res.per_shard[got]++;
			rte_pktmbuf_free(m);
		}
	}
	rte_mempool_free(mp);
}

/* On every shard: an active open whose replies the NIC brings back here. */
static int on_shard(unsigned shard, void *arg)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	int fd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	uint8_t in[12];

	(void)arg;
	inet_pton(AF_INET, "10.9.0.1", &to.sin_addr);
	res.port_owner[shard] = -1;
	if (fd < 0) {
		res.connect_errno[shard] = errno;
	} else {
		res.connect_errno[shard] = mlw_connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 ? 0 : errno;
		if (mlw_getsockname(fd, (struct sockaddr *)&me, &len) == 0 && me.sin_port != 0) {
			/* The peer's reply: from 10.9.0.1:80 to us. */
			memcpy(in, &to.sin_addr, 4);
			memcpy(in + 4, &me.sin_addr, 4);
			memcpy(in + 8, &to.sin_port, 2);
			memcpy(in + 10, &me.sin_port, 2);
			res.port_owner[shard] = res.reta_size ? (int)nic_owner(in, 12) : -2;
		}
		mlw_close(fd);
	}
	if (atomic_fetch_add(&res.done, 1) + 1 == nshards)
		mlw_stack_stop(st);
	return 0;
}

static void test_programmed(void **state)
{
	(void)state;
	if (create_rc != 0)
		fail_msg("stack did not start: %s", create_err);
	assert_string_equal(st->ports[0].caps.driver, "net_null");
	/* One queue needs no RSS; with several the port must use it. */
	assert_int_equal(res.rss, nshards > 1);
	if (!res.rss)
		return;
	/* It hashes TCP and UDP on their ports: its hash in an mbuf steers. */
	assert_true(st->ports[0].caps.hash_l4);
	assert_true(res.key_len >= MLW_RSS_KEY_LEN_DEFAULT);
	for (unsigned i = 0; i < res.key_len; i++)
		assert_int_equal(res.key[i], i % 2 ? 0x5a : 0x6d);
	assert_memory_equal(res.key, st->rss.key, st->rss.key_len);
	assert_true(res.reta_size > 0 && res.reta_size % st->rss.reta_size == 0);
	for (unsigned i = 0; i < res.reta_size; i++)
		assert_int_equal(res.reta[i], st->rss.reta[i & (st->rss.reta_size - 1)]);
}

static void test_steering_agrees(void **state)
{
	(void)state;
	if (create_rc != 0 || !res.rss)
		skip();
	assert_int_equal(res.mismatch_v4, 0);
	assert_int_equal(res.mismatch_v6, 0);
	/* Every shard owns its share (a zero key sent all to shard 0). */
	for (unsigned s = 0; s < nshards; s++) {
		print_message("shard %u owns %u of %u flows\n", s, res.per_shard[s], 2 * FLOWS);
		assert_true(res.per_shard[s] > 2 * FLOWS / nshards / 2);
	}
}

static void test_connect_every_shard(void **state)
{
	(void)state;
	if (create_rc != 0)
		skip();
	assert_int_equal(res.run_rc, 0);
	assert_int_equal(atomic_load(&res.done), nshards);
	for (unsigned s = 0; s < nshards; s++) {
		assert_int_equal(res.connect_errno[s], EINPROGRESS);
		if (res.rss)
			assert_int_equal(res.port_owner[s], (int)s);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_programmed),
		cmocka_unit_test(test_steering_agrees),
		cmocka_unit_test(test_connect_every_shard),
	};
	char sections[512], cores[256];
	size_t off = 0;
	int rc;

	nshards = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
	if (nshards < 1 || nshards > 16) {
		fprintf(stderr, "usage: %s NSHARDS (1..16)\n", argv[0]);
		return 2;
	}
	/* More shards than this machine has cores: they share them in turn. */
	for (unsigned i = 0; i < nshards; i++)
		off += (size_t)snprintf(cores + off, sizeof(cores) - off, "%s%u", i ? "," : "", i % 2);
	snprintf(sections, sizeof(sections),
		 "[stack]\ncores = %s\nidle = sleep\nidle_sleep_us = 100\n[port0]\nipv4 = 10.9.0.2/24\n", cores);
	create_rc = test_stack_create_eal(&st, "rssnic", "-m 1024 --vdev=net_null0", sections,
					  create_err, sizeof(create_err));
	if (create_rc == 0) {
		read_port();
		if (res.rss && res.reta_size > 0)
			check_flows();
		res.run_rc = mlw_stack_run(st, on_shard, NULL, NULL);
		mlw_stack_print_stats(st, stdout);
	}
	rc = cmocka_run_group_tests_name("rss_nic", tests, NULL, NULL);
	if (create_rc == 0)
		test_stack_destroy(st, "rssnic");
	return rc;
}
