/* fuzz_verdict.c - libFuzzer harness for the answer stage: its reply
 * parser (the answers and the judge's JSON verdict), and the offline
 * provider's stage 3 on the bytes split into original, rewrite and a
 * question, whose reply must parse */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../llm/provider.h"
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
	/* original \x01 rewrite \x01 question */
	{
		char *m = strchr(text, '\x01'), *q = m ? strchr(m + 1, '\x01') : NULL;
		const char *qs[1];
		struct llm_request req;
		struct buf out;

		if (q && q > m + 1 && m > text && q[1]) {
			*m = *q = '\0';
			qs[0] = q + 1;
			memset(&req, 0, sizeof(req));
			req.original = text;
			req.modified = m + 1;
			req.questions = qs;
			req.nquestions = 1;
			req.stage = LLM_STAGE_ANSWER;
			req.category = (int)(size % CAT_COUNT);
			buf_init(&out, 1 << 22);
			if (llm_offline_reply(&req, size, &out) == 0 &&
			    prompt_parse_answers(&t, out.data, 1, &r) != 0)
				__builtin_trap(); /* its own reply must parse */
			prompt_reply_release(&r);
			buf_release(&out);
		}
	}
	free(text);
	return 0;
}
