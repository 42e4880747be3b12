/*
 * import.c - benchmark of 'clarify import' on 20,000 synthetic APPS problems.
 *
 *   build/release/bench/import [CLARIFY [N]]
 *
 * Generates N (default 20,000) problems from a fixed seed, writes them as
 * a split folder (train/NNNN/...) and as a Hugging Face JSONL file
 * (train.jsonl) under a temporary directory, then times the real binary
 * (CLARIFY, default build/release/clarify) on three runs:
 *
 *   1. the folder layout into a fresh store A
 *   2. the JSONL file into a fresh store B
 *   3. the JSONL file into store A again: every problem must be unchanged
 *
 * For each run it prints the wall time, the rate and the child's peak RSS,
 * and the raw input and store sizes.  It exits 0 when the goals are met
 * (every run at least 5,000 problems/s, every peak RSS under 100 MB), 1
 * otherwise or when the import's counts are wrong.  The temporary
 * directory is removed at the end unless BENCH_KEEP=1.
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

#include "../common/common.h"
#include "bench.h"

#define BENCH_PROBLEMS 20000
#define BENCH_SEED UINT64_C(0x5eed0a995c1a21f7)
#define GOAL_RATE 5000.0   /* problems per second, every run */
#define GOAL_RSS_MB 100.0  /* peak RSS of the child, every run */
#define TEXT_MAX ((size_t)1 << 20)

static const char *rng_pick(struct rng *r, const char *const *v, size_t n)
{
	return v[rng_next(r) % n];
}

#define PICK(r, v) rng_pick((r), (v), CL_ARRAY_SIZE(v))

/* ---- vocabularies -------------------------------------------------------- */

static const char *const words[] = {
	"array", "integer", "integers", "string", "strings", "sequence", "number", "numbers",
	"element", "elements", "index", "indices", "value", "values", "sum", "product",
	"maximum", "minimum", "largest", "smallest", "total", "count", "length", "size",
	"subarray", "subsequence", "substring", "prefix", "suffix", "segment", "segments",
	"interval", "intervals", "range", "query", "queries", "operation", "operations",
	"graph", "tree", "vertex", "vertices", "edge", "edges", "path", "paths", "cycle",
	"root", "leaf", "leaves", "node", "nodes", "parent", "child", "children", "depth",
	"distance", "weight", "weights", "cost", "costs", "price", "prices", "budget",
	"grid", "cell", "cells", "row", "rows", "column", "columns", "matrix", "board",
	"player", "players", "game", "turn", "turns", "move", "moves", "round", "rounds",
	"winner", "score", "scores", "point", "points", "coordinate", "coordinates",
	"permutation", "permutations", "set", "multiset", "pair", "pairs", "triple",
	"triples", "digit", "digits", "letter", "letters", "character", "characters",
	"word", "words", "sentence", "alphabet", "lowercase", "uppercase", "binary",
	"decimal", "modulo", "remainder", "divisor", "divisors", "multiple", "prime",
	"primes", "factor", "factors", "parity", "even", "odd", "positive", "negative",
	"distinct", "equal", "different", "consecutive", "adjacent", "neighbouring",
	"sorted", "unsorted", "increasing", "decreasing", "non-decreasing", "strictly",
	"optimal", "possible", "impossible", "valid", "invalid", "minimal", "maximal",
	"first", "second", "third", "last", "next", "previous", "initial", "final",
	"each", "every", "some", "all", "any", "exactly", "at", "least", "most", "not",
	"the", "a", "an", "of", "in", "on", "to", "from", "with", "without", "between",
	"and", "or", "that", "which", "such", "if", "then", "otherwise", "while", "after",
	"before", "during", "until", "since", "because", "so", "thus", "therefore",
	"is", "are", "was", "were", "be", "has", "have", "can", "cannot", "must", "may",
	"will", "should", "wants", "needs", "chooses", "selects", "removes", "adds",
	"replaces", "swaps", "reverses", "rotates", "splits", "merges", "visits",
	"travels", "buys", "sells", "pays", "receives", "collects", "places", "paints",
	"colours", "marks", "counts", "computes", "determines", "finds", "prints",
	"outputs", "reads", "writes", "answers", "asks", "knows", "believes", "notices",
	"Vasya", "Petya", "Alice", "Bob", "Monocarp", "Polycarp", "Limak", "Chef",
	"Mishka", "Tokitsukaze", "Nastya", "Ivan", "Masha", "Dima", "Sasha", "Anton",
	"city", "cities", "road", "roads", "bridge", "bridges", "station", "stations",
	"train", "trains", "bus", "buses", "shop", "shops", "coin", "coins", "candy",
	"candies", "box", "boxes", "ball", "balls", "card", "cards", "book", "books",
	"friend", "friends", "student", "students", "team", "teams", "contest",
	"problem", "problems", "task", "tasks", "day", "days", "minute", "minutes",
	"second", "hour", "hours", "time", "moment", "event", "events", "lamp", "lamps",
	"robot", "robots", "wall", "walls", "door", "doors", "key", "keys", "lock",
	"string's", "array's", "one", "two", "three", "several", "many", "few", "no",
	"number", "only", "also", "still", "again", "once", "twice", "always", "never",
	"modular", "bitwise", "XOR", "AND", "OR", "greatest", "common", "divisor",
	"lexicographically", "palindrome", "palindromic", "balanced", "bracket",
	"brackets", "queue", "stack", "heap", "deque", "component", "components",
	"connected", "directed", "undirected", "weighted", "rooted", "binary", "tree's",
};

static const char *const maths[] = {
	"$n$", "$m$", "$k$", "$a_i$", "$b_j$", "$i$", "$j$", "$x$", "$y$", "$s$", "$t$",
	"$a_i + a_j$", "$\\sum_{i=1}^{n} a_i$", "$\\lfloor \\frac{n}{2} \\rfloor$",
	"$10^9 + 7$", "$a_1, a_2, \\ldots, a_n$", "$(u, v)$", "$\\max(a_i, b_i)$",
	"$l \\le r$", "$\\gcd(x, y)$", "$x \\oplus y$", "$2^k$",
};

static const char *const idents[] = {
	"n", "m", "k", "a", "b", "c", "x", "y", "s", "t", "i", "j", "ans", "res", "cnt",
	"total", "best", "cur", "left", "right", "lo", "hi", "mid", "dp", "memo", "seen",
	"graph", "adj", "dist", "parent", "stack", "queue", "heap", "prefix", "suffix",
	"nums", "arr", "grid", "row", "col", "count", "visited", "order", "pos", "val",
};

static const char *const funcs[] = {
	"maxProfit", "minCost", "countPairs", "longestRun", "shortestPath", "isValid",
	"numWays", "canFinish", "findMedian", "mergeRanges", "topKFrequent", "rotateGrid",
	"minPlatforms", "maxScore", "sumOfDigits", "kthSmallest",
};

/*
 * Lines of Python, expanded by expand(): '@' becomes an identifier, '$' a
 * small number.  Quotes, backslashes and space indentation as in APPS.
 */
static const char *const code_lines[] = {
	"@ = int(input())",
	"@ = list(map(int, input().split()))",
	"@, @ = map(int, input().split())",
	"@ = input().strip()",
	"@ = [0] * (@ + $)",
	"@ = [[0] * (@ + 1) for _ in range(@ + 1)]",
	"@ = {}",
	"@ = set()",
	"@ = []",
	"@ = 0",
	"@ = float('inf')",
	"for @ in range(@):",
	"    @ += @[@]",
	"    if @ > @:",
	"        @ = @",
	"    @.append(@)",
	"    @[@] = max(@[@], @ + $)",
	"    while @ and @[-1] < @:",
	"        @.pop()",
	"    @ = (@ * $ + @) % 1000000007",
	"if @ == $:",
	"    print(\"YES\")",
	"else:",
	"    print(\"NO\")",
	"print(@)",
	"print(\" \".join(map(str, @)))",
	"print(\"\\n\".join(str(v) for v in @))",
	"sys.stdout.write(str(@) + \"\\n\")",
	"@.sort(key=lambda v: (-v[1], v[0]))",
	"@ = sorted(@, reverse=True)",
	"# the answer fits in 64 bits: it's at most 10^18",
	"@ = bisect.bisect_left(@, @)",
	"heapq.heappush(@, (@, @))",
	"@ = @ // 2 if @ % 2 == 0 else 3 * @ + 1",
};

static const char *const difficulties[] = { "introductory", "interview", "competition" };
static const char *const sites[] = {
	"https://codeforces.com/problemset/problem/",
	"https://atcoder.jp/contests/abc",
	"https://www.codechef.com/problems/",
	"https://leetcode.com/problems/",
	"https://open.kattis.com/problems/",
};

/* ---- generation ------------------------------------------------------------ */

struct problem {
	struct buf question;
	struct buf starter;     /* empty when the problem has none */
	char difficulty[16];
	char url[128];
	json_t *solutions;      /* list of strings */
	json_t *io;             /* {"inputs", "outputs"[, "fn_name"]} */
};

static void problem_init(struct problem *p)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->question, TEXT_MAX);
	buf_init(&p->starter, TEXT_MAX);
}

static void problem_release(struct problem *p)
{
	buf_release(&p->question);
	buf_release(&p->starter);
	json_decref(p->solutions);
	json_decref(p->io);
	p->solutions = NULL;
	p->io = NULL;
}

/* Append tmpl with '@' and '$' replaced; one status for all the appends. */
static int expand(struct rng *r, struct buf *b, const char *tmpl)
{
	int rc = 0;

	for (const char *c = tmpl; *c && !rc; c++) {
		if (*c == '@')
			rc = buf_adds(b, PICK(r, idents));
		else if (*c == '$')
			rc = buf_addf(b, "%d", (int)rng_range(r, 1, 99));
		else
			rc = buf_addc(b, *c);
	}
	return rc;
}

/* One sentence of 6-18 words, maths sprinkled in. */
static int add_sentence(struct rng *r, struct buf *b)
{
	int n = (int)rng_range(r, 6, 18), rc = 0;

	for (int i = 0; i < n && !rc; i++) {
		const char *w = rng_next(r) % 9 == 0 ? PICK(r, maths) : PICK(r, words);

		if (i > 0)
			rc = buf_adds(b, rng_next(r) % 11 == 0 ? ", " : " ");
		if (!rc && i == 0 && w[0] >= 'a' && w[0] <= 'z') {
			rc = buf_addc(b, (char)(w[0] - 'a' + 'A'));
			w++;
		}
		if (!rc)
			rc = buf_adds(b, w);
	}
	if (!rc)
		rc = buf_adds(b, rng_next(r) % 7 == 0 ? "?" : ".");
	return rc;
}

/* Prose of at least n bytes, in paragraphs. */
static int add_prose(struct rng *r, struct buf *b, size_t n)
{
	size_t start = b->len;
	int rc = 0, in_par = 0;

	while (!rc && b->len - start < n) {
		if (in_par >= 3 + (int)(rng_next(r) % 3)) {
			rc = buf_adds(b, "\n\n");
			in_par = 0;
		} else if (in_par) {
			rc = buf_addc(b, ' ');
		}
		if (!rc)
			rc = add_sentence(r, b);
		in_par++;
	}
	return rc;
}

/* A stdin test case: "n\na_1 ... a_n\n" and its answer. */
static int gen_stdin_case(struct rng *r, json_t *ins, json_t *outs, struct buf *tmp)
{
	int n = (int)rng_range(r, 1, 12), rc;
	int64_t sum = 0;

	buf_reset(tmp);
	rc = buf_addf(tmp, "%d\n", n);
	for (int i = 0; i < n && !rc; i++) {
		int64_t v = rng_range(r, 1, 1000000000);

		sum += v;
		rc = buf_addf(tmp, i ? " %" PRId64 : "%" PRId64, v);
	}
	if (!rc)
		rc = buf_addc(tmp, '\n');
	if (rc)
		return rc;
	if (json_array_append_new(ins, json_string(tmp->data)))
		return CL_ENOMEM;
	buf_reset(tmp);
	rc = buf_addf(tmp, "%" PRId64 "\n", sum);
	if (rc)
		return rc;
	return json_array_append_new(outs, json_string(tmp->data)) ? CL_ENOMEM : 0;
}

/* A call test case: [[a_1, ..., a_n]] and its integer answer. */
static int gen_call_case(struct rng *r, json_t *ins, json_t *outs)
{
	int n = (int)rng_range(r, 1, 10);
	json_t *list = json_array(), *args = json_array();
	int64_t best = 0;

	if (!list || !args)
		goto nomem;
	for (int i = 0; i < n; i++) {
		int64_t v = rng_range(r, -1000, 1000);

		best = v > best ? v : best;
		if (json_array_append_new(list, json_integer(v)))
			goto nomem;
	}
	if (json_array_append_new(args, list)) {
		list = NULL;
		goto nomem;
	}
	list = NULL;
	if (json_array_append_new(ins, args)) {
		args = NULL;
		goto nomem;
	}
	return json_array_append_new(outs, json_integer(best)) ? CL_ENOMEM : 0;
nomem:
	json_decref(list);
	json_decref(args);
	return CL_ENOMEM;
}

/* The Input/Output/Examples/Note sections, examples from the first cases. */
static int add_sections(struct rng *r, struct buf *b, const json_t *io, int call)
{
	const json_t *ins = json_object_get(io, "inputs"), *outs = json_object_get(io, "outputs");
	size_t shown = json_array_size(ins) < 2 ? json_array_size(ins) : 2;
	int rc;

	rc = buf_addf(b, "\n\n\n-----Input-----\n\nThe first line contains a single integer $n$ "
		      "($1 \\le n \\le %d$) \xe2\x80\x94 the number of %s.\n\nThe second line "
		      "contains $n$ integers $a_1, a_2, \\ldots, a_n$ ($%d \\le a_i \\le 10^%d$) "
		      "\xe2\x80\x94 the %s of the %s.\n\n\n-----Output-----\n\nPrint a single "
		      "integer \xe2\x80\x94 ",
		      (int)rng_range(r, 10, 200000), PICK(r, words), call ? -1000 : 1,
		      (int)rng_range(r, 5, 18), PICK(r, words), PICK(r, words));
	if (!rc)
		rc = add_sentence(r, b);
	if (!rc)
		rc = buf_adds(b, "\n\n\n-----Examples-----\n");
	for (size_t i = 0; i < shown && !rc; i++) {
		const json_t *in = json_array_get(ins, i), *out = json_array_get(outs, i);

		if (call) {
			char *a = json_dumps(in, JSON_COMPACT), *o = json_dumps(out, JSON_ENCODE_ANY);

			rc = a && o ? buf_addf(b, "Input\n%s\n\nOutput\n%s\n\n", a, o) : CL_ENOMEM;
			free(a);
			free(o);
		} else {
			rc = buf_addf(b, "Input\n%s\nOutput\n%s\n", json_string_value(in),
				      json_string_value(out));
		}
	}
	if (!rc)
		rc = buf_adds(b, "\n\n-----Note-----\n\n");
	if (!rc)
		rc = add_sentence(r, b);
	if (!rc)
		rc = buf_adds(b, " Constraints: the sum of $n$ over all test cases does not "
			      "exceed $2 \\cdot 10^5$; the answer fits in a signed 64-bit integer.\n");
	return rc;
}

/* One Python solution of 300-1,500 bytes (the last line may overrun a little). */
static int gen_solution(struct rng *r, struct buf *b, const char *fn)
{
	size_t want = (size_t)rng_range(r, 300, 1420);
	const char *indent = fn ? "        " : "";
	int rc;

	buf_reset(b);
	if (fn)
		rc = buf_addf(b, "class Solution:\n    def %s(self, nums: List[int]) -> int:\n", fn);
	else
		rc = buf_adds(b, "import sys\nimport bisect\nimport heapq\ninput = sys.stdin.readline\n\n");
	while (!rc && b->len < want) {
		rc = buf_adds(b, indent);
		if (!rc)
			rc = expand(r, b, PICK(r, code_lines));
		if (!rc)
			rc = buf_addc(b, '\n');
	}
	if (!rc && fn)
		rc = buf_adds(b, "        return ans\n");
	return rc;
}

static int gen_problem(struct problem *p, int64_t id, struct buf *tmp)
{
	struct rng r = { BENCH_SEED ^ ((uint64_t)id * UINT64_C(0x9e3779b97f4a7c15)) };
	const char *fn = NULL;
	json_t *ins, *outs;
	int call, ncases, nsol, rc = 0;
	size_t target;

	rng_next(&r);
	call = rng_next(&r) % 4 == 0; /* a quarter: starter code and fn_name */
	if (call) {
		fn = PICK(&r, funcs);
		rc = buf_addf(&p->starter, "class Solution:\n    def %s(self, nums: List[int]) -> int:\n"
			      "        \n", fn);
		if (rc)
			return rc;
	}
	snprintf(p->difficulty, sizeof(p->difficulty), "%s", PICK(&r, difficulties));
	snprintf(p->url, sizeof(p->url), "%s%" PRId64 "/%c", PICK(&r, sites), 100 + id,
		 (char)('A' + rng_range(&r, 0, 5)));

	ins = json_array();
	outs = json_array();
	p->io = json_pack("{s:o, s:o}", "inputs", ins, "outputs", outs);
	if (!p->io)
		return CL_ENOMEM;
	if (fn && json_object_set_new(p->io, "fn_name", json_string(fn)))
		return CL_ENOMEM;
	ncases = (int)rng_range(&r, 2, 5);
	for (int i = 0; i < ncases && !rc; i++)
		rc = call ? gen_call_case(&r, ins, outs) : gen_stdin_case(&r, ins, outs, tmp);
	if (rc)
		return rc;

	/* prose first, sized so the whole question lands near its target */
	target = (size_t)rng_range(&r, 1000, 2400);
	buf_reset(tmp);
	rc = add_sections(&r, tmp, p->io, call);
	if (rc)
		return rc;
	rc = add_prose(&r, &p->question, target > tmp->len + 200 ? target - tmp->len : 200);
	if (!rc)
		rc = buf_add(&p->question, tmp->data, tmp->len);
	if (rc)
		return rc;

	p->solutions = json_array();
	if (!p->solutions)
		return CL_ENOMEM;
	nsol = (int)rng_range(&r, 1, 4);
	for (int i = 0; i < nsol && !rc; i++) {
		rc = gen_solution(&r, tmp, fn);
		if (!rc && json_array_append_new(p->solutions, json_stringn(tmp->data, tmp->len)))
			rc = CL_ENOMEM;
	}
	return rc;
}

/* ---- writing both layouts ------------------------------------------------- */

struct layout {
	char root[4096];        /* the temporary directory */
	char split[4200];       /* root/train */
	char jsonl[4200];       /* root/train.jsonl */
	uint64_t folder_bytes;  /* all files under split/ */
	uint64_t folder_files;
	FILE *jf;
};

/* Write DIR/NAME, counted in l's folder layout. */
static int write_file(struct layout *l, const char *dir, const char *name,
		      const char *data, size_t n)
{
	char path[4400];
	size_t off = 0;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(CL_EIO, "cannot create '%s': %s", path, strerror(errno));
	while (off < n) {
		ssize_t w = write(fd, data + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = err_set(CL_EIO, "cannot write '%s': %s", path, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 && !rc)
		rc = err_set(CL_EIO, "cannot close '%s': %s", path, strerror(errno));
	if (!rc) {
		l->folder_bytes += n;
		l->folder_files++;
	}
	return rc;
}

static int write_json_file(struct layout *l, const char *dir, const char *name, const json_t *v)
{
	char *text = json_dumps(v, JSON_ENSURE_ASCII);
	int rc;

	if (!text)
		return CL_ENOMEM;
	rc = write_file(l, dir, name, text, strlen(text));
	free(text);
	return rc;
}

static int write_folder(struct layout *l, const struct problem *p, int64_t id)
{
	char dir[4300];
	json_t *meta;
	int rc;

	snprintf(dir, sizeof(dir), "%s/%04" PRId64, l->split, id);
	if (mkdir(dir, 0755) != 0)
		return err_set(CL_EIO, "cannot create '%s': %s", dir, strerror(errno));
	rc = write_file(l, dir, "question.txt", p->question.data, p->question.len);
	if (!rc)
		rc = write_json_file(l, dir, "solutions.json", p->solutions);
	if (!rc)
		rc = write_json_file(l, dir, "input_output.json", p->io);
	if (rc)
		return rc;
	meta = json_pack("{s:s, s:s}", "difficulty", p->difficulty, "url", p->url);
	if (!meta)
		return CL_ENOMEM;
	rc = write_json_file(l, dir, "metadata.json", meta);
	json_decref(meta);
	if (!rc && p->starter.len)
		rc = write_file(l, dir, "starter_code.py", p->starter.data, p->starter.len);
	return rc;
}

/* One line of the Hugging Face layout: solutions and input_output are JSON
 * texts inside strings, as in codeparrot/apps. */
static int write_jsonl(struct layout *l, const struct problem *p, int64_t id)
{
	char *sol = json_dumps(p->solutions, JSON_ENSURE_ASCII);
	char *io = json_dumps(p->io, JSON_ENSURE_ASCII);
	json_t *row = NULL;
	char *line = NULL;
	int rc = CL_ENOMEM;

	if (!sol || !io)
		goto out;
	row = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "problem_id", (json_int_t)id,
			"question", p->question.data, "solutions", sol, "input_output", io,
			"difficulty", p->difficulty, "url", p->url,
			"starter_code", p->starter.len ? p->starter.data : "");
	if (!row)
		goto out;
	line = json_dumps(row, JSON_ENSURE_ASCII);
	if (!line)
		goto out;
	rc = 0;
	if (fputs(line, l->jf) == EOF || fputc('\n', l->jf) == EOF)
		rc = err_set(CL_EIO, "cannot write '%s': %s", l->jsonl, strerror(errno));
out:
	free(line);
	json_decref(row);
	free(io);
	free(sol);
	return rc;
}

/* Flush the generated files now, so their writeback does not land on the
 * timed runs (LMDB's fdatasync at each commit would wait behind it). */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return err_set(CL_EIO, "cannot open '%s': %s", dir, strerror(errno));
	if (syncfs(fd) != 0)
		rc = err_set(CL_EIO, "cannot sync '%s': %s", dir, strerror(errno));
	close(fd);
	return rc;
}

static int write_layouts(struct layout *l, int64_t n)
{
	struct problem p;
	struct buf tmp;
	int rc = 0;

	if (mkdir(l->split, 0755) != 0)
		return err_set(CL_EIO, "cannot create '%s': %s", l->split, strerror(errno));
	l->jf = fopen(l->jsonl, "we");
	if (!l->jf)
		return err_set(CL_EIO, "cannot create '%s': %s", l->jsonl, strerror(errno));
	buf_init(&tmp, TEXT_MAX);
	for (int64_t id = 0; id < n && !rc; id++) {
		problem_init(&p);
		rc = gen_problem(&p, id, &tmp);
		if (!rc)
			rc = write_folder(l, &p, id);
		if (!rc)
			rc = write_jsonl(l, &p, id);
		problem_release(&p);
	}
	buf_release(&tmp);
	if (fclose(l->jf) != 0 && !rc)
		rc = err_set(CL_EIO, "cannot write '%s': %s", l->jsonl, strerror(errno));
	l->jf = NULL;
	if (!rc)
		rc = sync_dir(l->root);
	return rc;
}

/* ---- running clarify ------------------------------------------------------- */

struct run {
	const char *name;
	double seconds;         /* wall time, fork to reap */
	double rss_mb;          /* ru_maxrss of the child */
	json_t *out;            /* the --json counts */
};

/* clarify -s STORE import PATH --json, with the built-in configuration. */
static int run_import(const char *clarify, const char *store, const char *path,
		      struct run *run)
{
	char *argv[] = { (char *)clarify, "-s", (char *)store, "import", (char *)path,
			 "--json", NULL };
	char what[512];

	snprintf(what, sizeof(what), "%.200s import %.200s", clarify, path);
	return bench_run_json(argv, what, &run->seconds, &run->rss_mb, &run->out);
}

/*
 * The counts a run must report: added new, unchanged unchanged, nothing
 * updated or skipped, and jobs_per * n jobs added, or when jobs_per is -1
 * one to three per problem (one per configured category).
 */
static int check_counts(const struct run *run, int64_t added, int64_t unchanged,
			int64_t jobs_per, int64_t n)
{
	static const char *const keys[] = { "new", "updated", "unchanged", "skipped",
					    "jobs_added" };
	int64_t got[CL_ARRAY_SIZE(keys)];
	int64_t jobs;

	for (size_t i = 0; i < CL_ARRAY_SIZE(keys); i++)
		got[i] = jsonx_int(run->out, keys[i], -1);
	jobs = got[4];
	if (got[0] == added && got[1] == 0 && got[2] == unchanged && got[3] == 0 &&
	    (jobs_per >= 0 ? jobs == jobs_per * n : jobs >= n && jobs <= 3 * n && jobs % n == 0))
		return 0;
	return err_set(CL_EINVAL, "%s: expected new=%" PRId64 " updated=0 unchanged=%" PRId64
		       " skipped=0 jobs_added=%s, got new=%" PRId64 " updated=%" PRId64
		       " unchanged=%" PRId64 " skipped=%" PRId64 " jobs_added=%" PRId64,
		       run->name, added, unchanged, jobs_per >= 0 ? "0" : "N..3N", got[0], got[1],
		       got[2], got[3], got[4]);
}

/* ---- sizes and reporting ---------------------------------------------------- */

struct store_size {
	uint64_t bytes;         /* st_size of data.mdb */
	uint64_t allocated;     /* st_blocks * 512 */
};

static int store_size(const char *store, struct store_size *sz)
{
	char path[4400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/data.mdb", store);
	if (stat(path, &st) != 0)
		return err_set(CL_EIO, "cannot stat '%s': %s", path, strerror(errno));
	sz->bytes = (uint64_t)st.st_size;
	sz->allocated = (uint64_t)st.st_blocks * 512;
	return 0;
}

static double mb(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

static void report_run(const struct run *run, int64_t n)
{
	printf("%-28s %6" PRId64 " problems  %7.2f s  %8.0f problems/s  peak RSS %6.1f MB"
	       "  (clarify says %.2f s)\n",
	       run->name, n, run->seconds, (double)n / run->seconds, run->rss_mb,
	       json_number_value(json_object_get(run->out, "seconds")));
}

static void report_size(const char *what, uint64_t raw, const struct store_size *sz)
{
	printf("  %-26s raw %8.1f MB -> data.mdb %7.1f MB (%7.1f MB on disk), "
	       "ratio %.2f\n", what, mb(raw), mb(sz->bytes), mb(sz->allocated),
	       (double)sz->bytes / (double)raw);
}

int main(int argc, char **argv)
{
	const char *clarify = argc > 1 ? argv[1] : "build/release/clarify";
	const char *tmpdir = getenv("TMPDIR"), *keep = getenv("BENCH_KEEP");
	struct layout l = { .folder_bytes = 0 };
	struct run runs[3] = {
		{ .name = "folder -> fresh store A" },
		{ .name = "jsonl -> fresh store B" },
		{ .name = "jsonl -> store A (again)" },
	};
	char store_a[4300], store_b[4300];
	struct store_size size_a, size_b, size_a2;
	struct rusage self;
	struct stat st;
	int64_t n = BENCH_PROBLEMS;
	double t0, rate = 0, worst_rss = 0, ratio;
	int rc, ok;

	log_init("bench/import", LOG_INFO);
	if (argc > 3 || (argc > 2 && parse_i64(argv[2], 1, 99999999, &n) != 0)) {
		fprintf(stderr, "usage: %s [CLARIFY [N]]\n", argv[0]);
		return EXIT_FAILURE;
	}
	if (access(clarify, X_OK) != 0) {
		log_err("cannot run '%s': %s (build it with 'make')", clarify, strerror(errno));
		return EXIT_FAILURE;
	}
	snprintf(l.root, sizeof(l.root), "%s/clarify-bench-import.XXXXXX",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(l.root)) {
		log_err("cannot create '%s': %s", l.root, strerror(errno));
		return EXIT_FAILURE;
	}
	snprintf(l.split, sizeof(l.split), "%s/train", l.root);
	snprintf(l.jsonl, sizeof(l.jsonl), "%s/train.jsonl", l.root);
	snprintf(store_a, sizeof(store_a), "%s/store-a", l.root);
	snprintf(store_b, sizeof(store_b), "%s/store-b", l.root);

	err_clear();
	printf("generating %" PRId64 " problems in '%s'\n", n, l.root);
	t0 = time_mono();
	rc = write_layouts(&l, n);
	if (rc)
		goto fail;
	if (stat(l.jsonl, &st) != 0) {
		rc = err_set(CL_EIO, "cannot stat '%s': %s", l.jsonl, strerror(errno));
		goto fail;
	}
	printf("generated in %.1f s (not measured): folder layout %.1f MB in %" PRIu64
	       " files, JSONL %.1f MB\n", time_mono() - t0, mb(l.folder_bytes),
	       l.folder_files, mb((uint64_t)st.st_size));
	/* a child's ru_maxrss starts from its parent's RSS at fork: say how much */
	if (getrusage(RUSAGE_SELF, &self) == 0)
		printf("this process: peak RSS %.1f MB (the floor of the children's figures)\n",
		       (double)self.ru_maxrss / 1024.0);
	putchar('\n');

	rc = run_import(clarify, store_a, l.split, &runs[0]);
	if (!rc)
		rc = check_counts(&runs[0], n, 0, -1, n);
	if (!rc)
		rc = store_size(store_a, &size_a);
	if (rc)
		goto fail;
	report_run(&runs[0], n);
	report_size("folder layout", l.folder_bytes, &size_a);

	rc = run_import(clarify, store_b, l.jsonl, &runs[1]);
	if (!rc)
		rc = check_counts(&runs[1], n, 0, -1, n);
	if (!rc)
		rc = store_size(store_b, &size_b);
	if (rc)
		goto fail;
	report_run(&runs[1], n);
	report_size("JSONL", (uint64_t)st.st_size, &size_b);

	rc = run_import(clarify, store_a, l.jsonl, &runs[2]);
	if (!rc)
		rc = check_counts(&runs[2], 0, n, 0, n);
	if (!rc)
		rc = store_size(store_a, &size_a2);
	if (rc)
		goto fail;
	report_run(&runs[2], n);
	report_size("store A after re-import", l.folder_bytes, &size_a2);

	/* judged on the slowest run, the largest child, the larger ratio */
	for (size_t i = 0; i < CL_ARRAY_SIZE(runs); i++) {
		double r = (double)n / runs[i].seconds;

		rate = i == 0 || r < rate ? r : rate;
		worst_rss = runs[i].rss_mb > worst_rss ? runs[i].rss_mb : worst_rss;
	}
	ratio = (double)size_a.bytes / (double)l.folder_bytes;
	if ((double)size_b.bytes / (double)st.st_size > ratio)
		ratio = (double)size_b.bytes / (double)st.st_size;
	ok = rate >= GOAL_RATE && worst_rss < GOAL_RSS_MB;
	printf("\nimport: %.0f problems/s (goal %.0f): ratio %.2f of the goal\n", rate, GOAL_RATE,
	       rate / GOAL_RATE);
	printf("peak RSS: %.0f MB (goal < %.0f): ratio %.2f of the cap\n", worst_rss, GOAL_RSS_MB,
	       worst_rss / GOAL_RSS_MB);
	printf("store size: %.2f of the raw input\n", ratio);
	printf("%s\n", ok ? "goals met" : "GOALS NOT MET");
	goto cleanup;

fail:
	fprintf(stderr, "bench/import: FAILED: %s\n", err_msg(rc));
	ok = 0;
cleanup:
	for (size_t i = 0; i < CL_ARRAY_SIZE(runs); i++)
		json_decref(runs[i].out);
	if (keep && strcmp(keep, "1") == 0) {
		printf("kept '%s' (BENCH_KEEP=1)\n", l.root);
	} else if (bench_rm_tree(l.root) != 0) {
		fprintf(stderr, "bench/import: cannot remove '%s': %s\n", l.root, strerror(errno));
		ok = 0;
	}
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
