/* fwd_hold.c - frames held for a full inbox ring (fwd_hold.h has the why, the order and the bound). */
#include "fwd_hold.h"

bool mlw__fwd_hold_add(struct mlw__fwd_hold *h, unsigned owner, void *frame)
{
	if (h->n >= MLW_FWD_HOLD_MAX)
		return false;
	h->owner[h->n] = (uint16_t)owner;
	h->frame[h->n] = frame;
	h->n++;
	h->blocked |= UINT64_C(1) << owner;
	return true;
}

unsigned mlw__fwd_hold_retry(struct mlw__fwd_hold *h, mlw__fwd_put_fn put, void *ctx, uint64_t *to)
{
	uint64_t still = 0;	/* owners whose ring is full again: the rest of theirs waits */
	unsigned kept = 0, sent = 0;

	for (unsigned i = 0; i < h->n; i++) {
		unsigned o = h->owner[i];

		if (!((still >> o) & 1u) && put(ctx, o, h->frame[i])) {
			*to |= UINT64_C(1) << o;
			sent++;
			continue;
		}
		still |= UINT64_C(1) << o;
		h->owner[kept] = (uint16_t)o;
		h->frame[kept] = h->frame[i];
		kept++;
	}
	h->n = kept;
	h->blocked = still;
	return sent;
}

unsigned mlw__fwd_hold_flush(struct mlw__fwd_hold *h, void (*release)(void *ctx, unsigned owner, void *frame),
			     void *ctx)
{
	unsigned n = h->n;

	for (unsigned i = 0; i < n; i++)
		release(ctx, h->owner[i], h->frame[i]);
	h->n = 0;
	h->blocked = 0;
	return n;
}
