/* idle_rr.c - a Linux TCP client for the idle benchmark (idle_bench.sh): one connection to an echo server, N request/response exchanges of MSG bytes, each after a pause of GAP_US microseconds (0: back to back), every answer checked; prints one line of JSON with the round-trip percentiles.
 *
 *   mlw_idle_rr ADDR PORT N GAP_US [MSG]
 *
 * With a gap longer than the server's polling period (idle_sleep_us) every
 * exchange meets a server that has gone idle: under idle = interrupt its
 * shards sleep, so the round trip includes their wake-up. The pause is a
 * clock_nanosleep; the round trip is timed from just before send() to the
 * last byte received (CLOCK_MONOTONIC).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned n, gap_us, msg = 64;
	unsigned char out[4096], in[4096];
	uint64_t *rtt, sum = 0;
	int fd, one = 1;

	if (argc < 5 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: %s ADDR PORT N GAP_US [MSG<=4096]\n", argv[0]);
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	n = (unsigned)atoi(argv[3]);
	gap_us = (unsigned)atoi(argv[4]);
	if (argc > 5)
		msg = (unsigned)atoi(argv[5]);
	if (n == 0 || msg == 0 || msg > sizeof(out))
		return 2;
	rtt = calloc(n, sizeof(*rtt));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (rtt == NULL || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("idle_rr: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (unsigned i = 0; i < n; i++) {
		size_t got = 0;
		uint64_t t0;

		if (gap_us) {
			struct timespec ts = { gap_us / 1000000, (long)(gap_us % 1000000) * 1000 };

			clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		}
		for (unsigned j = 0; j < msg; j++)
			out[j] = (unsigned char)(i + j);
		t0 = now_ns();
		if (send(fd, out, msg, 0) != (ssize_t)msg) {
			perror("idle_rr: send");
			return 1;
		}
		while (got < msg) {
			ssize_t r = recv(fd, in + got, msg - got, 0);

			if (r <= 0) {
				fprintf(stderr, "idle_rr: connection ended after %u exchanges\n", i);
				return 1;
			}
			got += (size_t)r;
		}
		rtt[i] = now_ns() - t0;
		if (memcmp(in, out, msg) != 0) {
			fprintf(stderr, "idle_rr: answer %u differs\n", i);
			return 1;
		}
		sum += rtt[i];
	}
	close(fd);
	qsort(rtt, n, sizeof(*rtt), cmp);
	printf("{\"n\": %u, \"gap_us\": %u, \"msg\": %u, \"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, "
	       "\"max_us\": %.1f, \"mean_us\": %.1f}\n", n, gap_us, msg, rtt[n / 2] / 1e3,
	       rtt[(size_t)n * 9 / 10] / 1e3, rtt[(size_t)n * 99 / 100] / 1e3, rtt[n - 1] / 1e3,
	       (double)sum / n / 1e3);
	free(rtt);
	return 0;
}
