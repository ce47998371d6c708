/* test_config.c - CMocka tests of the configuration struct and INI loader (sharding/config.c). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlwip/config.h"
#include "mlwip/socket.h"

/* Every key, every section, two ports. Line numbers matter to some tests. */
static const char full_ini[] =
	"; a complete configuration\n"						/* 1 */
	"[eal]\n"								/* 2 */
	"args = --no-huge --no-pci -m 512 --file-prefix=mlw0 "
	"--vdev=net_af_packet0,iface=veth0,qpairs=2\n"				/* 3 */
	"\n"									/* 4 */
	"[stack]\n"								/* 5 */
	"shards = 4\n"								/* 6 */
	"cores = 0-2,6\n"							/* 7 */
	"idle = sleep\n"							/* 8 */
	"idle_sleep_us = 200\n"							/* 9 */
	"burst = 64\n"								/* 10 */
	"\n"									/* 11 */
	"[port0]\n"								/* 12 */
	"ipv4 = 10.0.0.2/24\n"							/* 13 */
	"gateway = 10.0.0.1\n"							/* 14 */
	"ipv6 = fd00:1::2/64\n"							/* 15 */
	"mac = 02:AA:bb:0c:0D:ee\n"						/* 16 */
	"mtu = 9000\n"								/* 17 */
	"[port1]\n"								/* 18 */
	"ipv6 = 2001:db8::5/48   ; inline comment\n"				/* 19 */
	"mtu = 1280\n";								/* 20 */

static uint32_t ip4(const char *s)
{
	uint32_t a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* Defaults, for comparing a struct a failed load must have reset. */
static struct mlw_config defaults(void)
{
	struct mlw_config d;

	mlw_config_defaults(&d);
	return d;
}

static void test_full_config(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;
	static const uint8_t v6_0[16] = {0xfd, 0x00, 0x00, 0x01, [15] = 0x02};
	static const uint8_t v6_1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x05};
	static const uint8_t mac[6] = {0x02, 0xaa, 0xbb, 0x0c, 0x0d, 0xee};
	const uint8_t *b;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, full_ini, &err), 0);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.message, "");

	assert_string_equal(cfg.eal_args, "--no-huge --no-pci -m 512 --file-prefix=mlw0 "
			    "--vdev=net_af_packet0,iface=veth0,qpairs=2");
	assert_int_equal(cfg.shards, 4);
	assert_int_equal(cfg.cores[0], 0);
	assert_int_equal(cfg.cores[1], 1);
	assert_int_equal(cfg.cores[2], 2);
	assert_int_equal(cfg.cores[3], 6);
	assert_int_equal(cfg.idle, MLW_IDLE_SLEEP);
	assert_int_equal(cfg.idle_sleep_us, 200);
	assert_int_equal(cfg.burst, 64);
	assert_int_equal(cfg.port_count, 2);

	/* Network byte order, byte by byte. */
	b = (const uint8_t *)&cfg.ports[0].ipv4_addr;
	assert_true(b[0] == 10 && b[1] == 0 && b[2] == 0 && b[3] == 2);
	b = (const uint8_t *)&cfg.ports[0].ipv4_netmask;
	assert_true(b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 0);
	b = (const uint8_t *)&cfg.ports[0].ipv4_gateway;
	assert_true(b[0] == 10 && b[1] == 0 && b[2] == 0 && b[3] == 1);
	assert_int_equal(cfg.ports[0].ipv4_prefix, 24);
	assert_true(cfg.ports[0].has_ipv4);
	assert_true(cfg.ports[0].has_ipv6);
	assert_memory_equal(cfg.ports[0].ipv6_addr, v6_0, 16);
	assert_int_equal(cfg.ports[0].ipv6_prefix, 64);
	assert_true(cfg.ports[0].has_mac);
	assert_memory_equal(cfg.ports[0].mac, mac, 6);
	assert_int_equal(cfg.ports[0].mtu, 9000);

	assert_false(cfg.ports[1].has_ipv4);
	assert_int_equal(cfg.ports[1].ipv4_addr, 0);
	assert_int_equal(cfg.ports[1].ipv4_gateway, 0);
	assert_true(cfg.ports[1].has_ipv6);
	assert_memory_equal(cfg.ports[1].ipv6_addr, v6_1, 16);
	assert_int_equal(cfg.ports[1].ipv6_prefix, 48);
	assert_false(cfg.ports[1].has_mac);
	assert_int_equal(cfg.ports[1].mtu, 1280);

	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
}

static void test_eal_argv(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;
	struct mlw_config_argv av;
	static const char ini[] =
		"[eal]\n"
		"args = -l 0-1 \"--vdev=net_pcap0,rx_pcap=/tmp/a b.pcap\" --x=\"q \\\"w\\\"\" \"\"\n"
		"  --file-prefix=mlw1\n"
		"\t-a\\b\n"
		"[port0]\n"
		"ipv4 = 192.168.7.1/30\n";
	static const char *const want[] = {
		"prog", "-l", "0-1", "--vdev=net_pcap0,rx_pcap=/tmp/a b.pcap", "--x=q \"w\"", "",
		"--file-prefix=mlw1", "-a\\b",
	};

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, ini, &err), 0);
	assert_int_equal(mlw_config_eal_argv(&cfg, "prog", &av, &err), 0);
	assert_int_equal(av.argc, 8);
	for (int i = 0; i < 8; i++)
		assert_string_equal(av.argv[i], want[i]);
	assert_null(av.argv[8]);

	/* A struct copy carries its arguments along: no pointers inside. */
	{
		struct mlw_config copy = cfg;

		memset(&cfg, 0, sizeof(cfg));
		assert_int_equal(mlw_config_eal_argv(&copy, NULL, &av, &err), 0);
		assert_int_equal(av.argc, 8);
		assert_string_equal(av.argv[0], "mlwip");
		assert_string_equal(av.argv[3], want[3]);
	}

	/* No arguments at all: just the program name. */
	mlw_config_defaults(&cfg);
	assert_int_equal(mlw_config_eal_argv(&cfg, "p", &av, &err), 0);
	assert_int_equal(av.argc, 1);
	assert_string_equal(av.argv[0], "p");
	assert_null(av.argv[1]);

	/* Unbalanced quote, too many words. */
	snprintf(cfg.eal_args, sizeof(cfg.eal_args), "-a \"b");
	assert_int_equal(mlw_config_eal_argv(&cfg, NULL, &av, &err), -EINVAL);
	assert_string_equal(err.section, "eal");
	assert_string_equal(err.key, "args");
	memset(cfg.eal_args, 0, sizeof(cfg.eal_args));
	for (int i = 0; i <= MLW_CONFIG_EAL_ARGV_MAX; i++)
		strcat(cfg.eal_args, "x ");
	assert_int_equal(mlw_config_eal_argv(&cfg, NULL, &av, &err), -E2BIG);
	cfg.eal_args[strlen(cfg.eal_args) - 2] = '\0';	/* exactly the maximum */
	assert_int_equal(mlw_config_eal_argv(&cfg, NULL, &av, &err), 0);
	assert_int_equal(av.argc, MLW_CONFIG_EAL_ARGV_MAX + 1);
}

static void test_defaults_when_absent(void **state)
{
	struct mlw_config cfg, d;
	struct mlw_config_error err;
	struct mlw_config_argv av;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.1.2.3/8\n", &err), 0);
	mlw_config_defaults(&d);
	assert_int_equal(cfg.shards, 1);
	assert_int_equal(cfg.cores[0], 0);
	assert_int_equal(cfg.idle, MLW_IDLE_BACKOFF);
	assert_int_equal(cfg.idle_sleep_us, 50);
	assert_int_equal(cfg.idle_wait_ms, 100);
	assert_int_equal(cfg.burst, 32);
	assert_int_equal(cfg.max_sockets, MLW_FD_MAX_PER_SHARD);
	assert_int_equal(cfg.heap_limit_mb, 0);
	assert_int_equal(cfg.max_time_wait, MLW_CONFIG_MAX_TIME_WAIT_DEFAULT);
	assert_int_equal(cfg.port_count, 1);
	assert_int_equal(cfg.ports[0].mtu, 1500);
	assert_int_equal(cfg.ports[0].ipv4_addr, ip4("10.1.2.3"));
	assert_int_equal(cfg.ports[0].ipv4_netmask, ip4("255.0.0.0"));
	assert_int_equal(cfg.ports[0].ipv4_gateway, 0);
	assert_false(cfg.ports[0].has_ipv6);
	assert_false(cfg.ports[0].has_mac);
	assert_string_equal(cfg.eal_args, "");
	assert_int_equal(mlw_config_eal_argv(&cfg, NULL, &av, &err), 0);
	assert_int_equal(av.argc, 1);
	/* Only port0 differs from the defaults. */
	memcpy(&d.ports[0], &cfg.ports[0], sizeof(d.ports[0]));
	d.port_count = 1;
	assert_memory_equal(&cfg, &d, sizeof(cfg));

	/* The defaults alone have no port, so they do not validate. */
	mlw_config_defaults(&d);
	assert_int_equal(mlw_config_validate(&d, &err), -EINVAL);
}

/* Pool keys: defaults, values, and the size a shard's pool needs. */
/* [stack] idle = interrupt and its longest sleep (sharding/idle.c). */
static void test_idle_interrupt(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nidle = interrupt\nidle_sleep_us = 20\n"
						 "idle_wait_ms = 250\n[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.idle, MLW_IDLE_INTERRUPT);
	assert_int_equal(cfg.idle_sleep_us, 20);
	assert_int_equal(cfg.idle_wait_ms, 250);
	/* Shards sharing a core may sleep on interrupts. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nshards = 2\ncores = 0,0\nidle = interrupt\n"
						 "[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.idle_wait_ms, 100);
}

static void test_pool_sizes(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.rx_desc, 1024);
	assert_int_equal(cfg.tx_desc, 1024);
	assert_int_equal(cfg.rx_zero_copy, 4000);
	assert_int_equal(cfg.mbufs, 0);
	assert_int_equal(cfg.mbuf_cache, 256);
	assert_int_equal(mlw_config_forward_zero_copy(&cfg), 512);
	/* 1 port: 1024 + 1024 + 128 + burst 32; 4000 zero-copy; one cache
	 * (384); 64 spare. */
	assert_int_equal(mlw_config_mbufs_needed(&cfg), 2208 + 4000 + 384 + 64);
	/* Each port adds its rings, each shard a ring to every other, what
	 * it may hold of this pool, a burst held for a full ring
	 * (fwd_hold.h), and a cache. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nshards = 2\n[port0]\nipv4 = 10.0.0.1/24\n"
						"[port1]\nipv4 = 10.1.0.1/24\n[port2]\nipv4 = 10.2.0.1/24\n", &err), 0);
	assert_int_equal(mlw_config_mbufs_needed(&cfg), 3 * 2208 + 4000 + (4096 + 512) + 32 + 2 * 384 + 64);
	/* [stack] ring_size: a power of two; the pool counts a full ring. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nshards = 2\nring_size = 1024\n[port0]\nipv4 = 10.0.0.1/24\n"
						"[port1]\nipv4 = 10.1.0.1/24\n[port2]\nipv4 = 10.2.0.1/24\n", &err), 0);
	assert_int_equal(mlw_config_mbufs_needed(&cfg), 3 * 2208 + 4000 + (1024 + 512) + 32 + 2 * 384 + 64);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nring_size = 3000\n", &err), -EINVAL);
	assert_string_equal(err.key, "ring_size");
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nring_size = 128\n", &err), -EINVAL);
	/* 0: from the shard count. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nshards = 3\n[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(mlw_config_mbufs_needed(&cfg), 2208 + 4000 + 2 * (2048 + 512) + 32 + 3 * 384 + 64);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nshards = 8\n[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(mlw_config_mbufs_needed(&cfg), 2208 + 4000 + 7 * (1024 + 512) + 32 + 8 * 384 + 64);
	/* Smaller parts, and an explicit pool that holds them. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nrx_desc = 256\ntx_desc = 512\nrx_zero_copy = 100\n"
						"mbuf_cache = 0\nmbufs = 1200\n[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.rx_desc, 256);
	assert_int_equal(cfg.tx_desc, 512);
	assert_int_equal(cfg.rx_zero_copy, 100);
	assert_int_equal(cfg.mbuf_cache, 0);
	assert_int_equal(cfg.mbufs, 1200);
	assert_int_equal(mlw_config_forward_zero_copy(&cfg), 100);
	assert_int_equal(mlw_config_mbufs_needed(&cfg), 256 + 512 + 128 + 32 + 100 + 64);
	cfg.mbufs = 1091;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "mbufs");
	cfg.mbufs = 1092;
	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
	/* A kernel engine port holds only the burst it copies in: no
	 * descriptors, no TX batch (its rings are the kernel's). */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nshards = 4\nburst = 32\nrx_zero_copy = 256\n"
						"ring_size = 256\nmbuf_cache = 0\n[port0]\nipv4 = 10.0.0.1/24\n"
						"engine = afpacket\niface = eth0\n", &err), 0);
	assert_int_equal(mlw_config_mbufs_needed(&cfg),
			 32 + 256 + 3 * (256 + mlw_config_forward_zero_copy(&cfg)) + 32 + 64);
	/* Mixed: the DPDK port counts its rings as before. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nburst = 32\nrx_zero_copy = 256\nmbuf_cache = 0\n"
						"[port0]\nipv4 = 10.0.0.1/24\nengine = afpacket\niface = eth0\n"
						"[port1]\nipv4 = 10.1.0.1/24\n", &err), 0);
	assert_int_equal(mlw_config_mbufs_needed(&cfg), 32 + (1024 + 1024 + 128 + 32) + 256 + 64);
}

/* The TIME-WAIT cap the shards apply: max_time_wait, bounded by an eighth
 * of the heap when heap_limit_mb is set. */
static void test_time_wait_cap(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.max_time_wait, MLW_CONFIG_MAX_TIME_WAIT_DEFAULT);
	assert_int_equal(mlw_config_time_wait_cap(&cfg), MLW_CONFIG_MAX_TIME_WAIT_DEFAULT);
	/* 16 MiB: 2 MiB of 128-byte records. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nheap_limit_mb = 16\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), 0);
	assert_int_equal(mlw_config_time_wait_cap(&cfg), 16384);
	/* A smaller explicit cap stays; so does 0. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nheap_limit_mb = 16\nmax_time_wait = 1000\n"
						"[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(mlw_config_time_wait_cap(&cfg), 1000);
	cfg.max_time_wait = 0;
	assert_int_equal(mlw_config_time_wait_cap(&cfg), 0);
	/* A heap large enough leaves the cap alone. */
	cfg.max_time_wait = MLW_CONFIG_MAX_TIME_WAIT_MAX;
	cfg.heap_limit_mb = 1024;
	assert_int_equal(mlw_config_time_wait_cap(&cfg), MLW_CONFIG_MAX_TIME_WAIT_MAX);
	cfg.heap_limit_mb = 1023;
	assert_int_equal(mlw_config_time_wait_cap(&cfg), 1023u * 1024);
}

static void test_shards_and_cores(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;

	(void)state;
	/* shards alone: cores 0..N-1. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nshards = 3\n[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.shards, 3);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(cfg.cores[i], i);
	/* A core listed twice: two shards share it. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\ncores = 0,1,0-1\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), 0);
	assert_int_equal(cfg.shards, 4);
	assert_int_equal(cfg.cores[2], 0);
	assert_int_equal(cfg.cores[3], 1);
	/* cores alone: shards = how many, in the order written. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\ncores = 7, 3-4 ,1\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), 0);
	assert_int_equal(cfg.shards, 4);
	assert_int_equal(cfg.cores[0], 7);
	assert_int_equal(cfg.cores[1], 3);
	assert_int_equal(cfg.cores[2], 4);
	assert_int_equal(cfg.cores[3], 1);
	/* Both, agreeing; the largest count. */
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\ncores = 0-63\nshards = 64\n"
						"[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.shards, 64);
	assert_int_equal(cfg.cores[63], 63);
}

/* [stack] max_sockets and heap_limit_mb: values, bounds, and that they only
 * change their own fields. */
static void test_limits(void **state)
{
	struct mlw_config cfg, d = defaults();
	struct mlw_config_error err;
	char ini[256];

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nmax_sockets = 64\nheap_limit_mb = 8\n"
						"[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.max_sockets, 64);
	assert_int_equal(cfg.heap_limit_mb, 8);
	d.max_sockets = 64;
	d.heap_limit_mb = 8;
	d.port_count = 1;
	memcpy(&d.ports[0], &cfg.ports[0], sizeof(d.ports[0]));
	assert_memory_equal(&cfg, &d, sizeof(cfg));

	/* The bounds themselves. */
	snprintf(ini, sizeof(ini), "[stack]\nmax_sockets = %d\nheap_limit_mb = %u\n[port0]\nipv4 = 10.0.0.1/24\n",
		 MLW_FD_MAX_PER_SHARD, (unsigned int)MLW_CONFIG_HEAP_LIMIT_MB_MAX);
	assert_int_equal(mlw_config_load_string(&cfg, ini, &err), 0);
	assert_int_equal(cfg.max_sockets, MLW_FD_MAX_PER_SHARD);
	assert_int_equal(cfg.heap_limit_mb, MLW_CONFIG_HEAP_LIMIT_MB_MAX);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nmax_sockets = 1\nheap_limit_mb = 0\n"
						"[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.max_sockets, 1);
	assert_int_equal(cfg.heap_limit_mb, 0);

	/* One past the heap bound, whatever size_t holds. */
	snprintf(ini, sizeof(ini), "[port0]\nipv4 = 10.0.0.1/24\n[stack]\nheap_limit_mb = %lu\n",
		 (unsigned long)MLW_CONFIG_HEAP_LIMIT_MB_MAX + 1);
	assert_int_equal(mlw_config_load_string(&cfg, ini, &err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_string_equal(err.section, "stack");
	assert_string_equal(err.key, "heap_limit_mb");
	snprintf(ini, sizeof(ini), "%lu is out of range (0..%u)", (unsigned long)MLW_CONFIG_HEAP_LIMIT_MB_MAX + 1,
		 (unsigned int)MLW_CONFIG_HEAP_LIMIT_MB_MAX);
	assert_string_equal(err.message, ini);
}

/* [stack] syncookies, syn_backlog, syn_timeout_ms: Linux-like defaults
 * (cookies once a listener's half-open queue is full, 224 half-open per
 * listener and shard, 63 s), their ranges enforced by the loader and by
 * mlw_config_validate(). */
static void test_syn_settings(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.syncookies, 1);
	assert_int_equal(cfg.syn_backlog, MLW_CONFIG_SYN_BACKLOG_DEFAULT);
	assert_int_equal(cfg.syn_rcvd_timeout_ms, 63000);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nsyncookies = 2\nsyn_backlog = 16\n"
						"syn_timeout_ms = 20000\n[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.syncookies, 2);
	assert_int_equal(cfg.syn_backlog, 16);
	assert_int_equal(cfg.syn_rcvd_timeout_ms, 20000);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nsyncookies = 3\n", &err), -EINVAL);
	assert_string_equal(err.key, "syncookies");
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nsyn_backlog = 0\n", &err), -EINVAL);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nsyn_backlog = 225\n", &err), -EINVAL);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nsyn_timeout_ms = 999\n", &err), -EINVAL);
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	cfg.syn_backlog = 300;
	assert_int_equal(mlw_config_validate(&cfg, NULL), -EINVAL);
}

/* [stack] max_time_wait: 0 (keep none) up to MLW_CONFIG_MAX_TIME_WAIT_MAX,
 * only its own field; one past the bound is refused by the loader and by
 * mlw_config_validate(). */
static void test_max_time_wait(void **state)
{
	struct mlw_config cfg, d = defaults();
	struct mlw_config_error err;
	char ini[128];

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nmax_time_wait = 0\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), 0);
	assert_int_equal(cfg.max_time_wait, 0);
	d.max_time_wait = 0;
	d.port_count = 1;
	memcpy(&d.ports[0], &cfg.ports[0], sizeof(d.ports[0]));
	assert_memory_equal(&cfg, &d, sizeof(cfg));
	snprintf(ini, sizeof(ini), "[stack]\nmax_time_wait = %u\n[port0]\nipv4 = 10.0.0.1/24\n",
		 MLW_CONFIG_MAX_TIME_WAIT_MAX);
	assert_int_equal(mlw_config_load_string(&cfg, ini, &err), 0);
	assert_int_equal(cfg.max_time_wait, MLW_CONFIG_MAX_TIME_WAIT_MAX);

	snprintf(ini, sizeof(ini), "[port0]\nipv4 = 10.0.0.1/24\n[stack]\nmax_time_wait = %u\n",
		 MLW_CONFIG_MAX_TIME_WAIT_MAX + 1);
	assert_int_equal(mlw_config_load_string(&cfg, ini, &err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_string_equal(err.key, "max_time_wait");
	snprintf(ini, sizeof(ini), "%u is out of range (0..%u)", MLW_CONFIG_MAX_TIME_WAIT_MAX + 1,
		 MLW_CONFIG_MAX_TIME_WAIT_MAX);
	assert_string_equal(err.message, ini);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nmax_time_wait = -1\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_string_equal(err.key, "max_time_wait");

	cfg.max_time_wait = MLW_CONFIG_MAX_TIME_WAIT_MAX + 1;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "max_time_wait");
}

/* [stack] tcp_rcvbuf / tcp_sndbuf: default 256 KiB each, 0 (lwIP's 2 MiB)
 * or 2304..2 MiB; below the minimum or above the maximum refused with the
 * key named. */
static void test_tcp_bufs(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.tcp_rcvbuf, MLW_CONFIG_TCP_BUF_DEFAULT);
	assert_int_equal(cfg.tcp_sndbuf, MLW_CONFIG_TCP_BUF_DEFAULT);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\ntcp_rcvbuf = 0\ntcp_sndbuf = 65536\n"
						"[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(cfg.tcp_rcvbuf, 0);
	assert_int_equal(cfg.tcp_sndbuf, 65536);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\ntcp_rcvbuf = 100\n"
						"[port0]\nipv4 = 10.0.0.1/24\n", &err), -EINVAL);
	assert_string_equal(err.key, "tcp_rcvbuf");
	assert_string_equal(err.message, "100 is out of range (0 or 2304..2097152)");
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\ntcp_sndbuf = 2097153\n"
						"[port0]\nipv4 = 10.0.0.1/24\n", &err), -EINVAL);
	assert_string_equal(err.key, "tcp_sndbuf");
}

/* [stack] local_ports: LO-HI within 1..65535, only its own fields; a
 * backward, empty or out-of-range range is refused by the loader and by
 * mlw_config_validate(). */
static void test_local_ports(void **state)
{
	struct mlw_config cfg, d = defaults();
	struct mlw_config_error err;
	static const char *const bad[] = { "1024", "0-100", "1024-65536", "2000-1999", "-5", "a-b", "1024-" };

	(void)state;
	assert_int_equal(d.local_port_lo, MLW_CONFIG_LOCAL_PORT_LO_DEFAULT);
	assert_int_equal(d.local_port_hi, MLW_CONFIG_LOCAL_PORT_HI_DEFAULT);
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nlocal_ports = 1024-65535\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), 0);
	assert_int_equal(cfg.local_port_lo, 1024);
	assert_int_equal(cfg.local_port_hi, 65535);
	d.local_port_lo = 1024;
	d.port_count = 1;
	memcpy(&d.ports[0], &cfg.ports[0], sizeof(d.ports[0]));
	assert_memory_equal(&cfg, &d, sizeof(cfg));
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nlocal_ports = 7-7\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), 0);
	assert_int_equal(cfg.local_port_lo, 7);
	assert_int_equal(cfg.local_port_hi, 7);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char ini[128];

		snprintf(ini, sizeof(ini), "[port0]\nipv4 = 10.0.0.1/24\n[stack]\nlocal_ports = %s\n", bad[i]);
		assert_int_equal(mlw_config_load_string(&cfg, ini, &err), -EINVAL);
		assert_int_equal(err.line, 4);
		assert_string_equal(err.key, "local_ports");
	}
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
	cfg.local_port_lo = 0;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "local_ports");
	cfg.local_port_lo = 2000;
	cfg.local_port_hi = 1999;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "local_ports");
}

/* Load @p ini, expect failure with exactly this rc/line/section/key, and a
 * message containing @p msg; the struct must be back at the defaults. */
static void expect_error(const char *ini, int rc, int line, const char *section, const char *key,
			 const char *msg)
{
	struct mlw_config cfg, d = defaults();
	struct mlw_config_error err;
	char out[512];

	memset(&cfg, 0xab, sizeof(cfg));
	assert_int_equal(mlw_config_load_string(&cfg, ini, &err), rc);
	mlw_config_format_error(&err, "t.ini", out, sizeof(out));
	print_message("    %s\n", out);
	assert_int_equal(err.line, line);
	assert_string_equal(err.section, section);
	assert_string_equal(err.key, key);
	if (!strstr(err.message, msg))
		fail_msg("message \"%s\" lacks \"%s\"", err.message, msg);
	assert_memory_equal(&cfg, &d, sizeof(cfg));
	assert_int_equal(mlw_config_validate(&cfg, NULL), -EINVAL);
}

#define P0	"[port0]\nipv4 = 10.0.0.2/24\n"

#define ERROR_TEST(name, ini, line, section, key, msg)				\
	static void test_err_##name(void **state)				\
	{									\
		(void)state;							\
		expect_error(ini, -EINVAL, line, section, key, msg);		\
	}

ERROR_TEST(bad_ipv4, "[stack]\nshards=1\n\n\n\n[port0]\nipv4 = 10.0.0.300/24\n",
	   7, "port0", "ipv4", "\"10.0.0.300/24\" is not an IPv4 address/prefix")
ERROR_TEST(ipv4_prefix_too_long, "[port0]\nipv4 = 10.0.0.1/33\n", 2, "port0", "ipv4",
	   "prefix length 33 in \"10.0.0.1/33\" is out of range (1..32)")
ERROR_TEST(ipv4_no_prefix, "[port0]\nipv4 = 10.0.0.1\n", 2, "port0", "ipv4", "has no prefix length")
ERROR_TEST(ipv4_network_address, "[port0]\nipv4 = 10.0.0.0/24\n", 2, "port0", "ipv4",
	   "is the network address")
ERROR_TEST(ipv4_multicast, "[port0]\nmtu=1500\nipv4 = 224.0.0.1/24\n", 3, "port0", "ipv4",
	   "not a unicast host address")
ERROR_TEST(bad_ipv6, "[port0]\nipv6 = fd00::g/64\n", 2, "port0", "ipv6", "is not an IPv6 address/prefix")
ERROR_TEST(ipv6_prefix_too_long, "[port0]\nipv6 = fd00::1/129\n", 2, "port0", "ipv6", "out of range (1..128)")
ERROR_TEST(gateway_outside_subnet, P0 "gateway = 10.0.1.1\n", 3, "port0", "gateway",
	   "10.0.1.1 is outside the subnet 10.0.0.0/24 of ipv4")
ERROR_TEST(gateway_is_own_address, P0 "gateway = 10.0.0.2\n", 3, "port0", "gateway", "own address")
ERROR_TEST(gateway_without_ipv4, "[port0]\ngateway = 10.0.0.1\nipv6 = fd00::1/64\n", 2, "port0", "gateway",
	   "needs ipv4")
ERROR_TEST(bad_gateway, P0 "gateway = 10.0.0.1/24\n", 3, "port0", "gateway", "is not an IPv4 address")
ERROR_TEST(bad_mac, P0 "mac = 02:00:00:00:00\n", 3, "port0", "mac", "is not a MAC address")
ERROR_TEST(bad_mac_digit, P0 "mac = 02:00:00:00:0g:00\n", 3, "port0", "mac", "is not a MAC address")
ERROR_TEST(multicast_mac, P0 "mac = 01:00:5e:00:00:01\n", 3, "port0", "mac", "multicast")
ERROR_TEST(zero_mac, P0 "mac = 00:00:00:00:00:00\n", 3, "port0", "mac", "not a usable MAC")
ERROR_TEST(mtu_too_small, P0 "mtu = 575\n", 3, "port0", "mtu", "575 is out of range (576..9000)")
ERROR_TEST(mtu_too_big, P0 "mtu = 9001\n", 3, "port0", "mtu", "out of range")
ERROR_TEST(mtu_ipv6_minimum, "[port0]\nipv6 = fd00::1/64\nmtu = 1000\n", 3, "port0", "mtu", "minimum for IPv6")
ERROR_TEST(shards_zero, "[stack]\nshards = 0\n" P0, 2, "stack", "shards", "0 is out of range (1..64)")
ERROR_TEST(shards_too_many, "[stack]\nshards = 65\n" P0, 2, "stack", "shards", "65 is out of range (1..64)")
ERROR_TEST(shards_not_number, "[stack]\nshards = -1\n" P0, 2, "stack", "shards", "is not a number")
ERROR_TEST(cores_shards_mismatch, "[stack]\nshards = 2\ncores = 0-2\n" P0, 3, "stack", "cores",
	   "lists 3 cores but shards = 2 (line 2)")
ERROR_TEST(cores_backwards, "[stack]\ncores = 3-1\n" P0, 2, "stack", "cores", "runs backwards")
ERROR_TEST(cores_syntax, "[stack]\ncores = 0,,1\n" P0, 2, "stack", "cores", "is not a list of cores")
ERROR_TEST(cores_too_many, "[stack]\ncores = 0-64\n" P0, 2, "stack", "cores", "more than 64 cores")
ERROR_TEST(core_out_of_range, "[stack]\ncores = 1024\n" P0, 2, "stack", "cores", "out of range (0..1023)")
ERROR_TEST(bad_idle, "[stack]\nidle = spin\n" P0, 2, "stack", "idle", "\"spin\" is not an idle policy")
ERROR_TEST(rx_desc_range, "[stack]\nrx_desc = 32\n" P0, 2, "stack", "rx_desc", "out of range (64..16384)")
ERROR_TEST(tx_desc_range, "[stack]\ntx_desc = 16385\n" P0, 2, "stack", "tx_desc", "out of range (64..16384)")
ERROR_TEST(mbuf_cache_range, "[stack]\nmbuf_cache = 513\n" P0, 2, "stack", "mbuf_cache", "out of range (0..512)")
ERROR_TEST(rx_zero_copy_range, "[stack]\nrx_zero_copy = -1\n" P0, 2, "stack", "rx_zero_copy", "")
/* The fixed 8191 of earlier versions does not hold three ports. */
ERROR_TEST(mbufs_too_few, "[stack]\nshards = 2\nmbufs = 8191\n" P0
	   "[port1]\nipv4 = 10.1.0.1/24\n[port2]\nipv4 = 10.2.0.1/24\n", 3, "stack", "mbufs",
	   "8191 is fewer than the 16096 each shard needs here (3 ports, 2 shards): set 0 to size pools "
	   "from the configuration, or lower rx_desc, tx_desc, rx_zero_copy, mbuf_cache")
ERROR_TEST(idle_sleep_range, "[stack]\nidle_sleep_us = 100001\n" P0, 2, "stack", "idle_sleep_us", "out of range")
ERROR_TEST(idle_wait_range, "[stack]\nidle = interrupt\nidle_wait_ms = 10001\n" P0, 3, "stack", "idle_wait_ms",
	   "10001 is out of range (1..10000)")
ERROR_TEST(idle_wait_zero, "[stack]\nidle_wait_ms = 0\n" P0, 2, "stack", "idle_wait_ms", "0 is out of range (1..10000)")
ERROR_TEST(bad_idle_list, "[stack]\nidle = interupt\n" P0, 2, "stack", "idle",
	   "\"interupt\" is not an idle policy (poll, backoff, sleep or interrupt)")
ERROR_TEST(burst_range, "[stack]\nburst = 513\n" P0, 2, "stack", "burst", "513 is out of range (1..512)")
ERROR_TEST(max_sockets_zero, "[stack]\nmax_sockets = 0\n" P0, 2, "stack", "max_sockets",
	   "0 is out of range (1..1048576)")
ERROR_TEST(max_sockets_too_many, P0 "[stack]\nburst = 8\nmax_sockets = 1048577\n", 5, "stack", "max_sockets",
	   "1048577 is out of range (1..1048576)")
ERROR_TEST(max_sockets_not_number, "[stack]\nmax_sockets = 64k\n" P0, 2, "stack", "max_sockets",
	   "\"64k\" is not a number")
ERROR_TEST(heap_limit_not_number, "[stack]\nheap_limit_mb = -1\n" P0, 2, "stack", "heap_limit_mb",
	   "\"-1\" is not a number")
ERROR_TEST(heap_limit_duplicate, "[stack]\nheap_limit_mb = 4\nheap_limit_mb = 8\n" P0, 3, "stack",
	   "heap_limit_mb", "duplicate key (first set on line 2)")
ERROR_TEST(unknown_stack_key, "[stack]\nmax_socket = 64\n" P0, 2, "stack", "max_socket",
	   "unknown key in [stack] (known: shards, cores, idle, idle_sleep_us, burst, max_sockets, heap_limit_mb, "
	   "max_time_wait, rx_desc, tx_desc, rx_zero_copy, mbufs, mbuf_cache, tcp_rcvbuf, tcp_sndbuf, "
	   "local_ports, syncookies, syn_backlog, syn_timeout_ms, ring_size, idle_wait_ms)")
ERROR_TEST(unknown_key, P0 "ipv5 = 1\n", 3, "port0", "ipv5", "unknown key")
ERROR_TEST(checksum_bad_value, P0 "mtu = 1500\nchecksum = off\n", 4, "port0", "checksum",
	   "\"off\" is not a checksum mode (verify or trust)")
ERROR_TEST(checksum_case, P0 "checksum = Trust\n", 3, "port0", "checksum", "is not a checksum mode")
ERROR_TEST(checksum_duplicate, P0 "checksum = trust\nchecksum = verify\n", 4, "port0", "checksum",
	   "duplicate key (first set on line 3)")
ERROR_TEST(unknown_eal_key, "[eal]\nargv = -l 0\n" P0, 2, "eal", "argv", "unknown key in [eal]")
ERROR_TEST(unknown_section, P0 "\n[prot1]\nipv4 = 10.0.1.2/24\n", 5, "prot1", "ipv4", "unknown section [prot1]")
ERROR_TEST(port_out_of_range, P0 "[port8]\nipv4 = 10.0.1.2/24\n", 4, "port8", "ipv4", "at most 8 ports")
ERROR_TEST(port_leading_zero, P0 "[port01]\nipv4 = 10.0.1.2/24\n", 4, "port01", "ipv4", "unknown section")
ERROR_TEST(key_outside_section, "shards = 1\n" P0, 1, "", "shards", "outside any section")
ERROR_TEST(duplicate_key, P0 "mtu = 1500\nipv4 = 10.0.0.3/24\n", 4, "port0", "ipv4",
	   "duplicate key (first set on line 2)")
ERROR_TEST(duplicate_eal_args, "[eal]\nargs = -l 0\nargs = -l 1\n" P0, 3, "eal", "args", "duplicate key")
ERROR_TEST(indented_key, P0 "mtu = 1500\n  gateway = 10.0.0.1\n", 4, "port0", "mtu",
	   "only [eal] args may span lines")
ERROR_TEST(empty_value, P0 "mtu =\n", 3, "port0", "mtu", "has no value")
ERROR_TEST(port_gap, P0 "[port2]\nipv4 = 10.0.2.2/24\n", 4, "port2", "", "[port1] is missing")
ERROR_TEST(no_ports, "[stack]\nshards = 2\n", 0, "", "", "no ports")
ERROR_TEST(empty_text, "", 0, "", "", "no ports")
ERROR_TEST(port_without_address, P0 "[port1]\nmtu = 1500\n", 4, "port1", "", "needs an address")
ERROR_TEST(same_address_twice, P0 "[port1]\nipv4 = 10.0.0.2/16\n", 4, "port1", "ipv4",
	   "the same address as [port0]")
ERROR_TEST(syntax_no_equals, P0 "mtu 1500\n", 3, "", "", "syntax error")
ERROR_TEST(syntax_no_bracket, "[port0\nipv4 = 10.0.0.2/24\n", 1, "", "", "syntax error")
ERROR_TEST(eal_open_quote, "[eal]\nargs = -l 0\n  --vdev=\"x\n" P0, 2, "eal", "args", "never closed")
/* [portN] engine = afpacket and its keys. */
ERROR_TEST(engine_unknown, P0 "engine = xdp\n", 3, "port0", "engine",
	   "\"xdp\" is not a packet engine (dpdk, afpacket or loop)")
ERROR_TEST(afpacket_without_iface, P0 "engine = afpacket\nsteer = hash\n", 3, "port0", "engine",
	   "afpacket needs the Linux interface: add iface = NAME")
ERROR_TEST(afp_key_on_dpdk_port, P0 "mtu = 1500\niface = eth0\n", 4, "port0", "iface",
	   "is a key of engine = afpacket; this port's engine is dpdk")
ERROR_TEST(afp_steer_on_dpdk_port, P0 "engine = dpdk\nsteer = ports\n", 4, "port0", "steer",
	   "is a key of engine = afpacket")
ERROR_TEST(afp_steer_bad, P0 "engine = afpacket\niface = eth0\nsteer = rss\n", 5, "port0", "steer",
	   "\"rss\" is not a steering mode (ports or hash)")
ERROR_TEST(afp_iface_too_long, P0 "engine = afpacket\niface = abcdefghijklmnop\n", 4, "port0", "iface",
	   "is not a Linux interface name")
ERROR_TEST(afp_block_not_pages, P0 "engine = afpacket\niface = eth0\nrx_block_kb = 6\n", 5, "port0",
	   "rx_block_kb", "6 is not a multiple of 4 (the page size)")
ERROR_TEST(afp_blocks_range, P0 "engine = afpacket\niface = eth0\nrx_blocks = 1\n", 5, "port0",
	   "rx_blocks", "out of range (2..4096)")
ERROR_TEST(afp_tx_frames_range, P0 "engine = afpacket\niface = eth0\ntx_frames = 8\n", 5, "port0",
	   "tx_frames", "out of range (16..65536)")

/* engine = afpacket: every key, and the defaults (dpdk; steer = ports). */
static void test_port_engine(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n"
						"[port1]\nipv4 = 10.0.1.1/24\nengine = afpacket\niface = veth1\n"
						"[port2]\nipv4 = 10.0.2.1/24\nengine = afpacket\niface = eth0\n"
						"steer = hash\nrx_block_kb = 1024\nrx_blocks = 4\ntx_frames = 256\n",
						&err), 0);
	assert_int_equal(cfg.port_count, 3);
	assert_int_equal(cfg.ports[0].engine, MLW_ENGINE_DPDK);
	assert_string_equal(cfg.ports[0].iface, "");
	assert_int_equal(cfg.ports[1].engine, MLW_ENGINE_AFPACKET);
	assert_string_equal(cfg.ports[1].iface, "veth1");
	assert_int_equal(cfg.ports[1].steer, MLW_PORT_STEER_DEFAULT);
	assert_int_equal(cfg.ports[1].rx_block_kb, 0);
	assert_int_equal(cfg.ports[2].steer, MLW_PORT_STEER_HASH);
	assert_int_equal(cfg.ports[2].rx_block_kb, 1024);
	assert_int_equal(cfg.ports[2].rx_blocks, 4);
	assert_int_equal(cfg.ports[2].tx_frames, 256);
	/* engine = loop (the loopback port of builds without DPDK) takes no
	 * afpacket key. */
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\nengine = loop\n", &err), 0);
	assert_int_equal(cfg.ports[0].engine, MLW_ENGINE_LOOP);
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\nengine = loop\n"
						"iface = eth0\n", &err), -EINVAL);
	assert_string_equal(err.key, "iface");
	assert_non_null(strstr(err.message, "this port's engine is loop"));
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n"
						"[port1]\nipv4 = 10.0.1.1/24\nengine = afpacket\niface = veth1\n"
						"[port2]\nipv4 = 10.0.2.1/24\nengine = afpacket\niface = eth0\n"
						"steer = hash\nrx_block_kb = 1024\nrx_blocks = 4\ntx_frames = 256\n",
						&err), 0);
	/* A hand-built struct: an engine outside the enum names the key. */
	cfg.ports[1].engine = (enum mlw_engine)7;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.section, "port1");
	assert_string_equal(err.key, "engine");
}

/* The first error wins, even when a later line is wrong too. */
ERROR_TEST(first_error_wins, "[port0]\nipv4 = 10.0.0.2/24\nmtu = 1\nbogus = 2\n[port9]\nx=1\n", 3, "port0",
	   "mtu", "out of range")

static void test_err_long_line(void **state)
{
	char ini[512];

	(void)state;
	/* 198 characters plus the newline is the longest line libinih takes whole. */
	snprintf(ini, sizeof(ini), P0 "; %0196d\n", 0);
	assert_int_equal(strlen(strchr(ini, ';')), 199);
	{
		struct mlw_config cfg;

		assert_int_equal(mlw_config_load_string(&cfg, ini, NULL), 0);
	}
	snprintf(ini, sizeof(ini), P0 "; %0197d\nmtu = 1500\n", 0);
	expect_error(ini, -EINVAL, 3, "", "", "line is longer than 198 characters");
}

static void test_null_arguments(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;
	char buf[8];

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, NULL, &err), -EINVAL);
	assert_true(err.message[0] != '\0');
	assert_int_equal(mlw_config_load_string(NULL, P0, &err), -EINVAL);
	assert_int_equal(mlw_config_load_file(&cfg, NULL, &err), -EINVAL);
	assert_int_equal(mlw_config_validate(NULL, &err), -EINVAL);
	assert_int_equal(mlw_config_format_error(NULL, "x", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mlw_config_format_error(&err, "x", NULL, 1), -EINVAL);
	/* A NULL error pointer is allowed: the return code alone is reported. */
	assert_int_equal(mlw_config_load_string(&cfg, "[x]\ny=1\n", NULL), -EINVAL);
}

/* Write @p text to a fresh temporary file; its path goes to @p path. */
static void write_temp(char *path, size_t len, const char *text)
{
	int fd;

	snprintf(path, len, "%s/mlw-config-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void test_load_file(void **state)
{
	struct mlw_config from_file, from_string;
	struct mlw_config_error err;
	char path[256], ini[512];

	(void)state;
	write_temp(path, sizeof(path), full_ini);
	assert_int_equal(mlw_config_load_file(&from_file, path, &err), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mlw_config_load_string(&from_string, full_ini, &err), 0);
	assert_memory_equal(&from_file, &from_string, sizeof(from_file));

	/* Errors carry the file's line; CRLF line ends are fine. */
	write_temp(path, sizeof(path), "[port0]\r\nipv4 = 10.0.0.2/24\r\n\r\nmac = 03:00:00:00:00:01\r\n");
	assert_int_equal(mlw_config_load_file(&from_file, path, &err), -EINVAL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(err.line, 4);
	assert_string_equal(err.section, "port0");
	assert_string_equal(err.key, "mac");

	/* The file reader refuses long lines too. */
	snprintf(ini, sizeof(ini), P0 "; %0197d\n", 0);
	write_temp(path, sizeof(path), ini);
	assert_int_equal(mlw_config_load_file(&from_file, path, &err), -EINVAL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.message, "longer than"));
}

static void test_missing_file(void **state)
{
	struct mlw_config cfg, d = defaults();
	struct mlw_config_error err;
	char out[512];

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	assert_int_equal(mlw_config_load_file(&cfg, "/nonexistent/mlw.ini", &err), -ENOENT);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.section, "");
	assert_string_equal(err.message, "cannot open: No such file or directory");
	assert_memory_equal(&cfg, &d, sizeof(cfg));
	mlw_config_format_error(&err, "/nonexistent/mlw.ini", out, sizeof(out));
	assert_string_equal(out, "/nonexistent/mlw.ini: cannot open: No such file or directory");
}

static void test_format_error(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;
	char out[512], small[10];
	int n;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nburst = 32\n\n\n\n[port0]\nipv4 = 10.0.0.300/24\n",
						&err), -EINVAL);
	n = mlw_config_format_error(&err, "config.ini", out, sizeof(out));
	assert_string_equal(out, "config.ini:7: [port0] ipv4: \"10.0.0.300/24\" is not an IPv4 address/prefix");
	assert_int_equal(n, (int)strlen(out));
	/* Truncates like snprintf and still says how long the whole line is. */
	assert_int_equal(mlw_config_format_error(&err, "config.ini", small, sizeof(small)), n);
	assert_string_equal(small, "config.in");
	assert_int_equal(mlw_config_format_error(&err, NULL, NULL, 0), n - (int)strlen("config.ini") + 6);

	/* A section but no key, and no source name. */
	assert_int_equal(mlw_config_load_string(&cfg, P0 "[port2]\nipv4 = 10.0.2.2/24\n", &err), -EINVAL);
	mlw_config_format_error(&err, NULL, out, sizeof(out));
	assert_string_equal(out, "config:4: [port2] [port1] is missing: ports are numbered from port0 without gaps");
}

static void test_validate_struct(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;

	(void)state;
	/* A hand-built configuration. */
	mlw_config_defaults(&cfg);
	cfg.shards = 2;
	cfg.port_count = 1;
	cfg.ports[0].has_ipv4 = true;
	cfg.ports[0].ipv4_addr = ip4("172.16.0.10");
	cfg.ports[0].ipv4_prefix = 12;
	cfg.ports[0].ipv4_netmask = ip4("255.240.0.0");
	cfg.ports[0].ipv4_gateway = ip4("172.31.255.254");
	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
	assert_int_equal(cfg.cores[1], 1);

	/* Netmask that does not match the prefix. */
	cfg.ports[0].ipv4_netmask = ip4("255.255.0.0");
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.section, "port0");
	assert_string_equal(err.key, "ipv4");
	assert_int_equal(err.line, 0);
	cfg.ports[0].ipv4_netmask = ip4("255.240.0.0");

	/* Two shards on one core: they take turns when they back off or
	 * sleep when idle; two busy-polling shards would starve each other. */
	cfg.cores[1] = 0;
	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
	cfg.idle = MLW_IDLE_POLL;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.section, "stack");
	assert_string_equal(err.key, "cores");
	assert_non_null(strstr(err.message, "core 0 is used by two shards"));
	cfg.idle = MLW_IDLE_INTERRUPT;	/* sleeps in the kernel when idle: may share */
	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
	cfg.cores[1] = 1;
	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
	cfg.idle = MLW_IDLE_BACKOFF;
	cfg.idle_wait_ms = 0;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "idle_wait_ms");
	cfg.idle_wait_ms = 100;

	/* Out-of-range enum and counts. */
	cfg.idle = (enum mlw_idle_policy)7;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "idle");
	cfg.idle = MLW_IDLE_POLL;
	cfg.max_sockets = 0;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "max_sockets");
	assert_non_null(strstr(err.message, "0 is out of range (1..1048576)"));
	cfg.max_sockets = MLW_FD_MAX_PER_SHARD + 1;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "max_sockets");
	cfg.max_sockets = 100000;
	cfg.heap_limit_mb = MLW_CONFIG_HEAP_LIMIT_MB_MAX + 1;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.section, "stack");
	assert_string_equal(err.key, "heap_limit_mb");
	cfg.heap_limit_mb = 16;
	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
	cfg.port_count = MLW_MAX_PORTS + 1;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	cfg.port_count = 1;

	/* eal_args without its terminating NUL. */
	memset(cfg.eal_args, 'x', sizeof(cfg.eal_args));
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "args");
	cfg.eal_args[0] = '\0';
	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
}

/* [portN] checksum: verify by default, trust per port, and a hand-built
 * struct with a value outside the enum is refused naming the key. */
static void test_port_checksum(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n"
						"[port1]\nchecksum = trust\nipv4 = 10.0.1.1/24\n"
						"[port2]\nipv4 = 10.0.2.1/24\nchecksum = verify\n", &err), 0);
	assert_int_equal(cfg.port_count, 3);
	assert_int_equal(cfg.ports[0].checksum, MLW_CHECKSUM_VERIFY);
	assert_int_equal(cfg.ports[1].checksum, MLW_CHECKSUM_TRUST);
	assert_int_equal(cfg.ports[2].checksum, MLW_CHECKSUM_VERIFY);
	mlw_config_defaults(&cfg);
	assert_int_equal(cfg.ports[0].checksum, MLW_CHECKSUM_VERIFY);

	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\nchecksum = trust\n",
						&err), 0);
	cfg.ports[0].checksum = (enum mlw_checksum_mode)2;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.section, "port0");
	assert_string_equal(err.key, "checksum");
	assert_string_equal(err.message, "2 is not a checksum mode");
}

/* [capture]: defaults, every key, the errors of the loader and of
 * mlw_config_validate(); the example file's section. */
static void test_capture(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;
	char out[512];

	(void)state;
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	assert_string_equal(cfg.capture.file, "");
	assert_true(cfg.capture.ports == UINT64_MAX && cfg.capture.shards == UINT64_MAX);
	assert_int_equal(cfg.capture.snaplen, MLW_CAPTURE_SNAPLEN_DEFAULT);
	assert_int_equal(cfg.capture.limit_mb, 0);
	assert_int_equal(cfg.capture.rotate, 0);
	assert_false(cfg.capture.start);

	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nshards = 4\n[port0]\nipv4 = 10.0.0.1/24\n"
						"[port1]\nipv4 = 10.0.1.1/24\n[capture]\nfile = /tmp/a b.pcapng\n"
						"ports = 1\nshards = 0, 3\nsnaplen = 96\nlimit_mb = 8\n"
						"rotate = 3\nstart = on\n", &err), 0);
	assert_string_equal(cfg.capture.file, "/tmp/a b.pcapng");
	assert_true(cfg.capture.ports == 2);
	assert_true(cfg.capture.shards == 9);
	assert_int_equal(cfg.capture.snaplen, 96);
	assert_int_equal(cfg.capture.limit_mb, 8);
	assert_int_equal(cfg.capture.rotate, 3);
	assert_true(cfg.capture.start);

	/* The loader's errors: line, key, why. */
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n[capture]\nsnaplen = 63\n",
						&err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_string_equal(err.section, "capture");
	assert_string_equal(err.key, "snaplen");
	assert_string_equal(err.message, "\"63\" is not a number in 64..65535");
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nsnaplen = 65536\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_string_equal(err.key, "snaplen");
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nfilter = tcp\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.message, "unknown key in [capture] (known: file, ports, shards, snaplen, "
			    "limit_mb, rotate, start)");
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nports = 0,x\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_string_equal(err.message, "\"0,x\" is not \"all\" or a list of port numbers 0..7");
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nshards = 64\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_string_equal(err.message, "\"64\" is not \"all\" or a list of shard numbers 0..63");
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nstart = 1\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_string_equal(err.message, "\"1\" is not on or off");
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nlimit_mb = -1\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_string_equal(err.key, "limit_mb");
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nrotate = 101\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_string_equal(err.key, "rotate");

	/* Validation: what the keys mean together and for this stack. */
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nstart = on\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_string_equal(err.section, "capture");
	assert_string_equal(err.key, "file");
	assert_string_equal(err.message, "no file to capture to (file = PATH)");
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nports = 0,1\n[port0]\nipv4 = 10.0.0.1/24\n",
						&err), -EINVAL);
	assert_string_equal(err.key, "ports");
	assert_string_equal(err.message, "names port 1, but there is 1 port");
	assert_int_equal(mlw_config_load_string(&cfg, "[stack]\nshards = 2\n[capture]\nshards = 2\n"
						"[port0]\nipv4 = 10.0.0.1/24\n", &err), -EINVAL);
	assert_string_equal(err.message, "names shard 2, but there are 2 shards");
	mlw_config_format_error(&err, "x.ini", out, sizeof(out));
	assert_string_equal(out, "x.ini: [capture] shards: names shard 2, but there are 2 shards");
	assert_int_equal(mlw_config_load_string(&cfg, "[capture]\nfile = f\nrotate = 2\n"
						"[port0]\nipv4 = 10.0.0.1/24\n", &err), -EINVAL);
	assert_string_equal(err.key, "rotate");
	assert_string_equal(err.message, "rotates at limit_mb, which is not set");
	/* A hand-built struct goes through the same checks. */
	assert_int_equal(mlw_config_load_string(&cfg, "[port0]\nipv4 = 10.0.0.1/24\n", &err), 0);
	cfg.capture.snaplen = 10;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.key, "snaplen");
	cfg.capture.snaplen = 64;
	cfg.capture.shards = 0;
	assert_int_equal(mlw_config_validate(&cfg, &err), -EINVAL);
	assert_string_equal(err.message, "captures nothing");
	cfg.capture.shards = 1;
	assert_int_equal(mlw_config_validate(&cfg, &err), 0);
}

/* contrib/config/example.ini is documentation; it must stay loadable. */
static void test_example_ini(void **state)
{
	struct mlw_config cfg;
	struct mlw_config_error err;
	struct mlw_config_argv av;
	char out[512];
	int rc;

	(void)state;
	rc = mlw_config_load_file(&cfg, MLW_EXAMPLE_INI, &err);
	if (rc) {
		mlw_config_format_error(&err, MLW_EXAMPLE_INI, out, sizeof(out));
		fail_msg("%s", out);
	}
	assert_int_equal(cfg.shards, 2);
	assert_int_equal(cfg.port_count, 1);
	assert_int_equal(cfg.ports[0].ipv4_gateway, ip4("10.11.0.1"));
	assert_int_equal(cfg.max_sockets, MLW_FD_MAX_PER_SHARD);
	assert_int_equal(cfg.heap_limit_mb, 0);
	assert_string_equal(cfg.capture.file, "/tmp/mlwip.pcapng");
	assert_int_equal(cfg.capture.snaplen, 65535);
	assert_false(cfg.capture.start);
	assert_int_equal(mlw_config_eal_argv(&cfg, NULL, &av, &err), 0);
	assert_int_equal(av.argc, 7);
	assert_string_equal(av.argv[5], "--file-prefix=mlw0");
	assert_string_equal(av.argv[6], "--vdev=net_af_packet0,iface=veth0,qpairs=2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_eal_argv),
		cmocka_unit_test(test_defaults_when_absent),
		cmocka_unit_test(test_shards_and_cores),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_port_engine),
		cmocka_unit_test(test_err_engine_unknown),
		cmocka_unit_test(test_err_afpacket_without_iface),
		cmocka_unit_test(test_err_afp_key_on_dpdk_port),
		cmocka_unit_test(test_err_afp_steer_on_dpdk_port),
		cmocka_unit_test(test_err_afp_steer_bad),
		cmocka_unit_test(test_err_afp_iface_too_long),
		cmocka_unit_test(test_err_afp_block_not_pages),
		cmocka_unit_test(test_err_afp_blocks_range),
		cmocka_unit_test(test_err_afp_tx_frames_range),
		cmocka_unit_test(test_max_time_wait),
		cmocka_unit_test(test_syn_settings),
		cmocka_unit_test(test_tcp_bufs),
		cmocka_unit_test(test_local_ports),
		cmocka_unit_test(test_err_bad_ipv4),
		cmocka_unit_test(test_err_ipv4_prefix_too_long),
		cmocka_unit_test(test_err_ipv4_no_prefix),
		cmocka_unit_test(test_err_ipv4_network_address),
		cmocka_unit_test(test_err_ipv4_multicast),
		cmocka_unit_test(test_err_bad_ipv6),
		cmocka_unit_test(test_err_ipv6_prefix_too_long),
		cmocka_unit_test(test_err_gateway_outside_subnet),
		cmocka_unit_test(test_err_gateway_is_own_address),
		cmocka_unit_test(test_err_gateway_without_ipv4),
		cmocka_unit_test(test_err_bad_gateway),
		cmocka_unit_test(test_err_bad_mac),
		cmocka_unit_test(test_err_bad_mac_digit),
		cmocka_unit_test(test_err_multicast_mac),
		cmocka_unit_test(test_err_zero_mac),
		cmocka_unit_test(test_err_mtu_too_small),
		cmocka_unit_test(test_err_mtu_too_big),
		cmocka_unit_test(test_err_mtu_ipv6_minimum),
		cmocka_unit_test(test_err_shards_zero),
		cmocka_unit_test(test_err_shards_too_many),
		cmocka_unit_test(test_err_shards_not_number),
		cmocka_unit_test(test_err_cores_shards_mismatch),
		cmocka_unit_test(test_err_cores_backwards),
		cmocka_unit_test(test_err_cores_syntax),
		cmocka_unit_test(test_err_cores_too_many),
		cmocka_unit_test(test_err_core_out_of_range),
		cmocka_unit_test(test_err_bad_idle),
		cmocka_unit_test(test_err_rx_desc_range),
		cmocka_unit_test(test_err_tx_desc_range),
		cmocka_unit_test(test_err_mbuf_cache_range),
		cmocka_unit_test(test_err_rx_zero_copy_range),
		cmocka_unit_test(test_err_mbufs_too_few),
		cmocka_unit_test(test_pool_sizes),
		cmocka_unit_test(test_idle_interrupt),
		cmocka_unit_test(test_err_idle_sleep_range),
		cmocka_unit_test(test_err_idle_wait_range),
		cmocka_unit_test(test_err_idle_wait_zero),
		cmocka_unit_test(test_err_bad_idle_list),
		cmocka_unit_test(test_err_burst_range),
		cmocka_unit_test(test_err_max_sockets_zero),
		cmocka_unit_test(test_err_max_sockets_too_many),
		cmocka_unit_test(test_err_max_sockets_not_number),
		cmocka_unit_test(test_err_heap_limit_not_number),
		cmocka_unit_test(test_err_heap_limit_duplicate),
		cmocka_unit_test(test_err_unknown_stack_key),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_port_checksum),
		cmocka_unit_test(test_err_checksum_bad_value),
		cmocka_unit_test(test_err_checksum_case),
		cmocka_unit_test(test_err_checksum_duplicate),
		cmocka_unit_test(test_err_unknown_eal_key),
		cmocka_unit_test(test_err_unknown_section),
		cmocka_unit_test(test_err_port_out_of_range),
		cmocka_unit_test(test_err_port_leading_zero),
		cmocka_unit_test(test_err_key_outside_section),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_duplicate_eal_args),
		cmocka_unit_test(test_err_indented_key),
		cmocka_unit_test(test_err_empty_value),
		cmocka_unit_test(test_err_port_gap),
		cmocka_unit_test(test_err_no_ports),
		cmocka_unit_test(test_err_empty_text),
		cmocka_unit_test(test_err_port_without_address),
		cmocka_unit_test(test_err_same_address_twice),
		cmocka_unit_test(test_err_syntax_no_equals),
		cmocka_unit_test(test_err_syntax_no_bracket),
		cmocka_unit_test(test_err_eal_open_quote),
		cmocka_unit_test(test_err_first_error_wins),
		cmocka_unit_test(test_err_long_line),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_format_error),
		cmocka_unit_test(test_validate_struct),
		cmocka_unit_test(test_example_ini),
		cmocka_unit_test(test_time_wait_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
