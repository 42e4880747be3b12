/*
 * stats.h - the tokenizer and the n-gram language model.
 *
 * Tokens: text is lower-cased and split by \w+|[^\w\s] with Unicode word
 * characters; a sentence is a line that has at least one token.
 *
 * Language model: an interpolated modified Kneser-Ney model of order 1..6
 * (training: 2..5) that matches KenLM.  It reads and writes ARPA files (KenLM's
 * and SRILM's), trains as KenLM's `lmplz -o N` does with its defaults, and
 * scores as KenLM's `query` does (OOV tokens as <unk>, <s> as the start and
 * </s> scored at the end of every sentence).  The in-memory model is one flat
 * block: per-order open-addressing hash tables keyed by a 64-bit hash of the
 * word ids (KenLM's "probing" layout), which stats_lm_save() writes as is.
 *
 * A struct stats_lm never changes once made: any number of threads may score
 * with it at once.  Functions that can fail return 0 or a negative CL_E* code
 * and say why with err_set() (read it with err_msg()).
 */
#ifndef CLARIFY_STATS_H
#define CLARIFY_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/common.h"

/* ---- tokenizer -------------------------------------------------------- */

/*
 * Called once per token with its lower-cased UTF-8 bytes (not
 * NUL-terminated; valid only during the call), and with tok == NULL, n == 0
 * at the end of each sentence.
 */
typedef void (*stats_token_fn)(const char *tok, size_t n, void *arg);

/*
 * Tokenize len bytes of UTF-8 text: each line ('\n') is lower-cased
 * (Unicode simple case mapping from the C library's C.UTF-8 locale, plus
 * Python's two special cases: 'İ' becomes "i̇" and a word-final 'Σ' becomes
 * 'ς'), then split by \w+|[^\w\s] (PCRE2, UTF and UCP).  A line without
 * tokens is no sentence.  CL_EUTF8 when the text is not valid UTF-8 (fn may
 * have been called for the lines before the bad byte).
 */
int stats_tokenize(const char *text, size_t len, stats_token_fn fn, void *arg);

/* The same, appended to out as one sentence per line, tokens separated by
 * one space: the layout of lm-reference/train.txt and of lmplz's input. */
int stats_tokenize_lines(const char *text, size_t len, struct buf *out);

/* ---- language model ---------------------------------------------------- */

#define STATS_LM_MAX_ORDER 6

/* Word ids every model has. */
#define STATS_LM_UNK 0u /* <unk>: every word the model does not know */
#define STATS_LM_BOS 1u /* <s> */
#define STATS_LM_EOS 2u /* </s> */

struct stats_lm;

/*
 * What the model remembers of the words so far (KenLM's State): the longest
 * n-gram ending at the last word that a longer n-gram could extend, most
 * recent word first, with the back-off weights (log10) of its suffixes.
 * A plain value: copy it freely.
 */
struct stats_lm_state {
	uint32_t words[STATS_LM_MAX_ORDER - 1];
	float backoff[STATS_LM_MAX_ORDER - 1];
	unsigned len;
};

struct stats_lm_info {
	int order;
	uint32_t vocab;                        /* words, <unk> <s> </s> included */
	uint64_t count[STATS_LM_MAX_ORDER];    /* n-grams of order i + 1 */
	uint64_t ngrams;                       /* their sum */
	size_t bytes;                          /* memory the model holds */
	float discount[STATS_LM_MAX_ORDER][3]; /* D1 D2 D3+ when trained, else 0 */
	unsigned fallback;                     /* bit i: order i + 1 used 0.5 1 1.5 */
};

/*
 * Read an ARPA model.  Refused with CL_EPARSE and "NAME:LINE: reason" when
 * malformed: no \data\ header, orders out of sequence, a count that does not
 * match its section, a field that is not a number (a decimal that fits a
 * float, or -inf), a positive log10 probability, a back-off on the highest
 * order, an n-gram of unknown words, a duplicate n-gram, an n-gram
 * whose context (its first n-1 words) is not an (n-1)-gram, no <s> or </s>.
 * As in KenLM, a missing <unk> gets log10 probability -100, and an n-gram
 * whose suffix was pruned (SRILM) gets the suffix as a hidden entry with the
 * backed-off probability.  *out is the caller's: stats_lm_free() it.
 */
int stats_lm_read_arpa(struct stats_lm **out, const char *path);
/* The same from memory; name is used in messages.  data is not kept. */
int stats_lm_read_arpa_buffer(struct stats_lm **out, const char *data, size_t len,
			      const char *name);

/* Write the model in KenLM's ARPA layout (unigrams in id order, the higher
 * orders in insertion order; shortest decimals that read back exactly). */
int stats_lm_write_arpa(const struct stats_lm *lm, FILE *f);

/*
 * Train an interpolated modified Kneser-Ney model of order 2..5 exactly as
 * KenLM's lmplz does by default (no pruning, unigrams interpolated with the
 * uniform distribution, <unk> given the left-over mass).  The input is
 * lmplz's: one sentence per line, tokens separated by spaces or tabs (an
 * empty line is an empty sentence).  <s>, </s> and <unk> may not appear in
 * it (CL_EINVAL).  When the count-of-counts cannot give discounts (tiny or
 * repetitive data) an order falls back to D = 0.5 1 1.5, as lmplz
 * --discount_fallback does.  *out is the caller's: stats_lm_free() it.
 */
int stats_lm_train(struct stats_lm **out, int order, const char *text, size_t len);

/*
 * The same, fed piece by piece: stats_lm_trainer_token() has the
 * stats_token_fn signature, so stats_tokenize(text, len,
 * stats_lm_trainer_token, t) trains on raw text.  An error while feeding
 * (out of memory, a reserved token) is kept and returned by _finish().
 * _finish() may be called once; free the trainer with _free() in any case.
 */
struct stats_lm_trainer;
int stats_lm_trainer_new(struct stats_lm_trainer **out, int order);
void stats_lm_trainer_token(const char *tok, size_t n, void *trainer);
int stats_lm_trainer_add_lines(struct stats_lm_trainer *t, const char *text, size_t len);
int stats_lm_trainer_finish(struct stats_lm_trainer *t, struct stats_lm **out);
void stats_lm_trainer_free(struct stats_lm_trainer *t);

void stats_lm_free(struct stats_lm *lm);
void stats_lm_info(const struct stats_lm *lm, struct stats_lm_info *info);

/*
 * Serialize to bytes appended to out (a flat block: header then arrays; same
 * machine byte order), and back.  stats_lm_load() checks every index and
 * copies data (not kept) into one aligned block.
 */
int stats_lm_save(const struct stats_lm *lm, struct buf *out);
int stats_lm_load(struct stats_lm **out, const void *data, size_t len);

/* ---- queries ---------------------------------------------------------- */

/* The id of a word, STATS_LM_UNK when the model does not know it. */
uint32_t stats_lm_word(const struct stats_lm *lm, const char *word, size_t n);
/* The text of word id (NUL-terminated), NULL when out of range.  Valid as
 * long as the model. */
const char *stats_lm_word_text(const struct stats_lm *lm, uint32_t id);

/* The state at the start of a sentence (after <s>). */
void stats_lm_begin(const struct stats_lm *lm, struct stats_lm_state *st);

/*
 * log10 p(word | state), and the state after word in *out (in and out may be
 * the same).  An id out of range is scored as <unk>.
 */
float stats_lm_score(const struct stats_lm *lm, const struct stats_lm_state *in, uint32_t word,
		     struct stats_lm_state *out);

/* Totals over scored sentences, for perplexity in KenLM's terms. */
struct stats_lm_ppl {
	double log10_total; /* over every token and each sentence's </s> */
	double log10_oov;   /* the part of it that OOV tokens gave */
	uint64_t tokens;    /* tokens, </s> included */
	uint64_t oov;
	uint64_t sentences;
};

/*
 * Score one sentence: <s> w1 ... wn </s>, the tokens as word ids (see
 * stats_lm_word) or as strings.  Returns the total log10 probability (</s>
 * included, <s> not scored), stores the OOV count in *oov when not NULL, and
 * adds the sentence to acc when not NULL.
 */
double stats_lm_score_ids(const struct stats_lm *lm, const uint32_t *ids, size_t n, int *oov,
			  struct stats_lm_ppl *acc);
double stats_lm_score_sentence(const struct stats_lm *lm, const char *const *tokens, size_t n,
			       int *oov, struct stats_lm_ppl *acc);

/* Tokenize text (stats_tokenize) and add each sentence to acc. */
int stats_lm_score_text(const struct stats_lm *lm, const char *text, size_t len,
			struct stats_lm_ppl *acc);

/* 10^(-total/tokens), and the same without the OOV tokens (KenLM's query);
 * NAN when there is nothing to count. */
double stats_lm_ppl_incl(const struct stats_lm_ppl *p);
double stats_lm_ppl_excl(const struct stats_lm_ppl *p);

/*
 * The log10 probability and back-off of the n-gram words[0..n-1] as the
 * model holds it (backoff 0 when it has none); CL_ENOTFOUND when absent.
 */
int stats_lm_lookup(const struct stats_lm *lm, const char *const *words, int n, float *prob,
		    float *backoff);

/*
 * Call fn for every n-gram of order n (unigrams in id order, the others in
 * insertion order).  words are valid during the call.  A non-zero return
 * from fn stops the walk and is returned.
 */
typedef int (*stats_lm_ngram_fn)(const char *const *words, int n, float prob, float backoff,
				 void *arg);
int stats_lm_foreach(const struct stats_lm *lm, int n, stats_lm_ngram_fn fn, void *arg);

/* ---- signals of a record (stats/signals.c) ------------------------------ */

/* What is measured of one text. */
struct stats_text {
	uint64_t tokens;          /* by stats_tokenize, </s> not counted */
	uint64_t sentences;       /* non-empty lines */
	uint64_t chars;           /* UTF-8 characters */
	double entropy;           /* Shannon entropy, nats, of its token unigrams */
	double perplexity;        /* exp(-(1/N) sum ln p) over the tokens and each
				     line's </s> (KenLM's "including OOVs");
				     NAN without a model */
	uint64_t oov;
	double repeated_lines;    /* share of non-empty lines repeating one before */
	double repeated_ngrams;   /* share of token 4-grams repeating one before */
};

/* Measure text; lm may be NULL (no perplexity).  0, CL_EUTF8 or CL_ENOMEM. */
int stats_text(const struct stats_lm *lm, const char *text, struct stats_text *out);

/* Dice similarity of the two texts' token bigrams: 1 the same, 0 nothing shared. */
double stats_similarity(const char *a, const char *b);

/*
 * The signals of a record as JSON (a new reference, NULL on error):
 * {"modified": {tokens, chars, sentences, entropy, perplexity, oov,
 * repeated_lines, repeated_ngrams}, "questions": {the same, the questions
 * joined one a line}, "question_count", "similarity" (to the original)}.
 */
json_t *stats_record(const struct stats_lm *lm, const char *original, const char *modified,
		     const char *const *questions, size_t nquestions);

/* Stage 3's answers, joined one a line, as signals["answers"] (the same
 * fields as "questions"); 0, CL_ENOMEM. */
int stats_record_answers(const struct stats_lm *lm, json_t *signals, const char *const *answers,
			 size_t nanswers);

/* Validation bounds (0: none): outside them a record is rejected. */
struct stats_bounds {
	double modified_ppl_min, modified_ppl_max;
	double questions_ppl_min, questions_ppl_max;
	double modified_entropy_min, modified_entropy_max;
	double questions_entropy_min, questions_entropy_max;
};

void stats_bounds_init(struct stats_bounds *b);

/* Check signals (from stats_record) against b; verdicts "lm-perplexity" and
 * "lm-entropy" go to out (a struct filter_result of filters/filter.h). */
struct filter_result;
int stats_validate(const struct stats_bounds *b, const json_t *signals,
		   struct filter_result *out);

/* ---- aggregates for auditors -------------------------------------------- */

struct stats_agg {
	double *v;
	size_t n, cap;
};

void stats_agg_init(struct stats_agg *a);
void stats_agg_release(struct stats_agg *a);
int stats_agg_add(struct stats_agg *a, double x);  /* NaN and infinities are skipped */
/* {"count", "mean", "sd", "min", "p5", "p50", "p95", "max", "histogram":
 * {"lo", "hi", "counts": [bins]}} (a new reference); sorts a's values. */
json_t *stats_agg_json(struct stats_agg *a, int bins);
/* Sort a's values, and the p-th percentile (0..100) of them by linear
 * interpolation between the closest ranks: a->n must be > 0. */
void stats_agg_sort(struct stats_agg *a);
double stats_agg_percentile(const struct stats_agg *a, double p);


#endif
