/*
 * export.c - the training set out of the stores: selection, rows, the
 * streaming zstd writer, the atomic rename and the manifest.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "export.h"

/* ---- names ----------------------------------------------------------------- */

static const char *const format_names[] = { [EXPORT_PAPER] = "paper", [EXPORT_CHAT] = "chat" };
static const char *const sampling_names[] = { [EXPORT_DOWN] = "down", [EXPORT_OVER] = "over" };
static const char *const type_names[EXPORT_TYPE_COUNT] = {
	[CAT_AMBIGUOUS] = "Ambiguous",
	[CAT_INCONSISTENT] = "Inconsistent",
	[CAT_INCOMPLETE] = "Incomplete",
	[EXPORT_ORIGINAL] = "Original",
};

const char export_chat_system[] =
	"You are a programming assistant. When a problem statement is ambiguous, "
	"inconsistent or incomplete, ask the clarifying questions that would resolve it "
	"instead of guessing; when it is clear, write the solution.";

int export_format_parse(const char *name)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(format_names); i++)
		if (strcmp(name, format_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *export_format_name(int format)
{
	return format >= 0 && (size_t)format < CL_ARRAY_SIZE(format_names) ? format_names[format]
									    : "?";
}

int export_sampling_parse(const char *name)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(sampling_names); i++)
		if (strcmp(name, sampling_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *export_sampling_name(int sampling)
{
	return sampling >= 0 && (size_t)sampling < CL_ARRAY_SIZE(sampling_names)
		       ? sampling_names[sampling]
		       : "?";
}

const char *export_type_name(int type)
{
	return type >= 0 && type < EXPORT_TYPE_COUNT ? type_names[type] : "?";
}

const char *export_type_category(int type)
{
	return type == EXPORT_ORIGINAL ? "original" : category_name(type);
}

/* ---- sampling ---------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void export_rng_seed(struct export_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * UINT64_C(0xd1b54a32d192ed03));

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t export_rng_next(struct export_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t export_rng_below(struct export_rng *r, uint64_t n)
{
	uint64_t floor, x;

	if (n == 0)
		return 0;
	floor = (0 - n) % n; /* 2^64 mod n: values below it would bias */
	do
		x = export_rng_next(r);
	while (x < floor);
	return x % n;
}

static uint64_t round_count(long double x)
{
	if (!(x > 0))
		return 0;
	if (x >= 1.8e19L)
		return UINT64_MAX;
	return (uint64_t)(x + 0.5L);
}

int export_targets(double ratio, int sampling, uint64_t nc, uint64_t no, uint64_t *tc,
		   uint64_t *to)
{
	long double r = ratio, og_for_all, c_for_all;

	*tc = 0;
	*to = 0;
	if (!(ratio > 0 && ratio <= 1))
		return err_set(CL_EINVAL, "ratio %g is not in (0, 1]", ratio);
	if (sampling != EXPORT_DOWN && sampling != EXPORT_OVER)
		return err_set(CL_EINVAL, "unknown sampling %d", sampling);
	if (ratio == 1) {
		*tc = nc;
		return 0;
	}
	if (nc == 0 || no == 0)
		return err_set(CL_EINVAL, "nothing to mix at ratio %g: %llu clarify records and "
			       "%llu originals are eligible", ratio, (unsigned long long)nc,
			       (unsigned long long)no);
	/* the originals that go with every clarify record, and the reverse */
	og_for_all = (1 - r) / r * (long double)nc;
	c_for_all = r / (1 - r) * (long double)no;
	if (sampling == EXPORT_DOWN) {
		if (round_count(og_for_all) <= no) {
			*tc = nc;
			*to = round_count(og_for_all);
		} else {
			*to = no;
			*tc = round_count(c_for_all) < nc ? round_count(c_for_all) : nc;
		}
	} else {
		if (round_count(og_for_all) >= no) {
			*tc = nc;
			*to = round_count(og_for_all);
		} else {
			*to = no;
			*tc = round_count(c_for_all) > nc ? round_count(c_for_all) : nc;
		}
	}
	return 0;
}

void export_pick_init(struct export_pick *p, uint64_t n, uint64_t target, uint64_t seed,
		      uint64_t stream)
{
	export_rng_seed(&p->rng, seed, stream);
	p->left = n;
	p->copies = n ? target / n : 0;
	p->need = n ? target % n : 0;
}

uint64_t export_pick_next(struct export_pick *p)
{
	uint64_t extra;

	if (p->left == 0)
		return 0;
	/* algorithm S: select with probability need / left */
	extra = export_rng_below(&p->rng, p->left) < p->need;
	p->left--;
	p->need -= extra;
	return p->copies + extra;
}

/* ---- rows -------------------------------------------------------------------- */

/* s[0..n) escaped for the inside of a JSON string. */
static int json_body(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	int rc = buf_reserve(out, n);

	for (size_t i = 0; !rc && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = "\\u00";
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = buf_add(out, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\t': esc[1] = 't'; break;
		case '\r': esc[1] = 'r'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if (!rc)
			rc = buf_add(out, esc, elen);
	}
	if (!rc)
		rc = buf_add(out, s + start, n - start);
	return rc;
}

int export_json_string(struct buf *out, const char *s, size_t n)
{
	size_t len = out->len;
	int rc = buf_addc(out, '"');

	if (!rc)
		rc = json_body(out, s, n);
	if (!rc)
		rc = buf_addc(out, '"');
	if (rc) {
		out->len = len;
		if (out->data)
			out->data[len] = '\0';
	}
	return rc;
}

static int row_problem(struct buf *out, const struct export_row *row)
{
	int rc = buf_addc(out, '"');

	if (!rc)
		rc = json_body(out, row->problem, strlen(row->problem));
	if (!rc && row->starter_code && *row->starter_code) {
		rc = json_body(out, "\n", 1);
		if (!rc)
			rc = json_body(out, row->starter_code, strlen(row->starter_code));
	}
	if (!rc)
		rc = buf_addc(out, '"');
	return rc;
}

static int row_answer(struct buf *out, const struct export_row *row)
{
	int rc = buf_addc(out, '"');

	for (size_t i = 0; !rc && i < row->nanswer; i++) {
		if (i)
			rc = json_body(out, "\n", 1);
		if (!rc)
			rc = json_body(out, row->answer[i], strlen(row->answer[i]));
	}
	if (!rc)
		rc = buf_addc(out, '"');
	return rc;
}

int export_row_append(struct buf *out, int format, const struct export_row *row)
{
	size_t len = out->len;
	int rc;

	if (row->type < 0 || row->type >= EXPORT_TYPE_COUNT || !row->problem)
		return err_set(CL_EINVAL, "invalid export row");
	if (format == EXPORT_PAPER) {
		rc = buf_adds(out, "{\"problem\":");
		if (!rc)
			rc = row_problem(out, row);
		if (!rc)
			rc = buf_adds(out, ",\"answer\":");
		if (!rc)
			rc = row_answer(out, row);
		if (!rc)
			rc = buf_addf(out, ",\"type\":\"%s\"}\n", export_type_name(row->type));
	} else {
		rc = buf_adds(out, "{\"messages\":[{\"role\":\"system\",\"content\":");
		if (!rc)
			rc = export_json_string(out, export_chat_system, strlen(export_chat_system));
		if (!rc)
			rc = buf_adds(out, "},{\"role\":\"user\",\"content\":");
		if (!rc)
			rc = row_problem(out, row);
		if (!rc)
			rc = buf_adds(out, "},{\"role\":\"assistant\",\"content\":");
		if (!rc)
			rc = row_answer(out, row);
		if (!rc)
			rc = buf_addf(out, "}],\"category\":\"%s\",\"id\":",
				      export_type_category(row->type));
		if (!rc)
			rc = export_json_string(out, row->id ? row->id : "",
						row->id ? strlen(row->id) : 0);
		if (!rc)
			rc = buf_adds(out, "}\n");
	}
	if (rc) {
		out->len = len;
		if (out->data)
			out->data[len] = '\0';
		if (rc == CL_ETOOBIG)
			return err_set(rc, "row '%s' is over the %zu-byte buffer cap",
				       row->id ? row->id : "?", out->max);
	}
	return rc;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

int export_test_path(const char *path, char *out, size_t n)
{
	size_t base = strlen(path), slash = 0;
	const char *p = strrchr(path, '/');
	int len;

	if (p)
		slash = (size_t)(p - path) + 1;
	if (ends_with(path, base, ".zst") && base - 4 > slash)
		base -= 4;
	if (ends_with(path, base, ".jsonl") && base - 6 > slash)
		base -= 6;
	else if (ends_with(path, base, ".json") && base - 5 > slash)
		base -= 5;
	len = snprintf(out, n, "%.*s.test%s", (int)base, path, path + base);
	if (len < 0 || (size_t)len >= n)
		return err_set(CL_ETOOBIG, "path '%s' is too long", path);
	return 0;
}

/* ---- output files: zstd on the fly, SHA-256 of what is written, atomic ------ */

#define OUT_CHUNK ((size_t)256 << 10)

struct out {
	struct export_file *f;
	char tmp[4200];        /* "" once renamed or removed */
	int fd;                /* -1 when closed */
	int to_stdout;
	ZSTD_CCtx *cctx;       /* NULL: no compression */
	EVP_MD_CTX *md;
	struct buf pending;    /* JSONL not yet written */
	struct buf z;          /* one compressed chunk */
};

static void out_init(struct out *w, struct export_file *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->fd = -1;
	buf_init(&w->pending, BUF_MAX_DEFAULT);
	buf_init(&w->z, BUF_MAX_DEFAULT);
}

static int dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	int len;

	if (!slash)
		len = snprintf(dir, n, ".");
	else if (slash == path)
		len = snprintf(dir, n, "/");
	else
		len = snprintf(dir, n, "%.*s", (int)(slash - path), path);
	if (len < 0 || (size_t)len >= n)
		return err_set(CL_ETOOBIG, "path '%s' is too long", path);
	return 0;
}

/* A temporary file beside path, with the mode a new file would get. */
static int out_open(struct out *w, const char *path, int compress)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	char dir[4096];
	mode_t mask;
	int len, rc;

	w->to_stdout = !path || strcmp(path, "-") == 0;
	if (w->to_stdout) {
		snprintf(w->f->path, sizeof(w->f->path), "-");
		w->fd = STDOUT_FILENO;
	} else {
		len = snprintf(w->f->path, sizeof(w->f->path), "%s", path);
		if (len < 0 || (size_t)len >= sizeof(w->f->path))
			return err_set(CL_ETOOBIG, "path '%s' is too long", path);
		rc = dir_of(path, dir, sizeof(dir));
		if (rc)
			return rc;
		len = snprintf(w->tmp, sizeof(w->tmp), "%s/.%s.XXXXXX", dir, slash ? slash + 1 : path);
		if (len < 0 || (size_t)len >= sizeof(w->tmp)) {
			w->tmp[0] = '\0';
			return err_set(CL_ETOOBIG, "path '%s' is too long", path);
		}
		w->fd = mkostemp(w->tmp, O_CLOEXEC);
		if (w->fd < 0) {
			rc = err_set(CL_EIO, "cannot create a temporary file in '%s': %s", dir,
				     strerror(errno));
			w->tmp[0] = '\0';
			return rc;
		}
		mask = umask(022);
		umask(mask);
		if (fchmod(w->fd, 0666 & ~mask) != 0)
			return err_set(CL_EIO, "cannot set the mode of '%s': %s", w->tmp,
				       strerror(errno));
	}
	w->md = EVP_MD_CTX_new();
	if (!w->md || EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1)
		return err_set(CL_ENOMEM, "cannot start a SHA-256 digest");
	if (compress) {
		size_t zrc;

		w->cctx = ZSTD_createCCtx();
		if (!w->cctx)
			return CL_ENOMEM;
		zrc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, 3);
		if (!ZSTD_isError(zrc))
			zrc = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
		if (ZSTD_isError(zrc))
			return err_set(CL_ECODEC, "zstd: %s", ZSTD_getErrorName(zrc));
		rc = buf_reserve(&w->z, ZSTD_CStreamOutSize());
		if (rc)
			return rc;
	}
	return 0;
}

static const char *out_name(const struct out *w)
{
	return w->to_stdout ? "standard output" : w->f->path;
}

static int out_write(struct out *w, const void *p, size_t n)
{
	const char *c = p;

	if (EVP_DigestUpdate(w->md, p, n) != 1)
		return err_set(CL_EIO, "cannot hash the output");
	w->f->bytes += n;
	while (n > 0) {
		ssize_t k = write(w->fd, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_set(CL_EIO, "cannot write '%s': %s", out_name(w), strerror(errno));
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Write what is pending; end: close the zstd frame too. */
static int out_flush(struct out *w, int end)
{
	int rc = 0;

	if (!w->cctx) {
		rc = out_write(w, w->pending.data, w->pending.len);
	} else {
		ZSTD_inBuffer in = { w->pending.data, w->pending.len, 0 };
		size_t left;

		do {
			ZSTD_outBuffer zo = { w->z.data, w->z.cap, 0 };

			left = ZSTD_compressStream2(w->cctx, &zo, &in,
						    end ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(left))
				return err_set(CL_ECODEC, "cannot compress '%s': %s", out_name(w),
					       ZSTD_getErrorName(left));
			rc = out_write(w, zo.dst, zo.pos);
		} while (!rc && (end ? left != 0 : in.pos < in.size));
	}
	buf_reset(&w->pending);
	return rc;
}

static int out_add(struct out *w, const char *p, size_t n)
{
	int rc = buf_add(&w->pending, p, n);

	if (rc)
		return err_set(rc, "cannot buffer '%s'", out_name(w));
	w->f->jsonl_bytes += n;
	if (w->pending.len >= OUT_CHUNK)
		rc = out_flush(w, 0);
	return rc;
}

/* Flush, end the frame, sync and close; the digest into f->sha256. */
static int out_finish(struct out *w)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc;

	rc = out_flush(w, 1);
	if (rc)
		return rc;
	if (EVP_DigestFinal_ex(w->md, md, &mdlen) != 1 || mdlen != HASH_SHA256_LEN)
		return err_set(CL_EIO, "cannot hash the output");
	hash_hex(md, mdlen, w->f->sha256);
	if (w->to_stdout)
		return 0;
	if (fsync(w->fd) != 0)
		return err_set(CL_EIO, "cannot sync '%s': %s", w->tmp, strerror(errno));
	rc = close(w->fd);
	w->fd = -1;
	if (rc != 0)
		return err_set(CL_EIO, "cannot close '%s': %s", w->tmp, strerror(errno));
	return 0;
}

static int out_commit(struct out *w)
{
	if (w->to_stdout || !w->tmp[0])
		return 0;
	if (rename(w->tmp, w->f->path) != 0)
		return err_set(CL_EIO, "cannot rename '%s' to '%s': %s", w->tmp, w->f->path,
			       strerror(errno));
	w->tmp[0] = '\0';
	return 0;
}

/* Close and free; a temporary file not renamed is removed. */
static void out_release(struct out *w)
{
	if (w->fd >= 0 && !w->to_stdout)
		close(w->fd);
	w->fd = -1;
	if (w->tmp[0])
		unlink(w->tmp);
	w->tmp[0] = '\0';
	ZSTD_freeCCtx(w->cctx);
	w->cctx = NULL;
	EVP_MD_CTX_free(w->md);
	w->md = NULL;
	buf_release(&w->pending);
	buf_release(&w->z);
}

static int sync_dir(const char *path)
{
	char dir[4096];
	int fd, rc;

	rc = dir_of(path, dir, sizeof(dir));
	if (rc)
		return rc;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(CL_EIO, "cannot open '%s': %s", dir, strerror(errno));
	rc = fsync(fd) != 0 ? err_set(CL_EIO, "cannot sync '%s': %s", dir, strerror(errno)) : 0;
	close(fd);
	return rc;
}

/* ---- the walk ----------------------------------------------------------------- */

/* Map bytes read between two store_drop_pages(): keeps the resident size flat. */
#define DROP_EVERY ((uint64_t)16 << 20)
/* Distinct templates and models listed in the manifest at most. */
#define GEN_MAX 1024

struct src {
	struct store *s;
	MDB_txn *txn;
	MDB_cursor *pcur;      /* problems */
	MDB_cursor *rcur;      /* results */
	MDB_val k, v;          /* the problem under pcur */
	int more;              /* pcur is on a record */
	uint64_t problems, results;
};

struct exporter {
	const struct export_opts *o;
	struct export_result *r;
	struct src src[EXPORT_MAX_STORES];
	size_t nsrc;
	int writing;           /* 0: the counting walk; 1: the walk that writes */
	int mix;               /* originals take part (a ratio below 1) */
	int nsplit;            /* 2 with a test fraction */
	struct export_pick pick[2][2];
	struct out out[2];
	struct buf line;
	const char **answer;
	size_t answer_cap;
	json_t *seen;          /* job keys of this problem (several stores) */
	json_t *templates;     /* "name\tversion\thash" -> {name, version, hash, records} */
	json_t *models;        /* "provider\tmodel" -> {provider, model, records} */
	uint64_t gen_more;     /* distinct ones past GEN_MAX */
	uint64_t visited;      /* results seen by the writing walk */
	uint64_t touched;
	uint64_t done;
	struct progress prog;
};

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

/* One more of gen[key], a new entry made by make() while under the cap. */
static int gen_note(struct exporter *x, json_t *gen, const char *key, json_t *entry)
{
	json_t *e = json_object_get(gen, key);

	if (!e && json_object_size(gen) >= GEN_MAX) {
		x->gen_more++;
		json_decref(entry);
		return 0;
	}
	if (!e) {
		if (!entry || json_object_set_new(gen, key, entry))
			return CL_ENOMEM;
		e = entry;
	} else {
		json_decref(entry);
	}
	return json_object_set_new(e, "records",
				   json_integer(json_integer_value(json_object_get(e, "records")) +
						1))
		       ? CL_ENOMEM
		       : 0;
}

static int note_generation(struct exporter *x, const json_t *res)
{
	const char *provider = jsonx_str(res, "provider"), *model = jsonx_str(res, "model");
	const json_t *t;
	size_t i;
	char key[1024];
	int rc = 0;

	if (provider || model) {
		snprintf(key, sizeof(key), "%s\t%s", provider ? provider : "", model ? model : "");
		rc = gen_note(x, x->models, key,
			      json_pack("{s:s, s:s, s:I}", "provider", provider ? provider : "",
					"model", model ? model : "", "records", (json_int_t)0));
	}
	json_array_foreach(json_object_get(res, "templates"), i, t) {
		const char *name = jsonx_str(t, "name"), *hash = jsonx_str(t, "hash");
		int64_t version = jsonx_int(t, "version", 0);

		if (rc)
			break;
		if (!name || !hash)
			continue;
		snprintf(key, sizeof(key), "%s\t%lld\t%s", name, (long long)version, hash);
		rc = gen_note(x, x->templates, key,
			      json_pack("{s:s, s:I, s:s, s:I}", "name", name, "version",
					(json_int_t)version, "hash", hash, "records", (json_int_t)0));
	}
	return rc;
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

static const char *first_solution(const json_t *prob)
{
	const json_t *sol = json_array_get(json_object_get(prob, "solutions"), 0);
	const char *s = json_string_value(sol);

	return s && *s ? s : NULL;
}

/* Why a result is left out; NULL when it is in.  *cat gets its category and
 * x->answer its questions. */
static const char *judge(struct exporter *x, const json_t *res, const char *key, size_t klen,
			 int *cat, size_t *nq)
{
	const struct export_opts *o = x->o;
	const char *c = jsonx_str(res, "category"), *hash = memchr(key, '#', klen);
	const json_t *qs = json_object_get(res, "questions"), *q, *m;
	const char *mod = jsonx_str(res, "modified_problem");
	static const char *const fields[] = { "perplexity", "entropy", "tokens" };
	const double lo[] = { o->min_perplexity, o->min_entropy, o->min_tokens };
	const double hi[] = { o->max_perplexity, o->max_entropy, o->max_tokens };
	char name[32];
	size_t i;

	*nq = 0;
	if (!json_is_true(json_object_get(res, "accepted")) && !o->include_rejected)
		return "rejected";
	if (!c && hash && (size_t)(key + klen - hash - 1) < sizeof(name)) {
		snprintf(name, sizeof(name), "%.*s", (int)(key + klen - hash - 1), hash + 1);
		c = name;
	}
	*cat = c ? category_parse(c) : -1;
	if (*cat < 0 || !mod || !*mod || json_array_size(qs) == 0)
		return "incomplete";
	if (!(o->categories & (1u << *cat)))
		return "category";
	m = json_object_get(json_object_get(res, "stats"), "modified");
	for (i = 0; i < CL_ARRAY_SIZE(fields); i++) {
		const json_t *v = json_object_get(m, fields[i]);
		double d;

		if (isnan(lo[i]) && isnan(hi[i]))
			continue;
		if (!json_is_number(v))
			return "stat_bounds";
		d = json_number_value(v);
		if ((!isnan(lo[i]) && d < lo[i]) || (!isnan(hi[i]) && d > hi[i]))
			return "stat_bounds";
	}
	json_array_foreach(qs, i, q) {
		if (!json_is_string(q))
			return "incomplete";
		if (*nq == x->answer_cap && ARRAY_GROW(x->answer, x->answer_cap, *nq, 16))
			return "nomem";
		x->answer[(*nq)++] = json_string_value(q);
	}
	return NULL;
}

static void skip(struct exporter *x, const char *why)
{
	struct export_skipped *s = &x->r->skipped;

	if (!x->writing)
		return;
	if (!strcmp(why, "rejected"))
		s->rejected++;
	else if (!strcmp(why, "category"))
		s->category++;
	else if (!strcmp(why, "stat_bounds"))
		s->stat_bounds++;
	else if (!strcmp(why, "incomplete"))
		s->incomplete++;
	else if (!strcmp(why, "unreadable"))
		s->unreadable++;
	else if (!strcmp(why, "duplicate"))
		s->duplicate++;
	else if (!strcmp(why, "no_solution"))
		s->no_solution++;
}

static int result(struct exporter *x, struct src *src, const MDB_val *k, const MDB_val *v,
		  int split, const json_t *prob)
{
	char id[STORE_KEY_MAX * 4];
	struct export_row row = { 0 };
	const char *why;
	json_t *res = NULL;
	uint64_t copies;
	size_t nq;
	int cat = -1, rc;

	if (!prob) {
		skip(x, "unreadable");
		return 0;
	}
	drop_pages(x, v->mv_size);
	rc = store_decode(src->s, v->mv_data, v->mv_size, &res);
	if (rc == CL_ENOMEM)
		return rc;
	if (rc) {
		log_warn("store '%s': result '%.*s': %s", src->s->path, (int)k->mv_size,
			 (const char *)k->mv_data, err_msg(rc));
		skip(x, "unreadable");
		return 0;
	}
	snprintf(id, sizeof(id), "%.*s", (int)k->mv_size, (const char *)k->mv_data);
	why = judge(x, res, k->mv_data, k->mv_size, &cat, &nq);
	if (why && !strcmp(why, "nomem")) {
		json_decref(res);
		return CL_ENOMEM;
	}
	if (why) {
		skip(x, why);
		json_decref(res);
		return 0;
	}
	row.problem = jsonx_str(res, "modified_problem");
	row.starter_code = jsonx_str(prob, "starter_code");
	row.answer = x->answer;
	row.nanswer = nq;
	row.type = cat;
	row.id = id;
	rc = take(x, split, EXPORT_CLARIFY, &row, &copies);
	if (!rc && copies)
		rc = note_generation(x, res);
	json_decref(res);
	return rc;
}

/* A job key already read from an earlier store, for this problem. */
static int seen_before(struct exporter *x, const MDB_val *k, int *dup)
{
	json_t *it;
	size_t i;

	*dup = 0;
	json_array_foreach(x->seen, i, it) {
		if (json_string_length(it) == k->mv_size &&
		    memcmp(json_string_value(it), k->mv_data, k->mv_size) == 0) {
			*dup = 1;
			return 0;
		}
	}
	return json_array_append_new(x->seen, json_stringn(k->mv_data, k->mv_size)) ? CL_ENOMEM
										      : 0;
}

static int results(struct exporter *x, const char *pkey, int split, const json_t *prob)
{
	char prefix[STORE_KEY_MAX * 4 + 2];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%s#", pkey);
	int rc = 0;

	json_array_clear(x->seen);
	for (size_t i = 0; !rc && i < x->nsrc; i++) {
		struct src *src = &x->src[i];
		MDB_val k = { plen, prefix }, v;
		int mrc = mdb_cursor_get(src->rcur, &k, &v, MDB_SET_RANGE);

		while (!rc && !mrc && k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0) {
			int dup = 0;

			if (x->writing)
				x->visited++;
			if (x->nsrc > 1)
				rc = seen_before(x, &k, &dup);
			if (!rc && dup)
				skip(x, "duplicate");
			else if (!rc)
				rc = result(x, src, &k, &v, split, prob);
			if (!rc)
				mrc = mdb_cursor_get(src->rcur, &k, &v, MDB_NEXT);
		}
		if (!rc && mrc && mrc != MDB_NOTFOUND)
			rc = err_set(CL_ESTORE, "store '%s': cannot read results: %s",
				     src->s->path, mdb_strerror(mrc));
	}
	return rc;
}

static int problem(struct exporter *x, const char *key, const json_t *prob)
{
	int split = split_of(x, key), rc;

	if (x->mix) {
		const char *sol = prob ? first_solution(prob) : NULL;

		if (!prob) {
			skip(x, "unreadable");
		} else if (!sol) {
			skip(x, "no_solution");
		} else {
			const char *answer[1] = { sol };
			struct export_row row = { .problem = jsonx_str(prob, "question"),
						  .starter_code = jsonx_str(prob, "starter_code"),
						  .answer = answer, .nanswer = 1,
						  .type = EXPORT_ORIGINAL, .id = key };
			uint64_t copies;

			if (!row.problem) {
				skip(x, "incomplete");
			} else {
				rc = take(x, split, EXPORT_OG, &row, &copies);
				if (rc)
					return rc;
			}
		}
	}
	return results(x, key, split, prob);
}

/* One walk over the problems of every store, in key order, each key once. */
static int walk(struct exporter *x)
{
	char key[STORE_KEY_MAX * 4];
	uint64_t total = 0;
	int rc = 0;

	for (size_t i = 0; i < x->nsrc; i++) {
		total += x->src[i].problems;
		rc = src_step(&x->src[i], MDB_FIRST);
		if (rc)
			return rc;
	}
	x->done = 0;
	progress_init(&x->prog, x->writing ? "exporting" : "counting", total, x->o->progress);
	for (;;) {
		struct src *min = NULL;
		json_t *prob = NULL;
		int drc;

		if (x->o->stop && *x->o->stop) {
			rc = err_set(CL_EINVAL, "interrupted");
			break;
		}
		for (size_t i = 0; i < x->nsrc; i++)
			if (x->src[i].more && (!min || keycmp(&x->src[i].k, &min->k) < 0))
				min = &x->src[i];
		if (!min)
			break;
		if (min->k.mv_size >= sizeof(key)) {
			rc = err_set(CL_EINVAL, "store '%s': problem key over %zu bytes",
				     min->s->path, sizeof(key) - 1);
			break;
		}
		memcpy(key, min->k.mv_data, min->k.mv_size);
		key[min->k.mv_size] = '\0';
		drop_pages(x, min->v.mv_size);
		err_clear();
		drc = store_decode(min->s, min->v.mv_data, min->v.mv_size, &prob);
		if (drc == CL_ENOMEM) {
			rc = drc;
			break;
		}
		if (drc && x->writing)
			log_warn("store '%s': problem '%s': %s", min->s->path, key, err_msg(drc));
		/* the first store holding the key gave it; step past it in all */
		for (size_t i = 0; !rc && i < x->nsrc; i++) {
			struct src *s = &x->src[i];

			if (s->more && s->k.mv_size == strlen(key) &&
			    memcmp(s->k.mv_data, key, s->k.mv_size) == 0)
				rc = src_step(s, MDB_NEXT);
		}
		if (!rc)
			rc = problem(x, key, drc ? NULL : prob);
		json_decref(prob);
		if (rc)
			break;
		if (x->writing)
			x->r->problems++;
		progress_update(&x->prog, ++x->done);
	}
	progress_finish(&x->prog);
	return rc;
}

/* ---- the manifest ---------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The entries of gen as an array sorted by key; NULL when out of memory. */
static json_t *gen_list(json_t *gen)
{
	size_t n = json_object_size(gen), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *list = json_array(), *v;
	const char *k;

	if (!keys || !list) {
		free(keys);
		json_decref(list);
		return NULL;
	}
	json_object_foreach(gen, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		json_array_append(list, json_object_get(gen, keys[i]));
	free(keys);
	return list;
}

/* The fingerprint of how the records were made: the models and the
 * templates (name, version, content hash), whatever their counts. */
static json_t *fingerprint(const json_t *models, const json_t *templates)
{
	json_t *fp = json_pack("{s:[], s:[]}", "models", "templates");
	const json_t *it;
	char hex[HASH_SHA256_HEX];
	char *text;
	size_t i;

	if (!fp)
		return NULL;
	json_array_foreach(models, i, it)
		json_array_append_new(json_object_get(fp, "models"),
				      json_pack("{s:O?, s:O?}", "provider",
						json_object_get(it, "provider"), "model",
						json_object_get(it, "model")));
	json_array_foreach(templates, i, it)
		json_array_append_new(json_object_get(fp, "templates"),
				      json_pack("{s:O?, s:O?, s:O?}", "name",
						json_object_get(it, "name"), "version",
						json_object_get(it, "version"), "hash",
						json_object_get(it, "hash")));
	text = jsonx_canonical(fp);
	json_decref(fp);
	if (!text)
		return NULL;
	hash_sha256_hex(text, strlen(text), hex);
	free(text);
	return json_string(hex);
}

static json_t *file_json(const struct export_file *f)
{
	json_t *o = json_object(), *counts = json_object();

	/* Original first, then the categories: the paper's order */
	for (int i = 0; i < EXPORT_TYPE_COUNT; i++) {
		int t = (i + EXPORT_ORIGINAL) % EXPORT_TYPE_COUNT;

		json_object_set_new(counts, export_type_name(t),
				    json_integer((json_int_t)f->by_type[t]));
	}
	json_object_set_new(o, "file", json_string(f->path));
	json_object_set_new(o, "records", json_integer((json_int_t)f->records));
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "clarify_records",
			    json_integer((json_int_t)(f->records - f->by_type[EXPORT_ORIGINAL])));
	json_object_set_new(o, "original_records",
			    json_integer((json_int_t)f->by_type[EXPORT_ORIGINAL]));
	json_object_set_new(o, "distinct", json_pack("{s:I, s:I}", "clarify",
						     (json_int_t)f->unique[EXPORT_CLARIFY],
						     "original", (json_int_t)f->unique[EXPORT_OG]));
	json_object_set_new(o, "bytes", json_integer((json_int_t)f->bytes));
	json_object_set_new(o, "jsonl_bytes", json_integer((json_int_t)f->jsonl_bytes));
	json_object_set_new(o, "sha256", json_string(f->sha256));
	return o;
}

static json_t *bound_json(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static json_t *manifest(struct exporter *x)
{
	const struct export_opts *o = x->o;
	const struct export_skipped *sk = &x->r->skipped;
	json_t *m = file_json(&x->r->file[EXPORT_TRAIN]), *stores = json_array(), *cats = json_array();
	json_t *models = gen_list(x->models), *templates = gen_list(x->templates);
	char when[32];

	if (!m || !stores || !cats || !models || !templates) {
		json_decref(m);
		json_decref(stores);
		json_decref(cats);
		json_decref(models);
		json_decref(templates);
		return NULL;
	}
	json_object_set_new(m, "format", json_string(export_format_name(o->format)));
	json_object_set_new(m, "compressed", json_boolean(x->out[0].cctx != NULL));
	json_object_set_new(m, "ratio", o->ratio > 0 ? json_real(o->ratio) : json_null());
	if (x->r->file[0].records)
		json_object_set_new(m, "achieved_ratio",
				    json_real((double)(x->r->file[0].records -
						       x->r->file[0].by_type[EXPORT_ORIGINAL]) /
					      (double)x->r->file[0].records));
	json_object_set_new(m, "sampling", json_string(export_sampling_name(o->sampling)));
	json_object_set_new(m, "seed", json_integer((json_int_t)o->seed));
	json_object_set_new(m, "available",
			    json_pack("{s:I, s:I}", "clarify",
				      (json_int_t)(x->r->avail[0][EXPORT_CLARIFY] +
						   x->r->avail[1][EXPORT_CLARIFY]),
				      "original",
				      (json_int_t)(x->r->avail[0][EXPORT_OG] + x->r->avail[1][EXPORT_OG])));
	for (int c = 0; c < CAT_COUNT; c++)
		if (o->categories & (1u << c))
			json_array_append_new(cats, json_string(category_name(c)));
	json_object_set_new(m, "selection",
			    json_pack("{s:o, s:b, s:{s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o}}",
				      "categories", cats, "include_rejected", o->include_rejected,
				      "perplexity", "min", bound_json(o->min_perplexity), "max",
				      bound_json(o->max_perplexity), "entropy", "min",
				      bound_json(o->min_entropy), "max", bound_json(o->max_entropy),
				      "tokens", "min", bound_json(o->min_tokens), "max",
				      bound_json(o->max_tokens)));
	json_object_set_new(m, "skipped",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rejected",
				      (json_int_t)sk->rejected, "category", (json_int_t)sk->category,
				      "stat_bounds", (json_int_t)sk->stat_bounds, "incomplete",
				      (json_int_t)sk->incomplete, "unreadable",
				      (json_int_t)sk->unreadable, "no_solution",
				      (json_int_t)sk->no_solution, "orphan", (json_int_t)sk->orphan,
				      "duplicate", (json_int_t)sk->duplicate));
	if (x->nsplit > 1) {
		json_t *t = file_json(&x->r->file[EXPORT_TEST]);

		json_object_set_new(t, "fraction", json_real(o->test_fraction));
		json_object_set_new(m, "test", t);
	} else {
		json_object_set_new(m, "test", json_null());
	}
	for (size_t i = 0; i < x->nsrc; i++) {
		json_t *schema = NULL;

		if (store_get(x->src[i].s, x->src[i].txn, STORE_META, "schema", &schema))
			schema = NULL;
		json_array_append_new(stores, json_pack("{s:s, s:I, s:I, s:o?}", "path",
							x->src[i].s->path, "problems",
							(json_int_t)x->src[i].problems, "results",
							(json_int_t)x->src[i].results, "schema",
							schema));
	}
	json_object_set_new(m, "stores", stores);
	json_object_set_new(m, "problems", json_integer((json_int_t)x->r->problems));
	json_object_set_new(m, "config_fingerprint", fingerprint(models, templates));
	json_object_set_new(m, "models", models);
	json_object_set_new(m, "templates", templates);
	if (x->gen_more)
		json_object_set_new(m, "generation_not_listed",
				    json_integer((json_int_t)x->gen_more));
	time_iso(time_now(), when, sizeof(when));
	json_object_set_new(m, "created", json_string(when));
	json_object_set_new(m, "created_by", json_string("clarify " CLARIFY_VERSION));
	return m;
}

static int write_manifest(struct out *w, const json_t *m)
{
	char *text = json_dumps(m, JSON_INDENT(2));
	int rc;

	if (!text)
		return CL_ENOMEM;
	rc = out_add(w, text, strlen(text));
	if (!rc)
		rc = out_add(w, "\n", 1);
	free(text);
	if (!rc)
		rc = out_finish(w);
	return rc;
}

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
	struct export_file mfile;
	struct out mout;
	double t0 = time_mono();
	uint64_t results = 0;
	int rc, len;

	memset(r, 0, sizeof(*r));
	memset(&mfile, 0, sizeof(mfile));
	out_init(&x.out[0], &r->file[0]);
	out_init(&x.out[1], &r->file[1]);
	out_init(&mout, &mfile);
	buf_init(&x.line, BUF_MAX_DEFAULT);
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
		rc = walk(&x);
		if (!rc)
			rc = targets(&x);
		if (rc)
			goto cleanup;
	}

	/* the files, then the walk that writes them */
	rc = out_open(&x.out[0], path, path && ends_with(path, strlen(path), ".zst"));
	if (!rc && x.nsplit > 1) {
		rc = export_test_path(path, tpath, sizeof(tpath));
		if (!rc)
			rc = out_open(&x.out[1], tpath, ends_with(path, strlen(path), ".zst"));
	}
	if (rc)
		goto cleanup;
	x.writing = 1;
	rc = walk(&x);
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
	r->manifest = manifest(&x);
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
		rc = write_manifest(&mout, r->manifest);
	for (int sp = x.nsplit - 1; !rc && sp >= 0; sp--)
		rc = out_commit(&x.out[sp]);
	if (!rc)
		rc = out_commit(&mout);
	if (!rc)
		rc = sync_dir(path);

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
	sources_close(&x);
	buf_release(&x.line);
	free(x.answer);
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
