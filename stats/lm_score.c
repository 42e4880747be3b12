/*
 * lm_score.c - scoring, as KenLM's query does it: a state of the last words,
 * one chain of probes per word, perplexity with and without OOVs.
 */
#include "lm_int.h"

/* ---- scoring ---------------------------------------------------------- */

void stats_lm_begin(const struct stats_lm *lm, struct stats_lm_state *st)
{
	memset(st, 0, sizeof(*st));
	st->words[0] = STATS_LM_BOS;
	st->backoff[0] = lm->uni[STATS_LM_BOS].backoff;
	st->len = lm->order > 1 && !lm_stops(st->backoff[0]) ? 1 : 0;
}

static inline float lm_score(const struct stats_lm *lm, const struct stats_lm_state *in,
			     uint32_t w, struct stats_lm_state *out)
{
	uint32_t words[MAXO - 1];
	float bo[MAXO - 1];
	unsigned k = in->len, j, m = 1, len, top = (unsigned)lm->order - 1;
	const struct lm_pb *u;
	uint64_t h;
	float p;

	if (k > top)
		k = top;
	for (j = 0; j < k; j++) {
		words[j] = in->words[j];
		bo[j] = in->backoff[j];
	}
	if (w >= lm->vocab)
		w = STATS_LM_UNK;
	u = &lm->uni[w];
	p = u->prob;
	out->words[0] = w;
	out->backoff[0] = u->backoff;
	len = top > 0 && !lm_stops(u->backoff) ? 1 : 0;
	h = lm_h1(w);
	for (j = 0; j < k; j++) {
		const struct lm_entry *e;

		h = lm_ext(h, words[j]);
		e = lm_find(&lm->tab[j + 1], lm_key(h));
		if (!e)
			break;
		p = e->prob;
		m = j + 2;
		if (len == j + 1 && j + 1 < top) {
			out->words[j + 1] = words[j];
			out->backoff[j + 1] = e->backoff;
			if (!lm_stops(e->backoff))
				len = j + 2;
		}
	}
	/* the contexts longer than the match back off */
	for (j = m - 1; j < k; j++)
		p += bo[j];
	out->len = len;
	return p;
}

float stats_lm_score(const struct stats_lm *lm, const struct stats_lm_state *in, uint32_t word,
		     struct stats_lm_state *out)
{
	return lm_score(lm, in, word, out);
}

/* As KenLM's query: the sentence total in float, the corpus in double. */
/* One sentence, its words as ids or (ids NULL) as strings. */
static double score_words(const struct stats_lm *lm, const uint32_t *ids,
			  const char *const *tokens, size_t n, int *oov, struct stats_lm_ppl *acc)
{
	struct stats_lm_state s[2];
	double oov_total = 0;
	float total = 0;
	int noov = 0, cur = 0;

	stats_lm_begin(lm, &s[0]);
	for (size_t i = 0; i < n; i++) {
		uint32_t w = ids ? (ids[i] < lm->vocab ? ids[i] : STATS_LM_UNK)
				 : stats_lm_word(lm, tokens[i], strlen(tokens[i]));
		float p = lm_score(lm, &s[cur], w, &s[cur ^ 1]);

		total += p;
		if (w == STATS_LM_UNK) {
			noov++;
			oov_total += p;
		}
		cur ^= 1;
	}
	total += lm_score(lm, &s[cur], STATS_LM_EOS, &s[cur ^ 1]);
	if (oov)
		*oov = noov;
	if (acc) {
		acc->log10_total += total;
		acc->log10_oov += oov_total;
		acc->tokens += n + 1;
		acc->oov += (uint64_t)noov;
		acc->sentences++;
	}
	return total;
}

double stats_lm_score_ids(const struct stats_lm *lm, const uint32_t *ids, size_t n, int *oov,
			  struct stats_lm_ppl *acc)
{
	return score_words(lm, ids, NULL, n, oov, acc);
}

double stats_lm_score_sentence(const struct stats_lm *lm, const char *const *tokens, size_t n,
			       int *oov, struct stats_lm_ppl *acc)
{
	return score_words(lm, NULL, tokens, n, oov, acc);
}

struct text_ctx {
	const struct stats_lm *lm;
	struct stats_lm_ppl *acc;
	struct stats_lm_state st;
	float total;
	double oov_total;
	uint64_t n, oov;
};

static void text_token(const char *tok, size_t n, void *arg)
{
	struct text_ctx *c = arg;
	uint32_t w;
	float p;

	if (!tok) {
		c->total += lm_score(c->lm, &c->st, STATS_LM_EOS, &c->st);
		c->acc->log10_total += c->total;
		c->acc->log10_oov += c->oov_total;
		c->acc->tokens += c->n + 1;
		c->acc->oov += c->oov;
		c->acc->sentences++;
		stats_lm_begin(c->lm, &c->st);
		c->total = 0;
		c->oov_total = 0;
		c->n = c->oov = 0;
		return;
	}
	w = stats_lm_word(c->lm, tok, n);
	p = lm_score(c->lm, &c->st, w, &c->st);
	c->total += p;
	c->n++;
	if (w == STATS_LM_UNK) {
		c->oov++;
		c->oov_total += p;
	}
}

int stats_lm_score_text(const struct stats_lm *lm, const char *text, size_t len,
			struct stats_lm_ppl *acc)
{
	struct text_ctx c;

	memset(&c, 0, sizeof(c));
	c.lm = lm;
	c.acc = acc;
	stats_lm_begin(lm, &c.st);
	return stats_tokenize(text, len, text_token, &c);
}

double stats_lm_ppl_incl(const struct stats_lm_ppl *p)
{
	if (!p->tokens)
		return NAN;
	return pow(10.0, -(p->log10_total / (double)p->tokens));
}

double stats_lm_ppl_excl(const struct stats_lm_ppl *p)
{
	if (p->tokens <= p->oov)
		return NAN;
	return pow(10.0, -((p->log10_total - p->log10_oov) / (double)(p->tokens - p->oov)));
}
