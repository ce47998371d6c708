/* test_frame.c - see test_frame.h. */
#include <arpa/inet.h>
#include <string.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "test_frame.h"

void test_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

void test_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

uint16_t test_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t test_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint32_t test_sum16(const uint8_t *p, unsigned len, uint32_t s)
{
	for (; len > 1; p += 2, len -= 2)
		s += test_get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	return s;
}

uint16_t test_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

unsigned test_tcp_ack_opts(uint8_t *out, bool ts, uint32_t tsval, uint32_t tsecr,
			   const uint32_t (*sack)[2], unsigned nsack)
{
	unsigned n = 0;

	if (ts) {
		memcpy(out, "\x01\x01\x08\x0a", 4);
		test_put32(out + 4, tsval);
		test_put32(out + 8, tsecr);
		n = 12;
	}
	if (nsack > 0) {
		out[n] = 1, out[n + 1] = 1, out[n + 2] = 5, out[n + 3] = (uint8_t)(2 + 8 * nsack);
		n += 4;
		for (unsigned i = 0; i < nsack; i++, n += 8) {
			test_put32(out + n, sack[i][0]);
			test_put32(out + n + 4, sack[i][1]);
		}
	}
	return n;
}

const uint8_t *test_tcp_opt(const uint8_t *tcp, uint8_t kind)
{
	const uint8_t *p = tcp + 20, *end = tcp + (tcp[12] >> 4) * 4u;

	while (p < end && *p != 0) {
		if (*p == 1) {
			p++;
			continue;
		}
		if (end - p < 2 || p[1] < 2 || p[1] > end - p)
			return NULL;
		if (*p == kind)
			return p;
		p += p[1];
	}
	return NULL;
}

unsigned test_tcp4_build(uint8_t *buf, unsigned size, const uint8_t *dmac, const uint8_t *smac,
			 const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags,
			 uint32_t seqno, uint32_t ackno, uint16_t wnd, const uint8_t *opts,
			 unsigned optlen, unsigned payload)
{
	unsigned tcplen = 20 + optlen + payload, len = 14 + 20 + tcplen;
	uint8_t *f = buf, *ip, *tcp;
	uint32_t s;

	if (len > size || len > 0xffff)
		return 0;
	memset(f, 0, len);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	test_put16(f + 12, 0x0800);
	ip = f + 14;
	ip[0] = 0x45;
	test_put16(ip + 2, (uint16_t)(20 + tcplen));
	ip[8] = 64, ip[9] = 6;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	test_put16(ip + 10, (uint16_t)~test_fold(test_sum16(ip, 20, 0)));
	tcp = ip + 20;
	test_put16(tcp, sport);
	test_put16(tcp + 2, dport);
	test_put32(tcp + 4, seqno);
	test_put32(tcp + 8, ackno);
	tcp[12] = (uint8_t)((20 + optlen) / 4 << 4);
	tcp[13] = flags;
	test_put16(tcp + 14, wnd);
	if (optlen > 0)
		memcpy(tcp + 20, opts, optlen);
	for (unsigned i = 0; i < payload; i++)
		tcp[20 + optlen + i] = (uint8_t)i;
	s = test_sum16(ip + 12, 8, 0) + 6 + tcplen;
	test_put16(tcp + 16, (uint16_t)~test_fold(test_sum16(tcp, tcplen, s)));
	return len;
}

struct pbuf *test_tcp4_frame(const uint8_t *dmac, const uint8_t *smac, const char *src, uint16_t sport,
			     const char *dst, uint16_t dport, uint8_t flags, uint32_t seqno,
			     uint32_t ackno, uint16_t wnd, const uint8_t *opts, unsigned optlen,
			     unsigned payload)
{
	unsigned len = 14 + 20 + 20 + optlen + payload;
	struct pbuf *p = len <= 0xffff ? pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM) : NULL;

	if (p != NULL)
		test_tcp4_build(p->payload, len, dmac, smac, src, sport, dst, dport, flags, seqno, ackno,
				wnd, opts, optlen, payload);
	return p;
}

unsigned test_arp_request(uint8_t *buf, const uint8_t *smac, const char *sip, const char *tip)
{
	memset(buf, 0xff, 6);
	memcpy(buf + 6, smac, 6);
	test_put16(buf + 12, 0x0806);
	memcpy(buf + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(buf + 22, smac, 6);
	inet_pton(AF_INET, sip, buf + 28);
	memset(buf + 32, 0, 6);
	inet_pton(AF_INET, tip, buf + 38);
	return 42;
}

bool test_tcp4_parse(const uint8_t *f, unsigned len, struct test_seg *s)
{
	const uint8_t *tcp = f + 34;
	unsigned hlen, iplen;

	if (len < 54 || test_get16(f + 12) != 0x0800 || f[23] != 6 || (f[14] & 0xf) != 5)
		return false;
	hlen = (tcp[12] >> 4) * 4u;
	iplen = test_get16(f + 16);
	if (hlen < 20 || 34 + hlen > len || iplen < 20 + hlen)
		return false;
	s->sport = test_get16(tcp);
	s->dport = test_get16(tcp + 2);
	s->seq = test_get32(tcp + 4);
	s->ack = test_get32(tcp + 8);
	s->flags = tcp[13];
	s->wnd = test_get16(tcp + 14);
	s->plen = iplen - 20u - hlen;
	s->mss = hlen >= 24 && tcp[20] == 2 && tcp[21] == 4 ? test_get16(tcp + 22) : 0;
	{
		const uint8_t *o = test_tcp_opt(tcp, 8);

		s->ts = o != NULL && o[1] == 10;
		s->tsval = s->ts ? test_get32(o + 2) : 0;
		s->tsecr = s->ts ? test_get32(o + 6) : 0;
		o = test_tcp_opt(tcp, 5);
		s->nsack = 0;
		for (unsigned i = 0; o != NULL && i < 4 && 2 + 8 * (i + 1) <= o[1]; i++, s->nsack++) {
			s->sack[i][0] = test_get32(o + 2 + 8 * i);
			s->sack[i][1] = test_get32(o + 6 + 8 * i);
		}
	}
	return true;
}

void test_netif_receive(struct netif *nif, const uint8_t *f, unsigned len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);

	if (p == NULL)
		return;
	memcpy(p->payload, f, len);
	if (nif->input(p, nif) != ERR_OK)
		pbuf_free(p);
}
