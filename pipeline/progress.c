/*
 * progress.c - what a run of clarifyd has to do and has done: the
 * per-category targets (jobs.target_accepted) and the live line.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"

int daemon_in_shard(const struct daemon_opts *o, const char *problem_key)
{
	return o->shards <= 1 || hash_shard(problem_key, (unsigned)o->shards) == (unsigned)o->shard;
}

/* The category of a job key, or -1; its problem's key into pkey. */
static int key_category(const char *key, size_t klen, char *pkey, size_t pn)
{
	const char *hash = memchr(key, '#', klen);
	char cat[32];

	if (!hash || (size_t)(key + klen - hash) >= sizeof(cat) || (size_t)(hash - key) >= pn)
		return -1;
	snprintf(cat, sizeof(cat), "%.*s", (int)(key + klen - hash - 1), hash + 1);
	snprintf(pkey, pn, "%.*s", (int)(hash - key), key);
	return category_parse(cat);
}

/* ---- jobs.target_accepted --------------------------------------------------- */

int targets_any(const struct daemon_opts *o)
{
	for (int c = 0; c < CAT_COUNT; c++)
		if (o->target[c] > 0)
			return 1;
	return 0;
}

/* Say once that category c has reached its target, when it has. */
static void target_say(struct run_targets *t, const struct daemon_opts *o, int c)
{
	if (o->target[c] > 0 && t->accepted[c] >= (uint64_t)o->target[c] &&
	    !(t->said & (1u << c))) {
		t->said |= 1u << c;
		log_info("%s: its target of %lld accepted records is reached; its other jobs "
			 "stay pending", category_name(c), (long long)o->target[c]);
	}
}

struct count_ctx {
	struct run_targets *t;
	const struct daemon_opts *o;
};

static int count_accepted(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct count_ctx *x = arg;
	const char *state = jsonx_str(v, "state");
	char pkey[STORE_KEY_MAX];
	int c;

	if (rc || !state || strcmp(state, "done"))
		return 0;
	c = key_category(key, klen, pkey, sizeof(pkey));
	if (c >= 0 && daemon_in_shard(x->o, pkey))
		x->t->accepted[c]++;
	return 0;
}

int targets_count(struct run_targets *t, const struct daemon_opts *o, struct store *s)
{
	struct count_ctx x = { t, o };
	MDB_txn *txn;
	int rc;

	if (t->counted || !targets_any(o))
		return 0;
	rc = store_read_begin(s, &txn);
	if (rc)
		return rc;
	memset(t->accepted, 0, sizeof(t->accepted));
	rc = store_each(s, txn, STORE_JOBS, "", count_accepted, &x);
	store_read_end(txn);
	if (rc < 0)
		return rc;
	t->counted = 1;
	return 0;
}

void targets_accepted(struct run_targets *t, const struct daemon_opts *o, int c)
{
	if (c < 0 || c >= CAT_COUNT)
		return;
	t->accepted[c]++;
	target_say(t, o, c);
}

int targets_hold(struct run_targets *t, const struct daemon_opts *o, const char *key, size_t klen)
{
	char pkey[STORE_KEY_MAX];
	int c = key_category(key, klen, pkey, sizeof(pkey));

	if (c < 0 || o->target[c] <= 0 || t->accepted[c] + t->flight[c] < (uint64_t)o->target[c])
		return 0;
	t->held[c]++;
	target_say(t, o, c);
	return 1;
}

int targets_short(struct run_targets *t, const struct daemon_opts *o)
{
	int again = 0;

	for (int c = 0; c < CAT_COUNT; c++) {
		if (t->held[c] && o->target[c] > 0 && t->accepted[c] < (uint64_t)o->target[c])
			again = 1;
		t->held[c] = 0;
	}
	return again;
}

/* ---- the live line ----------------------------------------------------------- */

struct todo_ctx {
	const struct daemon_opts *o;
	uint64_t n;
};

static int count_todo(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct todo_ctx *x = arg;
	const char *state = jsonx_str(v, "state");
	char pkey[STORE_KEY_MAX];

	if (rc || !state || key_category(key, klen, pkey, sizeof(pkey)) < 0)
		return 0;
	if (strcmp(state, "pending") && strcmp(state, "modify") && strcmp(state, "clarify") &&
	    (strcmp(state, "answer") || x->o->stages < 3))
		return 0;
	if (daemon_in_shard(x->o, pkey))
		x->n++;
	return 0;
}

void live_count(struct live_line *l, const struct daemon_opts *o, struct store *s, uint64_t done)
{
	struct todo_ctx x = { o, 0 };
	MDB_txn *txn;

	if (!l->on || store_read_begin(s, &txn))
		return;
	store_each(s, txn, STORE_JOBS, "", count_todo, &x);
	store_read_end(txn);
	err_clear();
	/* the jobs in flight are still pending in the store: counted once */
	l->todo = x.n + done;
}

static void fmt_count(char *out, size_t n, uint64_t v)
{
	if (v >= 10000000)
		snprintf(out, n, "%.1fM", (double)v / 1e6);
	else if (v >= 10000)
		snprintf(out, n, "%.1fk", (double)v / 1e3);
	else
		snprintf(out, n, "%llu", (unsigned long long)v);
}

static void fmt_secs(char *out, size_t n, double s)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

void live_draw(struct live_line *l, const struct daemon_opts *o, const struct daemon_counts *n,
	       uint64_t retries, size_t in_flight, double secs, double now, int force)
{
	struct winsize ws;
	uint64_t done = n->accepted + n->rejected + n->failed;
	uint64_t total = l->todo > done ? l->todo : done;
	double rate = secs > 0.5 ? (double)done / secs : 0;
	char line[512], tok[32], eta[32];
	size_t cols = 0;
	int w;

	if (!l->on || (!force && now - l->last < 0.25))
		return;
	l->last = now;
	fmt_count(tok, sizeof(tok), n->tokens);
	if (done >= total)
		snprintf(eta, sizeof(eta), "-");
	else if (rate > 0)
		fmt_secs(eta, sizeof(eta), (double)(total - done) / rate);
	else
		snprintf(eta, sizeof(eta), "?");
	w = snprintf(line, sizeof(line), "%llu/%llu jobs %3.0f%%  accepted %llu  rejected %llu  "
		     "failed %llu  %.1f jobs/s  ETA %s  %s tokens", (unsigned long long)done,
		     (unsigned long long)total, total ? 100.0 * (double)done / (double)total : 100.0,
		     (unsigned long long)n->accepted, (unsigned long long)n->rejected,
		     (unsigned long long)n->failed, rate, eta, tok);
	if (w > 0 && (size_t)w < sizeof(line) && o->price_in + o->price_out > 0)
		w += snprintf(line + w, sizeof(line) - (size_t)w, "  $%.2f",
			      ((double)n->tokens_in * o->price_in +
			       (double)n->tokens_out * o->price_out) / 1e6);
	if (w > 0 && (size_t)w < sizeof(line))
		snprintf(line + w, sizeof(line) - (size_t)w, "  %llu retries  %zu in flight",
			 (unsigned long long)retries, in_flight);
	/* a line wider than the terminal would wrap, and \r redraw only its end */
	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		cols = ws.ws_col - 1;
	if (cols && cols < strlen(line))
		line[cols] = '\0';
	log_status(line);
}
