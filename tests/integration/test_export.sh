# test_export.sh - clarify export: the ratio exact in both sampling modes,
# the same seed the same bytes, valid JSONL, the manifest's hash, .zst, the
# chat shape, the filters, the test split, clean failures, several stores,
# and a 100,000-record store in constant memory
. "$(dirname "$0")/lib.sh"

S=$T/store
O=$T/out
mkdir -p "$O"
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFY" -s "$S" lm train --order 3 >/dev/null 2>&1
"$CLARIFYD" -s "$S" --once >/dev/null 2>&1
accepted=$("$CLARIFY" -s "$S" status --json | jq .jobs.done)
[ "$accepted" -ge 6 ] && ok "the offline run accepted $accepted records" \
	|| fail "the offline run accepted records" "$accepted"

expect_status "export --help" 0 "$CLARIFY" export --help
contains "shows its usage" "$OUT" "usage: clarify export"
expect_status "clarify --help lists export" 0 "$CLARIFY" --help
contains "in the commands" "$OUT" "export"

# every clarify record without --ratio, each line valid JSON with the three keys
expect_status "export (paper) to a file" 0 "$CLARIFY" -s "$S" export -o "$O/all.jsonl"
n=$(wc -l <"$O/all.jsonl")
[ "$n" -eq "$accepted" ] && ok "every accepted record, no original ($n)" || fail "every accepted record" "$n of $accepted"
bad=0
while IFS= read -r line; do
	printf '%s\n' "$line" | jq -e 'has("problem") and has("answer") and has("type") and (keys | length == 3)' \
		>/dev/null 2>&1 || bad=$((bad + 1))
done <"$O/all.jsonl"
[ "$bad" -eq 0 ] && ok "each line parses as {problem, answer, type}" || fail "lines parse" "$bad bad lines"
[ "$(jq -c . "$O/all.jsonl" | wc -l)" -eq "$n" ] && ok "jq reads back the same number of rows" \
	|| fail "jq reads back the rows"
[ "$(jq -r .type "$O/all.jsonl" | sort -u | tr '\n' ' ')" = "Ambiguous Incomplete Inconsistent " ] \
	&& ok "types are Ambiguous, Inconsistent, Incomplete" || fail "types" "$(jq -r .type "$O/all.jsonl" | sort -u)"
expect_status "export to standard output" 0 "$CLARIFY" -s "$S" export
"$CLARIFY" -s "$S" export >"$O/stdout.jsonl" 2>/dev/null
cmp -s "$O/stdout.jsonl" "$O/all.jsonl" && ok "standard output has the same bytes as the file" \
	|| fail "stdout and file agree"

# starter code appended to the problem of the problems that have one
if grep -q 'class Solution' "$O/all.jsonl"; then ok "starter code is appended to its problems"; \
	else fail "starter code is appended"; fi

# the manifest: counts, hash of the file, fingerprints
M=$O/all.jsonl.manifest.json
[ -f "$M" ] && ok "the manifest is written beside the file" || fail "the manifest exists"
[ "$(jq -r .sha256 "$M")" = "$(sha256sum "$O/all.jsonl" | cut -d' ' -f1)" ] \
	&& ok "the manifest's sha256 is the file's" || fail "manifest sha256" "$(jq -r .sha256 "$M")"
[ "$(jq -r .records "$M")" -eq "$n" ] && [ "$(jq -r .bytes "$M")" -eq "$(wc -c <"$O/all.jsonl")" ] \
	&& ok "and its records and bytes" || fail "manifest records and bytes" "$(cat "$M")"
[ "$(jq '.counts.Ambiguous + .counts.Inconsistent + .counts.Incomplete' "$M")" -eq "$n" ] \
	&& [ "$(jq .counts.Original "$M")" -eq 0 ] && ok "counts per type add up" || fail "counts per type" "$(jq .counts "$M")"
[ "$(jq -r '.config_fingerprint | length' "$M")" -eq 64 ] && [ "$(jq '.templates | length' "$M")" -eq 9 ] \
	&& [ "$(jq -r '.templates[0].hash | length' "$M")" -eq 64 ] && [ "$(jq -r '.models[0].provider' "$M")" = offline ] \
	&& ok "config fingerprint, nine templates (three stages) with their hashes, the model" || fail "fingerprints" "$(cat "$M")"
[ "$(jq -r '.stores[0].path' "$M")" = "$S" ] && [ "$(jq -r .format "$M")" = paper ] \
	&& [ "$(jq -r .created "$M" | grep -c '^20[0-9][0-9]-')" -eq 1 ] \
	&& ok "store path, format and creation time" || fail "manifest store, format, time" "$(cat "$M")"
expect_status "--json prints the manifest" 0 "$CLARIFY" -s "$S" export -o "$O/j.jsonl" --json
[ "$(jget "$OUT" .sha256)" = "$(sha256sum "$O/j.jsonl" | cut -d' ' -f1)" ] && ok "with the file's hash" \
	|| fail "--json manifest" "$OUT"

# the ratio, exact to one record, in both sampling modes
for r in 0.2 0.5 1.0; do
	for mode in down over; do
		f=$O/r$r-$mode.jsonl
		if ! out=$("$CLARIFY" -s "$S" export -o "$f" --ratio $r --sampling $mode --seed 3 2>&1); then
			fail "ratio $r $mode exports" "$out"
			continue
		fi
		c=$(jq -r 'select(.type != "Original") | .type' "$f" | wc -l)
		g=$(jq -r 'select(.type == "Original") | .type' "$f" | wc -l)
		want=$(jq -n --argjson c "$c" --argjson g "$g" --argjson r $r \
			'(($c - $r * ($c + $g)) | fabs) <= 1')
		[ "$want" = true ] && [ $((c + g)) -gt 0 ] && ok "ratio $r $mode: $c clarify, $g originals" \
			|| fail "ratio $r $mode" "$c clarify, $g originals"
		[ "$(jq .records "$f.manifest.json")" -eq $((c + g)) ] \
			&& [ "$(jq .counts.Original "$f.manifest.json")" -eq "$g" ] \
			&& ok "ratio $r $mode: the manifest agrees" || fail "ratio $r $mode manifest" "$(cat "$f.manifest.json")"
		if [ "$mode" = down ]; then
			[ "$c" -le "$accepted" ] && [ "$g" -le 12 ] && { [ "$c" -eq "$accepted" ] || [ "$g" -eq 12 ] || [ $r = 1.0 ]; } \
				&& ok "ratio $r down: one side whole, none repeated" || fail "ratio $r down sides" "$c $g"
			[ "$(sort "$f" | uniq -d | wc -l)" -eq 0 ] && ok "ratio $r down: no line twice" \
				|| fail "ratio $r down repeats a line"
		else
			[ "$c" -ge "$accepted" ] && { [ "$g" -ge 12 ] || [ $r = 1.0 ]; } \
				&& ok "ratio $r over: nothing left out" || fail "ratio $r over sides" "$c $g"
		fi
	done
done
[ "$(jq -r 'select(.type == "Original") | .answer' "$O/r0.5-down.jsonl" | grep -c 'input\|print\|return')" -ge 1 ] \
	&& ok "originals pair the problem with a human solution" || fail "originals carry solutions"
# at 0.5 over, 12 originals oversampled: every one present, some twice
[ "$(jq -c 'select(.type == "Original") | .problem' "$O/r0.5-over.jsonl" | sort -u | wc -l)" -eq 12 ] \
	&& ok "oversampling keeps every original" || fail "oversampling keeps every original"

# determinism
"$CLARIFY" -s "$S" export -o "$O/s1.jsonl" --ratio 0.5 --seed 11 >/dev/null 2>&1
"$CLARIFY" -s "$S" export -o "$O/s1b.jsonl" --ratio 0.5 --seed 11 >/dev/null 2>&1
"$CLARIFY" -s "$S" export -o "$O/s2.jsonl" --ratio 0.5 --seed 12 >/dev/null 2>&1
"$CLARIFY" -s "$S" export -o "$O/s3.jsonl" --ratio 0.5 --seed 13 >/dev/null 2>&1
cmp -s "$O/s1.jsonl" "$O/s1b.jsonl" && ok "the same seed gives the same bytes" || fail "same seed, same bytes"
if cmp -s "$O/s1.jsonl" "$O/s2.jsonl" && cmp -s "$O/s1.jsonl" "$O/s3.jsonl"; then
	fail "another seed gives another selection"
else
	ok "another seed gives another selection"
fi
"$CLARIFY" -s "$S" export -o "$O/o1.jsonl" --ratio 0.3 --sampling over --seed 5 >/dev/null 2>&1
"$CLARIFY" -s "$S" export -o "$O/o2.jsonl" --ratio 0.3 --sampling over --seed 5 >/dev/null 2>&1
cmp -s "$O/o1.jsonl" "$O/o2.jsonl" && ok "oversampling is deterministic too" || fail "oversampling deterministic"

# .zst: the same JSONL, compressed; the manifest hashes the compressed bytes
expect_status "export to .zst" 0 "$CLARIFY" -s "$S" export -o "$O/z.jsonl.zst" --ratio 0.5 --seed 11
zstd -q -dc "$O/z.jsonl.zst" | cmp -s - "$O/s1.jsonl" && ok "zstd -dc gives the uncompressed export's bytes" \
	|| fail ".zst decompresses to the same bytes"
[ "$(jq -r .sha256 "$O/z.jsonl.zst.manifest.json")" = "$(sha256sum "$O/z.jsonl.zst" | cut -d' ' -f1)" ] \
	&& [ "$(jq -r .compressed "$O/z.jsonl.zst.manifest.json")" = true ] \
	&& ok "the manifest hashes the .zst file" || fail ".zst manifest hash"

# chat
expect_status "--format chat" 0 "$CLARIFY" -s "$S" export --format chat --ratio 0.5 -o "$O/chat.jsonl"
shape=$(jq -c '[(.messages | map(.role)), (.category | type), (.id | type), (keys)]' "$O/chat.jsonl" | sort -u)
[ "$shape" = '[["system","user","assistant"],"string","string",["category","id","messages"]]' ] \
	&& ok "chat rows: system, user, assistant; category and id" || fail "chat shape" "$shape"
[ "$(jq -r .category "$O/chat.jsonl" | sort -u | tr '\n' ' ')" = "ambiguous incomplete inconsistent original " ] \
	&& ok "chat categories, originals as 'original'" || fail "chat categories" "$(jq -r .category "$O/chat.jsonl" | sort -u)"
[ "$(jq -r 'select(.category == "original") | .id' "$O/chat.jsonl" | grep -vc '#')" -ge 1 ] \
	&& [ "$(jq -r 'select(.category != "original") | .id' "$O/chat.jsonl" | grep -c '#')" -ge 1 ] \
	&& ok "ids: the problem key for originals, the job key for the others" || fail "chat ids"

# filters
expect_status "--category incomplete" 0 "$CLARIFY" -s "$S" export --category incomplete -o "$O/inc.jsonl"
[ "$(jq -r .type "$O/inc.jsonl" | sort -u)" = Incomplete ] && ok "only Incomplete rows" || fail "--category"
[ "$(jq .skipped.category "$O/inc.jsonl.manifest.json")" -eq "$(( accepted - $(wc -l <"$O/inc.jsonl") ))" ] \
	&& ok "the others counted as skipped by category" || fail "skipped by category" "$(cat "$O/inc.jsonl.manifest.json")"
expect_status "two categories" 0 "$CLARIFY" -s "$S" export --category ambiguous --category inconsistent -o "$O/two.jsonl"
[ "$(jq -r .type "$O/two.jsonl" | sort -u | tr '\n' ' ')" = "Ambiguous Inconsistent " ] && ok "both, and only them" \
	|| fail "two categories"
med=$("$CLARIFY" -s "$S" show 'apps/train/0042#incomplete' --json | jq '.results.incomplete.stats.modified.perplexity')
expect_status "--max-perplexity" 0 "$CLARIFY" -s "$S" export --max-perplexity "$med" -o "$O/ppl.jsonl"
k=$(wc -l <"$O/ppl.jsonl")
sb=$(jq .skipped.stat_bounds "$O/ppl.jsonl.manifest.json")
[ "$k" -ge 1 ] && [ "$k" -lt "$accepted" ] && [ $((k + sb)) -eq "$accepted" ] \
	&& ok "perplexity bound keeps $k, skips $sb" || fail "--max-perplexity" "kept $k skipped $sb"
expect_status "--min-tokens above every record" 0 "$CLARIFY" -s "$S" export --min-tokens 1000000 -o "$O/none.jsonl"
[ ! -s "$O/none.jsonl" ] && [ "$(jq .skipped.stat_bounds "$O/none.jsonl.manifest.json")" -eq "$accepted" ] \
	&& ok "an empty export, every record counted out" || fail "--min-tokens"

# rejected records: left out unless asked for
Q=$T/rejecting
mkdir -p "$T/rules"
printf 'rules:\n  - id: everything\n    description: d\n    applies_to: [modified]\n    pattern: "."\n    action: reject\n' >"$T/rules/all.yaml"
printf 'filters:\n  dir: %s\n' "$T/rules" >"$T/rejectall.yaml"
"$CLARIFY" -s "$Q" import "$TESTDATA/apps" --limit 2 >/dev/null 2>&1
"$CLARIFYD" -c "$T/rejectall.yaml" -s "$Q" --once >/dev/null 2>&1
expect_status "export of a store where all is rejected" 0 "$CLARIFY" -s "$Q" export -o "$O/rej.jsonl"
[ ! -s "$O/rej.jsonl" ] && [ "$(jq .skipped.rejected "$O/rej.jsonl.manifest.json")" -eq 6 ] \
	&& ok "nothing exported, 6 counted as rejected" || fail "rejected left out" "$(cat "$O/rej.jsonl.manifest.json")"
expect_status "--include-rejected" 0 "$CLARIFY" -s "$Q" export --include-rejected -o "$O/rej2.jsonl"
[ "$(jq .skipped.incomplete "$O/rej2.jsonl.manifest.json")" -eq 6 ] \
	&& ok "rejected at stage 1, they have no questions: counted as incomplete" \
	|| fail "--include-rejected" "$(cat "$O/rej2.jsonl.manifest.json")"
expect_status "--ratio with nothing to mix fails" 1 "$CLARIFY" -s "$Q" export --ratio 0.5 -o "$O/mix0.jsonl"
contains "and says why" "$OUT" "nothing to mix"
[ ! -e "$O/mix0.jsonl" ] && [ ! -e "$O/mix0.jsonl.manifest.json" ] && ok "leaving no file" || fail "no file after failure"

# the test split: by problem, disjoint, complete
expect_status "--test-fraction 0.3" 0 "$CLARIFY" -s "$S" export --format chat --test-fraction 0.3 -o "$O/split.jsonl"
[ -f "$O/split.test.jsonl" ] && ok "the test file is split.test.jsonl" || fail "test file name" "$(ls "$O")"
jq -r '.id | sub("#.*"; "")' "$O/split.jsonl" | sort -u >"$T/train.ids"
jq -r '.id | sub("#.*"; "")' "$O/split.test.jsonl" | sort -u >"$T/test.ids"
[ -s "$T/train.ids" ] && [ -s "$T/test.ids" ] && [ -z "$(comm -12 "$T/train.ids" "$T/test.ids")" ] \
	&& ok "no problem on both sides ($(wc -l <"$T/test.ids") in test)" || fail "split disjoint by problem"
[ $(( $(wc -l <"$O/split.jsonl") + $(wc -l <"$O/split.test.jsonl") )) -eq "$accepted" ] \
	&& ok "the two files hold every record" || fail "split complete"
[ "$(jq -r .test.sha256 "$O/split.jsonl.manifest.json")" = "$(sha256sum "$O/split.test.jsonl" | cut -d' ' -f1)" ] \
	&& ok "the manifest describes the test file too" || fail "test file in the manifest"
"$CLARIFY" -s "$S" export --format chat --test-fraction 0.3 --seed 99 -o "$O/split2.jsonl" >/dev/null 2>&1
jq -r '.id | sub("#.*"; "")' "$O/split2.test.jsonl" | sort -u | cmp -s - "$T/test.ids" \
	&& ok "the split does not depend on the seed" || fail "split independent of seed"
expect_status "--test-fraction with a ratio" 0 "$CLARIFY" -s "$S" export --test-fraction 0.3 --ratio 0.5 -o "$O/sr.jsonl"
ok_split=true
for f in "$O/sr.jsonl" "$O/sr.test.jsonl"; do
	c=$(jq -r 'select(.type != "Original") | .type' "$f" | wc -l)
	g=$(jq -r 'select(.type == "Original") | .type' "$f" | wc -l)
	[ "$(jq -n --argjson c "$c" --argjson g "$g" '(($c - 0.5 * ($c + $g)) | fabs) <= 1')" = true ] || ok_split=false
done
[ $ok_split = true ] && ok "each side of the split holds the ratio" || fail "ratio on both sides"

# errors: usage (2), failures (1), never a partial file
expect_status "--ratio 0 is refused" 2 "$CLARIFY" -s "$S" export --ratio 0
contains "saying why" "$OUT" "--ratio must be a number in (0, 1]"
expect_status "--ratio 1.5 is refused" 2 "$CLARIFY" -s "$S" export --ratio 1.5
expect_status "--ratio abc is refused" 2 "$CLARIFY" -s "$S" export --ratio abc
expect_status "an unknown format is refused" 2 "$CLARIFY" -s "$S" export --format csv
contains "naming it" "$OUT" "unknown format 'csv'"
expect_status "an unknown sampling is refused" 2 "$CLARIFY" -s "$S" export --sampling up
expect_status "an unknown category is refused" 2 "$CLARIFY" -s "$S" export --category vague
expect_status "--test-fraction 1 is refused" 2 "$CLARIFY" -s "$S" export --test-fraction 1 -o "$O/x.jsonl"
expect_status "--test-fraction needs a file" 2 "$CLARIFY" -s "$S" export --test-fraction 0.2
expect_status "--json needs a file" 2 "$CLARIFY" -s "$S" export --json
expect_status "a missing output folder fails" 1 "$CLARIFY" -s "$S" export -o "$T/no/such/dir/x.jsonl"
contains "naming the folder" "$OUT" "'$T/no/such/dir'"
touch "$T/afile"
expect_status "an output folder that is a file fails" 1 "$CLARIFY" -s "$S" export -o "$T/afile/x.jsonl"
mkdir -p "$O/ro"
if [ "$(id -u)" -ne 0 ]; then
	chmod 555 "$O/ro"
	expect_status "an unwritable output folder fails" 1 "$CLARIFY" -s "$S" export -o "$O/ro/x.jsonl"
	contains "with the reason" "$OUT" "Permission denied"
	chmod 755 "$O/ro"
else
	skip "an unwritable output folder fails" "root writes anywhere"
fi
mkdir -p "$O/isdir.jsonl"
before=$(ls -A "$O" | wc -l)
expect_status "an output that is a folder fails after writing" 1 "$CLARIFY" -s "$S" export -o "$O/isdir.jsonl"
contains "at the rename" "$OUT" "cannot rename"
[ "$(ls -A "$O" | wc -l)" -eq "$before" ] && [ -z "$(ls -A "$O" | grep '^\.')" ] \
	&& ok "no temporary or partial file is left" || fail "files left behind" "$(ls -A "$O")"
expect_status "a missing store fails" 1 "$CLARIFY" -s "$T/nostore" export -o "$O/y.jsonl"
[ ! -e "$O/y.jsonl" ] && ok "without creating the output" || fail "output created for a missing store"

# several stores: shards holding the same problems give each record once
S2=$T/store2
"$CLARIFY" -s "$S2" import "$TESTDATA/apps" --limit 4 >/dev/null 2>&1
"$CLARIFYD" -s "$S2" --once >/dev/null 2>&1
expect_status "--store twice" 0 "$CLARIFY" export --store "$S" --store "$S2" --ratio 0.5 -o "$O/multi.jsonl"
MM=$O/multi.jsonl.manifest.json
[ "$(jq '.stores | length' "$MM")" -eq 2 ] && [ "$(jq .skipped.duplicate "$MM")" -eq 12 ] \
	&& [ "$(jq .available.original "$MM")" -eq 12 ] && [ "$(jq .available.clarify "$MM")" -eq "$accepted" ] \
	&& ok "two stores: each problem and job once, 12 duplicates counted" || fail "several stores" "$(cat "$MM")"

# interrupted: no file left (SIGTERM before the end of a large export is in the 100k test)

# 100,000 records in constant memory (the release build: sanitizers multiply memory)
BENCH_EXPORT=$(dirname "$CLARIFY")/bench/export
case $CLARIFY in
*/asan/* | */tsan/*) skip "100,000 records under 64 MB" "measured on the release build" ;;
*)
	if [ ! -x "$BENCH_EXPORT" ]; then
		skip "100,000 records under 64 MB" "no $BENCH_EXPORT (make test-bins)"
	elif [ ! -x /usr/bin/time ]; then
		skip "100,000 records under 64 MB" "/usr/bin/time is missing (package time)"
	else
		B=$T/big
		if out=$("$BENCH_EXPORT" --create "$B" 100000 --pool 2>&1); then
			ok "a 100,000-record store ($out)"
		else
			fail "a 100,000-record store" "$out"
		fi
		for args in "-o $O/big.jsonl.zst" "-o $O/big.jsonl --ratio 0.5 --sampling over"; do
			# shellcheck disable=SC2086
			if /usr/bin/time -f %M -o "$T/rss" "$CLARIFY" -s "$B" export $args >/dev/null 2>"$T/err"; then
				rss=$(tail -1 "$T/rss")
				[ "$rss" -lt 65536 ] && ok "export $args: peak RSS $((rss / 1024)) MB (< 64)" \
					|| fail "export $args under 64 MB" "peak RSS $rss KB"
			else
				fail "export $args" "$(cat "$T/err")"
			fi
		done
		[ "$(jq .records "$O/big.jsonl.zst.manifest.json")" -ge 90000 ] \
			&& [ "$(jq '.skipped.rejected + .records' "$O/big.jsonl.zst.manifest.json")" -eq 100000 ] \
			&& ok "every record written or counted as rejected" || fail "100k counts" "$(cat "$O/big.jsonl.zst.manifest.json")"
		# SIGTERM in the middle: clean exit 1, nothing left
		rm -f "$O/int.jsonl"
		"$CLARIFY" -s "$B" export -o "$O/int.jsonl" --ratio 0.5 >/dev/null 2>"$T/err" &
		pid=$!
		sleep 0.3
		kill -TERM $pid 2>/dev/null
		wait $pid
		st=$?
		if [ $st -eq 0 ]; then
			skip "SIGTERM mid-export" "the export ended first"
		else
			[ $st -eq 1 ] && [ ! -e "$O/int.jsonl" ] && [ -z "$(ls -A "$O" | grep '^\.int')" ] \
				&& ok "SIGTERM mid-export: exit 1, no file left" || fail "SIGTERM mid-export" "exit $st; $(cat "$T/err"); $(ls -A "$O")"
		fi
	fi
	;;
esac
exit $failed
