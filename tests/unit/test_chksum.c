/* test_chksum.c - mlw__lwip_chksum (lwip-port/chksum.c, lwIP's LWIP_CHKSUM) gives RFC 1071's sum, in lwIP's representation, for every length and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

uint16_t mlw__lwip_chksum(const void *data, int len);

/* RFC 1071, two bytes at a time in memory order, a trailing byte padded
 * with a zero byte; the 16-bit words are read in host order, as lwIP's
 * lwip_standard_chksum() reads them. Not inverted. */
static uint16_t ref_sum(const uint8_t *p, int len)
{
	uint32_t sum = 0;
	uint16_t w;

	for (; len > 1; p += 2, len -= 2) {
		memcpy(&w, p, 2);
		sum += w;
	}
	if (len == 1) {
		uint8_t last[2] = { p[0], 0 };

		memcpy(&w, last, 2);
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void test_every_length_and_alignment(void **state)
{
	static uint8_t buf[2100 + 8];

	(void)state;
	srand(1);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (int off = 0; off < 8; off++)
		for (int len = 0; len <= 2100; len++)
			assert_int_equal(mlw__lwip_chksum(buf + off, len), ref_sum(buf + off, len));
}

/* Sums that carry a lot: all 0xff bytes (every word 0xffff), and the
 * representation of zero: all-zero data sums to 0, never to 0xffff. */
static void test_carries_and_zero(void **state)
{
	static uint8_t buf[65536 + 8];

	(void)state;
	memset(buf, 0xff, sizeof(buf));
	for (int len = 0; len <= 64; len++)
		assert_int_equal(mlw__lwip_chksum(buf + 1, len), ref_sum(buf + 1, len));
	assert_int_equal(mlw__lwip_chksum(buf, 65535), ref_sum(buf, 65535));
	assert_int_equal(mlw__lwip_chksum(buf, 1500), 0xffff);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(mlw__lwip_chksum(buf + 3, 1500), 0);
	/* Words that add up to exactly 0xffff (0x1234 + 0xedcb) stay 0xffff. */
	buf[0] = 0x12, buf[1] = 0x34, buf[2] = 0xed, buf[3] = 0xcb;
	assert_int_equal(mlw__lwip_chksum(buf, 4), 0xffff);
	assert_int_equal(mlw__lwip_chksum(buf, -1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_length_and_alignment),
		cmocka_unit_test(test_carries_and_zero),
	};

	return cmocka_run_group_tests_name("chksum", tests, NULL, NULL);
}
