/* fwd_hold.h - frames a shard received for another shard while that shard's inbox ring was full: held in order and sent on a later pass, while the shard stops reading its RX queues (private).
 *
 * Why. A burst for one owner (5,000 connections closing at once, a SYN
 * flood steered across shards, an owner that waits for a core) can fill
 * its inbox ring. Dropping there loses legitimate frames that the port had
 * already delivered, and costs the peer a retransmission timeout. Holding
 * them moves the wait back to the port: while anything is held the shard
 * takes nothing more from its RX queues (their descriptors, or the
 * kernel's packet ring, absorb the burst, and a port counts what it cannot
 * hold as rx_missed, as a NIC does), but it keeps draining its own inbox
 * rings, so two shards holding for each other still make progress.
 *
 * Order. Frames of one flow go to one owner; once a frame for owner O is
 * held, every later frame for O is held behind it (the blocked mask) until
 * the held ones have gone, so a flow is never reordered.
 *
 * Bound. MLW_FWD_HOLD_MAX frames (at least the largest RX burst, 512): the
 * hold is empty whenever the shard reads a burst, so one burst always
 * fits; past the bound (several ports in one pass) a frame is dropped and
 * counted as before.
 *
 * Used by shard.c (poll_rx, forward); tests/unit/test_fwd_hold.c.
 */
#ifndef MLW_FWD_HOLD_H
#define MLW_FWD_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#define MLW_FWD_HOLD_MAX 1024u
/* Held frames whose owner has not taken them after this long are dropped
 * (counted in fwd_drops), and the shard reads its RX queues again: an
 * owner that is stopped or starved must not stall this shard's own flows. */
#define MLW_FWD_HOLD_MS 10u

struct mlw__fwd_hold {
	uint64_t blocked;	/* bit O: frames for owner O are held */
	unsigned n;		/* frames held, oldest first */
	uint16_t owner[MLW_FWD_HOLD_MAX];
	void *frame[MLW_FWD_HOLD_MAX];
};

/* Put a frame on owner @p owner's ring; false if the ring is full. */
typedef bool (*mlw__fwd_put_fn)(void *ctx, unsigned owner, void *frame);

static inline bool mlw__fwd_hold_empty(const struct mlw__fwd_hold *h)
{
	return h->n == 0;
}

/* Must a frame for @p owner wait behind held ones? */
static inline bool mlw__fwd_hold_blocks(const struct mlw__fwd_hold *h, unsigned owner)
{
	return (h->blocked >> owner) & 1u;
}

/* Hold @p frame for @p owner (its ring was full, or @p owner is blocked).
 * False if the hold is full: the caller drops the frame. */
bool mlw__fwd_hold_add(struct mlw__fwd_hold *h, unsigned owner, void *frame);

/* Send the held frames that now fit, oldest first, through @p put; a frame
 * whose ring is still full keeps every later frame for its owner held.
 * Sets bit O of *@p to for each owner given frames. Returns the frames
 * sent. */
unsigned mlw__fwd_hold_retry(struct mlw__fwd_hold *h, mlw__fwd_put_fn put, void *ctx, uint64_t *to);

/* Give up: hand every held frame to @p release (which frees and counts
 * it) and empty the hold; at a shard's stop, or when the owner has not
 * taken them for MLW_FWD_HOLD_MS. Returns how many there were. */
unsigned mlw__fwd_hold_flush(struct mlw__fwd_hold *h, void (*release)(void *ctx, unsigned owner, void *frame),
			     void *ctx);

#endif
