/*
 * walk.c - the walk over the stores: a reader thread feeds batches of
 * records in key order (a k-way merge), the exporter selects and writes.
 */
#include <math.h>
#include <string.h>

#include "export_int.h"

/* ---- the walk ------------------------------------------------------------------ */

static int keycmp(const MDB_val *a, const MDB_val *b)
{
	size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
	int c = memcmp(a->mv_data, b->mv_data, n);

	if (c)
		return c;
	return a->mv_size < b->mv_size ? -1 : a->mv_size > b->mv_size;
}

static int src_step(struct src *s, MDB_cursor_op op)
{
	int mrc = mdb_cursor_get(s->pcur, &s->k, &s->v, op);

	s->more = mrc == 0;
	if (mrc && mrc != MDB_NOTFOUND)
		return err_set(CL_ESTORE, "store '%s': cannot read problems: %s", s->s->path,
			       mdb_strerror(mrc));
	return 0;
}

/* The problem's split: by a hash of its key, the same whatever the seed. */
static int split_of(const struct exporter *x, const char *key)
{
	uint64_t h = hash_fnv1a64(key, strlen(key));

	if (x->nsplit < 2)
		return EXPORT_TRAIN;
	return (double)(h >> 11) * 0x1.0p-53 < x->o->test_fraction ? EXPORT_TEST : EXPORT_TRAIN;
}

static void drop_pages(struct exporter *x, size_t n)
{
	x->touched += n;
	if (x->touched < DROP_EVERY)
		return;
	for (size_t i = 0; i < x->nsrc; i++)
		store_drop_pages(x->src[i].s);
	x->touched = 0;
}

/* One more record for gen[key], its entry made by make() the first time. */
static int gen_note(struct exporter *x, json_t *gen, const char *key,
		    json_t *(*make)(const char *const *f), const char *const *f)
{
	json_t *e = json_object_get(gen, key), *n;

	if (!e && json_object_size(gen) >= GEN_MAX) {
		x->gen_more++;
		x->gen_uncached = 1;
		return 0;
	}
	if (!e) {
		e = make(f);
		if (!e || json_object_set_new(gen, key, e))
			return CL_ENOMEM;
	}
	n = json_object_get(e, "records");
	if (x->gen_fill->nlast < CL_ARRAY_SIZE(x->gen_fill->last))
		x->gen_fill->last[x->gen_fill->nlast++] = n;
	else
		x->gen_uncached = 1; /* more than the shortcut holds */
	return json_integer_set(n, json_integer_value(n) + 1) ? CL_ENOMEM : 0;
}

static json_t *make_model(const char *const *f)
{
	return json_pack("{s:s, s:s, s:I}", "provider", f[0], "model", f[1], "records",
			 (json_int_t)0);
}

static json_t *make_template(const char *const *f)
{
	return json_pack("{s:s, s:I, s:s, s:I}", "name", f[0], "version",
			 (json_int_t)strtoll(f[1], NULL, 10), "hash", f[2], "records",
			 (json_int_t)0);
}

static int note_generation_slow(struct exporter *x, const struct jspan *provider,
				const struct jspan *model, const struct jspan *templates);

/* A record's generation is mostly one of a few seen just before (one per
 * category and model): when the raw text of its provider, model and
 * templates is one of GEN_SLOTS remembered, count it on the entries found
 * then, without parsing it again. */
static int gen_same(const struct gen_slot *g, const struct jspan *const *f, size_t len)
{
	const char *k = g->key.data;

	if (!g->nlast || len != g->key.len)
		return 0;
	for (size_t i = 0; i < 3; i++) {
		size_t n = f[i]->type ? f[i]->n : 0;

		if (memcmp(k, f[i]->p, n) != 0 || k[n] != '\x1f')
			return 0;
		k += n + 1;
	}
	return 1;
}

static int note_generation(struct exporter *x, const struct jspan *provider,
			   const struct jspan *model, const struct jspan *templates)
{
	const struct jspan *f[] = { provider, model, templates };
	struct gen_slot *g;
	size_t len = 0;
	int rc;

	for (size_t i = 0; i < 3; i++)
		len += (f[i]->type ? f[i]->n : 0) + 1;
	for (size_t i = 0; i < GEN_SLOTS; i++) {
		g = &x->gen[i];
		if (gen_same(g, f, len)) {
			for (size_t j = 0; j < g->nlast; j++)
				json_integer_set(g->last[j], json_integer_value(g->last[j]) + 1);
			return 0;
		}
	}
	g = &x->gen[x->gen_next];
	x->gen_next = (x->gen_next + 1) % GEN_SLOTS;
	g->nlast = 0;
	buf_reset(&g->key);
	x->gen_fill = g;
	x->gen_uncached = 0;
	rc = note_generation_slow(x, provider, model, templates);
	if (rc || x->gen_uncached) {
		g->nlast = 0;
		return rc;
	}
	for (size_t i = 0; i < 3; i++) {
		rc = buf_add(&g->key, f[i]->p, f[i]->type ? f[i]->n : 0);
		if (!rc)
			rc = buf_addc(&g->key, '\x1f');
		if (rc) {
			g->nlast = 0;
			return 0; /* only the shortcut is lost */
		}
	}
	return 0;
}

static int note_generation_slow(struct exporter *x, const struct jspan *provider,
				const struct jspan *model, const struct jspan *templates)
{
	static const char *const tnames[] = { "name", "version", "hash" };
	char p[256], m[256], name[256], hash[256], key[1024];
	struct jspan t, f[3];
	struct jiter it;
	int rc = 0, more;

	js_text(provider, p, sizeof(p));
	js_text(model, m, sizeof(m));
	if (*p || *m) {
		const char *f2[] = { p, m };

		snprintf(key, sizeof(key), "%s\t%s", p, m);
		rc = gen_note(x, x->models, key, make_model, f2);
	}
	if (templates->type != JS_ARR)
		return rc;
	js_iter(&it, templates);
	while (!rc && (more = js_next(&it, NULL, &t)) == 1) {
		char version[32];
		const char *f3[] = { name, version, hash };

		rc = js_fields(&t, tnames, 3, f);
		if (rc)
			break;
		js_text(&f[0], name, sizeof(name));
		js_text(&f[2], hash, sizeof(hash));
		if (!*name || !*hash || isnan(js_number(&f[1])))
			continue;
		snprintf(version, sizeof(version), "%.0f", js_number(&f[1]));
		snprintf(key, sizeof(key), "%s\t%s\t%s", name, version, hash);
		rc = gen_note(x, x->templates, key, make_template, f3);
	}
	return rc;
}

/* --provenance: the record's templates as "name@version ..." in x->tpl. */
static int template_names(struct exporter *x, const struct jspan *templates)
{
	static const char *const tnames[] = { "name", "version" };
	struct jspan t, f[2];
	struct jiter it;
	char name[128];
	int rc = 0, more;

	buf_reset(&x->tpl);
	if (templates->type != JS_ARR)
		return 0;
	js_iter(&it, templates);
	while (!rc && (more = js_next(&it, NULL, &t)) == 1) {
		if (js_fields(&t, tnames, 2, f))
			continue;
		js_text(&f[0], name, sizeof(name));
		if (!*name || isnan(js_number(&f[1])))
			continue;
		rc = buf_addf(&x->tpl, "%s%s@%.0f", x->tpl.len ? " " : "", name, js_number(&f[1]));
	}
	return rc == CL_ENOMEM ? rc : 0;
}

/* Count the record (counting walk) or write its copies (writing walk). */
static int take(struct exporter *x, int split, int side, const struct export_row *row,
		uint64_t *copies)
{
	struct export_file *f = &x->r->file[split];
	int rc;

	*copies = 0;
	if (!x->writing || !x->mix)
		x->r->avail[split][side]++; /* counted once: by the first walk */
	if (!x->writing)
		return 0;
	*copies = x->mix ? export_pick_next(&x->pick[split][side]) : 1;
	if (!*copies)
		return 0;
	buf_reset(&x->line);
	rc = export_row_append(&x->line, x->o->format, row);
	for (uint64_t i = 0; !rc && i < *copies; i++)
		rc = out_add(&x->out[split], x->line.data, x->line.len);
	if (rc)
		return rc;
	f->records += *copies;
	f->by_type[row->type] += *copies;
	f->unique[side]++;
	return 0;
}

static void skip(struct exporter *x, uint64_t *counter)
{
	if (x->writing)
		(*counter)++;
}

/* The category of a result: its "category", else the key's "#..." part. */
static int category_of(const struct jspan *c, const char *key, size_t klen)
{
	const char *hash = memchr(key, '#', klen);

	for (int i = 0; i < CAT_COUNT; i++) {
		const char *name = category_name(i);

		if (c->type == JS_STR ? js_is(c, name)
				      : hash && (size_t)(key + klen - hash - 1) == strlen(name) &&
						memcmp(hash + 1, name, strlen(name)) == 0)
			return i;
	}
	return -1;
}

/* Inside the stat bounds (a bounded stat that is missing is outside). */
static int within_bounds(const struct export_opts *o, const struct jspan *stats)
{
	static const char *const st[] = { "modified" };
	static const char *const fields[] = { "perplexity", "entropy", "tokens" };
	const double lo[] = { o->min_perplexity, o->min_entropy, o->min_tokens };
	const double hi[] = { o->max_perplexity, o->max_entropy, o->max_tokens };
	struct jspan m, f[3];
	int bounded = 0;

	for (size_t i = 0; i < 3; i++)
		bounded |= !isnan(lo[i]) || !isnan(hi[i]);
	if (!bounded)
		return 1;
	if (js_fields(stats, st, 1, &m) || js_fields(&m, fields, 3, f))
		return 0;
	for (size_t i = 0; i < 3; i++) {
		double d = js_number(&f[i]);

		if (isnan(lo[i]) && isnan(hi[i]))
			continue;
		if (isnan(d) || (!isnan(lo[i]) && d < lo[i]) || (!isnan(hi[i]) && d > hi[i]))
			return 0;
	}
	return 1;
}

enum { R_ACCEPTED, R_CATEGORY, R_MODIFIED, R_QUESTIONS, R_STATS, R_PROVIDER, R_MODEL,
       R_TEMPLATES, R_STAGES, R_ANSWERS, R_USAGE, R_COUNT };
static const char *const result_fields[R_COUNT] = {
	[R_ACCEPTED] = "accepted", [R_CATEGORY] = "category",
	[R_MODIFIED] = "modified_problem", [R_QUESTIONS] = "questions",
	[R_STATS] = "stats", [R_PROVIDER] = "provider", [R_MODEL] = "model",
	[R_TEMPLATES] = "templates", [R_STAGES] = "stages", [R_ANSWERS] = "answers",
	[R_USAGE] = "usage",
};

/* The tokens a written record took to make (once, however many copies). */
static void note_usage(struct exporter *x, const struct jspan *usage)
{
	static const char *const names[] = { "tokens_in", "tokens_out", "batch" };
	struct jspan f[3];
	double in, out;
	uint64_t tin, tout;

	if (usage->type != JS_OBJ || js_fields(usage, names, 3, f))
		return;
	in = js_number(&f[0]);
	out = js_number(&f[1]);
	tin = isnan(in) || in < 0 ? 0 : (uint64_t)in;
	tout = isnan(out) || out < 0 ? 0 : (uint64_t)out;
	x->r->tokens_in += tin;
	x->r->tokens_out += tout;
	if (f[2].type == JS_TRUE) { /* made from a provider batch */
		x->r->batch_records++;
		x->r->batch_in += tin;
		x->r->batch_out += tout;
	}
}

/* The strings of an array, into *t (grown); 0, or 1 when one is not a
 * string or the array is malformed; CL_ENOMEM. */
static int text_list(const struct jspan *arr, struct export_text **t, size_t *cap, size_t *n)
{
	struct jiter it;
	struct jspan q;
	int more;

	*n = 0;
	js_iter(&it, arr);
	while ((more = js_next(&it, NULL, &q)) == 1) {
		if (q.type != JS_STR)
			return 1;
		if (*n == *cap && ARRAY_GROW(*t, *cap, *n, 16))
			return CL_ENOMEM;
		(*t)[(*n)++] = (struct export_text){ q.p, q.n };
	}
	return more == 0 ? 0 : 1;
}

/* Whether the record went through stage 3: "answer" among its "stages". */
static int answered(const struct jspan *stages)
{
	struct jiter it;
	struct jspan s;

	if (stages->type != JS_ARR)
		return 0; /* a record of before stage 3 */
	js_iter(&it, stages);
	while (js_next(&it, NULL, &s) == 1)
		if (s.type == JS_STR && js_is(&s, "answer"))
			return 1;
	return 0;
}

/* A result: judged, then counted or written. */
static int result(struct exporter *x, const char *key, size_t klen, const char *text,
		  size_t n)
{
	struct export_skipped *sk = &x->r->skipped;
	char id[STORE_KEY_MAX * 4];
	struct export_row row = { .escaped = 1, .id = id };
	struct jspan root, f[R_COUNT];
	uint64_t copies;
	size_t nq = 0, na = 0;
	int cat, rc, three;

	memcpy(id, key, klen < sizeof(id) ? klen : sizeof(id) - 1);
	id[klen < sizeof(id) ? klen : sizeof(id) - 1] = '\0';
	err_clear();
	rc = js_root(text, n, &root);
	if (!rc)
		rc = js_fields(&root, result_fields, R_COUNT, f);
	if (rc) {
		if (x->writing)
			log_warn("result '%s': %s", id, err_msg(rc));
		skip(x, &sk->unreadable);
		return 0;
	}
	if (f[R_ACCEPTED].type != JS_TRUE && !x->o->include_rejected) {
		skip(x, &sk->rejected);
		return 0;
	}
	cat = category_of(&f[R_CATEGORY], key, klen);
	if (cat < 0 || f[R_MODIFIED].type != JS_STR || f[R_MODIFIED].n == 0 ||
	    f[R_QUESTIONS].type != JS_ARR) {
		skip(x, &sk->incomplete);
		return 0;
	}
	if (!(x->o->categories & (1u << cat))) {
		skip(x, &sk->category);
		return 0;
	}
	if (!within_bounds(x->o, &f[R_STATS])) {
		skip(x, &sk->stat_bounds);
		return 0;
	}
	rc = text_list(&f[R_QUESTIONS], &x->answer, &x->answer_cap, &nq);
	if (rc == CL_ENOMEM)
		return rc;
	if (rc || nq == 0) {
		skip(x, &sk->incomplete);
		return 0;
	}
	three = answered(&f[R_STAGES]);
	if (x->o->format == EXPORT_DIALOGUE) {
		/* the conversation needs stage 3's answers and the code they lead to */
		rc = f[R_ANSWERS].type == JS_ARR ? text_list(&f[R_ANSWERS], &x->reply,
							     &x->reply_cap, &na) : 1;
		if (rc == CL_ENOMEM)
			return rc;
		if (rc || na == 0 || !three) {
			skip(x, &sk->unanswered);
			return 0;
		}
		if (x->prob.solution.type != JS_STR || x->prob.solution.n == 0) {
			skip(x, &sk->no_solution);
			return 0;
		}
		row.reply = x->reply;
		row.nreply = na;
		row.solution = (struct export_text){ x->prob.solution.p, x->prob.solution.n };
	}
	row.problem = (struct export_text){ f[R_MODIFIED].p, f[R_MODIFIED].n };
	row.starter_code = (struct export_text){
		x->prob.starter.p, x->prob.starter.type == JS_STR ? x->prob.starter.n : 0
	};
	row.answer = x->answer;
	row.nanswer = nq;
	row.type = cat;
	if (x->o->provenance) {
		row.provenance = 1;
		if (f[R_MODEL].type == JS_STR)
			row.model = (struct export_text){ f[R_MODEL].p, f[R_MODEL].n };
		rc = template_names(x, &f[R_TEMPLATES]);
		if (rc)
			return rc;
		row.tmpl = x->tpl.len ? x->tpl.data : NULL;
	}
	rc = take(x, x->split, EXPORT_CLARIFY, &row, &copies);
	x->r->file[x->split].by_stages[three] += copies;
	if (!rc && copies) {
		note_usage(x, &f[R_USAGE]);
		rc = note_generation(x, &f[R_PROVIDER], &f[R_MODEL], &f[R_TEMPLATES]);
	}
	return rc;
}

/* A job key already read from an earlier store, for this problem. */
static int seen_before(struct exporter *x, const char *key, size_t klen, int *dup)
{
	json_t *it;
	size_t i;

	*dup = 0;
	json_array_foreach(x->seen, i, it) {
		if (json_string_length(it) == klen && memcmp(json_string_value(it), key, klen) == 0) {
			*dup = 1;
			return 0;
		}
	}
	return json_array_append_new(x->seen, json_stringn(key, klen)) ? CL_ENOMEM : 0;
}

/* A problem: its text kept for its results (x->ptext), its original counted
 * or written. */
static int problem(struct exporter *x, struct src *src, const char *key, const char *frame,
		   size_t n, int drc)
{
	static const char *const names[] = { "question", "starter_code", "solutions" };
	struct export_skipped *sk = &x->r->skipped;
	struct prob *p = &x->prob;
	struct jspan root, f[3], sol;
	struct jiter it;
	int rc = drc;

	memset(p, 0, sizeof(*p));
	snprintf(x->key, sizeof(x->key), "%s", key);
	x->split = split_of(x, key);
	json_array_clear(x->seen);
	buf_reset(&x->ptext);
	err_clear();
	if (!rc) {
		rc = store_decompress_to(&src->codec, frame, n, &x->ptext);
		drc = rc;
		if (rc && rc != CL_ENOMEM && x->writing)
			log_warn("store '%s': problem '%s': %s", src->s->path, key, err_msg(rc));
	}
	if (rc == CL_ENOMEM)
		return rc;
	if (!rc)
		rc = js_root(x->ptext.data, x->ptext.len, &root);
	if (!rc)
		rc = js_fields(&root, names, 3, f);
	if (!rc && f[2].type == JS_ARR) {
		js_iter(&it, &f[2]);
		if (js_next(&it, NULL, &sol) < 0)
			rc = err_set(CL_EPARSE, "malformed solutions");
		else if (sol.type == JS_STR)
			p->solution = sol;
	}
	x->have_prob = !rc;
	if (rc) {
		if (x->writing && !drc)
			log_warn("problem '%s': %s", key, err_msg(rc));
		if (x->mix)
			skip(x, &sk->unreadable);
		return 0;
	}
	p->question = f[0];
	p->starter = f[1];
	if (!x->mix)
		return 0;
	if (p->solution.type != JS_STR || p->solution.n == 0) {
		skip(x, &sk->no_solution);
	} else if (p->question.type != JS_STR || p->question.n == 0) {
		skip(x, &sk->incomplete);
	} else {
		struct export_text answer = { p->solution.p, p->solution.n };
		struct export_row row = {
			.problem = { p->question.p, p->question.n },
			.starter_code = { p->starter.p, p->starter.type == JS_STR ? p->starter.n : 0 },
			.answer = &answer, .nanswer = 1, .type = EXPORT_ORIGINAL, .id = key,
			.escaped = 1, .provenance = x->o->provenance,
		};
		uint64_t copies;

		return take(x, x->split, EXPORT_OG, &row, &copies);
	}
	return 0;
}

/* ---- the walk: a reader thread and the exporter ---------------------------------- */

/*
 * The reader thread walks the stores (LMDB cursors, its own read
 * transactions) and decompresses the records into batches; the calling
 * thread judges, selects, formats and writes them in the same order.  The
 * walk's order is the output's order, so the bytes do not depend on the
 * threads' timing.
 */
enum { EV_PROBLEM, EV_RESULT };

struct ev {
	int type;
	int rc;               /* the record's decode status */
	size_t key, klen;     /* in the batch's data */
	size_t text, tlen;    /* a result's JSON text; a problem's zstd frame */
	size_t src;           /* the store it came from */
};

/* batches of about 1 MB, eight of them: enough slack for the reader to go
 * on while the exporter waits on the compressor, and the other way round */
#define NBATCH 8
#define BATCH_BYTES ((size_t)1 << 20)

struct batch {
	struct buf data;
	struct ev *ev;
	size_t n, cap;
	int last;             /* the walk ended with this batch, with rc */
	int rc;
	char msg[512];        /* rc's message */
};

struct feed {
	struct exporter *x;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch b[NBATCH];
	uint64_t made, used;  /* batches filled, batches consumed */
	int stop;             /* the exporter gave up: the reader ends */
};

/*
 * One record into b: its key, then a result's JSON text decompressed in
 * place, or a problem's frame as it is stored.  The exporter thread
 * decompresses the problems (a third of the bytes) itself, which evens out
 * the two threads' work.
 */
static int feed_add(struct batch *b, struct src *src, size_t isrc, int type, const MDB_val *k,
		    const MDB_val *v, int *drc)
{
	struct ev *e;
	int rc;

	if (b->n == b->cap && ARRAY_GROW(b->ev, b->cap, b->n, 256))
		return CL_ENOMEM;
	e = &b->ev[b->n];
	e->type = type;
	e->key = b->data.len;
	e->klen = k->mv_size;
	rc = buf_add(&b->data, k->mv_data, k->mv_size);
	if (rc)
		return err_set(rc, "record '%.*s' does not fit the read buffer", (int)k->mv_size,
			       (const char *)k->mv_data);
	e->text = b->data.len;
	e->src = isrc;
	err_clear();
	if (type == EV_PROBLEM)
		e->rc = buf_add(&b->data, v->mv_data, v->mv_size);
	else
		e->rc = store_decompress_to(src->s, v->mv_data, v->mv_size, &b->data);
	e->tlen = b->data.len - e->text;
	*drc = e->rc;
	b->n++;
	return e->rc == CL_ENOMEM ? CL_ENOMEM : 0;
}

/* Hand the filling batch over and wait for a free one; 1 when told to stop. */
static int feed_publish(struct feed *f)
{
	int stop;

	pthread_mutex_lock(&f->mu);
	f->made++;
	pthread_cond_broadcast(&f->cv);
	while (!f->stop && f->made - f->used >= NBATCH)
		pthread_cond_wait(&f->cv, &f->mu);
	stop = f->stop;
	pthread_mutex_unlock(&f->mu);
	if (!stop) {
		struct batch *b = &f->b[f->made % NBATCH];

		buf_reset(&b->data);
		b->n = 0;
		b->last = 0;
		b->rc = 0;
	}
	return stop;
}

static int feed_record(struct feed *f, struct src *src, int type, const MDB_val *k,
		       const MDB_val *v)
{
	struct batch *b = &f->b[f->made % NBATCH];
	int drc = 0, rc;

	drop_pages(f->x, v->mv_size);
	rc = feed_add(b, src, (size_t)(src - f->x->src), type, k, v, &drc);
	if (rc)
		return rc;
	if (drc && f->x->writing)
		log_warn("store '%s': result '%.*s': %s", src->s->path, (int)k->mv_size,
			 (const char *)k->mv_data, err_msg(drc));
	if (b->data.len >= BATCH_BYTES && feed_publish(f))
		return CL_EINVAL; /* stopped: the exporter has its own error */
	return 0;
}

/* The results of problem key in every store, in store order then key order. */
static int feed_results(struct feed *f, const char *pkey)
{
	struct exporter *x = f->x;
	char prefix[STORE_KEY_MAX * 4 + 2];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%s#", pkey);
	int rc = 0;

	for (size_t i = 0; !rc && i < x->nsrc; i++) {
		struct src *src = &x->src[i];
		MDB_val k = { plen, prefix }, v;
		int mrc = mdb_cursor_get(src->rcur, &k, &v, MDB_SET_RANGE);

		while (!rc && !mrc && k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0) {
			rc = feed_record(f, src, EV_RESULT, &k, &v);
			if (!rc)
				mrc = mdb_cursor_get(src->rcur, &k, &v, MDB_NEXT);
		}
		if (!rc && mrc && mrc != MDB_NOTFOUND)
			rc = err_set(CL_ESTORE, "store '%s': cannot read results: %s",
				     src->s->path, mdb_strerror(mrc));
	}
	return rc;
}

/* The reader: the problems of every store in key order, each key once (from
 * the first store holding it), each followed by its results. */
static int feed_walk(struct feed *f)
{
	struct exporter *x = f->x;
	char key[STORE_KEY_MAX * 4];
	int rc = 0;

	for (size_t i = 0; !rc && i < x->nsrc; i++)
		rc = src_step(&x->src[i], MDB_FIRST);
	while (!rc) {
		struct src *min = NULL;
		MDB_val k;

		if (x->o->stop && *x->o->stop)
			return err_set(CL_EINVAL, "interrupted");
		for (size_t i = 0; i < x->nsrc; i++)
			if (x->src[i].more && (!min || keycmp(&x->src[i].k, &min->k) < 0))
				min = &x->src[i];
		if (!min)
			break;
		if (min->k.mv_size >= sizeof(key))
			return err_set(CL_EINVAL, "store '%s': problem key over %zu bytes",
				       min->s->path, sizeof(key) - 1);
		memcpy(key, min->k.mv_data, min->k.mv_size);
		key[min->k.mv_size] = '\0';
		k = min->k;
		rc = feed_record(f, min, EV_PROBLEM, &k, &min->v);
		for (size_t i = 0; !rc && i < x->nsrc; i++) {
			struct src *s = &x->src[i];

			if (s->more && s->k.mv_size == k.mv_size &&
			    memcmp(s->k.mv_data, key, k.mv_size) == 0)
				rc = src_step(s, MDB_NEXT);
		}
		if (!rc)
			rc = feed_results(f, key);
	}
	return rc;
}

static void *feed_main(void *arg)
{
	struct feed *f = arg;
	int rc;

	err_clear();
	rc = feed_walk(f);
	pthread_mutex_lock(&f->mu);
	if (!f->stop) {
		struct batch *b = &f->b[f->made % NBATCH];

		b->last = 1;
		b->rc = rc;
		snprintf(b->msg, sizeof(b->msg), "%s", rc ? err_msg(rc) : "");
		f->made++;
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* The exporter's side of one batch. */
static int consume(struct exporter *x, const struct batch *b)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < b->n; i++) {
		const struct ev *e = &b->ev[i];
		const char *key = b->data.data + e->key, *text = b->data.data + e->text;
		char pkey[STORE_KEY_MAX * 4];
		int dup = 0;

		if (e->type == EV_PROBLEM) {
			snprintf(pkey, sizeof(pkey), "%.*s", (int)e->klen, key);
			rc = problem(x, &x->src[e->src], pkey, text, e->tlen, e->rc);
			if (x->writing)
				x->r->problems++;
			progress_update(&x->prog, ++x->done);
			continue;
		}
		if (x->writing)
			x->visited++;
		if (x->nsrc > 1)
			rc = seen_before(x, key, e->klen, &dup);
		if (rc)
			break;
		if (dup)
			skip(x, &x->r->skipped.duplicate);
		else if (e->rc || !x->have_prob)
			skip(x, &x->r->skipped.unreadable);
		else
			rc = result(x, key, e->klen, text, e->tlen);
	}
	return rc;
}

/* One walk: the reader thread feeds, this thread exports. */
int export_walk(struct exporter *x)
{
	struct feed f = { .x = x };
	pthread_t thread;
	uint64_t total = 0;
	int rc = 0, done = 0, prc;

	for (size_t i = 0; i < x->nsrc; i++)
		total += x->src[i].problems;
	for (int i = 0; i < NBATCH; i++)
		buf_init(&f.b[i].data, BUF_MAX_DEFAULT + ((size_t)1 << 20));
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	x->done = 0;
	progress_init(&x->prog, x->writing ? "exporting" : "counting", total, x->o->progress);
	prc = pthread_create(&thread, NULL, feed_main, &f);
	if (prc) {
		rc = err_set(CL_EIO, "cannot start the reader thread: %s", strerror(prc));
		goto cleanup;
	}
	while (!rc && !done) {
		struct batch *b;

		pthread_mutex_lock(&f.mu);
		while (f.made == f.used)
			pthread_cond_wait(&f.cv, &f.mu);
		b = &f.b[f.used % NBATCH];
		pthread_mutex_unlock(&f.mu);
		if (x->o->stop && *x->o->stop)
			rc = err_set(CL_EINVAL, "interrupted");
		if (!rc)
			rc = consume(x, b);
		done = b->last;
		if (!rc && b->last && b->rc)
			rc = err_set(b->rc, "%s", b->msg);
		pthread_mutex_lock(&f.mu);
		f.used++;
		if (rc)
			f.stop = 1;
		pthread_cond_broadcast(&f.cv);
		pthread_mutex_unlock(&f.mu);
	}
	pthread_join(thread, NULL);
cleanup:
	progress_finish(&x->prog);
	pthread_cond_destroy(&f.cv);
	pthread_mutex_destroy(&f.mu);
	for (int i = 0; i < NBATCH; i++) {
		buf_release(&f.b[i].data);
		free(f.b[i].ev);
	}
	return rc;
}
