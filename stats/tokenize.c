/*
 * tokenize.c - lower-case a text and split it by \w+|[^\w\s] (Unicode word
 * characters), one sentence per non-empty line.
 *
 * Lower-casing: towlower_l() in glibc's C.UTF-8 locale (Debian's libc-bin
 * always ships it: the Unicode simple lowercase mapping, the same for every
 * code point in the corpus as Python's str.lower()), plus by hand the two
 * places where Python's full mapping differs: U+0130 'İ' becomes "i" U+0307,
 * and 'Σ' becomes final 'ς' after a cased letter and not before one (the
 * neighbours themselves: Python also looks past case-ignorable marks).  When that
 * locale cannot be made, a small built-in table covers ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic.  PCRE2 has the Unicode case tables
 * but does not export them.
 *
 * Splitting: PCRE2 with UTF and UCP (so \w is \p{L}, \p{N} and '_', and \s
 * is Unicode white space, as in Python's re), JIT-compiled once.
 */
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "stats.h"

static pthread_once_t tok_once = PTHREAD_ONCE_INIT;
static pcre2_code *tok_re;
static locale_t tok_locale;

static void tok_init(void)
{
	int errcode;
	PCRE2_SIZE erroff;

	tok_re = pcre2_compile((PCRE2_SPTR) "\\w+|[^\\w\\s]", PCRE2_ZERO_TERMINATED,
			       PCRE2_UTF | PCRE2_UCP, &errcode, &erroff, NULL);
	if (tok_re)
		(void)pcre2_jit_compile(tok_re, PCRE2_JIT_COMPLETE); /* optional */
	tok_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* ---- UTF-8 ------------------------------------------------------------ */

/* Decode one code point at s[0..n); its length, or 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static size_t utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* ---- lower case ------------------------------------------------------- */

/* The fallback: ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic. */
static uint32_t lower_table(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if (c >= 0x100 && c <= 0x17f) {
		if (c == 0x130)
			return 'i';
		if (c == 0x178)
			return 0xff;
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return c & 1 ? c + 1 : c;
		if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17f)
			return c;
		return c & 1 ? c : c + 1;
	}
	if (c >= 0x370 && c <= 0x3ff) {
		if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
			return c + 32;
		if (c == 0x386)
			return 0x3ac;
		if (c >= 0x388 && c <= 0x38a)
			return c + 37;
		if (c == 0x38c)
			return 0x3cc;
		if (c == 0x38e || c == 0x38f)
			return c + 63;
		if (c >= 0x3d8 && c <= 0x3ef)
			return c & 1 ? c : c + 1;
		return c;
	}
	if (c >= 0x400 && c <= 0x52f) {
		if (c <= 0x40f)
			return c + 80;
		if (c <= 0x42f)
			return c + 32;
		if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf) ||
		    (c >= 0x4d0 && c <= 0x52f))
			return c & 1 ? c : c + 1;
		if (c == 0x4c0)
			return 0x4cf;
		if (c >= 0x4c1 && c <= 0x4ce)
			return c & 1 ? c + 1 : c;
	}
	return c;
}

static uint32_t lower1(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (tok_locale)
		return (uint32_t)towlower_l((wint_t)c, tok_locale);
	return lower_table(c);
}

/* A letter that has case (Python's "cased"), for the final sigma. */
static int is_cased(uint32_t c)
{
	if (c < 0x80)
		return (c | 32) >= 'a' && (c | 32) <= 'z';
	if (tok_locale)
		return towlower_l((wint_t)c, tok_locale) != (wint_t)c ||
		       towupper_l((wint_t)c, tok_locale) != (wint_t)c;
	return lower_table(c) != c || (c >= 0xdf && c <= 0x24f && c != 0xf7) ||
	       (c >= 0x3ac && c <= 0x3ff) || (c >= 0x430 && c <= 0x52f);
}

/*
 * Lower-case line[0..n) into out (reset first).  CL_EUTF8 with the byte
 * offset in the message when it is not valid UTF-8.
 */
static int lower_line(const char *line, size_t n, size_t base, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)line;
	uint32_t prev = 0;
	size_t i = 0;
	int rc;

	buf_reset(out);
	rc = buf_reserve(out, n + 8);
	if (rc)
		return rc;
	while (i < n) {
		uint32_t c, lc, next = 0;
		size_t k = utf8_decode(s + i, n - i, &c);
		char enc[8];
		size_t m;

		if (!k)
			return err_set(CL_EUTF8, "invalid UTF-8 at byte %zu", base + i);
		if (c == 0x130) { /* Python: U+0069 U+0307 */
			m = utf8_encode('i', enc);
			m += utf8_encode(0x307, enc + m);
		} else if (c == 0x3a3) { /* final sigma */
			size_t k2 = i + k < n ? utf8_decode(s + i + k, n - i - k, &next) : 0;

			lc = is_cased(prev) && !(k2 && is_cased(next)) ? 0x3c2 : 0x3c3;
			m = utf8_encode(lc, enc);
		} else {
			lc = lower1(c);
			if (lc > 0x10ffff || (lc >= 0xd800 && lc <= 0xdfff))
				lc = c;
			m = utf8_encode(lc, enc);
		}
		rc = buf_add(out, enc, m);
		if (rc)
			return rc;
		prev = c;
		i += k;
	}
	return 0;
}

/* ---- splitting -------------------------------------------------------- */

/* Whether the n bytes at s are all ASCII. */
static int is_ascii(const char *s, size_t n)
{
	size_t i = 0;
	uint64_t x, acc = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		acc |= x;
	}
	for (; i < n; i++)
		acc |= (unsigned char)s[i];
	return (acc & 0x8080808080808080ULL) == 0;
}

static int ascii_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * An ASCII line, by hand: what the pattern gives on it, several times as
 * fast.  On ASCII, \w with UCP is [A-Za-z0-9_] and \s is \t \n \v \f \r
 * and space (PCRE2's \s has no other ASCII member, unlike Python's, which
 * also takes \x1c-\x1f: a test checks the two ways agree on every byte).
 */
static size_t split_ascii(struct buf *low, const char *line, size_t n, stats_token_fn fn,
			  void *arg)
{
	unsigned char *p;
	size_t i = 0, ntok = 0;

	buf_reset(low);
	if (buf_reserve(low, n + 1))
		return (size_t)-1;
	p = (unsigned char *)low->data;
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)line[k];

		p[k] = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
	}
	low->len = n;
	while (i < n) {
		unsigned char c = p[i];
		size_t start = i;

		if (c == ' ' || (c >= '\t' && c <= '\r')) {
			i++;
			continue;
		}
		if (ascii_word(c)) {
			while (i < n && ascii_word(p[i]))
				i++;
		} else {
			i++;
		}
		fn((const char *)p + start, i - start, arg);
		ntok++;
	}
	return ntok;
}

int stats_tokenize(const char *text, size_t len, stats_token_fn fn, void *arg)
{
	pcre2_match_data *md;
	struct buf low;
	size_t pos = 0;
	int rc = 0;

	pthread_once(&tok_once, tok_init);
	if (!tok_re)
		return err_set(CL_EINVAL, "cannot compile the token pattern");
	md = pcre2_match_data_create_from_pattern(tok_re, NULL);
	if (!md)
		return err_set(CL_ENOMEM, "out of memory");
	/* a lower-cased line is at most 3/2 as long as the original */
	buf_init(&low, 2 * len + 64);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		PCRE2_SIZE off = 0;
		size_t ntok = 0;

		if (is_ascii(text + pos, end - pos)) {
			ntok = split_ascii(&low, text + pos, end - pos, fn, arg);
			if (ntok == (size_t)-1) {
				rc = err_set(CL_ENOMEM, "cannot lower-case a line of %zu bytes",
					     end - pos);
				goto out;
			}
			if (ntok)
				fn(NULL, 0, arg);
			pos = end + 1;
			continue;
		}
		rc = lower_line(text + pos, end - pos, pos, &low);
		if (rc == CL_ENOMEM || rc == CL_ETOOBIG)
			rc = err_set(rc, "cannot lower-case a line of %zu bytes", end - pos);
		if (rc)
			goto out;
		while (off < low.len) {
			int m = pcre2_match(tok_re, (PCRE2_SPTR)low.data, low.len, off,
					    PCRE2_NO_UTF_CHECK, md, NULL);
			PCRE2_SIZE *ov;

			if (m == PCRE2_ERROR_NOMATCH)
				break;
			if (m < 0) {
				rc = err_set(CL_EINVAL, "token pattern failed (%d)", m);
				goto out;
			}
			ov = pcre2_get_ovector_pointer(md);
			if (ov[1] <= ov[0]) /* cannot happen: every match is non-empty */
				break;
			fn(low.data + ov[0], ov[1] - ov[0], arg);
			ntok++;
			off = ov[1];
		}
		if (ntok)
			fn(NULL, 0, arg);
		pos = end + 1;
	}
out:
	buf_release(&low);
	pcre2_match_data_free(md);
	return rc;
}

struct lines_ctx {
	struct buf *out;
	int first; /* no token yet on this line */
	int rc;
};

static void lines_token(const char *tok, size_t n, void *arg)
{
	struct lines_ctx *c = arg;

	if (c->rc)
		return;
	if (!tok) {
		c->rc = buf_addc(c->out, '\n');
		c->first = 1;
		return;
	}
	if (!c->first)
		c->rc = buf_addc(c->out, ' ');
	if (!c->rc)
		c->rc = buf_add(c->out, tok, n);
	c->first = 0;
}

int stats_tokenize_lines(const char *text, size_t len, struct buf *out)
{
	struct lines_ctx c = { out, 1, 0 };
	size_t was = out->len;
	int rc = stats_tokenize(text, len, lines_token, &c);

	if (!rc && c.rc)
		rc = err_set(c.rc, "tokens of %zu bytes do not fit in the buffer", len);
	if (rc)
		out->len = was;
	if (out->data && out->len < out->cap)
		out->data[out->len] = '\0';
	return rc;
}
