/* start.c - the layer's life: configuration at load, the stack started by the first network call, fork, signals, exit.
 *
 * load        -> MLWIP_CONFIG read and checked (exit 1 with a message if missing or bad)
 * socket(AF_INET/AF_INET6) on thread T (first time)
 *             -> mlw_stack_create + mlw_stack_attach: T becomes shard 0 and DPDK's main lcore
 *                ([stack] shards > 1: mlw_stack_attach_threads, and the next threads
 *                to open such a socket become shards 1, 2, ... (mlw_stack_attach_shard))
 * thread exit -> a shard thread closes its mlwip descriptors and detaches its shard
 * fork child  -> every inherited mlwip descriptor gives EBADF; new AF_INET sockets fail
 * exit        -> stop; the exiting thread's shard detaches; once every shard has,
 *                the counters (MLWIP_STATS=1) and mlw_stack_destroy
 *
 * Signals: the layer's waits (epoll_wait, poll, select on mlwip sockets) poll
 * rather than sleep in the kernel, so a signal may arrive outside any system
 * call. Handlers the program installs run behind a trampoline that counts
 * deliveries; a wait that sees the count move returns EINTR, as Linux's would.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlwip/config.h"
#include "mlwip/socket.h"
#include "mlwip/stack.h"
#include "preload_private.h"

_Thread_local int mlw__pl_inside;
atomic_uint mlw__pl_signals;

static struct mlw_config g_cfg;
/* A copy: programs move their environment (nginx's setproctitle). */
static char g_cfg_path[4096];
static struct mlw_stack *g_st;
static atomic_int g_state;	/* 0 not started, 1 running, 2 stopped */
static bool g_forked;
static bool g_print_stats;	/* MLWIP_STATS=1: read at load (nginx clears its environment) */
static pthread_mutex_t g_start_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_next_shard = 1;	/* under g_start_lock */
static atomic_uint g_attached, g_detached;
static pthread_key_t g_key;		/* set on shard threads: detach at thread exit */

static void shard_leave(void);

static void thread_exit(void *arg)
{
	(void)arg;
	if (atomic_load(&g_state) == 1 && !g_forked && mlw_shard_id() >= 0)
		shard_leave();
}

static void attached(void)
{
	atomic_fetch_add(&g_attached, 1);
	pthread_setspecific(g_key, (void *)1);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("libmlwip-preload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void mlw__pl_log_once(const char *key, const char *fmt, ...)
{
	/* A handful of distinct keys: a small table, first come first kept. */
	static const char *seen[64];
	static atomic_uint nseen;
	unsigned n = atomic_load(&nseen);
	va_list ap;

	for (unsigned i = 0; i < n && i < 64; i++)
		if (seen[i] != NULL && strcmp(seen[i], key) == 0)
			return;
	n = atomic_fetch_add(&nseen, 1);
	if (n < 64)
		seen[n] = key;
	fputs("libmlwip-preload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_fork_child(void)
{
	g_forked = true;
	mlw__pl_forked();
}

__attribute__((constructor(102))) static void start_init(void)
{
	const char *stats = getenv("MLWIP_STATS"), *path = getenv("MLWIP_CONFIG");
	struct mlw_config_error e;
	char msg[512];

	g_print_stats = stats != NULL && stats[0] == '1';
	if (path == NULL || path[0] == '\0')
		die("MLWIP_CONFIG is not set: name the mlwip INI file this program's TCP/UDP sockets "
		    "run on (every key: contrib/config/example.ini)");
	if (strlen(path) >= sizeof(g_cfg_path))
		die("MLWIP_CONFIG is longer than %zu bytes", sizeof(g_cfg_path) - 1);
	strcpy(g_cfg_path, path);
	if (mlw_config_load_file(&g_cfg, g_cfg_path, &e) != 0) {
		mlw_config_format_error(&e, g_cfg_path, msg, sizeof(msg));
		die("bad configuration: %s", msg);
	}
	pthread_atfork(NULL, NULL, on_fork_child);
	pthread_key_create(&g_key, thread_exit);
}

static int start_stack(void)
{
	char err[512];
	int rc;

	pthread_mutex_lock(&g_start_lock);
	if (atomic_load(&g_state) != 0) {
		pthread_mutex_unlock(&g_start_lock);
		return 0;
	}
	/* DPDK's EAL and drivers open kernel sockets (AF_UNIX, AF_PACKET,
	 * AF_INET for interface ioctls): those stay the kernel's. */
	mlw__pl_inside++;
	rc = mlw_stack_create(&g_st, &g_cfg, err, sizeof(err));
	if (rc != 0)
		die("cannot start the stack from %s: %s", g_cfg_path, err);
	if (g_cfg.shards > 1)
		rc = mlw_stack_attach_threads(g_st);
	else
		rc = mlw_stack_attach(g_st, NULL, NULL, NULL);
	if (rc != 0)
		die("cannot attach this thread as shard 0: %s", strerror(-rc));
	mlw__pl_inside--;
	attached();
	atomic_store(&g_state, 1);
	pthread_mutex_unlock(&g_start_lock);
	return 0;
}

int mlw__pl_ensure_stack(void)
{
	if (g_forked) {
		mlw__pl_log_once("fork-socket", "a child of fork() cannot open mlwip sockets (the "
				 "stack runs in the parent): EAFNOSUPPORT");
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (atomic_load_explicit(&g_state, memory_order_acquire) == 0)
		start_stack();
	if (atomic_load(&g_state) != 1) {
		errno = ENETDOWN;	/* after exit began */
		return -1;
	}
	if (mlw_shard_id() >= 0)
		return 0;
	/* Several shards: the next thread that opens a network socket
	 * takes the next shard. */
	if (g_cfg.shards > 1) {
		int rc = -ENOSPC;

		pthread_mutex_lock(&g_start_lock);
		if (g_next_shard < g_cfg.shards) {
			mlw__pl_inside++;
			rc = mlw_stack_attach_shard(g_st, g_next_shard);
			mlw__pl_inside--;
			if (rc == 0) {
				g_next_shard++;
				attached();
			}
		}
		pthread_mutex_unlock(&g_start_lock);
		if (rc == 0)
			return 0;
		if (rc != -EPERM)	/* -EPERM: a DPDK thread */
			mlw__pl_log_once("attach", "no shard for another thread (%s): its sockets "
					 "are the kernel's", rc == -ENOSPC ? "every shard has its thread" :
					 strerror(-rc));
	}
	errno = EPERM;
	return -1;
}

bool mlw__pl_started(void)
{
	return atomic_load_explicit(&g_state, memory_order_relaxed) == 1 && !g_forked;
}

bool mlw__pl_on_shard(void)
{
	return mlw__pl_started() && mlw_shard_id() >= 0;
}

long mlw__pl_idle_ns(unsigned *idle)
{
	++*idle;
	switch (g_cfg.idle) {
	case MLW_IDLE_POLL:
		return 0;
	case MLW_IDLE_SLEEP:
		return (long)g_cfg.idle_sleep_us * 1000;
	default:
		return *idle < 1024 ? 0 : (long)g_cfg.idle_sleep_us * 1000;
	}
}

/* On a shard thread: close its descriptors, detach its shard. With one
 * shard the stack stops with it. */
static void shard_leave(void)
{
	mlw_socket_close_all();
	/* What the closes sent to this host's own addresses waits in lwIP's
	 * loopback queue for the next pass: let the FIN exchanges run, so
	 * nothing is left in flight (and in the heap) at the teardown. */
	for (int i = 0; i < 32; i++) {
		mlw_socket_flush();
		mlw_shard_poll();
	}
	if (g_cfg.shards == 1) {
		atomic_store(&g_state, 2);
		mlw_stack_detach(g_st);
	} else {
		mlw_stack_detach_shard(g_st);
	}
	pthread_setspecific(g_key, NULL);
	atomic_fetch_add(&g_detached, 1);
}

__attribute__((destructor)) static void stop_stack(void)
{
	unsigned left;

	if (g_forked || g_st == NULL)
		return;
	mlw_stack_stop(g_st);
	if (atomic_load(&g_state) == 1 && mlw_shard_id() >= 0)
		shard_leave();
	atomic_store(&g_state, 2);
	/* Whatever closes descriptors after this goes to the kernel alone. */
	mlw__pl_size = 0;
	left = atomic_load(&g_attached) - atomic_load(&g_detached);
	if (g_print_stats) {
		mlw_stack_print_stats(g_st, stderr);
		if (left == 0)
			fprintf(stderr, "libmlwip-preload: stopped (%s)\n",
				mlw_stack_check_heaps(g_st, stderr) == 0 ? "clean" : "not clean");
		else
			fprintf(stderr, "libmlwip-preload: stopped, %u shard thread(s) still running at "
				"exit\n", left);
	}
	/* A shard whose thread still runs keeps its memory until the end. */
	if (left == 0) {
		mlw_stack_destroy(g_st);
		g_st = NULL;
	}
}

/* Signals: see the file header. */
static struct sigaction app_act[NSIG];

static void trampoline(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *a = &app_act[sig];

	atomic_fetch_add_explicit(&mlw__pl_signals, 1, memory_order_relaxed);
	if (a->sa_flags & SA_SIGINFO)
		a->sa_sigaction(sig, si, uc);
	else if (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN)
		a->sa_handler(sig);
}

MLW_PL_API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction k, prev;
	bool wrap = act != NULL && sig > 0 && sig < NSIG && act->sa_handler != SIG_DFL &&
		    act->sa_handler != SIG_IGN;
	int rc;

	(void)mlw__pl_get(-1);
	if (sig > 0 && sig < NSIG)
		prev = app_act[sig];
	if (wrap) {
		k = *act;
		k.sa_flags |= SA_SIGINFO;
		k.sa_sigaction = trampoline;
		app_act[sig] = *act;
		rc = mlw__real.sigaction(sig, &k, old);
	} else {
		rc = mlw__real.sigaction(sig, act, old);
	}
	if (rc != 0 && wrap)
		app_act[sig] = prev;
	if (rc == 0 && old != NULL && (old->sa_flags & SA_SIGINFO) && old->sa_sigaction == trampoline)
		*old = prev;
	return rc;
}

MLW_PL_API sighandler_t signal(int sig, sighandler_t h)
{
	struct sigaction a, old;

	memset(&a, 0, sizeof(a));
	a.sa_handler = h;
	a.sa_flags = SA_RESTART;
	sigemptyset(&a.sa_mask);
	if (sig > 0 && sig < NSIG)
		sigaddset(&a.sa_mask, sig);
	if (sigaction(sig, &a, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}
