/* progress.c - a progress line on a terminal, nothing elsewhere */
#include <unistd.h>

#include "common.h"

void progress_init(struct progress *p, const char *what, uint64_t total, int enabled)
{
	p->what = what;
	p->total = total;
	p->done = 0;
	p->start = time_mono();
	p->last = 0;
	p->tty = enabled && isatty(2);
}

static void progress_draw(struct progress *p, double now)
{
	double rate = p->done / (now - p->start > 1e-6 ? now - p->start : 1e-6);

	if (p->total) {
		int pct = (int)(100.0 * (double)p->done / (double)p->total);
		int bars = pct / 5;

		fprintf(stderr, "\r%s [%-20.*s] %3d%% %llu/%llu %.0f/s", p->what, bars,
			"####################", pct, (unsigned long long)p->done,
			(unsigned long long)p->total, rate);
	} else {
		fprintf(stderr, "\r%s %llu %.0f/s", p->what,
			(unsigned long long)p->done, rate);
	}
}

void progress_update(struct progress *p, uint64_t done)
{
	double now;

	p->done = done;
	if (!p->tty)
		return;
	now = time_mono();
	if (now - p->last < 0.1)
		return;
	p->last = now;
	progress_draw(p, now);
}

void progress_finish(struct progress *p)
{
	if (!p->tty)
		return;
	progress_draw(p, time_mono());
	fputc('\n', stderr);
}
