/* engine_rx.c - the kernel engine's RX: frames of the TPACKET_V3 ring copied into frames of the shard's pool (frame.h: DPDK's mbufs, or mlwip's own in a build without DPDK). */
#include <string.h>

#include "engine.h"


#define CHUNK 64u	/* frames described per mlw_afp_rx_burst() call */
#define VLAN_HLEN 4u

/*
 * What the kernel said about the L4 checksum, for the run loop's
 * frame_cksum_flags() (sharding/shard.c): checked (GOOD), sent by this
 * host with the checksum left to the device (NONE: the data is good, the
 * field is not filled in, and lwIP must not check it), or not known.
 */
static inline enum mlw__frame_ck l4_ck_of(const struct mlw_afp_frame *f)
{
	if (f->csum_valid)
		return MLW_FRAME_CK_GOOD;
	if (f->csum_partial)
		return MLW_FRAME_CK_NONE;
	return MLW_FRAME_CK_UNKNOWN;
}

/* Copy one frame into @p m; false if it does not fit (or was cut short by
 * the ring). A VLAN tag the kernel took out (it does on most interfaces:
 * the tag is in the frame's metadata) is put back after the MAC addresses,
 * so lwIP, steering and captures see the frame as it was on the wire
 * (lwIP built without VLAN support then drops it, as it would a tagged
 * frame from a DPDK port). */
static bool copy_frame(mlw__frame_t *m, const struct mlw_afp_frame *f, uint64_t *vlan)
{
	uint32_t len = f->len + (f->vlan ? VLAN_HLEN : 0);
	uint8_t *d;

	if (f->len < f->wire_len || f->len < 14 || (d = mlw__frame_append(m, len)) == NULL)
		return false;
	if (unlikely(f->vlan)) {
		memcpy(d, f->data, 12);
		d[12] = 0x81;
		d[13] = 0x00;
		d[14] = (uint8_t)(f->vlan_tci >> 8);
		d[15] = (uint8_t)f->vlan_tci;
		memcpy(d + 16, f->data + 12, f->len - 12);
		(*vlan)++;
	} else {
		memcpy(d, f->data, f->len);
	}
	mlw__frame_set_ck(m, MLW_FRAME_CK_UNKNOWN, l4_ck_of(f));
	return true;
}

uint16_t mlw__afp_engine_rx(struct mlw__afp_engine *e, unsigned qi, mlw__frame_t **pkts, uint16_t n)
{
	struct mlw__afp_equeue *eq = &e->q[qi];
	struct mlw_afp_frame f[CHUNK];
	uint16_t out = 0;

	while (out < n) {
		unsigned left = (unsigned)(n - out), want = left < CHUNK ? left : CHUNK;
		unsigned got = mlw_afp_rx_burst(eq->q, f, want);

		if (got == 0)
			break;
		if (unlikely(mlw__frame_alloc_bulk(eq->pool, pkts + out, got) != 0)) {
			/* The pool is short: as many as it has, one by one. */
			unsigned k = 0;

			while (k < got && (pkts[out + k] = mlw__frame_alloc(eq->pool)) != NULL)
				k++;
			eq->rx_nombuf += got - k;
			got = k;
		}
		for (unsigned i = 0; i < got; i++) {
			mlw__frame_t *m = pkts[out];

			if (likely(copy_frame(m, &f[i], &eq->rx_vlan))) {
				out++;
				continue;
			}
			eq->rx_too_big++;
			/* The rest of this chunk's mbufs move down one. */
			mlw__frame_free(m);
			memmove(&pkts[out], &pkts[out + 1], (got - i - 1) * sizeof(pkts[0]));
		}
		if (got < want)
			break;
	}
	/* Every frame is copied: the blocks go back to the kernel now, not
	 * at the next burst, so the ring is whole while lwIP works. */
	mlw_afp_rx_release(eq->q);
	return out;
}
