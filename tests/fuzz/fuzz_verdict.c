/* fuzz_verdict.c - libFuzzer harness for the answer stage's reply parser:
 * the answers and the judge's JSON verdict */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../prompts/prompt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prompt_template t;
	struct prompt_reply r = { 0 };
	struct prompt_verdict v = { 0 };
	char *text;

	log_threshold = -1;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&t, 0, sizeof(t));
	t.stage = PROMPT_ANSWER;
	t.outputs = PROMPT_REASONING | PROMPT_ANSWERS | PROMPT_VERDICT;
	/* as a whole reply, with and without a count of questions */
	prompt_parse_answers(&t, text, 0, &r);
	prompt_parse_answers(&t, text, 2, &r);
	prompt_reply_release(&r);
	/* as the verdict's text alone */
	prompt_parse_verdict(text, size % 4, &v);
	prompt_verdict_release(&v);
	free(text);
	return 0;
}
