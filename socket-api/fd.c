/* fd.c - the per-shard descriptor table, output batching (dirty and retry lists) and the loop blocking calls run.
 *
 * Each shard has its own table, allocated on its heap at the first
 * descriptor and freed when the last one closes; the thread-local pointer
 * is the only state. A descriptor number carries its shard, so a call made
 * with another shard's descriptor is refused (EBADF) instead of racing.
 *
 * The table holds at most the shard's max_sockets descriptors (RLIMIT_NOFILE's
 * counterpart): the count of open ones is compared with it. The lowest free
 * number is taken, as POSIX wants, from a bitmap tree made with the table:
 * a bit per number, a bit per full word above it, up to one word, so
 * finding it costs one word per level (at most four for 2^20 numbers)
 * however many are open, and freeing a number clears a bit per level at
 * most. The slots themselves live in leaves of FD_LEAF_SLOTS, allocated
 * when the lowest free number first reaches one: the table grows in
 * 4 KiB blocks from the heap's size classes, never by copying, and takes
 * nothing for descriptors never opened but the directory and the bitmaps
 * (about 18 bytes per 64 possible descriptors).
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
#include "mlw_lwip_hooks.h"
#include "sock_private.h"

#define FD_LEAF_SHIFT 9
#define FD_LEAF_SLOTS (1u << FD_LEAF_SHIFT)
#define FD_MAX_LEVELS (sizeof(((struct mlw__shard_socks *)0)->bits) / sizeof(uint64_t *))

/* Descriptors are positive ints for every shard of the largest stack. */
_Static_assert(((long long)MLW_MAX_SHARDS << MLW_FD_SHARD_SHIFT) - 1 <= INT_MAX,
	       "descriptor numbers of the last shard overflow an int");
_Static_assert(MLW_FD_MAX_PER_SHARD <= 1ll << (6 * FD_MAX_LEVELS),
	       "the bitmap tree needs another level for MLW_FD_MAX_PER_SHARD");

static _Thread_local struct mlw__shard_socks *tls_socks;
_Thread_local uint64_t mlw__list_steps;

uint64_t mlw__sock_steps(void)
{
	return mlw__list_steps;
}

int mlw__on_shard(void)
{
	if (mlw_shard_id() < 0) {
		errno = EPERM;
		return 0;
	}
	return 1;
}

static unsigned words_for(unsigned bits)
{
	return (bits + 63) / 64;
}

/* Set bit @p i of the tree; a word that fills sets its bit a level up. */
static void bit_set(struct mlw__shard_socks *t, unsigned i)
{
	for (unsigned k = 0; k < t->levels; k++, i /= 64) {
		uint64_t *w = &t->bits[k][i / 64];

		*w |= 1ull << (i % 64);
		if (*w != UINT64_MAX)
			break;
	}
}

/* Clear bit @p i; a word that was full clears its bit a level up. */
static void bit_clear(struct mlw__shard_socks *t, unsigned i)
{
	for (unsigned k = 0; k < t->levels; k++, i /= 64) {
		uint64_t *w = &t->bits[k][i / 64];
		bool was_full = *w == UINT64_MAX;

		*w &= ~(1ull << (i % 64));
		if (!was_full)
			break;
	}
}

/* The lowest free number: one word per level, top down. The caller made
 * sure one is free (used < max). */
static unsigned lowest_free(const struct mlw__shard_socks *t)
{
	unsigned i = 0;

	for (unsigned k = t->levels; k-- > 0;) {
		mlw__step();
		i = i * 64 + (unsigned)__builtin_ctzll(~t->bits[k][i]);
	}
	return i;
}

static unsigned leaves_for(unsigned max)
{
	return (max + FD_LEAF_SLOTS - 1) / FD_LEAF_SLOTS;
}

static void table_free(struct mlw__shard_socks *t)
{
	for (unsigned l = 0; l < leaves_for(t->max); l++)
		mlw_alloc_free(t->leaf[l]);
	mlw_alloc_free(t);
	tls_socks = NULL;
}

/*
 * The table, its directory and its bitmaps in one block. The bitmaps are
 * written here (the numbers from max up marked taken), so the pages they
 * need are touched now, not while descriptors are opened.
 */
struct mlw__shard_socks *mlw__socks(bool create)
{
	struct mlw__shard_socks *t = tls_socks;
	unsigned max, nleaves, nwords[FD_MAX_LEVELS], levels = 0, total = 0;
	uint64_t *w;
	int m;

	if (t != NULL || !create)
		return t;
	m = mlw_shard_max_sockets();
	max = m >= 1 && m <= MLW_FD_MAX_PER_SHARD ? (unsigned)m : MLW_FD_MAX_PER_SHARD;
	nleaves = leaves_for(max);
	for (unsigned n = max; levels == 0 || nwords[levels - 1] > 1; n = nwords[levels - 1]) {
		nwords[levels] = words_for(n);
		total += nwords[levels++];
	}
	t = mlw_alloc_calloc(1, sizeof(*t) + nleaves * sizeof(*t->leaf) + total * sizeof(uint64_t));
	if (t == NULL)
		return NULL;
	t->max = max;
	t->levels = levels;
	t->leaf = (struct mlw__file ***)(t + 1);
	w = (uint64_t *)(t->leaf + nleaves);
	for (unsigned k = 0; k < levels; k++) {
		unsigned valid = k == 0 ? max : nwords[k - 1];

		t->bits[k] = w;
		w += nwords[k];
		/* Positions past the last number (or word below) are taken. */
		for (unsigned b = valid; b < nwords[k] * 64; b++)
			t->bits[k][b / 64] |= 1ull << (b % 64);
	}
	mlw__list_init(&t->dirty);
	mlw__list_init(&t->retry);
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
	struct mlw__file ***leaf;
	unsigned i;

	if (t == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (t->used >= t->max) {
		errno = EMFILE;
		goto fail;
	}
	i = lowest_free(t);
	leaf = &t->leaf[i / FD_LEAF_SLOTS];
	if (*leaf == NULL && (*leaf = mlw_alloc_calloc(FD_LEAF_SLOTS, sizeof(**leaf))) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	(*leaf)[i % FD_LEAF_SLOTS] = f;
	bit_set(t, i);
	t->used++;
	f->fd = (int)((t->shard << MLW_FD_SHARD_SHIFT) | i);
	return f->fd;
fail:
	if (t->used == 0)
		table_free(t);
	return -1;
}

/* Free @p fd's slot; the last one frees the table. */
void mlw__fd_release(int fd)
{
	struct mlw__shard_socks *t = tls_socks;
	unsigned i = (unsigned)fd & (MLW_FD_MAX_PER_SHARD - 1);

	t->leaf[i / FD_LEAF_SLOTS][i % FD_LEAF_SLOTS] = NULL;
	bit_clear(t, i);
	if (--t->used == 0)
		table_free(t);
}

struct mlw__file *mlw__fd_get(int fd)
{
	struct mlw__shard_socks *t;
	struct mlw__file **leaf;
	unsigned i;

	if (!mlw__on_shard())
		return NULL;
	t = tls_socks;
	i = (unsigned)fd & (MLW_FD_MAX_PER_SHARD - 1);
	if (fd < 0 || t == NULL || (unsigned)fd >> MLW_FD_SHARD_SHIFT != t->shard || i >= t->max ||
	    (leaf = t->leaf[i / FD_LEAF_SLOTS]) == NULL || leaf[i % FD_LEAF_SLOTS] == NULL) {
		errno = EBADF;
		return NULL;
	}
	return leaf[i % FD_LEAF_SLOTS];
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

/* Most recently written first, as the flush takes them. */
void mlw__mark_dirty(struct mlw__sock *s)
{
	struct mlw__shard_socks *t = tls_socks;

	if (t == NULL || mlw__list_linked(&s->dirty_link))
		return;
	mlw__list_push_front(&t->dirty, &s->dirty_link);
}

void mlw__undirty(struct mlw__sock *s)
{
	if (mlw__list_linked(&s->dirty_link))
		mlw__list_remove(&s->dirty_link);
	if (mlw__list_linked(&s->retry_link))
		mlw__list_remove(&s->retry_link);
}

/* To the end of the retry list, unless already on it. */
static void retry_later(struct mlw__shard_socks *t, struct mlw__sock *s)
{
	if (!mlw__list_linked(&s->retry_link))
		mlw__list_push_back(&t->retry, &s->retry_link);
}

/*
 * tcp_output() once per written socket. lwIP's tcp_output() (2.1.3, and
 * 2.2.1 unchanged) has a flaw: when Nagle holds back a small unsent segment
 * it leaves without sending the ACK that TF_ACK_NOW asked for (the check
 * for an immediate ACK only happens when no segment fits the window). A
 * window update or the ACK of the peer's data then waits for the next write
 * or timer. If the flag survives tcp_output(), send the empty ACK ourselves
 * (mlw__tcp_output_ack(), shared with the timer wheel's delayed ACK).
 *
 * A delayed ACK (TF_ACK_DELAY) is sent here too, at the end of the pass
 * that received the data, instead of at lwIP's next fast timer (up to
 * 250 ms): Linux's minimum retransmission timeout is 200 ms, so a peer
 * waiting for that ACK retransmits for nothing (seen with a one-segment
 * request/response). It is still one ACK per socket per pass, and none
 * when the application answered in the same pass (the ACK rides on the
 * data tcp_output() sent). A socket whose received data the application
 * has not read yet keeps its delayed ACK for one more pass (ack_can_wait):
 * the data may have come with a connection the application is only now
 * accepting, or behind another socket's event, and the answer it writes
 * after reading carries the ACK instead of a segment of its own.
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
/* Only a delayed ACK is due (no immediate one, no data to send), for
 * data the application has not read, and it has not waited a pass yet. */
static bool ack_can_wait(const struct mlw__sock *s)
{
	const struct tcp_pcb *pcb = s->pcb;

	return !s->ack_held && s->rx_bytes > 0 && pcb->unsent == NULL &&
	       (pcb->flags & (TF_ACK_DELAY | TF_ACK_NOW)) == TF_ACK_DELAY;
}

int mlw__flush(void)
{
	struct mlw__shard_socks *t = tls_socks;
	struct mlw__list *l, held;
	int n = 0;

	if (t == NULL)
		return 0;
	while ((l = mlw__list_first(&t->retry)) != NULL) {
		struct mlw__sock *s = MLW__LIST_ENTRY(l, struct mlw__sock, retry_link);

		if (s->pcb != NULL && s->state != MLW__S_LISTEN) {
			if (mlw__tcp_output_ack(s->pcb) == ERR_MEM)
				break;
			n++;
		}
		if (mlw__list_linked(l))	/* (an err callback may have taken it off) */
			mlw__list_remove(l);
	}
	mlw__list_init(&held);
	while ((l = mlw__list_first(&t->dirty)) != NULL) {
		struct mlw__sock *s = MLW__LIST_ENTRY(l, struct mlw__sock, dirty_link);

		mlw__list_remove(l);
		if (s->pcb == NULL || s->state == MLW__S_LISTEN)
			continue;
		if (ack_can_wait(s)) {
			s->ack_held = true;
			mlw__list_push_back(&held, l);
			continue;
		}
		s->ack_held = false;
		if (mlw__tcp_output_ack(s->pcb) == ERR_MEM)
			retry_later(t, s);
		n++;
	}
	/* The held ones are the next flush's (an err callback meanwhile
	 * may have taken one off the list: mlw__undirty works on any list). */
	while ((l = mlw__list_first(&held)) != NULL) {
		mlw__list_remove(l);
		mlw__list_push_back(&t->dirty, l);
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
 * idle loop does), so a blocked call does not spin a core flat out. A
 * pass with nothing to do also faults in a little of the heap ahead of
 * need (mlw_alloc_prefault), so that growth under load (new connections,
 * descriptor-table leaves) takes no page fault on the packet path.
 * Returns -1 with EINTR once the stack is stopping.
 */
int mlw__loop_once(unsigned *idle)
{
	return mlw__loop_once_until(idle, 0);
}

int mlw__loop_once_until(unsigned *idle, uint64_t deadline_ns)
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
	} else if (mlw_alloc_prefault() == 0 && mlw__shard_idle(deadline_ns) < 0 && ++*idle > 1024) {
		/* [stack] idle = interrupt sleeps in mlw__shard_idle()
		 * (sharding/idle.c); the other policies back off here. */
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
		for (unsigned i = 0; (t = tls_socks) != NULL && i < t->max; i++) {
			struct mlw__file **leaf = t->leaf[i / FD_LEAF_SLOTS];
			struct mlw__file *f;
			int fd;

			if (leaf == NULL) {
				i |= FD_LEAF_SLOTS - 1;	/* on to the next leaf */
				continue;
			}
			f = leaf[i % FD_LEAF_SLOTS];
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
