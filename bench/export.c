/*
 * export.c - benchmark of 'clarify export' on a store of 100,000 synthetic
 * result records (about 2 KB of JSON each, three per problem).
 *
 *   build/release/bench/export [CLARIFY [N]]
 *   build/release/bench/export --create DIR [N [--pool]]
 *
 * The first form creates a store with N (default 100,000) records under a
 * temporary directory, written directly with the store API as they are in
 * use (the problems first, as imported, then the results, as clarifyd
 * writes them, each with its zstd dictionary trained after the first
 * 1,000), then times the
 * real binary (CLARIFY, default build/release/clarify) exporting it:
 *
 *   1. to JSONL                     MB/s of JSONL written (goal >= 100)
 *   2. to .jsonl.zst                MB/s of JSONL compressed and written,
 *                                   over the MB/s of zstd -3 compressing the
 *                                   same JSONL (one-shot ZSTD_compress level
 *                                   3, one thread, in memory): goal >= 0.5;
 *                                   and the two sizes (reported)
 *   3. to JSONL at --ratio 0.5      two walks (count, then write): reported
 *
 * with each child's peak RSS (goal < 64 MB every run).  Each time is the
 * fastest of five runs, the reference's too, and the reference's runs take
 * turns with the .zst export's: on a shared machine the speed of both
 * changes by a quarter from one few seconds to the next.  It prints the
 * figures and the ratios it is judged by and exits 0 when the goals are
 * met.  The temporary directory is removed unless BENCH_KEEP=1.
 *
 * The second form only creates the store in DIR and prints what it wrote;
 * with --pool every value is one of 256 encoded once (written raw), which
 * takes a second or two for 100,000 records: the integration test uses it
 * for the memory bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zstd.h>

#include "../common/common.h"
#include "../store/store.h"
#include "bench.h"

#define BENCH_RECORDS 100000
#define BENCH_SEED UINT64_C(0x6578706f72742121)
#define BATCH 4000             /* problems per write transaction */
#define TRIALS 5               /* each figure: the fastest of this many runs */
#define GOAL_MBS 100.0         /* MB/s of JSONL, plain and .zst */
#define GOAL_ZRATIO 0.5        /* our .zst MB/s / zstd -3's MB/s */
#define GOAL_RSS_MB 64.0
#define TEXT_MAX ((size_t)1 << 20)

#define PICK(r, v) ((v)[rng_next(r) % CL_ARRAY_SIZE(v)])

static const char *const words[] = {
	"array", "integer", "integers", "string", "sequence", "number", "numbers", "element",
	"elements", "index", "value", "values", "sum", "product", "maximum", "minimum",
	"largest", "smallest", "total", "count", "length", "subarray", "substring", "prefix",
	"suffix", "segment", "interval", "range", "query", "queries", "operation", "graph",
	"tree", "vertex", "vertices", "edge", "edges", "path", "cycle", "root", "leaf", "node",
	"distance", "weight", "cost", "price", "grid", "cell", "row", "column", "matrix",
	"player", "game", "turn", "move", "round", "winner", "score", "point", "permutation",
	"set", "pair", "digit", "letter", "character", "word", "binary", "modulo", "divisor",
	"prime", "parity", "even", "odd", "positive", "distinct", "equal", "consecutive",
	"adjacent", "sorted", "increasing", "decreasing", "strictly", "optimal", "possible",
	"valid", "minimal", "first", "second", "last", "next", "each", "every", "some", "all",
	"exactly", "at", "least", "most", "not", "the", "a", "an", "of", "in", "on", "to",
	"from", "with", "between", "and", "or", "that", "which", "if", "then", "otherwise",
	"is", "are", "be", "has", "can", "must", "may", "will", "wants", "chooses", "removes",
	"adds", "replaces", "swaps", "reverses", "splits", "visits", "buys", "pays", "finds",
	"prints", "Vasya", "Petya", "Alice", "Bob", "Monocarp", "Polycarp", "Limak", "Chef",
	"city", "road", "bridge", "station", "shop", "coin", "candy", "box", "ball", "card",
	"friend", "student", "team", "contest", "day", "minute", "hour", "time", "lamp",
	"robot", "wall", "door", "key", "$n$", "$m$", "$k$", "$a_i$", "$10^9 + 7$",
	"$1 \\le n \\le 10^5$", "$(u, v)$",
};

static const char *const questions[] = {
	"What should be printed when no valid answer exists?",
	"Are the values of $a_i$ guaranteed to be distinct?",
	"Is the array indexed from zero or from one?",
	"Should the answer be given modulo $10^9 + 7$?",
	"Can $n$ be zero, and what should the output be then?",
	"Are the edges of the graph directed or undirected?",
	"What is the upper bound on the number of queries?",
	"If several answers are optimal, which one should be printed?",
	"Does \"consecutive\" mean adjacent in the array or in value?",
	"Is the input a single test case or several?",
};

static const char *const code[] = {
	"n = int(input())\n", "a = list(map(int, input().split()))\n", "ans = 0\n",
	"for i in range(n):\n", "    ans = max(ans, a[i])\n", "    if a[i] % 2 == 0:\n",
	"        ans += a[i]\n", "print(ans)\n", "dp = [0] * (n + 1)\n",
	"seen = set()\n", "    seen.add(a[i])\n", "print(len(seen))\n",
};

static const char *const cats[] = { "ambiguous", "inconsistent", "incomplete" };

static int add_text(struct rng *r, struct buf *b, size_t n)
{
	size_t start = b->len;
	int rc = 0, words_in = 0;

	while (!rc && b->len - start < n) {
		if (words_in && words_in % 14 == 0)
			rc = buf_adds(b, rng_next(r) % 5 ? ". " : ".\n\n");
		else if (words_in)
			rc = buf_addc(b, ' ');
		if (!rc)
			rc = buf_adds(b, PICK(r, words));
		words_in++;
	}
	return rc ? rc : buf_addc(b, '.');
}

static int add_code(struct rng *r, struct buf *b, size_t n)
{
	size_t start = b->len;
	int rc = 0;

	while (!rc && b->len - start < n)
		rc = buf_adds(b, PICK(r, code));
	return rc;
}

static const char *hex64(struct rng *r, char out[65])
{
	for (int i = 0; i < 4; i++)
		snprintf(out + 16 * i, 17, "%016" PRIx64, rng_next(r));
	return out;
}

static json_t *text_stats(struct rng *r, int64_t tokens)
{
	return json_pack("{s:I, s:I, s:I, s:f, s:f, s:I, s:f, s:f}", "tokens", (json_int_t)tokens,
			 "chars", (json_int_t)(tokens * 5), "sentences",
			 (json_int_t)rng_range(r, 3, 20), "entropy",
			 4.0 + (double)rng_range(r, 0, 1000) / 1000.0, "perplexity",
			 20.0 + (double)rng_range(r, 0, 80000) / 1000.0, "oov",
			 (json_int_t)rng_range(r, 0, 20), "repeated_lines", 0.0, "repeated_ngrams",
			 (double)rng_range(r, 0, 100) / 1000.0);
}

static json_t *gen_problem(int64_t id, struct buf *t)
{
	struct rng r = { BENCH_SEED ^ ((uint64_t)id * UINT64_C(0x9e3779b97f4a7c15)) };
	json_t *p, *sols = json_array();
	int call = rng_next(&r) % 4 == 0;

	buf_reset(t);
	if (add_text(&r, t, (size_t)rng_range(&r, 1000, 1800)))
		return NULL;
	for (int i = 0, n = (int)rng_range(&r, 1, 3); i < n; i++) {
		struct buf s;

		buf_init(&s, TEXT_MAX);
		if (add_code(&r, &s, (size_t)rng_range(&r, 200, 700)) == 0)
			json_array_append_new(sols, json_stringn(s.data, s.len));
		buf_release(&s);
	}
	p = json_pack("{s:s, s:s, s:s, s:s#, s:o, s:{s:[s,s], s:[s,s]}, s:s}", "question", t->data,
		      "starter_code", call ? "class Solution:\n    def solve(self, nums):\n" : "",
		      "difficulty", "interview", "url", "https://codeforces.com/problemset/problem/1",
		      (size_t)40, "solutions", sols, "input_output", "inputs", "3\n1 2 3\n",
		      "2\n5 5\n", "outputs", "6\n", "10\n", "source", "bench");
	return p;
}

static json_t *gen_result(int64_t id, int cat, struct buf *t)
{
	struct rng r = { BENCH_SEED ^ ((uint64_t)(id * 3 + cat) * UINT64_C(0xda942042e4dd58b5)) };
	json_t *qs = json_array(), *res;
	/* a template's hash fingerprints its file: one per template */
	struct rng t1 = { BENCH_SEED ^ (uint64_t)(2 * cat + 1) };
	struct rng t2 = { BENCH_SEED ^ (uint64_t)(2 * cat + 2) };
	char h1[65], h2[65], mname[32], cname[32];
	char *mod, *reason;
	int64_t tokens;

	buf_reset(t);
	if (add_text(&r, t, (size_t)rng_range(&r, 900, 1500)))
		return NULL;
	mod = strdup(t->data);
	buf_reset(t);
	if (!mod || add_text(&r, t, (size_t)rng_range(&r, 150, 400))) {
		free(mod);
		return NULL;
	}
	reason = t->data;
	for (int i = 0, n = (int)rng_range(&r, 1, 4); i < n; i++)
		json_array_append_new(qs, json_string(PICK(&r, questions)));
	tokens = (int64_t)strlen(mod) / 5;
	snprintf(mname, sizeof(mname), "modify-%s", cats[cat]);
	snprintf(cname, sizeof(cname), "clarify-%s", cats[cat]);
	res = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:[{s:s, s:i, s:s}, {s:s, s:i, s:s}], "
			"s:{s:I, s:I, s:f, s:b}, s:{s:o, s:o, s:I, s:f}, s:[], s:b, s:I}",
			"modified_problem", mod, "questions", qs, "reasoning", reason, "category",
			cats[cat], "provider", "offline", "model", "bench", "templates", "name",
			mname, "version", 3, "hash", hex64(&t1, h1), "name", cname, "version", 2,
			"hash", hex64(&t2, h2), "usage", "tokens_in", (json_int_t)(tokens + 300),
			"tokens_out", (json_int_t)tokens, "latency", 1.5, "cached", 0, "stats",
			"modified", text_stats(&r, tokens), "questions", text_stats(&r, 30),
			"question_count", (json_int_t)json_array_size(qs), "similarity", 0.8,
			"verdicts", "accepted", rng_next(&r) % 20 != 0, "created",
			(json_int_t)1795000000);
	free(mod);
	return res;
}

/* Encoded records reused round-robin by the fast form (--pool). */
#define POOL 256

struct gen {
	int64_t records;       /* results to write */
	int64_t from, to;      /* this batch: problems [from, to) */
	uint64_t written;
	struct buf t;
	int pool;              /* write pooled values (raw) instead of fresh ones */
	int what;              /* WRITE_PROBLEMS, WRITE_RESULTS or both */
	struct buf pv[POOL], rv[POOL][3];
};

enum { WRITE_PROBLEMS = 1, WRITE_RESULTS = 2 };

/* Encode POOL problems and their results once, for the fast form. */
static int pool_fill(struct store *s, struct gen *g)
{
	int rc = 0;

	for (int i = 0; !rc && i < POOL; i++) {
		for (int c = -1; !rc && c < 3; c++) {
			struct buf *b = c < 0 ? &g->pv[i] : &g->rv[i][c];
			json_t *v = c < 0 ? gen_problem(i, &g->t) : gen_result(i, c, &g->t);
			const void *data;
			size_t len;

			buf_init(b, TEXT_MAX);
			rc = v ? store_encode(s, v, &data, &len) : CL_ENOMEM;
			if (!rc)
				rc = buf_add(b, data, len);
			json_decref(v);
		}
	}
	return rc;
}

static void pool_release(struct gen *g)
{
	for (int i = 0; i < POOL; i++) {
		buf_release(&g->pv[i]);
		for (int c = 0; c < 3; c++)
			buf_release(&g->rv[i][c]);
	}
}

static int gen_batch(struct store *s, MDB_txn *txn, void *arg)
{
	struct gen *g = arg;
	char key[STORE_KEY_MAX], job[STORE_KEY_MAX];
	int rc = 0;

	g->written = 0;
	for (int64_t id = g->from; !rc && id < g->to; id++) {
		const struct buf *pb = &g->pv[id % POOL];
		json_t *p = g->pool || !(g->what & WRITE_PROBLEMS) ? NULL : gen_problem(id, &g->t);

		rc = p || g->pool || !(g->what & WRITE_PROBLEMS)
			     ? store_problem_key(key, sizeof(key), "train", id) : CL_ENOMEM;
		if (!rc && (g->what & WRITE_PROBLEMS))
			rc = g->pool ? store_put_raw(s, txn, STORE_PROBLEMS, key, pb->data, pb->len)
				     : store_put(s, txn, STORE_PROBLEMS, key, p);
		json_decref(p);
		for (int c = 0; !rc && (g->what & WRITE_RESULTS) && c < 3 && id * 3 + c < g->records;
		     c++) {
			const struct buf *rb = &g->rv[id % POOL][c];
			json_t *v = g->pool ? NULL : gen_result(id, c, &g->t);

			rc = v || g->pool ? store_job_key(job, sizeof(job), key, c) : CL_ENOMEM;
			if (!rc)
				rc = g->pool ? store_put_raw(s, txn, STORE_RESULTS, job, rb->data,
							     rb->len)
					     : store_put(s, txn, STORE_RESULTS, job, v);
			json_decref(v);
			g->written++;
		}
	}
	return rc;
}

/* A store in dir with n result records, three per problem; pool: values
 * reused from POOL encoded ones (fast, but unrealistically compressible). */
static int create_store(const char *dir, int64_t n, int pool)
{
	struct store_options opt;
	struct store s;
	struct gen g = { .records = n, .pool = pool };
	int64_t problems = (n + 2) / 3;
	uint64_t total = 0;
	int rc, tried[2] = { 0, 0 };

	store_options_default(&opt);
	opt.map_size = (size_t)1 << 30;
	rc = store_open(&s, dir, STORE_WRITER, &opt);
	if (rc)
		return rc;
	buf_init(&g.t, TEXT_MAX);
	if (pool)
		rc = pool_fill(&s, &g);
	/* as in use: the problems imported first, then the results as
	 * clarifyd writes them, each kind's dictionary trained after its
	 * first 1,000 records as clarify import and clarifyd do; pooled:
	 * both at once */
	for (int pass = 0; !rc && pass < (pool ? 1 : 2); pass++) {
		enum store_db kind = pass == 0 ? STORE_PROBLEMS : STORE_RESULTS;

		g.what = pool ? WRITE_PROBLEMS | WRITE_RESULTS
			      : pass == 0 ? WRITE_PROBLEMS : WRITE_RESULTS;
		for (g.from = 0; !rc && g.from < problems; g.from = g.to) {
			/* first batches of 1,000 records: store.dict_after's default */
			int64_t step = g.from ? BATCH : pass == 0 ? 1000 : 334;

			g.to = g.from + step < problems ? g.from + step : problems;
			rc = store_write(&s, gen_batch, &g);
			total += g.written;
			store_drop_pages(&s);
			if (!rc && !pool)
				rc = store_dict_when(&s, kind, 1000, &tried[pass]);
		}
	}
	buf_release(&g.t);
	if (pool)
		pool_release(&g);
	store_close(&s);
	if (!rc && total != (uint64_t)n)
		rc = err_set(CL_EINVAL, "wrote %" PRIu64 " records, not %" PRId64, total, n);
	return rc;
}

/* ---- running clarify ---------------------------------------------------------- */

struct run {
	const char *name;
	double seconds;
	double rss_mb;
	json_t *manifest;
};

static int run_export(const char *clarify, const char *store, const char *out,
		      const char *ratio, struct run *run)
{
	char *argv[] = { (char *)clarify, "-s", (char *)store, "export", "-o", (char *)out,
			 "--json", ratio ? "--ratio" : NULL, (char *)ratio, NULL };
	char what[512];

	snprintf(what, sizeof(what), "%.200s export -o %.200s", clarify, out);
	return bench_run_json(argv, what, &run->seconds, &run->rss_mb, &run->manifest);
}

static double mb(double bytes)
{
	return bytes / (1024.0 * 1024.0);
}

static double jsonl_mb(const struct run *run)
{
	return mb((double)jsonx_int(run->manifest, "jsonl_bytes", 0));
}

static void report(const struct run *run)
{
	printf("%-24s %7" PRId64 " records  %6.2f s  %7.1f MB of JSONL  %6.1f MB/s  "
	       "file %7.1f MB  peak RSS %5.1f MB\n",
	       run->name, jsonx_int(run->manifest, "records", 0), run->seconds, jsonl_mb(run),
	       jsonl_mb(run) / run->seconds, mb((double)jsonx_int(run->manifest, "bytes", 0)),
	       run->rss_mb);
}

/* One-shot ZSTD_compress level 3 of the whole file: the reference size,
 * and the seconds it took. */
/*
 * The reference: zstd -3 compressing the plain export's JSONL, one-shot in
 * memory on one thread.  Its runs take turns with the .zst export's, so
 * that both see the machine as it is at the time; each runs in a child of
 * its own, so that the 250 MB it holds are never in this process when it
 * forks an export (whose peak RSS would count them).
 */
struct reference {
	size_t size;        /* its output */
	double seconds;     /* the fastest run */
};

static int reference_child(const char *path, int fd)
{
	struct buf in;
	char line[64];
	void *dst;
	size_t cap, n;
	double t0;
	int len;

	buf_init(&in, (size_t)4 << 30);
	if (file_read(path, &in))
		return 1;
	cap = ZSTD_compressBound(in.len);
	dst = malloc(cap);
	if (!dst)
		return 1;
	t0 = time_mono();
	n = ZSTD_compress(dst, cap, in.data, in.len, 3);
	t0 = time_mono() - t0;
	if (ZSTD_isError(n))
		return 1;
	len = snprintf(line, sizeof(line), "%.6f %zu\n", t0, n);
	return write(fd, line, (size_t)len) == len ? 0 : 1;
}

static int reference_run(struct reference *ref, const char *path)
{
	char line[64] = "";
	double seconds;
	size_t size;
	int fds[2], status;
	ssize_t got;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return err_set(CL_EIO, "cannot make a pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(CL_EIO, "cannot fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		_exit(reference_child(path, fds[1]));
	}
	close(fds[1]);
	do
		got = read(fds[0], line, sizeof(line) - 1);
	while (got < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    sscanf(line, "%lf %zu", &seconds, &size) != 2)
		return err_set(CL_EIO, "zstd -3 on '%s' failed", path);
	ref->size = size;
	ref->seconds = seconds < ref->seconds ? seconds : ref->seconds;
	return 0;
}

int main(int argc, char **argv)
{
	const char *clarify = "build/release/clarify";
	const char *tmpdir = getenv("TMPDIR"), *keep = getenv("BENCH_KEEP");
	struct run runs[3] = {
		{ .name = "JSONL" },
		{ .name = "JSONL.zst" },
		{ .name = "JSONL, --ratio 0.5" },
	};
	char root[4096], store[4200], out[3][4200];
	int64_t n = BENCH_RECORDS;
	struct reference ref = { .seconds = 1e9 };
	double t0, worst_rss = 0, rate, zrate, zratio, ref_rate;
	int rc, ok = 0;

	log_init("bench/export", LOG_INFO);
	if (argc >= 3 && strcmp(argv[1], "--create") == 0) {
		int pool = argc == 5 && strcmp(argv[4], "--pool") == 0;

		if (argc > 5 || (argc == 5 && !pool) ||
		    (argc >= 4 && parse_i64(argv[3], 1, 99999999, &n) != 0)) {
			fprintf(stderr, "usage: %s --create DIR [N [--pool]]\n", argv[0]);
			return EXIT_FAILURE;
		}
		t0 = time_mono();
		err_clear();
		rc = create_store(argv[2], n, pool);
		if (rc) {
			fprintf(stderr, "bench/export: %s\n", err_msg(rc));
			return EXIT_FAILURE;
		}
		printf("created '%s': %" PRId64 " records in %.1f s\n", argv[2], n, time_mono() - t0);
		return EXIT_SUCCESS;
	}
	if (argc > 1)
		clarify = argv[1];
	if (argc > 3 || (argc > 2 && parse_i64(argv[2], 1, 99999999, &n) != 0)) {
		fprintf(stderr, "usage: %s [CLARIFY [N]] | --create DIR [N]\n", argv[0]);
		return EXIT_FAILURE;
	}
	if (access(clarify, X_OK) != 0) {
		log_err("cannot run '%s': %s (build it with 'make')", clarify, strerror(errno));
		return EXIT_FAILURE;
	}
	snprintf(root, sizeof(root), "%s/clarify-bench-export.XXXXXX",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(root)) {
		log_err("cannot create '%s': %s", root, strerror(errno));
		return EXIT_FAILURE;
	}
	snprintf(store, sizeof(store), "%s/store", root);
	snprintf(out[0], sizeof(out[0]), "%s/out.jsonl", root);
	snprintf(out[1], sizeof(out[1]), "%s/out.jsonl.zst", root);
	snprintf(out[2], sizeof(out[2]), "%s/mix.jsonl", root);

	err_clear();
	printf("creating a store of %" PRId64 " records in '%s'\n", n, root);
	t0 = time_mono();
	rc = create_store(store, n, 0);
	if (rc)
		goto fail;
	/* its writeback must not land on the timed runs */
	{
		int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd >= 0) {
			syncfs(fd);
			close(fd);
		}
	}
	printf("created in %.1f s (not measured)\n\n", time_mono() - t0);

	for (int i = 0; i < 3; i++) {
		/* the fastest of TRIALS runs, and the largest peak RSS */
		for (int t = 0; t < TRIALS; t++) {
			struct run r = runs[i];

			r.manifest = NULL;
			rc = run_export(clarify, store, out[i], i == 2 ? "0.5" : NULL, &r);
			if (!rc && i == 1)
				rc = reference_run(&ref, out[0]);
			if (rc)
				goto fail;
			if (t == 0 || r.seconds < runs[i].seconds) {
				json_decref(runs[i].manifest);
				r.rss_mb = r.rss_mb > runs[i].rss_mb ? r.rss_mb : runs[i].rss_mb;
				runs[i] = r;
			} else {
				runs[i].rss_mb = r.rss_mb > runs[i].rss_mb ? r.rss_mb : runs[i].rss_mb;
				json_decref(r.manifest);
			}
		}
		report(&runs[i]);
		worst_rss = runs[i].rss_mb > worst_rss ? runs[i].rss_mb : worst_rss;
	}
	if (jsonx_int(runs[0].manifest, "jsonl_bytes", -1) !=
	    jsonx_int(runs[1].manifest, "jsonl_bytes", -2)) {
		rc = err_set(CL_EINVAL, "the .zst export's JSONL differs in size from the plain one");
		goto fail;
	}
	rate = jsonl_mb(&runs[0]) / runs[0].seconds;
	zrate = jsonl_mb(&runs[1]) / runs[1].seconds;
	ref_rate = jsonl_mb(&runs[1]) / ref.seconds;
	zratio = zrate / ref_rate;
	printf("\nzstd -3 (one-shot ZSTD_compress, one thread) on the same JSONL: %.1f MB/s, "
	       "%.1f MB; ours, streamed: %.1f MB (compression %.2f:1)\n", ref_rate,
	       mb((double)ref.size),
	       mb((double)jsonx_int(runs[1].manifest, "bytes", 0)),
	       (double)jsonx_int(runs[1].manifest, "jsonl_bytes", 0) /
		       (double)jsonx_int(runs[1].manifest, "bytes", 1));
	ok = rate >= GOAL_MBS && zratio >= GOAL_ZRATIO && worst_rss < GOAL_RSS_MB;
	printf("export to JSONL: %.1f MB/s (goal %.0f): ratio %.2f of the goal\n", rate, GOAL_MBS,
	       rate / GOAL_MBS);
	printf("export to .zst: %.1f MB/s of JSONL, over zstd -3's %.1f MB/s: %.2f (goal >= %.1f): "
	       "ratio %.2f of the goal\n", zrate, ref_rate, zratio, GOAL_ZRATIO,
	       zratio / GOAL_ZRATIO);
	printf("peak RSS: %.1f MB (goal < %.0f): ratio %.2f of the cap\n", worst_rss, GOAL_RSS_MB,
	       worst_rss / GOAL_RSS_MB);
	printf("%s\n", ok ? "goals met" : "GOALS NOT MET");
	goto cleanup;

fail:
	fprintf(stderr, "bench/export: FAILED: %s\n", err_msg(rc));
	ok = 0;
cleanup:
	for (size_t i = 0; i < CL_ARRAY_SIZE(runs); i++)
		json_decref(runs[i].manifest);
	if (keep && strcmp(keep, "1") == 0) {
		printf("kept '%s' (BENCH_KEEP=1)\n", root);
	} else if (bench_rm_tree(root) != 0) {
		fprintf(stderr, "bench/export: cannot remove '%s': %s\n", root, strerror(errno));
		ok = 0;
	}
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
