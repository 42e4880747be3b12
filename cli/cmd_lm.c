/*
 * cmd_lm.c - clarify lm: train, score and describe the n-gram language
 * model (interpolated modified Kneser-Ney, as KenLM's lmplz builds it).
 *
 *   clarify lm train [--order N] [--tokenized FILE] [-o OUT.arpa] [--no-store]
 *   clarify lm score [--arpa FILE] [--tokenized] [--summary] [--json] [FILE]
 *   clarify lm info  [--arpa FILE] [--json]
 *
 * The model trained from the store's problems is kept in the store (meta
 * "lm") so that the daemon loads it instead of training again.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../stats/stats.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify lm train [--order N] [--tokenized FILE] [-o OUT.arpa] [--no-store]\n"
		   "       clarify lm score [--arpa FILE] [--tokenized] [--summary] [--json] [FILE]\n"
		   "       clarify lm info [--arpa FILE] [--json]\n\n"
		   "The n-gram language model that scores every record (interpolated modified\n"
		   "Kneser-Ney, exactly as KenLM's lmplz builds it; ARPA files from KenLM or\n"
		   "SRILM can be used too).\n\n"
		   "train  from the questions of the problems in the store, or from a file of\n"
		   "       sentences already tokenized (one a line, tokens split by spaces);\n"
		   "       keeps the model in the store (unless --no-store) and writes it as\n"
		   "       ARPA with -o\n"
		   "score  prints each line's total log10 probability and OOV count, then the\n"
		   "       tokens, OOVs and perplexity with and without OOVs, as KenLM's query\n"
		   "       does; FILE (default standard input) is raw text, tokenized here,\n"
		   "       unless --tokenized\n"
		   "info   order, n-grams per order, memory\n\n"
		   "options:\n"
		   "  --order N        2 to 5 (default: stats.order, 4)\n"
		   "  --tokenized      the input is tokenized already (score; train FILE)\n"
		   "  --summary        score: print the totals only, as query -v summary does\n"
		   "  --arpa FILE      use this ARPA model instead of the store's\n"
		   "  -o FILE          write the trained model as ARPA\n"
		   "  --no-store       do not keep the trained model in the store\n"
		   "  --json           machine-readable output\n"
		   "  -h, --help       this help\n");
}

struct lm_opts {
	const char *cmd;
	int order;
	const char *tokenized_file;
	int tokenized;
	int summary;             /* score: the totals only */
	const char *arpa;
	const char *out;
	int no_store;
	int json;
	const char *input;
};

/* ---- the model: from an ARPA file or from the store --------------------- */

static int load_model(struct cli *c, const struct lm_opts *o, struct stats_lm **lm)
{
	struct store s;
	MDB_txn *txn = NULL;
	const void *data;
	size_t len;
	int rc;

	err_clear();
	if (o->arpa) {
		rc = stats_lm_read_arpa(lm, o->arpa);
		if (rc) {
			log_err("%s", err_msg(rc));
			return EXIT_FAIL;
		}
		return 0;
	}
	rc = cli_open_store(c, &s, STORE_RDONLY);
	if (rc)
		return rc;
	rc = store_read_begin(&s, &txn);
	if (!rc)
		rc = store_get_raw(&s, txn, STORE_META, STORE_META_LM, &data, &len);
	if (rc == CL_ENOTFOUND) {
		log_err("store '%s' has no language model: run 'clarify lm train' (or pass --arpa)",
			s.path);
	} else if (!rc) {
		rc = stats_lm_load(lm, data, len);
		if (rc)
			log_err("the store's language model cannot be read: %s", err_msg(rc));
	} else {
		log_err("%s", err_msg(rc));
	}
	store_read_end(txn);
	store_close(&s);
	return rc ? EXIT_FAIL : 0;
}

/* ---- train ---------------------------------------------------------------- */

struct feed {
	struct stats_lm_trainer *t;
	uint64_t problems;
	int rc;
};

static int feed_problem(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct feed *f = arg;
	const char *q = jsonx_str(v, "question");

	(void)key;
	(void)klen;
	if (rc || !q)
		return 0; /* verify reports unreadable records */
	f->rc = stats_tokenize(q, strlen(q), stats_lm_trainer_token, f->t);
	if (f->rc == CL_EUTF8)
		f->rc = 0; /* stored text is valid UTF-8; never stop on one record */
	f->problems++;
	return f->rc;
}

struct keep {
	struct buf blob;
};

static int keep_model(struct store *s, MDB_txn *txn, void *arg)
{
	struct keep *k = arg;

	return store_put_raw(s, txn, STORE_META, STORE_META_LM, k->blob.data, k->blob.len);
}

static int train(struct cli *c, const struct lm_opts *o)
{
	struct stats_lm_trainer *t = NULL;
	struct stats_lm *lm = NULL;
	struct stats_lm_info info;
	struct feed f = { 0 };
	struct store s;
	int have_store = 0, rc, status = EXIT_OK;
	double t0 = time_mono();

	rc = stats_lm_trainer_new(&t, o->order);
	if (rc) {
		log_err("%s", err_msg(rc));
		return EXIT_USAGE;
	}
	if (o->tokenized_file) {
		struct buf b;

		buf_init(&b, (size_t)1 << 34);
		rc = file_read(o->tokenized_file, &b);
		if (!rc)
			rc = stats_lm_trainer_add_lines(t, b.data ? b.data : "", b.len);
		buf_release(&b);
	} else {
		MDB_txn *txn = NULL;

		status = cli_open_store(c, &s, o->no_store ? STORE_RDONLY : STORE_WRITER);
		if (status) {
			stats_lm_trainer_free(t);
			return status;
		}
		have_store = 1;
		f.t = t;
		rc = store_read_begin(&s, &txn);
		if (!rc)
			rc = store_each(&s, txn, STORE_PROBLEMS, "", feed_problem, &f);
		store_read_end(txn);
		if (!rc && f.problems == 0)
			rc = err_set(CL_ENOTFOUND, "store '%s' has no problems to train on "
				     "(clarify import first)", s.path);
	}
	if (!rc)
		rc = stats_lm_trainer_finish(t, &lm);
	stats_lm_trainer_free(t);
	if (rc) {
		log_err("%s", err_msg(rc));
		status = EXIT_FAIL;
		goto out;
	}
	if (have_store && !o->no_store) {
		struct keep k;

		buf_init(&k.blob, (size_t)1 << 34);
		rc = stats_lm_save(lm, &k.blob);
		if (!rc)
			rc = store_write(&s, keep_model, &k);
		buf_release(&k.blob);
		if (rc) {
			log_err("cannot keep the model in the store: %s", err_msg(rc));
			status = EXIT_FAIL;
			goto out;
		}
	}
	if (o->out) {
		FILE *fa = fopen(o->out, "w");

		if (!fa || stats_lm_write_arpa(lm, fa) || fclose(fa)) {
			log_err("cannot write '%s': %s", o->out, strerror(errno));
			status = EXIT_FAIL;
			goto out;
		}
	}
	stats_lm_info(lm, &info);
	if (o->json) {
		json_t *counts = json_array();

		for (int i = 0; i < info.order; i++)
			json_array_append_new(counts, json_integer((json_int_t)info.count[i]));
		json_t *j = json_pack("{s:i, s:o, s:I, s:f, s:b}", "order", info.order,
				      "ngrams", counts, "bytes", (json_int_t)info.bytes,
				      "seconds", time_mono() - t0,
				      "stored", have_store && !o->no_store);
		jsonx_print(stdout, j, 1);
		json_decref(j);
	} else {
		printf("trained an order-%d model", info.order);
		if (have_store)
			printf(" on %llu problems", (unsigned long long)f.problems);
		printf(" in %.2f s:", time_mono() - t0);
		for (int i = 0; i < info.order; i++)
			printf(" %llu %d-grams%s", (unsigned long long)info.count[i], i + 1,
			       i + 1 < info.order ? "," : "");
		printf("; %.1f MB%s\n", (double)info.bytes / 1e6,
		       have_store && !o->no_store ? "; kept in the store" : "");
	}
out:
	stats_lm_free(lm);
	if (have_store)
		store_close(&s);
	return status;
}

/* ---- score ---------------------------------------------------------------- */

struct scorer {
	const struct stats_lm *lm;
	struct stats_lm_ppl acc;
	int json;
	int summary;
	uint64_t line;
};

/* One line, tokenized by spaces: its total and OOVs, as KenLM's query. */
static void score_tokens(struct scorer *sc, char *line)
{
	const char *toks[4096];
	size_t n = 0;
	char *p = line;
	double total;
	int oov = 0;

	while (*p && n < CL_ARRAY_SIZE(toks)) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		toks[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	sc->line++;
	if (!n)
		return;
	total = stats_lm_score_sentence(sc->lm, toks, n, &oov, &sc->acc);
	if (sc->summary)
		return;
	if (sc->json) {
		printf("{\"line\":%llu,\"log10\":%.7g,\"oov\":%d}\n", (unsigned long long)sc->line,
		       total, oov);
	} else {
		printf("%llu\t%.8g\t%d\n", (unsigned long long)sc->line, total, oov);
	}
}

static int score(struct cli *c, const struct lm_opts *o)
{
	struct stats_lm *lm = NULL;
	struct scorer sc = { 0 };
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	int status;

	status = load_model(c, o, &lm);
	if (status)
		return status;
	f = o->input && strcmp(o->input, "-") != 0 ? fopen(o->input, "r") : stdin;
	if (!f) {
		log_err("cannot open '%s': %s", o->input, strerror(errno));
		stats_lm_free(lm);
		return EXIT_FAIL;
	}
	sc.lm = lm;
	sc.json = o->json;
	sc.summary = o->summary;
	if (!o->json && !o->summary)
		printf("line\ttotal_log10\toov\n");
	for (;;) {
		ssize_t len = getline(&line, &cap, f);

		if (len < 0)
			break;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (o->tokenized) {
			score_tokens(&sc, line);
		} else {
			struct buf tok;

			/* tokenize this line the model's way, then score it */
			buf_init(&tok, 0);
			if (stats_tokenize_lines(line, (size_t)len, &tok) == 0 && tok.len) {
				while (tok.len && tok.data[tok.len - 1] == '\n')
					tok.data[--tok.len] = '\0';
				score_tokens(&sc, tok.data);
			} else {
				sc.line++;
			}
			buf_release(&tok);
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (o->json) {
		json_t *j = json_pack("{s:b, s:I, s:I, s:f, s:f}", "summary", 1,
				      "tokens", (json_int_t)sc.acc.tokens,
				      "oov", (json_int_t)sc.acc.oov,
				      "perplexity_including_oov", stats_lm_ppl_incl(&sc.acc),
				      "perplexity_excluding_oov", stats_lm_ppl_excl(&sc.acc));

		jsonx_print(stdout, j, 0);
		json_decref(j);
	} else {
		printf("# Perplexity including OOVs:\t%.17g\n", stats_lm_ppl_incl(&sc.acc));
		printf("# Perplexity excluding OOVs:\t%.17g\n", stats_lm_ppl_excl(&sc.acc));
		printf("# OOVs:\t%llu\n", (unsigned long long)sc.acc.oov);
		printf("# Tokens:\t%llu\n", (unsigned long long)sc.acc.tokens);
	}
	stats_lm_free(lm);
	return EXIT_OK;
}

/* ---- info ----------------------------------------------------------------- */

static int info(struct cli *c, const struct lm_opts *o)
{
	struct stats_lm *lm = NULL;
	struct stats_lm_info in;
	uint64_t total = 0;
	int status = load_model(c, o, &lm);

	if (status)
		return status;
	stats_lm_info(lm, &in);
	for (int i = 0; i < in.order; i++)
		total += in.count[i];
	if (o->json) {
		json_t *counts = json_array();

		for (int i = 0; i < in.order; i++)
			json_array_append_new(counts, json_integer((json_int_t)in.count[i]));
		json_t *j = json_pack("{s:i, s:o, s:I, s:f}", "order", in.order, "ngrams", counts,
				      "bytes", (json_int_t)in.bytes,
				      "bytes_per_ngram", total ? (double)in.bytes / (double)total : 0.0);
		jsonx_print(stdout, j, 1);
		json_decref(j);
	} else {
		printf("order     %d\n", in.order);
		for (int i = 0; i < in.order; i++)
			printf("%d-grams   %llu\n", i + 1, (unsigned long long)in.count[i]);
		printf("memory    %.1f MB (%.1f bytes per n-gram)\n", (double)in.bytes / 1e6,
		       total ? (double)in.bytes / (double)total : 0.0);
	}
	stats_lm_free(lm);
	return EXIT_OK;
}

int cmd_lm(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "order", required_argument, NULL, 'n' },
		{ "tokenized", optional_argument, NULL, 't' },
		{ "arpa", required_argument, NULL, 'a' },
		{ "no-store", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "summary", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lm_opts o = { .order = 0 };
	int64_t n;

	optind = 0;
	for (;;) {
		int opt = getopt_long(argc, argv, "ho:", opts, NULL);

		if (opt == -1)
			break;
		switch (opt) {
		case 'n':
			if (parse_i64(optarg, 2, 5, &n))
				return cli_usage_error("lm", "--order takes 2 to 5, not '%s'", optarg);
			o.order = (int)n;
			break;
		case 't':
			o.tokenized = 1;
			o.tokenized_file = optarg;
			break;
		case 'a':
			o.arpa = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'S':
			o.no_store = 1;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'u':
			o.summary = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("lm", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("lm", "expects train, score or info");
	o.cmd = argv[optind++];
	if (strcmp(o.cmd, "train") == 0) {
		/* --tokenized FILE, or --tokenized with FILE as the operand */
		if (o.tokenized && !o.tokenized_file && optind < argc)
			o.tokenized_file = argv[optind++];
		if (optind != argc || (o.tokenized && !o.tokenized_file))
			return cli_usage_error("lm", "train takes no operand but --tokenized FILE");
		if (!o.order) {
			int rc = cli_load_config(c);

			if (rc)
				return rc;
			o.order = (int)c->cfg.stats.order;
		}
		return train(c, &o);
	}
	if (strcmp(o.cmd, "score") == 0) {
		if (o.tokenized_file) /* --tokenized=FILE given as the input */
			o.input = o.tokenized_file;
		if (optind < argc)
			o.input = argv[optind++];
		if (optind != argc)
			return cli_usage_error("lm", "score takes at most one FILE");
		return score(c, &o);
	}
	if (strcmp(o.cmd, "info") == 0) {
		if (optind != argc)
			return cli_usage_error("lm", "info takes no operand");
		return info(c, &o);
	}
	return cli_usage_error("lm", "unknown subcommand '%s' (train, score or info)", o.cmd);
}
