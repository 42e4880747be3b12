/*
 * lm_train.c - training: counts, discounts and interpolated modified
 * Kneser-Ney estimation, as KenLM's lmplz does it.
 */
#include "lm_int.h"

/* ---- training ---------------------------------------------------------- */

struct stats_lm_trainer {
	struct lm_builder b;
	uint32_t *ids; /* the corpus: each sentence's words, then </s> */
	size_t n, cap;
	int open; /* a sentence has words and no </s> yet */
	int rc;
	int done;
	char msg[160];
};

static void tr_fail(struct stats_lm_trainer *t, int rc, const char *msg)
{
	if (t->rc)
		return;
	t->rc = rc;
	snprintf(t->msg, sizeof(t->msg), "%s", msg);
}

static void tr_push(struct stats_lm_trainer *t, uint32_t id)
{
	if (t->n >= LM_MAX_TOKENS) {
		tr_fail(t, CL_ETOOBIG, "too many tokens to train on");
		return;
	}
	if (lm_grow((void **)&t->ids, &t->cap, t->n + 1, sizeof(uint32_t))) {
		tr_fail(t, CL_ENOMEM, "out of memory");
		return;
	}
	t->ids[t->n++] = id;
}

int stats_lm_trainer_new(struct stats_lm_trainer **out, int order)
{
	struct stats_lm_trainer *t;
	int rc;

	*out = NULL;
	if (order < 2 || order > 5)
		return err_set(CL_EINVAL, "order %d: a model is trained with order 2 to 5", order);
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(CL_ENOMEM, "out of memory");
	rc = lm_builder_init(&t->b, order);
	if (rc) {
		lm_builder_release(&t->b);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void stats_lm_trainer_token(const char *tok, size_t n, void *trainer)
{
	struct stats_lm_trainer *t = trainer;
	uint32_t id;
	int added;

	if (t->rc)
		return;
	if (!tok) {
		tr_push(t, STATS_LM_EOS);
		t->open = 0;
		return;
	}
	if (!n)
		return;
	if (lm_vocab_add(&t->b.v, tok, n, &id, &added)) {
		tr_fail(t, CL_ENOMEM, "out of memory");
		return;
	}
	if (id < 3) {
		char msg[96], q[64];

		snprintf(msg, sizeof(msg), "token '%s' is reserved",
			 lm_quote(q, sizeof(q), tok, n));
		tr_fail(t, CL_EINVAL, msg);
		return;
	}
	tr_push(t, id);
	t->open = 1;
}

/* lmplz's token delimiters */
static int tr_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\0';
}

int stats_lm_trainer_add_lines(struct stats_lm_trainer *t, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len && !t->rc) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		while (i < end) {
			size_t j;

			while (i < end && tr_delim(text[i]))
				i++;
			j = i;
			while (j < end && !tr_delim(text[j]))
				j++;
			if (j > i)
				stats_lm_trainer_token(text + i, j - i, t);
			i = j;
		}
		stats_lm_trainer_token(NULL, 0, t);
		i = end + 1;
	}
	if (t->rc)
		return err_set(t->rc, "%s", t->msg);
	return 0;
}

void stats_lm_trainer_free(struct stats_lm_trainer *t)
{
	if (!t)
		return;
	lm_builder_release(&t->b);
	free(t->ids);
	free(t);
}

/* KenLM's discounts (adjust_counts.cc), in its float arithmetic; -1 when
 * the counts cannot give them */
static int lm_discounts(const uint64_t nn[5], float d[4])
{
	float y;

	d[0] = 0.0f;
	for (int j = 1; j < 4; j++)
		if (!nn[j])
			return -1;
	y = (float)nn[1] / (float)((double)nn[1] + 2.0 * (double)nn[2]);
	for (int j = 1; j < 4; j++) {
		d[j] = (float)j - (float)(j + 1) * y * (float)nn[j + 1] / (float)nn[j];
		if (d[j] < 0.0f || d[j] > (float)j)
			return -1;
	}
	return 0;
}

static inline float lm_log10(float p)
{
	float l = log10f(p);

	return l < 0.0f ? l : 0.0f; /* std::min(0.0f, l) */
}

/* Per-order arrays of the estimate; index n is order n. */
struct lm_est {
	uint32_t *cnt[MAXO + 1]; /* raw counts (n >= 2) */
	size_t ccap[MAXO + 1];
	uint32_t *suf[MAXO + 1];  /* index of the last n-1 words in order n-1 */
	unsigned char *bos[MAXO + 1]; /* starts with <s> */
	uint32_t *adj[MAXO + 1];  /* adjusted counts */
	uint64_t *den[MAXO + 1];  /* per context of order n: sum of adjusted counts */
	float *gam[MAXO + 1];     /* per context: interpolation weight */
	float *lp[MAXO + 1];      /* interpolated probability */
	float d[MAXO + 1][4];
};

static void lm_est_release(struct lm_est *e)
{
	for (int n = 0; n <= MAXO; n++) {
		free(e->cnt[n]);
		free(e->suf[n]);
		free(e->bos[n]);
		free(e->adj[n]);
		free(e->den[n]);
		free(e->gam[n]);
		free(e->lp[n]);
	}
}

static int tr_count(struct stats_lm_trainer *t, struct lm_est *e)
{
	struct lm_builder *b = &t->b;
	int N = b->order;
	size_t a = 0;

	while (a < t->n) {
		size_t z = a, len;

		while (t->ids[z] != STATS_LM_EOS)
			z++;
		len = z - a + 2; /* <s> words </s> */
		for (size_t j = 0; j < len; j++) {
			uint32_t q = j ? t->ids[a + j - 1] : STATS_LM_BOS;

			for (int n = 2; n <= N && j + (size_t)n - 1 < len; n++) {
				int rc = lm_badd(b, n, q, t->ids[a + j + (size_t)n - 2], &q);

				if (rc < 0)
					return rc;
				if (q >= e->ccap[n]) {
					size_t old = e->ccap[n];

					if (lm_grow((void **)&e->cnt[n], &e->ccap[n], (size_t)q + 1,
						    sizeof(uint32_t)))
						return err_set(CL_ENOMEM, "out of memory");
					memset(e->cnt[n] + old, 0,
					       (e->ccap[n] - old) * sizeof(uint32_t));
				}
				e->cnt[n][q]++;
			}
		}
		a = z + 1;
	}
	return 0;
}

static int tr_estimate(struct stats_lm_trainer *t)
{
	struct lm_builder *b = &t->b;
	struct lm_est e;
	int N = b->order, rc;
	uint32_t V = b->v.n;
	float uniform;

	memset(&e, 0, sizeof(e));
	rc = tr_count(t, &e);
	if (rc)
		goto out;
	if (lm_unigrams_reserve(b, V)) {
		rc = err_set(CL_ENOMEM, "out of memory");
		goto out;
	}
	/* suffixes and <s> marks */
	for (int n = 2; n <= N; n++) {
		size_t cnt = b->o[n].n;

		e.suf[n] = malloc((cnt + 1) * sizeof(uint32_t));
		e.bos[n] = malloc(cnt + 1);
		if (!e.suf[n] || !e.bos[n]) {
			rc = err_set(CL_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < cnt; i++) {
			struct lm_rec r = b->o[n].rec[i];

			e.bos[n][i] = n == 2 ? r.prefix == STATS_LM_BOS : e.bos[n - 1][r.prefix];
			e.suf[n][i] = n == 2 ? r.word
					     : lm_map_get(&b->o[n - 1].map, e.suf[n - 1][r.prefix],
							  r.word);
			if (e.suf[n][i] == LM_NONE) { /* every suffix was counted */
				rc = err_set(CL_EINVAL, "a %d-gram without its suffix", n);
				goto out;
			}
		}
	}
	/* adjusted counts */
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;

		e.adj[n] = calloc(cnt + 1, sizeof(uint32_t));
		if (!e.adj[n]) {
			rc = err_set(CL_ENOMEM, "out of memory");
			goto out;
		}
		if (n == N) {
			if (cnt)
				memcpy(e.adj[n], e.cnt[n], cnt * sizeof(uint32_t));
			continue;
		}
		for (size_t i = 0; n > 1 && i < cnt; i++)
			if (e.bos[n][i])
				e.adj[n][i] = e.cnt[n][i];
		for (size_t i = 0; i < b->o[n + 1].n; i++) {
			uint32_t g = e.suf[n + 1][i];

			if (n == 1 || !e.bos[n][g])
				e.adj[n][g]++;
		}
	}
	e.adj[1][STATS_LM_UNK] = 0;
	e.adj[1][STATS_LM_BOS] = 0;
	/* discounts */
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;
		uint64_t nn[5] = { 0 };

		for (size_t i = 0; i < cnt; i++)
			if (e.adj[n][i] < 5)
				nn[e.adj[n][i]]++;
		if (lm_discounts(nn, e.d[n])) {
			e.d[n][0] = 0.0f;
			e.d[n][1] = 0.5f;
			e.d[n][2] = 1.0f;
			e.d[n][3] = 1.5f;
			b->fallback |= 1u << (n - 1);
			log_debug("stats: %d-gram discounts from n1..n4 = %llu %llu %llu %llu are "
				  "out of range: using 0.5 1 1.5", n, (unsigned long long)nn[1],
				  (unsigned long long)nn[2], (unsigned long long)nn[3],
				  (unsigned long long)nn[4]);
		}
		memcpy(b->discount[n - 1], &e.d[n][1], 3 * sizeof(float));
	}
	/* gamma per context */
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;
		size_t nctx = n == 1 ? 1 : n == 2 ? V : b->o[n - 1].n;
		uint32_t *c3 = calloc(3 * nctx + 3, sizeof(uint32_t));

		e.den[n] = calloc(nctx + 1, sizeof(uint64_t));
		e.gam[n] = calloc(nctx + 1, sizeof(float));
		if (!c3 || !e.den[n] || !e.gam[n]) {
			free(c3);
			rc = err_set(CL_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < cnt; i++) {
			uint32_t ctx = n == 1 ? 0 : b->o[n].rec[i].prefix, a = e.adj[n][i];

			e.den[n][ctx] += a;
			if (a)
				c3[3 * (size_t)ctx + (a < 3 ? a : 3) - 1]++;
		}
		for (size_t c = 0; c < nctx; c++) {
			float g = 0.0f;

			if (!e.den[n][c])
				continue;
			for (int k = 1; k <= 3; k++)
				g += e.d[n][k] * (float)c3[3 * c + (size_t)k - 1];
			g /= (float)e.den[n][c];
			e.gam[n][c] = g;
		}
		free(c3);
	}
	/* interpolated probabilities */
	uniform = (float)(1.0 / (double)(float)(V - 1));
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;

		e.lp[n] = malloc((cnt + 1) * sizeof(float));
		if (!e.lp[n]) {
			rc = err_set(CL_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < cnt; i++) {
			uint32_t a = e.adj[n][i], ctx = n == 1 ? 0 : b->o[n].rec[i].prefix;
			float lower = n == 1 ? uniform : e.lp[n - 1][e.suf[n][i]];
			float un = ((float)a - e.d[n][a < 3 ? a : 3]) / (float)e.den[n][ctx];
			float gam = e.gam[n][ctx];

			if (n == 1 && i == STATS_LM_UNK) {
				un = 0.0f;
			} else if (n == 1 && i == STATS_LM_BOS) {
				un = 1.0f;
				gam = 0.0f;
			}
			e.lp[n][i] = un + gam * lower;
		}
	}
	/* log10, back-offs */
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;
		float *prob = n == 1 ? b->uprob : b->o[n].prob;
		float *bo = n == 1 ? b->ubo : b->o[n].bo;

		for (size_t i = 0; i < cnt; i++) {
			uint32_t last = n == 1 ? (uint32_t)i : b->o[n].rec[i].word;

			prob[i] = lm_log10(e.lp[n][i]);
			bo[i] = 0.0f;
			if (n < N && last != STATS_LM_UNK && last != STATS_LM_EOS && e.den[n + 1][i])
				bo[i] = log10f(e.gam[n + 1][i]);
		}
	}
out:
	lm_est_release(&e);
	return rc;
}

int stats_lm_trainer_finish(struct stats_lm_trainer *t, struct stats_lm **out)
{
	int rc;

	*out = NULL;
	if (t->done)
		return err_set(CL_EINVAL, "the trainer has finished already");
	t->done = 1;
	if (t->open)
		tr_push(t, STATS_LM_EOS);
	if (t->rc)
		return err_set(t->rc, "%s", t->msg);
	if (!t->n)
		return err_set(CL_EINVAL, "no sentences to train on");
	rc = tr_estimate(t);
	if (rc)
		return rc;
	return lm_finish(&t->b, out);
}

int stats_lm_train(struct stats_lm **out, int order, const char *text, size_t len)
{
	struct stats_lm_trainer *t;
	int rc;

	*out = NULL;
	rc = stats_lm_trainer_new(&t, order);
	if (rc)
		return rc;
	rc = stats_lm_trainer_add_lines(t, text, len);
	if (!rc)
		rc = stats_lm_trainer_finish(t, out);
	stats_lm_trainer_free(t);
	return rc;
}
