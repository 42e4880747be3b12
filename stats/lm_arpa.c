/*
 * lm_arpa.c - ARPA in and out: a one-pass reader with line-numbered
 * errors, and the writer.
 */
#include "lm_int.h"

/* ---- reading ARPA ------------------------------------------------------ */

struct lm_reader {
	const char *p, *end, *name;
	size_t line;   /* number of the current line */
	const char *s; /* its text, trailing white space cut */
	size_t n;
	int again;     /* give the current line once more */
};

static int rd_next(struct lm_reader *r)
{
	const char *nl;

	if (r->again) {
		r->again = 0;
		return 1;
	}
	if (r->p >= r->end)
		return 0;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	r->s = r->p;
	r->n = (size_t)((nl ? nl : r->end) - r->p);
	r->p = nl ? nl + 1 : r->end;
	r->line++;
	while (r->n && (r->s[r->n - 1] == ' ' || r->s[r->n - 1] == '\t' || r->s[r->n - 1] == '\r'))
		r->n--;
	while (r->n && (r->s[0] == ' ' || r->s[0] == '\t')) {
		r->s++;
		r->n--;
	}
	return 1;
}

static int rd_is(const struct lm_reader *r, const char *text)
{
	return r->n == strlen(text) && memcmp(r->s, text, r->n) == 0;
}

/* s[0..n) quoted for a message: at most 40 bytes, control bytes as '?' */
const char *lm_quote(char *out, size_t size, const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 4 < size; i++) {
		if (i == 40) {
			memcpy(out + k, "...", 3);
			k += 3;
			break;
		}
		out[k++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	}
	out[k] = '\0';
	return out;
}

static int rd_err(const struct lm_reader *r, const char *fmt, ...) CL_PRINTF(2, 3);

static int rd_err(const struct lm_reader *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(CL_EPARSE, "%s:%zu: %s", r->name, r->line ? r->line : 1, msg);
}

/* a decimal count, 0 or -1 */
static int lm_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (!n || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* a log10 value: a decimal that fits a float, or "-inf" (probability 0,
 * which KenLM reads too); 0 or -1 */
static int lm_number(const char *s, size_t n, float *out)
{
	char tmp[64];
	char *end;
	float v;

	if ((n == 4 && strncasecmp(s, "-inf", 4) == 0) ||
	    (n == 9 && strncasecmp(s, "-infinity", 9) == 0)) {
		*out = -INFINITY;
		return 0;
	}
	if (!n || n >= sizeof(tmp))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789+-.eE", s[i]) || s[i] == '\0')
			return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtof(tmp, &end);
	if (end != tmp + n || !isfinite(v) || (errno == ERANGE && fabsf(v) > 1.0f))
		return -1;
	*out = v;
	return 0;
}

struct lm_field {
	const char *s;
	size_t n;
};

/* split the current line on spaces and tabs; the field count, or -1 when
 * there are more than max */
static int rd_fields(const struct lm_reader *r, struct lm_field *f, int max)
{
	size_t i = 0;
	int k = 0;

	while (i < r->n) {
		size_t j;

		while (i < r->n && (r->s[i] == ' ' || r->s[i] == '\t'))
			i++;
		if (i == r->n)
			break;
		j = i;
		while (j < r->n && r->s[j] != ' ' && r->s[j] != '\t')
			j++;
		if (k == max)
			return -1;
		f[k].s = r->s + i;
		f[k].n = j - i;
		k++;
		i = j;
	}
	return k;
}

/* "w1 w2 ... wn" of fields into out, quoted */
static const char *lm_quote_words(char *out, size_t size, const struct lm_field *f, int n)
{
	const char *a = f[0].s, *z = f[n - 1].s + f[n - 1].n;

	return lm_quote(out, size, a, (size_t)(z - a));
}

/* lm_digits() of [a, z) without the spaces and tabs around */
static int lm_digits_trim(const char *a, const char *z, uint64_t *out)
{
	while (a < z && (*a == ' ' || *a == '\t'))
		a++;
	while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
		z--;
	return lm_digits(a, (size_t)(z - a), out);
}

static int lm_read_counts(struct lm_reader *r, uint64_t *count, int *order, size_t len)
{
	for (;;) {
		const char *eq;
		uint64_t n, c;

		if (!rd_next(r)) {
			if (!*order)
				return rd_err(r, "no 'ngram N=COUNT' lines after '\\data\\'");
			return 0;
		}
		if (!r->n) {
			if (*order)
				return 0;
			continue;
		}
		if (r->s[0] == '\\' && *order) {
			r->again = 1;
			return 0;
		}
		if (r->n < 6 || memcmp(r->s, "ngram", 5) != 0 ||
		    (r->s[5] != ' ' && r->s[5] != '\t')) {
			char q[64];

			return rd_err(r, "expected 'ngram N=COUNT', found '%s'",
				      lm_quote(q, sizeof(q), r->s, r->n));
		}
		eq = memchr(r->s, '=', r->n);
		if (!eq || lm_digits_trim(r->s + 6, eq, &n) ||
		    lm_digits_trim(eq + 1, r->s + r->n, &c))
			return rd_err(r, "expected 'ngram N=COUNT'");
		if (n != (uint64_t)*order + 1)
			return rd_err(r, "expected the count of %d-grams, found one of %llu-grams",
				      *order + 1, (unsigned long long)n);
		if (n > MAXO)
			return rd_err(r, "order %llu is over the maximum %d", (unsigned long long)n,
				      MAXO);
		if (c > LM_MAX_N || c > len / 2)
			return rd_err(r, "%llu %llu-grams: more than the file can hold",
				      (unsigned long long)c, (unsigned long long)n);
		count[n] = c;
		*order = (int)n;
	}
}

static int lm_read_unigram(struct lm_builder *b, struct lm_reader *r, unsigned char *seen)
{
	struct lm_field f[4];
	int k = rd_fields(r, f, 3), added, rc;
	uint32_t id;
	float prob, bo = 0;
	char q[64];

	if (k < 2 || (k == 3 && b->order == 1) || k < 0)
		return rd_err(r, "a 1-gram line is 'log10prob word%s'",
			      b->order > 1 ? " [backoff]" : "");
	if (lm_number(f[0].s, f[0].n, &prob))
		return rd_err(r, "'%s' is not a log10 probability",
			      lm_quote(q, sizeof(q), f[0].s, f[0].n));
	if (prob > 0)
		return rd_err(r, "positive log10 probability %s",
			      lm_quote(q, sizeof(q), f[0].s, f[0].n));
	if (k == 3 && lm_number(f[2].s, f[2].n, &bo))
		return rd_err(r, "'%s' is not a log10 back-off",
			      lm_quote(q, sizeof(q), f[2].s, f[2].n));
	rc = lm_vocab_add(&b->v, f[1].s, f[1].n, &id, &added);
	if (rc)
		return rc;
	if (!added && (id >= 3 || seen[id]))
		return rd_err(r, "duplicate 1-gram '%s'", lm_quote(q, sizeof(q), f[1].s, f[1].n));
	if (id < 3)
		seen[id] = 1;
	if (lm_unigrams_reserve(b, (size_t)id + 1))
		return err_set(CL_ENOMEM, "out of memory");
	b->uprob[id] = prob;
	b->ubo[id] = bo;
	return 0;
}

static int lm_read_ngram(struct lm_builder *b, struct lm_reader *r, int n)
{
	struct lm_field f[MAXO + 3];
	uint32_t ids[MAXO], q, idx;
	int k = rd_fields(r, f, n + 2), rc;
	float prob, bo = 0;
	char qs[64];

	if (k < 0 || k < n + 1 || (k == n + 2 && n == b->order))
		return rd_err(r, "a %d-gram line is 'log10prob %d words%s'", n, n,
			      n < b->order ? " [backoff]" : "");
	if (lm_number(f[0].s, f[0].n, &prob))
		return rd_err(r, "'%s' is not a log10 probability",
			      lm_quote(qs, sizeof(qs), f[0].s, f[0].n));
	if (prob > 0)
		return rd_err(r, "positive log10 probability %s",
			      lm_quote(qs, sizeof(qs), f[0].s, f[0].n));
	if (k == n + 2 && lm_number(f[n + 1].s, f[n + 1].n, &bo))
		return rd_err(r, "'%s' is not a log10 back-off",
			      lm_quote(qs, sizeof(qs), f[n + 1].s, f[n + 1].n));
	for (int i = 0; i < n; i++) {
		ids[i] = lm_vocab_get(&b->v, f[1 + i].s, f[1 + i].n);
		if (ids[i] == LM_NONE)
			return rd_err(r, "'%s' of a %d-gram is not a 1-gram",
				      lm_quote(qs, sizeof(qs), f[1 + i].s, f[1 + i].n), n);
	}
	q = ids[0];
	for (int m = 2; m < n; m++) {
		q = lm_map_get(&b->o[m].map, q, ids[m - 1]);
		if (q == LM_NONE)
			return rd_err(r, "the context '%s' of this %d-gram is not a %d-gram",
				      lm_quote_words(qs, sizeof(qs), f + 1, n - 1), n, n - 1);
	}
	rc = lm_badd(b, n, q, ids[n - 1], &idx);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return rd_err(r, "duplicate %d-gram '%s'", n,
			      lm_quote_words(qs, sizeof(qs), f + 1, n));
	b->o[n].prob[idx] = prob;
	b->o[n].bo[idx] = bo;
	return 0;
}

static int lm_read(struct lm_builder *b, struct lm_reader *r, size_t len)
{
	uint64_t count[MAXO + 1] = { 0 };
	unsigned char seen[3] = { 0 };
	int order = 0, rc;
	char q[64], want[32];

	for (;;) {
		if (!rd_next(r))
			return rd_err(r, "no '\\data\\' header");
		if (!r->n)
			continue;
		if (rd_is(r, "\\data\\"))
			break;
		return rd_err(r, "expected '\\data\\', found '%s'",
			      lm_quote(q, sizeof(q), r->s, r->n));
	}
	rc = lm_read_counts(r, count, &order, len);
	if (rc)
		return rc;
	b->order = order;
	if (lm_unigrams_reserve(b, count[1] + 4))
		return err_set(CL_ENOMEM, "out of memory");
	for (int n = 1; n <= order; n++) {
		snprintf(want, sizeof(want), "\\%d-grams:", n);
		do {
			if (!rd_next(r))
				return rd_err(r, "end of file before '%s'", want);
		} while (!r->n);
		if (!rd_is(r, want))
			return rd_err(r, "expected '%s', found '%s'", want,
				      lm_quote(q, sizeof(q), r->s, r->n));
		if (n > 1 && (lm_border_reserve(&b->o[n], count[n]) ||
			      lm_map_reserve(&b->o[n].map, count[n])))
			return err_set(CL_ENOMEM, "out of memory");
		for (uint64_t i = 0; i < count[n]; i++) {
			if (!rd_next(r) || !r->n || r->s[0] == '\\') {
				return rd_err(r, "%llu %d-grams where the header says %llu",
					      (unsigned long long)i, n,
					      (unsigned long long)count[n]);
			}
			rc = n == 1 ? lm_read_unigram(b, r, seen) : lm_read_ngram(b, r, n);
			if (rc)
				return rc;
		}
		if (n == 1) {
			if (!seen[STATS_LM_BOS] || !seen[STATS_LM_EOS])
				return rd_err(r, "no '%s' among the 1-grams",
					      seen[STATS_LM_BOS] ? "</s>" : "<s>");
			if (!seen[STATS_LM_UNK]) { /* as KenLM */
				b->uprob[STATS_LM_UNK] = -100.0f;
				b->ubo[STATS_LM_UNK] = 0;
			}
		}
	}
	do {
		if (!rd_next(r))
			return rd_err(r, "no '\\end\\' after the %d-grams", order);
	} while (!r->n);
	if (!rd_is(r, "\\end\\"))
		return rd_err(r, "expected '\\end\\', found '%s'",
			      lm_quote(q, sizeof(q), r->s, r->n));
	while (rd_next(r))
		if (r->n)
			return rd_err(r, "text after '\\end\\'");
	return 0;
}

int stats_lm_read_arpa_buffer(struct stats_lm **out, const char *data, size_t len,
			      const char *name)
{
	struct lm_builder b;
	struct lm_reader r;
	int rc;

	*out = NULL;
	if (memchr(data, '\0', len)) {
		const char *z = memchr(data, '\0', len);
		size_t line = 1;

		for (const char *p = data; p < z; p++)
			line += *p == '\n';
		return err_set(CL_EPARSE, "%s:%zu: NUL byte", name, line);
	}
	rc = lm_builder_init(&b, 1);
	if (rc)
		goto out;
	memset(&r, 0, sizeof(r));
	r.p = data;
	r.end = data + len;
	r.name = name;
	rc = lm_read(&b, &r, len);
	if (!rc)
		rc = lm_finish(&b, out);
out:
	lm_builder_release(&b);
	return rc;
}

int stats_lm_read_arpa(struct stats_lm **out, const char *path)
{
	struct buf data;
	int rc;

	*out = NULL;
	buf_init(&data, (size_t)1 << 34);
	rc = file_read(path, &data);
	if (!rc)
		rc = stats_lm_read_arpa_buffer(out, data.data ? data.data : "", data.len, path);
	buf_release(&data);
	return rc;
}

/* ---- writing ARPA ------------------------------------------------------ */

/* The shortest decimal that reads back as v (KenLM prints floats so). */
static void lm_fmt(char *out, size_t size, float v)
{
	if (v == 0.0f) {
		snprintf(out, size, "0");
		return;
	}
	for (int p = 6; p <= 9; p++) {
		snprintf(out, size, "%.*g", p, (double)v);
		if (strtof(out, NULL) == v)
			return;
	}
}

struct write_ctx {
	FILE *f;
	int order;
};

static int write_ngram(const char *const *words, int n, float prob, float backoff, void *arg)
{
	struct write_ctx *c = arg;
	char num[32];

	lm_fmt(num, sizeof(num), prob);
	fputs(num, c->f);
	for (int i = 0; i < n; i++) {
		fputc(i ? ' ' : '\t', c->f);
		fputs(words[i], c->f);
	}
	if (n < c->order) {
		lm_fmt(num, sizeof(num), backoff);
		fputc('\t', c->f);
		fputs(num, c->f);
	}
	fputc('\n', c->f);
	return 0;
}

int stats_lm_write_arpa(const struct stats_lm *lm, FILE *f)
{
	struct write_ctx c = { f, lm->order };

	fputs("\\data\\\n", f);
	for (int n = 1; n <= lm->order; n++)
		fprintf(f, "ngram %d=%llu\n", n, (unsigned long long)lm->h->count[n - 1]);
	for (int n = 1; n <= lm->order; n++) {
		fprintf(f, "\n\\%d-grams:\n", n);
		stats_lm_foreach(lm, n, write_ngram, &c);
	}
	fputs("\n\\end\\\n", f);
	if (fflush(f) != 0 || ferror(f))
		return err_set(CL_EIO, "cannot write the ARPA model: %s", strerror(errno));
	return 0;
}
