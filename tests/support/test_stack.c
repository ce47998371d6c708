/* test_stack.c - see test_stack.h. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/netif.h"
#include "mlwip/config.h"
#include "mlwip/socket.h"
#include "test_stack.h"

static void remove_runtime_dir(const char *name)
{
	const char *base = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *e;
	DIR *d;

	if (base == NULL)
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/dpdk/%s%d", base, name, (int)getpid());
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Load INI text @p n bytes long (snprintf's result into @p ini) and create
 * the stack from it; the reason in @p err on failure. */
static int create_from_ini(struct mlw_stack **st, const char *ini, int n, size_t cap, char *err,
			   size_t errlen)
{
	struct mlw_config cfg;
	struct mlw_config_error e;
	char why[512];
	int rc;

	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, errlen, "INI text longer than %zu bytes", cap - 1);
		return -EINVAL;
	}
	rc = mlw_config_load_string(&cfg, ini, &e);
	if (rc != 0) {
		mlw_config_format_error(&e, "ini", err, errlen);
		return rc;
	}
	rc = mlw_stack_create(st, &cfg, why, sizeof(why));
	if (rc != 0)
		snprintf(err, errlen, "stack: %s", why);
	return rc;
}

int test_stack_create_eal(struct mlw_stack **st, const char *name, const char *eal_args,
			  const char *sections, char *err, size_t errlen)
{
#if MLW_TEST_NO_DPDK
	(void)st;
	(void)name;
	(void)sections;
	snprintf(err, errlen, "built without DPDK: no EAL for \"%s\"", eal_args);
	return -ENOTSUP;
#else
	char ini[4096];
	int n = snprintf(ini, sizeof(ini), "[eal]\nargs = --no-huge --no-pci --file-prefix=%s%d %s\n%s",
			 name, (int)getpid(), eal_args, sections);
	int rc = create_from_ini(st, ini, n, sizeof(ini), err, errlen);

	if (rc != 0)
		remove_runtime_dir(name);
	return rc;
#endif
}

#if MLW_TEST_NO_DPDK
/* Without DPDK: no [eal], and [port0] is a loopback port (engine = loop,
 * what net_ring0 is with DPDK). */
int test_stack_create(struct mlw_stack **st, const char *name, const char *sections, char *err,
		      size_t errlen)
{
	const char *port0 = strstr(sections, "[port0]\n");
	char ini[4096];
	int n;

	(void)name;
	if (port0 == NULL) {
		snprintf(err, errlen, "no [port0] section in the test's INI text");
		return -EINVAL;
	}
	port0 += strlen("[port0]\n");
	n = snprintf(ini, sizeof(ini), "%.*sengine = loop\n%s", (int)(port0 - sections), sections, port0);
	return create_from_ini(st, ini, n, sizeof(ini), err, errlen);
}
#else
int test_stack_create(struct mlw_stack **st, const char *name, const char *sections, char *err,
		      size_t errlen)
{
	return test_stack_create_eal(st, name, "-m 256 --vdev=net_ring0", sections, err, errlen);
}
#endif

void test_stack_destroy(struct mlw_stack *st, const char *name)
{
	mlw_stack_destroy(st);
	remove_runtime_dir(name);
}

static struct mlw_stack *current;
static void (*current_body)(void);

static int run_body(unsigned shard, void *arg)
{
	(void)shard;
	(void)arg;
	current_body();
	mlw_stack_stop(current);
	return 0;
}

int test_stack_run(const char *name, const char *sections, void (*body)(void), unsigned *bad_heaps)
{
	char reason[600];
	int rc = test_stack_create(&current, name, sections, reason, sizeof(reason));

	if (rc != 0) {
		printf("SKIP: the stack did not start: %s\n", reason);
		return 77;
	}
	current_body = body;
	rc = mlw_stack_run(current, run_body, NULL, NULL);
	*bad_heaps = mlw_stack_check_heaps(current, stderr);
	mlw_stack_print_stats(current, stdout);
	test_stack_destroy(current, name);
	current = NULL;
	if (rc != 0) {
		fprintf(stderr, "%s: the stack ended with %d\n", name, rc);
		return 1;
	}
	return 0;
}

struct mlw_stack *test_stack_current(void)
{
	return current;
}

int64_t test_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t test_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

void test_pump(void)
{
	mlw_socket_flush();
	mlw_shard_poll();
}

void test_pump_ms(int ms)
{
	int64_t end = test_now_ms() + ms;

	while (test_now_ms() < end)
		test_pump();
}

struct netif *test_dpdk_netif(void)
{
	struct netif *nif;

	/* "dp": dpdk-netif's; "lp": the loopback port of a build without DPDK. */
	NETIF_FOREACH(nif) {
		if ((nif->name[0] == 'd' || nif->name[0] == 'l') && nif->name[1] == 'p')
			return nif;
	}
	return NULL;
}

int test_tcp_pairs(int lfd, const struct sockaddr_in *to, int *cfd, int *afd, int from, int upto,
		   int wait_ms, const char **why)
{
	for (int i = from; i < upto; i++) {
		int64_t end = test_now_ms() + wait_ms;

		cfd[i] = mlw_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (cfd[i] < 0) {
			*why = "socket";
			return i;
		}
		if (mlw_connect(cfd[i], (const struct sockaddr *)to, sizeof(*to)) == 0 ||
		    errno != EINPROGRESS) {
			*why = "connect";
			mlw_close(cfd[i]);
			return i;
		}
		while ((afd[i] = mlw_accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0) {
			if (errno != EAGAIN || test_now_ms() >= end) {
				*why = "accept";
				mlw_close(cfd[i]);
				return i;
			}
			test_pump();
		}
	}
	return upto;
}
