/*
 * apps.h - the APPS source: reads problems from the APPS tarball layout
 * (APPS/, APPS/train, or a split folder of NNNN/ folders) or from the
 * Hugging Face codeparrot/apps JSONL files (.jsonl, .jsonl.zst), and hands
 * each one to a sink as the record the store keeps.
 *
 * Both layouts give one problem the same key, apps/<split>/<NNNN>, and the
 * same record: question, starter_code ("" when none), difficulty, url,
 * solutions (a list of strings), input_output (an object, or null),
 * source (where it was read).
 */
#ifndef CLARIFY_APPS_H
#define CLARIFY_APPS_H

#include <stdint.h>

#include "../common/common.h"

struct apps_sink {
	/* Called once before the problems when their number is known. */
	void (*total)(void *arg, uint64_t n);
	/* A problem: rec is a new reference passed to the sink.  A non-zero
	 * return stops the read and is returned by apps_read(). */
	int (*problem)(void *arg, const char *key, json_t *rec);
	/* A record that cannot be imported: where ("DIR/0007" or
	 * "FILE:LINE") and why.  The read goes on. */
	void (*skip)(void *arg, const char *where, const char *why);
	void *arg;
};

struct apps_opts {
	const char *split;  /* "train" or "test"; NULL to infer from names */
	size_t max_file;    /* larger files and lines are skipped */
	uint64_t limit;     /* stop after this many problems; 0: no limit */
};

/* Read path (a folder, a JSONL file, or "-" for JSONL on standard input,
 * which needs o->split).  Errors that stop the whole read
 * (no such path, an unknown layout, no split) return CL_E* with a message. */
int apps_read(const char *path, const struct apps_opts *o, const struct apps_sink *sink);

/*
 * Parse one JSONL line of the Hugging Face layout.  On success *key and
 * *rec are set (rec a new reference); on a bad record returns CL_EPARSE,
 * CL_EUTF8 or CL_EINVAL with the reason in err_msg().
 */
int apps_parse_jsonl(const char *line, size_t len, const char *split, const char *source,
		     char key[128], json_t **rec);

/*
 * Parse one file of a problem folder (the tarball layout) from its bytes:
 * name is the file's name, which says what it must hold.
 *
 *   question.txt       text, not blank           -> a string
 *   starter_code.py    text                      -> a string ("" when empty)
 *   solutions.json     a list of strings, or ""  -> an array
 *   input_output.json  an object, null, or ""    -> an object or null
 *   metadata.json      an object, or ""          -> an object, or NULL
 *
 * On success *out is a new reference the caller owns (NULL only for an
 * empty metadata.json); on a bad file returns CL_EPARSE, CL_EUTF8 or
 * CL_EINVAL with the reason, naming the file, in err_msg(), and *out is
 * NULL.  An unknown name is CL_EINVAL.
 */
int apps_parse_member(const char *name, const char *p, size_t n, json_t **out);

#endif
