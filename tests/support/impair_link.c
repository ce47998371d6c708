/* impair_link.c - the impaired link's decisions (see impair_link.h). */
#include "impair_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH_HLEN_ 14

void imp_params_default(struct imp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->gap = 3;
	p->hold_ms = 20;
	p->limit = 4096;
}

static int parse_pct(const char *v, double *out)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end != '\0' || d < 0 || d > 100)
		return -1;
	*out = d;
	return 0;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long u = strtoull(v, &end, 10);
	unsigned long long mul = 1;

	if (end == v)
		return -1;
	if (*end == 'k' || *end == 'K')
		mul = 1000, end++;
	else if (*end == 'M')
		mul = 1000000, end++;
	else if (*end == 'G')
		mul = 1000000000, end++;
	if (*end != '\0' || u > max / mul)
		return -1;
	*out = u * mul;
	return 0;
}

int imp_params_parse(struct imp_params *p, const char *spec, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "impairment spec too long");
		return -1;
	}
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		unsigned long long u = 0;
		int bad;

		if (eq == NULL) {
			snprintf(err, errlen, "'%s': expected key=value", tok);
			return -1;
		}
		*eq++ = '\0';
		if (strcmp(tok, "loss") == 0)
			bad = parse_pct(eq, &p->loss);
		else if (strcmp(tok, "dup") == 0)
			bad = parse_pct(eq, &p->dup);
		else if (strcmp(tok, "reorder") == 0)
			bad = parse_pct(eq, &p->reorder);
		else if (strcmp(tok, "corrupt") == 0)
			bad = parse_pct(eq, &p->corrupt);
		else if (strcmp(tok, "gap") == 0)
			bad = parse_uint(eq, 1000, &u) || u < 1 || ((p->gap = (unsigned)u), 0);
		else if (strcmp(tok, "hold") == 0)
			bad = parse_uint(eq, 10000, &u) || ((p->hold_ms = (unsigned)u), 0);
		else if (strcmp(tok, "delay") == 0)
			bad = parse_uint(eq, 10000, &u) || ((p->delay_ms = (unsigned)u), 0);
		else if (strcmp(tok, "limit") == 0)
			bad = parse_uint(eq, 1000000, &u) || u < 1 || ((p->limit = (unsigned)u), 0);
		else if (strcmp(tok, "rate") == 0)
			bad = parse_uint(eq, 400000000000ULL, &u) || ((p->rate_bps = u), 0);
		else {
			snprintf(err, errlen, "unknown key '%s' (loss dup reorder corrupt gap hold delay rate limit)",
				 tok);
			return -1;
		}
		if (bad) {
			snprintf(err, errlen, "bad value '%s' for %s", eq, tok);
			return -1;
		}
	}
	return 0;
}

void imp_params_format(const struct imp_params *p, char *buf, size_t len)
{
	snprintf(buf, len, "loss=%g,dup=%g,reorder=%g,gap=%u,hold=%u,corrupt=%g,delay=%u,rate=%llu,limit=%u",
		 p->loss, p->dup, p->reorder, p->gap, p->hold_ms, p->corrupt, p->delay_ms,
		 (unsigned long long)p->rate_bps, p->limit);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void imp_rng_seed(struct imp_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
uint64_t imp_rng_next(struct imp_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

int imp_rng_chance(struct imp_rng *r, double pct)
{
	double u;

	if (pct <= 0)
		return 0;
	u = (double)(imp_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
	return u * 100.0 < pct;
}

int imp_dir_init(struct imp_dir *d, const struct imp_params *p, uint64_t seed, imp_emit_fn emit,
		 void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->p = *p;
	if (d->p.gap < 1)
		d->p.gap = 1;
	if (d->p.limit < 1)
		d->p.limit = 1;
	imp_rng_seed(&d->rng, seed);
	d->emit = emit;
	d->ctx = ctx;
	d->line = calloc(d->p.limit, sizeof(*d->line));
	return d->line == NULL ? -1 : 0;
}

void imp_dir_fini(struct imp_dir *d)
{
	free(d->line);
	d->line = NULL;
}

static void out(struct imp_dir *d, const uint8_t *f, size_t len)
{
	d->c.out++;
	d->c.bytes_out += len;
	d->emit(d->ctx, f, len);
}

/* Into the delay line (or straight out when nothing waits and no delay applies). */
static void line_push(struct imp_dir *d, const uint8_t *f, size_t len, uint64_t now)
{
	uint64_t due = now;
	struct imp_frame *slot;

	if (d->count >= d->p.limit) {
		d->c.queue_drop++;
		return;
	}
	if (d->p.rate_bps != 0) {
		uint64_t start = d->ser_end_ns > now ? d->ser_end_ns : now;

		d->ser_end_ns = start + (uint64_t)len * 8 * 1000000000ULL / d->p.rate_bps;
		due = d->ser_end_ns;
	}
	due += (uint64_t)d->p.delay_ms * 1000000ULL;
	if (due <= now && d->count == 0) {
		out(d, f, len);
		return;
	}
	slot = &d->line[(d->head + d->count) % d->p.limit];
	slot->due_ns = due;
	slot->len = (uint16_t)len;
	memcpy(slot->data, f, len);
	d->count++;
}

static void hold_release(struct imp_dir *d, unsigned i, uint64_t now)
{
	line_push(d, d->hold[i].data, d->hold[i].len, now);
	memmove(&d->hold[i], &d->hold[i + 1], (d->nhold - i - 1) * sizeof(d->hold[0]));
	d->nhold--;
}

/* One copy of a frame past loss and corruption: reorder, then the line. */
static void pass(struct imp_dir *d, const uint8_t *f, size_t len, uint64_t now)
{
	if (d->nhold < IMP_HOLD_MAX && imp_rng_chance(&d->rng, d->p.reorder)) {
		struct imp_frame *h = &d->hold[d->nhold++];

		h->left = d->p.gap;
		h->due_ns = now + (uint64_t)d->p.hold_ms * 1000000ULL;
		h->len = (uint16_t)len;
		memcpy(h->data, f, len);
		d->c.reordered++;
		return;
	}
	line_push(d, f, len, now);
	for (unsigned i = 0; i < d->nhold;) {
		if (--d->hold[i].left == 0)
			hold_release(d, i, now);
		else
			i++;
	}
}

/* IPv6 extension headers walked to find the transport (hop-by-hop, routing, fragment,
 * destination options); AH is walked by its own length rule. */
static int ip6_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51;
}

int imp_frame_is_test(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + ETH_HLEN_;
	size_t iplen;

	if (len <= ETH_HLEN_)
		return 0;
	iplen = len - ETH_HLEN_;
	if (f[12] == 0x08 && f[13] == 0x00) {
		/* IPv4: the protocol field; every fragment of a TCP/UDP datagram carries it */
		if (iplen < 20 || (ip[0] >> 4) != 4)
			return 0;
		return ip[9] == 6 || ip[9] == 17;
	}
	if (f[12] == 0x86 && f[13] == 0xdd) {
		size_t off = 40;
		uint8_t nh;

		if (iplen < 40 || (ip[0] >> 4) != 6)
			return 0;
		nh = ip[6];
		for (int n = 0; n < 8 && ip6_ext(nh); n++) {
			size_t hl;

			if (off + 8 > iplen)
				return 0;
			if (nh == 44)
				hl = 8;
			else if (nh == 51)
				hl = ((size_t)ip[off + 1] + 2) * 4;
			else
				hl = ((size_t)ip[off + 1] + 1) * 8;
			nh = ip[off];
			off += hl;
		}
		return nh == 6 || nh == 17;
	}
	return 0;
}

void imp_dir_input(struct imp_dir *d, const uint8_t *frame, size_t len, uint64_t now)
{
	uint8_t f[IMP_FRAME_MAX];
	int copies = 1;

	d->c.in++;
	imp_dir_poll(d, now);
	if (len > IMP_FRAME_MAX) {
		out(d, frame, len);
		return;
	}
	if (!imp_frame_is_test(frame, len)) {
		/* not the traffic under test (ARP, ICMP, ND/MLD, ...): no draw, no impairment, not
		 * counted by held frames; through the delay line so that order is kept */
		d->c.passed++;
		line_push(d, frame, len, now);
		return;
	}
	if (imp_rng_chance(&d->rng, d->p.loss)) {
		d->c.lost++;
		return;
	}
	memcpy(f, frame, len);
	if (imp_rng_chance(&d->rng, d->p.corrupt)) {
		uint64_t r = imp_rng_next(&d->rng);
		size_t off = ETH_HLEN_ + (size_t)(r % (len - ETH_HLEN_));

		f[off] ^= (uint8_t)(1 + (r >> 32) % 255);
		d->c.corrupted++;
	}
	if (imp_rng_chance(&d->rng, d->p.dup)) {
		copies = 2;
		d->c.dup++;
	}
	for (int i = 0; i < copies; i++)
		pass(d, f, len, now);
}

uint64_t imp_dir_poll(struct imp_dir *d, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < d->nhold;) {
		if (d->hold[i].due_ns <= now)
			hold_release(d, i, now);
		else
			i++;
	}
	while (d->count > 0 && d->line[d->head].due_ns <= now) {
		struct imp_frame *f = &d->line[d->head];

		d->head = (d->head + 1) % d->p.limit;
		d->count--;
		out(d, f->data, f->len);
	}
	if (d->count > 0)
		next = d->line[d->head].due_ns;
	for (unsigned i = 0; i < d->nhold; i++)
		if (d->hold[i].due_ns < next)
			next = d->hold[i].due_ns;
	return next;
}

void imp_dir_flush(struct imp_dir *d, uint64_t now)
{
	while (d->nhold > 0)
		hold_release(d, 0, now);
	while (d->count > 0) {
		struct imp_frame *f = &d->line[d->head];

		d->head = (d->head + 1) % d->p.limit;
		d->count--;
		out(d, f->data, f->len);
	}
}

void imp_counters_format(const struct imp_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "in %llu out %llu passed %llu lost %llu dup %llu reordered %llu corrupted %llu "
		 "queue_drop %llu",
		 (unsigned long long)c->in, (unsigned long long)c->out, (unsigned long long)c->passed,
		 (unsigned long long)c->lost,
		 (unsigned long long)c->dup, (unsigned long long)c->reordered,
		 (unsigned long long)c->corrupted, (unsigned long long)c->queue_drop);
}
