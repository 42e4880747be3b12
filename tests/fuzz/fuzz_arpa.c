/*
 * fuzz_arpa.c - libFuzzer harness for the ARPA reader: the input is an
 * ARPA file.  A refused file says where ("fuzz.arpa:LINE: ...") and keeps
 * nothing; a model that loads scores a fixed sentence, writes itself back
 * as ARPA text that reads again to the same text, and saves and loads.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../stats/stats.h"

static const char *const sentence[] = { "<s>", "a", "b", "</s>", "zebra", "a", "<unk>", "c" };

static char *arpa_text(const struct stats_lm *lm, size_t *len)
{
	char *p = NULL;
	FILE *f = open_memstream(&p, len);

	if (!f)
		__builtin_trap();
	if (stats_lm_write_arpa(lm, f))
		__builtin_trap();
	fclose(f);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stats_lm *lm = NULL, *again = NULL, *loaded = NULL;
	struct stats_lm_ppl acc = { 0 };
	struct stats_lm_info info;
	struct buf saved;
	char *t1, *t2;
	size_t n1, n2;
	int rc, oov;

	log_threshold = -1; /* silent */
	err_clear();
	rc = stats_lm_read_arpa_buffer(&lm, (const char *)data, size, "fuzz.arpa");
	if (rc) {
		if (lm || (rc == CL_EPARSE && strncmp(err_msg(rc), "fuzz.arpa:", 10) != 0))
			__builtin_trap();
		return 0;
	}
	stats_lm_info(lm, &info);
	if (info.order < 1 || info.order > STATS_LM_MAX_ORDER || info.vocab < 3)
		__builtin_trap();
	(void)stats_lm_score_sentence(lm, sentence, CL_ARRAY_SIZE(sentence), &oov, &acc);
	if (oov < 2 || acc.tokens != CL_ARRAY_SIZE(sentence) + 1)
		__builtin_trap();
	(void)stats_lm_score_text(lm, "A b, C.\n\nzebra a", 16, &acc);

	/* write, read, write: the same text */
	t1 = arpa_text(lm, &n1);
	if (stats_lm_read_arpa_buffer(&again, t1, n1, "written.arpa"))
		__builtin_trap();
	t2 = arpa_text(again, &n2);
	if (n1 != n2 || memcmp(t1, t2, n1) != 0)
		__builtin_trap();
	free(t1);
	free(t2);

	/* save and load */
	buf_init(&saved, 0);
	if (stats_lm_save(lm, &saved) || stats_lm_load(&loaded, saved.data, saved.len))
		__builtin_trap();
	buf_release(&saved);
	stats_lm_free(loaded);
	stats_lm_free(again);
	stats_lm_free(lm);
	return 0;
}
