/* tcp.c - TCP sockets on lwIP's raw API: creation, bind/listen/accept/connect, close/shutdown, lwIP callbacks.
 *
 * lwIP calls back from inside mlw_shard_poll() (tcp_input -> tcp_process ->
 * recv/sent/connected/accept/err); the callbacks only queue data, record
 * state and wake epoll entries (mlw__sock_notify), never call out to the
 * application.
 *
 * mlw__tcp_syn_limits() here overrides the weak default in
 * lwip-port/syn_opts.c (lwIP's LWIP_HOOK_TCP_OUT_ADD_TCPOPTS): the MSS and
 * window a SYN or SYN-ACK announces for TCP_MAXSEG and SO_RCVBUF.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lwip/ip.h"
#include "lwip/sys.h"
#include "lwip/priv/tcp_priv.h"	/* tcp_abandon() */
#include "lwip/tcp.h"
#include "mlw_lwip_hooks.h"
#include "mlw_tcp_table.h"

#include "mlwip/alloc.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "sock_private.h"

#define ACCEPT_BACKLOG_MAX 255	/* lwIP's listen backlog is a u8_t */

/* ---- lwIP callbacks ---- */

static void keep_name(struct mlw__sock *s, const struct tcp_pcb *pcb)
{
	ip_addr_copy(s->name_ip, pcb->local_ip);
	s->name_port = pcb->local_port;
}

/* A PCB in TIME_WAIT is freed without any callback (by lwIP's timer, the
 * [stack] max_time_wait cap, or a connect reusing its port), so the socket
 * lets go of it as soon as both directions are done: in TIME_WAIT, or in
 * CLOSING with the peer's FIN read (simultaneous close), which becomes
 * TIME_WAIT on the ACK of our FIN, a step lwIP tells no callback of. Either
 * way only lwIP's own work is left (ACKs, retransmitting our FIN). */
static void release_if_time_wait(struct mlw__sock *s, struct tcp_pcb *pcb)
{
	if (pcb->state != TIME_WAIT && !(pcb->state == CLOSING && s->rd_eof))
		return;
	keep_name(s, pcb);
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	s->pcb = NULL;
	s->rd_eof = true;
	s->wr_shut = true;
	mlw__undirty(s);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct mlw__sock *s = arg;
	struct pbuf *q;
	size_t n = 0;

	(void)err;
	if (p == NULL) {
		s->rd_eof = true;
		release_if_time_wait(s, pcb);
		mlw__sock_notify(s);
		return ERR_OK;
	} else {
		/* Find the tail and the true length (tot_len is u16_t). */
		for (q = p;; q = q->next) {
			n += q->len;
			if (q->next == NULL)
				break;
		}
		if (s->rxt != NULL)
			s->rxt->next = p;
		else
			s->rxh = p;
		s->rxt = q;
		s->rx_bytes += n;
	}
	/* tcp_input() acks with tcp_output(), which Nagle may stall (see
	 * mlw__flush); the flush of this pass makes sure the ACK leaves. */
	mlw__mark_dirty(s);
	mlw__sock_notify(s);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct mlw__sock *s = arg;

	(void)len;
	/* lwIP calls sent() before it hands over the data and FIN of the
	 * same segment (tcp_input): a PCB that has just gone FIN_WAIT_1 ->
	 * TIME_WAIT on a segment that acks our FIN and carries the peer's
	 * last data and FIN still has that data to deliver, and on_recv()
	 * lets go of it after the FIN. Only a FIN seen before (CLOSING ->
	 * TIME_WAIT) means both directions are done here. */
	if (s->rd_eof)
		release_if_time_wait(s, pcb);
	if (s->pcb == NULL || mlw__sock_writable(s))
		mlw__sock_notify(s);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	struct mlw__sock *s = arg;

	/* lwIP has freed the PCB already. ERR_CLSD is the graceful end of
	 * a connection both sides closed (LAST_ACK acked): no error. */
	if (s->abort_err != 0)
		s->so_error = s->abort_err;
	else if (err != ERR_CLSD)
		s->so_error = mlw__errno_from_tcp_err(err, s->state == MLW__S_CONNECTING);
	s->pcb = NULL;
	s->state = MLW__S_CLOSED;
	s->rd_eof = true;
	s->wr_shut = true;
	mlw__undirty(s);
	mlw__sock_notify(s);
}

/* TCP_SYNCNT: lwIP's limit on SYN retransmissions is the compile-time
 * TCP_SYNMAXRTX; the timer wheel (lwip-port/tcp_timer.c) asks here, when
 * a SYN's RTO expires, whether the socket allows another one. Past the
 * limit the attempt ends without a RST, as Linux gives up silently; the
 * err callback then reports ERR_ABRT, i.e. ETIMEDOUT. */
u8_t mlw__tcp_syn_retries(const struct tcp_pcb *pcb)
{
	const struct mlw__sock *s = pcb->errf == on_err ? pcb->callback_arg : NULL;

	return s != NULL && s->syn_cnt != 0 ? s->syn_cnt : TCP_SYNMAXRTX;
}

/*
 * lwIP's poll callback, every 500 ms (tcp_poll()'s unit, kept by the timer
 * wheel), for a socket that set TCP_USER_TIMEOUT: data (or a SYN) waiting
 * for its ACK, or held by a zero window, for longer than the value ends
 * the connection without a RST and ETIMEDOUT, as Linux's tcp_write_err().
 * The clock starts when the socket queues data with nothing outstanding
 * (io.c) or at the first poll that sees something outstanding, and
 * restarts whenever the peer acknowledges more; so the connection ends
 * between the value and 500 ms after it.
 */
static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	struct mlw__sock *s = arg;
	uint32_t now;

	if (s == NULL || s->user_timeout_ms == 0)
		return ERR_OK;
	now = sys_now();
	if (pcb->unacked == NULL && pcb->unsent == NULL) {
		s->ut_start = 0;
	} else if (s->ut_start == 0 || pcb->lastack != s->ut_lastack) {
		s->ut_start = now | 1;
		s->ut_lastack = pcb->lastack;
	} else if (now - s->ut_start >= s->user_timeout_ms) {
		s->abort_err = ETIMEDOUT;
		tcp_abandon(pcb, 0);
		return ERR_ABRT;
	}
	return ERR_OK;
}

void mlw__tcp_poll_update(struct mlw__sock *s)
{
	if (s->pcb == NULL || s->state == MLW__S_LISTEN)
		return;
	if (s->user_timeout_ms != 0)
		tcp_poll(s->pcb, on_poll, 1);
	else
		tcp_poll(s->pcb, NULL, 0);
}

/* An ICMP error quoting a segment of ours (lwip-port/icmp_err.c decided
 * Linux's TCP acts on it). As Linux's tcp_v4_err/tcp_v6_err: a connection
 * in SYN_SENT whose SYN is quoted (sequence number between the oldest
 * unacknowledged and the next) fails at once with the error, without a
 * RST. Later states keep trying; Linux only remembers the error to report
 * in place of ETIMEDOUT, which is not done here. */
void mlw__tcp_icmp_error(const ip_addr_t *local, u16_t local_port, const ip_addr_t *remote,
			 u16_t remote_port, u32_t seq, int err)
{
	/* The connection table's lookup (lwip-port/tcp_table.c): the first
	 * active PCB of the 4-tuple, zones not compared. */
	struct tcp_pcb *pcb = mlw__tcp_table_lookup(local, local_port, remote, remote_port,
						    MLW_TCP_TABLE_ACTIVE | MLW_TCP_TABLE_ZONELESS);

	if (pcb != NULL && pcb->state == SYN_SENT && pcb->errf == on_err &&
	    TCP_SEQ_BETWEEN(seq, pcb->lastack, pcb->snd_nxt)) {
		((struct mlw__sock *)pcb->callback_arg)->abort_err = err;
		tcp_abandon(pcb, 0);
	}
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct mlw__sock *s = arg;

	(void)err;	/* always ERR_OK in lwIP 2.1.3 and 2.2.1 */
	/* The SYN-ACK's MSS option replaced what apply_options() set. */
	if (s->user_mss != 0 && s->user_mss < pcb->mss)
		pcb->mss = s->user_mss;
	s->state = MLW__S_CONNECTED;
	mlw__tcp_poll_update(s);
	mlw__rcv_limit_open(s);
	keep_name(s, pcb);
	mlw__sock_notify(s);
	return ERR_OK;
}

static void apply_options(struct mlw__sock *s)
{
	struct tcp_pcb *pcb = s->pcb;

	if (s->nodelay)
		tcp_nagle_disable(pcb);
	if (s->keepalive)
		ip_set_option(pcb, SOF_KEEPALIVE);
	if (s->keep_idle_ms)
		pcb->keep_idle = s->keep_idle_ms;
	if (s->keep_intvl_ms)
		pcb->keep_intvl = s->keep_intvl_ms;
	if (s->keep_cnt)
		pcb->keep_cnt = s->keep_cnt;
	if (s->user_mss != 0 && s->user_mss < pcb->mss)
		pcb->mss = s->user_mss;
}

static void attach(struct mlw__sock *s, struct tcp_pcb *pcb)
{
	s->pcb = pcb;
	tcp_arg(pcb, s);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
}

static struct mlw__sock *sock_new(int family)
{
	struct mlw__sock *s = mlw_alloc_calloc(1, sizeof(*s));
	uint32_t rcv, snd;

	if (s == NULL)
		return NULL;
	mlw__sock_init(s, MLW__KIND_TCP, family);
	/* The stack's default buffers, as if set with SO_RCVBUF/SO_SNDBUF
	 * (which count twice the bytes, as Linux's). */
	if (mlw_shard_tcp_bufs(&rcv, &snd) == 0) {
		if (rcv != 0 && rcv < TCP_WND)
			s->rcvbuf = 2 * rcv;
		if (snd != 0 && snd < TCP_SND_BUF)
			s->sndbuf = 2 * snd;
	}
	return s;
}

/* A connection completed the handshake on a listener: queue it, with its
 * own socket (so data, FIN or RST arriving before accept are kept). */
static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct mlw__sock *ls = arg;
	struct mlw__sock *s;

	if (err != ERR_OK || newpcb == NULL)
		return ERR_VAL;
	/* A full queue refuses the connection; lwIP then resets it. */
	if (ls->acq_n == ls->acq_cap)
		return ERR_MEM;
	s = sock_new(ls->family);
	if (s == NULL)
		return ERR_MEM;
	s->state = MLW__S_CONNECTED;
	s->was_connected = true;
	keep_name(s, newpcb);
	s->nodelay = ls->nodelay;
	s->keepalive = ls->keepalive;
	s->keep_idle_ms = ls->keep_idle_ms;
	s->keep_intvl_ms = ls->keep_intvl_ms;
	s->keep_cnt = ls->keep_cnt;
	s->linger_on = ls->linger_on;
	s->linger_sec = ls->linger_sec;
	s->user_mss = ls->user_mss;
	s->user_timeout_ms = ls->user_timeout_ms;
	s->cork = ls->cork;
	s->sndbuf = ls->sndbuf;
	s->rcvbuf = ls->rcvbuf;
	s->rcvtimeo_us = ls->rcvtimeo_us;
	s->sndtimeo_us = ls->sndtimeo_us;
	attach(s, newpcb);
	apply_options(s);
	mlw__tcp_poll_update(s);
	mlw__rcv_limit_open(s);
	/* Keep the connection counted against lwIP's listen backlog until
	 * mlw_accept() takes it: a full queue then drops new SYNs (the peer
	 * retries), as Linux does, instead of completing handshakes that
	 * this callback would have to refuse with a reset. */
	tcp_backlog_delayed(newpcb);
	ls->acq[(ls->acq_head + ls->acq_n) % ls->acq_cap] = s;
	ls->acq_n++;
	mlw__sock_notify(ls);
	return ERR_OK;
}

/* ---- life cycle ---- */

static void rx_drop(struct mlw__sock *s)
{
	while (s->rxh != NULL) {
		struct pbuf *p = s->rxh;

		s->rxh = p->next;
		p->next = NULL;
		pbuf_free(p);
	}
	s->rxt = NULL;
	s->rx_bytes = 0;
	s->rx_off = 0;
}

/*
 * Release a socket and its PCB. A connection is closed gracefully unless
 * @p reset, SO_LINGER {1, 0}, or unread data (Linux resets then too, so the
 * peer learns that data was lost). The PCB lives on in lwIP (FIN_WAIT,
 * TIME_WAIT) without callbacks.
 */
void mlw__sock_free(struct mlw__sock *s, bool reset)
{
	struct tcp_pcb *pcb = s->pcb;

	mlw__sock_unwatch(s);
	mlw__undirty(s);
	if (s->state == MLW__S_LISTEN) {
		while (s->acq_n > 0) {
			mlw__sock_free(s->acq[s->acq_head], true);
			s->acq_head = (s->acq_head + 1) % s->acq_cap;
			s->acq_n--;
		}
		mlw_alloc_free(s->acq);
	}
	if (pcb != NULL) {
		tcp_arg(pcb, NULL);
		if (s->state != MLW__S_LISTEN) {
			tcp_recv(pcb, NULL);
			tcp_sent(pcb, NULL);
			tcp_err(pcb, NULL);
		} else {
			tcp_accept(pcb, NULL);
		}
		if (s->state != MLW__S_LISTEN &&
		    (reset || (s->linger_on && s->linger_sec == 0) || s->rx_bytes > 0)) {
			tcp_abort(pcb);
		} else {
			if (s->state != MLW__S_LISTEN) {
				/* Linux sends corked data on close. tcp_close()
				 * resets a connection whose window is not
				 * fully open ("unread data"): give back what
				 * SO_RCVBUF withheld, all data was read. */
				mlw__cork_flush(s);
				if (s->rcv_cut != 0)
					pcb->rcv_wnd = TCP_WND_MAX(pcb);
			}
			if (tcp_close(pcb) != ERR_OK)
				tcp_abort(pcb);	/* no memory for the FIN */
		}
	}
	rx_drop(s);
	mlw_alloc_free(s->cork_buf);
	mlw_alloc_free(s);
}

int mlw_socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct mlw__sock *s;
	struct tcp_pcb *pcb;
	int fd;

	if (!mlw__on_shard())
		return -1;
	/* Linux's order: unknown type flags (beyond the 4-bit type) are
	 * EINVAL, then the family, then a type beyond SOCK_MAX (11) and a
	 * protocol outside 0..IPPROTO_MAX-1 (inet_create) are EINVAL, before
	 * the protocol is looked up. */
	if (type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		errno = EINVAL;
		return -1;
	}
	if (domain != AF_INET && domain != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (base >= 11 || protocol < 0 || protocol >= IPPROTO_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (base == SOCK_DGRAM) {
		if (protocol != 0 && protocol != IPPROTO_UDP) {
			errno = EPROTONOSUPPORT;
			return -1;
		}
		if (mlw__fd_full())
			return -1;
		return mlw__udp_socket(domain, (type & SOCK_NONBLOCK) != 0);
	}
	if (base != SOCK_STREAM) {
		/* A known type inet does not serve here. */
		errno = ESOCKTNOSUPPORT;
		return -1;
	}
	if (protocol != 0 && protocol != IPPROTO_TCP) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	/* Arguments first, then the descriptor limit, then memory: the order
	 * in which Linux's socket() can fail (EMFILE is checked before the
	 * allocation here only to save work; both mean "no socket"). */
	if (mlw__fd_full())
		return -1;
	s = sock_new(domain);
	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	pcb = tcp_new_ip_type(domain == AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY);
	if (pcb == NULL) {
		mlw_alloc_free(s);
		errno = ENOMEM;
		return -1;
	}
	attach(s, pcb);
	s->nonblock = (type & SOCK_NONBLOCK) != 0;
	fd = mlw__fd_alloc(&s->f);
	if (fd < 0)
		mlw__sock_free(s, true);
	return fd;
}

int mlw_bind(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	ip_addr_t ip;
	u16_t port;
	int e;
	err_t err;

	if (s == NULL)
		return -1;
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_bind(s, addr, addrlen);
	if (s->state != MLW__S_NEW || s->pcb == NULL) {
		errno = EINVAL;
		return -1;
	}
	e = mlw__sock_addr(s->family, s->v6only, addr, addrlen, &ip, &port);
	if (e == ENETUNREACH)
		e = EINVAL;	/* Linux: binding a v6-only socket to a v4-mapped address */
	if (e == 0 && !mlw__ip_is_local(&ip))
		e = EADDRNOTAVAIL;
	if (e != 0) {
		errno = e;
		return -1;
	}
	err = tcp_bind(s->pcb, &ip, port);
	if (err != ERR_OK) {
		errno = mlw__errno_from_err(err);
		return -1;
	}
	s->state = MLW__S_BOUND;
	return 0;
}

int mlw_listen(int fd, int backlog)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	struct tcp_pcb *lpcb;
	err_t err;

	if (s == NULL)
		return -1;
	if (s->f.kind == MLW__KIND_UDP) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (s->state == MLW__S_LISTEN)
		return 0;
	if ((s->state != MLW__S_NEW && s->state != MLW__S_BOUND) || s->pcb == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* Linux queues backlog + 1 completed connections (its "full" test
	 * is ack_backlog > max_ack_backlog); so does the socket layer. */
	if (backlog < 0)
		backlog = 0;
	if (backlog > ACCEPT_BACKLOG_MAX - 1)
		backlog = ACCEPT_BACKLOG_MAX - 1;
	backlog++;
	if (s->state == MLW__S_NEW) {
		err = tcp_bind(s->pcb, s->family == AF_INET ? IP4_ADDR_ANY : IP_ANY_TYPE, 0);
		if (err != ERR_OK) {
			errno = mlw__errno_from_err(err);
			return -1;
		}
		s->state = MLW__S_BOUND;
	}
	s->acq = mlw_alloc_calloc((size_t)backlog, sizeof(*s->acq));
	if (s->acq == NULL) {
		errno = ENOMEM;
		return -1;
	}
	/* On success lwIP frees the old PCB and returns a smaller listen PCB,
	 * which keeps the callback argument. */
	lpcb = tcp_listen_with_backlog_and_err(s->pcb, (u8_t)backlog, &err);
	if (lpcb == NULL) {
		mlw_alloc_free(s->acq);
		s->acq = NULL;
		errno = mlw__errno_from_err(err);
		return -1;
	}
	s->pcb = lpcb;
	s->acq_cap = (unsigned)backlog;
	s->state = MLW__S_LISTEN;
	tcp_arg(lpcb, s);
	tcp_accept(lpcb, on_accept);
	return 0;
}

int mlw_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	struct mlw__sock *ls = mlw__sock_get(fd);
	struct mlw__sock *s;
	uint64_t deadline = 0;
	unsigned idle = 0;
	int nfd;

	if (ls == NULL)
		return -1;
	/* Linux's accept4() checks the flags, then takes a descriptor
	 * (EMFILE even with nothing to accept, and nothing is dequeued),
	 * and only then asks the protocol (EOPNOTSUPP, EINVAL, EAGAIN). */
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		errno = EINVAL;
		return -1;
	}
	if (mlw__fd_full())
		return -1;
	if (ls->f.kind == MLW__KIND_UDP) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (ls->state != MLW__S_LISTEN) {
		errno = EINVAL;
		return -1;
	}
	while (ls->acq_n == 0) {
		if (ls->nonblock) {
			errno = EAGAIN;
			return -1;
		}
		if (deadline == 0)
			deadline = mlw__deadline(ls->rcvtimeo_us);
		if (mlw__wait_once(&idle, deadline) < 0)
			return -1;
	}
	s = ls->acq[ls->acq_head];
	nfd = mlw__fd_alloc(&s->f);
	if (nfd < 0)
		return -1;	/* ENOMEM (the table could not grow): it stays queued */
	ls->acq_head = (ls->acq_head + 1) % ls->acq_cap;
	ls->acq_n--;
	if (s->pcb != NULL)
		tcp_backlog_accepted(s->pcb);
	s->nonblock = (flags & SOCK_NONBLOCK) != 0;
	if (addr != NULL) {
		struct sockaddr_storage ss;
		socklen_t full = sizeof(ss);
		int e;

		if (s->pcb != NULL)
			mlw__ip_to_sockaddr(s->family, &s->pcb->remote_ip, s->pcb->remote_port,
					    (struct sockaddr *)&ss, &full);
		else
			mlw__ip_to_sockaddr(s->family, IP_ANY_TYPE, 0, (struct sockaddr *)&ss, &full);
		/* As Linux's do_accept: the connection was taken; an address
		 * that cannot be stored (addrlen NULL: EFAULT, negative:
		 * EINVAL) closes it again and fails the call. */
		e = mlw__addr_to_user(&ss, full, addr, addrlen);
		if (e != 0) {
			mlw_close(nfd);
			errno = e;
			return -1;
		}
	}
	return nfd;
}

int mlw_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return mlw_accept4(fd, addr, addrlen, 0);
}

/* A fresh PCB for a socket whose connection attempt failed, so that it
 * can connect again as on Linux. */
static int reopen(struct mlw__sock *s)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(mlw__pcb_type(s->family, s->v6only));

	if (pcb == NULL) {
		errno = ENOBUFS;	/* as connect() reports memory on Linux */
		return -1;
	}
	rx_drop(s);
	s->rcv_cut = s->rcv_held = 0;
	s->cork_len = 0;
	attach(s, pcb);
	apply_options(s);
	if (s->reuse)
		ip_set_option(pcb, SOF_REUSEADDR);
	s->state = MLW__S_NEW;
	s->rd_eof = s->rd_shut = s->wr_shut = false;
	s->so_error = 0;
	s->abort_err = 0;
	return 0;
}

int mlw_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct mlw__sock *s = mlw__sock_get(fd);
	uint64_t deadline;
	unsigned idle = 0;
	ip_addr_t ip;
	u16_t port;
	err_t err;
	int e;

	if (s == NULL)
		return -1;
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_connect(s, addr, addrlen);
	switch (s->state) {
	case MLW__S_CONNECTING:
		errno = EALREADY;
		return -1;
	case MLW__S_CONNECTED:
		/* Linux: the first connect after a non-blocking one completed
		 * reports success (the socket leaves SS_CONNECTING), later
		 * ones EISCONN. */
		if (s->connect_pending) {
			s->connect_pending = false;
			s->was_connected = true;
			return 0;
		}
		errno = EISCONN;
		return -1;
	case MLW__S_LISTEN:
		errno = EISCONN;	/* Linux: any state but TCP_CLOSE */
		return -1;
	case MLW__S_CLOSED:
		/* As Linux's __inet_stream_connect: after a non-blocking
		 * connect failed, the next call reports the error (or
		 * ECONNABORTED once SO_ERROR took it); a socket that was
		 * connected stays "connected"; otherwise a new attempt starts
		 * on a fresh PCB. */
		if (s->connect_pending) {
			s->connect_pending = false;
			errno = s->so_error ? mlw__sock_take_error(s) : ECONNABORTED;
			return -1;
		}
		if (s->was_connected) {
			errno = EISCONN;
			return -1;
		}
		if (reopen(s) < 0)
			return -1;
		break;
	default:
		break;
	}
	e = mlw__sock_addr(s->family, s->v6only, addr, addrlen, &ip, &port);
	if (e != 0) {
		errno = e;
		return -1;
	}
	err = tcp_connect(s->pcb, &ip, port, on_connected);
	if (err != ERR_OK) {
		/* mlwip's tcp_connect wrapper says ERR_USE when no local port
		 * hashes back to this shard, lwIP ERR_BUF when no ephemeral
		 * port is free: Linux's EADDRNOTAVAIL. ERR_MEM (no memory for
		 * the SYN) is ENOBUFS, as Linux's tcp_connect() says. */
		if (err == ERR_USE || err == ERR_BUF)
			errno = EADDRNOTAVAIL;
		else if (err == ERR_MEM)
			errno = ENOBUFS;
		else
			errno = mlw__errno_from_err(err);
		/* The attempt may have bound a local port; the socket keeps
		 * it (bind() then fails with EINVAL, as on Linux) rather than
		 * bind the PCB a second time. */
		if (s->state == MLW__S_NEW && s->pcb->local_port != 0)
			s->state = MLW__S_BOUND;
		return -1;
	}
	s->state = MLW__S_CONNECTING;
	s->ut_start = 0;
	mlw__tcp_poll_update(s);
	mlw__mark_dirty(s);	/* the SYN went out; nothing else to flush */
	if (s->nonblock) {
		s->connect_pending = true;
		errno = EINPROGRESS;
		return -1;
	}
	deadline = mlw__deadline(s->sndtimeo_us);
	while (s->state == MLW__S_CONNECTING) {
		if (mlw__wait_once(&idle, deadline) < 0) {
			/* SO_SNDTIMEO ran out: the handshake goes on, as after
			 * a non-blocking connect (Linux: EINPROGRESS). */
			if (errno == EAGAIN) {
				s->connect_pending = true;
				errno = EINPROGRESS;
			}
			return -1;
		}
	}
	if (s->state != MLW__S_CONNECTED) {
		/* As Linux's __inet_stream_connect, which disconnects the
		 * socket after a failed blocking connect: it is unconnected
		 * again (read: ENOTCONN), not at end of stream. */
		errno = mlw__sock_take_error(s);
		s->rd_eof = false;
		return -1;
	}
	s->was_connected = true;
	return 0;
}

int mlw_shutdown(int fd, int how)
{
	struct mlw__sock *s = mlw__sock_get(fd);

	if (s == NULL)
		return -1;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
		errno = EINVAL;
		return -1;
	}
	if (s->f.kind == MLW__KIND_UDP)
		return mlw__udp_shutdown(s, how);
	if (s->state != MLW__S_CONNECTED && s->state != MLW__S_CONNECTING) {
		errno = ENOTCONN;
		return -1;
	}
	if (how != SHUT_WR)
		s->rd_shut = true;
	if (how != SHUT_RD && !s->wr_shut && s->pcb != NULL) {
		err_t err = mlw__cork_flush(s);	/* corked data goes before the FIN */

		if (err == ERR_OK)
			err = tcp_shutdown(s->pcb, 0, 1);

		if (err != ERR_OK) {
			errno = mlw__errno_from_err(err);
			return -1;
		}
		s->wr_shut = true;
		mlw__mark_dirty(s);
	}
	mlw__sock_notify(s);
	return 0;
}

int mlw_close(int fd)
{
	struct mlw__file *f = mlw__fd_get(fd);

	if (f == NULL)
		return -1;
	if (f->kind == MLW__KIND_EPOLL)
		mlw__epoll_free(f);
	else if (f->kind == MLW__KIND_UDP)
		mlw__udp_free((struct mlw__sock *)f);
	else
		mlw__sock_free((struct mlw__sock *)f, false);
	mlw__fd_release(fd);
	return 0;
}

/* Space for at least a low-water mark of data, as lwIP's own sockets
 * judge writability (TCP_SNDLOWAT bytes and TCP_SNDQUEUELOWAT segments). */
bool mlw__sock_writable(const struct mlw__sock *s)
{
	uint32_t lowat = mlw__sndbuf_limit(s) / 3;	/* Linux: a third of SO_SNDBUF free */

	if (lowat > TCP_SNDLOWAT)
		lowat = TCP_SNDLOWAT;
	return s->pcb != NULL && mlw__tx_room(s) > lowat &&
	       tcp_sndqueuelen(s->pcb) < TCP_SNDQUEUELOWAT;
}

/* The TCP_MAXSEG and SO_RCVBUF a SYN or SYN-ACK of @p pcb announces
 * (lwip-port/syn_opts.c), 0 for none: a connecting socket's own PCB, or a
 * listener's for the SYN-ACK of a connection not yet accepted (lwIP gives
 * it the listener's callback argument). Other PCBs (lwIP's apps) are not
 * ours. */
/* Overrides the weak default in lwip-port/syn_cookie.c: whether the
 * listener's accept queue is full (a SYN is then dropped, cookie or not,
 * as Linux's sk_acceptq_is_full()). */
bool mlw__tcp_accept_queue_full(const struct tcp_pcb_listen *lpcb)
{
	const struct mlw__sock *ls = lpcb->callback_arg;

	return lpcb->accept == on_accept && ls != NULL && ls->acq_n >= ls->acq_cap;
}

void mlw__tcp_syn_limits(const struct tcp_pcb *pcb, u16_t *mss, u32_t *wnd)
{
	const struct mlw__sock *s = NULL;

	if (pcb->errf == on_err)
		s = pcb->callback_arg;
	else if (pcb->state == SYN_RCVD && pcb->listener != NULL &&
		 pcb->listener->accept == on_accept)
		s = pcb->callback_arg;
	*mss = s != NULL ? s->user_mss : 0;
	*wnd = s != NULL && s->rcvbuf != 0 ? mlw__rcvbuf_limit(s) : 0;
}

/* sharding/conns.c (connection listing, on the shard thread): the bytes a
 * socket's connection holds for the application (received, not yet read)
 * and a listener's connections waiting for accept(). False for a PCB that
 * is not one of the socket layer's (a raw-API application's). */
bool mlw__sock_tcp_queues(const struct tcp_pcb *pcb, uint32_t *recv_q, uint32_t *accept_q);
bool mlw__sock_tcp_queues(const struct tcp_pcb *pcb, uint32_t *recv_q, uint32_t *accept_q)
{
	const struct mlw__sock *s;

	if (pcb->state == LISTEN) {
		const struct tcp_pcb_listen *l = (const struct tcp_pcb_listen *)pcb;

		if (l->accept != on_accept || l->callback_arg == NULL)
			return false;
		s = l->callback_arg;
		*accept_q = s->acq_n;
		*recv_q = 0;
		return true;
	}
	if (pcb->recv != on_recv || pcb->callback_arg == NULL)
		return false;
	s = pcb->callback_arg;
	*recv_q = s->rx_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)s->rx_bytes;
	*accept_q = 0;
	return true;
}
