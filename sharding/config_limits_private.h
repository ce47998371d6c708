/* config_limits_private.h - config.c's calls into config_limits.c ([limits]). */
#ifndef MLW_CONFIG_LIMITS_PRIVATE_H
#define MLW_CONFIG_LIMITS_PRIVATE_H

#include <stddef.h>

#include "mlwip/limits.h"

/* Sets [limits] @p key from @p value: 0, or -EINVAL with the reason in @p why. */
int mlw__config_limits_set(struct mlw_limits *l, const char *key, const char *value, char *why,
			   size_t whylen);
/* 0 if every limit is in range, else -EINVAL, the key and the reason. */
int mlw__config_limits_check(const struct mlw_limits *l, const char **key, char *why, size_t whylen);

#endif /* MLW_CONFIG_LIMITS_PRIVATE_H */
