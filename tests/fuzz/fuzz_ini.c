/* fuzz_ini.c - libFuzzer harness for the INI configuration loader (sharding/config.c on libinih): mlw_config_load_string() on arbitrary text, then everything a stack does with a loaded configuration before it starts.
 *
 * The input is made a NUL-terminated string (bytes after a NUL are not
 * seen by the loader, as with a file). On success the configuration must
 * validate again (mlw_config_validate: the loader's checks are the
 * validator's), its EAL arguments split (mlw_config_eal_argv), and the
 * sizes derived from it computed; on failure the error renders to a line
 * and @p cfg is back to the defaults. libinih is Debian's shared library,
 * not instrumented: coverage counts config.c's handler and checks; inih's
 * own reading runs under ASan's interceptors only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlwip/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlw_config cfg, defaults;
	struct mlw_config_error e, e2;
	struct mlw_config_argv argv;
	char line[1024];
	char *text;
	int rc, n;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&e, 0, sizeof(e));
	rc = mlw_config_load_string(&cfg, text, &e);
	free(text);
	if (rc == 0) {
		if (mlw_config_validate(&cfg, &e2) != 0) {
			mlw_config_format_error(&e2, "fuzz", line, sizeof(line));
			fprintf(stderr, "fuzz_ini: loaded but not valid: %s\n", line);
			abort();
		}
		if (mlw_config_eal_argv(&cfg, "fuzz", &argv, &e2) == 0) {
			if (argv.argc < 1 || argv.argv[argv.argc] != NULL)
				abort();
			for (int i = 0; i < argv.argc; i++)
				if (strlen(argv.argv[i]) > sizeof(cfg.eal_args))
					abort();
		}
		(void)mlw_config_time_wait_cap(&cfg);
		(void)mlw_config_mbufs_needed(&cfg);
		(void)mlw_config_forward_zero_copy(&cfg);
		return 0;
	}
	if (rc != -EINVAL)
		abort();
	n = mlw_config_format_error(&e, "fuzz", line, sizeof(line));
	if (n < 0)
		abort();
	mlw_config_defaults(&defaults);
	if (memcmp(&cfg, &defaults, sizeof(cfg)) != 0) {
		fprintf(stderr, "fuzz_ini: a failed load left the configuration changed\n");
		abort();
	}
	return 0;
}
