/* capture_telemetry.c - the DPDK telemetry commands /mlwip/capture/start, /stop and /status.
 *
 * telemetry thread: cmd_start -> parse_params (the [capture] keys,
 * config_capture.c) -> mlw__capture_start; cmd_stop -> mlw__capture_stop;
 * cmd_status -> mlw__capture_status; each answers a JSON dict.
 *
 * DPDK 22.11's telemetry callbacks get no context argument, and mlwip
 * keeps no mutable global (tests/shared-nothing): the controller they act
 * on is found through a DPDK memzone (CAP_MZ) holding its address and a
 * mutex, bound by mlw__capture_create() (a process has one EAL, hence one
 * stack). The mutex keeps a callback from using a controller being
 * destroyed; the memzone stays for the life of the process, as do the
 * commands.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_memzone.h>
#include <rte_telemetry.h>

#include "capture_private.h"
#include "../sharding/config_capture_private.h"

#define CAP_MZ "mlw_capture"

struct cap_tel {
	pthread_mutex_t mu;
	struct mlw__capture *c;		/* under mu; NULL: no stack */
};

/* The binding, locked; NULL (nothing locked) before any stack bound it. */
static struct cap_tel *tel_lock(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup(CAP_MZ);
	struct cap_tel *t;

	if (mz == NULL)
		return NULL;
	t = mz->addr;
	pthread_mutex_lock(&t->mu);
	return t;
}

static int answer_error(struct rte_tel_data *d, const char *msg)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

static void answer_status(struct rte_tel_data *d, const struct mlw__capture_status *st, bool with_cfg)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "capturing", st->capturing);
	rte_tel_data_add_dict_string(d, "file", st->file);
	rte_tel_data_add_dict_u64(d, "packets", st->packets);
	rte_tel_data_add_dict_u64(d, "bytes", st->bytes);
	rte_tel_data_add_dict_u64(d, "dropped", st->dropped);
	rte_tel_data_add_dict_u64(d, "file_bytes", st->file_bytes);
	rte_tel_data_add_dict_int(d, "limit_reached", st->limit_reached);
	rte_tel_data_add_dict_int(d, "rotations", (int)st->rotations);
	if (st->error[0] != '\0')
		rte_tel_data_add_dict_string(d, "write_error", st->error);
	if (with_cfg) {
		rte_tel_data_add_dict_u64(d, "ports", st->cfg.ports);
		rte_tel_data_add_dict_u64(d, "shards", st->cfg.shards);
		rte_tel_data_add_dict_int(d, "snaplen", (int)st->cfg.snaplen);
		rte_tel_data_add_dict_int(d, "limit_mb", (int)st->cfg.limit_mb);
		rte_tel_data_add_dict_int(d, "rotate", (int)st->cfg.rotate);
	}
}

/* "key=value" pairs separated by blanks or ';' into @p cfg. */
static int parse_params(const char *params, struct mlw_capture_config *cfg, char *msg, size_t msglen)
{
	char buf[1024], *save = NULL;

	mlw__config_capture_defaults(cfg);
	if (params == NULL || params[0] == '\0') {
		snprintf(msg, msglen, "parameters needed: file=PATH [port=N|all] [shard=N|all] [snaplen=N] "
			 "[limit_mb=N] [rotate=N]");
		return -EINVAL;
	}
	if (strlen(params) >= sizeof(buf)) {
		snprintf(msg, msglen, "parameters longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	memcpy(buf, params, strlen(params) + 1);
	for (char *tok = strtok_r(buf, " \t;", &save); tok != NULL; tok = strtok_r(NULL, " \t;", &save)) {
		char *eq = strchr(tok, '=');
		char why[160];

		if (eq == NULL) {
			snprintf(msg, msglen, "\"%.40s\" is not key=value", tok);
			return -EINVAL;
		}
		*eq = '\0';
		if (strcmp(tok, "start") == 0) {
			snprintf(msg, msglen, "start: not a parameter of this command");
			return -EINVAL;
		}
		if (mlw__config_capture_set(cfg, tok, eq + 1, why, sizeof(why)) != 0) {
			snprintf(msg, msglen, "%.24s: %.100s", tok, why);
			return -EINVAL;
		}
	}
	return 0;
}

static int cmd_start(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw_capture_config cfg;
	struct mlw__capture_status st;
	char msg[RTE_TEL_MAX_STRING_LEN];
	struct cap_tel *t;

	(void)cmd;
	if (parse_params(params, &cfg, msg, sizeof(msg)) != 0)
		return answer_error(d, msg);
	t = tel_lock();
	if (t == NULL || t->c == NULL) {
		if (t != NULL)
			pthread_mutex_unlock(&t->mu);
		return answer_error(d, "no stack running");
	}
	if (mlw__capture_start(t->c, &cfg, msg, sizeof(msg)) != 0) {
		pthread_mutex_unlock(&t->mu);
		return answer_error(d, msg);
	}
	mlw__capture_status(t->c, &st);
	pthread_mutex_unlock(&t->mu);
	answer_status(d, &st, true);
	return 0;
}

static int cmd_stop(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw__capture_status st;
	struct cap_tel *t;
	int rc;

	(void)cmd;
	(void)params;
	t = tel_lock();
	rc = t == NULL || t->c == NULL ? -ENODEV : mlw__capture_stop(t->c, &st);
	if (t != NULL)
		pthread_mutex_unlock(&t->mu);
	if (rc == -ENODEV)
		return answer_error(d, "no stack running");
	if (rc != 0)
		return answer_error(d, "no capture running");
	answer_status(d, &st, false);
	return 0;
}

static int cmd_status(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct mlw__capture_status st;
	struct cap_tel *t;

	(void)cmd;
	(void)params;
	t = tel_lock();
	if (t == NULL || t->c == NULL) {
		if (t != NULL)
			pthread_mutex_unlock(&t->mu);
		return answer_error(d, "no stack running");
	}
	mlw__capture_status(t->c, &st);
	pthread_mutex_unlock(&t->mu);
	answer_status(d, &st, true);
	return 0;
}

int mlw__capture_telemetry_bind(struct mlw__capture *c)
{
	const struct rte_memzone *mz = rte_memzone_lookup(CAP_MZ);
	struct cap_tel *t;

	if (mz == NULL) {
		if (c == NULL)
			return 0;
		mz = rte_memzone_reserve(CAP_MZ, sizeof(*t), SOCKET_ID_ANY, 0);
		if (mz == NULL)
			return -ENOMEM;
		t = mz->addr;
		memset(t, 0, sizeof(*t));
		pthread_mutex_init(&t->mu, NULL);
		/* DPDK keeps commands until the process ends: registered
		 * with the memzone, once. */
		rte_telemetry_register_cmd("/mlwip/capture/start", cmd_start,
					   "Start a pcapng capture. Parameters: file=PATH [port=N|all] "
					   "[shard=N|all] [snaplen=N] [limit_mb=N] [rotate=N]");
		rte_telemetry_register_cmd("/mlwip/capture/stop", cmd_stop,
					   "Stop the capture; returns its counters");
		rte_telemetry_register_cmd("/mlwip/capture/status", cmd_status,
					   "The capture's state and counters");
	}
	t = mz->addr;
	pthread_mutex_lock(&t->mu);
	t->c = c;
	pthread_mutex_unlock(&t->mu);
	return 0;
}
