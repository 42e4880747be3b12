/*
 * fuzz_rules.c - libFuzzer harness for the filter rule loader: the input is
 * a rule file; what loads is run over a fixed record.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../filters/filter.h"

static const char *const questions[] = {
	"Is the original problem's bound on n inclusive?",
	"Which \"large\" values count (as in the earlier version)?",
	"Print the answer.",
};

static const struct filter_input record = {
	.original = "Given an array of n integers, print the sum of the even ones.\n"
		    "The first line contains n (1 <= n <= 100).",
	.modified = "## Modified problem\nGiven an array of n integers, print the sum of "
		    "the large ones.\nThe first line contains n (1 <= n <= 100).\n"
		    "-----Note-----\nI have introduced an ambiguity [vague].",
	.reasoning = "I removed the parity; the rewrite rules are unchanged.",
	.questions = questions,
	.nquestions = 3,
	.finish_reason = "stop",
	.questions_expected = 1,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_set fs;
	struct filter_scratch *s;
	struct filter_result res;
	int rc;

	log_threshold = -1; /* silent */
	filter_set_init(&fs);
	err_clear();
	rc = filter_set_add_buffer(&fs, (const char *)data, size, "fuzz.yaml");
	if (rc) {
		/* a refused file keeps nothing and says where */
		if (fs.n != 0 ||
		    (rc == CL_ECONFIG && strncmp(err_msg(rc), "fuzz.yaml:", 10) != 0))
			__builtin_trap();
		filter_set_release(&fs);
		return 0;
	}
	if (filter_set_finish(&fs)) {
		filter_set_release(&fs);
		return 0;
	}
	s = filter_scratch_new(&fs);
	if (!s) {
		filter_set_release(&fs);
		return 0;
	}
	filter_result_init(&res);
	if (filter_run(&fs, s, &record, &res) == 0) {
		int rejected = 0;

		/* every verdict names a rule, and rejected is their sum */
		for (size_t i = 0; i < res.n; i++) {
			if (!res.v[i].rule[0] || strlen(res.v[i].rule) >= sizeof(res.v[i].rule))
				__builtin_trap();
			rejected |= res.v[i].action == FILTER_REJECT;
		}
		if (rejected != res.rejected)
			__builtin_trap();
		json_decref(filter_result_json(&res));
	}
	filter_result_release(&res);
	filter_scratch_free(s);
	filter_set_release(&fs);
	return 0;
}
