# test_stats.sh - clarify stats: the table, --json, --by, --include-rejected,
# --html (escaped, self-contained, written atomically) drawn by headless
# Chromium, and an empty store
. "$(dirname "$0")/lib.sh"

# a store whose path needs escaping in HTML, with accepted and rejected
# records: the questions' perplexity bound rejects some at stage 2
S="$T/st<&>\"x"
printf 'stats:\n  questions_ppl_max: 350\n' >"$T/bound.yaml"
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFY" -s "$S" lm train --order 3 >/dev/null 2>&1
"$CLARIFYD" -c "$T/bound.yaml" -s "$S" --once >/dev/null 2>&1
"$CLARIFY" -s "$S" status --json >"$T/status.json"
done=$(jq .jobs.done "$T/status.json")
rejected=$(jq .jobs.rejected "$T/status.json")
[ "$done" -gt 0 ] && [ "$rejected" -gt 0 ] && ok "the test store has $done accepted and $rejected rejected records" \
	|| fail "the test store has accepted and rejected records" "$(cat "$T/status.json")"

expect_status "stats --help" 0 "$CLARIFY" stats --help
contains "--help names the options" "$OUT" "--include-rejected"
expect_status "clarify help lists stats" 0 "$CLARIFY" --help
contains "in the command list" "$OUT" "stats "

# the table
expect_status "stats" 0 "$CLARIFY" -s "$S" stats
TEXT=$OUT
for g in ambiguous inconsistent incomplete overall; do
	n=$(printf '%s\n' "$TEXT" | grep -c "^$g ")
	[ "$n" -eq 4 ] && ok "the table has a row for $g in each of its 4 tables (the judge's too)" \
		|| fail "rows for $g" "$TEXT"
done
contains "the table says what the distributions cover" "$TEXT" "distributions over the accepted records"
contains "and shows rejections by rule" "$TEXT" "lm-perplexity"
# two requests a job, and a third for each record that passed stages 1 and 2
contains "and clarifyd's requests" "$TEXT" "$(jq .daemon.requests "$T/status.json") requests"
[ "$(jq .daemon.requests "$T/status.json")" -gt 72 ] && ok "stage 3 asked for the records that passed" \
	|| fail "stage 3 asked" "$(jq .daemon "$T/status.json")"
# the records table: results, accepted, rejected per category as status counts them
rows=$(printf '%s\n' "$TEXT" | awk '/^records +results/ { on = 1; next } on && NF == 0 { on = 0 } on')
good=1
for c in ambiguous inconsistent incomplete; do
	want="$(jq ".by_category.$c.done + .by_category.$c.rejected" "$T/status.json") $(jq ".by_category.$c.done" "$T/status.json") $(jq ".by_category.$c.rejected" "$T/status.json")"
	got=$(printf '%s\n' "$rows" | awk -v c="$c" '$1 == c { print $2, $3, $4 }')
	[ "$got" = "$want" ] || { good=0; fail "records of $c match status" "got '$got', status says '$want'" "$rows"; }
done
[ $good -eq 1 ] && ok "results, accepted and rejected per category match clarify status"

# --json
expect_status "stats --json" 0 "$CLARIFY" -s "$S" stats --json
printf '%s' "$OUT" >"$T/stats.json"
if jq -e . "$T/stats.json" >/dev/null 2>&1; then ok "--json parses"; else fail "--json parses" "$OUT"; fi
J() { jq -r "$1" "$T/stats.json"; }
[ "$(J .records)" -eq "$(jq .results "$T/status.json")" ] && ok "records = status results" \
	|| fail "records = status results" "$(J .records)"
[ "$(J .accepted)" -eq "$done" ] && [ "$(J .rejected)" -eq "$rejected" ] \
	&& ok "accepted + rejected = done + rejected jobs" || fail "accepted and rejected" "$(J .accepted) $(J .rejected)"
[ "$(J '[.groups[].records] | add')" -eq "$(J .overall.records)" ] \
	&& [ "$(J '[.groups[].accepted] | add')" -eq "$(J .overall.accepted)" ] \
	&& [ "$(J '[.groups[].modified.perplexity.count] | add')" -eq "$(J .overall.modified.perplexity.count)" ] \
	&& [ "$(J '[.groups[].questions.entropy.count] | add')" -eq "$(J .overall.questions.entropy.count)" ] \
	&& ok "overall counts are the sums of the categories'" || fail "overall = sum of categories" "$(J .overall)"
[ "$(J '.groups | keys | join(" ")')" = "ambiguous incomplete inconsistent" ] && [ "$(J .by)" = category ] \
	&& ok "grouped by category" || fail "grouped by category" "$(J '.groups | keys')"
[ "$(J .overall.modified.tokens.count)" -eq "$done" ] && [ "$(J .overall.questions.per_record.count)" -eq "$done" ] \
	&& ok "the distributions are over the $done accepted records" \
	|| fail "distributions over accepted records" "$(J .overall.modified.tokens.count)"
# the overall mean is the count-weighted mean of the groups' means
mean_ok=$(jq '(([.groups[].modified.perplexity | select(.count > 0) | .mean * .count] | add)
	/ .overall.modified.perplexity.count - .overall.modified.perplexity.mean) | fabs < 1e-6' "$T/stats.json")
[ "$mean_ok" = true ] && ok "the overall mean perplexity is the weighted mean of the categories'" \
	|| fail "overall mean" "$(J .overall.modified.perplexity)"
[ "$(jq '[.overall.modified.perplexity, .overall.questions.perplexity, .overall.questions.entropy]
	| all(.p5 <= .p50 and .p50 <= .p95 and .min <= .p5 and .p95 <= .max)' "$T/stats.json")" = true ] \
	&& ok "min <= p5 <= median <= p95 <= max" || fail "percentiles in order" "$(J .overall.modified.perplexity)"
[ "$(jq '[.groups[], .overall | .histograms[] | ((.modified | add) , (.questions | add))] | length > 0' "$T/stats.json")" = true ] \
	&& [ "$(jq '[.groups[], .overall | (.histograms.perplexity.modified | add) == .modified.perplexity.count
		and (.histograms.entropy.questions | add) == .questions.entropy.count] | all' "$T/stats.json")" = true ] \
	&& ok "every histogram holds every value" || fail "histogram sums" "$(J .overall.histograms)"
[ "$(jq --slurpfile st "$T/status.json" '.overall.rejected_by_rule == $st[0].rejected_by_rule' "$T/stats.json")" = true ] \
	&& ok "rejections by rule match clarify status" || fail "rejections by rule" "$(J .overall.rejected_by_rule)"
[ "$(J .daemon.requests)" -eq "$(jq .daemon.requests "$T/status.json")" ] \
	&& [ "$(J '.overall.usage.tokens == .overall.usage.tokens_in + .overall.usage.tokens_out')" = true ] \
	&& [ "$(J .overall.usage.tokens)" -gt 0 ] \
	&& ok "requests from clarifyd's progress, tokens from the results' usage" || fail "usage" "$(J .overall.usage) $(J .daemon)"

# --include-rejected: the stage-2 rejections have signals too
expect_status "stats --include-rejected --json" 0 "$CLARIFY" -s "$S" stats --include-rejected --json
[ "$(jget "$OUT" .include_rejected)" = true ] && [ "$(jget "$OUT" .overall.modified.tokens.count)" -eq $((done + rejected)) ] \
	&& [ "$(jget "$OUT" .overall.rejected)" -eq "$rejected" ] \
	&& ok "--include-rejected puts the rejected records in the distributions" \
	|| fail "--include-rejected" "$(jget "$OUT" .overall.modified.tokens)"
expect_status "stats --include-rejected" 0 "$CLARIFY" -s "$S" stats --include-rejected
contains "and the table says so" "$OUT" "distributions over the accepted and rejected records"

# --by template and --by model
expect_status "stats --by template --json" 0 "$CLARIFY" -s "$S" stats --by template --json
[ "$(jget "$OUT" '[.groups | keys[] | select(test("^modify-(ambiguous|inconsistent|incomplete)@1 \\+ clarify-\\1@1( \\+ answer-\\1@1)?$") | not)] | length')" -eq 0 ] \
	&& [ "$(jget "$OUT" '.groups | keys | length')" -ge 3 ] \
	&& [ "$(jget "$OUT" '[.groups[].records] | add')" -eq "$(J .records)" ] && [ "$(jget "$OUT" .by)" = template ] \
	&& ok "--by template: one group per chain of templates (name@version; stage 3's when it ran)" || fail "--by template" "$(jget "$OUT" '.groups | keys')"
expect_status "stats --by model" 0 "$CLARIFY" -s "$S" stats --by model
contains "--by model names the model" "$OUT" "gpt-4o-mini"
expect_status "stats --by model --json" 0 "$CLARIFY" -s "$S" stats --by model --json
[ "$(jget "$OUT" '.groups | keys | join(",")')" = gpt-4o-mini ] && [ "$(jget "$OUT" '.groups["gpt-4o-mini"].records')" -eq "$(J .records)" ] \
	&& ok "--by model: one model, every record" || fail "--by model" "$OUT"

# usage errors
expect_status "--by with a bad value: exit 2" 2 "$CLARIFY" -s "$S" stats --by colour
contains "with the value and the choices" "$OUT" "unknown grouping 'colour' for --by: use category, template or model"
expect_status "an operand: exit 2" 2 "$CLARIFY" -s "$S" stats extra
expect_status "an unknown option: exit 2" 2 "$CLARIFY" -s "$S" stats --frobnicate
expect_status "no store: exit 1" 1 "$CLARIFY" -s "$T/none" stats

# an empty store: zeros, every category, no crash
E=$T/empty
printf '' | "$CLARIFY" -s "$E" import - --split train >/dev/null 2>&1
expect_status "stats on an empty store" 0 "$CLARIFY" -s "$E" stats
contains "says 0 records" "$OUT" "records  0: 0 accepted, 0 rejected"
[ "$(printf '%s\n' "$OUT" | grep -c '^incomplete  *0 ')" -eq 3 ] && ok "and shows each category with zeros" \
	|| fail "empty store rows" "$OUT"
expect_status "stats --json on an empty store" 0 "$CLARIFY" -s "$E" stats --json
[ "$(jget "$OUT" '.records + .overall.modified.perplexity.count + ([.groups[].records] | add)')" -eq 0 ] \
	&& [ "$(jget "$OUT" '.overall.modified.perplexity.mean')" = null ] && [ "$(jget "$OUT" '.daemon')" = null ] \
	&& ok "--json: zeros, and null for what has no value" || fail "empty --json" "$OUT"
expect_status "stats --html on an empty store" 0 "$CLARIFY" -s "$E" stats --html "$T/empty.html"
contains "the empty charts say so" "$(cat "$T/empty.html")" "no records"

# a store bigger than one read transaction's chunk (8192 records): every
# record is read once, none lost or doubled at the chunk boundaries
B=$T/big
printf '' | "$CLARIFY" -s "$B" import - --split train >/dev/null 2>&1
val=$(printf '%s' '{"accepted":true,"category":"incomplete","model":"m","stats":{"modified":{"perplexity":8,"entropy":4,"tokens":100},"questions":{"perplexity":50,"entropy":3,"tokens":20},"question_count":2},"usage":{"tokens_in":3,"tokens_out":1},"verdicts":[]}' \
	| zstd -q -c | od -An -v -tx1 | tr -d ' \n')
pre=$(printf 'apps/train/' | od -An -v -tx1 | tr -d ' \n')
suf=$(printf '#incomplete' | od -An -v -tx1 | tr -d ' \n')
{
	printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n'
	awk -v pre="$pre" -v suf="$suf" -v val="$val" 'BEGIN {
		for (i = 0; i < 17000; i++) {
			d = sprintf("%05d", i); h = ""
			for (j = 1; j <= 5; j++) h = h "3" substr(d, j, 1)
			printf " %s%s%s\n %s\n", pre, h, suf, val
		}
	}'
	printf 'DATA=END\n'
} | mdb_load -s results "$B"
expect_status "stats --json on 17000 records" 0 "$CLARIFY" -s "$B" stats --json
[ "$(jget "$OUT" .records)" -eq 17000 ] && [ "$(jget "$OUT" .groups.incomplete.accepted)" -eq 17000 ] \
	&& [ "$(jget "$OUT" .overall.questions.per_record.count)" -eq 17000 ] \
	&& [ "$(jget "$OUT" .overall.modified.perplexity.mean)" = 8 ] && [ "$(jget "$OUT" .overall.usage.tokens)" -eq 68000 ] \
	&& ok "17000 records read in three transactions, each once" \
	|| fail "17000 records" "$(jget "$OUT" '.records, .overall.modified.perplexity')"

# --html: self-contained, escaped, atomic
H=$T/report.html
echo old >"$H"
expect_status "stats --html" 0 "$CLARIFY" -s "$S" stats --html "$H"
page=$(cat "$H")
contains "the page is HTML" "$page" "<!DOCTYPE html>"
contains "with @media print" "$page" "@media print"
case $page in
*"<script"* | *"<link"* | *" src="* | *"href="* | *"@import"* | *"url("*) fail "nothing external, no script" "$(grep -n -e '<script' -e '<link' -e ' src=' -e 'href=' -e 'url(' "$H" | head)" ;;
*) ok "no script, no link, no external resource" ;;
esac
contains "the store path is escaped" "$page" "st&lt;&amp;&gt;&quot;x"
case $page in
*"st<&>"*) fail "no raw store path" "$(grep -n 'st<&>' "$H" | head -3)" ;;
*) ok "the raw path does not appear" ;;
esac
[ "$(grep -c '<svg class="histogram"' "$H")" -eq 8 ] && ok "two histograms for each category and overall" \
	|| fail "8 histograms" "$(grep -c '<svg' "$H")"
[ "$(grep -o 'class="bar modified"' "$H" | wc -l)" -eq 160 ] && [ "$(grep -o 'class="bar questions"' "$H" | wc -l)" -eq 160 ] \
	&& ok "20 bins of both series per chart" || fail "bars" "$(grep -o 'class="bar [a-z]*"' "$H" | sort | uniq -c)"
ls "$T"/report.html.tmp.* >/dev/null 2>&1 && fail "no temporary file left" "$(ls "$T")" || ok "no temporary file left"
expect_status "--html into a missing folder: exit 1" 1 "$CLARIFY" -s "$S" stats --html "$T/no/such/dir/r.html"
contains "naming the file" "$OUT" "$T/no/such/dir/r.html"

# headless Chromium draws it
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	skip "Chromium renders the report" "chromium is not installed (make deps installs it)"
	exit $failed
fi
chrome() {
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$T/chrome" --disable-extensions --disable-sync \
		--disable-background-networking --disable-component-update \
		--disable-default-apps --no-default-browser-check --mute-audio \
		--host-resolver-rules='MAP * ~NOTFOUND' "$@" 2>>"$T/chrome.log"
}
# the page's own CSP forbids scripts: a copy without it, with a probe that
# asks the layout engine how tall each category's bars were drawn
sed 's/<meta http-equiv="Content-Security-Policy"[^>]*>//' "$H" >"$T/probe.html"
cat >>"$T/probe.html" <<'EOF'
<script>
var out = [];
document.querySelectorAll("section.group").forEach(function (s) {
	var name = s.querySelector("h3").textContent, drawn = 0, bars = 0;
	s.querySelectorAll("svg.histogram rect.bar").forEach(function (r) {
		bars++;
		if (r.getBoundingClientRect().height > 0) drawn++;
	});
	out.push(name + "=" + drawn + "/" + bars);
});
var p = document.createElement("pre");
p.id = "probe";
p.textContent = out.join(" ");
document.body.appendChild(p);
</script>
EOF
start=$(date +%s)
dom=$(chrome --dump-dom "file://$T/probe.html")
probe=$(printf '%s' "$dom" | sed -n 's/.*<pre id="probe">\([^<]*\)<\/pre>.*/\1/p')
good=1
for g in ambiguous inconsistent incomplete overall; do
	drawn=$(printf '%s\n' "$probe" | tr ' ' '\n' | sed -n "s/^$g=\([0-9]*\)\/80$/\1/p")
	[ -n "$drawn" ] && [ "$drawn" -gt 0 ] || { good=0; fail "Chromium draws bars for $g" "probe: '$probe'" "$(tail -5 "$T/chrome.log")"; }
done
[ $good -eq 1 ] && ok "Chromium lays out bars of non-zero height for every category ($probe)"
chrome --screenshot="$T/shot.png" --window-size=1200,2600 "file://$H" >/dev/null
size=$(stat -c %s "$T/shot.png" 2>/dev/null || echo 0)
[ "$size" -gt 40000 ] && [ "$(head -c 8 "$T/shot.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] \
	&& ok "a screenshot of the page is a PNG of $size bytes (a blank page is about 5 KB)" \
	|| fail "screenshot" "size $size" "$(tail -5 "$T/chrome.log")"
chrome --print-to-pdf="$T/page.pdf" --no-pdf-header-footer "file://$H" >/dev/null
[ "$(head -c 5 "$T/page.pdf" 2>/dev/null)" = "%PDF-" ] && ok "and it prints to PDF" || fail "print to PDF" "$(tail -5 "$T/chrome.log")"
end=$(date +%s)
ok "Chromium took $((end - start)) s"
exit $failed
