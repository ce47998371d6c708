/* capture.c - packet capture to pcapng: the shards' copies (RX, TX), the writer thread (size limit, rotation) and start/stop/status.
 *
 * Shard:   mlw__capture_rx / mlw__capture_tx_copy + _commit: CAS the slot
 *          ON -> BUSY, rte_pcapng_copy() each frame from the slot's mempool,
 *          rte_ring_sp_enqueue_burst() to the slot's ring, store ON.
 *          Never blocks: no copy buffer or a full ring counts a drop.
 * Writer:  writer_main (an EAL control thread): dequeue every slot's ring ->
 *          put_frames -> rte_pcapng_write_packets; at limit_mb -> rotate()
 *          or stop_slots() and discard the rest.
 * Control: mlw__capture_start (open, rings, pools, writer, slots ON) and
 *          mlw__capture_stop (slots OFF, writer drains and exits, stats
 *          blocks, close, free), under the controller's mutex: the
 *          telemetry thread and the stack's own start/stop never run them
 *          at once. None of this is on the packet path.
 *
 * Which shard saw a frame: rte_pcapng_copy() records the queue in the
 * enhanced packet block's epb_queue option, and shard i owns queue i of
 * every port, so the queue is the shard (tshark: frame.interface_queue).
 * The interface is the port (one interface description block per DPDK
 * port, written by rte_pcapng_fdopen(); tshark: frame.interface_id), the
 * direction the epb_flags option (tshark: frame.packet_flags_direction).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include "capture_private.h"
#include "../sharding/config_capture_private.h"
#include "../sharding/tsan_private.h"

#define CAP_MAX_SHARDS	64
/* Copies waiting per shard for the writer: at 1 ms between writer passes
 * this covers 4 Mpps per shard. */
#define CAP_RING_SIZE	4096u
/* The ring's copies, the writer's burst and the shard's mempool cache. */
#define CAP_POOL_SIZE	(CAP_RING_SIZE + 2 * CAP_BURST + 2 * CAP_POOL_CACHE)
#define CAP_POOL_CACHE	64u
#define CAP_BURST	64u
/* Room kept under limit_mb for the interface statistics block each
 * captured port gets when the file is closed (header, 4 counters, times,
 * comment). */
#define CAP_ISB_RESERVE	160u
/* Copies the writer holds to put them in time order (CAP_HOLD_US). */
#define CAP_PEND_MAX	8192u
#define CAP_HOLD_US	2000u
/* Offsets in an enhanced packet block as rte_pcapng_copy() builds it. */
#define EPB_IFACE_OFF	8u
#define EPB_TS_HI_OFF	12u
#define EPB_TS_LO_OFF	16u
#define EPB_ORIG_LEN_OFF 24u

struct cap_pending {
	uint64_t tsc, seq;
	struct rte_mbuf *m;
};

struct cap_session {
	struct mlw_capture_config cfg;
	struct mlw__capture *c;
	rte_pcapng_t *pc;
	uint64_t limit;			/* bytes, 0: none */
	uint64_t reserve;		/* kept for the stats blocks */
	uint64_t start_ns;
	struct rte_ring *ring[CAP_MAX_SHARDS];
	struct rte_mempool *pool[CAP_MAX_SHARDS];
	pthread_t writer;
	bool writer_started;
	/* Set by the controller after every slot is OFF: the writer drains
	 * what is left and exits. */
	atomic_int quit;
	/* Written by the writer, read by status (relaxed: counters). */
	atomic_bool ended;		/* limit reached (rotate 0) or write error: slots OFF */
	atomic_bool limit_reached;
	_Atomic uint64_t packets, bytes, discarded, file_bytes;
	atomic_uint rotations;
	/* Writer only, until it exits (the controller reads them after the join). */
	bool writing_off;
	bool fresh;			/* nothing written to the current file yet */
	uint64_t port_packets[RTE_MAX_ETHPORTS];
	char error[128];
	int tsc_off;			/* the copies' TSC (mbuf dynamic field) */
	uint64_t tsc0, ns0, tsc_hz;	/* TSC and wall clock at start */
	unsigned npend;
	struct cap_pending pend[CAP_PEND_MAX];
};

struct mlw__capture {
	pthread_mutex_t mu;
	unsigned nshards, nports;
	uint32_t max_frame;
	unsigned gen;			/* makes ring and pool names unique */
	int tsc_off;			/* mbuf dynamic field for the copies' TSC */
	struct mlw__cap_slot *slots[CAP_MAX_SHARDS];
	int nodes[CAP_MAX_SHARDS];
	struct cap_session *s;		/* running, or ended at the limit / an error */
	struct mlw__capture_status last;	/* of the last capture stopped */
};

/* ---- Shard side ---- */

static bool slot_acquire(struct mlw__cap_slot *s)
{
	unsigned expected = MLW__CAP_ON;

	/* Pairs with the release store of ON in mlw__capture_start(). */
	return atomic_compare_exchange_strong_explicit(&s->state, &expected, MLW__CAP_BUSY, memory_order_acquire,
						       memory_order_relaxed);
}

static void slot_release(struct mlw__cap_slot *s)
{
	/* Pairs with the acquire CAS ON -> OFF in stop_slots(): every enqueue
	 * above happens before the controller lets the writer drain. */
	atomic_store_explicit(&s->state, MLW__CAP_ON, memory_order_release);
}

static void count_drops(struct mlw__cap_slot *s, unsigned n)
{
	/* The shard is the only writer: no locked read-modify-write. */
	atomic_store_explicit(&s->dropped, atomic_load_explicit(&s->dropped, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Enqueue @p k copies; what the ring does not take is freed and counted. */
static void enqueue(struct mlw__cap_slot *s, struct rte_mbuf **c, unsigned k)
{
	unsigned done;

	if (k == 0)
		return;
	MLW_TSAN_RELEASE(s->ring);
	done = rte_ring_sp_enqueue_burst(s->ring, (void *const *)c, k, NULL);
	if (done < k) {
		rte_pktmbuf_free_bulk(c + done, k - done);
		count_drops(s, k - done);
	}
}

void mlw__capture_rx(struct mlw__cap_slot *s, uint16_t port_id, struct rte_mbuf *const *pkts, uint16_t n)
{
	struct rte_mbuf *c[CAP_BURST];
	uint64_t ts;

	if (!slot_acquire(s))
		return;
	if (port_id < 64 && (s->port_mask & (1ull << port_id))) {
		ts = rte_get_tsc_cycles();
		for (uint16_t i = 0; i < n;) {
			unsigned k = 0, fail = 0;

			for (; i < n && k < CAP_BURST; i++) {
				c[k] = rte_pcapng_copy(port_id, s->shard, pkts[i], s->pool, s->snaplen, ts,
						       RTE_PCAPNG_DIRECTION_IN);
				if (likely(c[k] != NULL))
					*RTE_MBUF_DYNFIELD(c[k++], s->tsc_off, uint64_t *) = ts;
				else
					fail++;
			}
			if (fail)
				count_drops(s, fail);
			enqueue(s, c, k);
		}
	}
	slot_release(s);
}

bool mlw__capture_tx_copy(struct mlw__cap_slot *s, uint16_t port_id, struct rte_mbuf *const *pkts, uint16_t n,
			  struct rte_mbuf **copies)
{
	uint64_t ts;

	if (!slot_acquire(s))
		return false;
	if (port_id >= 64 || !(s->port_mask & (1ull << port_id))) {
		slot_release(s);
		return false;
	}
	ts = rte_get_tsc_cycles();
	for (uint16_t i = 0; i < n; i++) {
		copies[i] = rte_pcapng_copy(port_id, s->shard, pkts[i], s->pool, s->snaplen, ts,
					    RTE_PCAPNG_DIRECTION_OUT);
		if (likely(copies[i] != NULL))
			*RTE_MBUF_DYNFIELD(copies[i], s->tsc_off, uint64_t *) = ts;
	}
	return true;
}

void mlw__capture_tx_commit(struct mlw__cap_slot *s, struct rte_mbuf **copies, uint16_t n, uint16_t sent)
{
	unsigned k = 0, fail = 0;

	/* Compact the copies of the frames sent; the rest go back. */
	for (uint16_t i = 0; i < n; i++) {
		if (i >= sent)
			rte_pktmbuf_free(copies[i]);
		else if (copies[i] == NULL)
			fail++;
		else
			copies[k++] = copies[i];
	}
	if (fail)
		count_drops(s, fail);
	enqueue(s, copies, k);
	slot_release(s);
}

/* ---- Writer ---- */

static uint64_t wall_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Every slot OFF, waiting out a shard that is copying (BUSY). Called by
 * the controller, and by the writer when the capture ends on its own; the
 * CAS makes the two safe together. */
static void stop_slots(struct mlw__capture *c)
{
	for (unsigned i = 0; i < c->nshards; i++) {
		struct mlw__cap_slot *sl = c->slots[i];

		for (;;) {
			unsigned expected = MLW__CAP_ON;

			if (atomic_compare_exchange_weak_explicit(&sl->state, &expected, MLW__CAP_OFF,
								  memory_order_acquire, memory_order_relaxed) ||
			    expected == MLW__CAP_OFF)
				break;
			rte_pause();
		}
		MLW_TSAN_ACQUIRE(sl->ring);
	}
}

static void write_stats(struct cap_session *s, uint64_t dropped)
{
	uint64_t end = wall_ns();
	char comment[96];

	snprintf(comment, sizeof(comment), "mlwip: %" PRIu64 " frames dropped by the capture (all ports)", dropped);
	for (unsigned p = 0; p < s->c->nports && p < 64; p++)
		if (s->cfg.ports & (1ull << p))
			rte_pcapng_write_stats(s->pc, (uint16_t)p, comment, s->start_ns, end, s->port_packets[p],
					       UINT64_MAX);
}

static uint64_t slots_dropped(const struct mlw__capture *c)
{
	uint64_t d = 0;

	for (unsigned i = 0; i < c->nshards; i++)
		d += atomic_load_explicit(&c->slots[i]->dropped, memory_order_relaxed);
	return d;
}

/* Open @p path for a new capture file: its header and one interface
 * block per port are written at once. Returns the handle, or NULL with
 * errno set. */
static rte_pcapng_t *open_file(const char *path, uint64_t *size)
{
	rte_pcapng_t *pc;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	off_t off;

	if (fd < 0)
		return NULL;
	pc = rte_pcapng_fdopen(fd, NULL, NULL, "mlwip", NULL);
	if (pc == NULL) {
		errno = rte_errno ? rte_errno : EIO;
		close(fd);
		return NULL;
	}
	off = lseek(fd, 0, SEEK_CUR);
	*size = off > 0 ? (uint64_t)off : 0;
	return pc;
}

static void end_writing(struct cap_session *s, const char *why, int err)
{
	if (why != NULL)
		snprintf(s->error, sizeof(s->error), "%s: %s", why, strerror(err));
	s->writing_off = true;
	atomic_store_explicit(&s->ended, true, memory_order_relaxed);
	stop_slots(s->c);
}

/* FILE -> FILE.1 -> ... -> FILE.N (dropped), then a new FILE. */
static int rotate(struct cap_session *s)
{
	char from[MLW_CAPTURE_FILE_MAX + 16], to[MLW_CAPTURE_FILE_MAX + 16];
	uint64_t size;

	write_stats(s, slots_dropped(s->c) + atomic_load(&s->discarded));
	rte_pcapng_close(s->pc);
	s->pc = NULL;
	for (unsigned i = s->cfg.rotate; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", s->cfg.file);
		else
			snprintf(from, sizeof(from), "%s.%u", s->cfg.file, i - 1);
		snprintf(to, sizeof(to), "%s.%u", s->cfg.file, i);
		if (rename(from, to) != 0 && errno != ENOENT)
			return -errno;
	}
	s->pc = open_file(s->cfg.file, &size);
	if (s->pc == NULL)
		return -errno;
	memset(s->port_packets, 0, sizeof(s->port_packets));
	s->fresh = true;
	s->start_ns = wall_ns();
	atomic_store_explicit(&s->file_bytes, size, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->rotations, 1, memory_order_relaxed);
	return 0;
}

static void count_frames(struct cap_session *s, struct rte_mbuf *const *pkts, unsigned n)
{
	uint64_t bytes = 0;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *b = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
		uint32_t iface, orig;

		memcpy(&iface, b + EPB_IFACE_OFF, sizeof(iface));
		memcpy(&orig, b + EPB_ORIG_LEN_OFF, sizeof(orig));
		if (iface < RTE_MAX_ETHPORTS)
			s->port_packets[iface]++;
		bytes += orig;
	}
	atomic_fetch_add_explicit(&s->packets, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->bytes, bytes, memory_order_relaxed);
}

/* Write @p n copies, as many as fit under the limit; rotate or end there. */
static void put_frames(struct cap_session *s, struct rte_mbuf **pkts, unsigned n)
{
	unsigned i = 0;

	while (i < n && !s->writing_off) {
		uint64_t size = atomic_load_explicit(&s->file_bytes, memory_order_relaxed), add = 0;
		unsigned j = i;

		while (j < n && (s->limit == 0 || size + add + rte_pktmbuf_pkt_len(pkts[j]) + s->reserve <= s->limit))
			add += rte_pktmbuf_pkt_len(pkts[j++]);
		if (j > i) {
			ssize_t w;

			count_frames(s, pkts + i, j - i);
			w = rte_pcapng_write_packets(s->pc, pkts + i, (uint16_t)(j - i));
			/* DPDK 22.11 writes them and leaves them to the caller
			 * (its header says otherwise; dpdk-dumpcap frees them). */
			rte_pktmbuf_free_bulk(pkts + i, j - i);
			i = j;
			if (w < 0) {
				end_writing(s, "write", errno);
				break;
			}
			atomic_store_explicit(&s->file_bytes, size + (uint64_t)w, memory_order_relaxed);
			s->fresh = false;
			continue;
		}
		/* pkts[i] does not fit. A frame that would not fit an empty
		 * file either is discarded rather than rotate forever. */
		if (s->fresh) {
			rte_pktmbuf_free(pkts[i++]);
			atomic_fetch_add_explicit(&s->discarded, 1, memory_order_relaxed);
			continue;
		}
		if (s->cfg.rotate == 0) {
			atomic_store_explicit(&s->limit_reached, true, memory_order_relaxed);
			end_writing(s, NULL, 0);
			break;
		}
		int rc = rotate(s);

		if (rc != 0) {
			end_writing(s, "rotate", -rc);
			break;
		}
	}
	/* Past the limit or a write error: what is still queued is not written. */
	if (i < n) {
		rte_pktmbuf_free_bulk(pkts + i, n - i);
		if (!atomic_load_explicit(&s->limit_reached, memory_order_relaxed))
			atomic_fetch_add_explicit(&s->discarded, n - i, memory_order_relaxed);
	}
}

static int pend_cmp(const void *a, const void *b)
{
	const struct cap_pending *x = a, *y = b;

	if (x->tsc != y->tsc)
		return x->tsc < y->tsc ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The block's timestamp from the TSC the shard took: nanoseconds since the
 * epoch, from the wall clock and TSC read together at start. (DPDK
 * 22.11's rte_pcapng_copy() converts with delta * 1e9 in 64 bits, which
 * wraps once the process has run for about 18e9 / tsc_hz seconds.) */
static void stamp(const struct cap_session *s, struct rte_mbuf *m, uint64_t tsc)
{
	uint8_t *b = rte_pktmbuf_mtod(m, uint8_t *);
	__int128 d = (__int128)((int64_t)(tsc - s->tsc0)) * 1000000000;
	uint64_t ns = s->ns0 + (uint64_t)(int64_t)(d / (__int128)s->tsc_hz);
	uint32_t hi = (uint32_t)(ns >> 32), lo = (uint32_t)ns;

	memcpy(b + EPB_TS_HI_OFF, &hi, sizeof(hi));
	memcpy(b + EPB_TS_LO_OFF, &lo, sizeof(lo));
}

/* Write the @p n oldest pending copies, in time order. */
static void write_pending(struct cap_session *s, unsigned n)
{
	struct rte_mbuf *batch[CAP_BURST];

	for (unsigned i = 0; i < n;) {
		unsigned k = 0;

		for (; i < n && k < CAP_BURST; i++) {
			stamp(s, s->pend[i].m, s->pend[i].tsc);
			batch[k++] = s->pend[i].m;
		}
		put_frames(s, batch, k);
	}
	memmove(s->pend, s->pend + n, (s->npend - n) * sizeof(s->pend[0]));
	s->npend -= n;
}

/*
 * Each shard's ring is in time order, but the shards' rings are not in
 * order with one another, and a flow's frames come from two shards when
 * the port delivers them to one and the owner sends from another: written
 * ring after ring, tshark would see ACKs before the data they acknowledge.
 * So the writer sorts what it dequeued by TSC and writes only copies older
 * than CAP_HOLD_US: a shard enqueues a copy within microseconds of taking
 * its TSC, so nothing older can still arrive.
 */
static void *writer_main(void *arg)
{
	struct cap_session *s = arg;
	struct mlw__capture *c = s->c;
	uint64_t hold = s->tsc_hz / 1000000 * CAP_HOLD_US, seq = 0;

	for (;;) {
		/* Read before the pass: a pass that begins after quit was set
		 * sees every frame the shards enqueued (their slots were OFF
		 * before it was set). */
		int quit = atomic_load_explicit(&s->quit, memory_order_acquire);
		uint64_t now = rte_get_tsc_cycles();
		unsigned got = 0, n = 0;

		for (unsigned i = 0; i < c->nshards; i++) {
			struct rte_mbuf *pkts[CAP_BURST];

			while (s->ring[i] != NULL && s->npend < CAP_PEND_MAX) {
				unsigned room = CAP_PEND_MAX - s->npend;
				unsigned k = rte_ring_sc_dequeue_burst(s->ring[i], (void **)pkts,
								       room < CAP_BURST ? room : CAP_BURST, NULL);

				if (k == 0)
					break;
				MLW_TSAN_ACQUIRE(c->slots[i]->ring);
				for (unsigned j = 0; j < k; j++) {
					struct cap_pending *p = &s->pend[s->npend++];

					p->m = pkts[j];
					p->tsc = *RTE_MBUF_DYNFIELD(pkts[j], s->tsc_off, uint64_t *);
					p->seq = seq++;
				}
				got += k;
			}
		}
		if (got > 0)
			qsort(s->pend, s->npend, sizeof(s->pend[0]), pend_cmp);
		if (quit && got == 0) {
			n = s->npend;	/* nothing more can come */
		} else {
			while (n < s->npend && s->pend[n].tsc + hold <= now)
				n++;
			if (s->npend == CAP_PEND_MAX && n < CAP_PEND_MAX / 2)
				n = CAP_PEND_MAX / 2;
		}
		if (n > 0)
			write_pending(s, n);
		if (quit && got == 0 && s->npend == 0)
			break;
		if (got == 0)
			usleep(CAP_HOLD_US / 2);
	}
	return NULL;
}

/* ---- Control ---- */

static void free_session(struct cap_session *s)
{
	for (unsigned i = 0; i < CAP_MAX_SHARDS; i++) {
		unsigned held = s->pool[i] != NULL ? rte_mempool_in_use_count(s->pool[i]) : 0;

		/* Stopped, every copy is back: a shard holds none once its
		 * slot is OFF, the writer freed what it dequeued. */
		if (held != 0)
			fprintf(stderr, "mlwip: capture: shard %u's pool has %u copies not returned\n", i, held);
		rte_ring_free(s->ring[i]);
		rte_mempool_free(s->pool[i]);
	}
	free(s);
}

static void fill_status(const struct mlw__capture *c, const struct cap_session *s, struct mlw__capture_status *o)
{
	memset(o, 0, sizeof(*o));
	o->cfg = s->cfg;
	snprintf(o->file, sizeof(o->file), "%s", s->cfg.file);
	o->capturing = !atomic_load_explicit(&s->ended, memory_order_relaxed);
	o->limit_reached = atomic_load_explicit(&s->limit_reached, memory_order_relaxed);
	o->packets = atomic_load_explicit(&s->packets, memory_order_relaxed);
	o->bytes = atomic_load_explicit(&s->bytes, memory_order_relaxed);
	o->dropped = slots_dropped(c) + atomic_load_explicit(&s->discarded, memory_order_relaxed);
	o->file_bytes = atomic_load_explicit(&s->file_bytes, memory_order_relaxed);
	o->rotations = atomic_load_explicit(&s->rotations, memory_order_relaxed);
}

/* With c->mu held. */
static int stop_locked(struct mlw__capture *c, struct mlw__capture_status *out)
{
	struct cap_session *s = c->s;

	if (s == NULL)
		return -ENOENT;
	stop_slots(c);
	atomic_store_explicit(&s->quit, 1, memory_order_release);
	if (s->writer_started)
		pthread_join(s->writer, NULL);
	/* The writer is gone: its fields are ours now. */
	if (s->pc != NULL) {
		write_stats(s, slots_dropped(c) + atomic_load(&s->discarded));
		rte_pcapng_close(s->pc);
		s->pc = NULL;
	}
	fill_status(c, s, &c->last);
	c->last.capturing = false;
	snprintf(c->last.error, sizeof(c->last.error), "%s", s->error);
	for (unsigned i = 0; i < c->nshards; i++) {
		c->slots[i]->ring = NULL;
		c->slots[i]->pool = NULL;
	}
	free_session(s);
	c->s = NULL;
	if (out != NULL)
		*out = c->last;
	return 0;
}

static int start_locked(struct mlw__capture *c, const struct mlw_capture_config *cfg, char *msg, size_t msglen)
{
	struct cap_session *s;
	const char *key;
	char why[128];
	uint32_t room;
	uint64_t size;
	int rc;

	if (c->s != NULL && !atomic_load(&c->s->ended)) {
		snprintf(msg, msglen, "already capturing to %s (stop it first)", c->s->cfg.file);
		return -EBUSY;
	}
	if (c->s != NULL)
		stop_locked(c, NULL);	/* ended at its limit: close it now */
	if (mlw__config_capture_check(cfg, c->nshards, c->nports, true, &key, why, sizeof(why)) != 0) {
		snprintf(msg, msglen, "%s: %s", key, why);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	s->cfg = *cfg;
	s->c = c;
	s->tsc_off = c->tsc_off;
	s->tsc_hz = rte_get_tsc_hz();
	s->limit = (uint64_t)cfg->limit_mb << 20;
	for (unsigned p = 0; p < c->nports && p < 64; p++)
		if (cfg->ports & (1ull << p))
			s->reserve += CAP_ISB_RESERVE;
	c->gen++;
	/* Copies need room for the frame (at most max_frame bytes, or the
	 * snap length) and the block around it. */
	room = rte_pcapng_mbuf_size(cfg->snaplen < c->max_frame ? cfg->snaplen : c->max_frame);
	for (unsigned i = 0; i < c->nshards; i++) {
		char name[RTE_MEMPOOL_NAMESIZE];

		if (i >= 64 || !(cfg->shards & (1ull << i)))
			continue;
		snprintf(name, sizeof(name), "mlwcap%u_r%u", c->gen, i);
		s->ring[i] = rte_ring_create(name, CAP_RING_SIZE, c->nodes[i], RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "mlwcap%u_p%u", c->gen, i);
		s->pool[i] = rte_pktmbuf_pool_create(name, CAP_POOL_SIZE, CAP_POOL_CACHE, 0, (uint16_t)room,
						     c->nodes[i]);
		if (s->ring[i] == NULL || s->pool[i] == NULL) {
			snprintf(msg, msglen, "no DPDK memory for shard %u's capture ring and %u copy buffers of "
				 "%u bytes: %s", i, CAP_POOL_SIZE, room, rte_strerror(rte_errno));
			free_session(s);
			return -ENOMEM;
		}
	}
	s->pc = open_file(cfg->file, &size);
	if (s->pc == NULL) {
		rc = -errno;
		snprintf(msg, msglen, "cannot create %s: %s", cfg->file, strerror(-rc));
		free_session(s);
		return rc;
	}
	if (s->limit != 0 && size + s->reserve + 256 > s->limit) {
		rte_pcapng_close(s->pc);
		snprintf(msg, msglen, "limit_mb: the file's header alone takes %" PRIu64 " bytes", size);
		free_session(s);
		return -EINVAL;
	}
	atomic_store(&s->file_bytes, size);
	s->fresh = true;
	s->start_ns = wall_ns();
	s->ns0 = s->start_ns;
	s->tsc0 = rte_get_tsc_cycles();
	rc = rte_ctrl_thread_create(&s->writer, "mlw-capture", NULL, writer_main, s);
	if (rc != 0) {
		rte_pcapng_close(s->pc);
		snprintf(msg, msglen, "cannot start the writer thread: %s", strerror(rc > 0 ? rc : -rc));
		free_session(s);
		return rc > 0 ? -rc : rc;
	}
	s->writer_started = true;
	c->s = s;
	for (unsigned i = 0; i < c->nshards; i++) {
		struct mlw__cap_slot *sl = c->slots[i];

		if (s->ring[i] == NULL)
			continue;
		sl->ring = s->ring[i];
		sl->pool = s->pool[i];
		sl->port_mask = cfg->ports;
		sl->snaplen = cfg->snaplen;
		atomic_store_explicit(&sl->dropped, 0, memory_order_relaxed);
		/* Pairs with the shard's acquire CAS in slot_acquire(). */
		atomic_store_explicit(&sl->state, MLW__CAP_ON, memory_order_release);
	}
	return 0;
}

int mlw__capture_start(struct mlw__capture *c, const struct mlw_capture_config *cfg, char *msg, size_t msglen)
{
	int rc;

	pthread_mutex_lock(&c->mu);
	rc = start_locked(c, cfg, msg, msglen);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int mlw__capture_stop(struct mlw__capture *c, struct mlw__capture_status *out)
{
	int rc;

	pthread_mutex_lock(&c->mu);
	rc = stop_locked(c, out);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void mlw__capture_status(struct mlw__capture *c, struct mlw__capture_status *out)
{
	pthread_mutex_lock(&c->mu);
	if (c->s != NULL)
		fill_status(c, c->s, out);
	else
		*out = c->last;
	pthread_mutex_unlock(&c->mu);
}

struct mlw__capture *mlw__capture_create(unsigned nshards, struct mlw__cap_slot *const *slots, const int *nodes,
					 unsigned nports, uint32_t max_frame)
{
	struct mlw__capture *c;

	if (nshards == 0 || nshards > CAP_MAX_SHARDS)
		return NULL;
	static const struct rte_mbuf_dynfield tsc_field = {
		.name = "mlwip_capture_tsc",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	int off = rte_mbuf_dynfield_register(&tsc_field);

	if (off < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->tsc_off = off;
	pthread_mutex_init(&c->mu, NULL);
	c->nshards = nshards;
	c->nports = nports;
	c->max_frame = max_frame;
	for (unsigned i = 0; i < nshards; i++) {
		c->slots[i] = slots[i];
		c->nodes[i] = nodes[i];
		slots[i]->shard = i;
		slots[i]->tsc_off = off;
		atomic_store(&slots[i]->state, MLW__CAP_OFF);
	}
	if (mlw__capture_telemetry_bind(c) != 0) {
		pthread_mutex_destroy(&c->mu);
		free(c);
		return NULL;
	}
	return c;
}

void mlw__capture_destroy(struct mlw__capture *c)
{
	if (c == NULL)
		return;
	mlw__capture_telemetry_bind(NULL);
	mlw__capture_stop(c, NULL);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
