/* main.c - a program built against an installed mlwip (pkg-config or find_package):
 * one shard on DPDK's net_ring0 (no hugepages, no PCI), an echo server on
 * mlwip's socket API and a raw-API lwIP client (app.c) talking to it over the
 * shard's own 127.0.0.1. Exits 0 only if every byte came back unchanged and
 * the shard heap ended empty. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/netif.h"
#include "mlwip/config.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "app.h"

#define PORT	7007
#define BYTES	(1u << 20)
#define LIMIT_MS 20000

static struct mlw_stack *stack;
static unsigned netifs;
static int failed;

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Echo server on the socket API, pumped by this loop; the raw-API client
 * runs in the same shard's lwIP. */
static int on_shard(unsigned shard, void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static char buf[16384];
	size_t len = 0, off = 0;
	long long end = now_ms() + LIMIT_MS;
	struct netif *nif;
	int lfd, cfd = -1;

	(void)shard;
	(void)arg;
	/* lwIP's own thread-local list, read from this program. */
	NETIF_FOREACH(nif)
		netifs++;
	lfd = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || mlw_bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || mlw_listen(lfd, 8) != 0) {
		fprintf(stderr, "example: listen: %s\n", strerror(errno));
		failed = 1;
	} else if (app_start(PORT, BYTES) != 0) {
		fprintf(stderr, "example: tcp_connect refused\n");
		failed = 1;
	}
	while (!failed && app_state() == 0 && now_ms() < end) {
		ssize_t n;

		mlw_socket_flush();
		mlw_shard_poll();
		if (cfd < 0) {
			cfd = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
			continue;
		}
		if (off == len) {
			n = mlw_read(cfd, buf, sizeof(buf));
			if (n > 0) {
				len = (size_t)n;
				off = 0;
			} else if (n == 0 || errno != EAGAIN) {
				mlw_close(cfd);
				cfd = -1;
			}
		}
		if (off < len) {
			n = mlw_write(cfd, buf + off, len - off);
			if (n > 0)
				off += (size_t)n;
			else if (errno != EAGAIN)
				failed = 1;
		}
	}
	if (app_state() != 1)
		failed = 1;
	app_stop();
	mlw_socket_close_all();
	mlw_stack_stop(stack);
	return 0;
}

static void remove_runtime_dir(const char *prefix)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/dpdk/%s",
		 getuid() == 0 ? "/var/run" : (getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "/tmp"),
		 prefix);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int main(void)
{
	struct mlw_config cfg;
	struct mlw_config_error e;
	struct mlw_shard_stats s;
	char ini[512], prefix[64], msg[512];
	uint32_t rx, bad;
	unsigned bad_heaps;
	int rc;

	snprintf(prefix, sizeof(prefix), "mlwex%d", (int)getpid());
	snprintf(ini, sizeof(ini),
		 "[eal]\nargs = --no-huge --no-pci -m 512 --file-prefix=%s --vdev=net_ring0\n"
		 "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n", prefix);
	if (mlw_config_load_string(&cfg, ini, &e) != 0) {
		mlw_config_format_error(&e, "ini", msg, sizeof(msg));
		fprintf(stderr, "example: %s\n", msg);
		return 1;
	}
	rc = mlw_stack_create(&stack, &cfg, msg, sizeof(msg));
	if (rc != 0) {
		fprintf(stderr, "example: the stack did not start: %s\n", msg);
		remove_runtime_dir(prefix);
		return 1;
	}
	rc = mlw_stack_run(stack, on_shard, NULL, NULL);
	bad_heaps = mlw_stack_check_heaps(stack, stderr);
	mlw_stack_stats(stack, 0, &s);
	mlw_stack_destroy(stack);
	remove_runtime_dir(prefix);
	app_counts(&rx, &bad);
	printf("example: shards %u, netifs %u, %u of %u bytes echoed, %u wrong, loop passes %llu, "
	       "heaps not empty %u, run %d\n", 1u, netifs, rx, BYTES, bad, (unsigned long long)s.loops,
	       bad_heaps, rc);
	if (rc != 0 || failed || rx != BYTES || bad != 0 || bad_heaps != 0 || netifs < 2) {
		printf("example: FAILED\n");
		return 1;
	}
	printf("example: OK\n");
	return 0;
}
