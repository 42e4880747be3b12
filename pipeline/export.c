/*
 * export.c - the training set out of the stores: selection, rows, the
 * streaming zstd writer, the atomic rename and the manifest.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

static int row_text(struct buf *out, const struct export_row *row, const struct export_text *t)
{
	return row->escaped ? buf_add(out, t->p, t->n) : json_body(out, t->p, t->n);
}

static int row_problem(struct buf *out, const struct export_row *row)
{
	int rc = buf_addc(out, '"');

	if (!rc)
		rc = row_text(out, row, &row->problem);
	if (!rc && row->starter_code.n) {
		rc = json_body(out, "\n", 1);
		if (!rc)
			rc = row_text(out, row, &row->starter_code);
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
			rc = row_text(out, row, &row->answer[i]);
	}
	if (!rc)
		rc = buf_addc(out, '"');
	return rc;
}

int export_row_append(struct buf *out, int format, const struct export_row *row)
{
	size_t len = out->len;
	int rc;

	if (row->type < 0 || row->type >= EXPORT_TYPE_COUNT || !row->problem.p)
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
			rc = buf_adds(out, ",\"type\":\"");
		if (!rc)
			rc = buf_adds(out, export_type_name(row->type));
		if (!rc)
			rc = buf_adds(out, "\"}\n");
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
			rc = buf_adds(out, "}],\"category\":\"");
		if (!rc)
			rc = buf_adds(out, export_type_category(row->type));
		if (!rc)
			rc = buf_adds(out, "\",\"id\":");
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
	uint64_t synced;       /* bytes whose writeback was started */
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
		/* compression in zstd's worker threads, beside the walk: its output
		 * is the same for any number of workers from one.  Two workers
		 * can take up a core whenever the walk's threads wait on each
		 * other (measured: the best of 15 runs 0.64 s, against 0.69 s
		 * with one); jobs of 2 MB keep their memory small */
		if (!ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers, 2)))
			ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_jobSize, 2 << 20);
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

/* Written bytes after which their writeback is started, so that the
 * final fsync finds little left to do. */
#define WRITEBACK_EVERY ((uint64_t)8 << 20)

static int out_write(struct out *w, const void *p, size_t n)
{
	const char *c = p;

	if (!w->to_stdout && w->f->bytes - w->synced >= WRITEBACK_EVERY) {
		sync_file_range(w->fd, (off_t)w->synced, (off_t)(w->f->bytes - w->synced),
				SYNC_FILE_RANGE_WRITE);
		w->synced = w->f->bytes;
	}

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

/* ---- reading records: a scanner over the stored JSON ------------------------- */

/*
 * The export reads a handful of fields of each record and copies its texts
 * as they are stored (the insides of JSON string literals, escapes in
 * place), so it does not build a tree of every record: the scanner below
 * finds a value's extent, checks the strings it hands out (escapes, no raw
 * control characters) and skips the rest.  The records are jansson's
 * canonical output, so their UTF-8 is valid.
 */
enum { JS_STR = 1, JS_NUM, JS_TRUE, JS_FALSE, JS_NULL, JS_OBJ, JS_ARR };

struct jspan {
	int type;
	const char *p;   /* JS_STR: the inside of the quotes; else the whole value */
	size_t n;
};

static const char *js_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * From p, the first byte that is '"', '\\' or below 0x20, or a point less
 * than eight bytes before it from which to go on byte by byte: sixteen
 * bytes at a time with SSE2, eight with plain 64-bit words.
 */
static const char *js_plain(const char *p, const char *e)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones << 7;
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);

	while (e - p >= 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* max(w, 0x1f) == 0x1f: the bytes up to 0x1f, unsigned */
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, quote),
							_mm_cmpeq_epi8(w, bslash)),
					   _mm_cmpeq_epi8(_mm_max_epu8(w, ctl), ctl));
		unsigned m = (unsigned)_mm_movemask_epi8(hit);

		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
#endif
	while (e - p >= 8) {
		uint64_t w, q, b;

		memcpy(&w, p, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if (((q - ones) & ~q & highs) | ((b - ones) & ~b & highs) |
		    ((w - ones * 0x20) & ~w & highs))
			break;
		p += 8;
	}
	return p;
}

/* From just after an opening quote to its closing quote; NULL when the
 * string is malformed or unterminated. */
static const char *js_str_end(const char *p, const char *e)
{
	while (p < e) {
		unsigned char c;

		p = js_plain(p, e);
		if (p >= e)
			break;
		c = (unsigned char)*p;

		if (c == '"')
			return p;
		if (c < 0x20)
			return NULL;
		if (c != '\\') {
			p++;
			continue;
		}
		if (p + 1 >= e)
			return NULL;
		c = (unsigned char)p[1];
		if (c == 'u') {
			if (e - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) ||
			    !is_hex(p[5]))
				return NULL;
			p += 6;
		} else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
			   c == 'r' || c == 't') {
			p += 2;
		} else {
			return NULL;
		}
	}
	return NULL;
}

static int js_literal(const char *p, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - p) >= n && memcmp(p, word, n) == 0;
}

/* One value from p: its span in *v, and where it ends; NULL when malformed. */
static const char *js_value(const char *p, const char *e, struct jspan *v)
{
	const char *start, *q;
	int depth = 0;

	p = js_ws(p, e);
	if (p >= e)
		return NULL;
	start = p;
	switch (*p) {
	case '"':
		q = js_str_end(p + 1, e);
		if (!q)
			return NULL;
		*v = (struct jspan){ JS_STR, p + 1, (size_t)(q - p - 1) };
		return q + 1;
	case '{':
	case '[':
		while (p < e) {
			char c = *p;

			if (c == '"') {
				q = js_str_end(p + 1, e);
				if (!q)
					return NULL;
				p = q + 1;
				continue;
			}
			if (c == '{' || c == '[') {
				depth++;
			} else if ((c == '}' || c == ']') && --depth == 0) {
				*v = (struct jspan){ *start == '{' ? JS_OBJ : JS_ARR, start,
						     (size_t)(p + 1 - start) };
				return p + 1;
			}
			p++;
		}
		return NULL;
	case 't':
		*v = (struct jspan){ JS_TRUE, p, 4 };
		return js_literal(p, e, "true") ? p + 4 : NULL;
	case 'f':
		*v = (struct jspan){ JS_FALSE, p, 5 };
		return js_literal(p, e, "false") ? p + 5 : NULL;
	case 'n':
		*v = (struct jspan){ JS_NULL, p, 4 };
		return js_literal(p, e, "null") ? p + 4 : NULL;
	default:
		while (p < e && strchr("-+0123456789.eE", *p) && *p)
			p++;
		if (p == start)
			return NULL;
		*v = (struct jspan){ JS_NUM, start, (size_t)(p - start) };
		return p;
	}
}

/* The members of an object or the elements of an array, in order. */
struct jiter {
	const char *p, *e;
	int first;
};

static void js_iter(struct jiter *it, const struct jspan *v)
{
	it->p = v->p + 1;
	it->e = v->p + v->n - 1;
	it->first = 1;
}

/* 1 with the next member (key NULL for an array), 0 at the end, -1 when malformed. */
static int js_next(struct jiter *it, struct jspan *key, struct jspan *val)
{
	const char *p = js_ws(it->p, it->e);

	if (p >= it->e)
		return 0;
	if (!it->first) {
		if (*p != ',')
			return -1;
		p++;
	}
	it->first = 0;
	if (key) {
		p = js_value(p, it->e, key);
		if (!p || key->type != JS_STR)
			return -1;
		p = js_ws(p, it->e);
		if (p >= it->e || *p != ':')
			return -1;
		p++;
	}
	p = js_value(p, it->e, val);
	if (!p)
		return -1;
	it->p = p;
	return 1;
}

static int js_is(const struct jspan *s, const char *name)
{
	return s->type == JS_STR && s->n == strlen(name) && memcmp(s->p, name, s->n) == 0;
}

/* The top-level object of a record's text. */
static int js_root(const char *text, size_t n, struct jspan *root)
{
	const char *p = js_ws(text, text + n), *e = text + n;

	/* the members are checked as they are read (js_next) */
	while (e > p && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (e - p < 2 || *p != '{' || e[-1] != '}')
		return err_set(CL_EPARSE, "record is not a JSON object");
	*root = (struct jspan){ JS_OBJ, p, (size_t)(e - p) };
	return 0;
}

/* The members of obj named in names[] into out[] (type 0 when absent). */
static int js_fields(const struct jspan *obj, const char *const *names, size_t n,
		     struct jspan *out)
{
	struct jiter it;
	struct jspan k, v;
	int rc;

	memset(out, 0, n * sizeof(*out));
	if (obj->type != JS_OBJ)
		return 0;
	js_iter(&it, obj);
	while ((rc = js_next(&it, &k, &v)) == 1) {
		for (size_t i = 0; i < n; i++)
			if (js_is(&k, names[i]))
				out[i] = v;
	}
	return rc < 0 ? err_set(CL_EPARSE, "malformed JSON record") : 0;
}

static double js_number(const struct jspan *v)
{
	char tmp[64];

	if (v->type != JS_NUM || v->n >= sizeof(tmp))
		return NAN;
	memcpy(tmp, v->p, v->n);
	tmp[v->n] = '\0';
	return strtod(tmp, NULL);
}

/* A short string member as text (escapes undone) into out; "" when absent. */
static void js_text(const struct jspan *v, char *out, size_t n)
{
	json_t *j;
	char *quoted;

	out[0] = '\0';
	if (v->type != JS_STR)
		return;
	if (!memchr(v->p, '\\', v->n)) {
		snprintf(out, n, "%.*s", (int)v->n, v->p);
		return;
	}
	quoted = malloc(v->n + 3);
	if (!quoted)
		return;
	quoted[0] = '"';
	memcpy(quoted + 1, v->p, v->n);
	quoted[v->n + 1] = '"';
	quoted[v->n + 2] = '\0';
	j = json_loads(quoted, JSON_DECODE_ANY, NULL);
	if (json_is_string(j))
		snprintf(out, n, "%s", json_string_value(j));
	json_decref(j);
	free(quoted);
}

/* ---- the walk ------------------------------------------------------------------ */

/* Map bytes read between two store_drop_pages(): keeps the resident size flat. */
#define DROP_EVERY ((uint64_t)4 << 20)
/* Distinct templates and models listed in the manifest at most. */
#define GEN_MAX 1024
/* Generations (provider, model, templates) remembered by their raw text:
 * one per category and model is typical. */
#define GEN_SLOTS 8

struct src {
	struct store *s;
	struct store codec;    /* the exporter thread's, with s's dictionaries */
	int have_codec;
	MDB_txn *txn;
	MDB_cursor *pcur;      /* problems */
	MDB_cursor *rcur;      /* results */
	MDB_val k, v;          /* the problem under pcur */
	int more;              /* pcur is on a record */
	uint64_t problems, results;
};

/* What the export needs of a problem; spans into exporter.ptext. */
struct prob {
	struct jspan question, starter, solution;
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
	struct buf ptext;      /* the current problem's JSON text */
	struct prob prob;      /* its fields, in ptext */
	int have_prob;         /* it could be read */
	int split;             /* its file */
	char key[STORE_KEY_MAX * 4];
	struct export_text *answer;
	size_t answer_cap;
	json_t *seen;          /* job keys of this problem (several stores) */
	json_t *templates;     /* "name\tversion\thash" -> {name, version, hash, records} */
	json_t *models;        /* "provider\tmodel" -> {provider, model, records} */
	uint64_t gen_more;     /* distinct ones past GEN_MAX */
	/* the provider, model and templates of recent records (raw text),
	 * each with the counters it added to: see note_generation */
	struct gen_slot {
		struct buf key;
		json_t *last[16];
		size_t nlast;      /* 0: empty */
	} gen[GEN_SLOTS];
	size_t gen_next;       /* the slot to fill next */
	struct gen_slot *gen_fill;  /* the slot gen_note fills */
	int gen_uncached;      /* the record's entries are not all in gen_fill */
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
       R_TEMPLATES, R_COUNT };
static const char *const result_fields[R_COUNT] = {
	[R_ACCEPTED] = "accepted", [R_CATEGORY] = "category",
	[R_MODIFIED] = "modified_problem", [R_QUESTIONS] = "questions",
	[R_STATS] = "stats", [R_PROVIDER] = "provider", [R_MODEL] = "model",
	[R_TEMPLATES] = "templates",
};

/* A result: judged, then counted or written. */
static int result(struct exporter *x, const char *key, size_t klen, const char *text,
		  size_t n)
{
	struct export_skipped *sk = &x->r->skipped;
	char id[STORE_KEY_MAX * 4];
	struct export_row row = { .escaped = 1, .id = id };
	struct jspan root, f[R_COUNT], q;
	struct jiter it;
	uint64_t copies;
	size_t nq = 0;
	int cat, rc, more;

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
	js_iter(&it, &f[R_QUESTIONS]);
	while ((more = js_next(&it, NULL, &q)) == 1) {
		if (q.type != JS_STR)
			break;
		if (nq == x->answer_cap && ARRAY_GROW(x->answer, x->answer_cap, nq, 16))
			return CL_ENOMEM;
		x->answer[nq++] = (struct export_text){ q.p, q.n };
	}
	if (more != 0 || nq == 0) {
		skip(x, &sk->incomplete);
		return 0;
	}
	row.problem = (struct export_text){ f[R_MODIFIED].p, f[R_MODIFIED].n };
	row.starter_code = (struct export_text){
		x->prob.starter.p, x->prob.starter.type == JS_STR ? x->prob.starter.n : 0
	};
	row.answer = x->answer;
	row.nanswer = nq;
	row.type = cat;
	rc = take(x, x->split, EXPORT_CLARIFY, &row, &copies);
	if (!rc && copies)
		rc = note_generation(x, &f[R_PROVIDER], &f[R_MODEL], &f[R_TEMPLATES]);
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
			.escaped = 1,
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
static int walk(struct exporter *x)
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
	buf_init(&x.ptext, BUF_MAX_DEFAULT);
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
	buf_release(&x.ptext);
	for (size_t i = 0; i < GEN_SLOTS; i++)
		buf_release(&x.gen[i].key);
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
