/*
 * fuzz_offline.c - libFuzzer harness for the offline provider's rule file
 * loader (llm/offline.yaml's format): a refused file says where; a loaded
 * one answers every edit kind with an entry.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../llm/offline_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct off_rules *r;
	int rc;

	log_threshold = -1; /* silent */
	err_clear();
	rc = off_rules_parse((const char *)data, size, "fuzz.yaml", &r);
	if (rc) {
		if (r || (rc == CL_ECONFIG && strncmp(err_msg(rc), "fuzz.yaml:", 10) != 0))
			__builtin_trap();
		return 0;
	}
	/* a file that loads has an entry for every edit, and a closing line */
	for (int k = 0; k < EK_COUNT; k++) {
		struct edit e;

		memset(&e, 0, sizeof(e));
		e.kind = k;
		if (!off_rules_find(r->q, r->nq, &e) || !off_rules_find(r->why, r->nwhy, &e))
			__builtin_trap();
	}
	if (!r->close || !r->ngeneric)
		__builtin_trap();
	off_rules_free(r);
	return 0;
}
