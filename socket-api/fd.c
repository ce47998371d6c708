/* fd.c - the per-shard descriptor table, output batching (dirty and retry lists) and the loop blocking calls run.
 *
 * Each shard has its own table, allocated on its heap at the first
 * descriptor and freed when the last one closes; the thread-local pointer
 * is the only state. A descriptor number carries its shard, so a call made
 * with another shard's descriptor is refused (EBADF) instead of racing.
 *
 * The table holds at most the shard's max_sockets descriptors (RLIMIT_NOFILE's
 * counterpart): the count of open ones is compared with it, and as the
 * lowest free number is always taken, every number stays below it, so the
 * slot array grows by doubling only up to max_sockets entries.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "lwip/priv/tcp_priv.h"

#include "mlwip/alloc.h"
#include "mlwip/config.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "sock_private.h"

#define FD_INITIAL_SLOTS 64

/* Descriptors are positive ints for every shard of the largest stack. */
_Static_assert(((long long)MLW_MAX_SHARDS << MLW_FD_SHARD_SHIFT) - 1 <= INT_MAX,
	       "descriptor numbers of the last shard overflow an int");

static _Thread_local struct mlw__shard_socks *tls_socks;

int mlw__on_shard(void)
{
	if (mlw_shard_id() < 0) {
		errno = EPERM;
		return 0;
	}
	return 1;
}

struct mlw__shard_socks *mlw__socks(bool create)
{
	struct mlw__shard_socks *t = tls_socks;
	int max;

	if (t != NULL || !create)
		return t;
	t = mlw_alloc_calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	max = mlw_shard_max_sockets();
	t->max = max >= 1 && max <= MLW_FD_MAX_PER_SHARD ? (unsigned)max : MLW_FD_MAX_PER_SHARD;
	t->cap = t->max < FD_INITIAL_SLOTS ? t->max : FD_INITIAL_SLOTS;
	t->slot = mlw_alloc_calloc(t->cap, sizeof(*t->slot));
	if (t->slot == NULL) {
		mlw_alloc_free(t);
		return NULL;
	}
	t->shard = (unsigned)mlw_shard_id();
	tls_socks = t;
	return t;
}

/*
 * True, with errno EMFILE, when the shard has max_sockets descriptors open.
 * The calls that create one ask first, before they allocate anything, so a
 * full table costs no allocation and gives EMFILE even when memory is short
 * too.
 */
bool mlw__fd_full(void)
{
	struct mlw__shard_socks *t = tls_socks;

	if (t == NULL || t->used < t->max)
		return false;
	errno = EMFILE;
	return true;
}

/* Give @p f the lowest free descriptor, as POSIX does. */
int mlw__fd_alloc(struct mlw__file *f)
{
	struct mlw__shard_socks *t = mlw__socks(true);
	unsigned i;

	if (t == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (t->used >= t->max) {
		errno = EMFILE;
		goto fail;
	}
	/* used < max and every open number is below max: a free one is too. */
	for (i = t->hint; i < t->cap && t->slot[i] != NULL; i++)
		;
	if (i == t->cap) {
		struct mlw__file **ns;
		unsigned ncap = t->cap * 2 < t->max ? t->cap * 2 : t->max;

		ns = mlw_alloc_calloc(ncap, sizeof(*ns));
		if (ns == NULL) {
			errno = ENOMEM;
			goto fail;
		}
		memcpy(ns, t->slot, t->cap * sizeof(*ns));
		mlw_alloc_free(t->slot);
		t->slot = ns;
		t->cap = ncap;
	}
	t->slot[i] = f;
	t->used++;
	t->hint = i + 1;
	f->fd = (int)((t->shard << MLW_FD_SHARD_SHIFT) | i);
	return f->fd;
fail:
	if (t->used == 0) {
		mlw_alloc_free(t->slot);
		mlw_alloc_free(t);
		tls_socks = NULL;
	}
	return -1;
}

/* Free @p fd's slot; the last one frees the table. */
void mlw__fd_release(int fd)
{
	struct mlw__shard_socks *t = tls_socks;
	unsigned i = (unsigned)fd & (MLW_FD_MAX_PER_SHARD - 1);

	t->slot[i] = NULL;
	if (i < t->hint)
		t->hint = i;
	if (--t->used == 0) {
		mlw_alloc_free(t->slot);
		mlw_alloc_free(t);
		tls_socks = NULL;
	}
}

struct mlw__file *mlw__fd_get(int fd)
{
	struct mlw__shard_socks *t;
	unsigned i;

	if (!mlw__on_shard())
		return NULL;
	t = tls_socks;
	i = (unsigned)fd & (MLW_FD_MAX_PER_SHARD - 1);
	if (fd < 0 || t == NULL || (unsigned)fd >> MLW_FD_SHARD_SHIFT != t->shard || i >= t->cap ||
	    t->slot[i] == NULL) {
		errno = EBADF;
		return NULL;
	}
	return t->slot[i];
}

struct mlw__sock *mlw__sock_get(int fd)
{
	struct mlw__file *f = mlw__fd_get(fd);

	if (f == NULL)
		return NULL;
	if (!mlw__is_sock(f)) {
		errno = ENOTSOCK;
		return NULL;
	}
	return (struct mlw__sock *)f;
}

void mlw__mark_dirty(struct mlw__sock *s)
{
	struct mlw__shard_socks *t = tls_socks;

	if (s->dirty || t == NULL)
		return;
	s->dirty = true;
	s->dirty_next = t->dirty;
	t->dirty = s;
}

void mlw__undirty(struct mlw__sock *s)
{
	struct mlw__shard_socks *t = tls_socks;
	struct mlw__sock *prev = NULL;

	if (t == NULL)
		return;
	if (s->dirty) {
		for (struct mlw__sock **pp = &t->dirty; *pp != NULL; pp = &(*pp)->dirty_next) {
			if (*pp == s) {
				*pp = s->dirty_next;
				break;
			}
		}
		s->dirty = false;
		s->dirty_next = NULL;
	}
	if (s->retry) {
		for (struct mlw__sock **pp = &t->retry; *pp != NULL; prev = *pp, pp = &(*pp)->retry_next) {
			if (*pp == s) {
				*pp = s->retry_next;
				if (t->retry_tail == s)
					t->retry_tail = prev;
				break;
			}
		}
		s->retry = false;
		s->retry_next = NULL;
	}
}

/* To the end of the retry list, unless already on it. */
static void retry_later(struct mlw__shard_socks *t, struct mlw__sock *s)
{
	if (s->retry)
		return;
	s->retry = true;
	s->retry_next = NULL;
	if (t->retry_tail != NULL)
		t->retry_tail->retry_next = s;
	else
		t->retry = s;
	t->retry_tail = s;
}

/*
 * Output of one socket: tcp_output(), and the empty ACK it may have left
 * unsent (see mlw__flush). Returns ERR_MEM if the port refused a frame
 * (so something is still waiting in lwIP), else ERR_OK or another error
 * that a retry would not cure (no route, a frame too big for an mbuf, no
 * pbuf for the ACK).
 */
static err_t output(struct tcp_pcb *pcb)
{
	err_t err = tcp_output(pcb);

	if (pcb->flags & (TF_ACK_NOW | TF_ACK_DELAY)) {
		err_t e = tcp_send_empty_ack(pcb);

		if (err == ERR_OK)
			err = e;
	}
	return err;
}

/*
 * tcp_output() once per written socket. lwIP's tcp_output() (2.1.3, and
 * 2.2.1 unchanged) has a flaw: when Nagle holds back a small unsent segment
 * it leaves without sending the ACK that TF_ACK_NOW asked for (the check
 * for an immediate ACK only happens when no segment fits the window). A
 * window update or the ACK of the peer's data then waits for the next write
 * or timer. If the flag survives tcp_output(), send the empty ACK ourselves.
 *
 * A delayed ACK (TF_ACK_DELAY) is sent here too, at the end of the pass
 * that received the data, instead of at lwIP's next fast timer (up to
 * 250 ms): Linux's minimum retransmission timeout is 200 ms, so a peer
 * waiting for that ACK retransmits for nothing (seen with a one-segment
 * request/response). It is still one ACK per socket per pass, and none
 * when the application answered in the same pass (the ACK rides on the
 * data tcp_output() sent).
 *
 * When the port is backed up, the netif refuses a segment with ERR_MEM and
 * tcp_output() returns that at once: the segment and all after it stay on
 * lwIP's unsent queue (with TF_NAGLEMEMERR, so Nagle will not hold them
 * back). Nothing in lwIP sends them soon: its fast timer only sends
 * delayed ACKs, its slow timer retransmits after the RTO it started for
 * the refused segment, and an ACK from the peer may never come (nothing
 * else is in flight). So such a socket goes on the retry list, and each
 * pass tries the list, oldest first, before the written sockets, until one
 * is refused again: the port is still full then, and trying the rest
 * would cost a refused tcp_output() each for nothing. A pass finds the
 * port drained as soon as the previous pass's TX flush emptied its queue;
 * the retried segments then go out in that pass's flush. Only ERR_MEM is
 * retried: no route or a frame too big for an mbuf do not get better.
 */
int mlw__flush(void)
{
	struct mlw__shard_socks *t = tls_socks;
	struct mlw__sock *s;
	int n = 0;

	if (t == NULL)
		return 0;
	while ((s = t->retry) != NULL) {
		if (s->pcb != NULL && s->state != MLW__S_LISTEN) {
			if (output(s->pcb) == ERR_MEM)
				break;
			n++;
		}
		t->retry = s->retry_next;
		if (t->retry == NULL)
			t->retry_tail = NULL;
		s->retry = false;
		s->retry_next = NULL;
	}
	while ((s = t->dirty) != NULL) {
		t->dirty = s->dirty_next;
		s->dirty = false;
		s->dirty_next = NULL;
		if (s->pcb == NULL || s->state == MLW__S_LISTEN)
			continue;
		if (output(s->pcb) == ERR_MEM)
			retry_later(t, s);
		n++;
	}
	return n;
}

int mlw_socket_flush(void)
{
	if (!mlw__on_shard())
		return -1;
	return mlw__flush();
}

/*
 * One pass for a caller that waits: flush, run the shard loop once, and
 * back off a little when passes find nothing to do (as the shard's own
 * idle loop does), so a blocked call does not spin a core flat out.
 * Returns -1 with EINTR once the stack is stopping.
 */
int mlw__loop_once(unsigned *idle)
{
	int work;

	mlw__flush();
	if (mlw_shard_stopping()) {
		errno = EINTR;
		return -1;
	}
	work = mlw_shard_poll();
	if (work > 0) {
		*idle = 0;
	} else if (++*idle > 1024) {
		usleep(20);
	}
	return 0;
}

int mlw_socket_close_all(void)
{
	struct mlw__shard_socks *t;
	int n = 0;

	if (!mlw__on_shard())
		return -1;
	/* Epoll instances first: closing a socket must not touch a freed one,
	 * and closing them first leaves sockets with no watchers. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; (t = tls_socks) != NULL && i < t->cap; i++) {
			struct mlw__file *f = t->slot[i];
			int fd;

			if (f == NULL || (pass == 0) != (f->kind == MLW__KIND_EPOLL))
				continue;
			fd = f->fd;
			if (f->kind == MLW__KIND_EPOLL)
				mlw__epoll_free(f);
			else if (f->kind == MLW__KIND_UDP)
				mlw__udp_free((struct mlw__sock *)f);
			else
				mlw__sock_free((struct mlw__sock *)f, true);
			mlw__fd_release(fd);	/* the last one frees the table */
			n++;
		}
	}
	return n;
}
