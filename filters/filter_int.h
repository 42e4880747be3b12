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
	int unless_original;      /* a match the original holds too is its own words */
	char **keywords;         /* lower case; NULL: the pattern always runs */
	size_t nkeywords;
	char **also;             /* and one of these too (and_keywords) */
	size_t nalso;
	pcre2_code *re;
};

/* A token of a text: where it is, and the hash of its lower case. */
struct tok {
	uint32_t off, len;
	uint64_t h;
};

/* A line of a text: the hash of its tokens, and where they are. */
struct tline {
	uint64_t h;
	uint32_t off, len;
};

struct tmask;

struct toks {
	struct tok *v;
	size_t n, cap;
	struct tline *lines;     /* with toks_fill(..., 1) */
	size_t nlines, lcap;
	unsigned char *lc;       /* the text lower-cased, padded */
	struct tmask *masks;     /* per 64 bytes: word, space, newline bits */
	size_t lc_cap;
	size_t len;              /* the text's length */
	int has_lines;           /* lines are filled */
	int utf8;                /* the text is well-formed UTF-8 */
};

/* n-gram hashes with counts (checks.c): a slot is the n-gram's 32-bit key,
 * then its count in the original and in the modified problem, 16 bits each */
struct gmap {
	uint64_t *v;
	size_t cap, used;
	uint32_t *touched;       /* the slots in use, to clear them after */
	size_t ntouched;
	uint64_t *g;             /* a text's n-gram hashes, before they go in */
	size_t gcap;
};

/* A set of token hashes (drift's word types). */
struct hset {
	uint64_t *v;
	size_t cap, n;
};

#define MAX_VALUES 512       /* numbers of a text the value check compares */

int toks_fill(struct toks *t, const char *text, int lines);
/* Fill t's lines, if toks_fill was not asked to (t's text is unchanged). */
int toks_lines(struct toks *t);
/* The hash toks_fill gives a token of these bytes (lower-cased). */
uint64_t filter_word_hash(const char *w, size_t n);
void toks_release(struct toks *t);
int gmap_reset(struct gmap *m, size_t entries);
void gmap_release(struct gmap *m);
void hset_release(struct hset *s);
/* The numbers of text (tokenized in t), as values (10^5 is 100000),
 * those under 10 left out, at most max; at (when not NULL) gets each one's start and end
 * offsets, two per value. */
size_t text_values(const char *text, const struct toks *t, double *out, uint32_t *at,
		   size_t max);

void filter_keywords_free(void *kw);

/* repeated-lines' count of a line */
struct lcount {
	uint64_t h;
	size_t n, raw;
	ssize_t orig;                /* the original's count, -1 until needed */
};

/* What a built-in check sees; verdict() records one. */
/* bytes (tokens.c, checks.c, commentary.c) */
static inline int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c >= 0x80;
}

static inline int is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

#define ROLL_P 0x100000001b3ULL

struct check_ctx {
	const struct filter_input *in;
	const struct filter_limits *limits;
	struct toks *orig;           /* its lines filled when a check needs them */
	const struct toks *mod;
	struct gmap *map;            /* the original's and modified n-grams */
	uint64_t *types;             /* drift's word types: two Bloom filters */
	double *orig_values, *mod_values; /* MAX_VALUES each, read when needed */
	uint32_t *orig_at, *mod_at;  /* where each of them is */
	size_t norig_values, nmod_values;
	int values_ready;
	uint64_t **cls;              /* inline-commentary's word classes, per token */
	size_t *ncls;
	const signed char *actions;  /* per built-in check */
	struct lcount **ltab;        /* repeated-lines' table, kept between records */
	size_t *nltab;
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
int check_commentary(struct check_ctx *c);   /* commentary.c */

#endif
