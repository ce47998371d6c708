/* test_stack.h - a one-process mlwip stack for tests: DPDK without hugepages or PCI, one net_ring0 port, a file prefix of the test's own, and its runtime directory removed afterwards. */
#ifndef MLW_TEST_STACK_H
#define MLW_TEST_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "mlwip/stack.h"

/**
 * Create a stack from INI text: an [eal] section with
 * "--no-huge --no-pci -m 256 --file-prefix=<name><pid> --vdev=net_ring0",
 * followed by @p sections (the [stack] and [port0] sections, e.g.
 * "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n"). On failure returns
 * a negative errno with the reason in @p err, and nothing is left behind.
 */
int test_stack_create(struct mlw_stack **st, const char *name, const char *sections, char *err,
		      size_t errlen);

/**
 * As test_stack_create(), with the EAL arguments after
 * "--no-huge --no-pci --file-prefix=<name><pid>" given by the caller
 * (memory and devices, e.g. "-m 512 --vdev=net_null0").
 */
int test_stack_create_eal(struct mlw_stack **st, const char *name, const char *eal_args,
			  const char *sections, char *err, size_t errlen);

/** Destroy @p st (may be NULL) and remove the DPDK runtime directory of
 * <name><pid> (DPDK leaves /var/run/dpdk/<prefix>, or the one under
 * $XDG_RUNTIME_DIR when not root, behind). */
void test_stack_destroy(struct mlw_stack *st, const char *name);

/**
 * The whole life of a one-shard test stack: test_stack_create(), @p body
 * run once on the shard, the stack stopped, the stats table on stdout,
 * *@p bad_heaps = mlw_stack_check_heaps(), test_stack_destroy(). Returns
 * 77 if the stack did not start (the reason printed as "SKIP: ..."), 1 if
 * the run failed, else 0: a main() hands that on, or goes on to its CMocka
 * group on 0.
 */
int test_stack_run(const char *name, const char *sections, void (*body)(void), unsigned *bad_heaps);

/** The stack test_stack_run() runs now (for mlw_stack_stats() from the
 * body), NULL outside it. */
struct mlw_stack *test_stack_current(void);

/** CLOCK_MONOTONIC in milliseconds. */
int64_t test_now_ms(void);

/** CLOCK_MONOTONIC in microseconds. */
int64_t test_now_us(void);

/** One pass of the calling shard: written data to TCP (mlw_socket_flush),
 * then frames, loopback delivery and timers (mlw_shard_poll). */
void test_pump(void);

/** test_pump() for @p ms milliseconds. */
void test_pump_ms(int ms);

struct sockaddr_in;
/**
 * Open loopback TCP pairs [@p from, @p upto) on the calling shard: a
 * non-blocking mlw_connect() to the listener @p lfd at @p to, accepted
 * (SOCK_NONBLOCK) while test_pump() runs; cfd[i] and afd[i] get the two
 * descriptors. Returns the number of pairs open (@p upto on success);
 * short of it, *@p why names the call that failed or waited longer than
 * @p wait_ms, and errno is its errno.
 */
int test_tcp_pairs(int lfd, const struct sockaddr_in *to, int *cfd, int *afd, int from, int upto,
		   int wait_ms, const char **why);

struct netif;
/** The calling shard's lwIP netif of its DPDK port (named "dp" by
 * dpdk-netif), or NULL if it has none. */
struct netif *test_dpdk_netif(void);

#endif
