/* config_limits.c - the [limits] section of the INI file: per-shard bounds on lwIP's queues (mlwip/limits.h, applied by lwip-port/limits.c). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlwip/limits.h"
#include "config_limits_private.h"

struct limit_key {
	char name[16];
	size_t off;
	uint32_t min, max;
};

static const struct limit_key keys[] = {
	{ "nd6_queue", offsetof(struct mlw_limits, nd6_queue), 1, MLW_LIMITS_ND6_QUEUE_MAX },
	{ "arp_queue", offsetof(struct mlw_limits, arp_queue), 1, MLW_LIMITS_QUEUE_MAX },
	{ "reass_datagrams", offsetof(struct mlw_limits, reass_datagrams), 1, MLW_LIMITS_REASS_MAX },
	{ "reass_pbufs", offsetof(struct mlw_limits, reass_pbufs), 2, MLW_LIMITS_REASS_PBUFS_MAX },
	{ "ooseq_pbufs", offsetof(struct mlw_limits, ooseq_pbufs), 1, MLW_LIMITS_QUEUE_MAX },
	{ "ooseq_bytes", offsetof(struct mlw_limits, ooseq_bytes), 0, MLW_LIMITS_OOSEQ_BYTES_MAX },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static uint32_t *field(struct mlw_limits *l, const struct limit_key *k)
{
	return (uint32_t *)((char *)l + k->off);
}

int mlw__config_limits_set(struct mlw_limits *l, const char *key, const char *value, char *why,
			   size_t whylen)
{
	for (size_t i = 0; i < NKEYS; i++) {
		char *end;
		unsigned long long n;

		if (strcmp(key, keys[i].name) != 0)
			continue;
		errno = 0;
		n = strtoull(value, &end, 10);
		if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 ||
		    n < keys[i].min || n > keys[i].max) {
			snprintf(why, whylen, "\"%.32s\" is not a number in %u..%u", value,
				 (unsigned int)keys[i].min, (unsigned int)keys[i].max);
			return -EINVAL;
		}
		*field(l, &keys[i]) = (uint32_t)n;
		return 0;
	}
	snprintf(why, whylen, "unknown key in [limits] (known: nd6_queue, arp_queue, reass_datagrams, "
		 "reass_pbufs, ooseq_pbufs, ooseq_bytes)");
	return -EINVAL;
}

int mlw__config_limits_check(const struct mlw_limits *l, const char **key, char *why, size_t whylen)
{
	for (size_t i = 0; i < NKEYS; i++) {
		uint32_t v = *field((struct mlw_limits *)l, &keys[i]);

		if (v < keys[i].min || v > keys[i].max) {
			*key = keys[i].name;
			snprintf(why, whylen, "%u is out of range (%u..%u)", (unsigned int)v,
				 (unsigned int)keys[i].min, (unsigned int)keys[i].max);
			return -EINVAL;
		}
	}
	return 0;
}
