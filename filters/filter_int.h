/* filter_int.h - what the files of the filters module share (not public) */
#ifndef CLARIFY_FILTER_INT_H
#define CLARIFY_FILTER_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "filter.h"

struct filter_rule {
	char *id;
	char *description;
	char *file;              /* where it was defined, for messages */
	size_t line;
	unsigned fields;         /* FIELD_* */
	int action;
	char **keywords;         /* lower case; NULL: the pattern always runs */
	size_t nkeywords;
	char **also;             /* and one of these too (and_keywords) */
	size_t nalso;
	pcre2_code *re;
};

/* A token of a text: where it is, and the FNV-1a hash of its lower case. */
struct tok {
	uint32_t off, len;
	uint64_t h;
};

struct toks {
	struct tok *v;
	size_t n, cap;
};

/* A set of 64-bit hashes, open addressing; 0 is never stored. */
struct hset {
	uint64_t *v;
	size_t cap, n;
};

int toks_fill(struct toks *t, const char *text);
/* The hash toks_fill gives a token of these bytes (lower-cased). */
uint64_t filter_word_hash(const char *w, size_t n);
void toks_release(struct toks *t);
void hset_clear(struct hset *s);
int hset_add(struct hset *s, uint64_t h);   /* 1 when new, 0 when there, <0 on error */
int hset_has(const struct hset *s, uint64_t h);
void hset_release(struct hset *s);
uint64_t ngram_hash(const struct tok *t, size_t n);

void filter_keywords_free(void *kw);

/* What a built-in check sees; verdict() records one. */
struct check_ctx {
	const struct filter_input *in;
	const struct filter_limits *limits;
	const struct toks *orig, *mod;
	struct hset *set_a, *set_b;  /* set_b: the modified problem's n-grams */
	struct hset *hidden;         /* the original's n-grams */
	int hidden_ready;
	int (*verdict)(struct check_ctx *c, const char *rule, int field, const char *detail);
	void *arg;
};

int check_shape(struct check_ctx *c);
int check_unchanged(struct check_ctx *c);
int check_ngrams(struct check_ctx *c);       /* drift, repeated-ngrams; hidden n-grams */
int check_repeated_lines(struct check_ctx *c);
int check_repeated_words(struct check_ctx *c);
int check_hidden_question(struct check_ctx *c, const char *q, const struct toks *qt);

#endif
