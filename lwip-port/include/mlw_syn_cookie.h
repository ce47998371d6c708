/* mlw_syn_cookie.h - SYN cookie settings and counters (lwip-port/syn_cookie.c), for the stack's configuration and stats. */
#ifndef MLW_SYN_COOKIE_H
#define MLW_SYN_COOKIE_H

#include <stdint.h>

/* [stack] syncookies: as Linux's net.ipv4.tcp_syncookies. */
#define MLW_SYNCOOKIES_OFF 0u		/* a full listener drops SYNs (lwIP's way) */
#define MLW_SYNCOOKIES_ON_FULL 1u	/* cookies once a listener's half-open queue is full */
#define MLW_SYNCOOKIES_ALWAYS 2u	/* every SYN to a listener gets a cookie */

/* lwIP counts a listener's half-open and not yet accepted connections in
 * a u8_t (accepts_pending); cookies start at most this high, so that the
 * connections they complete still fit in the count. */
#define MLW_SYN_BACKLOG_MAX 224u

/* The calling shard's settings: the mode, the half-open limit per
 * listener and shard (1..MLW_SYN_BACKLOG_MAX; a listener's own backlog may
 * lower it) and how long a half-open connection lives in ms (tcp_timer.c).
 * The stack (sharding/shard.c) overrides the weak default in syn_cookie.c,
 * which leaves *@p s as given: Linux's mode 1, MLW_SYN_BACKLOG_MAX and
 * lwIP's TCP_SYN_RCVD_TIMEOUT. */
struct mlw_syn_cookie_settings {
	unsigned mode, backlog;
	uint32_t timeout_ms;
};
void mlw__syn_cookie_settings(struct mlw_syn_cookie_settings *s);
/* That timeout. */
uint32_t mlw__syn_rcvd_timeout_ms(void);

/* Whether the listener's accept queue is full: its SYNs are dropped, as
 * Linux drops them (sk_acceptq_is_full), cookie or not, and so are ACKs
 * with a valid cookie. The socket layer (socket-api/tcp.c) overrides this
 * weak default (never full). */
struct tcp_pcb_listen;
_Bool mlw__tcp_accept_queue_full(const struct tcp_pcb_listen *lpcb);

struct mlw_syn_cookie_stats {
	uint64_t sent;		/* SYN-ACKs with a cookie sent */
	uint64_t ok;		/* ACKs whose cookie was valid: connections created */
	uint64_t failed;	/* ACKs for a listener with an invalid or expired cookie */
	uint64_t syn_drops;	/* SYNs dropped here: half-open queue full and cookies
				   off, accept queue full, or no memory for the SYN-ACK */
	uint64_t ack_drops;	/* valid cookies dropped: the accept queue or the
				   listener's count is full, or no memory */
};

/* The calling shard's counters. */
void mlw__syn_cookie_stats(struct mlw_syn_cookie_stats *out);

#endif
