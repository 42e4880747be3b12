/*
 * tokens.c - the tokenizer of the built-in checks: one pass over the
 * bytes, 64 at a time into bit masks (AVX2 where the CPU has it), then the
 * tokens off the masks, each with the 64-bit hash of its lower case.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "filter_int.h"

/* ---- tokens ------------------------------------------------------------ */

/*
 * A word is a run of ASCII letters, digits, '_' and bytes of UTF-8
 * multi-byte characters (close to \w with Unicode properties, and cheap on
 * bytes); every other byte that is not white space is a token of its own.
 *
 * Written by hand, because no library tokenizes at this speed: one pass
 * classifies 64 bytes at a time into bit masks (word bytes, white space,
 * newlines) and writes a lower-case copy; tokens are then read off the
 * masks with one count-trailing-zeros each, with no branch per byte, and
 * hashed eight bytes at a time from the copy.
 */
#define TOK_SEED 0x9e3779b97f4a7c15ULL
#define TOK_MUL 0xff51afd7ed558ccdULL
#define TOK_PAD 16               /* readable zero bytes past a copy's end */

/*
 * A token's hash: its bytes eight at a time, each chunk xored in and
 * multiplied by an odd constant, then a shift-xor.  Each step is a
 * bijection, so two different tokens of at most eight bytes never share
 * a hash; never 0, which marks an empty slot elsewhere.
 */
static uint64_t tok_step(uint64_t h, uint64_t x)
{
	h = (h ^ x) * TOK_MUL;
	return h ^ (h >> 32);
}

/* The low n bytes of a word, for n in 1..8. */
static const uint64_t low_bytes[9] = {
	0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffffULL, 0xffffffffffffULL,
	0xffffffffffffffULL, ~0ULL,
};

static uint64_t tok_last(uint64_t h, uint64_t x, size_t n)
{
	x &= low_bytes[n];
	h = tok_step(h, x);
	return h + !h;
}

/* The hash of the n >= 1 lower-case bytes at p, of which the 8 bytes
 * after the last are readable. */
static uint64_t tok_hash(const unsigned char *p, size_t n)
{
	uint64_t h = TOK_SEED ^ n, x;

	while (n > 8) {
		memcpy(&x, p, 8);
		h = tok_step(h, x);
		p += 8;
		n -= 8;
	}
	memcpy(&x, p, 8);
	return tok_last(h, x, n);
}

uint64_t filter_word_hash(const char *w, size_t n)
{
	unsigned char c[8];
	uint64_t h = TOK_SEED ^ n, x;
	size_t i;

	if (!n)
		return h;
	/* the steps of tok_hash, on lower-cased chunks */
	for (;;) {
		memset(c, 0, sizeof(c));
		for (i = 0; i < 8 && i < n; i++)
			c[i] = lower((unsigned char)w[i]);
		memcpy(&x, c, 8);
		if (n <= 8)
			return tok_last(h, x, n);
		h = tok_step(h, x);
		w += 8;
		n -= 8;
	}
}

/* ---- classification: 64 bytes into bit masks ------------------------------ */

struct tmask {
	uint64_t word, space, nl, high;
};

#if defined(__SSE2__)
#include <emmintrin.h>

static uint64_t mm_bits(__m128i m)
{
	return (uint64_t)(uint16_t)_mm_movemask_epi8(m);
}

/* Classify the 64 bytes at in, write them lower-cased to out. */
static void classify64(const unsigned char *in, unsigned char *out, struct tmask *m)
{
	const __m128i c0 = _mm_set1_epi8('0' - 1), c9 = _mm_set1_epi8('9' + 1);
	const __m128i ca = _mm_set1_epi8('a' - 1), cz = _mm_set1_epi8('z' + 1);
	const __m128i cA = _mm_set1_epi8('A' - 1), cZ = _mm_set1_epi8('Z' + 1);
	const __m128i us = _mm_set1_epi8('_'), sp = _mm_set1_epi8(' ');
	const __m128i t0 = _mm_set1_epi8('\t' - 1), t1 = _mm_set1_epi8('\r' + 1);
	const __m128i nl = _mm_set1_epi8('\n'), bit5 = _mm_set1_epi8(0x20);
	const __m128i zero = _mm_setzero_si128();

	m->word = m->space = m->nl = m->high = 0;
	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(in + 16 * k));
		/* signed compares: bytes >= 0x80 are negative and in no ASCII range */
		__m128i up = _mm_and_si128(_mm_cmpgt_epi8(v, cA), _mm_cmplt_epi8(v, cZ));
		__m128i lo = _mm_and_si128(_mm_cmpgt_epi8(v, ca), _mm_cmplt_epi8(v, cz));
		__m128i dg = _mm_and_si128(_mm_cmpgt_epi8(v, c0), _mm_cmplt_epi8(v, c9));
		__m128i w = _mm_or_si128(_mm_or_si128(up, lo),
					 _mm_or_si128(dg, _mm_or_si128(_mm_cmpeq_epi8(v, us),
								       _mm_cmplt_epi8(v, zero))));
		__m128i s = _mm_or_si128(_mm_cmpeq_epi8(v, sp),
					 _mm_and_si128(_mm_cmpgt_epi8(v, t0), _mm_cmplt_epi8(v, t1)));

		_mm_storeu_si128((__m128i *)(void *)(out + 16 * k),
				 _mm_or_si128(v, _mm_and_si128(up, bit5)));
		m->word |= mm_bits(w) << (16 * k);
		m->space |= mm_bits(s) << (16 * k);
		m->nl |= mm_bits(_mm_cmpeq_epi8(v, nl)) << (16 * k);
		m->high |= mm_bits(v) << (16 * k);
	}
}
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH 1

/* classify64 with 32 bytes a step, for the machines that have AVX2 */
__attribute__((target("avx2"))) static void classify64_avx2(const unsigned char *in,
							      unsigned char *out, struct tmask *m)
{
	const __m256i c0 = _mm256_set1_epi8('0' - 1), c9 = _mm256_set1_epi8('9' + 1);
	const __m256i ca = _mm256_set1_epi8('a' - 1), cz = _mm256_set1_epi8('z' + 1);
	const __m256i cA = _mm256_set1_epi8('A' - 1), cZ = _mm256_set1_epi8('Z' + 1);
	const __m256i us = _mm256_set1_epi8('_'), sp = _mm256_set1_epi8(' ');
	const __m256i t0 = _mm256_set1_epi8('\t' - 1), t1 = _mm256_set1_epi8('\r' + 1);
	const __m256i nl = _mm256_set1_epi8('\n'), bit5 = _mm256_set1_epi8(0x20);
	const __m256i zero = _mm256_setzero_si256();

	m->word = m->space = m->nl = m->high = 0;
	for (int k = 0; k < 2; k++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(in + 32 * k));
		__m256i up = _mm256_and_si256(_mm256_cmpgt_epi8(v, cA), _mm256_cmpgt_epi8(cZ, v));
		__m256i lo = _mm256_and_si256(_mm256_cmpgt_epi8(v, ca), _mm256_cmpgt_epi8(cz, v));
		__m256i dg = _mm256_and_si256(_mm256_cmpgt_epi8(v, c0), _mm256_cmpgt_epi8(c9, v));
		__m256i w = _mm256_or_si256(
			_mm256_or_si256(up, lo),
			_mm256_or_si256(dg, _mm256_or_si256(_mm256_cmpeq_epi8(v, us),
							    _mm256_cmpgt_epi8(zero, v))));
		__m256i s = _mm256_or_si256(_mm256_cmpeq_epi8(v, sp),
					    _mm256_and_si256(_mm256_cmpgt_epi8(v, t0),
							     _mm256_cmpgt_epi8(t1, v)));

		_mm256_storeu_si256((__m256i *)(void *)(out + 32 * k),
				    _mm256_or_si256(v, _mm256_and_si256(up, bit5)));
		m->word |= (uint64_t)(uint32_t)_mm256_movemask_epi8(w) << (32 * k);
		m->space |= (uint64_t)(uint32_t)_mm256_movemask_epi8(s) << (32 * k);
		m->nl |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nl))
			 << (32 * k);
		m->high |= (uint64_t)(uint32_t)_mm256_movemask_epi8(v) << (32 * k);
	}
}
#endif
#else
static void classify64(const unsigned char *in, unsigned char *out, struct tmask *m)
{
	m->word = m->space = m->nl = m->high = 0;
	for (int k = 0; k < 64; k++) {
		out[k] = lower(in[k]);
		m->word |= (uint64_t)is_word(in[k]) << k;
		m->space |= (uint64_t)is_space(in[k]) << k;
		m->nl |= (uint64_t)(in[k] == '\n') << k;
		m->high |= (uint64_t)(in[k] >> 7) << k;
	}
}
#endif

/*
 * Whether the n bytes at s are well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF): what PCRE2 checks before a match,
 * done once per text here so that every pattern can skip it.
 */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			uint64_t x;

			/* ASCII eight bytes at a time */
			i++;
			while (n - i >= 8) {
				memcpy(&x, s + i, 8);
				if (x & 0x8080808080808080ULL)
					break;
				i += 8;
			}
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

/* ---- tokens off the masks --------------------------------------------------- */

/*
 * The lines of a tokenized text: a line is the tokens between two
 * newlines, its hash their rolling hash.  One walk over the newlines (off
 * the masks) and the tokens, after the tokens are read.
 */
static int fill_lines(struct toks *t, size_t blocks)
{
	size_t i = 0;

	t->nlines = 0;
	t->has_lines = 1;
	for (size_t b = 0; b <= blocks; b++) {
		uint64_t nl = b < blocks ? t->masks[b].nl : 1;

		while (nl) {
			/* past the last block: one more "newline" at the end */
			size_t at = b * 64 + (size_t)__builtin_ctzll(nl), first = i;
			uint64_t lh = 0;

			nl &= nl - 1;
			for (; i < t->n && t->v[i].off < at; i++)
				lh = lh * ROLL_P + t->v[i].h;
			if (i == first)
				continue;
			if (t->nlines == t->lcap && ARRAY_GROW(t->lines, t->lcap, t->nlines, 256))
				return CL_ENOMEM;
			t->lines[t->nlines].h = lh ? lh : 1;
			t->lines[t->nlines].off = t->v[first].off;
			t->lines[t->nlines].len = t->v[i - 1].off + t->v[i - 1].len - t->v[first].off;
			t->nlines++;
		}
	}
	return 0;
}

/* Room for the lower-case copy of len bytes and its masks. */
static int toks_reserve(struct toks *t, size_t len)
{
	size_t blocks = len / 64 + 1, need = blocks * 64 + TOK_PAD;

	if (need > t->lc_cap) {
		unsigned char *lc = malloc(need);
		struct tmask *m = malloc(blocks * sizeof(*m));

		if (!lc || !m) {
			free(lc);
			free(m);
			return CL_ENOMEM;
		}
		free(t->lc);
		free(t->masks);
		t->lc = lc;
		t->masks = m;
		t->lc_cap = need;
	}
	/* at most len + 1 tokens: one per byte, and one to spare */
	if (t->cap < len + 1) {
		struct tok *v = malloc((len + 1) * sizeof(*v));

		if (!v)
			return CL_ENOMEM;
		free(t->v);
		t->v = v;
		t->cap = len + 1;
	}
	return 0;
}

int toks_fill(struct toks *t, const char *text, int lines)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len, blocks, n = 0;
	uint64_t carry = 0, high = 0;
	unsigned char tail[64];
	void (*classify)(const unsigned char *, unsigned char *, struct tmask *) = classify64;
	struct tok *v;

	t->n = 0;
	t->nlines = 0;
	t->utf8 = 1;
	t->len = 0;
	if (!text)
		return 0;
	len = strlen(text);
	if (toks_reserve(t, len))
		return CL_ENOMEM;
	blocks = (len + 63) / 64;
#ifdef HAVE_AVX2_PATH
	if (__builtin_cpu_supports("avx2"))
		classify = classify64_avx2;
#endif
	t->len = len;
	for (size_t b = 0; b < blocks; b++) {
		size_t rest = len - b * 64;

		if (rest >= 64) {
			classify(p + b * 64, t->lc + b * 64, &t->masks[b]);
		} else {
			/* the last, short block: padded with spaces, which are no tokens */
			memset(tail, ' ', sizeof(tail));
			memcpy(tail, p + b * 64, rest);
			classify(tail, t->lc + b * 64, &t->masks[b]);
		}
		high |= t->masks[b].high;
	}
	memset(t->lc + blocks * 64, 0, TOK_PAD);
	t->utf8 = !high || utf8_valid(p, len);

	v = t->v;
	for (size_t b = 0; b < blocks; b++) {
		uint64_t w = t->masks[b].word;
		/* token starts: the first byte of a word, and every other
		 * byte that is not white space */
		uint64_t ev = (w & ~((w << 1) | carry)) | ~(w | t->masks[b].space);

		carry = w >> 63;
		while (ev) {
			unsigned j = (unsigned)__builtin_ctzll(ev);
			uint64_t rest = w >> j;
			size_t start = b * 64 + j, run;

			ev &= ev - 1;
			run = rest == ~0ULL ? 64 : (size_t)__builtin_ctzll(~rest);
			if (j + run == 64) {
				/* a word that goes on into the next blocks */
				for (size_t k = b + 1; k < blocks; k++) {
					uint64_t x = t->masks[k].word;
					size_t r = x == ~0ULL ? 64 : (size_t)__builtin_ctzll(~x);

					run += r;
					if (r < 64)
						break;
				}
			}
			run += run == 0; /* punctuation: one byte */
			v[n].off = (uint32_t)start;
			v[n].len = (uint32_t)run;
			v[n].h = tok_hash(t->lc + start, run);
			n++;
		}
	}
	t->n = n;
	t->has_lines = 0;
	return lines ? fill_lines(t, blocks) : 0;
}

int toks_lines(struct toks *t)
{
	if (t->has_lines || !t->len)
		return 0;
	return fill_lines(t, (t->len + 63) / 64);
}

void toks_release(struct toks *t)
{
	free(t->lc);
	free(t->masks);
	free(t->v);
	free(t->lines);
	memset(t, 0, sizeof(*t));
}

size_t filter_tokens(const char *text, void (*fn)(const char *, size_t, void *), void *arg)
{
	struct toks t = { 0 };
	size_t n;

	if (toks_fill(&t, text, 0))
		return 0;
	for (size_t i = 0; i < t.n; i++)
		fn(text + t.v[i].off, t.v[i].len, arg);
	n = t.n;
	toks_release(&t);
	return n;
}
