/* test_frame.c - see test_frame.h. */
#include "test_frame.h"

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
