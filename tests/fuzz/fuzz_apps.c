/*
 * fuzz_apps.c - libFuzzer harness for the files of an APPS problem folder
 * (question.txt, starter_code.py, solutions.json, input_output.json,
 * metadata.json): the input is read as each of them in turn.  A refused
 * file keeps nothing and says why; an accepted one has the shape the
 * store's problem record needs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../pipeline/apps.h"

static const char *const members[] = {
	"question.txt", "starter_code.py", "solutions.json", "input_output.json", "metadata.json",
};

/* Does what apps_parse_member gave for name have the promised shape? */
static int well_formed(const char *name, const json_t *v, size_t size)
{
	size_t i;
	json_t *it;

	if (strcmp(name, "question.txt") == 0)
		return json_is_string(v) && json_string_length(v) > 0;
	if (strcmp(name, "starter_code.py") == 0)
		return json_is_string(v) && json_string_length(v) == size;
	if (strcmp(name, "solutions.json") == 0) {
		if (!json_is_array(v))
			return 0;
		json_array_foreach(v, i, it)
			if (!json_is_string(it))
				return 0;
		return 1;
	}
	if (strcmp(name, "input_output.json") == 0)
		return json_is_object(v) || json_is_null(v);
	return v ? json_is_object(v) : size == 0; /* metadata.json */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v;
	int rc;

	log_threshold = -1; /* silent */
	for (size_t i = 0; i < CL_ARRAY_SIZE(members); i++) {
		err_clear();
		rc = apps_parse_member(members[i], (const char *)data, size, &v);
		if (rc == 0) {
			if (!well_formed(members[i], v, size))
				__builtin_trap();
			/* the record is stored as canonical JSON */
			if (v) {
				char *text = jsonx_canonical(v);

				if (!text)
					__builtin_trap();
				free(text);
			}
			json_decref(v);
		} else {
			/* the reason names the file, or says the question is empty */
			const char *why = err_msg(rc);

			if (v || (rc != CL_EPARSE && rc != CL_EUTF8 && rc != CL_EINVAL) ||
			    (!strstr(why, members[i]) && strcmp(why, "empty question") != 0))
				__builtin_trap();
		}
	}
	return 0;
}
