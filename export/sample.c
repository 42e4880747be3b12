/*
 * sample.c - the seeded selection of the mix: targets for the ratio r, and
 * a pick that hits them exactly.
 */

#include "export_int.h"

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
