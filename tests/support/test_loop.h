/* test_loop.h - connections with lwIP's raw API over the shard's loopback netif (127.0.0.1), for tests on one shard: listeners, connect, accept, a byte pattern checked on receipt, and segments in flight on the loopback "wire" held, delivered or dropped one by one. */
#ifndef MLW_TEST_LOOP_H
#define MLW_TEST_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/err.h"
#include "lwip/ip_addr.h"

struct tcp_pcb;

/* One end of a connection. The stream each way is pattern(seed, offset);
 * seed is the client's local port, which both ends know. */
struct tl_conn {
	struct tcp_pcb *pcb;	/* NULL once lwIP freed it (error) or it was closed */
	uint16_t seed;
	uint64_t tx;		/* bytes handed to tcp_write() */
	uint64_t rx;		/* bytes received */
	uint64_t bad;		/* received bytes that differ from the pattern */
	err_t err;		/* what the error callback said (ERR_OK: not called) */
	bool connected;		/* client: the connected callback ran */
	bool eof;		/* the peer's FIN arrived */
};

/* Server ends accepted by a listener go into conns[0..cap), in order. */
struct tl_listener {
	struct tcp_pcb *pcb;
	struct tl_conn *conns;
	size_t cap, n;
	size_t refused;		/* accepted beyond cap (aborted) */
};

/* A test step's failure: "line N: " and the message into @p why (a char
 * array), and -1 from the calling function. */
#define TL_CHECK(why, cond, ...)                                                 \
	do {                                                                     \
		if (!(cond)) {                                                   \
			tl_fail((why), sizeof(why), __LINE__, __VA_ARGS__);     \
			return -1;                                               \
		}                                                                \
	} while (0)
void tl_fail(char *why, size_t len, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* 127.0.0.1. */
const ip_addr_t *tl_loopback(void);

/* Listen on 127.0.0.1:@p port (backlog 255), server ends into @p conns.
 * Returns 0 or an err_t. */
int tl_listen(struct tl_listener *l, uint16_t port, struct tl_conn *conns, size_t cap);
void tl_listener_close(struct tl_listener *l);

/* tcp_new() + tcp_connect() to 127.0.0.1:@p port; c->seed is the local
 * port it got. Returns tcp_connect()'s err_t (ERR_MEM if no PCB). */
err_t tl_connect(struct tl_conn *c, uint16_t port);

/* Queue up to @p n more pattern bytes (as much as the send buffer takes)
 * and tcp_output(). Returns the bytes queued. */
size_t tl_write(struct tl_conn *c, size_t n);

/* tcp_close() (ERR_MEM retried by the caller's pumping: returns false);
 * tcp_abort(). Either way c->pcb is NULL afterwards (on success). */
bool tl_close(struct tl_conn *c);
void tl_abort(struct tl_conn *c);

/* One pass of the shard (test_pump). Pump until @p done(arg) or @p ms
 * passed; returns done's last answer. */
bool tl_pump_until(bool (*done)(void *arg), void *arg, int ms);

/* The loopback "wire": segments lwIP sent to 127.0.0.1 wait on the
 * netif's queue until the next pump. Grab takes them off it (returns how
 * many), deliver gives the first @p n taken (all with -1) to ip_input()
 * now, in order (what they cause is queued again), drop frees them. */
size_t tl_wire_grab(void);
size_t tl_wire_held(void);
void tl_wire_deliver(int n);
void tl_wire_drop(int n);

#endif
