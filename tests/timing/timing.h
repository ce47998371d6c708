/* timing.h - the TCP timing cases of test_tcp_timing, written once against a stack-under-test interface (mlwip on a shard, timing_mlwip.c; Linux in a network namespace of its own, timing_linux.c), and what they measure. */
#ifndef MLW_TIMING_H
#define MLW_TIMING_H

#include <stdbool.h>
#include <stdint.h>

#include "sem.h"
#include "test_wire.h"

/* The stack under test is 10.0.0.2, the peer 10.0.0.99 (MAC TM_PEER_MAC),
 * played by frames the cases build. */
#define TM_STACK_IP "10.0.0.2"
#define TM_PEER_IP "10.0.0.99"
extern const uint8_t tm_peer_mac[6];

/* One stack under test: its socket calls (the semantics suite's backends,
 * tests/semantics/sem.h), run on the thread that runs the cases, and its
 * wire. */
struct tm_side {
	const struct sem_ops *sock;
	/* Put one Ethernet frame from the peer into the stack. */
	void (*input)(const uint8_t *f, unsigned len);
	/* Let the stack run until test_now_us() reaches @p until_us, or less
	 * once it has sent something; what it sent is in the log then. */
	void (*run)(int64_t until_us);
	/* A listener on @p port whose connections no socket reads: on mlwip a
	 * raw lwIP application that takes data as it arrives (tcp_recved) and
	 * leaves the acknowledging to lwIP, on Linux the kernel's own. Returns
	 * a handle for quiet_close(), or -1. */
	int (*quiet_listen)(uint16_t port);
	void (*quiet_close)(int handle);
	/* Data segments the delayed-ACK case sends, each alone (Linux ACKs its
	 * first 16 at once, quick-ACK mode, so it needs more to show its delay). */
	unsigned delack_rounds;
};

#define TM_MAXT 8
#define TM_DELACK_MAX 24

/* When something was sent (microseconds, test_now_us()): the first time and
 * each retransmission or probe after it. */
struct tm_times {
	int64_t t[TM_MAXT];
	unsigned n;
};

struct tm_keep {
	int64_t t0;		/* the peer's last segment (data) was put in */
	struct tm_times probe;	/* keepalive probes */
	int64_t end;		/* RST sent, or else the error first seen by read(); 0: none */
	bool rst;		/* the connection ended with a RST on the wire */
	int err;		/* read()'s errno then */
};

/* What the cases saw on one stack. */
struct tm_result {
	bool ran;
	char why[256];		/* the first setup failure, if any */
	/* initial window: the first flight of 64 KiB written on a fresh connection */
	unsigned iw_frames, iw_bytes;
	/* initial RTO: SYN-ACK of a passive open and SYN of an active open, never answered */
	struct tm_times synack, syn;
	/* minimum RTO: 100 bytes never acknowledged after five acknowledged at once */
	struct tm_times rto;
	/* delayed ACK: time from each data segment to its ACK, -1: none in 400 ms */
	int64_t delack[TM_DELACK_MAX];
	unsigned ndelack;
	/* keepalive 1 s / 1 s / 2 probes, two connections 250 ms apart */
	struct tm_keep keep[2];
	/* zero-window probes: t0 is the write that found the window closed */
	int64_t zwp_t0;
	struct tm_times zwp;
};

/**
 * Run every case on @p sd, which logs what it sends in @p log; @p mac is
 * the stack's MAC. Results go to @p res (res->why on a setup failure).
 */
void tm_run_cases(const struct tm_side *sd, struct test_wire_log *log, const uint8_t mac[6],
		  struct tm_result *res);

/** The cases on mlwip: the body for test_stack_run() (one shard, net_ring0). */
void tm_mlwip_run(struct tm_result *res);

/**
 * The cases on Linux, in a network namespace of the calling process's own
 * (unshare): a veth pair, the stack's end 10.0.0.2, the peer played with a
 * packet socket on the other end. Run it in a child process. Returns 0, or
 * 77 with the reason in res->why when it cannot run here (not root, no
 * veth), 1 on other failures.
 */
int tm_linux_run(struct tm_result *res);

#endif
