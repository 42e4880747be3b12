/* fuzz_config.c - libFuzzer harness for the configuration loader */
#include <stddef.h>
#include <stdint.h>

#include "../../pipeline/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;

	log_threshold = -1; /* silent */
	if (config_load_buffer(&cfg, (const char *)data, size, "fuzz.yaml") == 0) {
		/* whatever loads must hold values within the table's bounds */
		if (cfg.store.zstd_level < 1 || cfg.store.zstd_level > 19 || !cfg.store.path ||
		    !cfg.jobs.categories || cfg.jobs.categories > CAT_ALL)
			__builtin_trap();
		config_release(&cfg);
	}
	return 0;
}
