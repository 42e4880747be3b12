/* fuzz_template.c - libFuzzer harness for the prompt template loader and
 * the reply parser */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../prompts/prompt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prompt_template t;
	struct prompt_reply r = { 0 };
	struct prompt_vars v = { .original = "orig", .modified = "mod", .starter_code = "",
				  .difficulty = "easy", .category = CAT_AMBIGUOUS };
	struct buf sys, user;
	char *text;

	log_threshold = -1;
	if (prompt_template_load_buffer(&t, (const char *)data, size, "fuzz.yaml") == 0) {
		buf_init(&sys, 1 << 20);
		buf_init(&user, 1 << 20);
		prompt_render(&t, &v, &sys, &user);
		buf_release(&sys);
		buf_release(&user);
		prompt_template_release(&t);
	}
	/* the same bytes as a model's reply to a shipped-like template */
	memset(&t, 0, sizeof(t));
	t.outputs = PROMPT_REASONING | PROMPT_MODIFIED | PROMPT_QUESTIONS;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	prompt_parse_reply(&t, text, &r);
	prompt_reply_release(&r);
	free(text);
	return 0;
}
