/* config_capture.c - the [capture] section of the INI file, and the same keys as parameters of the telemetry command /mlwip/capture/start (capture/capture_telemetry.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlwip/capture.h"
#include "mlwip/config.h"
#include "config_capture_private.h"

void mlw__config_capture_defaults(struct mlw_capture_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ports = UINT64_MAX;
	c->shards = UINT64_MAX;
	c->snaplen = MLW_CAPTURE_SNAPLEN_DEFAULT;
}

static int number(const char *value, unsigned long long min, unsigned long long max, uint32_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || n < min || n > max)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

/* "all", or numbers below @p limit separated by ',' or blanks. */
static int index_list(const char *value, unsigned limit, uint64_t *mask, char *why, size_t whylen,
		      const char *what)
{
	const char *s = value;
	uint64_t m = 0;

	if (strcmp(value, "all") == 0) {
		*mask = UINT64_MAX;
		return 0;
	}
	while (*s != '\0') {
		char *end;
		unsigned long n;

		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		errno = 0;
		n = *s >= '0' && *s <= '9' ? strtoul(s, &end, 10) : 0;
		if (*s < '0' || *s > '9' || errno != 0 || (*end != '\0' && *end != ',' && *end != ' ' &&
							   *end != '\t') || n >= limit) {
			snprintf(why, whylen, "\"%.32s\" is not \"all\" or a list of %s numbers 0..%u", value,
				 what, limit - 1);
			return -EINVAL;
		}
		m |= 1ull << n;
		s = end;
	}
	if (m == 0) {
		snprintf(why, whylen, "names no %s (\"all\" or a list such as 0,1)", what);
		return -EINVAL;
	}
	*mask = m;
	return 0;
}

int mlw__config_capture_set(struct mlw_capture_config *c, const char *key, const char *value, char *why,
			    size_t whylen)
{
	if (strcmp(key, "file") == 0) {
		if (value[0] == '\0' || strlen(value) >= MLW_CAPTURE_FILE_MAX) {
			snprintf(why, whylen, "a file name of 1..%u bytes is needed", MLW_CAPTURE_FILE_MAX - 1);
			return -EINVAL;
		}
		memcpy(c->file, value, strlen(value) + 1);
		return 0;
	}
	if (strcmp(key, "ports") == 0 || strcmp(key, "port") == 0)
		return index_list(value, MLW_MAX_PORTS, &c->ports, why, whylen, "port");
	if (strcmp(key, "shards") == 0 || strcmp(key, "shard") == 0)
		return index_list(value, MLW_MAX_SHARDS, &c->shards, why, whylen, "shard");
	if (strcmp(key, "snaplen") == 0) {
		if (number(value, MLW_CAPTURE_SNAPLEN_MIN, MLW_CAPTURE_SNAPLEN_MAX, &c->snaplen) == 0)
			return 0;
		snprintf(why, whylen, "\"%.32s\" is not a number in %u..%u", value, MLW_CAPTURE_SNAPLEN_MIN,
			 MLW_CAPTURE_SNAPLEN_MAX);
		return -EINVAL;
	}
	if (strcmp(key, "limit_mb") == 0) {
		if (number(value, 0, MLW_CAPTURE_LIMIT_MB_MAX, &c->limit_mb) == 0)
			return 0;
		snprintf(why, whylen, "\"%.32s\" is not a number in 0..%u (MiB; 0: no limit)", value,
			 MLW_CAPTURE_LIMIT_MB_MAX);
		return -EINVAL;
	}
	if (strcmp(key, "rotate") == 0) {
		if (number(value, 0, MLW_CAPTURE_ROTATE_MAX, &c->rotate) == 0)
			return 0;
		snprintf(why, whylen, "\"%.32s\" is not a number in 0..%u (older files kept; 0: stop at "
			 "the limit)", value, MLW_CAPTURE_ROTATE_MAX);
		return -EINVAL;
	}
	if (strcmp(key, "start") == 0) {
		if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
			c->start = value[1] == 'n';
			return 0;
		}
		snprintf(why, whylen, "\"%.32s\" is not on or off", value);
		return -EINVAL;
	}
	snprintf(why, whylen, "unknown key in [capture] (known: file, ports, shards, snaplen, limit_mb, "
		 "rotate, start)");
	return -EINVAL;
}

int mlw__config_capture_check(const struct mlw_capture_config *c, unsigned nshards, unsigned nports,
			      bool need_file, const char **key, char *why, size_t whylen)
{
	uint64_t pmask = nports >= 64 ? UINT64_MAX : (1ull << nports) - 1;
	uint64_t smask = nshards >= 64 ? UINT64_MAX : (1ull << nshards) - 1;

	if (memchr(c->file, '\0', sizeof(c->file)) == NULL) {
		*key = "file";
		snprintf(why, whylen, "the file name is not terminated");
		return -EINVAL;
	}
	if ((need_file || c->start) && c->file[0] == '\0') {
		*key = "file";
		snprintf(why, whylen, "no file to capture to (file = PATH)");
		return -EINVAL;
	}
	if (c->ports != UINT64_MAX && (c->ports & ~pmask) != 0) {
		*key = "ports";
		snprintf(why, whylen, "names port %d, but there %s %u port%s", __builtin_ctzll(c->ports & ~pmask),
			 nports == 1 ? "is" : "are", nports, nports == 1 ? "" : "s");
		return -EINVAL;
	}
	if (c->shards != UINT64_MAX && (c->shards & ~smask) != 0) {
		*key = "shards";
		snprintf(why, whylen, "names shard %d, but there %s %u shard%s",
			 __builtin_ctzll(c->shards & ~smask), nshards == 1 ? "is" : "are", nshards,
			 nshards == 1 ? "" : "s");
		return -EINVAL;
	}
	if ((c->ports & pmask) == 0 || (c->shards & smask) == 0) {
		*key = (c->ports & pmask) == 0 ? "ports" : "shards";
		snprintf(why, whylen, "captures nothing");
		return -EINVAL;
	}
	if (c->snaplen < MLW_CAPTURE_SNAPLEN_MIN || c->snaplen > MLW_CAPTURE_SNAPLEN_MAX) {
		*key = "snaplen";
		snprintf(why, whylen, "%u is out of range (%u..%u)", c->snaplen, MLW_CAPTURE_SNAPLEN_MIN,
			 MLW_CAPTURE_SNAPLEN_MAX);
		return -EINVAL;
	}
	if (c->limit_mb > MLW_CAPTURE_LIMIT_MB_MAX) {
		*key = "limit_mb";
		snprintf(why, whylen, "%u is out of range (0..%u)", c->limit_mb, MLW_CAPTURE_LIMIT_MB_MAX);
		return -EINVAL;
	}
	if (c->rotate > MLW_CAPTURE_ROTATE_MAX) {
		*key = "rotate";
		snprintf(why, whylen, "%u is out of range (0..%u)", c->rotate, MLW_CAPTURE_ROTATE_MAX);
		return -EINVAL;
	}
	if (c->rotate > 0 && c->limit_mb == 0) {
		*key = "rotate";
		snprintf(why, whylen, "rotates at limit_mb, which is not set");
		return -EINVAL;
	}
	return 0;
}
