/* array.c - growable arrays of any element type, doubling (see common.h) */
#include <stdint.h>
#include <stdlib.h>

#include "common.h"

int array_grow(void **items, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t max = elem ? SIZE_MAX / elem : SIZE_MAX; /* elements that fit */
	size_t ncap;
	void *nv;

	if (n < *cap)
		return 0;
	if (n >= max)
		return CL_ENOMEM;
	if (!*cap)
		ncap = first ? first : 1;
	else
		ncap = *cap > max / 2 ? max : 2 * *cap;
	if (ncap > max)
		ncap = max;
	if (ncap <= n)
		ncap = n + 1;
	nv = realloc(*items, ncap * elem);
	if (!nv)
		return CL_ENOMEM;
	*items = nv;
	*cap = ncap;
	return 0;
}
