/* test_semantics.c - the differential semantics suite: every body of sem_tests.c runs on Linux's loopback and on mlwip's, and the traces must match.
 *
 * main -> run_backend(linux) in this thread -> mlw_stack_run(one shard on
 * net_ring0) -> shard_init runs every body on mlwip (127.0.0.1 / ::1 of the
 * shard's loopif) and stops the stack -> CMocka compares the two traces of
 * each test, line by line; only the (test, step) pairs of
 * intended_differences may differ, each with its reason.
 *
 * Under emulation (qemu-user, scripts/cross.sh) the Linux side would go
 * through qemu's syscall translation, which is not Linux (e.g. accept4()
 * with an invalid flag blocks instead of failing with EINVAL). So the
 * Linux traces can be recorded by a native build of this program
 * (SEM_RECORD_LINUX=FILE: run the Linux side only, write its traces) and
 * read by the emulated one (SEM_LINUX_FROM=FILE: compare mlwip with them).
 * SEM_PROGRESS=1 names each test on stderr as it starts (to find a hang).
 *
 * What the bodies never record, because it differs by design rather than
 * by semantics: descriptor numbers and port numbers (recorded as "fd",
 * "same"/"other"/"nonzero"), and byte counts that depend on buffer sizes
 * (Linux autotunes its socket buffers, lwIP's window and send buffer are
 * compile-time sizes): t_full_sndbuf records only the EAGAIN/EPOLLOUT
 * sequence, not how much fitted.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "sem.h"
#include "test_stack.h"

#define TRACE_MAX 8192
#define BACKENDS 2	/* 0: Linux, 1: mlwip */

/*
 * The intended differences: the step may give another value on mlwip, for
 * the reason given. Everything else must be identical.
 */
static const struct {
	const char *test;	/* "*" matches every test */
	const char *step;
	const char *reason;
} intended_differences[] = {
	/* Linux runs a loopback handshake inside connect(): the SYN,
	 * SYN-ACK and ACK are processed before the call returns, so the
	 * next connect() already finds the socket established. mlwip's
	 * loopif delivers at the next loop pass, so the handshake is still
	 * running (EALREADY) and the success is reported one call later.
	 * Both follow the same state machine (t_backlog shows EALREADY on
	 * both when the handshake really is pending). */
	{ "connect_states", "connect.immediate",
	  "Linux completes a loopback handshake inside connect(); mlwip's loopif delivers at the next loop pass" },
	{ "connect_states", "connect.settled",
	  "follows from connect.immediate: the first connect() after the handshake reports 0, later ones EISCONN" },
};

struct trace {
	char buf[TRACE_MAX];
	size_t len;
	bool overflow;
	char skip[200];	/* non-empty: the backend could not run the test */
};

static struct trace traces[BACKENDS][64];
static struct trace *cur;
static bool mlwip_ran;
static char mlwip_skip_reason[600];

void sem_trace_begin(int backend, size_t test)
{
	cur = &traces[backend][test];
	cur->len = 0;
	cur->buf[0] = '\0';
	cur->skip[0] = '\0';
}

void sem_skip(const char *why)
{
	if (cur != NULL)
		snprintf(cur->skip, sizeof(cur->skip), "%s", why);
}

void sem_trace_add(const char *label, const char *value)
{
	int n;

	if (cur == NULL)
		return;
	n = snprintf(cur->buf + cur->len, TRACE_MAX - cur->len, "%s: %s\n", label, value);
	if (n < 0 || (size_t)n >= TRACE_MAX - cur->len) {
		cur->overflow = true;
		return;
	}
	cur->len += (size_t)n;
}

static void run_backend(int backend, const struct sem_ops *o)
{
	for (size_t i = 0; i < sem_ntests; i++) {
		if (getenv("SEM_PROGRESS") != NULL)
			fprintf(stderr, "semantics: %s %s\n", backend ? "mlwip" : "linux", sem_tests[i].name);
		sem_trace_begin(backend, i);
		sem_tests[i].fn(o, sem_tests[i].family);
	}
	cur = NULL;
}

/* ---- the mlwip run: one shard, bodies in its init function ---- */

static struct mlw_stack *g_stack;

static int shard_init(unsigned shard, void *arg)
{
	(void)shard;
	(void)arg;
	run_backend(1, &sem_mlwip_ops);
	/* Let closing connections finish (FIN/ACK, RST) before the stop. */
	sem_mlwip_ops.settle();
	mlwip_ran = true;
	mlw_stack_stop(g_stack);
	return 0;
}

static void shard_fini(unsigned shard, void *arg)
{
	int n;

	(void)shard;
	(void)arg;
	n = mlw_socket_close_all();
	if (n != 0)
		fprintf(stderr, "semantics: %d mlwip descriptors were left open\n", n);
}

static int run_mlwip(void)
{
	int rc;

	rc = test_stack_create(&g_stack, "mlwsem", "[stack]\nshards = 1\n[port0]\nipv4 = 10.0.0.2/24\n",
			       mlwip_skip_reason, sizeof(mlwip_skip_reason));
	if (rc != 0)
		return rc;
	rc = mlw_stack_run(g_stack, shard_init, shard_fini, NULL);
	if (rc == 0 && mlw_stack_check_heaps(g_stack, stderr) != 0)
		rc = -EBUSY;
	test_stack_destroy(g_stack, "mlwsem");
	return rc;
}

/* ---- Linux traces recorded elsewhere (a native build) ---- */

/* "@@ name" starts a test, "!! reason" says the backend skipped it, the
 * other lines are its trace. */
static int write_linux_traces(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "semantics: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sem_ntests; i++) {
		const struct trace *t = &traces[0][i];

		if (t->overflow) {
			fprintf(stderr, "semantics: the Linux trace of %s overflowed\n", sem_tests[i].name);
			fclose(f);
			return 1;
		}
		fprintf(f, "@@ %s\n", sem_tests[i].name);
		if (t->skip[0] != '\0')
			fprintf(f, "!! %s\n", t->skip);
		fputs(t->buf, f);
	}
	return fclose(f) == 0 ? 0 : 1;
}

static int read_linux_traces(const char *path)
{
	char line[TRACE_MAX];
	struct trace *t = NULL;
	bool seen[64] = { false };
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, "semantics: cannot read the Linux traces %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);

		if (strncmp(line, "@@ ", 3) == 0) {
			line[len - 1] = '\0';
			t = NULL;
			for (size_t i = 0; i < sem_ntests; i++)
				if (strcmp(sem_tests[i].name, line + 3) == 0) {
					t = &traces[0][i];
					t->len = 0;
					t->buf[0] = t->skip[0] = '\0';
					seen[i] = true;
				}
			if (t == NULL) {
				fprintf(stderr, "semantics: %s has a test this build lacks: %s\n", path, line + 3);
				fclose(f);
				return 1;
			}
		} else if (t != NULL && strncmp(line, "!! ", 3) == 0) {
			line[len - 1] = '\0';
			snprintf(t->skip, sizeof(t->skip), "%.*s", (int)sizeof(t->skip) - 1, line + 3);
		} else if (t != NULL && t->len + len < TRACE_MAX) {
			memcpy(t->buf + t->len, line, len + 1);
			t->len += len;
		}
	}
	fclose(f);
	for (size_t i = 0; i < sem_ntests; i++)
		if (!seen[i]) {
			fprintf(stderr, "semantics: %s has no Linux trace of %s\n", path, sem_tests[i].name);
			return 1;
		}
	return 0;
}

/* ---- comparison ---- */

static const char *intended(const char *test, const char *step)
{
	for (size_t i = 0; i < sizeof(intended_differences) / sizeof(intended_differences[0]); i++)
		if ((strcmp(intended_differences[i].test, "*") == 0 ||
		     strcmp(intended_differences[i].test, test) == 0) &&
		    strcmp(intended_differences[i].step, step) == 0)
			return intended_differences[i].reason;
	return NULL;
}

static unsigned total_checks, total_intended;

/* Compare line by line; labels must match, values too unless intended. */
static void compare(void **state)
{
	size_t t = (size_t)(uintptr_t)*state;
	const char *name = sem_tests[t].name;
	char *a = strdup(traces[0][t].buf), *b = strdup(traces[1][t].buf);
	char *sa, *sb, *la, *lb;
	unsigned line = 0, bad = 0;

	for (int bk = 0; bk < BACKENDS; bk++) {
		if (traces[bk][t].skip[0] != '\0') {
			free(a);
			free(b);
			print_message("[ SKIPPED ] %s on %s: %s\n", name, bk ? "mlwip" : "linux",
				      traces[bk][t].skip);
			skip();
		}
	}
	assert_false(traces[0][t].overflow || traces[1][t].overflow);
	la = strtok_r(a, "\n", &sa);
	lb = strtok_r(b, "\n", &sb);
	while (la != NULL || lb != NULL) {
		const char *ca = la != NULL ? strchr(la, ':') : NULL;
		const char *cb = lb != NULL ? strchr(lb, ':') : NULL;

		line++;
		if (la == NULL || lb == NULL || ca == NULL || cb == NULL || ca - la != cb - lb ||
		    strncmp(la, lb, (size_t)(ca - la)) != 0) {
			print_error("%s line %u: steps differ: linux '%s' mlwip '%s'\n", name, line,
				    la ? la : "(end)", lb ? lb : "(end)");
			bad++;
			break;
		}
		total_checks++;
		if (strcmp(ca, cb) != 0) {
			char step[128];
			const char *why;

			snprintf(step, sizeof(step), "%.*s", (int)(ca - la), la);
			why = intended(name, step);
			if (why != NULL) {
				total_intended++;
				print_message("[ INTENDED ] %s %s: linux%s mlwip%s (%s)\n", name, step, ca + 1, cb + 1, why);
			} else {
				print_error("%s %s: linux%s mlwip%s\n", name, step, ca + 1, cb + 1);
				bad++;
			}
		}
		la = strtok_r(NULL, "\n", &sa);
		lb = strtok_r(NULL, "\n", &sb);
	}
	free(a);
	free(b);
	if (bad != 0 || getenv("SEM_VERBOSE") != NULL)
		print_message("--- %s linux ---\n%s--- %s mlwip ---\n%s", name, traces[0][t].buf, name,
			      traces[1][t].buf);
	assert_int_equal(bad, 0);
}

int main(void)
{
	struct CMUnitTest tests[64];
	int rc, failed;

	if (sem_ntests > 64)
		return 1;
	/* Writing to a reset connection raises SIGPIPE on Linux; mlwip has
	 * none. The suite compares the EPIPE both return. */
	signal(SIGPIPE, SIG_IGN);
	if (getenv("SEM_RECORD_LINUX") != NULL) {
		run_backend(0, &sem_linux_ops);
		return write_linux_traces(getenv("SEM_RECORD_LINUX"));
	}
	if (getenv("SEM_LINUX_FROM") != NULL) {
		if (read_linux_traces(getenv("SEM_LINUX_FROM")) != 0)
			return 1;
		printf("semantics: Linux traces from %s\n", getenv("SEM_LINUX_FROM"));
	} else {
		run_backend(0, &sem_linux_ops);
	}
	rc = run_mlwip();
	if (!mlwip_ran) {
		printf("SKIP: the mlwip stack did not start (%s, rc %d)\n",
		       mlwip_skip_reason[0] ? mlwip_skip_reason : "no reason given", rc);
		return 77;
	}
	for (size_t i = 0; i < sem_ntests; i++) {
		tests[i] = (struct CMUnitTest){ .name = sem_tests[i].name, .test_func = compare,
						.initial_state = (void *)(uintptr_t)i };
	}
	failed = _cmocka_run_group_tests("semantics", tests, sem_ntests, NULL, NULL);
	printf("semantics: %zu tests, %u steps compared, %u intended differences\n", sem_ntests,
	       total_checks, total_intended);
	if (rc != 0) {
		fprintf(stderr, "semantics: the mlwip run ended with %d (heap not empty?)\n", rc);
		return 1;
	}
	return failed != 0;
}
