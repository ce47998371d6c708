/* config_capture_private.h - the [capture] keys (config_capture.c), for config.c and the telemetry command's parameters (capture/). */
#ifndef MLW_CONFIG_CAPTURE_PRIVATE_H
#define MLW_CONFIG_CAPTURE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "mlwip/capture.h"

/* Every port and shard, snaplen MLW_CAPTURE_SNAPLEN_DEFAULT, no file, no limit, off. */
void mlw__config_capture_defaults(struct mlw_capture_config *c);
/* Sets @p key from @p value: 0, or -EINVAL with the reason in @p why. "port"
 * and "shard" are taken for "ports" and "shards". */
int mlw__config_capture_set(struct mlw_capture_config *c, const char *key, const char *value, char *why,
			    size_t whylen);
/* 0 if @p c can run on @p nshards shards and @p nports ports (a file is
 * needed with start on, or always with @p need_file), else -EINVAL, the
 * key and the reason. */
int mlw__config_capture_check(const struct mlw_capture_config *c, unsigned nshards, unsigned nports,
			      bool need_file, const char **key, char *why, size_t whylen);

#endif /* MLW_CONFIG_CAPTURE_PRIVATE_H */
