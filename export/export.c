/*
 * export.c - the export: open the stores, count, set the targets, walk and
 * write, then the manifest.  The parts: format.c, rows.c (rows), sample.c
 * (the mix), output.c (files), scan.c (stored JSON), walk.c, manifest.c.
 */
#include <math.h>
#include <string.h>

#include "export_int.h"

/* ---- the export ------------------------------------------------------------------- */

void export_opts_init(struct export_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = EXPORT_PAPER;
	o->sampling = EXPORT_DOWN;
	o->categories = CAT_ALL;
	o->min_perplexity = o->max_perplexity = NAN;
	o->min_entropy = o->max_entropy = NAN;
	o->min_tokens = o->max_tokens = NAN;
}

static int sources_open(struct exporter *x, struct store *const *stores, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct src *s = &x->src[i];
		int rc, mrc;

		s->s = stores[i];
		x->nsrc = i + 1;
		rc = store_codec_open(&s->codec, &s->s->opt);
		if (rc)
			return rc;
		s->have_codec = 1;
		store_codec_follow(&s->codec, s->s); /* and its dictionaries */
		rc = store_read_begin(s->s, &s->txn);
		if (!rc)
			rc = store_count(s->s, s->txn, STORE_PROBLEMS, &s->problems);
		if (!rc)
			rc = store_count(s->s, s->txn, STORE_RESULTS, &s->results);
		if (rc)
			return rc;
		mrc = mdb_cursor_open(s->txn, s->s->dbi[STORE_PROBLEMS], &s->pcur);
		if (!mrc)
			mrc = mdb_cursor_open(s->txn, s->s->dbi[STORE_RESULTS], &s->rcur);
		if (mrc)
			return err_set(CL_ESTORE, "store '%s': cannot open a cursor: %s",
				       s->s->path, mdb_strerror(mrc));
	}
	return 0;
}

static void sources_close(struct exporter *x)
{
	for (size_t i = 0; i < x->nsrc; i++) {
		if (x->src[i].pcur)
			mdb_cursor_close(x->src[i].pcur);
		if (x->src[i].rcur)
			mdb_cursor_close(x->src[i].rcur);
		if (x->src[i].txn)
			store_read_end(x->src[i].txn);
		if (x->src[i].have_codec)
			store_close(&x->src[i].codec);
	}
	x->nsrc = 0;
}

static int targets(struct exporter *x)
{
	for (int sp = 0; sp < x->nsplit; sp++) {
		uint64_t *a = x->r->avail[sp], *t = x->r->target[sp];
		int rc = export_targets(x->o->ratio, x->o->sampling, a[EXPORT_CLARIFY], a[EXPORT_OG],
					&t[EXPORT_CLARIFY], &t[EXPORT_OG]);

		if (rc)
			return err_set(rc, "%s%s", x->nsplit > 1 ? sp ? "the test file: " :
								      "the training file: " : "",
				       err_msg(rc));
		for (int side = 0; side < 2; side++)
			export_pick_init(&x->pick[sp][side], a[side], t[side], x->o->seed,
					 (uint64_t)(sp * 2 + side));
	}
	return 0;
}

int export_run(struct store *const *stores, size_t nstores, const struct export_opts *o,
	       struct export_result *r)
{
	struct exporter x = { .o = o, .r = r };
	char mpath[4200], tpath[4096];
	int to_stdout = !o->path || strcmp(o->path, "-") == 0;
	const char *path = to_stdout ? NULL : o->path;
	struct export_file mfile, cfile;
	struct out mout, cout;
	double t0 = time_mono();
	uint64_t results = 0;
	int rc, len, card = 0;

	memset(r, 0, sizeof(*r));
	memset(&mfile, 0, sizeof(mfile));
	memset(&cfile, 0, sizeof(cfile));
	out_init(&cout, &cfile);
	out_init(&x.out[0], &r->file[0]);
	out_init(&x.out[1], &r->file[1]);
	out_init(&mout, &mfile);
	buf_init(&x.line, BUF_MAX_DEFAULT);
	buf_init(&x.ptext, BUF_MAX_DEFAULT);
	buf_init(&x.tpl, 1 << 16);
	for (size_t i = 0; i < GEN_SLOTS; i++)
		buf_init(&x.gen[i].key, (size_t)1 << 20);
	x.mix = o->ratio > 0 && o->ratio < 1;
	x.nsplit = o->test_fraction > 0 ? 2 : 1;
	x.seen = json_array();
	x.templates = json_object();
	x.models = json_object();
	if (!x.seen || !x.templates || !x.models) {
		rc = CL_ENOMEM;
		goto cleanup;
	}
	if (nstores == 0 || nstores > EXPORT_MAX_STORES) {
		rc = err_set(CL_EINVAL, "export reads 1 to %d stores, not %zu", EXPORT_MAX_STORES,
			     nstores);
		goto cleanup;
	}
	if (!(o->ratio == 0 || (o->ratio > 0 && o->ratio <= 1)) ||
	    !(o->test_fraction >= 0 && o->test_fraction < 1)) {
		rc = err_set(CL_EINVAL, "ratio %g or test fraction %g out of range", o->ratio,
			     o->test_fraction);
		goto cleanup;
	}
	if (to_stdout && x.nsplit > 1) {
		rc = err_set(CL_EINVAL, "a test split needs an output file");
		goto cleanup;
	}
	rc = sources_open(&x, stores, nstores);
	if (rc)
		goto cleanup;
	if (x.mix) {
		rc = export_walk(&x);
		if (!rc)
			rc = targets(&x);
		if (rc)
			goto cleanup;
	}

	/* the files, then the walk that writes them */
	rc = out_open(&x.out[0], path, path && export_ends_with(path, strlen(path), ".zst"));
	if (!rc && x.nsplit > 1) {
		rc = export_test_path(path, tpath, sizeof(tpath));
		if (!rc)
			rc = out_open(&x.out[1], tpath, export_ends_with(path, strlen(path), ".zst"));
	}
	if (rc)
		goto cleanup;
	x.writing = 1;
	rc = export_walk(&x);
	for (int sp = 0; !rc && sp < x.nsplit; sp++)
		rc = out_finish(&x.out[sp]);
	if (rc)
		goto cleanup;
	if (!x.mix)
		memcpy(r->target, r->avail, sizeof(r->target));
	for (size_t i = 0; i < x.nsrc; i++)
		results += x.src[i].results;
	r->skipped.orphan = results > x.visited ? results - x.visited : 0;
	r->seconds = time_mono() - t0;
	if (to_stdout)
		goto cleanup;

	/* the manifest, then everything into place: data first, manifest last */
	r->manifest = export_manifest(&x);
	if (!r->manifest) {
		rc = CL_ENOMEM;
		goto cleanup;
	}
	len = snprintf(mpath, sizeof(mpath), "%s.manifest.json", path);
	if (len < 0 || (size_t)len >= sizeof(mpath)) {
		rc = err_set(CL_ETOOBIG, "path '%s' is too long", path);
		goto cleanup;
	}
	rc = out_open(&mout, mpath, 0);
	if (!rc)
		rc = export_write_manifest(&mout, r->manifest);
	if (!rc && o->card)
		rc = export_card_open(&cout, path, r->manifest, o, &card);
	for (int sp = x.nsplit - 1; !rc && sp >= 0; sp--)
		rc = out_commit(&x.out[sp]);
	if (!rc)
		rc = out_commit(&mout);
	if (!rc && card)
		rc = out_commit(&cout);
	if (!rc)
		rc = export_sync_dir(path);

cleanup:
	if (rc) {
		/* a file already renamed into place goes too: all or nothing */
		for (int sp = 0; sp < 2; sp++)
			if (!x.out[sp].to_stdout && x.out[sp].md && !x.out[sp].tmp[0] &&
			    x.out[sp].f->path[0])
				unlink(x.out[sp].f->path);
		json_decref(r->manifest);
		r->manifest = NULL;
	}
	out_release(&x.out[0]);
	out_release(&x.out[1]);
	out_release(&mout);
	out_release(&cout);
	sources_close(&x);
	buf_release(&x.line);
	buf_release(&x.ptext);
	buf_release(&x.tpl);
	for (size_t i = 0; i < GEN_SLOTS; i++)
		buf_release(&x.gen[i].key);
	free(x.answer);
	free(x.reply);
	json_decref(x.seen);
	json_decref(x.templates);
	json_decref(x.models);
	return rc;
}

void export_result_release(struct export_result *r)
{
	json_decref(r->manifest);
	r->manifest = NULL;
}
