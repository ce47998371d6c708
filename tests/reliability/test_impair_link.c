/* test_impair_link.c - the impaired link's decisions (tests/support/impair_link.c) without
 * sockets: byte-exact pass-through at 0%, each impairment's rate within tolerance over a fixed
 * seed and of the promised kind (loss removes, duplication repeats next to the original,
 * reordering delays by exactly `gap` frames, corruption changes one byte of IP frames only),
 * the same seed gives the same run, delay/rate/queue limit and the reorder hold timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "impair_link.h"

#define SEED 20240601ULL
#define MAX_OUT 300000

/* What came out, in order. */
struct sink {
	unsigned n;
	uint32_t seq[MAX_OUT];	/* the sequence number in bytes 20..23 */
	uint64_t hash;		/* over every emitted byte, in order */
	unsigned changed;	/* frames whose bytes differ from what frame_make gives */
	unsigned changed_non_ip;
	unsigned changed_header;
	unsigned multi_byte;
};

static struct sink g_sink;

static size_t frame_len(uint32_t seq)
{
	return 60 + (seq * 2654435761u) % 1455;	/* 60..1514 */
}

/* Frame number @p seq: Ethernet header (IPv4 unless seq % 10 == 9: ARP), seq, a pattern. */
static void frame_make(uint32_t seq, uint8_t *f, size_t len)
{
	memset(f, 0xaa, 12);
	f[12] = (seq % 10 == 9) ? 0x08 : 0x08;
	f[13] = (seq % 10 == 9) ? 0x06 : 0x00;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i * 7);
	memcpy(f + 20, &seq, 4);
}

static void sink_emit(void *ctx, const uint8_t *frame, size_t len)
{
	struct sink *s = ctx;
	uint8_t want[IMP_FRAME_MAX];
	uint32_t seq;
	unsigned diff = 0;

	memcpy(&seq, frame + 20, 4);
	for (size_t i = 0; i < len; i++)
		s->hash = (s->hash ^ frame[i]) * 0x100000001b3ULL;
	if (s->n < MAX_OUT)
		s->seq[s->n] = seq;
	s->n++;
	/* A corrupted seq would make the comparison meaningless: compare against every
	 * frame_make of the right length is too slow, so trust seq when its length fits. */
	if (frame_len(seq) != len) {
		s->changed++;
		s->multi_byte++;	/* the corrupted byte was in seq: counted, checked below */
		return;
	}
	frame_make(seq, want, len);
	for (size_t i = 0; i < len; i++) {
		if (frame[i] != want[i]) {
			diff++;
			if (i < 14)
				s->changed_header++;
		}
	}
	if (diff > 0) {
		s->changed++;
		if (diff > 1)
			s->multi_byte++;
		if (!(want[12] == 0x08 && want[13] == 0x00))
			s->changed_non_ip++;
	}
}

static void run(struct imp_dir *d, unsigned frames)
{
	uint8_t f[IMP_FRAME_MAX];

	for (uint32_t seq = 0; seq < frames; seq++) {
		size_t len = frame_len(seq);

		frame_make(seq, f, len);
		imp_dir_input(d, f, len, (uint64_t)seq * 1000);
	}
	imp_dir_flush(d, (uint64_t)frames * 1000);
}

static void setup_dir(struct imp_dir *d, const char *spec, uint64_t seed)
{
	struct imp_params p;
	char err[128];

	imp_params_default(&p);
	assert_int_equal(imp_params_parse(&p, spec, err, sizeof(err)), 0);
	memset(&g_sink, 0, sizeof(g_sink));
	assert_int_equal(imp_dir_init(d, &p, seed, sink_emit, &g_sink), 0);
}

/* |got/n - pct/100| within tol percentage points */
static void assert_rate(uint64_t got, unsigned n, double pct, double tol)
{
	double r = 100.0 * (double)got / n;

	if (r < pct - tol || r > pct + tol)
		fail_msg("rate %.3f%% (%llu of %u), expected %.2f%% +- %.2f", r, (unsigned long long)got,
			 n, pct, tol);
}

#define N 100000

static void test_clean_pass_through(void **state)
{
	static struct imp_dir d;

	(void)state;
	setup_dir(&d, "", SEED);
	run(&d, N);
	assert_int_equal(g_sink.n, N);
	assert_int_equal(d.c.in, N);
	assert_int_equal(d.c.out, N);
	assert_int_equal(d.c.lost + d.c.dup + d.c.reordered + d.c.corrupted + d.c.queue_drop, 0);
	assert_int_equal(g_sink.changed, 0);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(g_sink.seq[i], i);
	imp_dir_fini(&d);
}

static void test_loss(void **state)
{
	static struct imp_dir d;
	unsigned i, j;

	(void)state;
	setup_dir(&d, "loss=5", SEED);
	run(&d, N);
	assert_rate(d.c.lost, N, 5.0, 0.25);
	assert_int_equal(g_sink.n, N - d.c.lost);
	assert_int_equal(g_sink.changed, 0);
	/* in order, each at most once: what is missing was lost */
	for (i = 1; i < g_sink.n; i++)
		assert_true(g_sink.seq[i] > g_sink.seq[i - 1]);
	imp_dir_fini(&d);

	setup_dir(&d, "loss=20", SEED);
	run(&d, N);
	assert_rate(d.c.lost, N, 20.0, 0.5);
	/* no long bursts beyond what independent losses give: none of 12 in a row at 20% over 100k
	 * frames is expected to happen with probability ~ 100k * 0.2^12 = 4e-4 */
	for (i = 1, j = 0; i < g_sink.n; i++)
		if (g_sink.seq[i] - g_sink.seq[i - 1] - 1 >= 12)
			j++;
	assert_int_equal(j, 0);
	imp_dir_fini(&d);
}

static void test_dup(void **state)
{
	static struct imp_dir d;
	unsigned dups = 0;

	(void)state;
	setup_dir(&d, "dup=5", SEED);
	run(&d, N);
	assert_rate(d.c.dup, N, 5.0, 0.25);
	assert_int_equal(g_sink.n, N + d.c.dup);
	assert_int_equal(g_sink.changed, 0);
	for (unsigned i = 1; i < g_sink.n; i++) {
		if (g_sink.seq[i] == g_sink.seq[i - 1])
			dups++;	/* the copy right after the original */
		else
			assert_int_equal(g_sink.seq[i], g_sink.seq[i - 1] + 1);
	}
	assert_int_equal(dups, d.c.dup);
	imp_dir_fini(&d);
}

static void test_reorder(void **state)
{
	static struct imp_dir d;
	static uint32_t pos[N];
	unsigned late = 0, gap3 = 0;

	(void)state;
	setup_dir(&d, "reorder=5,gap=3", SEED);
	run(&d, N);
	assert_rate(d.c.reordered, N, 5.0, 0.25);
	assert_int_equal(g_sink.n, N);
	assert_int_equal(g_sink.changed, 0);
	memset(pos, 0xff, sizeof(pos));
	for (unsigned i = 0; i < g_sink.n; i++) {
		assert_true(pos[g_sink.seq[i]] == UINT32_MAX);	/* each exactly once */
		pos[g_sink.seq[i]] = i;
	}
	/* A held frame comes out behind the later frames that passed while it was held: 3 of
	 * them (gap=3), more when other held frames were released next to it. ahead = later
	 * frames emitted before it, counted over the 32 positions before it. */
	for (uint32_t s = 0; s < N; s++) {
		unsigned ahead = 0;

		for (uint32_t i = pos[s] > 32 ? pos[s] - 32 : 0; i < pos[s]; i++)
			ahead += g_sink.seq[i] > s;
		if (ahead == 0)
			continue;
		late++;
		assert_true(ahead >= 3 || s + 3 >= N);
		assert_true(ahead <= 12);
		gap3 += ahead == 3;
	}
	/* every held frame, except those the final flush released early */
	assert_true(late <= d.c.reordered && late + IMP_HOLD_MAX >= d.c.reordered);
	assert_true(gap3 >= late * 8 / 10);
	imp_dir_fini(&d);
}

static void test_reorder_gap_exact(void **state)
{
	static struct imp_dir d;
	uint8_t f[IMP_FRAME_MAX];
	uint32_t seq;

	(void)state;
	/* 100%: every frame is held while the hold table has room: nothing comes out until the
	 * table is full (64 frames), then each later frame... all of them are held, so the holds
	 * expire on time only. */
	setup_dir(&d, "reorder=100,gap=3,hold=20", SEED);
	for (seq = 0; seq < 10; seq++) {
		frame_make(seq, f, frame_len(seq));
		imp_dir_input(&d, f, frame_len(seq), 0);
	}
	assert_int_equal(g_sink.n, 0);
	assert_int_equal(d.c.reordered, 10);
	/* hold timeout: after 20 ms every held frame leaves, in the order they were held */
	assert_int_equal(imp_dir_poll(&d, 19999999), 20000000);
	assert_int_equal(g_sink.n, 0);
	assert_int_equal(imp_dir_poll(&d, 20000000), UINT64_MAX);
	assert_int_equal(g_sink.n, 10);
	for (seq = 0; seq < 10; seq++)
		assert_int_equal(g_sink.seq[seq], seq);
	imp_dir_fini(&d);

	/* one held frame goes out right after the 3rd later frame */
	setup_dir(&d, "reorder=50,gap=3,hold=1000", SEED);
	for (seq = 0; seq < 1000 && d.c.reordered == 0; seq++) {
		frame_make(seq, f, frame_len(seq));
		imp_dir_input(&d, f, frame_len(seq), 0);
	}
	/* the frame seq-1 was held; feed frames and check where it comes out */
	{
		uint32_t held = seq - 1;
		unsigned before = g_sink.n;

		d.p.reorder = 0;
		for (unsigned k = 0; k < 3; k++, seq++) {
			frame_make(seq, f, frame_len(seq));
			imp_dir_input(&d, f, frame_len(seq), 0);
		}
		assert_int_equal(g_sink.n, before + 4);
		assert_int_equal(g_sink.seq[before + 3], held);
		assert_int_equal(g_sink.seq[before], held + 1);
	}
	imp_dir_fini(&d);
}

static void test_corrupt(void **state)
{
	static struct imp_dir d;

	(void)state;
	setup_dir(&d, "corrupt=1", SEED);
	run(&d, N);
	/* IP frames are 90% of all: the rate over all frames is 0.9% */
	assert_rate(d.c.corrupted, N, 0.9, 0.1);
	assert_int_equal(g_sink.n, N);
	assert_int_equal(g_sink.changed, d.c.corrupted);
	assert_int_equal(g_sink.changed_non_ip, 0);
	assert_int_equal(g_sink.changed_header, 0);
	/* one byte each (those whose byte hit the seq field are counted as multi_byte) */
	assert_true(g_sink.multi_byte <= d.c.corrupted / 50 + 5);
	imp_dir_fini(&d);
}

static void test_combined_and_seed(void **state)
{
	static struct imp_dir d;
	uint64_t h1, h2, h3;
	struct imp_counters c1;

	(void)state;
	setup_dir(&d, "loss=5,dup=5,reorder=5,corrupt=1", SEED);
	run(&d, N);
	assert_rate(d.c.lost, N, 5.0, 0.25);
	/* dup and reorder are decided for frames that were not lost */
	assert_rate(d.c.dup, N, 5.0 * 0.95, 0.25);
	assert_rate(d.c.reordered, N, 5.0 * 0.95 * 1.05, 0.3);
	assert_int_equal(d.c.out, N - d.c.lost + d.c.dup);
	h1 = g_sink.hash;
	c1 = d.c;
	imp_dir_fini(&d);

	setup_dir(&d, "loss=5,dup=5,reorder=5,corrupt=1", SEED);
	run(&d, N);
	h2 = g_sink.hash;
	assert_memory_equal(&c1, &d.c, sizeof(c1));
	imp_dir_fini(&d);
	assert_true(h1 == h2);

	setup_dir(&d, "loss=5,dup=5,reorder=5,corrupt=1", SEED + 1);
	run(&d, N);
	h3 = g_sink.hash;
	imp_dir_fini(&d);
	assert_true(h1 != h3);
}

static void test_delay_rate_limit(void **state)
{
	static struct imp_dir d;
	uint8_t f[IMP_FRAME_MAX];

	(void)state;
	setup_dir(&d, "delay=10", SEED);
	frame_make(0, f, 1000);
	imp_dir_input(&d, f, 1000, 5000000);
	assert_int_equal(g_sink.n, 0);
	assert_int_equal(imp_dir_poll(&d, 14999999), 15000000);
	assert_int_equal(g_sink.n, 0);
	assert_int_equal(imp_dir_poll(&d, 15000000), UINT64_MAX);
	assert_int_equal(g_sink.n, 1);
	imp_dir_fini(&d);

	/* 8 Mbit/s: 1000 bytes take 1 ms; 5 frames at once leave at 1, 2, ... 5 ms */
	setup_dir(&d, "rate=8M", SEED);
	for (int i = 0; i < 5; i++)
		imp_dir_input(&d, f, 1000, 0);
	assert_int_equal(g_sink.n, 0);
	for (int i = 1; i <= 5; i++) {
		imp_dir_poll(&d, (uint64_t)i * 1000000 - 1);
		assert_int_equal(g_sink.n, i - 1);
		imp_dir_poll(&d, (uint64_t)i * 1000000);
		assert_int_equal(g_sink.n, i);
	}
	imp_dir_fini(&d);

	/* a queue of 10 frames: the 11th and later are dropped while it is full */
	setup_dir(&d, "delay=10,limit=10", SEED);
	for (int i = 0; i < 15; i++)
		imp_dir_input(&d, f, 1000, 0);
	assert_int_equal(d.c.queue_drop, 5);
	imp_dir_poll(&d, 10000000);
	assert_int_equal(g_sink.n, 10);
	imp_dir_fini(&d);
}

static void test_parse(void **state)
{
	struct imp_params p;
	char err[128], txt[256];

	(void)state;
	imp_params_default(&p);
	assert_int_equal(imp_params_parse(&p, "loss=5,dup=2.5,reorder=1,gap=4,hold=7,corrupt=0.5,"
					  "delay=3,rate=100M,limit=99", err, sizeof(err)), 0);
	imp_params_format(&p, txt, sizeof(txt));
	assert_string_equal(txt, "loss=5,dup=2.5,reorder=1,gap=4,hold=7,corrupt=0.5,delay=3,"
			    "rate=100000000,limit=99");
	assert_int_equal(imp_params_parse(&p, "loss=101", err, sizeof(err)), -1);
	assert_int_equal(imp_params_parse(&p, "loss", err, sizeof(err)), -1);
	assert_int_equal(imp_params_parse(&p, "jitter=3", err, sizeof(err)), -1);
	assert_int_equal(imp_params_parse(&p, "gap=0", err, sizeof(err)), -1);
	assert_int_equal(imp_params_parse(&p, "delay=x", err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_pass_through),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_reorder_gap_exact),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_combined_and_seed),
		cmocka_unit_test(test_delay_rate_limit),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
