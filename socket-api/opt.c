/* opt.c - socket options (with the per-socket send and receive limits, TCP_CORK's held bytes and TCP_INFO), addresses, fcntl and ioctl. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
/* <netinet/tcp.h> defines TCP_MSS (536, an old default) as lwipopts.h
 * does (the shard's MSS): lwIP's is the one meant here. */
#undef TCP_MSS
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <sys/ioctl.h>

#include "lwip/ip.h"
#include "lwip/sys.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "mlwip/alloc.h"
#include "mlwip/socket.h"
#include "mlw_lwip_hooks.h"
#include "sock_private.h"

/* An accepted socket's PCB is a full tcp_pcb; a listener's is the smaller
 * tcp_pcb_listen, without flags or keepalive fields. */
static struct tcp_pcb *conn_pcb(const struct mlw__sock *s)
{
	return s->state == MLW__S_LISTEN ? NULL : s->pcb;
}

static int get_int(const void *optval, socklen_t optlen, int *v)
{
	/* Linux checks the length first, as a signed int. */
	if ((int)optlen < (int)sizeof(int))
		return EINVAL;
	if (optval == NULL)
		return EFAULT;
	memcpy(v, optval, sizeof(int));
	return 0;
}

/* ---- SO_SNDBUF / SO_RCVBUF ----
 *
 * As Linux: the value set is doubled (Linux counts its bookkeeping in the
 * buffer) and reported so; at least SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF
 * (4608 / 2304 on x86-64); a larger value is cut to the most lwIP can use
 * (TCP_SND_BUF / TCP_WND, where Linux cuts at net.core.wmem_max/rmem_max).
 * What the connection uses is half the reported size, i.e. the value set,
 * which is what Linux's default tcp_adv_win_scale gives too. Unset, a
 * socket may use TCP_SND_BUF and TCP_WND (reported doubled). */
#define SNDBUF_MIN 4608u
#define RCVBUF_MIN 2304u

uint32_t mlw__sndbuf_limit(const struct mlw__sock *s)
{
	return s->sndbuf != 0 ? s->sndbuf / 2 : TCP_SND_BUF;
}

uint32_t mlw__rcvbuf_limit(const struct mlw__sock *s)
{
	return s->rcvbuf != 0 ? s->rcvbuf / 2 : TCP_WND;
}

/* lwIP's send buffer (pcb->snd_buf) counts down from TCP_SND_BUF as
 * tcp_write() queues and back up as the peer acknowledges; tcp_sndbuf()
 * reports it cut to 16 bits, what one tcp_write() takes. SO_SNDBUF limits
 * the bytes queued plus what TCP_CORK holds. */
size_t mlw__tx_room(const struct mlw__sock *s)
{
	uint32_t queued, lim;
	size_t room;

	if (s->pcb == NULL)
		return 0;
	room = tcp_sndbuf(s->pcb);
	queued = (uint32_t)(TCP_SND_BUF - s->pcb->snd_buf) + s->cork_len;
	lim = mlw__sndbuf_limit(s);
	if (queued >= lim)
		return 0;
	return room < lim - queued ? room : lim - queued;
}

/*
 * The receive window. lwIP has one window size for all connections
 * (TCP_WND, or 64 KiB without window scaling) and opens pcb->rcv_wnd by
 * what tcp_recved() returns. A smaller SO_RCVBUF keeps rcv_cut bytes off
 * it: taken from pcb->rcv_wnd at once where the window has them, the rest
 * (rcv_held) from the next reads, whose tcp_recved() then gives less.
 *
 * The right edge announced never moves left (RFC 9293 3.8.6.2.2): lwIP
 * keeps its announcement there (tcp_update_rcv_ann_wnd), and the cut
 * keeps pcb->rcv_wnd there too, rcv_nxt + rcv_wnd >= rcv_ann_right_edge,
 * taking from the window at once only what lies beyond that edge. lwIP
 * accepts only data below rcv_nxt + rcv_wnd, and it relies on the peer
 * never sending past it: an out-of-order segment that reaches an empty
 * ooseq queue is kept whole, and when the data before it arrives lwIP
 * asserts "tcp_receive: ooseq tcplen > rcv_wnd" (tcp_in.c) if the window
 * left is shorter than the segment. A window cut below the announced edge
 * let a peer that kept to our announcement do exactly that (issue 12).
 * So a smaller window shows as the peer's data arrives and the reads open
 * less. tcp_close() resets a connection whose window is not fully open, so
 * close gives the cut back first (tcp.c).
 */
static void rcv_recved(struct tcp_pcb *pcb, size_t n)
{
	while (n > 0) {
		u16_t k = n > 0xffffu ? 0xffffu : (u16_t)n;

		tcp_recved(pcb, k);
		n -= k;
	}
}

void mlw__rcv_limit(struct mlw__sock *s)
{
	struct tcp_pcb *pcb = conn_pcb(s);
	uint32_t max, lim, want;

	if (pcb == NULL || s->state != MLW__S_CONNECTED)
		return;
	max = TCP_WND_MAX(pcb);
	lim = mlw__rcvbuf_limit(s);
	want = lim < max ? max - lim : 0;
	if (want > s->rcv_cut) {
		uint32_t right = pcb->rcv_nxt + pcb->rcv_wnd, spare, more, now;

		/* The edge lies left of rcv_nxt when the peer sent past it
		 * (lwIP takes in-window data it had not announced). */
		if (TCP_SEQ_LT(pcb->rcv_ann_right_edge, pcb->rcv_nxt))
			spare = pcb->rcv_wnd;
		else
			spare = TCP_SEQ_GT(right, pcb->rcv_ann_right_edge) ? right - pcb->rcv_ann_right_edge : 0;
		more = want - s->rcv_cut;
		now = more < spare ? more : spare;

		pcb->rcv_wnd -= now;
		s->rcv_held += more - now;
		/* A window lwIP opened but has not sent yet (tcp_recved below
		 * its update threshold) is not announced: it follows the cut. */
		if (pcb->rcv_ann_wnd > pcb->rcv_wnd)
			pcb->rcv_ann_wnd = pcb->rcv_wnd;
	} else if (want < s->rcv_cut) {
		uint32_t back = s->rcv_cut - want, h = back < s->rcv_held ? back : s->rcv_held;

		s->rcv_held -= h;
		rcv_recved(pcb, back - h);
		mlw__mark_dirty(s);
	}
	s->rcv_cut = want;
}

/* At establishment (lwIP's connected or accept callback, before the
 * segment that established the connection is read): only SYNs have been
 * sent, whose window field is never scaled (RFC 7323 2.2), so nothing
 * beyond 0xffff bytes, or the smaller window syn_opts.c wrote, has been
 * announced. lwIP records more for a SYN-ACK: tcp_output_segment() sets
 * rcv_ann_right_edge to rcv_nxt + rcv_ann_wnd, the whole TCP_WND once the
 * peer's SYN enabled window scaling, while the segment carries 0xffff of
 * it. The edge is put back to what the peer was offered, so the window can
 * be cut to the limit down to there, and the next segment offers no more
 * than the cut window (before, it offered all of TCP_WND while the PCB
 * accepted only the limit: issue 12). */
void mlw__rcv_limit_open(struct mlw__sock *s)
{
	struct tcp_pcb *pcb = conn_pcb(s);

	if (pcb == NULL || s->rcvbuf == 0)
		return;
	if (TCP_SEQ_GT(pcb->rcv_ann_right_edge, pcb->rcv_nxt + 0xffffu))
		pcb->rcv_ann_right_edge = pcb->rcv_nxt + 0xffffu;
	mlw__rcv_limit(s);
}

void mlw__rcv_open(struct mlw__sock *s, size_t n)
{
	if (s->pcb == NULL || n == 0)
		return;
	if (s->rcv_held != 0) {
		uint32_t h = n < s->rcv_held ? (uint32_t)n : s->rcv_held;

		s->rcv_held -= h;
		n -= h;
	}
	rcv_recved(s->pcb, n);
	/* lwIP announces a reopened window at once only past
	 * TCP_WND_UPDATE_THRESHOLD (4 MSS), more than a small SO_RCVBUF can
	 * ever open: the peer would wait for its window probe. Announce it
	 * once half the limit is open, as Linux's tcp_cleanup_rbuf does. */
	if (s->rcv_cut != 0 && n > 0 &&
	    s->pcb->rcv_wnd >= mlw__rcvbuf_limit(s) / 2 &&
	    s->pcb->rcv_nxt + s->pcb->rcv_ann_wnd != s->pcb->rcv_ann_right_edge)
		tcp_ack_now(s->pcb);
}

/* ---- TCP_CORK ----
 *
 * lwIP sends a partial segment whenever Nagle lets it (nothing
 * unacknowledged) and from its own input path, so corked bytes cannot wait
 * in lwIP's queue: full segments go to tcp_write(), the tail waits in the
 * socket's cork_buf (TCP_MSS bytes from the shard heap, taken at the first
 * corked send) until it fills a segment, the socket is uncorked, shut down
 * for writing or closed. Linux also sends it after 200 ms; mlwip does not. */
static err_t cork_push(struct mlw__sock *s, u8_t flags)
{
	err_t err;

	if (s->cork_len == 0 || s->pcb == NULL)
		return ERR_OK;
	err = tcp_write(s->pcb, s->cork_buf, s->cork_len, TCP_WRITE_FLAG_COPY | flags);
	if (err == ERR_OK) {
		s->cork_len = 0;
		mlw__mark_dirty(s);
	}
	return err;
}

err_t mlw__cork_flush(struct mlw__sock *s)
{
	return cork_push(s, 0);
}

err_t mlw__cork_write(struct mlw__sock *s, const void *buf, size_t len, size_t *taken)
{
	const uint8_t *b = buf;
	size_t mss = tcp_mss(s->pcb);
	err_t err;

	*taken = 0;
	if (mss == 0 || mss > TCP_MSS)
		mss = TCP_MSS;
	if (s->cork_buf == NULL) {
		s->cork_buf = mlw_alloc_malloc(TCP_MSS);
		if (s->cork_buf == NULL)
			return ERR_MEM;
	}
	while (len > 0) {
		size_t k;

		if (s->cork_len >= mss) {
			err = cork_push(s, TCP_WRITE_FLAG_MORE);
			if (err != ERR_OK)
				return *taken > 0 ? ERR_OK : err;
		}
		if (s->cork_len == 0 && len >= mss) {
			k = len - len % mss;
			err = tcp_write(s->pcb, b, (u16_t)k, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE);
			if (err != ERR_OK)
				return *taken > 0 ? ERR_OK : err;
			mlw__mark_dirty(s);
		} else {
			k = mss - s->cork_len < len ? mss - s->cork_len : len;
			memcpy(s->cork_buf + s->cork_len, b, k);
			s->cork_len = (uint16_t)(s->cork_len + k);
		}
		b += k;
		len -= k;
		*taken += k;
	}
	if (s->cork_len >= mss)
		cork_push(s, TCP_WRITE_FLAG_MORE);
	return ERR_OK;
}

static int set_sol_socket(struct mlw__sock *s, int name, const void *optval, socklen_t optlen)
{
	struct tcp_pcb *pcb = conn_pcb(s);
	struct linger lg;
	int v, e;

	if (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
		struct timeval tv;
		uint64_t us;

		/* As Linux's sock_set_timeout: EINVAL short, EDOM bad
		 * microseconds, zero waits forever, a negative time does not
		 * wait at all (kept as 1 us; Linux reads it back as 0). A
		 * time whose microseconds overflow 64 bits (over 584,000
		 * years) waits forever, as Linux's beyond MAX_SCHEDULE_TIMEOUT
		 * (LONG_MAX jiffies) does, and reads back as 0 as there. */
		if ((int)optlen < (int)sizeof(int))
			return EINVAL;	/* Linux reads an int first */
		if (optval == NULL)
			return EFAULT;
		if ((int)optlen < (int)sizeof(tv))
			return EINVAL;
		memcpy(&tv, optval, sizeof(tv));
		if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return EDOM;
		if (tv.tv_sec < 0)
			us = 1;
		else if ((uint64_t)tv.tv_sec >= (UINT64_MAX - 999999) / 1000000)
			us = 0;
		else
			us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
		if (name == SO_RCVTIMEO)
			s->rcvtimeo_us = us;
		else
			s->sndtimeo_us = us;
		return 0;
	}
	if (name == SO_LINGER) {
		if ((int)optlen < (int)sizeof(int))
			return EINVAL;	/* Linux reads an int first */
		if (optval == NULL)
			return EFAULT;
		if ((int)optlen < (int)sizeof(lg))
			return EINVAL;
		memcpy(&lg, optval, sizeof(lg));
		s->linger_on = lg.l_onoff != 0;
		s->linger_sec = lg.l_linger < 0 ? 0 : lg.l_linger;
		return 0;
	}
	switch (name) {
	case SO_REUSEADDR:
	case SO_REUSEPORT:
	case SO_KEEPALIVE:
	case SO_RCVBUF:
	case SO_SNDBUF:
		break;
	default:
		return ENOPROTOOPT;
	}
	e = get_int(optval, optlen, &v);
	if (e != 0)
		return e;
	switch (name) {
	case SO_REUSEADDR:
	case SO_REUSEPORT:
		/* Shards never share a PCB table, so SO_REUSEPORT across
		 * shards is implicit; within one shard both map to lwIP's
		 * SOF_REUSEADDR. */
		s->reuse = v != 0;
		if (s->upcb != NULL) {
			if (v)
				ip_set_option(s->upcb, SOF_REUSEADDR);
			else
				ip_reset_option(s->upcb, SOF_REUSEADDR);
		}
		if (s->pcb != NULL) {
			if (v)
				ip_set_option(s->pcb, SOF_REUSEADDR);
			else
				ip_reset_option(s->pcb, SOF_REUSEADDR);
		}
		break;
	case SO_KEEPALIVE:
		s->keepalive = v != 0;
		if (pcb != NULL) {
			if (v)
				ip_set_option(pcb, SOF_KEEPALIVE);
			else
				ip_reset_option(pcb, SOF_KEEPALIVE);
		}
		break;
	case SO_SNDBUF:
	case SO_RCVBUF: {
		/* Linux: min_t(u32, val, max), so a negative value is huge. */
		uint32_t u = (uint32_t)v, max = name == SO_SNDBUF ? TCP_SND_BUF : TCP_WND;
		uint32_t min = name == SO_SNDBUF ? SNDBUF_MIN : RCVBUF_MIN;

		if (u > max)
			u = max;
		u *= 2;
		if (u < min)
			u = min;
		if (name == SO_SNDBUF) {
			s->sndbuf = u;
			mlw__sock_notify(s);	/* writability may change */
		} else {
			s->rcvbuf = u;
			mlw__rcv_limit(s);
		}
		break;
	}
	}
	return 0;
}

static int set_tcp(struct mlw__sock *s, int name, const void *optval, socklen_t optlen)
{
	struct tcp_pcb *pcb = conn_pcb(s);
	int v, e;

	switch (name) {
	case TCP_NODELAY:
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
	case TCP_KEEPCNT:
	case TCP_SYNCNT:
	case TCP_MAXSEG:
	case TCP_QUICKACK:
	case TCP_CORK:
	case TCP_USER_TIMEOUT:
		break;
	default:
		return ENOPROTOOPT;
	}
	e = get_int(optval, optlen, &v);
	if (e != 0)
		return e;
	switch (name) {
	case TCP_QUICKACK:
		/* mlwip sends a delayed ACK at the end of the loop pass that
		 * received the data (fd.c's mlw__flush), so it is always in
		 * Linux's quick-ACK mode; 0 is only remembered. 1 sends an
		 * ACK that is due at once, as Linux's tcp_cleanup_rbuf(). */
		s->quickack_off = v == 0;
		if (v != 0 && pcb != NULL && s->state == MLW__S_CONNECTED &&
		    (pcb->flags & TF_ACK_DELAY)) {
			tcp_ack_now(pcb);
			mlw__mark_dirty(s);
		}
		break;
	case TCP_CORK:
		s->cork = v != 0;
		if (!s->cork && pcb != NULL)
			mlw__cork_flush(s);
		break;
	case TCP_USER_TIMEOUT:
		/* Milliseconds; Linux refuses a negative value. */
		if (v < 0)
			return EINVAL;
		s->user_timeout_ms = (uint32_t)v;
		s->ut_start = 0;
		mlw__tcp_poll_update(s);
		break;
	case TCP_NODELAY:
		s->nodelay = v != 0;
		if (pcb != NULL) {
			if (v)
				tcp_nagle_disable(pcb);
			else
				tcp_nagle_enable(pcb);
			mlw__mark_dirty(s);	/* held-back data may go now */
		}
		break;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		/* Linux's limits: 1 .. 32767 seconds. */
		if (v < 1 || v > 32767)
			return EINVAL;
		if (name == TCP_KEEPIDLE)
			s->keep_idle_ms = (uint32_t)v * 1000;
		else
			s->keep_intvl_ms = (uint32_t)v * 1000;
		if (pcb != NULL) {
			if (name == TCP_KEEPIDLE)
				pcb->keep_idle = s->keep_idle_ms;
			else
				pcb->keep_intvl = s->keep_intvl_ms;
		}
		break;
	case TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return EINVAL;
		s->keep_cnt = (uint32_t)v;
		if (pcb != NULL)
			pcb->keep_cnt = s->keep_cnt;
		break;
	case TCP_MAXSEG:
		/* Linux's limits (TCP_MIN_MSS .. MAX_TCP_WINDOW; 0 clears).
		 * It caps the segments this end sends and, set before
		 * connect or listen, the MSS announced in the SYN or SYN-ACK
		 * (lwip-port/syn_mss.c). */
		if (v != 0 && (v < 88 || v > 32767))
			return EINVAL;
		s->user_mss = (uint16_t)v;
		if (pcb != NULL && s->state == MLW__S_CONNECTED && v != 0 && v < pcb->mss)
			pcb->mss = (u16_t)v;
		break;
	case TCP_SYNCNT:
		/* Linux's MAX_TCP_SYNCNT. Takes effect at the next connect
		 * (the timer wheel asks mlw__tcp_syn_retries(), tcp.c). */
		if (v < 1 || v > 127)
			return EINVAL;
		s->syn_cnt = (uint8_t)v;
		break;
	}
	return 0;
}

/* IPV6_V6ONLY, before the socket is bound (as Linux: EINVAL after). The
 * PCB's address type decides what lwIP matches: IPADDR_TYPE_ANY takes IPv4
 * and IPv6, IPADDR_TYPE_V6 only IPv6. */
static int set_ipv6(struct mlw__sock *s, int name, const void *optval, socklen_t optlen)
{
	bool bound;
	int v, e;

	if (name != IPV6_V6ONLY)
		return ENOPROTOOPT;
	e = get_int(optval, optlen, &v);
	if (e != 0)
		return e;
	bound = s->f.kind == MLW__KIND_UDP ? s->upcb->local_port != 0
					   : s->state != MLW__S_NEW || s->pcb == NULL;
	if (bound)
		return EINVAL;
	s->v6only = v != 0;
	if (s->f.kind == MLW__KIND_UDP) {
		IP_SET_TYPE_VAL(s->upcb->local_ip, mlw__pcb_type(s->family, s->v6only));
		IP_SET_TYPE_VAL(s->upcb->remote_ip, mlw__pcb_type(s->family, s->v6only));
	} else {
		IP_SET_TYPE_VAL(s->pcb->local_ip, mlw__pcb_type(s->family, s->v6only));
		IP_SET_TYPE_VAL(s->pcb->remote_ip, mlw__pcb_type(s->family, s->v6only));
	}
	return 0;
}

int mlw_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	int e;

	if (s == NULL)
		return -1;
	if (level == SOL_SOCKET)
		e = set_sol_socket(s, optname, optval, optlen);
	else if (level == IPPROTO_TCP && s->f.kind == MLW__KIND_TCP)
		e = set_tcp(s, optname, optval, optlen);
	else if (level == IPPROTO_IPV6 && s->family == AF_INET6)
		e = set_ipv6(s, optname, optval, optlen);
	else
		e = ENOPROTOOPT;
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

/* What a getsockopt returns: an int, or one of the structs. */
union opt_val {
	int i;
	struct linger lg;
	struct timeval tv;
	struct tcp_info ti;
};

/* Linux's TCP state numbers (include/net/tcp_states.h) for lwIP's. */
static uint8_t linux_state(enum tcp_state st)
{
	switch (st) {
	case LISTEN: return 10;
	case SYN_SENT: return 2;
	case SYN_RCVD: return 3;
	case ESTABLISHED: return 1;
	case FIN_WAIT_1: return 4;
	case FIN_WAIT_2: return 5;
	case CLOSE_WAIT: return 8;
	case CLOSING: return 11;
	case LAST_ACK: return 9;
	case TIME_WAIT: return 6;
	default: return 7;	/* CLOSED */
	}
}

/*
 * TCP_INFO with what lwIP keeps; every other field is 0. lwIP measures
 * round trips in slow-timer ticks (TCP_SLOW_INTERVAL ms): sa is eight times
 * the smoothed RTT, sv four times its mean deviation, all in ticks; the
 * RTO is the timer wheel's (lwip-port/tcp_timer.c); Linux reports
 * microseconds. cwnd and ssthresh are bytes in
 * lwIP, segments in Linux. retransmits and total_retrans are both lwIP's
 * nrtx, the retransmissions of the current segment (lwIP keeps no total).
 */
static void tcp_info_fill(const struct mlw__sock *s, struct tcp_info *ti)
{
	const struct tcp_pcb *pcb = s->pcb;
	uint32_t tick_us = TCP_SLOW_INTERVAL * 1000u;
	uint32_t amss = s->user_mss != 0 && s->user_mss < TCP_MSS ? s->user_mss : TCP_MSS;

	memset(ti, 0, sizeof(*ti));
	if (pcb == NULL) {
		ti->tcpi_state = 7;
		return;
	}
	ti->tcpi_state = linux_state(pcb->state);
	if (s->state == MLW__S_LISTEN)
		return;
	ti->tcpi_retransmits = pcb->nrtx;
	ti->tcpi_total_retrans = pcb->nrtx;
#if LWIP_WND_SCALE
	if (pcb->flags & TF_WND_SCALE) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		ti->tcpi_snd_wscale = pcb->snd_scale & 0xf;
		ti->tcpi_rcv_wscale = pcb->rcv_scale & 0xf;
	}
#endif
#if LWIP_TCP_TIMESTAMPS
	if (pcb->flags & TF_TIMESTAMP)
		ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
#endif
#if LWIP_TCP_SACK_OUT
	if (pcb->flags & TF_SACK)
		ti->tcpi_options |= TCPI_OPT_SACK;
#endif
	ti->tcpi_rto = mlw__tcp_rto_ms(pcb) * 1000u;	/* what the timer wheel waits */
	/* Linux's mss_cache: the data a segment carries, the 12 bytes of
	 * timestamps taken off (tcp_mss()). */
	ti->tcpi_snd_mss = tcp_mss(pcb);
	ti->tcpi_rcv_mss = amss;
	ti->tcpi_advmss = amss;
	for (const struct tcp_seg *seg = pcb->unacked; seg != NULL; seg = seg->next)
		ti->tcpi_unacked++;
	ti->tcpi_rtt = (uint32_t)(pcb->sa > 0 ? pcb->sa >> 3 : 0) * tick_us;
	ti->tcpi_rttvar = (uint32_t)(pcb->sv > 0 ? pcb->sv >> 2 : 0) * tick_us;
	if (pcb->mss != 0) {
		ti->tcpi_snd_cwnd = (uint32_t)pcb->cwnd / pcb->mss;
		ti->tcpi_snd_ssthresh = (uint32_t)pcb->ssthresh / pcb->mss;
	}
	ti->tcpi_rcv_space = mlw__rcvbuf_limit(s) < TCP_WND_MAX(pcb) ? mlw__rcvbuf_limit(s)
								  : TCP_WND_MAX(pcb);
}

/* The value of an option, or ENOPROTOOPT. */
static int get_value(struct mlw__sock *s, int level, int name, union opt_val *out, socklen_t *size)
{
	struct tcp_pcb *pcb = conn_pcb(s);
	int *v = &out->i;

	*size = sizeof(int);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR:
			*v = mlw__sock_take_error(s);
			return 0;
		case SO_TYPE:
			*v = s->f.kind == MLW__KIND_UDP ? SOCK_DGRAM : SOCK_STREAM;
			return 0;
		case SO_ACCEPTCONN:
			*v = s->state == MLW__S_LISTEN;
			return 0;
		case SO_REUSEADDR:
		case SO_REUSEPORT:
			*v = s->reuse;
			return 0;
		case SO_KEEPALIVE:
			*v = s->keepalive;
			return 0;
		case SO_RCVBUF:
			*v = (int)(mlw__rcvbuf_limit(s) * 2);
			return 0;
		case SO_SNDBUF:
			*v = (int)(mlw__sndbuf_limit(s) * 2);
			return 0;
		case SO_LINGER:
			out->lg.l_onoff = s->linger_on;
			out->lg.l_linger = s->linger_sec;
			*size = sizeof(out->lg);
			return 0;
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			uint64_t us = name == SO_RCVTIMEO ? s->rcvtimeo_us : s->sndtimeo_us;

			out->tv.tv_sec = (time_t)(us / 1000000);
			out->tv.tv_usec = (suseconds_t)(us % 1000000);
			*size = sizeof(out->tv);
			return 0;
		}
		}
		return ENOPROTOOPT;
	}
	if (level == IPPROTO_IPV6 && s->family == AF_INET6 && name == IPV6_V6ONLY) {
		*v = s->v6only;
		return 0;
	}
	if (level == IPPROTO_TCP && s->f.kind == MLW__KIND_TCP) {
		switch (name) {
		case TCP_NODELAY:
			*v = s->nodelay;
			return 0;
		case TCP_KEEPIDLE:
			*v = (int)((pcb != NULL ? pcb->keep_idle : (s->keep_idle_ms ? s->keep_idle_ms : TCP_KEEPIDLE_DEFAULT)) / 1000);
			return 0;
		case TCP_KEEPINTVL:
			*v = (int)((pcb != NULL ? pcb->keep_intvl : (s->keep_intvl_ms ? s->keep_intvl_ms : TCP_KEEPINTVL_DEFAULT)) / 1000);
			return 0;
		case TCP_KEEPCNT:
			*v = (int)(pcb != NULL ? pcb->keep_cnt : (s->keep_cnt ? s->keep_cnt : TCP_KEEPCNT_DEFAULT));
			return 0;
		case TCP_SYNCNT:
			*v = s->syn_cnt ? s->syn_cnt : TCP_SYNMAXRTX;
			return 0;
		case TCP_QUICKACK:
			*v = !s->quickack_off;
			return 0;
		case TCP_CORK:
			*v = s->cork;
			return 0;
		case TCP_USER_TIMEOUT:
			*v = (int)s->user_timeout_ms;
			return 0;
		case TCP_INFO:
			/* A shorter buffer gets the start of the struct. */
			tcp_info_fill(s, &out->ti);
			*size = sizeof(out->ti);
			return 0;
		case TCP_MAXSEG:
			if (pcb != NULL && s->state == MLW__S_CONNECTED)
				*v = tcp_mss(pcb);
			else
				*v = s->user_mss != 0 ? s->user_mss : TCP_MSS;
			return 0;
		}
	}
	return ENOPROTOOPT;
}

int mlw_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	union opt_val v = { 0 };
	socklen_t n;
	int e;

	if (s == NULL)
		return -1;
	if (optval == NULL || optlen == NULL) {
		errno = EFAULT;
		return -1;
	}
	if ((int)*optlen < 0) {
		errno = EINVAL;
		return -1;
	}
	e = get_value(s, level, optname, &v, &n);
	if (e != 0) {
		errno = e;
		return -1;
	}
	if (n > *optlen)
		n = *optlen;
	memcpy(optval, &v, n);
	*optlen = n;
	return 0;
}

int mlw_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);

	if (s == NULL)
		return -1;
	if (addr == NULL || addrlen == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_name(s, false, addr, addrlen);
	if (s->pcb != NULL)
		mlw__ip_to_sockaddr(s->family, &s->pcb->local_ip, s->pcb->local_port, addr, addrlen);
	else if (s->name_port != 0)
		mlw__ip_to_sockaddr(s->family, &s->name_ip, s->name_port, addr, addrlen);
	else
		mlw__ip_to_sockaddr(s->family, IP_ANY_TYPE, 0, addr, addrlen);
	return 0;
}

int mlw_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);

	if (s == NULL)
		return -1;
	if (addr == NULL || addrlen == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_name(s, true, addr, addrlen);
	if (s->pcb == NULL || s->state != MLW__S_CONNECTED) {
		errno = ENOTCONN;
		return -1;
	}
	mlw__ip_to_sockaddr(s->family, &s->pcb->remote_ip, s->pcb->remote_port, addr, addrlen);
	return 0;
}

int mlw_fcntl(int fd, int cmd, ...)
{
	struct mlw__file *f = mlw__fd_get(fd);
	struct mlw__sock *s;
	va_list ap;
	int arg;

	if (f == NULL)
		return -1;
	s = mlw__is_sock(f) ? (struct mlw__sock *)f : NULL;
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (s != NULL && s->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
		if (s != NULL)
			s->nonblock = (arg & O_NONBLOCK) != 0;
		return 0;
	case F_GETFD:
		return 0;
	case F_SETFD:
		return 0;
	}
	errno = EINVAL;
	return -1;
}

int mlw_ioctl(int fd, unsigned long request, ...)
{
	struct mlw__file *f = mlw__fd_get(fd);
	struct mlw__sock *s;
	va_list ap;
	int *argp;

	if (f == NULL)
		return -1;
	if (request != FIONREAD && request != FIONBIO) {
		errno = ENOTTY;
		return -1;
	}
	va_start(ap, request);
	argp = va_arg(ap, int *);
	va_end(ap);
	if (argp == NULL) {
		errno = EFAULT;
		return -1;
	}
	s = mlw__is_sock(f) ? (struct mlw__sock *)f : NULL;
	if (request == FIONBIO) {
		if (s != NULL)
			s->nonblock = *argp != 0;
		return 0;
	}
	if (s == NULL || s->state == MLW__S_LISTEN) {
		errno = EINVAL;
		return -1;
	}
	if (s->f.kind == MLW__KIND_UDP) {
		*argp = mlw__udp_fionread(s);
		return 0;
	}
	*argp = s->rx_bytes > INT32_MAX ? INT32_MAX : (int)s->rx_bytes;
	return 0;
}
