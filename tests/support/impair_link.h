/* impair_link.h - the impairment logic of the test suite's impaired link (mlw_impair_link):
 * one direction of a link that loses, duplicates, reorders, corrupts, delays and rate-limits
 * Ethernet frames, driven by a seeded RNG so that a run is reproducible.
 *
 * No I/O here: frames go in with imp_dir_input(), come out through the emit callback from
 * imp_dir_input() or imp_dir_poll() once due. The program (mlw_impair_link.c) moves them
 * between AF_PACKET sockets; the unit test (tests/reliability/test_impair_link.c) feeds
 * frames by hand.
 *
 * Only the traffic under test is impaired: IPv4/IPv6 frames carrying TCP or UDP (IPv6
 * extension headers are walked; every IPv4 fragment counts). Every other frame (ARP, ICMP,
 * ICMPv6 ND/MLD, other EtherTypes) passes unimpaired, takes no draw from the RNG and does not
 * count towards a held frame's gap: it only goes through the delay line (delay and rate
 * apply, so order is kept) and is counted as `passed`. So two stacks that send the same TCP
 * segments see the same sequence of decisions for the same seed, whatever ARP, neighbour
 * discovery or MLD reports each sends before or between them.
 *
 * Order of decisions for every frame under test: loss; then corruption (one byte of the IP packet
 * XORed with a non-zero mask); then duplication (the copy follows the original); then reordering (the
 * frame is held back and released after the next `gap` frames of this direction, or after
 * hold_ms without traffic); then the delay line (fixed delay, optional rate, a queue limit
 * in frames: a frame beyond it is dropped and counted as queue_drop).
 */
#ifndef MLW_IMPAIR_LINK_H
#define MLW_IMPAIR_LINK_H

#include <stddef.h>
#include <stdint.h>

#define IMP_FRAME_MAX 2048	/* largest frame carried (MTU 1500 + headers) */
#define IMP_HOLD_MAX 64		/* frames held back for reordering at once */

/* Parameters of one direction. Percentages are 0..100. */
struct imp_params {
	double loss, dup, reorder, corrupt;	/* percent */
	unsigned gap;		/* a reordered frame goes out after this many later frames (>= 1) */
	unsigned hold_ms;	/* ... or after this long without them */
	unsigned delay_ms;	/* fixed one-way delay */
	uint64_t rate_bps;	/* 0: unlimited */
	unsigned limit;		/* frames in the delay line at most (queue) */
};

/* xoshiro-style 64-bit RNG state (splitmix64 seeded). */
struct imp_rng {
	uint64_t s[4];
};

struct imp_counters {
	uint64_t in, out, lost, dup, reordered, corrupted, queue_drop, bytes_out;
	uint64_t passed;	/* frames not under test: passed unimpaired, no draw */
};

/* A frame waiting: in the delay line or held back. */
struct imp_frame {
	uint64_t due_ns;	/* delay line: when it goes out; held: when the hold expires */
	unsigned left;		/* held: later frames still to pass before it */
	uint16_t len;
	uint8_t data[IMP_FRAME_MAX];
};

typedef void (*imp_emit_fn)(void *ctx, const uint8_t *frame, size_t len);

/* One direction. The delay line is a ring of `limit` frames allocated by imp_dir_init. */
struct imp_dir {
	struct imp_params p;
	struct imp_rng rng;
	struct imp_counters c;
	imp_emit_fn emit;
	void *ctx;
	struct imp_frame *line;	/* ring of p.limit frames */
	unsigned head, count;
	uint64_t ser_end_ns;	/* rate: when the last queued frame finished serialising */
	struct imp_frame hold[IMP_HOLD_MAX];
	unsigned nhold;
};

/* Defaults: nothing impaired, gap 3, hold 20 ms, limit 4096. */
void imp_params_default(struct imp_params *p);

/* Parse "loss=5,dup=5,reorder=5,gap=3,corrupt=1,delay=2,rate=100M,limit=1000,hold=20" into
 * @p p (keys given override its current values). Returns 0, or -1 with a message in @p err. */
int imp_params_parse(struct imp_params *p, const char *spec, char *err, size_t errlen);

/* Print the parameters as the parser reads them. */
void imp_params_format(const struct imp_params *p, char *buf, size_t len);

void imp_rng_seed(struct imp_rng *r, uint64_t seed);
uint64_t imp_rng_next(struct imp_rng *r);
/* 1 with probability pct/100. */
int imp_rng_chance(struct imp_rng *r, double pct);

/* Returns 0, or -1 if the delay line cannot be allocated. @p seed seeds this direction. */
int imp_dir_init(struct imp_dir *d, const struct imp_params *p, uint64_t seed, imp_emit_fn emit,
		 void *ctx);
void imp_dir_fini(struct imp_dir *d);

/* 1 if @p frame is traffic under test (IPv4/IPv6 TCP or UDP): impaired and drawing from the
 * RNG; 0 for everything else, which passes unimpaired. */
int imp_frame_is_test(const uint8_t *frame, size_t len);

/* A frame arrived at @p now_ns (any monotonic clock). Frames longer than IMP_FRAME_MAX are
 * passed unchanged and unimpaired (counted in and out). */
void imp_dir_input(struct imp_dir *d, const uint8_t *frame, size_t len, uint64_t now_ns);

/* Emit what is due at @p now_ns (delay line, expired holds). Returns the time of the next
 * due frame, or UINT64_MAX when nothing waits. */
uint64_t imp_dir_poll(struct imp_dir *d, uint64_t now_ns);

/* Emit everything still waiting, in order, now (at exit). */
void imp_dir_flush(struct imp_dir *d, uint64_t now_ns);

/* "in N out N passed N lost N dup N reordered N corrupted N queue_drop N" */
void imp_counters_format(const struct imp_counters *c, char *buf, size_t len);

#endif
