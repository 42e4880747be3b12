/*
 * dedup.h - the near-duplicate check of clarifyd: each accepted record's
 * MinHash signature (of its modified problem) is looked up in the store's
 * LSH index (the lsh database) and in the entries of the batch not yet
 * committed; a record whose estimated Jaccard similarity with an indexed
 * one reaches filters.near_duplicate, and so does the similarity of what
 * each changed in its original, is a near-duplicate of it.  Only the
 * records that are not enter the index, so the first one is kept.  The
 * loop of daemon.c runs it, in commit order: the result is the same
 * whatever the workers' timing.
 *
 * The index holds, for each record, "b<band>:<key hex>" -> its job key (the
 * first record with that band key only) and "s:<job key>" -> its signature.
 */
#ifndef CLARIFY_DEDUP_H
#define CLARIFY_DEDUP_H

#include "../filters/minhash.h"
#include "../store/store.h"

/* A record's signatures: of its modified problem (whose bands are the
 * index) and of what it changed in the original. */
struct dedup_sig {
	struct minhash full, change;
};

struct dedup_entry {
	char key[STORE_KEY_MAX];
	struct dedup_sig sig;
};

struct dedup {
	json_t *pending;           /* band key -> index in ent: not yet committed */
	struct dedup_entry *ent;
	size_t n, cap;
};

void dedup_init(struct dedup *dd);
void dedup_release(struct dedup *dd);

/*
 * The indexed record most like sig (not key itself): its key into like
 * (STORE_KEY_MAX bytes), the similarity of the modified problems into
 * *full and of the changes into *change; 1 when one shares a band, 0 when
 * none does, CL_E* when the store cannot be read.  The best is the one
 * whose lesser similarity is the greatest.
 */
int dedup_find(struct dedup *dd, struct store *s, const char *key, const struct dedup_sig *sig,
	       char *like, double *full, double *change);

/* Index the record: put(arg, key, data, len) queues each entry (data is
 * malloc'd, taken) for the next commit.  0 or CL_ENOMEM. */
int dedup_add(struct dedup *dd, struct store *s, const char *key, const struct dedup_sig *sig,
	      int (*put)(void *arg, const char *key, void *data, size_t len), void *arg);

/* The encoded result *data (malloc'd, replaced) with the near-duplicate
 * verdict added, and not accepted when rejected.  0 or CL_ENOMEM. */
int dedup_mark(struct store *s, void **data, size_t *len, const char *action, int rejected,
	       const char *detail);

/* The batch is committed: its entries are in the store now. */
void dedup_committed(struct dedup *dd);

#endif
