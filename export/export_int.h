/*
 * export_int.h - what the files of the export share: the output file
 * (output.c), the scanner of stored JSON (scan.c), the exporter's state
 * (walk.c, manifest.c, export.c).  Not for use outside export/.
 */
#ifndef CLARIFY_EXPORT_INT_H
#define CLARIFY_EXPORT_INT_H

#include <lmdb.h>
#include <openssl/evp.h>
#include <zstd.h>

#include "export.h"

/* ---- output.c ---------------------------------------------------------- */

#define OUT_CHUNK ((size_t)256 << 10)

struct out {
	struct export_file *f;
	char tmp[4200];        /* "" once renamed or removed */
	int fd;                /* -1 when closed */
	int to_stdout;
	ZSTD_CCtx *cctx;       /* NULL: no compression */
	EVP_MD_CTX *md;
	struct buf pending;    /* JSONL not yet written */
	struct buf z;          /* one compressed chunk */
	uint64_t synced;       /* bytes whose writeback was started */
};

void out_init(struct out *w, struct export_file *f);
int out_open(struct out *w, const char *path, int compress);
int out_add(struct out *w, const char *p, size_t n);
int out_finish(struct out *w);
int out_commit(struct out *w);
void out_release(struct out *w);
int export_sync_dir(const char *path);

/* ---- scan.c -------------------------------------------------------------- */

/*
 * The export reads a handful of fields of each record and copies its texts
 * as they are stored (the insides of JSON string literals, escapes in
 * place), so it does not build a tree of every record: the scanner below
 * finds a value's extent, checks the strings it hands out (escapes, no raw
 * control characters) and skips the rest.  The records are jansson's
 * canonical output, so their UTF-8 is valid.
 */
enum { JS_STR = 1, JS_NUM, JS_TRUE, JS_FALSE, JS_NULL, JS_OBJ, JS_ARR };

struct jspan {
	int type;
	const char *p;   /* JS_STR: the inside of the quotes; else the whole value */
	size_t n;
};

/* The members of an object or the elements of an array, in order. */
struct jiter {
	const char *p, *e;
	int first;
};

void js_iter(struct jiter *it, const struct jspan *v);
int js_next(struct jiter *it, struct jspan *key, struct jspan *val);
int js_is(const struct jspan *s, const char *name);
int js_root(const char *text, size_t n, struct jspan *root);
int js_fields(const struct jspan *obj, const char *const *names, size_t n,
		     struct jspan *out);
double js_number(const struct jspan *v);
void js_text(const struct jspan *v, char *out, size_t n);

/* ---- rows.c -------------------------------------------------------------- */

int export_ends_with(const char *s, size_t n, const char *suffix);

/* ---- walk.c, manifest.c -------------------------------------------------- */

/* Map bytes read between two store_drop_pages(): keeps the resident size flat. */
#define DROP_EVERY ((uint64_t)4 << 20)
/* Distinct templates and models listed in the manifest at most. */
#define GEN_MAX 1024
/* Generations (provider, model, templates) remembered by their raw text:
 * one per category and model is typical. */
#define GEN_SLOTS 8

struct src {
	struct store *s;
	struct store codec;    /* the exporter thread's, with s's dictionaries */
	int have_codec;
	MDB_txn *txn;
	MDB_cursor *pcur;      /* problems */
	MDB_cursor *rcur;      /* results */
	MDB_val k, v;          /* the problem under pcur */
	int more;              /* pcur is on a record */
	uint64_t problems, results;
};

/* What the export needs of a problem; spans into exporter.ptext. */
struct prob {
	struct jspan question, starter, solution;
};

struct exporter {
	const struct export_opts *o;
	struct export_result *r;
	struct src src[EXPORT_MAX_STORES];
	size_t nsrc;
	int writing;           /* 0: the counting walk; 1: the walk that writes */
	int mix;               /* originals take part (a ratio below 1) */
	int nsplit;            /* 2 with a test fraction */
	struct export_pick pick[2][2];
	struct out out[2];
	struct buf line;
	struct buf ptext;      /* the current problem's JSON text */
	struct buf tpl;        /* --provenance: a record's templates, as text */
	struct prob prob;      /* its fields, in ptext */
	int have_prob;         /* it could be read */
	int split;             /* its file */
	char key[STORE_KEY_MAX * 4];
	struct export_text *answer;
	size_t answer_cap;
	struct export_text *reply;   /* a dialogue's answers */
	size_t reply_cap;
	json_t *seen;          /* job keys of this problem (several stores) */
	json_t *templates;     /* "name\tversion\thash" -> {name, version, hash, records} */
	json_t *models;        /* "provider\tmodel" -> {provider, model, records} */
	uint64_t gen_more;     /* distinct ones past GEN_MAX */
	/* the provider, model and templates of recent records (raw text),
	 * each with the counters it added to: see note_generation */
	struct gen_slot {
		struct buf key;
		json_t *last[16];
		size_t nlast;      /* 0: empty */
	} gen[GEN_SLOTS];
	size_t gen_next;       /* the slot to fill next */
	struct gen_slot *gen_fill;  /* the slot gen_note fills */
	int gen_uncached;      /* the record's entries are not all in gen_fill */
	uint64_t visited;      /* results seen by the writing walk */
	uint64_t touched;
	uint64_t done;
	struct progress prog;
};

int export_walk(struct exporter *x);
json_t *export_manifest(struct exporter *x);
int export_write_manifest(struct out *w, const json_t *m);
/* The dataset card (README.md beside path, card.c) into a temporary file of
 * w, ready for out_commit; *open is 0 (and w untouched) when a README.md
 * there is not one of ours, which is left alone with a warning. */
int export_card_open(struct out *w, const char *path, const json_t *manifest,
		     const struct export_opts *o, int *open);

#endif
