/*
 * offline_int.h - the insides of the offline provider, shared by its
 * files: offline_text.c (bytes, the generator, comparison chains),
 * offline_doc.c (the statement as lines in sections, sentences, edits and
 * their spans, bounds and conditions), offline_incomplete.c and
 * offline_ambiguous.c, offline_inconsistent.c (stage 1 by category and
 * the fallbacks), offline_clarify.c (stage 2) and offline.c (the
 * provider, and the rule file of questions and reasoning).
 *
 * This is a hand-written rule engine (no library does this).  It reads a
 * statement as lines in sections (APPS "-----Input-----" headers, LeetCode
 * "Example 1:" and "Constraints:"), finds bounds ("1 \le n \le 10^5",
 * "1 <= n <= 100", "(2 ≤ n, m ≤ 2 500)") and condition sentences, and
 * replaces byte spans.  Every span starts and ends on an ASCII byte, so a
 * multi-byte UTF-8 character is never split.  Each choice comes from a
 * generator seeded with FNV-1a of the statement, the category and the seed:
 * the same request always gets the same reply.
 *
 * Stage 2 recomputes stage 1 for the same statement, category and seed; when
 * that gives the rewritten problem it knows exactly what was edited,
 * otherwise it compares the two texts line by line.  Candidate questions
 * that would quote four consecutive words the rewrite took out, or that
 * speak of an earlier text, are replaced by more generic ones.
 */
#ifndef CLARIFY_LLM_OFFLINE_INT_H
#define CLARIFY_LLM_OFFLINE_INT_H

#include <stdlib.h>
#include <string.h>

#include "provider.h"


#define MAX_EDITS 6

#define MAX_QUESTIONS 4

#define LEAK_RUN 4

/* "a op b op c": where each operand starts and ends. */
struct chain {
	size_t a[5], b[5];
	size_t na;
};

enum sec {
	SEC_STMT, SEC_INPUT, SEC_OUTPUT, SEC_CONSTR, /* prose the rules may edit */
	SEC_HEADER, SEC_EXAMPLE, SEC_EX_IN, SEC_EX_OUT, SEC_NOTE, SEC_EXPL, SEC_CODE,
};

struct line {
	size_t off, len; /* without the '\n' */
	size_t end;      /* past the '\n' */
	int sec;
	int ex;          /* the example it belongs to, from 1 */
	int exline;      /* its data line in the example's output, from 1 */
};

struct doc {
	const char *p;
	size_t n;
	struct line *lines;
	size_t nlines;
	int nex;
	int leetcode;    /* "Example 1:" layout */
	unsigned char *url; /* 1 for bytes of a URL */
};

enum hdr {
	H_NONE, H_STMT, H_INPUT, H_OUTPUT, H_CONSTR, H_EXAMPLE, H_EX_IN, H_EX_OUT, H_NOTE,
	H_LC_EXAMPLE, H_LC_NOTE, H_PLAIN_IN, H_PLAIN_OUT, H_EXPL, H_IN_INLINE, H_OUT_INLINE,
	H_EXPL_INLINE, H_FOLLOW,
};

struct parse_state {
	int sec, ex, exline, gap, code, pending;
};

struct sent {
	size_t off, len, line;
	int first; /* the statement's first sentence */
};

struct sents {
	struct sent *v;
	size_t n, cap;
};

enum edit_kind {
	EK_DROP_BOUND, EK_DROP_SENT, EK_DROP_GENERIC,
	EK_VAGUE_BOUND, EK_VAGUE_ATMOST, EK_VAGUE_ATLEAST, EK_VAGUE_SORTED, EK_VAGUE_EXACTLY,
	EK_VAGUE_DISTINCT, EK_VAGUE_BEST, EK_VAGUE_MODULO, EK_VAGUE_LEX, EK_VAGUE_INDEXED,
	EK_VAGUE_INTEGER, EK_VAGUE_CASE, EK_VAGUE_SIGN, EK_VAGUE_VALUE, EK_VAGUE_GENERIC,
	EK_CONFLICT_OUTPUT, EK_CONFLICT_NOTE, EK_CONFLICT_BOUND, EK_CONFLICT_VALUE,
	EK_CONFLICT_APPEND, EK_CONFLICT_GENERIC, EK_COUNT
};

/* What a condition sentence is about. */
enum kw {
	KW_NONE, KW_GUAR_ANSWER, KW_GUAR, KW_MOD, KW_DISTINCT, KW_LIMIT, KW_ORDER, KW_IF,
	KW_EACH, KW_REL,
};

/* Which extreme "best" hides. */
enum fam { FAM_MINMAX, FAM_SIZE, FAM_LENGTH, FAM_COUNT };

struct edit {
	int kind;
	int cls;          /* KW_* for EK_DROP_SENT, FAM_* for EK_VAGUE_BEST, ... */
	int ex, exline, exlines, nex, leetcode;
	int plural;
	char var[64];     /* the quantity, "" when unknown */
	char what[64];    /* the words the text has now */
	char from[64];    /* the words it had (for the reasoning only) */
};

struct span {
	size_t off, len;
	char repl[160];
};

struct spans {
	struct span *v;
	size_t n, cap;
};

struct rewrite {
	struct buf text;  /* the rewritten problem */
	struct buf why;   /* the reasoning */
	struct edit e[MAX_EDITS];
	int ne;
};

enum bound_kind { B_LINE, B_PAREN, B_MATH, B_INLINE };

enum amb_form { AMB_NONE, AMB_PAREN, AMB_LINE, AMB_MATH, AMB_CLAUSE };

struct bound {
	int kind;
	size_t line;
	size_t drop_off, drop_len;  /* what incomplete takes out (len 0: see sentence) */
	int drop_sentence;
	size_t amb_off, amb_len;    /* what ambiguous replaces */
	int amb;
	char var[64];               /* for questions: every name it bounds */
	char cvar[64];              /* the first chain's quantity */
	char raw[64];               /* the same as written, for the text */
	int plural, cplural;
	size_t up_off, up_len;      /* a plain upper bound: the last operand */
	size_t lo_off, lo_len;      /* and the first */
	int first_line_bound;       /* the first bound of a "first line" sentence */
};

struct bounds {
	struct bound *v;
	size_t n, cap;
};

/* Conditions that are lines but not numeric bounds ("arr[i] < arr[j]"). */
struct cond {
	size_t line;
	int cls;
	char vars[64];
};

struct conds {
	struct cond *v;
	size_t n, cap;
};

struct ctx {
	struct doc d;
	struct sents ss;
	struct bounds bs;
	struct conds cs;
	uint64_t rng;
	int cat;
};

struct cand {
	size_t off, len;
	const struct sent *s;  /* drop this sentence instead, when set */
	struct edit e;
};

enum rule {
	R_BOUND, R_ATMOST, R_ATLEAST, R_SORTED, R_EXACTLY, R_DISTINCT, R_BEST, R_MODULO, R_LEX,
	R_INDEXED, R_INTEGER, R_CASE, R_SIGN, R_RANGE, R_COUNT,
};

struct amb {
	struct ctx *x;
	struct spans *sp;
	struct rewrite *w;
};

/* Each editable line, skipping URLs: call f at every byte. */
typedef int (*amb_fn)(struct amb *a, size_t i, size_t hi, struct edit *e);

struct ncand {
	size_t off, len;
	char repl[48];
	struct edit e;
};

struct ncands {
	struct ncand *v;
	size_t n, cap;
};

struct numtok {
	uint64_t h;
	size_t s, e, li;
};

struct unit {
	size_t oa, ob;   /* the text taken out or replaced, in the original */
	size_t ma, mb;   /* what stands there now, in the rewritten problem */
	int msec, mex, mexline, mexlines;
	size_t mline;
	int has_m;
};

struct toks {
	size_t *off;
	size_t *len;
	size_t n;
};

struct checker {
	const char *o, *m;
	size_t on, mn;
	struct toks ot[2], mt[2];
};

/* Up to three phrasings for each question an edit raises, best first. */


int off_is_digit(int c);
int off_is_alpha(int c);
int off_is_alnum(int c);
int off_upper(int c);
unsigned char off_at(const char *p, size_t i, size_t n);
size_t off_space_len(const char *p, size_t i, size_t n);
int off_is_wordc(int c);
int off_word_before(const char *p, size_t i);
int off_word_after(const char *p, size_t i, size_t n);
int off_eq_ci(const char *a, const char *b, size_t n);
int off_same_ci(const char *p, size_t n, const char *s);
int off_starts_ci(const char *p, size_t n, const char *s);
int off_contains_ci(const char *p, size_t n, const char *s);
size_t off_phrase_at(const char *p, size_t i, size_t n, const char *s);
size_t off_count_phrase(const char *p, size_t n, const char *s);
int off_has_digit(const char *p, size_t a, size_t b);
void off_u8_cut(char *s, size_t len);
void off_copy_text(char *out, size_t cap, const char *p, size_t n);
size_t off_rng_pick(uint64_t *s, size_t n);
size_t off_op_at(const char *p, size_t i, size_t n);
int off_numeric(const char *p, size_t a, size_t b);
size_t off_operand_fwd(const char *p, size_t s, size_t hi);
size_t off_skip_ws(const char *p, size_t i, size_t n);
size_t off_skip_sp(const char *p, size_t i, size_t hi);
size_t off_numeric_more(const char *p, size_t e, size_t hi);
int off_chain_at(const char *p, size_t lo, size_t hi, size_t i, struct chain *c);
int off_chain_has_number(const char *p, const struct chain *c);
void off_clean_math(const char *p, size_t n, char *out, size_t cap);
void off_chain_var(const char *p, const struct chain *c, char *var, size_t cap, char *raw,
		      size_t rawcap, int *plural);
int off_editable(int sec);
void off_trim(const char *p, size_t *a, size_t *b);
void off_doc_release(struct doc *d);
int off_doc_parse(struct doc *d, const char *p, size_t n);
int off_line_blank(const struct doc *d, size_t li);
int off_output_lines(const struct doc *d, size_t li);
int off_words_in(const char *p, size_t n);
void off_sentence_drop_span(const struct doc *d, const struct sent *s, size_t *off, size_t *len);
int off_spans_add(struct spans *s, size_t off, size_t len, const char *repl);
int off_spans_touch(const struct spans *s, size_t a, size_t b);
int off_spans_apply(struct spans *s, const char *p, size_t n, struct buf *out);
struct edit *off_edit_new(struct rewrite *w, int kind);
void off_text_vars(const char *p, size_t n, char *out, size_t cap);
int off_classify_condition(const char *p, size_t n, int *cls);
const struct sent *off_sentence_of(const struct sents *ss, size_t pos);
size_t off_first_op(const char *p, size_t a, size_t b);
void off_ctx_release(struct ctx *x);
int off_ctx_init(struct ctx *x, const char *p, size_t n, int cat, uint64_t seed);
int off_line_is_bound(const struct ctx *x, size_t li);
int off_modify_incomplete(struct ctx *x, struct rewrite *w, struct spans *sp);
int off_fallback_incomplete(struct ctx *x, struct rewrite *w, struct spans *sp);
void off_cased(char *out, size_t cap, const char *repl, const char *orig);
int off_modify_ambiguous(struct ctx *x, struct rewrite *w, struct spans *sp);
int off_same_text(const char *a, size_t an, const char *b, size_t bn);
void off_rewrite_release(struct rewrite *w);
int off_rewrite_compute(const char *p, size_t n, int cat, uint64_t seed, struct rewrite *w);
/* The lines the rewrite m changed in o: up to max units; their count or
 * CL_ENOMEM. */
int off_diff_units(const struct doc *o, const struct doc *m, struct unit *u, int max);
/* Stage 3: answer questions q[0..nq) from o and judge the rewrite m
 * (offline_answer.c). */
int off_answer(const char *o, size_t on, const char *m, size_t mn, int cat, uint64_t seed,
	       const char *const *q, size_t nq, struct buf *reply);
int off_clarify(const char *o, size_t on, const char *m, size_t mn, int cat, uint64_t seed,
		   struct buf *reply);

/* ---- the rule file (offline_rules.c, llm/offline.yaml) ---------------------- */

/* An entry: for an edit of kind (-1: any) and class (-1: any), when the
 * conditions hold (bits of var, what, example, lines) and none of unless. */
struct off_rule {
	int kind, cls;
	unsigned when, unless;
	char *ask[2][3];         /* questions: up to two, each up to three wordings */
	int nask;
	char *say;               /* reasoning */
	size_t line;
};

struct off_rules {
	struct off_rule *q, *why;
	size_t nq, nwhy;
	char **generic;
	size_t ngeneric;
	char *close;
	char *vague[4][8];       /* paren, paren_plural, singular, plural */
	size_t nvague;
	/* stage 3: phrases (lower case) by which a rewrite announces itself
	 * or speaks of an original; judge.self_announced, judge.mentions_original */
	char **judge[2];
	size_t njudge[2];
};

enum { OFF_JUDGE_ANNOUNCED, OFF_JUDGE_MENTIONS };

enum { OFF_VAGUE_PAREN, OFF_VAGUE_PAREN_PLURAL, OFF_VAGUE_SINGULAR, OFF_VAGUE_PLURAL };

/* Parse a rule file; CL_ECONFIG with "NAME:LINE: why" for a bad one. */
int off_rules_parse(const char *data, size_t len, const char *name, struct off_rules **out);
void off_rules_free(struct off_rules *r);
/* The shipped rules (built in), read once; NULL with the error set if bad. */
const struct off_rules *off_rules_shipped(void);
/* The first entry of v[0..n) for e, or NULL. */
const struct off_rule *off_rules_find(const struct off_rule *v, size_t n, const struct edit *e);

#endif
