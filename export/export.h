/*
 * export.h - the training set out of one or more stores: the accepted
 * clarify records (D_clarify) mixed with the original problems and a human
 * solution each (D_og) at a ratio r = |D_clarify| / (|D_og| + |D_clarify|),
 * as JSONL (optionally zstd-compressed), written atomically with a
 * manifest.
 *
 * The export streams: it walks the problems of every store in key order
 * (a k-way merge, so that shards holding the same problems give each one
 * once) and, under each problem, its results; nothing is held but the
 * record at hand.  With a ratio below 1 a first walk counts what is
 * eligible on each side, the targets are computed (export_targets), and
 * the second walk decides record by record with a seeded selection
 * (export_pick) that hits the targets exactly.  Both walks read one
 * snapshot (one read transaction per store), so they see the same records.
 */
#ifndef CLARIFY_EXPORT_H
#define CLARIFY_EXPORT_H

#include <signal.h>
#include <stdint.h>

#include "../common/common.h"
#include "../store/store.h"

enum export_format { EXPORT_PAPER, EXPORT_CHAT, EXPORT_DIALOGUE };
enum export_sampling { EXPORT_DOWN, EXPORT_OVER };

/* A record's type: the three categories (CAT_*) and the originals. */
#define EXPORT_ORIGINAL CAT_COUNT
#define EXPORT_TYPE_COUNT (CAT_COUNT + 1)

/* The two sides of the mix, and the two files of a split. */
enum export_side { EXPORT_CLARIFY, EXPORT_OG };
enum export_split { EXPORT_TRAIN, EXPORT_TEST };

/* "paper" -> EXPORT_PAPER; -1 when unknown.  The same for the sampling. */
int export_format_parse(const char *name);
const char *export_format_name(int format);
int export_sampling_parse(const char *name);
const char *export_sampling_name(int sampling);

/* "Ambiguous" ... "Original" (paper), "ambiguous" ... "original" (chat). */
const char *export_type_name(int type);
const char *export_type_category(int type);

/* The system message of every chat row. */
extern const char export_chat_system[];

/* ---- sampling ------------------------------------------------------------ */

/* xoshiro256**, seeded through splitmix64: the same (seed, stream) gives
 * the same sequence everywhere. */
struct export_rng {
	uint64_t s[4];
};

void export_rng_seed(struct export_rng *r, uint64_t seed, uint64_t stream);
uint64_t export_rng_next(struct export_rng *r);
/* Uniform in [0, n), without modulo bias; 0 when n is 0. */
uint64_t export_rng_below(struct export_rng *r, uint64_t n);

/*
 * The number of records to write from each side, given nc eligible clarify
 * records and no eligible originals, so that tc / (tc + to) is ratio within
 * half a record (|tc - ratio (tc + to)| <= 1/2).  ratio is in (0, 1];
 * 1 gives every clarify record and no original.
 *
 *   EXPORT_DOWN: the side in excess is cut down (tc <= nc, to <= no, one
 *                of them equal);
 *   EXPORT_OVER: the side in shortage is repeated (tc >= nc, to >= no, one
 *                of them equal).
 *
 * CL_EINVAL with a message when ratio is out of range, or below 1 with a
 * side empty (there is nothing to mix); *tc and *to are then 0.
 */
int export_targets(double ratio, int sampling, uint64_t nc, uint64_t no, uint64_t *tc,
		   uint64_t *to);

/*
 * Selection over a stream of n records of which target copies in all are
 * to be written: every record gets target / n copies, and one more for a
 * subset of exactly target % n records chosen uniformly (Knuth's algorithm
 * S).  export_pick_next() gives the copies of the next record; past the
 * n-th record it gives 0.
 */
struct export_pick {
	struct export_rng rng;
	uint64_t left;      /* records still to come */
	uint64_t need;      /* of them, how many still get the extra copy */
	uint64_t copies;    /* target / n */
};

void export_pick_init(struct export_pick *p, uint64_t n, uint64_t target, uint64_t seed,
		      uint64_t stream);
uint64_t export_pick_next(struct export_pick *p);

/* ---- rows ---------------------------------------------------------------- */

/* A JSON string literal of s[0..n) (quoted, escaped) appended to out. */
int export_json_string(struct buf *out, const char *s, size_t n);

/* A piece of text: n bytes at p, not NUL-terminated. */
struct export_text {
	const char *p;
	size_t n;
};

struct export_row {
	struct export_text problem;       /* the problem statement */
	struct export_text starter_code;  /* appended after a newline unless n is 0 */
	const struct export_text *answer; /* the answer's lines, joined with "\n" */
	size_t nanswer;
	int type;                         /* CAT_* or EXPORT_ORIGINAL */
	const struct export_text *reply;  /* dialogue: the answers, joined with "\n" */
	size_t nreply;
	struct export_text solution;      /* dialogue: the human solution */
	const char *id;                   /* chat and dialogue: the job or problem key */
	int provenance;                   /* add "model" and "template" (null for an
					     original) */
	struct export_text model;         /* the inside of its JSON string, as stored */
	const char *tmpl;                 /* "modify-x@1 clarify-x@1 ...", UTF-8 text */
	int escaped;                      /* the texts are the insides of JSON string
					     literals, escapes in place, copied as they
					     are; else UTF-8 text, escaped here */
};

/*
 * One line of JSONL (with its newline) appended to out:
 *   paper: {"problem":..., "answer":..., "type":"Ambiguous"}
 *   chat:  {"messages":[system, user: problem, assistant: answer],
 *           "category":"ambiguous", "id":...}
 *   dialogue: {"messages":[system, user: problem, assistant: answer (the
 *           questions), user: reply (the answers), assistant: solution],
 *           "category", "id"}; an original (no reply) is a chat row
 *           there, its answer the solution.
 * Keys in that order, so equal rows give equal bytes.  On failure out is
 * left as it was.
 */
int export_row_append(struct buf *out, int format, const struct export_row *row);

/* The test file's name beside path: "out.jsonl.zst" -> "out.test.jsonl.zst",
 * "out.jsonl" -> "out.test.jsonl", "out" -> "out.test".  CL_ETOOBIG when
 * it does not fit in n bytes. */
int export_test_path(const char *path, char *out, size_t n);

/* ---- the export ------------------------------------------------------------ */

#define EXPORT_MAX_STORES 256

/*
 * Before a merge of the shards of one run (clarify export --shards):
 * stores[k] is shard k of n.  CL_EINVAL with the reason when their schema
 * versions differ, a problem or job is not in the shard its key hashes to
 * (the same job in two shards, or a store of another import), or two
 * shards made records with different versions of a template.
 */
int export_check_shards(struct store *const *stores, size_t n);

struct export_opts {
	int format;                 /* EXPORT_PAPER, EXPORT_CHAT or EXPORT_DIALOGUE */
	double ratio;               /* (0, 1]; 0 when not given: clarify records only */
	int sampling;               /* EXPORT_DOWN or EXPORT_OVER */
	uint64_t seed;
	unsigned categories;        /* 1u << CAT_*, of the clarify records */
	int include_rejected;
	/* bounds on the modified problem's stats; NAN for none */
	double min_perplexity, max_perplexity;
	double min_entropy, max_entropy;
	double min_tokens, max_tokens;
	double test_fraction;       /* [0, 1): the share of problems in the test file */
	const char *path;           /* the output; NULL or "-" for standard output
				       (no manifest, no test file) */
	int progress;               /* a progress line on a terminal */
	int provenance;             /* rows carry "model" and "template" */
	int card;                   /* write README.md, the dataset card, beside the
				       file (when absent or written by us) */
	double price_in_per_mtok;   /* the manifest's money (llm.price_*); both 0: none */
	double batch_discount;      /* a batch token's price, as a share (llm.batch_discount) */
	double price_out_per_mtok;
	volatile sig_atomic_t *stop; /* set (by a signal handler): give up cleanly */
};

void export_opts_init(struct export_opts *o);

/* What was written to one file. */
struct export_file {
	char path[4096];
	uint64_t records;
	uint64_t by_type[EXPORT_TYPE_COUNT];
	uint64_t unique[2];         /* distinct records per side (oversampling repeats) */
	uint64_t by_stages[2];      /* clarify records made by two stages (modify,
				       clarify) and by three (and answer) */
	uint64_t bytes;             /* written to the file (compressed when .zst) */
	uint64_t jsonl_bytes;       /* of JSONL before compression */
	char sha256[HASH_SHA256_HEX]; /* of the file's bytes */
};

/* Records left out, by reason (counted once, in the walk that writes). */
struct export_skipped {
	uint64_t unreadable;        /* a record that cannot be decoded */
	uint64_t rejected;          /* rejected by the filters (no --include-rejected) */
	uint64_t category;          /* not a selected category */
	uint64_t stat_bounds;       /* outside the stat bounds, or without the stat */
	uint64_t incomplete;        /* no modified problem, no questions, unknown category */
	uint64_t no_solution;       /* a problem without a human solution: no original,
				       and no dialogue */
	uint64_t unanswered;        /* dialogue: a record without stage 3's answers */
	uint64_t orphan;            /* a result whose problem is in no store */
	uint64_t duplicate;         /* a job key already read from an earlier store */
};

struct export_result {
	struct export_file file[2];          /* EXPORT_TRAIN (path), EXPORT_TEST */
	uint64_t avail[2][2];                /* [split][side]: eligible records */
	uint64_t target[2][2];               /* [split][side]: records to write */
	struct export_skipped skipped;
	uint64_t problems;                   /* distinct problems walked */
	uint64_t tokens_in, tokens_out;      /* the written clarify records' usage */
	uint64_t batch_records, batch_in, batch_out; /* of them, made from provider batches */
	double seconds;
	json_t *manifest;                    /* owned; NULL when writing to stdout */
};

/*
 * Export from stores (open, read-only is enough) as o says.  With a path,
 * the data is written to temporary files beside it, synced, and renamed
 * into place with the manifest (PATH.manifest.json) last; on any failure
 * nothing is left behind, not even a temporary file.  r->manifest holds
 * the manifest (release r with export_result_release).  Errors: CL_EIO
 * (the output, with the path and errno), CL_EINVAL (nothing to mix, an
 * interruption), CL_ESTORE, CL_ENOMEM; the message says what failed.
 */
int export_run(struct store *const *stores, size_t nstores, const struct export_opts *o,
	       struct export_result *r);
void export_result_release(struct export_result *r);

#endif
