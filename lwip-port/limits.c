/* limits.c - per-shard limits on the lwIP queues a peer can fill, which MEMP_MEM_MALLOC=1 leaves unbounded: ND and ARP queues, reassembly, out-of-order segments.
 *
 * With MEMP_MEM_MALLOC every memp_malloc() takes memory from the shard heap
 * and lwIP's pool sizes (MEMP_NUM_*) stop being limits. Every type still
 * goes through memp_malloc()/memp_free() (memp.c), called from the other
 * lwIP objects, so the linker redirects those calls here (--wrap=memp_malloc,
 * --wrap=memp_free, lwip-port/CMakeLists.txt): each type's live objects are
 * counted per shard (thread-local: no locks), and the limited types are
 * refused at their limit, which lwIP handles as it handles an empty pool.
 *
 *   ARP queue (etharp_query -> memp_malloc(MEMP_ARP_QUEUE)): refused, the
 *     new packet is dropped (lwIP also keeps at most ARP_QUEUE_LEN = 3 per
 *     entry).
 *   ND queue (nd6_get_next_hop_addr_or_queue -> nd6_queue_packet): lwIP 2.1.3
 *     appends without limit, walking the neighbour's whole queue each time
 *     (IPv6 packets for sources that never answer neighbour discovery piled
 *     up for seconds): refused here, lwIP then drops the neighbour's oldest
 *     packet (RFC 4861 7.2.2) or the new one. lwIP 2.2 counts the queue
 *     itself against MEMP_NUM_ND6_QUEUE, which lwipopts.h maps to
 *     mlw__nd6_queue_room() below; it is not refused here, as 2.2 counts an
 *     entry even when memp_malloc() fails and would leak the count.
 *   Reassembly (ip_reass / ip6_reass -> memp_malloc(MEMP_REASSDATA /
 *     MEMP_IP6_REASSDATA)): refused, lwIP drops the oldest datagram and
 *     tries again. The fragments held are bounded by lwIP itself against
 *     IP_REASS_MAX_PBUFS, which lwipopts.h maps to mlw__lim_reass_pbufs.
 *   Out-of-order segments (tcp_receive): lwIP's TCP_OOSEQ_PBUFS_LIMIT and
 *     TCP_OOSEQ_BYTES_LIMIT hooks (lwipopts.h) ask mlw__tcp_ooseq_*_limit()
 *     after each segment queued and cut the queue past the limit.
 *
 * The limits come from [limits] (mlw__limits_apply(), called by each shard
 * after lwip_init()); a thread that never calls it keeps the defaults.
 */
#include <stdbool.h>
#include <stdint.h>

#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "mlwip/limits.h"
#include "mlw_limits.h"

void *__real_memp_malloc(memp_t type);
void __real_memp_free(memp_t type, void *mem);
void *__wrap_memp_malloc(memp_t type);
void __wrap_memp_free(memp_t type, void *mem);

#define LWIP_2_2 (LWIP_VERSION_MAJOR > 2 || (LWIP_VERSION_MAJOR == 2 && LWIP_VERSION_MINOR >= 2))

/* Per shard thread. */
static _Thread_local uint32_t live[MEMP_MAX];
static _Thread_local uint32_t cap[MEMP_MAX] = {
	[MEMP_ARP_QUEUE] = MLW_LIMITS_ARP_QUEUE_DEFAULT,
#if !LWIP_2_2
	[MEMP_ND6_QUEUE] = MLW_LIMITS_ND6_QUEUE_DEFAULT,
#endif
	[MEMP_REASSDATA] = MLW_LIMITS_REASS_DEFAULT,
	[MEMP_IP6_REASSDATA] = MLW_LIMITS_REASS_DEFAULT,
};
static _Thread_local struct mlw__limits_stats ls;
static _Thread_local uint32_t nd6_cap = MLW_LIMITS_ND6_QUEUE_DEFAULT;
static _Thread_local uint32_t ooseq_pbufs = MLW_LIMITS_OOSEQ_PBUFS_DEFAULT;
static _Thread_local uint32_t ooseq_bytes = MLW_LIMITS_OOSEQ_BYTES_DEFAULT;
/* lwipopts.h: IP_REASS_MAX_PBUFS (a plain name: init.c tests it in #if). */
_Thread_local uint16_t mlw__lim_reass_pbufs = MLW_LIMITS_REASS_PBUFS_DEFAULT;

_Static_assert(MLW_LIMITS_REASS_PBUFS_MAX <= UINT16_MAX, "lwIP counts fragments in a u16_t");

void mlw__limits_apply(const struct mlw_limits *l)
{
	cap[MEMP_ARP_QUEUE] = l->arp_queue;
#if !LWIP_2_2
	cap[MEMP_ND6_QUEUE] = l->nd6_queue;
#endif
	cap[MEMP_REASSDATA] = l->reass_datagrams;
	cap[MEMP_IP6_REASSDATA] = l->reass_datagrams;
	nd6_cap = l->nd6_queue;
	mlw__lim_reass_pbufs = (uint16_t)l->reass_pbufs;
	ooseq_pbufs = l->ooseq_pbufs;
	ooseq_bytes = l->ooseq_bytes;
}

void mlw__limits_stats(struct mlw__limits_stats *out)
{
	*out = ls;
	out->nd6_queued = live[MEMP_ND6_QUEUE];
	out->arp_queued = live[MEMP_ARP_QUEUE];
	out->reass_datagrams = live[MEMP_REASSDATA] + live[MEMP_IP6_REASSDATA];
}

uint32_t mlw__limits_live(int type)
{
	return type >= 0 && type < MEMP_MAX ? live[type] : 0;
}

static void count_drop(memp_t type)
{
	switch (type) {
	case MEMP_ARP_QUEUE: ls.arp_queue_drops++; break;
	case MEMP_ND6_QUEUE: ls.nd6_queue_drops++; break;
	default: ls.reass_drops++; break;
	}
}

void *__wrap_memp_malloc(memp_t type)
{
	void *p;

	if (cap[type] != 0 && live[type] >= cap[type]) {
		count_drop(type);
		return NULL;
	}
	p = __real_memp_malloc(type);
	if (p != NULL)
		live[type]++;
	return p;
}

void __wrap_memp_free(memp_t type, void *mem)
{
	if (mem != NULL && live[type] > 0)
		live[type]--;
	__real_memp_free(type, mem);
}

/* lwIP 2.2's nd6_queue_packet() reads MEMP_NUM_ND6_QUEUE once per packet it
 * queues, before it allocates: a full queue there means a packet dropped
 * (the neighbour's oldest, or this one). */
uint32_t mlw__nd6_queue_room(void)
{
	if (live[MEMP_ND6_QUEUE] >= nd6_cap)
		ls.nd6_queue_drops++;
	return nd6_cap;
}

/* tcp_receive() asks after queueing an out-of-order segment, then walks the
 * queue and frees everything past the limit. The walk here finds whether
 * it will (the queue is at most the limit plus the new segment long). */
uint16_t mlw__tcp_ooseq_pbufs_limit(const struct tcp_pcb *pcb)
{
	uint32_t n = 0, bytes = 0, bmax = ooseq_bytes != 0 ? ooseq_bytes : UINT32_MAX;

	for (const struct tcp_seg *s = pcb->ooseq; s != NULL; s = s->next) {
		n += pbuf_clen(s->p);
		bytes += s->p->tot_len;
		if (n > ooseq_pbufs || bytes > bmax) {
			ls.ooseq_drops++;
			break;
		}
	}
	return (uint16_t)(ooseq_pbufs > UINT16_MAX ? UINT16_MAX : ooseq_pbufs);
}

uint32_t mlw__tcp_ooseq_bytes_limit(const struct tcp_pcb *pcb)
{
	(void)pcb;
	return ooseq_bytes != 0 ? ooseq_bytes : UINT32_MAX;
}
