/* opts.h - fakellm's --help text and option value parsers (opts.c) */
#ifndef CLARIFY_FAKELLM_OPTS_H
#define CLARIFY_FAKELLM_OPTS_H

#include <stdint.h>

#include "../../common/common.h"

extern const char fakellm_usage[];

/* "option '--NAME': ..." errors (err_set, CL_ECONFIG) for a value out of range. */
int opt_int(const char *name, const char *v, int64_t min, int64_t max, int *out);
int opt_double(const char *name, const char *v, double min, double *out);
int opt_seconds_ms(const char *name, const char *v, int *out_ms);

#endif
