/* opts.c - fakellm's --help text and its option value parsers */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

const char fakellm_usage[] =
	"usage: fakellm [--port N] [--port-file FILE] [--log FILE]\n"
	"               [--latency fixed:MS | uniform:MIN_MS:MAX_MS | lognormal:MU:SIGMA]\n"
	"               [--fault KIND:RATE[,KIND:RATE...]] [--seed N]\n"
	"               [--key KEY | --key-env VAR]\n"
	"               [--retry-after SECONDS] [--threads N] [--max-connections N]\n"
	"               [--batch-seconds S] [--batch-fault KIND[,KIND...]]\n"
	"\n"
	"A fake OpenAI / Gemini server on 127.0.0.1 for tests and benchmarks.\n"
	"  --port N             port to listen on (default 0: pick a free one)\n"
	"  --port-file FILE     write the port to FILE once listening\n"
	"  --log FILE           one JSON line per request (truncated at start)\n"
	"  --latency SPEC       delay before each API answer, in milliseconds;\n"
	"                       lognormal: exp(N(MU, SIGMA)) ms\n"
	"  --fault SPEC         inject faults at rates, e.g. 429:0.2,500:0.1,hang:0.05\n"
	"  --seed N             seed of the fault and latency draws (default 0)\n"
	"  --key KEY            require this API key\n"
	"  --key-env VAR        require the API key in environment variable VAR\n"
	"  --retry-after S      seconds advertised by 429 faults (default 1; 0.25: 250 ms)\n"
	"  --threads N          0: a thread per connection (default); N: a pool of N\n"
	"                       threads (latency, hang and slow then block a thread)\n"
	"  --max-connections N  connection limit (default 4096)\n"
	"  --batch-seconds S    a batch (/v1/files, /v1/batches) completes S s after it\n"
	"                       is created (default 1)\n"
	"  --batch-fault KINDS  stuck expire errors upload500 dupid (see README.md)\n"
	"  --batch-hold FILE    a batch created while FILE exists stays in_progress\n"
	"                       until FILE is removed\n"
	"\n"
	"fault kinds: 429 429date 500 503 408 400 404 422 401 hang slow truncated\n"
	"             badjson empty length oversized blocked safety\n";

int opt_int(const char *name, const char *v, int64_t min, int64_t max, int *out)
{
	int64_t n;

	if (parse_i64(v, min, max, &n) != 0)
		return err_set(CL_ECONFIG, "option '--%s': '%s' is not an integer in [%" PRId64
			       ", %" PRId64 "]", name, v, min, max);
	*out = (int)n;
	return 0;
}

int opt_double(const char *name, const char *v, double min, double *out)
{
	if (parse_double(v, out) != 0 || *out < min)
		return err_set(CL_ECONFIG, "option '--%s': '%s' is not a number >= %g", name,
			       v, min);
	return 0;
}

/* Seconds in [0, 86400] with at most millisecond precision ("1", "0.25"). */
int opt_seconds_ms(const char *name, const char *v, int *out_ms)
{
	double d;

	if (parse_double(v, &d) != 0 || d < 0 || d > 86400)
		return err_set(CL_ECONFIG, "option '--%s': '%s' is not a number of seconds in "
			       "[0, 86400]", name, v);
	*out_ms = (int)(d * 1000 + 0.5);
	return 0;
}

/* fixed:MS | uniform:MIN:MAX | lognormal:MU:SIGMA */
