/* test_impair_link.c - the impaired link's decisions (tests/support/impair_link.c) without
 * sockets: byte-exact pass-through at 0%, each impairment's rate within tolerance over a fixed
 * seed and of the promised kind (loss removes, duplication repeats next to the original,
 * reordering delays by exactly `gap` frames, corruption changes one byte of IP frames only),
 * the same seed gives the same run, delay/rate/queue limit and the reorder hold timeout; frames
 * that are not the traffic under test (ARP, ICMP, ICMPv6 ND/MLD) pass unimpaired and take no
 * draw, so they do not shift the decisions for the TCP/UDP frames around them.
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
#define SEQ_OFF 54	/* after the Ethernet, IPv4 and TCP headers; every frame has >= 60 bytes */

/* What came out, in order. */
struct sink {
	unsigned n;
	uint32_t seq[MAX_OUT];	/* the sequence number in bytes SEQ_OFF.. */
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

/* Frame number @p seq is ARP when seq % 10 == 9: not under test. */
static int is_arp(uint32_t seq)
{
	return seq % 10 == 9;
}

/* Frame number @p seq: Ethernet header, then ARP (see is_arp) or an IPv4 header carrying
 * TCP (UDP when seq is odd); the rest a pattern, seq at SEQ_OFF. */
static void frame_make(uint32_t seq, uint8_t *f, size_t len)
{
	memset(f, 0xaa, 12);
	f[12] = 0x08;
	f[13] = is_arp(seq) ? 0x06 : 0x00;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i * 7);
	if (!is_arp(seq)) {
		f[14] = 0x45;
		f[23] = (seq & 1) ? 17 : 6;
	}
	memcpy(f + SEQ_OFF, &seq, 4);
}

static void sink_emit(void *ctx, const uint8_t *frame, size_t len)
{
	struct sink *s = ctx;
	uint8_t want[IMP_FRAME_MAX];
	uint32_t seq;
	unsigned diff = 0;

	memcpy(&seq, frame + SEQ_OFF, 4);
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
#define NT (N - N / 10)	/* frames under test among N (the others are ARP) */

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
	assert_rate(d.c.lost, NT, 5.0, 0.25);
	assert_int_equal(d.c.passed, N - NT);
	assert_int_equal(g_sink.n, N - d.c.lost);
	assert_int_equal(g_sink.changed, 0);
	/* in order, each at most once: what is missing was lost */
	for (i = 1; i < g_sink.n; i++)
		assert_true(g_sink.seq[i] > g_sink.seq[i - 1]);
	imp_dir_fini(&d);

	setup_dir(&d, "loss=20", SEED);
	run(&d, N);
	assert_rate(d.c.lost, NT, 20.0, 0.5);
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
	assert_rate(d.c.dup, NT, 5.0, 0.25);
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
	assert_rate(d.c.reordered, NT, 5.0, 0.25);
	assert_int_equal(g_sink.n, N);
	assert_int_equal(g_sink.changed, 0);
	memset(pos, 0xff, sizeof(pos));
	for (unsigned i = 0; i < g_sink.n; i++) {
		assert_true(pos[g_sink.seq[i]] == UINT32_MAX);	/* each exactly once */
		pos[g_sink.seq[i]] = i;
	}
	/* A held frame comes out behind the later frames under test that passed while it was
	 * held: 3 of them (gap=3), more when other held frames were released next to it (ARP
	 * frames in between do not count). ahead = later frames under test emitted before it,
	 * counted over the 32 positions before it. */
	for (uint32_t s = 0; s < N; s++) {
		unsigned ahead = 0;

		for (uint32_t i = pos[s] > 32 ? pos[s] - 32 : 0; i < pos[s]; i++)
			ahead += g_sink.seq[i] > s && !is_arp(g_sink.seq[i]);
		if (is_arp(s))
			assert_int_equal(ahead, 0);	/* never held */
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
	for (seq = 0; seq < 9; seq++) {
		frame_make(seq, f, frame_len(seq));
		imp_dir_input(&d, f, frame_len(seq), 0);
	}
	assert_int_equal(g_sink.n, 0);
	assert_int_equal(d.c.reordered, 9);
	/* hold timeout: after 20 ms every held frame leaves, in the order they were held */
	assert_int_equal(imp_dir_poll(&d, 19999999), 20000000);
	assert_int_equal(g_sink.n, 0);
	assert_int_equal(imp_dir_poll(&d, 20000000), UINT64_MAX);
	assert_int_equal(g_sink.n, 9);
	for (seq = 0; seq < 9; seq++)
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
		uint32_t held = seq - 1, first = UINT32_MAX;
		unsigned before = g_sink.n;

		d.p.reorder = 0;
		for (unsigned k = 0; k < 3; seq++) {
			if (is_arp(seq))
				continue;	/* three frames under test */
			if (first == UINT32_MAX)
				first = seq;
			frame_make(seq, f, frame_len(seq));
			imp_dir_input(&d, f, frame_len(seq), 0);
			k++;
		}
		assert_int_equal(g_sink.n, before + 4);
		assert_int_equal(g_sink.seq[before + 3], held);
		assert_int_equal(g_sink.seq[before], first);
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
	assert_rate(d.c.lost, NT, 5.0, 0.25);
	/* dup and reorder are decided for frames that were not lost */
	assert_rate(d.c.dup, NT, 5.0 * 0.95, 0.25);
	assert_rate(d.c.reordered, NT, 5.0 * 0.95 * 1.05, 0.3);
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

/* --- traffic not under test --------------------------------------------------------------- */

enum kind { K_TCP4, K_UDP4, K_TCP6_HBH, K_UDP6, K_ARP, K_ICMP4, K_ND6, K_MLD6, K_LLDP };

/* A frame of @p kind, number @p seq, @p len >= 90 bytes: byte 6 (source MAC, never corrupted)
 * tells the sink whether it is under test (1) or not (2). */
static size_t kind_make(enum kind k, uint32_t seq, uint8_t *f)
{
	size_t len = 90 + (seq * 2654435761u) % 1400, ip = 14;

	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seq * 13 + i * 5 + k);
	memset(f, 0xbb, 12);
	f[6] = k <= K_UDP6 ? 1 : 2;
	switch (k) {
	case K_TCP4: case K_UDP4: case K_ICMP4:
		f[12] = 0x08, f[13] = 0x00;
		f[ip] = 0x45;
		f[ip + 9] = k == K_TCP4 ? 6 : k == K_UDP4 ? 17 : 1;
		break;
	case K_TCP6_HBH: case K_UDP6: case K_ND6: case K_MLD6:
		f[12] = 0x86, f[13] = 0xdd;
		f[ip] = 0x60;
		if (k == K_TCP6_HBH || k == K_MLD6) {
			/* hop-by-hop options (8 bytes, as MLD reports carry: router alert), then ... */
			f[ip + 6] = 0;
			f[ip + 40] = k == K_TCP6_HBH ? 6 : 58;
			f[ip + 41] = 0;
		} else {
			f[ip + 6] = k == K_UDP6 ? 17 : 58;
		}
		break;
	case K_ARP:
		f[12] = 0x08, f[13] = 0x06;
		break;
	case K_LLDP:
		f[12] = 0x88, f[13] = 0xcc;
		break;
	}
	memcpy(f + 80, &seq, 4);
	return len;
}

struct ksink {
	unsigned n_test, n_other, other_bad;
	uint64_t test_hash[MAX_OUT];	/* per frame under test, in order of emission */
};

static struct ksink g_ks;

static void ksink_emit(void *ctx, const uint8_t *frame, size_t len)
{
	struct ksink *s = ctx;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ frame[i]) * 0x100000001b3ULL;
	if (frame[6] == 1) {
		if (s->n_test < MAX_OUT)
			s->test_hash[s->n_test] = h;
		s->n_test++;
	} else {
		uint8_t want[IMP_FRAME_MAX];
		uint32_t seq;

		memcpy(&seq, frame + 80, 4);
		if (kind_make((enum kind)(seq & 0xff), seq, want) != len || memcmp(want, frame, len) != 0)
			s->other_bad++;
		s->n_other++;
	}
}

#define KN 40000

/* The frames under test, alone (@p others == 0) or with frames not under test around them:
 * an MLD report, an ARP request and an ND solicitation before the first (as mlwip's client
 * sends before its SYN), and ARP/ICMP/ND/MLD/LLDP frames between later ones. Returns how
 * many frames not under test went in. */
static unsigned kind_run(struct imp_dir *d, int others)
{
	static const enum kind test_kinds[] = { K_TCP4, K_UDP4, K_TCP6_HBH, K_UDP6 };
	static const enum kind other_kinds[] = { K_MLD6, K_ARP, K_ND6, K_ICMP4, K_LLDP };
	uint8_t f[IMP_FRAME_MAX];
	unsigned n_other = 0;

	for (uint32_t i = 0; i < KN; i++) {
		uint64_t now = (uint64_t)i * 1000;
		size_t len;

		if (others && (i == 0 || i % 7 == 3)) {
			for (unsigned j = 0; j < (i == 0 ? 3u : 1 + i % 3); j++) {
				enum kind k = other_kinds[(i + j) % 5];
				uint32_t seq = ((i * 8 + j) << 8) | k;

				len = kind_make(k, seq, f);
				imp_dir_input(d, f, len, now);
				n_other++;
			}
		}
		len = kind_make(test_kinds[i % 4], i, f);
		imp_dir_input(d, f, len, now);
	}
	imp_dir_flush(d, (uint64_t)KN * 1000);
	return n_other;
}

static void test_only_traffic_under_test(void **state)
{
	static struct imp_dir d;
	static uint64_t alone[MAX_OUT];
	static const char *const specs[] = { "loss=5,dup=5,reorder=5,corrupt=1", "loss=20" };
	uint8_t f[IMP_FRAME_MAX];
	struct imp_params p;
	char err[128];

	(void)state;
	/* the classifier */
	assert_true(imp_frame_is_test(f, kind_make(K_TCP4, 1, f)));
	assert_true(imp_frame_is_test(f, kind_make(K_UDP4, 1, f)));
	assert_true(imp_frame_is_test(f, kind_make(K_TCP6_HBH, 1, f)));
	assert_true(imp_frame_is_test(f, kind_make(K_UDP6, 1, f)));
	assert_false(imp_frame_is_test(f, kind_make(K_ARP, 1, f)));
	assert_false(imp_frame_is_test(f, kind_make(K_ICMP4, 1, f)));
	assert_false(imp_frame_is_test(f, kind_make(K_ND6, 1, f)));
	assert_false(imp_frame_is_test(f, kind_make(K_MLD6, 1, f)));
	assert_false(imp_frame_is_test(f, kind_make(K_LLDP, 1, f)));
	assert_false(imp_frame_is_test(f, 14));

	for (unsigned s = 0; s < 2; s++) {
		struct imp_counters c_alone;
		unsigned n_alone, n_other;

		imp_params_default(&p);
		assert_int_equal(imp_params_parse(&p, specs[s], err, sizeof(err)), 0);
		memset(&g_ks, 0, sizeof(g_ks));
		assert_int_equal(imp_dir_init(&d, &p, SEED, ksink_emit, &g_ks), 0);
		assert_int_equal(kind_run(&d, 0), 0);
		c_alone = d.c;
		n_alone = g_ks.n_test;
		assert_true(n_alone <= MAX_OUT);
		memcpy(alone, g_ks.test_hash, n_alone * sizeof(alone[0]));
		imp_dir_fini(&d);
		assert_true(c_alone.lost > 0);

		memset(&g_ks, 0, sizeof(g_ks));
		assert_int_equal(imp_dir_init(&d, &p, SEED, ksink_emit, &g_ks), 0);
		n_other = kind_run(&d, 1);
		/* every frame not under test came out once, unchanged, and took no draw */
		assert_true(n_other > KN / 5);
		assert_int_equal(g_ks.n_other, n_other);
		assert_int_equal(g_ks.other_bad, 0);
		assert_int_equal(d.c.passed, n_other);
		/* the frames under test met exactly the same decisions as without them */
		assert_int_equal(d.c.lost, c_alone.lost);
		assert_int_equal(d.c.dup, c_alone.dup);
		assert_int_equal(d.c.reordered, c_alone.reordered);
		assert_int_equal(d.c.corrupted, c_alone.corrupted);
		assert_int_equal(g_ks.n_test, n_alone);
		assert_memory_equal(g_ks.test_hash, alone, n_alone * sizeof(alone[0]));
		imp_dir_fini(&d);
	}
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
		cmocka_unit_test(test_only_traffic_under_test),
		cmocka_unit_test(test_delay_rate_limit),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
