/*
 * offline_dump - what the offline provider answers for each statement of
 * a JSONL file, as hashes, so that a test can tell that a change to the
 * provider's engine or its rule file left its output as it was.
 *
 *   offline_dump [--text] STATEMENTS.jsonl SEED...
 *
 * STATEMENTS.jsonl holds {"n", "question"} (../shared/data/apps-corpus).
 * For each statement, category and seed it prints
 *
 *   n <TAB> category <TAB> seed <TAB> sha256(stage 1 reply) <TAB> sha256(stage 2 reply)
 *
 * where stage 2 is asked about stage 1's <modified_problem>.  With --text
 * it prints the replies themselves instead (to see what changed).  Exit 0,
 * 1 on an error (the statement and why on stderr).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/common.h"
#include "../../llm/provider.h"

/* The text between <tag> and </tag> of reply, trimmed of its newlines, or NULL. */
static char *tag_text(const char *reply, const char *tag)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(reply, open);
	if (!a)
		return NULL;
	a += strlen(open);
	b = strstr(a, close);
	if (!b)
		return NULL;
	while (a < b && *a == '\n')
		a++;
	while (b > a && b[-1] == '\n')
		b--;
	return strndup(a, (size_t)(b - a));
}

static int one(long n, const char *question, int cat, uint64_t seed, int text)
{
	struct llm_request r = { 0 };
	struct buf b1 = { 0 }, b2 = { 0 };
	char h1[HASH_SHA256_HEX], h2[HASH_SHA256_HEX];
	char *modified = NULL;
	int rc;

	buf_init(&b1, BUF_MAX_DEFAULT);
	buf_init(&b2, BUF_MAX_DEFAULT);
	r.original = question;
	r.category = cat;
	r.stage = LLM_STAGE_MODIFY;
	rc = llm_offline_reply(&r, seed, &b1);
	if (!rc) {
		modified = tag_text(b1.data, "modified_problem");
		r.stage = LLM_STAGE_CLARIFY;
		r.modified = modified;
		rc = modified ? llm_offline_reply(&r, seed, &b2) : CL_EPARSE;
	}
	if (rc) {
		fprintf(stderr, "offline_dump: statement %ld, %s, seed %llu: %s\n", n,
			category_name(cat), (unsigned long long)seed, err_msg(rc));
	} else if (text) {
		printf("== %ld %s %llu modify\n%s\n== %ld %s %llu clarify\n%s\n", n,
		       category_name(cat), (unsigned long long)seed, b1.data, n, category_name(cat),
		       (unsigned long long)seed, b2.data);
	} else {
		hash_sha256_hex(b1.data, b1.len, h1);
		hash_sha256_hex(b2.data, b2.len, h2);
		printf("%ld\t%s\t%llu\t%s\t%s\n", n, category_name(cat), (unsigned long long)seed, h1,
		       h2);
	}
	free(modified);
	buf_release(&b1);
	buf_release(&b2);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	int text = 0, argi = 1, bad = 0;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (argi < argc && strcmp(argv[argi], "--text") == 0) {
		text = 1;
		argi++;
	}
	if (argc - argi < 2) {
		fprintf(stderr, "usage: offline_dump [--text] STATEMENTS.jsonl SEED...\n");
		return 2;
	}
	f = fopen(argv[argi], "r");
	if (!f) {
		perror(argv[argi]);
		return 1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *v = json_loadb(line, (size_t)len, 0, NULL);
		const char *q = json_string_value(json_object_get(v, "question"));
		long n = (long)json_integer_value(json_object_get(v, "n"));

		if (!q) {
			fprintf(stderr, "offline_dump: a line without a question\n");
			bad = 1;
		}
		for (int s = argi + 1; q && s < argc; s++)
			for (int cat = 0; cat < CAT_COUNT; cat++)
				bad |= one(n, q, cat, strtoull(argv[s], NULL, 10), text);
		json_decref(v);
	}
	free(line);
	fclose(f);
	return bad;
}
