/*
 * cmd_samples.c - clarify samples: examples of what a rule caught, with the
 * span it matched highlighted, and the failed jobs grouped by reason.
 *
 * The sample is the N records with the smallest hash of (seed, key): the
 * same seed gives the same records whatever the store's order or size, and
 * every record has the same chance (bottom-k sampling).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define CONTEXT 160   /* bytes of text shown on each side of a span */

struct sample {
	uint64_t rank;
	char key[STORE_KEY_MAX];
	json_t *result;
};

struct sampler {
	const char *rule;
	unsigned cats;            /* bit set of 1u << CAT_*; 0: all */
	int accepted_too;         /* --flagged: records the rule only flagged */
	uint64_t seed;
	size_t n, have;
	struct sample *s;         /* have <= n, largest rank first */
	uint64_t matched, read, unreadable;
	json_t *seen;             /* rule -> records carrying it (for a typo) */
	json_t *failed;           /* --failed: reason -> {"count", "keys"} */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify samples --rule R [--category C]... [-n N] [--seed S]\n"
		   "                      [--flagged] [--color WHEN] [--json]\n"
		   "       clarify samples --failed [-n N] [--json]\n\n"
		   "Show examples of the records a rule or built-in check caught: each\n"
		   "with its key, the verdict's detail and the text around the span it\n"
		   "matched, highlighted.  The sample is N records drawn evenly from the\n"
		   "whole store (the same seed gives the same records).  With --failed,\n"
		   "the failed jobs grouped by their error, the commonest first, with N\n"
		   "keys each.  Exits 1 when no record carries the rule.\n\n"
		   "options:\n"
		   "  --rule R        a rule id or built-in check (clarify filters list,\n"
		   "                  clarify status shows those that fired)\n"
		   "  --category C    only this category; may be given more than once\n"
		   "  -n N            how many records (default 5)\n"
		   "  --seed S        another sample (default 0)\n"
		   "  --flagged       also records the rule flagged but did not reject\n"
		   "  --failed        the failed jobs by reason instead\n"
		   "  --color WHEN    highlight with terminal colours: auto (the default: when\n"
		   "                  standard output is a terminal), always or never; without\n"
		   "                  colour the span is shown as [[...]]\n"
		   "  --json          the samples as JSON\n"
		   "  -h, --help      this help\n");
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Keep the n smallest ranks: s[0] is the largest kept. */
static void keep(struct sampler *sm, uint64_t rank, const char *key, size_t klen, json_t *v)
{
	size_t i;

	if (sm->have == sm->n && rank >= sm->s[0].rank)
		return;
	if (sm->have == sm->n) {
		json_decref(sm->s[0].result);
		memmove(&sm->s[0], &sm->s[1], (sm->have - 1) * sizeof(sm->s[0]));
		sm->have--;
	}
	for (i = 0; i < sm->have && sm->s[i].rank > rank; i++)
		;
	memmove(&sm->s[i + 1], &sm->s[i], (sm->have - i) * sizeof(sm->s[0]));
	sm->s[i].rank = rank;
	snprintf(sm->s[i].key, sizeof(sm->s[i].key), "%.*s", (int)klen, key);
	sm->s[i].result = json_incref(v);
	sm->have++;
}

static const json_t *verdict_of(const json_t *res, const char *rule)
{
	size_t i;
	const json_t *it;

	json_array_foreach(json_object_get(res, "verdicts"), i, it)
		if (jsonx_str(it, "rule") && !strcmp(jsonx_str(it, "rule"), rule))
			return it;
	return NULL;
}

static int sample_one(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct sampler *sm = arg;
	const char *cat;
	size_t i;
	json_t *it;
	int c;

	sm->read++;
	if (rc) {
		sm->unreadable++;
		err_clear();
		return 0;
	}
	json_array_foreach(json_object_get(v, "verdicts"), i, it) {
		const char *r = jsonx_str(it, "rule");

		if (r)
			json_object_set_new(sm->seen, r,
					    json_integer(jsonx_int(sm->seen, r, 0) + 1));
	}
	if (!verdict_of(v, sm->rule))
		return 0;
	if (!sm->accepted_too && json_is_true(json_object_get(v, "accepted")))
		return 0;
	cat = jsonx_str(v, "category");
	c = cat ? category_parse(cat) : -1;
	if (sm->cats && (c < 0 || !(sm->cats & (1u << c))))
		return 0;
	sm->matched++;
	keep(sm, mix64(sm->seed ^ hash_fnv1a64(key, klen)), key, klen, v);
	return 0;
}

static int failed_one(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct sampler *sm = arg;
	const char *why;
	json_t *g;

	sm->read++;
	if (rc) {
		sm->unreadable++;
		err_clear();
		return 0;
	}
	if (!jsonx_str(v, "state") || strcmp(jsonx_str(v, "state"), "failed"))
		return 0;
	why = jsonx_str(v, "last_error");
	if (!why || !*why)
		why = "(no reason recorded)";
	g = json_object_get(sm->failed, why);
	if (!g) {
		g = json_pack("{s:I, s:[]}", "count", (json_int_t)0, "keys");
		json_object_set_new(sm->failed, why, g);
	}
	json_object_set_new(g, "count", json_integer(jsonx_int(g, "count", 0) + 1));
	if (json_array_size(json_object_get(g, "keys")) < sm->n)
		json_array_append_new(json_object_get(g, "keys"), json_stringn(key, klen));
	sm->matched++;
	return 0;
}

/*
 * Where the verdict's quoted text ("..." or question N: "...") is in the
 * record: the text searched (the field, or one question), and the span.
 */
struct span {
	const char *text;
	size_t start, end;
	int question;             /* 1-based; 0 when not a question */
	const char *field;
};

static int find_span(const json_t *res, const json_t *verdict, struct span *sp)
{
	const char *detail = jsonx_str(verdict, "detail");
	const char *field = jsonx_str(verdict, "field");
	const char *q, *hit;
	char needle[192];
	size_t n;

	memset(sp, 0, sizeof(*sp));
	sp->field = field ? field : "record";
	if (!detail)
		return 0;
	if (!strncmp(detail, "question ", 9))
		sp->question = atoi(detail + 9);
	q = strchr(detail, '"');
	if (!q || !q[1])
		return 0;
	n = strlen(q + 1);
	if (n && q[n] == '"')
		n--;
	if (!n || n >= sizeof(needle))
		return 0;
	memcpy(needle, q + 1, n);
	needle[n] = '\0';
	if (sp->question > 0)
		sp->text = json_string_value(json_array_get(json_object_get(res, "questions"),
							    (size_t)sp->question - 1));
	else if (field && !strcmp(field, "questions"))
		sp->text = NULL;
	else if (field && !strcmp(field, "reasoning"))
		sp->text = jsonx_str(res, "reasoning");
	else
		sp->text = jsonx_str(res, "modified_problem");
	if (!sp->text || !(hit = strstr(sp->text, needle)))
		return 0;
	sp->start = (size_t)(hit - sp->text);
	sp->end = sp->start + n;
	return 1;
}

/* The text around a span, from the start of its line to the end of its
 * line, CONTEXT bytes at most on each side. */
static void excerpt(const struct span *sp, size_t *from, size_t *to)
{
	size_t len = strlen(sp->text), a = sp->start, b = sp->end;

	while (a > 0 && sp->start - a < CONTEXT && sp->text[a - 1] != '\n')
		a--;
	while (b < len && b - sp->end < CONTEXT && sp->text[b] != '\n')
		b++;
	/* do not cut a UTF-8 sequence */
	while (a > 0 && ((unsigned char)sp->text[a] & 0xC0) == 0x80)
		a--;
	while (b < len && ((unsigned char)sp->text[b] & 0xC0) == 0x80)
		b++;
	*from = a;
	*to = b;
}

static json_t *sample_json(const struct sample *s, const char *rule)
{
	const json_t *v = verdict_of(s->result, rule);
	struct span sp;
	json_t *o = json_pack("{s:s, s:O?, s:b, s:s, s:O?, s:O?, s:O?}", "key", s->key,
			      "category", json_object_get(s->result, "category"),
			      "accepted", json_is_true(json_object_get(s->result, "accepted")),
			      "rule", rule, "action", json_object_get(v, "action"),
			      "field", json_object_get(v, "field"),
			      "detail", json_object_get(v, "detail"));

	if (find_span(s->result, v, &sp)) {
		size_t from, to;

		excerpt(&sp, &from, &to);
		json_object_set_new(o, "span", json_pack("{s:s, s:I, s:I, s:s%}", "in",
							 sp.question ? "question" : sp.field,
							 "start", (json_int_t)sp.start,
							 "end", (json_int_t)sp.end,
							 "text", sp.text + sp.start,
							 sp.end - sp.start));
		if (sp.question)
			json_object_set_new(json_object_get(o, "span"), "question",
					    json_integer(sp.question));
		json_object_set_new(o, "excerpt", json_stringn(sp.text + from, to - from));
	} else {
		json_object_set_new(o, "span", json_null());
	}
	json_object_set_new(o, "other_verdicts", json_array());
	{
		size_t i;
		json_t *it;

		json_array_foreach(json_object_get(s->result, "verdicts"), i, it)
			if (it != v)
				json_array_append(json_object_get(o, "other_verdicts"), it);
	}
	return o;
}

static void print_indented(const char *p, size_t n)
{
	fputs("    ", stdout);
	for (size_t i = 0; i < n; i++) {
		putchar(p[i]);
		if (p[i] == '\n' && i + 1 < n)
			fputs("    ", stdout);
	}
}

static void sample_print(const struct sample *s, const char *rule, int color, size_t i,
			 size_t n)
{
	const json_t *v = verdict_of(s->result, rule);
	const char *on = color ? "\033[1;7m" : "[[", *off = color ? "\033[0m" : "]]";
	struct span sp;

	printf("%s[%zu/%zu] %s%s  %s, %s by %s\n", color ? "\033[1m" : "", i + 1, n, s->key,
	       color ? "\033[0m" : "",
	       jsonx_str(s->result, "category") ? jsonx_str(s->result, "category") : "?",
	       json_is_true(json_object_get(s->result, "accepted")) ? "accepted, flagged" :
	       "rejected", rule);
	printf("  %s (%s): %s\n", jsonx_str(v, "action") ? jsonx_str(v, "action") : "?",
	       jsonx_str(v, "field") ? jsonx_str(v, "field") : "record",
	       jsonx_str(v, "detail") ? jsonx_str(v, "detail") : "");
	if (find_span(s->result, v, &sp)) {
		size_t from, to;

		excerpt(&sp, &from, &to);
		if (sp.question)
			printf("  in question %d:\n", sp.question);
		else
			printf("  in the %s text, bytes %zu-%zu:\n", sp.field, sp.start, sp.end);
		fputs("    ", stdout);
		fwrite(sp.text + from, 1, sp.start - from, stdout);
		fputs(on, stdout);
		fwrite(sp.text + sp.start, 1, sp.end - sp.start, stdout);
		fputs(off, stdout);
		fwrite(sp.text + sp.end, 1, to - sp.end, stdout);
		putchar('\n');
	} else {
		const char *m = jsonx_str(s->result, "modified_problem");
		size_t len = m ? strlen(m) : 0, cut = len < 400 ? len : 400;

		while (cut < len && ((unsigned char)m[cut] & 0xC0) == 0x80)
			cut++;
		if (m) {
			printf("  the modified problem%s:\n", cut < len ? " (its start)" : "");
			print_indented(m, cut);
			printf("%s\n", cut < len ? " ..." : "");
		}
	}
	{
		size_t k;
		const json_t *it;
		int first = 1;

		json_array_foreach(json_object_get(s->result, "verdicts"), k, it) {
			if (it == v)
				continue;
			printf("%s%s", first ? "  also: " : ", ", jsonx_str(it, "rule"));
			first = 0;
		}
		if (!first)
			putchar('\n');
	}
	putchar('\n');
}

static int print_failed(struct sampler *sm, int json)
{
	const char *why;
	json_t *g, *list = json_array();
	size_t i;

	json_object_foreach(sm->failed, why, g)
		json_array_append_new(list, json_pack("{s:s, s:O, s:O}", "reason", why, "count",
						      json_object_get(g, "count"), "keys",
						      json_object_get(g, "keys")));
	/* the commonest first; ties by reason */
	for (i = 1; i < json_array_size(list); i++) {
		for (size_t k = i; k > 0; k--) {
			json_t *a = json_array_get(list, k - 1), *b = json_array_get(list, k);
			json_int_t ca = jsonx_int(a, "count", 0), cb = jsonx_int(b, "count", 0);

			if (ca > cb || (ca == cb && strcmp(jsonx_str(a, "reason"),
							   jsonx_str(b, "reason")) <= 0))
				break;
			json_incref(a);
			json_array_set(list, k - 1, b);
			json_array_set_new(list, k, a);
		}
	}
	if (json) {
		json_t *o = json_pack("{s:I, s:I, s:O}", "failed", (json_int_t)sm->matched,
				      "unreadable", (json_int_t)sm->unreadable, "reasons", list);

		jsonx_print(stdout, o, 1);
		json_decref(o);
	} else {
		json_array_foreach(list, i, g) {
			size_t k;
			json_t *key;

			printf("%lld  %s\n", (long long)jsonx_int(g, "count", 0), jsonx_str(g, "reason"));
			json_array_foreach(json_object_get(g, "keys"), k, key)
				printf("      %s\n", json_string_value(key));
		}
		printf("%llu failed jobs, %zu reason%s\n", (unsigned long long)sm->matched,
		       json_array_size(list), json_array_size(list) == 1 ? "" : "s");
	}
	json_decref(list);
	return EXIT_OK;
}

int cmd_samples(struct cli *c, int argc, char **argv)
{
	enum { O_RULE = 256, O_CATEGORY, O_SEED, O_FLAGGED, O_FAILED, O_COLOR, O_JSON };
	static const struct option opts[] = {
		{ "rule", required_argument, NULL, O_RULE },
		{ "category", required_argument, NULL, O_CATEGORY },
		{ "seed", required_argument, NULL, O_SEED },
		{ "flagged", no_argument, NULL, O_FLAGGED },
		{ "failed", no_argument, NULL, O_FAILED },
		{ "color", required_argument, NULL, O_COLOR },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sampler sm = { .n = 5 };
	struct store s;
	MDB_txn *txn;
	int json = 0, failed = 0, color = -1, opt, rc, status;
	char *end;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (opt) {
		case O_RULE:
			sm.rule = optarg;
			break;
		case O_CATEGORY: {
			int cat = category_parse(optarg);

			if (cat < 0)
				return cli_usage_error("samples", "unknown category '%s' "
						       "(ambiguous, inconsistent, incomplete)", optarg);
			sm.cats |= 1u << cat;
			break;
		}
		case 'n': {
			long n = strtol(optarg, &end, 10);

			if (*end || end == optarg || n < 1 || n > 10000)
				return cli_usage_error("samples", "-n takes 1 to 10000, not '%s'",
						       optarg);
			sm.n = (size_t)n;
			break;
		}
		case O_SEED:
			sm.seed = strtoull(optarg, &end, 10);
			if (*end || end == optarg)
				return cli_usage_error("samples", "--seed takes a number, not '%s'",
						       optarg);
			break;
		case O_FLAGGED:
			sm.accepted_too = 1;
			break;
		case O_FAILED:
			failed = 1;
			break;
		case O_COLOR:
			if (!strcmp(optarg, "always"))
				color = 1;
			else if (!strcmp(optarg, "never"))
				color = 0;
			else if (strcmp(optarg, "auto"))
				return cli_usage_error("samples", "--color takes auto, always or "
						       "never, not '%s'", optarg);
			break;
		case O_JSON:
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("samples", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("samples", "takes no arguments");
	if (!failed == !sm.rule)
		return cli_usage_error("samples", "give --rule R or --failed");
	if (color < 0)
		color = isatty(1) && getenv("NO_COLOR") == NULL;
	status = cli_open_store(c, &s, STORE_RDONLY);
	if (status)
		return status;
	sm.s = calloc(sm.n, sizeof(*sm.s));
	sm.seen = json_object();
	sm.failed = json_object();
	rc = sm.s ? store_read_begin(&s, &txn) : CL_ENOMEM;
	if (!rc) {
		rc = store_each(&s, txn, failed ? STORE_JOBS : STORE_RESULTS, "",
				failed ? failed_one : sample_one, &sm);
		store_read_end(txn);
	}
	if (rc) {
		log_err("%s", err_msg(rc));
		status = EXIT_FAIL;
		goto out;
	}
	if (sm.unreadable)
		log_warn("%llu records could not be read and were skipped (clarify verify "
			 "--repair requeues their jobs)", (unsigned long long)sm.unreadable);
	if (failed) {
		status = print_failed(&sm, json);
		goto out;
	}
	if (!sm.matched && !json_object_get(sm.seen, sm.rule)) {
		const char *r;
		json_t *n;
		struct buf b;

		buf_init(&b, 1 << 16);
		json_object_foreach(sm.seen, r, n)
			buf_addf(&b, "%s%s (%lld)", b.len ? ", " : "", r, (long long)json_integer_value(n));
		log_err("no record in '%s' has a verdict of '%s'; the rules that fired: %s", s.path,
			sm.rule, b.len ? b.data : "none");
		buf_release(&b);
		status = EXIT_FAIL;
		goto out;
	}
	/* smallest rank first: the sample's order, whatever the store's */
	for (size_t i = 0; i < sm.have / 2; i++) {
		struct sample t = sm.s[i];

		sm.s[i] = sm.s[sm.have - 1 - i];
		sm.s[sm.have - 1 - i] = t;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:[]}", "rule", sm.rule, "matched",
				      (json_int_t)sm.matched, "records", (json_int_t)sm.read,
				      "seed", (json_int_t)sm.seed, "samples");

		for (size_t i = 0; i < sm.have; i++)
			json_array_append_new(json_object_get(o, "samples"),
					      sample_json(&sm.s[i], sm.rule));
		jsonx_print(stdout, o, 1);
		json_decref(o);
	} else {
		for (size_t i = 0; i < sm.have; i++)
			sample_print(&sm.s[i], sm.rule, color, i, sm.have);
		printf("%zu of %llu %s records with a verdict of '%s' (of %llu results)\n", sm.have,
		       (unsigned long long)sm.matched, sm.accepted_too ? "rejected or flagged" :
		       "rejected", sm.rule, (unsigned long long)sm.read);
	}
	status = EXIT_OK;
out:
	for (size_t i = 0; i < sm.have; i++)
		json_decref(sm.s[i].result);
	free(sm.s);
	json_decref(sm.seen);
	json_decref(sm.failed);
	store_close(&s);
	return status;
}
