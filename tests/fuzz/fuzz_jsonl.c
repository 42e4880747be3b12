/* fuzz_jsonl.c - libFuzzer harness for the APPS JSONL record parser */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../pipeline/apps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char key[128];
	json_t *rec = NULL;

	log_threshold = -1;
	if (apps_parse_jsonl((const char *)data, size, "train", "fuzz:1", key, &rec) == 0) {
		/* an accepted row always yields the full record */
		const char *q = jsonx_str(rec, "question");

		if (!q || !*q || strncmp(key, "apps/train/", 11) != 0 ||
		    !json_is_array(json_object_get(rec, "solutions")) ||
		    !jsonx_str(rec, "starter_code"))
			__builtin_trap();
		json_decref(rec);
	} else if (rec) {
		__builtin_trap();
	}
	return 0;
}
