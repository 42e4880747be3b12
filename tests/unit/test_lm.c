/*
 * test_lm.c - the tokenizer and the n-gram language model: tokens on
 * Unicode words, punctuation, case and empty lines; the APPS statements
 * tokenize to lm-reference/train.txt and test.txt line for line; ARPA
 * round trips and refusals ("NAME:LINE: reason"); a pruned SRILM-style
 * model scores by back-off as KenLM does; KenLM's own models score
 * test.txt as KenLM's query did; training on train.txt gives KenLM's
 * models (same n-grams, same numbers) and test perplexity; a model
 * trained on a tiny corpus is normalized; save and load.
 *
 * The reference data is read from $SHARED_DATA (default ../shared/data);
 * the tests that need it are skipped, saying so, when it is absent.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "../../stats/stats.h"

/* ---- helpers ----------------------------------------------------------- */

static const char *shared(void)
{
	static char path[4096];
	const char *env = getenv("SHARED_DATA");

	snprintf(path, sizeof(path), "%s", env && *env ? env : "../shared/data");
	return path;
}

/* Read $SHARED_DATA/rel into b; skip() the test when it is missing. */
static void read_shared(const char *rel, struct buf *b)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", shared(), rel);
	buf_init(b, (size_t)256 << 20);
	if (!file_exists(path)) {
		fprintf(stderr, "# shared data missing: %s\n", path);
		skip();
	}
	assert_int_equal(file_read(path, b), 0);
}

static void shared_path(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", shared(), rel);
}

static void tok_to_buf(const char *text, char *out, size_t n)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(stats_tokenize_lines(text, strlen(text), &b), 0);
	snprintf(out, n, "%s", b.data ? b.data : "");
	buf_release(&b);
}

/* The model's ARPA text. */
static char *arpa_text(const struct stats_lm *lm, size_t *len)
{
	char *p = NULL;
	FILE *f = open_memstream(&p, len);

	assert_non_null(f);
	assert_int_equal(stats_lm_write_arpa(lm, f), 0);
	fclose(f);
	return p;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The non-empty lines of text, sorted (text is modified). */
static char **sorted_lines(char *text, size_t *n)
{
	size_t cap = 1024;
	char **v = malloc(cap * sizeof(*v));
	char *save = NULL;

	assert_non_null(v);
	*n = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (*n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(*v));
			assert_non_null(v);
		}
		v[(*n)++] = l;
	}
	qsort(v, *n, sizeof(*v), cmp_lines);
	return v;
}

/* ---- tokenizer --------------------------------------------------------- */

static void tokens_are_lower_cased_unicode_words_and_single_marks(void **state)
{
	/* the expected strings are Python's re.findall(r'\w+|[^\w\s]', s.lower()) */
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "Hello, World!", "hello , world !\n" },
		{ "naïve Café ÉTÉ", "naïve café été\n" },
		{ "ΟΔΟΣ ΣΟΦΙΑΣ Σ.", "οδος σοφιας σ .\n" },
		{ "Привет, Мир!", "привет , мир !\n" },
		{ "x_1 = 3.14; don't", "x_1 = 3 . 14 ; don ' t\n" },
		{ "İstanbul", "i \xcc\x87 stanbul\n" },
		{ "a\xc2\xa0" "b\xe2\x80\x8b" "c", "a b \xe2\x80\x8b c\n" },
		{ "ÀÉÎÕÜ ßẞ", "àéîõü ßß\n" },
		{ "ǅ Ǆ", "ǆ ǆ\n" },
		{ "数学 テスト ①②", "数学 テスト ①②\n" },
		{ "a—b≤c", "a — b ≤ c\n" },
		{ "$n$ (1 \xe2\x89\xa4 n \xe2\x89\xa4 10^5)", "$ n $ ( 1 ≤ n ≤ 10 ^ 5 )\n" },
		{ "one\n\n  \t \ntwo three\r\nfour", "one\ntwo three\nfour\n" },
		{ "", "" },
		{ " \n\n", "" },
	};
	char got[256];

	(void)state;
	for (size_t i = 0; i < CL_ARRAY_SIZE(cases); i++) {
		tok_to_buf(cases[i].in, got, sizeof(got));
		if (strcmp(got, cases[i].out) != 0)
			fail_msg("'%s': got '%s', want '%s'", cases[i].in, got, cases[i].out);
	}
}

/* An ASCII line is split by hand, any other by the pattern: the two
 * agree on every ASCII byte (a line with an 'é' in it takes the pattern). */
static void ascii_lines_split_as_the_pattern_splits_them(void **state)
{
	char fast[64], slow[64], want[80];

	(void)state;
	for (int b = 1; b < 128; b++) {
		char line[32];

		if (b == '\n')
			continue;
		snprintf(line, sizeof(line), "Ab%cc_9%c%cZ", b, b, b);
		tok_to_buf(line, fast, sizeof(fast));
		strcat(line, " \xc3\xa9");
		tok_to_buf(line, slow, sizeof(slow));
		/* the same tokens, and the 'é' */
		snprintf(want, sizeof(want), "%.*s \xc3\xa9\n", (int)strlen(fast) - 1, fast);
		if (strcmp(slow, want) != 0)
			fail_msg("byte 0x%02x: by hand '%s', by the pattern '%s'", b, fast, slow);
	}
}

struct collect {
	char text[256];
	int sentences;
};

static void collect_token(const char *tok, size_t n, void *arg)
{
	struct collect *c = arg;
	size_t len = strlen(c->text);

	if (!tok) {
		c->sentences++;
		snprintf(c->text + len, sizeof(c->text) - len, "|");
		return;
	}
	snprintf(c->text + len, sizeof(c->text) - len, "[%.*s]", (int)n, tok);
}

static void tokenizer_calls_back_per_token_and_sentence_and_refuses_bad_utf8(void **state)
{
	struct collect c = { "", 0 };
	static const char bad[] = "ok\nbad \xc3\x28 here";
	int rc;

	(void)state;
	assert_int_equal(stats_tokenize("A b.\n\nC", 7, collect_token, &c), 0);
	assert_string_equal(c.text, "[a][b][.]|[c]|");
	assert_int_equal(c.sentences, 2);

	memset(&c, 0, sizeof(c));
	rc = stats_tokenize(bad, sizeof(bad) - 1, collect_token, &c);
	assert_int_equal(rc, CL_EUTF8);
	assert_non_null(strstr(err_msg(rc), "byte 7"));
	assert_string_equal(c.text, "[ok]|");
	/* overlong encodings and surrogates too */
	assert_int_equal(stats_tokenize("\xc0\xaf", 2, collect_token, &c), CL_EUTF8);
	assert_int_equal(stats_tokenize("\xed\xa0\x80", 3, collect_token, &c), CL_EUTF8);
}

/* The statements n = first..last of questions.jsonl, tokenized. */
static void tokenize_statements(int first, int last, struct buf *out)
{
	struct buf q;
	char *line, *save = NULL;
	int seen = 0;

	read_shared("apps-corpus/questions.jsonl", &q);
	buf_init(out, (size_t)64 << 20);
	for (line = strtok_r(q.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *v = jsonx_parse(line, strlen(line), "questions.jsonl");
		int64_t n = jsonx_int(v, "n", -1);
		const char *text = jsonx_str(v, "question");

		assert_non_null(text);
		if (n >= first && n <= last) {
			assert_int_equal(stats_tokenize_lines(text, strlen(text), out), 0);
			seen++;
		}
		json_decref(v);
	}
	assert_int_equal(seen, last - first + 1);
	buf_release(&q);
}

static void compare_lines(const char *what, const struct buf *got, const struct buf *want)
{
	const char *g = got->data, *w = want->data;
	int line = 1, differ = 0;

	while (*g || *w) {
		size_t gn = strcspn(g, "\n"), wn = strcspn(w, "\n");

		if (gn != wn || memcmp(g, w, gn) != 0) {
			if (differ++ < 3)
				fprintf(stderr, "# %s line %d: got '%.*s', want '%.*s'\n", what, line,
					(int)(gn > 80 ? 80 : gn), g, (int)(wn > 80 ? 80 : wn), w);
		}
		g += gn + (g[gn] == '\n');
		w += wn + (w[wn] == '\n');
		line++;
	}
	fprintf(stderr, "# %s: %d lines, %d differ\n", what, line - 1, differ);
	assert_int_equal(differ, 0);
}

static void apps_statements_tokenize_to_train_and_test_txt(void **state)
{
	struct buf got, want;

	(void)state;
	read_shared("lm-reference/train.txt", &want);
	tokenize_statements(0, 179, &got);
	compare_lines("train.txt", &got, &want);
	buf_release(&got);
	buf_release(&want);

	read_shared("lm-reference/test.txt", &want);
	tokenize_statements(180, 219, &got);
	compare_lines("test.txt", &got, &want);
	buf_release(&got);
	buf_release(&want);
}

/* ---- ARPA -------------------------------------------------------------- */

/* A pruned model as SRILM leaves them: "b </s>" is gone but "a b </s>"
 * is kept, <unk> is missing, <s> has SRILM's -99. */
static const char pruned_arpa[] =
	"\n\\data\\\n"
	"ngram 1=5\n"
	"ngram 2=4\n"
	"ngram 3=2\n"
	"\n\\1-grams:\n"
	"-99\t<s>\t-0.5\n"
	"-0.5\t</s>\n"
	"-0.7\ta\t-0.3\n"
	"-0.9\tb\t-0.2\n"
	"-1.2\tc\t-0.1\n"
	"\n\\2-grams:\n"
	"-0.3\t<s> a\t-0.2\n"
	"-0.4\ta b\t-0.15\n"
	"-0.6 b c\n"
	"-0.2\tc </s>\n"
	"\n\\3-grams:\n"
	"-0.1\t<s> a b\n"
	"-0.05\ta b </s>\n"
	"\n\\end\\\n";

static double score_words(const struct stats_lm *lm, const char *sentence, int *oov)
{
	char copy[256], *save = NULL;
	const char *tok[32];
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", sentence);
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	return stats_lm_score_sentence(lm, tok, n, oov, NULL);
}

static void pruned_model_backs_off_through_hidden_suffixes_like_kenlm(void **state)
{
	struct stats_lm *lm;
	struct stats_lm_info info;
	const char *bc[] = { "b", "</s>" }, *ab[] = { "a", "b" }, *unk[] = { "<unk>" };
	float p, bo;
	int oov;

	(void)state;
	assert_int_equal(stats_lm_read_arpa_buffer(&lm, pruned_arpa, sizeof(pruned_arpa) - 1,
						   "pruned.arpa"), 0);
	stats_lm_info(lm, &info);
	assert_int_equal(info.order, 3);
	assert_int_equal(info.count[0], 6); /* <unk> added */
	assert_int_equal(info.count[1], 4);
	assert_int_equal(info.count[2], 2);
	/* a b </s>: -0.3 (<s> a) -0.1 (<s> a b) -0.05 (a b </s>, reached through
	 * the hidden "b </s>"); without it: -0.5 - 0.2 - 0.15 for </s> */
	assert_float_equal(score_words(lm, "a b", &oov), -0.45, 1e-6);
	assert_int_equal(oov, 0);
	{
		uint32_t ids[3] = { stats_lm_word(lm, "a", 1), stats_lm_word(lm, "b", 1),
				    stats_lm_word(lm, "zebra", 5) };
		struct stats_lm_ppl acc = { 0 };

		assert_string_equal(stats_lm_word_text(lm, ids[1]), "b");
		assert_int_equal(ids[2], STATS_LM_UNK);
		assert_float_equal(stats_lm_score_ids(lm, ids, 2, &oov, &acc), -0.45, 1e-6);
		assert_int_equal(acc.tokens, 3);
		assert_int_equal(acc.oov, 0);
		assert_float_equal(stats_lm_ppl_incl(&acc), pow(10, 0.45 / 3), 1e-9);
	}
	/* c: -1.2 + b(<s>) -0.5; </s>: c </s> -0.2 */
	assert_float_equal(score_words(lm, "c", &oov), -1.9, 1e-6);
	/* z is <unk> (-100, added) + b(<s>) -0.5, then </s> from nothing: -0.5 */
	assert_float_equal(score_words(lm, "z", &oov), -100 - 0.5 - 0.5, 1e-4);
	assert_int_equal(oov, 1);
	/* the hidden entry is not part of the model */
	assert_int_equal(stats_lm_lookup(lm, bc, 2, &p, &bo), CL_ENOTFOUND);
	assert_int_equal(stats_lm_lookup(lm, ab, 2, &p, &bo), 0);
	assert_float_equal(p, -0.4, 1e-6);
	assert_float_equal(bo, -0.15, 1e-6);
	assert_int_equal(stats_lm_lookup(lm, unk, 1, &p, &bo), 0);
	assert_float_equal(p, -100, 1e-6);
	stats_lm_free(lm);
}

static void arpa_round_trip_keeps_every_number(void **state)
{
	struct stats_lm *lm, *again;
	size_t n1, n2;
	char *t1, *t2;

	(void)state;
	assert_int_equal(stats_lm_read_arpa_buffer(&lm, pruned_arpa, sizeof(pruned_arpa) - 1,
						   "pruned.arpa"), 0);
	t1 = arpa_text(lm, &n1);
	assert_non_null(strstr(t1, "\\data\\\nngram 1=6\nngram 2=4\nngram 3=2\n\n\\1-grams:\n"
				   "-100\t<unk>\t0\n-99\t<s>\t-0.5\n"));
	assert_non_null(strstr(t1, "-0.6\tb c\t0\n"));
	assert_non_null(strstr(t1, "\n\\3-grams:\n-0.1\t<s> a b\n-0.05\ta b </s>\n\n\\end\\\n"));
	assert_null(strstr(t1, "b </s>\t")); /* the hidden entry is not written */
	assert_int_equal(stats_lm_read_arpa_buffer(&again, t1, n1, "written.arpa"), 0);
	t2 = arpa_text(again, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(t1, t2, n1);
	free(t1);
	free(t2);
	stats_lm_free(lm);
	stats_lm_free(again);
}

static void minus_infinity_reads_and_writes_back(void **state)
{
	static const char text[] = "\\data\\\nngram 1=4\n\n\\1-grams:\n-inf\t<unk>\n"
				    "-99\t<s>\n-0.3\t</s>\n-0.2\ta\n\n\\end\\\n";
	static const char plus_inf[] = "\\data\\\nngram 1=2\n\n\\1-grams:\ninf\t<s>\n"
					"-1\t</s>\n\n\\end\\\n";
	struct stats_lm *lm;
	size_t n;
	char *out;
	int oov;

	(void)state;
	assert_int_equal(stats_lm_read_arpa_buffer(&lm, text, sizeof(text) - 1, "inf.arpa"), 0);
	assert_true(isinf(score_words(lm, "a zebra", &oov)));
	assert_int_equal(oov, 1);
	assert_float_equal(score_words(lm, "a", &oov), -0.5, 1e-6);
	out = arpa_text(lm, &n);
	assert_non_null(strstr(out, "\n-inf\t<unk>\n-99\t<s>\n"));
	free(out);
	stats_lm_free(lm);
	/* but not +inf, nor NaN */
	assert_int_equal(stats_lm_read_arpa_buffer(&lm, plus_inf, sizeof(plus_inf) - 1, "inf.arpa"),
			 CL_EPARSE);
	assert_non_null(strstr(err_msg(CL_EPARSE), "inf.arpa:5: 'inf' is not a log10 probability"));
}

static void kenlm_arpa_is_written_back_line_for_line(void **state)
{
	struct buf orig;
	struct stats_lm *lm;
	char **a, **b;
	size_t na, nb, len;
	char *text;

	(void)state;
	read_shared("lm-reference/kenlm-o3.arpa", &orig);
	assert_int_equal(stats_lm_read_arpa_buffer(&lm, orig.data, orig.len, "kenlm-o3.arpa"), 0);
	text = arpa_text(lm, &len);
	a = sorted_lines(orig.data, &na);
	b = sorted_lines(text, &nb);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			fail_msg("line differs: '%s' vs '%s'", a[i], b[i]);
	free(a);
	free(b);
	free(text);
	stats_lm_free(lm);
	buf_release(&orig);
}

/* An order that declares no n-grams (found by fuzz_arpa: a copy of an
 * empty array was undefined behaviour) loads, and scores with the rest. */
static void arpa_with_an_empty_order_loads_and_scores(void **state)
{
	static const char text[] = "\\data\\\nngram 1=3\nngram 2=0\n\\1-grams:\n-1\t<s>\t5\n"
				   "-1\t</s>\n-1\ta\n\\2-grams:\n\\end\\\n";
	struct stats_lm *lm = NULL;
	struct stats_lm_ppl acc;

	(void)state;
	assert_int_equal(stats_lm_read_arpa_buffer(&lm, text, strlen(text), "empty.arpa"), 0);
	memset(&acc, 0, sizeof(acc));
	assert_int_equal(stats_lm_score_text(lm, "a a", 3, &acc), 0);
	assert_true(isfinite(stats_lm_ppl_incl(&acc)));
	stats_lm_free(lm);
}

static void malformed_arpa_is_refused_with_line_and_reason(void **state)
{
	static const char head[] = "\\data\\\nngram 1=3\nngram 2=%d\n\n\\1-grams:\n"
				   "-1\t<s>\t-0.5\n-1\t</s>\n-1\ta\t-0.1\n\n\\2-grams:\n%s\n\\end\\\n";
	static const struct {
		const char *text, *where, *why;
	} cases[] = {
		{ "", "t.arpa:1:", "no '\\data\\' header" },
		{ "\n\nhello\n", "t.arpa:3:", "expected '\\data\\'" },
		{ "\\data\\\nngram 2=1\n", "t.arpa:2:", "count of 1-grams" },
		{ "\\data\\\nngram 1=x\n", "t.arpa:2:", "expected 'ngram N=COUNT'" },
		{ "\\data\\\nngram 1=99999\n\n\\1-grams:\n", "t.arpa:2:", "more than the file" },
		{ "\\data\\\nngram 1=1\nngram 2=1\nngram 3=1\nngram 4=1\nngram 5=1\nngram 6=1\n"
		  "ngram 7=1\n\n\\1-grams:\n-1 a\n-1 a b\n-1 a b c\n-1 a b c d\n-1 a b c d e\n"
		  "-1 a b c d e f\n",
		  "t.arpa:8:", "over the maximum" },
		{ "\\data\\\nngram 1=3\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\n\\end\\\n", "t.arpa:7:",
		  "2 1-grams where the header says 3" },
		{ "\\data\\\nngram 1=2\n\n\\2-grams:\n", "t.arpa:4:", "expected '\\1-grams:'" },
		{ "\\data\\\nngram 1=2\n\n\\1-grams:\nx\t<s>\n-1\t</s>\n\n\\end\\\n", "t.arpa:5:",
		  "'x' is not a log10 probability" },
		{ "\\data\\\nngram 1=2\n\n\\1-grams:\n0.5\t<s>\n-1\t</s>\n\n\\end\\\n", "t.arpa:5:",
		  "positive log10 probability" },
		{ "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\t-0.5\n-1\t</s>\n\n\\end\\\n",
		  "t.arpa:5:", "a 1-gram line is 'log10prob word'" },
		{ "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-1\t<s>\n\n\\end\\\n", "t.arpa:6:",
		  "duplicate 1-gram '<s>'" },
		{ "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-1\ta\n\n\\end\\\n", "t.arpa:6:",
		  "no '</s>' among the 1-grams" },
		{ "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\n", "t.arpa:7:",
		  "no '\\end\\'" },
		{ "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\n\\end\\\nmore\n",
		  "t.arpa:9:", "text after '\\end\\'" },
		{ "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\n\\end\\\n\0", "t.arpa:9:",
		  "NUL byte" },
	};
	static const struct {
		int count, line;
		const char *bigram, *why;
	} bigrams[] = {
		{ 1, 11, "-1\ta zz\n", "'zz' of a 2-gram is not a 1-gram" },
		{ 1, 11, "-1\ta b c\n", "a 2-gram line is 'log10prob 2 words'" },
		{ 1, 11, "-1\ta a\t-0.5\n", "a 2-gram line is 'log10prob 2 words'" },
		{ 1, 11, "-1\ta\n", "a 2-gram line is 'log10prob 2 words'" },
		{ 2, 12, "-1\ta a\n-1\ta a\n", "duplicate 2-gram 'a a'" },
		{ 1, 11, "-1e99\ta a\n", "'-1e99' is not a log10 probability" },
		{ 1, 11, "nan\ta a\n", "'nan' is not a log10 probability" },
		{ 1, 11, "-1\ta a\tx\n", "a 2-gram line is 'log10prob 2 words'" },
		{ 2, 12, "-1\ta a\n", "1 2-grams where the header says 2" },
	};
	char where[32];
	struct stats_lm *lm;
	char text[1024];
	int rc;

	(void)state;
	for (size_t i = 0; i < CL_ARRAY_SIZE(cases); i++) {
		size_t len = strlen(cases[i].text) + (strstr(cases[i].why, "NUL") ? 1 : 0);

		rc = stats_lm_read_arpa_buffer(&lm, cases[i].text, len, "t.arpa");
		if (rc != CL_EPARSE || !strstr(err_msg(rc), cases[i].where) ||
		    !strstr(err_msg(rc), cases[i].why))
			fail_msg("case %zu: rc %d, '%s'; want '%s ... %s'", i, rc, err_msg(rc),
				 cases[i].where, cases[i].why);
		assert_null(lm);
	}
	for (size_t i = 0; i < CL_ARRAY_SIZE(bigrams); i++) {
		snprintf(text, sizeof(text), head, bigrams[i].count, bigrams[i].bigram);
		snprintf(where, sizeof(where), "t.arpa:%d: ", bigrams[i].line);
		rc = stats_lm_read_arpa_buffer(&lm, text, strlen(text), "t.arpa");
		if (rc != CL_EPARSE || !strstr(err_msg(rc), where) ||
		    !strstr(err_msg(rc), bigrams[i].why))
			fail_msg("bigram case %zu: rc %d, '%s'; want '%s%s'", i, rc, err_msg(rc),
				 where, bigrams[i].why);
	}
	/* a 3-gram whose context is not a 2-gram */
	snprintf(text, sizeof(text),
		 "\\data\\\nngram 1=3\nngram 2=1\nngram 3=1\n\n\\1-grams:\n-1\t<s>\t-0.5\n"
		 "-1\t</s>\n-1\ta\t-0.1\n\n\\2-grams:\n-1\ta </s>\t0\n\n\\3-grams:\n"
		 "-1\t<s> a </s>\n\n\\end\\\n");
	rc = stats_lm_read_arpa_buffer(&lm, text, strlen(text), "t.arpa");
	assert_int_equal(rc, CL_EPARSE);
	assert_non_null(strstr(err_msg(rc), "t.arpa:15: the context '<s> a' of this 3-gram is "
					    "not a 2-gram"));
	assert_int_equal(stats_lm_read_arpa(&lm, "/nonexistent/x.arpa"), CL_ENOTFOUND);
}

/* ---- conformance with KenLM --------------------------------------------- */

struct expected {
	double *total;
	int *oov;
	int lines;
	double ppl_incl, ppl_excl;
	uint64_t oovs, tokens;
};

static void read_expected(int order, struct expected *e)
{
	char rel[64], *save = NULL;
	struct buf b;
	int cap = 1024;

	snprintf(rel, sizeof(rel), "lm-reference/expected-o%d.tsv", order);
	read_shared(rel, &b);
	memset(e, 0, sizeof(*e));
	e->total = calloc((size_t)cap, sizeof(double));
	e->oov = calloc((size_t)cap, sizeof(int));
	for (char *l = strtok_r(b.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int n, oov;
		double t;
		unsigned long long u;

		if (sscanf(l, "%d\t%lf\t%d", &n, &t, &oov) == 3) {
			assert_true(n == e->lines + 1 && n <= cap);
			e->total[e->lines] = t;
			e->oov[e->lines++] = oov;
		} else if (sscanf(l, "# Perplexity including OOVs:\t%lf", &t) == 1) {
			e->ppl_incl = t;
		} else if (sscanf(l, "# Perplexity excluding OOVs:\t%lf", &t) == 1) {
			e->ppl_excl = t;
		} else if (sscanf(l, "# OOVs:\t%llu", &u) == 1) {
			e->oovs = u;
		} else if (sscanf(l, "# Tokens:\t%llu", &u) == 1) {
			e->tokens = u;
		}
	}
	buf_release(&b);
}

/* Score test.txt; the largest per-line difference from KenLM's query. */
static double score_test(const struct stats_lm *lm, const struct expected *e,
			 struct stats_lm_ppl *acc)
{
	struct buf test;
	char *save = NULL;
	double maxd = 0;
	int line = 0;

	read_shared("lm-reference/test.txt", &test);
	memset(acc, 0, sizeof(*acc));
	for (char *l = strtok_r(test.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *tok[2048];
		char *s2 = NULL;
		size_t n = 0;
		double total;
		int oov;

		for (char *t = strtok_r(l, " ", &s2); t; t = strtok_r(NULL, " ", &s2)) {
			assert_true(n < CL_ARRAY_SIZE(tok));
			tok[n++] = t;
		}
		assert_true(line < e->lines);
		total = stats_lm_score_sentence(lm, tok, n, &oov, acc);
		if (fabs(total - e->total[line]) > maxd)
			maxd = fabs(total - e->total[line]);
		if (oov != e->oov[line])
			fail_msg("line %d: %d OOVs, KenLM %d", line + 1, oov, e->oov[line]);
		line++;
	}
	assert_int_equal(line, e->lines);
	buf_release(&test);
	return maxd;
}

static void kenlm_models_score_test_txt_as_kenlm_query(void **state)
{
	(void)state;
	for (int order = 3; order <= 4; order++) {
		struct stats_lm *lm;
		struct stats_lm_ppl acc;
		struct expected e;
		char path[4200], rel[64];
		double maxd;

		read_expected(order, &e);
		snprintf(rel, sizeof(rel), "lm-reference/kenlm-o%d.arpa", order);
		shared_path(path, sizeof(path), rel);
		assert_int_equal(stats_lm_read_arpa(&lm, path), 0);
		maxd = score_test(lm, &e, &acc);
		fprintf(stderr, "# kenlm-o%d.arpa on test.txt: max |line total - KenLM| %.2g, "
			"ppl %.6f / %.6f (KenLM %.6f / %.6f), %llu OOVs, %llu tokens\n",
			order, maxd, stats_lm_ppl_incl(&acc), stats_lm_ppl_excl(&acc), e.ppl_incl,
			e.ppl_excl, (unsigned long long)acc.oov, (unsigned long long)acc.tokens);
		assert_true(maxd <= 1e-4);
		assert_int_equal(acc.oov, e.oovs);
		assert_int_equal(acc.tokens, e.tokens);
		assert_float_equal(stats_lm_ppl_incl(&acc), e.ppl_incl, 1e-3);
		assert_float_equal(stats_lm_ppl_excl(&acc), e.ppl_excl, 1e-3);
		stats_lm_free(lm);
		free(e.total);
		free(e.oov);
	}
}

struct diff {
	const struct stats_lm *other;
	double prob, backoff;
	uint64_t missing;
};

static int diff_ngram(const char *const *words, int n, float prob, float backoff, void *arg)
{
	struct diff *d = arg;
	float p, b;

	if (stats_lm_lookup(d->other, words, n, &p, &b)) {
		if (d->missing++ < 3)
			fprintf(stderr, "# missing %d-gram starting '%s'\n", n, words[0]);
		return 0;
	}
	if (fabs(p - prob) > d->prob)
		d->prob = fabs(p - prob);
	if (fabs(b - backoff) > d->backoff)
		d->backoff = fabs(b - backoff);
	return 0;
}

static void training_on_train_txt_gives_kenlm_models(void **state)
{
	struct buf train;

	(void)state;
	read_shared("lm-reference/train.txt", &train);
	for (int order = 3; order <= 4; order++) {
		struct stats_lm *ours, *kenlm;
		struct stats_lm_info a, b;
		struct stats_lm_ppl acc, kacc;
		struct expected e;
		char path[4200], rel[64];
		double maxp = 0, maxb = 0, rel_ppl;

		snprintf(rel, sizeof(rel), "lm-reference/kenlm-o%d.arpa", order);
		shared_path(path, sizeof(path), rel);
		assert_int_equal(stats_lm_read_arpa(&kenlm, path), 0);
		assert_int_equal(stats_lm_train(&ours, order, train.data, train.len), 0);
		stats_lm_info(ours, &a);
		stats_lm_info(kenlm, &b);
		assert_int_equal(a.order, order);
		assert_int_equal(a.fallback, 0);
		for (int n = 1; n <= order; n++) {
			struct diff d1 = { kenlm, 0, 0, 0 }, d2 = { ours, 0, 0, 0 };

			assert_int_equal(a.count[n - 1], b.count[n - 1]);
			/* the same set both ways, and the numbers */
			assert_int_equal(stats_lm_foreach(ours, n, diff_ngram, &d1), 0);
			assert_int_equal(stats_lm_foreach(kenlm, n, diff_ngram, &d2), 0);
			assert_int_equal(d1.missing, 0);
			assert_int_equal(d2.missing, 0);
			maxp = fmax(maxp, d1.prob);
			maxb = fmax(maxb, d1.backoff);
		}
		read_expected(order, &e);
		(void)score_test(kenlm, &e, &kacc);
		(void)score_test(ours, &e, &acc);
		rel_ppl = fabs(stats_lm_ppl_incl(&acc) / e.ppl_incl - 1);
		fprintf(stderr, "# trained o%d: %llu n-grams as KenLM's; max |log10 p - KenLM| %.2g, "
			"max |backoff - KenLM| %.2g; test ppl %.6f vs KenLM %.6f (%.2g relative); "
			"D1..3 of the top order %.6f %.6f %.6f\n",
			order, (unsigned long long)a.ngrams, maxp, maxb, stats_lm_ppl_incl(&acc),
			e.ppl_incl, rel_ppl, a.discount[order - 1][0], a.discount[order - 1][1],
			a.discount[order - 1][2]);
		assert_true(maxp <= 1e-3);
		assert_true(maxb <= 1e-3);
		assert_true(rel_ppl <= 0.005);
		stats_lm_free(ours);
		stats_lm_free(kenlm);
		free(e.total);
		free(e.oov);
	}
	buf_release(&train);
}

static void training_on_raw_statements_equals_training_on_train_txt(void **state)
{
	struct stats_lm_trainer *t;
	struct stats_lm *raw, *lines;
	struct buf q, train;
	char *save = NULL, *a, *b;
	size_t na, nb;

	(void)state;
	read_shared("lm-reference/train.txt", &train);
	read_shared("apps-corpus/questions.jsonl", &q);
	assert_int_equal(stats_lm_trainer_new(&t, 3), 0);
	for (char *l = strtok_r(q.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_t *v = jsonx_parse(l, strlen(l), "questions.jsonl");
		const char *text = jsonx_str(v, "question");

		if (jsonx_int(v, "n", -1) < 180)
			assert_int_equal(stats_tokenize(text, strlen(text), stats_lm_trainer_token,
							t), 0);
		json_decref(v);
	}
	assert_int_equal(stats_lm_trainer_finish(t, &raw), 0);
	stats_lm_trainer_free(t);
	assert_int_equal(stats_lm_train(&lines, 3, train.data, train.len), 0);
	a = arpa_text(raw, &na);
	b = arpa_text(lines, &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	free(a);
	free(b);
	stats_lm_free(raw);
	stats_lm_free(lines);
	buf_release(&q);
	buf_release(&train);
}

/* ---- training on a tiny corpus ------------------------------------------ */

static const char tiny[] = "the cat sat on the mat\n"
			   "the dog sat on the log\n"
			   "a cat and a dog\n"
			   "the cat saw a dog on the mat\n"
			   "a dog sat\n";

/* sum over every word but <s> of p(w | the state after words) */
static double mass_after(const struct stats_lm *lm, const char *words)
{
	struct stats_lm_state st;
	struct stats_lm_info info;
	char copy[128], *save = NULL;
	double sum = 0;

	stats_lm_info(lm, &info);
	stats_lm_begin(lm, &st);
	snprintf(copy, sizeof(copy), "%s", words);
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		(void)stats_lm_score(lm, &st, stats_lm_word(lm, w, strlen(w)), &st);
	for (uint32_t id = 0; id < info.vocab; id++) {
		struct stats_lm_state out;

		if (id != STATS_LM_BOS)
			sum += pow(10.0, stats_lm_score(lm, &st, id, &out));
	}
	return sum;
}

static void tiny_corpus_trains_a_normalized_model(void **state)
{
	static const char *const histories[] = {
		"", "the", "the cat", "sat on", "on the", "a", "a dog", "zebra", "the zebra sat",
		"cat sat on",
	};
	struct stats_lm_info info;
	struct stats_lm *lm;
	double worst = 0;

	(void)state;
	for (int order = 2; order <= 5; order++) {
		assert_int_equal(stats_lm_train(&lm, order, tiny, sizeof(tiny) - 1), 0);
		stats_lm_info(lm, &info);
		assert_int_equal(info.vocab, 13); /* 10 words, <unk> <s> </s> */
		/* too few counts for Chen and Goodman's discounts at the top */
		assert_int_equal(!!(info.fallback & (1u << (order - 1))), order >= 3);
		for (size_t i = 0; i < CL_ARRAY_SIZE(histories); i++) {
			double m = mass_after(lm, histories[i]);

			worst = fmax(worst, fabs(m - 1));
			if (fabs(m - 1) > 1e-6)
				fail_msg("order %d, after '%s': the probabilities sum to %.9f", order,
					 histories[i], m);
		}
		stats_lm_free(lm);
	}
	fprintf(stderr, "# tiny corpus, orders 2-5, %zu histories: max |sum p(w|h) - 1| %.2g\n",
		CL_ARRAY_SIZE(histories), worst);
}

static void training_refuses_reserved_tokens_and_bad_orders(void **state)
{
	struct stats_lm_trainer *t;
	struct stats_lm *lm;
	int rc;

	(void)state;
	rc = stats_lm_train(&lm, 3, "a <s> b\n", 8);
	assert_int_equal(rc, CL_EINVAL);
	assert_non_null(strstr(err_msg(rc), "token '<s>' is reserved"));
	assert_null(lm);
	assert_int_equal(stats_lm_train(&lm, 3, "a </s>\n", 7), CL_EINVAL);
	assert_int_equal(stats_lm_train(&lm, 3, "<unk>\n", 6), CL_EINVAL);
	assert_int_equal(stats_lm_train(&lm, 1, "a\n", 2), CL_EINVAL);
	assert_int_equal(stats_lm_train(&lm, 6, "a\n", 2), CL_EINVAL);
	assert_int_equal(stats_lm_trainer_new(&t, 3), 0);
	assert_int_equal(stats_lm_trainer_finish(t, &lm), CL_EINVAL); /* nothing to train on */
	stats_lm_trainer_free(t);
	/* an empty line is a sentence, as for lmplz: "<s> </s>" */
	assert_int_equal(stats_lm_train(&lm, 2, "\n", 1), 0);
	{
		const char *w[] = { "<s>", "</s>" };
		float p, b;

		assert_int_equal(stats_lm_lookup(lm, w, 2, &p, &b), 0);
	}
	stats_lm_free(lm);
}

/* ---- save, load, scoring text ------------------------------------------- */

static void saved_model_loads_and_scores_the_same(void **state)
{
	struct stats_lm *lm, *back;
	struct stats_lm_ppl a = { 0 }, b = { 0 };
	static const char text[] = "The cat sat on the mat.\nA zebra sat on a dog!\n";
	struct buf saved;
	unsigned seed = 1;

	(void)state;
	assert_int_equal(stats_lm_train(&lm, 4, tiny, sizeof(tiny) - 1), 0);
	buf_init(&saved, 0);
	assert_int_equal(stats_lm_save(lm, &saved), 0);
	assert_int_equal(stats_lm_load(&back, saved.data, saved.len), 0);
	assert_int_equal(stats_lm_score_text(lm, text, sizeof(text) - 1, &a), 0);
	assert_int_equal(stats_lm_score_text(back, text, sizeof(text) - 1, &b), 0);
	assert_int_equal(a.sentences, 2);
	assert_int_equal(a.tokens, 16); /* 7 + 7 tokens, 2 </s> */
	assert_int_equal(a.oov, 3);     /* '.', zebra, '!' */
	assert_true(a.log10_total == b.log10_total);
	assert_true(stats_lm_ppl_incl(&a) > stats_lm_ppl_excl(&a));
	{
		char *t1, *t2;
		size_t n1, n2;

		t1 = arpa_text(lm, &n1);
		t2 = arpa_text(back, &n2);
		assert_int_equal(n1, n2);
		assert_memory_equal(t1, t2, n1);
		free(t1);
		free(t2);
	}
	stats_lm_free(back);

	/* refused: short, another magic, a size changed; any corrupted byte
	 * either is refused or loads a model that is safe to use */
	assert_int_equal(stats_lm_load(&back, saved.data, saved.len - 1), CL_EPARSE);
	assert_int_equal(stats_lm_load(&back, saved.data, 10), CL_EPARSE);
	saved.data[0] ^= 1;
	assert_int_equal(stats_lm_load(&back, saved.data, saved.len), CL_EPARSE);
	saved.data[0] ^= 1;
	for (int i = 0; i < 3000; i++) {
		size_t at = (size_t)rand_r(&seed) % saved.len;
		char was = saved.data[at];

		saved.data[at] = (char)rand_r(&seed);
		if (stats_lm_load(&back, saved.data, saved.len) == 0) {
			FILE *f = fopen("/dev/null", "w");
			struct stats_lm_ppl c = { 0 };

			assert_int_equal(stats_lm_score_text(back, text, sizeof(text) - 1, &c), 0);
			assert_non_null(f);
			assert_int_equal(stats_lm_write_arpa(back, f), 0);
			fclose(f);
			stats_lm_free(back);
		}
		saved.data[at] = was;
	}
	buf_release(&saved);
	stats_lm_free(lm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokens_are_lower_cased_unicode_words_and_single_marks),
		cmocka_unit_test(ascii_lines_split_as_the_pattern_splits_them),
		cmocka_unit_test(tokenizer_calls_back_per_token_and_sentence_and_refuses_bad_utf8),
		cmocka_unit_test(apps_statements_tokenize_to_train_and_test_txt),
		cmocka_unit_test(pruned_model_backs_off_through_hidden_suffixes_like_kenlm),
		cmocka_unit_test(arpa_round_trip_keeps_every_number),
		cmocka_unit_test(minus_infinity_reads_and_writes_back),
		cmocka_unit_test(kenlm_arpa_is_written_back_line_for_line),
		cmocka_unit_test(arpa_with_an_empty_order_loads_and_scores),
		cmocka_unit_test(malformed_arpa_is_refused_with_line_and_reason),
		cmocka_unit_test(kenlm_models_score_test_txt_as_kenlm_query),
		cmocka_unit_test(training_on_train_txt_gives_kenlm_models),
		cmocka_unit_test(training_on_raw_statements_equals_training_on_train_txt),
		cmocka_unit_test(tiny_corpus_trains_a_normalized_model),
		cmocka_unit_test(training_refuses_reserved_tokens_and_bad_orders),
		cmocka_unit_test(saved_model_loads_and_scores_the_same),
	};

	log_init("test_lm", LOG_ERR);
	return cmocka_run_group_tests_name("lm", tests, NULL, NULL);
}
