/* engine_mbuf.c - the kernel engine's RX: frames of the TPACKET_V3 ring copied into mbufs of the shard's pool, the frame type the run loop takes today (until frame views, docs/engine.md step 2). */
#include <string.h>

#include <rte_mbuf.h>

#include "engine.h"

#define CHUNK 64u	/* frames described per mlw_afp_rx_burst() call */
#define VLAN_HLEN 4u

/*
 * What the kernel said about the L4 checksum, in DPDK's words, for the run
 * loop's frame_cksum_flags() (sharding/shard.c): checked (GOOD), sent by this
 * host with the checksum left to the device (NONE: the data is good, the
 * field is not filled in, and lwIP must not check it), or not known.
 */
static inline uint64_t ol_flags_of(const struct mlw_afp_frame *f)
{
	if (f->csum_valid)
		return RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	if (f->csum_partial)
		return RTE_MBUF_F_RX_L4_CKSUM_NONE;
	return 0;
}

/* Copy one frame into @p m; false if it does not fit (or was cut short by
 * the ring). A VLAN tag the kernel took out (it does on most interfaces:
 * the tag is in the frame's metadata) is put back after the MAC addresses,
 * so lwIP, steering and captures see the frame as it was on the wire
 * (lwIP built without VLAN support then drops it, as it would a tagged
 * frame from a DPDK port). */
static bool copy_frame(struct rte_mbuf *m, const struct mlw_afp_frame *f, uint64_t *vlan)
{
	uint32_t len = f->len + (f->vlan ? VLAN_HLEN : 0);
	uint8_t *d;

	if (f->len < f->wire_len || f->len < 14 || len > rte_pktmbuf_tailroom(m))
		return false;
	d = rte_pktmbuf_mtod(m, uint8_t *);
	if (unlikely(f->vlan)) {
		memcpy(d, f->data, 12);
		d[12] = 0x81;
		d[13] = 0x00;
		d[14] = (uint8_t)(f->vlan_tci >> 8);
		d[15] = (uint8_t)f->vlan_tci;
		memcpy(d + 16, f->data + 12, f->len - 12);
		(*vlan)++;
	} else {
		rte_memcpy(d, f->data, f->len);
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->ol_flags = ol_flags_of(f);
	return true;
}

uint16_t mlw__afp_engine_rx(struct mlw__afp_engine *e, unsigned qi, struct rte_mbuf **pkts, uint16_t n)
{
	struct mlw__afp_equeue *eq = &e->q[qi];
	struct mlw_afp_frame f[CHUNK];
	uint16_t out = 0;

	while (out < n) {
		unsigned left = (unsigned)(n - out), want = left < CHUNK ? left : CHUNK;
		unsigned got = mlw_afp_rx_burst(eq->q, f, want);

		if (got == 0)
			break;
		if (unlikely(rte_pktmbuf_alloc_bulk(eq->pool, pkts + out, got) != 0)) {
			/* The pool is short: as many as it has, one by one. */
			unsigned k = 0;

			while (k < got && (pkts[out + k] = rte_pktmbuf_alloc(eq->pool)) != NULL)
				k++;
			eq->rx_nombuf += got - k;
			got = k;
		}
		for (unsigned i = 0; i < got; i++) {
			struct rte_mbuf *m = pkts[out];

			if (likely(copy_frame(m, &f[i], &eq->rx_vlan))) {
				out++;
				continue;
			}
			eq->rx_too_big++;
			/* The rest of this chunk's mbufs move down one. */
			rte_pktmbuf_free(m);
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
