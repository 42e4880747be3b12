/* report_html.c - the report as one self-contained HTML page: tables and
 * inline SVG histograms, no script, no external resource */
#include <math.h>
#include <string.h>

#include "../store/store.h"
#include "report.h"

#define COLOR_MODIFIED "#3b6ea8"
#define COLOR_QUESTIONS "#e08a2c"

/* ---- escaping ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

int report_html_escape(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = 0;

	while (!rc && *p) {
		size_t n = utf8_len(p);

		switch (*p) {
		case '&':
			rc = buf_adds(out, "&amp;");
			break;
		case '<':
			rc = buf_adds(out, "&lt;");
			break;
		case '>':
			rc = buf_adds(out, "&gt;");
			break;
		case '"':
			rc = buf_adds(out, "&quot;");
			break;
		case '\'':
			rc = buf_adds(out, "&#39;");
			break;
		default:
			if (n == 0 || (*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7F) {
				rc = buf_adds(out, "\xEF\xBF\xBD");
				n = 1;
			} else {
				rc = buf_add(out, p, n);
			}
			p += n;
			continue;
		}
		p++;
	}
	return rc;
}

/* ---- histograms ----------------------------------------------------------------- */

/* SVG geometry: the plot area and the whole picture, in user units. */
enum {
	SVG_W = 520,
	SVG_H = 282,
	PLOT_X = 58,
	PLOT_Y = 46,
	PLOT_W = 446,
	PLOT_H = 170,
};

/* A step of 1, 2 or 5 times a power of ten giving about four intervals. */
static double nice_step(double range)
{
	double raw = range / 4, mag, f;

	if (raw <= 1)
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* The value at frac (0..1) along an axis from lo to hi, linear or log. */
static double axis_value(double lo, double hi, int log_scale, double frac)
{
	if (log_scale)
		return exp(log(lo) + (log(hi) - log(lo)) * frac);
	return lo + (hi - lo) * frac;
}

static int add_bar(struct buf *out, const char *title, const char *series, const char *color,
		   double from, double to, double x, double bw, json_int_t count, json_int_t top)
{
	double h = top > 0 ? (double)count / (double)top * PLOT_H : 0;
	int rc;

	if (count > 0 && h < 1)
		h = 1;
	rc = buf_addf(out, "<rect class=\"bar %s\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
		      "height=\"%.2f\" fill=\"%s\" data-count=\"%lld\"><title>",
		      series, x, (double)(PLOT_Y + PLOT_H) - h, bw, h, color, (long long)count);
	if (!rc)
		rc = report_html_escape(out, title);
	if (!rc)
		rc = buf_addf(out, ", %s, %.4g to %.4g: %lld</title></rect>\n", series, from, to,
			      (long long)count);
	return rc;
}

int report_svg_histogram(struct buf *out, const char *title, const char *xlabel,
			 const json_t *hist)
{
	const json_t *m = json_object_get(hist, "modified"), *q = json_object_get(hist, "questions");
	double lo = json_number_value(json_object_get(hist, "lo"));
	double hi = json_number_value(json_object_get(hist, "hi"));
	json_int_t above = json_integer_value(json_object_get(hist, "above"));
	const char *scale = jsonx_str(hist, "scale");
	int log_scale = scale && !strcmp(scale, "log") && lo > 0 && hi > 0;
	size_t bins = json_array_size(m), i;
	json_int_t top = 0;
	double bw, step;
	int rc;

	if (bins == 0 || json_array_size(q) != bins)
		return err_set(CL_EINVAL, "histogram '%s' has no bins or unequal series", title);
	for (i = 0; i < bins; i++) {
		json_int_t a = json_integer_value(json_array_get(m, i));
		json_int_t b = json_integer_value(json_array_get(q, i));

		if (a > top)
			top = a;
		if (b > top)
			top = b;
	}
	bw = (double)PLOT_W / (double)bins;
	rc = buf_addf(out, "<svg class=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" "
		      "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
		      "aria-label=\"", SVG_W, SVG_H, SVG_W, SVG_H);
	if (!rc)
		rc = report_html_escape(out, title);
	if (!rc)
		rc = buf_addf(out, "\">\n<text class=\"title\" x=\"%d\" y=\"16\">", PLOT_X);
	if (!rc)
		rc = report_html_escape(out, title);
	/* legend */
	if (!rc)
		rc = buf_addf(out, "</text>\n<rect x=\"%d\" y=\"23\" width=\"10\" height=\"10\" "
			      "fill=\"%s\"/><text class=\"legend\" x=\"%d\" y=\"32\">problem</text>\n"
			      "<rect x=\"%d\" y=\"23\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			      "<text class=\"legend\" x=\"%d\" y=\"32\">questions</text>\n",
			      PLOT_X, COLOR_MODIFIED, PLOT_X + 14, PLOT_X + 84, COLOR_QUESTIONS,
			      PLOT_X + 98);
	/* y axis: ticks at multiples of a nice step up to the largest count */
	step = nice_step((double)top);
	for (double t = 0; !rc && t <= (double)top + 1e-9; t += step) {
		double y = (double)(PLOT_Y + PLOT_H) - (top > 0 ? t / (double)top * PLOT_H : 0);

		rc = buf_addf(out, "<line class=\"grid\" x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\"/>"
			      "<text class=\"tick\" x=\"%d\" y=\"%.2f\" text-anchor=\"end\">%.0f</text>\n",
			      PLOT_X - 4, y, PLOT_X + PLOT_W, y, PLOT_X - 7, y + 4, t);
	}
	/* bars: per bin the problem's then the questions' */
	for (i = 0; !rc && i < bins; i++) {
		double x = PLOT_X + (double)i * bw;
		double from = axis_value(lo, hi, log_scale, (double)i / (double)bins);
		double to = axis_value(lo, hi, log_scale, (double)(i + 1) / (double)bins);

		rc = add_bar(out, title, "modified", COLOR_MODIFIED, from, to, x + bw * 0.08,
			     bw * 0.42, json_integer_value(json_array_get(m, i)), top);
		if (!rc)
			rc = add_bar(out, title, "questions", COLOR_QUESTIONS, from, to,
				     x + bw * 0.5, bw * 0.42,
				     json_integer_value(json_array_get(q, i)), top);
	}
	/* axes */
	if (!rc)
		rc = buf_addf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			      "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
			      PLOT_X, PLOT_Y + PLOT_H, PLOT_X + PLOT_W, PLOT_Y + PLOT_H, PLOT_X,
			      PLOT_Y, PLOT_X, PLOT_Y + PLOT_H);
	/* x axis: five ticks over [lo, hi] */
	for (int k = 0; !rc && k <= 4; k++) {
		double x = PLOT_X + PLOT_W * k / 4.0;

		rc = buf_addf(out, "<line class=\"axis\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>"
			      "<text class=\"tick\" x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">%.4g"
			      "</text>\n", x, PLOT_Y + PLOT_H, x, PLOT_Y + PLOT_H + 5, x,
			      PLOT_Y + PLOT_H + 18, axis_value(lo, hi, log_scale, k / 4.0));
	}
	if (!rc)
		rc = buf_addf(out, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
			      PLOT_X + PLOT_W / 2, SVG_H - 18);
	if (!rc)
		rc = report_html_escape(out, xlabel);
	if (!rc && log_scale)
		rc = buf_adds(out, ", log scale");
	if (!rc && above > 0)
		rc = buf_addf(out, " (the last bar also holds %lld above %.4g)", (long long)above,
			      hi);
	if (!rc)
		rc = buf_addf(out, "</text>\n<text class=\"label\" x=\"14\" y=\"%d\" "
			      "text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">records</text>\n",
			      PLOT_Y + PLOT_H / 2, PLOT_Y + PLOT_H / 2);
	if (!rc && top == 0)
		rc = buf_addf(out, "<text class=\"empty\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
			      "no records</text>\n", PLOT_X + PLOT_W / 2, PLOT_Y + PLOT_H / 2);
	if (!rc)
		rc = buf_adds(out, "</svg>\n");
	return rc;
}

/* ---- the page ------------------------------------------------------------------- */

static const char page_css[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
	"margin:2em auto;max-width:1120px;padding:0 1em;color:#1d2329;background:#fff;"
	"line-height:1.4}\n"
	"h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;"
	"border-bottom:1px solid #ccd;padding-bottom:.2em}h3{font-size:1.05em;margin:.8em 0 .3em}\n"
	"p.meta{color:#556;margin-top:0}code{font-family:ui-monospace,Menlo,Consolas,monospace}\n"
	"table{border-collapse:collapse;margin:.4em 0 1em;font-variant-numeric:tabular-nums}\n"
	"th,td{padding:.25em .7em;border-bottom:1px solid #e3e6ea;text-align:right}\n"
	"th:first-child,td:first-child{text-align:left}thead th{border-bottom:2px solid #99a;"
	"font-weight:600}\n"
	"tr.overall td{font-weight:600;border-top:2px solid #99a}\n"
	"table.rules tr.rule td{font-weight:600}table.rules tr.sub td:first-child{padding-left:2em}\n"
	".charts{display:flex;flex-wrap:wrap;gap:1em}.group{break-inside:avoid;"
	"page-break-inside:avoid}\n"
	"svg.histogram{max-width:100%;height:auto;font-size:11px;"
	"font-family:system-ui,Helvetica,Arial,sans-serif}\n"
	"svg .title{font-weight:600;font-size:12px}svg .axis{stroke:#333;stroke-width:1}\n"
	"svg .grid{stroke:#e3e6ea;stroke-width:1}svg .tick,svg .legend,svg .label{fill:#333}\n"
	"svg .empty{fill:#889;font-style:italic}\n"
	"@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid;"
	"page-break-after:avoid}table{break-inside:avoid;page-break-inside:avoid}"
	".charts{gap:.3em}svg.histogram{width:48%}*{-webkit-print-color-adjust:exact;"
	"print-color-adjust:exact}}\n";

static int add_text(struct buf *out, const char *before, const char *text, const char *after)
{
	int rc = buf_adds(out, before);

	if (!rc)
		rc = report_html_escape(out, text);
	if (!rc)
		rc = buf_adds(out, after);
	return rc;
}

static int add_cell_number(struct buf *out, const json_t *agg, const char *key)
{
	if (jsonx_int(agg, "count", 0) <= 0)
		return buf_adds(out, "<td>&ndash;</td>");
	return buf_addf(out, "<td>%.2f</td>", json_number_value(json_object_get(agg, key)));
}

static int field_row(struct buf *out, const char *name, const json_t *f, int per_record,
		     int overall)
{
	const json_t *ppl = json_object_get(f, "perplexity");
	const json_t *tok = json_object_get(f, "tokens");
	int rc;

	rc = add_text(out, overall ? "<tr class=\"overall\"><td>" : "<tr><td>", name, "</td>");
	if (!rc)
		rc = buf_addf(out, "<td>%lld</td>", (long long)jsonx_int(tok, "count", 0));
	if (!rc)
		rc = add_cell_number(out, ppl, "mean");
	if (!rc)
		rc = add_cell_number(out, ppl, "p50");
	if (!rc)
		rc = add_cell_number(out, ppl, "p5");
	if (!rc)
		rc = add_cell_number(out, ppl, "p95");
	if (!rc)
		rc = add_cell_number(out, json_object_get(f, "entropy"), "mean");
	if (!rc)
		rc = add_cell_number(out, tok, "mean");
	if (!rc && per_record)
		rc = add_cell_number(out, json_object_get(f, "per_record"), "mean");
	if (!rc)
		rc = buf_adds(out, "</tr>\n");
	return rc;
}

static int field_table(struct buf *out, const json_t *rep, const char *field, const char *title)
{
	const json_t *groups = json_object_get(rep, "groups"), *g;
	int per_record = !strcmp(field, "questions");
	const char *name;
	int rc;

	rc = add_text(out, "<h2>", title, "</h2>\n<table><thead><tr><th>group</th><th>count</th>"
		      "<th>perplexity mean</th><th>median</th><th>p5</th><th>p95</th>"
		      "<th>entropy mean</th><th>tokens mean</th>");
	if (!rc && per_record)
		rc = buf_adds(out, "<th>questions per record</th>");
	if (!rc)
		rc = buf_adds(out, "</tr></thead>\n<tbody>\n");
	json_object_foreach((json_t *)groups, name, g)
		if (!rc)
			rc = field_row(out, name, json_object_get(g, field), per_record, 0);
	if (!rc)
		rc = field_row(out, "overall", json_object_get(json_object_get(rep, "overall"), field),
			       per_record, 1);
	if (!rc)
		rc = buf_adds(out, "</tbody></table>\n");
	return rc;
}

static int records_row(struct buf *out, const char *name, const json_t *g, int overall)
{
	const json_t *u = json_object_get(g, "usage");
	int rc;

	rc = add_text(out, overall ? "<tr class=\"overall\"><td>" : "<tr><td>", name, "</td>");
	if (!rc)
		rc = buf_addf(out, "<td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td>"
			      "<td>%lld</td></tr>\n", (long long)jsonx_int(g, "records", 0),
			      (long long)jsonx_int(g, "accepted", 0),
			      (long long)jsonx_int(g, "rejected", 0),
			      (long long)jsonx_int(u, "tokens_in", 0),
			      (long long)jsonx_int(u, "tokens_out", 0),
			      (long long)jsonx_int(u, "cached", 0));
	return rc;
}

static int records_table(struct buf *out, const json_t *rep)
{
	const json_t *groups = json_object_get(rep, "groups"), *g;
	const char *name;
	int rc;

	rc = buf_adds(out, "<h2>Records and usage</h2>\n<table><thead><tr><th>group</th>"
		      "<th>results</th><th>accepted</th><th>rejected</th><th>tokens in</th>"
		      "<th>tokens out</th><th>cached replies</th></tr></thead>\n<tbody>\n");
	json_object_foreach((json_t *)groups, name, g)
		if (!rc)
			rc = records_row(out, name, g, 0);
	if (!rc)
		rc = records_row(out, "overall", json_object_get(rep, "overall"), 1);
	if (!rc)
		rc = buf_adds(out, "</tbody></table>\n");
	return rc;
}

/* Per rule its count, then the groups it rejected records of, indented. */
static int rules_table(struct buf *out, const json_t *rep)
{
	const json_t *groups = json_object_get(rep, "groups"), *g, *n;
	const json_t *all = json_object_get(json_object_get(rep, "overall"), "rejected_by_rule");
	const char *name, *rule;
	int rc;

	if (!json_object_size(all))
		return buf_adds(out, "<h2>Rejections by rule</h2>\n<p>No record was rejected.</p>\n");
	rc = buf_adds(out, "<h2>Rejections by rule</h2>\n<table class=\"rules\"><thead><tr>"
		      "<th>rule, then by group</th><th>records</th></tr></thead>\n<tbody>\n");
	json_object_foreach((json_t *)all, rule, n) {
		if (!rc)
			rc = add_text(out, "<tr class=\"rule\"><td>", rule, "</td>");
		if (!rc)
			rc = buf_addf(out, "<td>%lld</td></tr>\n", (long long)json_integer_value(n));
		json_object_foreach((json_t *)groups, name, g) {
			json_int_t k = jsonx_int(json_object_get(g, "rejected_by_rule"), rule, 0);

			if (!rc && k)
				rc = add_text(out, "<tr class=\"sub\"><td>", name, "</td>");
			if (!rc && k)
				rc = buf_addf(out, "<td>%lld</td></tr>\n", (long long)k);
		}
	}
	if (!rc)
		rc = buf_adds(out, "</tbody></table>\n");
	return rc;
}

static int daemon_part(struct buf *out, const json_t *prog)
{
	char line[256];

	if (!json_is_object(prog))
		return buf_adds(out, "<h2>clarifyd</h2>\n<p>No run of clarifyd is recorded in "
			       "this store.</p>\n");
	/* numbers and fixed words only: nothing to escape */
	store_progress_line(prog, line, sizeof(line));
	return buf_addf(out, "<h2>clarifyd</h2>\n<p>The last run: %s; "
			"%lld accepted, %lld rejected, %lld failed.</p>\n", line,
			(long long)jsonx_int(prog, "accepted", 0),
			(long long)jsonx_int(prog, "rejected", 0),
			(long long)jsonx_int(prog, "failed", 0));
}

/* ---- the judge's rates ---------------------------------------------------------- */

static const struct {
	const char *key, *label, *color;
} judge_rates[] = {
	{ "recovered_rate", "recovered", "#3a8a4f" },
	{ "off_target_rate", "off-target", "#c0392b" },
	{ "self_announced_rate", "self-announced", "#e08a2c" },
	{ "mentions_original_rate", "mentions original", "#7d4ea8" },
};

enum { JUDGE_LABEL_W = 150, JUDGE_BAR_W = 330, JUDGE_BAR_H = 11, JUDGE_ROW_H = 62 };

static int judge_row(struct buf *out, const char *name, const json_t *g, int y)
{
	const json_t *j = json_object_get(g, "judge");
	int rc = buf_addf(out, "<text class=\"legend\" x=\"0\" y=\"%d\">", y + 12);

	if (!rc)
		rc = report_html_escape(out, name);
	if (!rc)
		rc = buf_addf(out, " (%lld judged)</text>\n", (long long)jsonx_int(j, "judged", 0));
	for (size_t i = 0; !rc && i < CL_ARRAY_SIZE(judge_rates); i++) {
		const json_t *v = json_object_get(j, judge_rates[i].key);
		double r = json_is_number(v) ? json_number_value(v) : 0;
		int by = y + 16 + (int)i * (JUDGE_BAR_H + 1);

		rc = buf_addf(out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s"
			      "</text><rect class=\"bar judge\" x=\"%d\" y=\"%d\" width=\"%.2f\" "
			      "height=\"%d\" fill=\"%s\" data-rate=\"%.4f\"><title>",
			      JUDGE_LABEL_W - 6, by + 9, judge_rates[i].label, JUDGE_LABEL_W, by,
			      r * JUDGE_BAR_W, JUDGE_BAR_H, judge_rates[i].color, r);
		if (!rc)
			rc = report_html_escape(out, name);
		if (!rc)
			rc = buf_addf(out, ", %s: %.1f%%</title></rect><text class=\"tick\" x=\"%.2f\" "
				      "y=\"%d\">%s%.1f%%</text>\n", judge_rates[i].label, 100 * r,
				      JUDGE_LABEL_W + r * JUDGE_BAR_W + 4, by + 9,
				      json_is_number(v) ? "" : "no verdict, ", 100 * r);
	}
	return rc;
}

/* Stage 3's verdicts per group: a bar per rate, of the records it judged. */
static int judge_chart(struct buf *out, const json_t *rep)
{
	const json_t *groups = json_object_get(rep, "groups"), *g;
	const json_t *overall = json_object_get(rep, "overall");
	size_t rows = json_object_size(groups) + 1;
	const char *name;
	int h = (int)rows * JUDGE_ROW_H, y = 0, rc;

	if (!jsonx_int(json_object_get(overall, "judge"), "judged", 0))
		return 0;
	rc = buf_addf(out, "<h2>The judge (stage 3)</h2>\n<p>Per group, the share of the records "
		      "stage 3 judged whose answers recover the original task, whose questions "
		      "miss the change (off-target), whose rewrite announces its own gap, and "
		      "that mention the original.</p>\n<svg class=\"judge\" "
		      "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		      "height=\"%d\" role=\"img\" aria-label=\"the judge's rates per group\">\n",
		      JUDGE_LABEL_W + JUDGE_BAR_W + 60, h, JUDGE_LABEL_W + JUDGE_BAR_W + 60, h);
	json_object_foreach((json_t *)groups, name, g) {
		if (!rc)
			rc = judge_row(out, name, g, y);
		y += JUDGE_ROW_H;
	}
	if (!rc)
		rc = judge_row(out, "overall", overall, y);
	if (!rc)
		rc = buf_adds(out, "</svg>\n");
	return rc;
}

static int group_charts(struct buf *out, const char *name, const json_t *g)
{
	const json_t *h = json_object_get(g, "histograms");
	char title[REPORT_NAME_MAX + 32];
	int rc;

	rc = add_text(out, "<section class=\"group\">\n<h3>", name, "</h3>\n<div class=\"charts\">\n");
	snprintf(title, sizeof(title), "%s: perplexity", name);
	if (!rc)
		rc = report_svg_histogram(out, title, "perplexity",
					  json_object_get(h, "perplexity"));
	snprintf(title, sizeof(title), "%s: entropy", name);
	if (!rc)
		rc = report_svg_histogram(out, title, "entropy (nats)",
					  json_object_get(h, "entropy"));
	if (!rc)
		rc = buf_adds(out, "</div>\n</section>\n");
	return rc;
}

int report_html(struct buf *out, const json_t *rep)
{
	const json_t *groups = json_object_get(rep, "groups"), *g;
	const char *store = jsonx_str(rep, "store");
	const char *by = jsonx_str(rep, "by");
	const char *name;
	int rc;

	rc = buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		      "style-src 'unsafe-inline'\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
	if (!rc)
		rc = add_text(out, "<title>clarify stats: ", store ? store : "store", "</title>\n");
	if (!rc)
		rc = buf_addf(out, "<style>\n%s</style>\n</head>\n<body>\n<h1>clarify stats</h1>\n",
			      page_css);
	if (!rc)
		rc = add_text(out, "<p class=\"meta\">store <code>", store ? store : "?", "</code>");
	if (!rc)
		rc = buf_addf(out, " &middot; %lld records: %lld accepted, %lld rejected",
			      (long long)jsonx_int(rep, "records", 0),
			      (long long)jsonx_int(rep, "accepted", 0),
			      (long long)jsonx_int(rep, "rejected", 0));
	if (!rc && jsonx_int(rep, "unreadable", 0))
		rc = buf_addf(out, ", %lld unreadable", (long long)jsonx_int(rep, "unreadable", 0));
	if (!rc)
		rc = add_text(out, " &middot; grouped by ", by ? by : "?", "");
	if (!rc)
		rc = buf_addf(out, " &middot; distributions over the %s records</p>\n",
			      json_is_true(json_object_get(rep, "include_rejected"))
				      ? "accepted and rejected" : "accepted");
	if (!rc)
		rc = field_table(out, rep, "modified", "Modified problems");
	if (!rc)
		rc = field_table(out, rep, "questions", "Clarifying questions");
	if (!rc)
		rc = records_table(out, rep);
	if (!rc)
		rc = rules_table(out, rep);
	if (!rc)
		rc = judge_chart(out, rep);
	if (!rc)
		rc = daemon_part(out, json_object_get(rep, "daemon"));
	if (!rc)
		rc = buf_adds(out, "<h2>Histograms</h2>\n<p>Per group, the modified problem "
			      "(blue) and its questions (orange) over the same bins; perplexity "
			      "under the store's n-gram model, entropy of the token unigrams in "
			      "nats.</p>\n");
	json_object_foreach((json_t *)groups, name, g)
		if (!rc)
			rc = group_charts(out, name, g);
	if (!rc)
		rc = group_charts(out, "overall", json_object_get(rep, "overall"));
	if (!rc)
		rc = buf_adds(out, "</body>\n</html>\n");
	return rc;
}
