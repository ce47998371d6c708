/* pl_semantics.c - the differential suite's bodies (tests/semantics/sem_tests.c) on the plain POSIX calls, traces printed: run natively (Linux) and under libmlwip-preload.so (mlwip), then compared (pl_compare.py).
 *
 * The bodies use sem_linux_ops, whose members are libc's own socket, epoll,
 * fcntl and ioctl calls: run under LD_PRELOAD they are the layer's. Output:
 * "== name" per test, then its "step: value" lines, or "SKIP reason".
 *
 * One change to sem_linux_ops: settle() waits in epoll_wait on an empty set
 * instead of usleep(). On Linux that is the same 5 ms pause; under the
 * layer it runs the shard's loop meanwhile, which a sleep does not (a
 * program that sleeps on shard 0's thread holds its stack still).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sem.h"

static char trace[16384];
static size_t trace_len;
static char skipped[256];

void sem_trace_begin(int backend, size_t test)
{
	(void)backend;
	(void)test;
	trace_len = 0;
	trace[0] = '\0';
	skipped[0] = '\0';
}

void sem_skip(const char *why)
{
	snprintf(skipped, sizeof(skipped), "%s", why);
}

void sem_trace_add(const char *label, const char *value)
{
	int n = snprintf(trace + trace_len, sizeof(trace) - trace_len, "%s: %s\n", label, value);

	if (n > 0 && (size_t)n < sizeof(trace) - trace_len)
		trace_len += (size_t)n;
}

static int settle_ep = -1;

static void settle(void)
{
	struct epoll_event ev;

	epoll_wait(settle_ep, &ev, 1, 5);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	struct sem_ops ops = sem_linux_ops;

	/* Writes to reset connections: EPIPE is the observation, not the signal. */
	signal(SIGPIPE, SIG_IGN);
	ops.settle = settle;
	settle_ep = epoll_create1(EPOLL_CLOEXEC);
	if (settle_ep < 0) {
		perror("pl_semantics: epoll_create1");
		return 1;
	}

	for (size_t i = 0; i < sem_ntests; i++) {
		if (only != NULL && strcmp(only, sem_tests[i].name) != 0)
			continue;
		sem_trace_begin(0, i);
		sem_tests[i].fn(&ops, sem_tests[i].family);
		printf("== %s\n", sem_tests[i].name);
		if (skipped[0] != '\0')
			printf("SKIP %s\n", skipped);
		else
			fputs(trace, stdout);
		fflush(stdout);
	}
	return 0;
}
