# test_lm.sh - clarify lm: train from the store or a tokenized file, score
# as KenLM's query does, describe the model; bad ARPA refused with its line
. "$(dirname "$0")/lib.sh"

REF=$SHARED_DATA/lm-reference
S=$T/store

for cmd in train score info; do
	expect_status "clarify lm --help ($cmd)" 0 "$CLARIFY" lm --help
done
contains "lm --help names the subcommands" "$OUT" "clarify lm train"
expect_status "lm without a subcommand is a usage error" 2 "$CLARIFY" lm
expect_status "an unknown subcommand is a usage error" 2 "$CLARIFY" lm frobnicate
expect_status "--order out of range is a usage error" 2 "$CLARIFY" -s "$S" lm train --order 9

# from the store's problems; kept there; info and score read it back
expect_status "train without problems fails" 1 "$CLARIFY" -s "$T/empty" lm train
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
expect_status "train on the store's problems" 0 "$CLARIFY" -s "$S" lm train --order 3 --json
[ "$(jget "$OUT" .stored)" = true ] && [ "$(jget "$OUT" .order)" -eq 3 ] \
	&& ok "the model is kept in the store" || fail "the model is kept in the store" "$OUT"
expect_status "info reads the store's model" 0 "$CLARIFY" -s "$S" lm info --json
[ "$(jget "$OUT" .order)" -eq 3 ] && ok "info says order 3" || fail "info says order 3" "$OUT"
bpn=$(jget "$OUT" .bytes_per_ngram)
awk -v b="$bpn" 'BEGIN { exit !(b <= 40) }' && ok "at most 40 bytes per n-gram ($bpn)" \
	|| fail "at most 40 bytes per n-gram" "$OUT"
expect_status "score raw text with the store's model" 0 sh -c \
	"printf 'Print the sum of two numbers.\n' | '$CLARIFY' -s '$S' lm score --json"
contains "with a perplexity" "$OUT" "perplexity_including_oov"
expect_status "the store still verifies with a model in it" 0 "$CLARIFY" -s "$S" verify
expect_status "info on a store without a model fails" 1 "$CLARIFY" -s "$T/nomodel" lm info

if [ -f "$REF/kenlm-o3.arpa" ]; then
	# KenLM's model scores test.txt as KenLM's query did
	"$CLARIFY" lm score --arpa "$REF/kenlm-o4.arpa" --tokenized "$REF/test.txt" >"$T/o4.tsv" 2>&1
	worst=$(awk -F'\t' 'NR == FNR { if (FNR > 1 && $1 ~ /^[0-9]+$/) want[$1] = $2; next }
		FNR > 1 && $1 ~ /^[0-9]+$/ { d = $2 - want[$1]; if (d < 0) d = -d; if (d > m) m = d }
		END { printf "%.2g", m }' "$REF/expected-o4.tsv" "$T/o4.tsv")
	awk -v w="$worst" 'BEGIN { exit !(w <= 1e-4) }' \
		&& ok "o4: every line within 1e-4 of KenLM's query (worst $worst)" \
		|| fail "o4: every line within 1e-4 of KenLM's query" "worst $worst"
	contains "o4: KenLM's perplexity including OOVs" "$(cat "$T/o4.tsv")" "Perplexity including OOVs:	61.12001"
	contains "o4: and excluding OOVs" "$(cat "$T/o4.tsv")" "Perplexity excluding OOVs:	41.06040"
	contains "o4: 617 OOVs" "$(cat "$T/o4.tsv")" "# OOVs:	617"
	# --summary: the same totals, and nothing else
	"$CLARIFY" lm score --summary --arpa "$REF/kenlm-o4.arpa" --tokenized "$REF/test.txt" >"$T/o4s.tsv" 2>&1
	[ "$(cat "$T/o4s.tsv")" = "$(grep '^# ' "$T/o4.tsv")" ] && ok "score --summary prints the totals only" \
		|| fail "score --summary prints the totals only" "$(head -5 "$T/o4s.tsv")"

	# training on train.txt gives KenLM's n-grams; the ARPA written back scores the same
	expect_status "train --tokenized train.txt" 0 "$CLARIFY" -s "$T/ref" lm train --order 3 \
		--tokenized "$REF/train.txt" -o "$T/ours-o3.arpa" --no-store --json
	[ "$(jget "$OUT" '.ngrams | join(",")')" = "3085,19312,37400" ] \
		&& ok "the same n-gram counts as KenLM (3085, 19312, 37400)" || fail "n-gram counts" "$OUT"
	ours=$(sed -n 's/^ngram //p' "$T/ours-o3.arpa" | tr '\n' ' ')
	theirs=$(sed -n 's/^ngram //p' "$REF/kenlm-o3.arpa" | tr '\n' ' ')
	[ "$ours" = "$theirs" ] && ok "the ARPA header matches KenLM's" || fail "ARPA header" "$ours" "$theirs"
	"$CLARIFY" lm score --arpa "$T/ours-o3.arpa" --tokenized "$REF/test.txt" >"$T/ours.tsv" 2>&1
	contains "our model's test perplexity is KenLM's" "$(cat "$T/ours.tsv")" "Perplexity including OOVs:	63.68203"
	# language-model outliers in the filters: signals per row, bounds from the config
	expect_status "filters check --arpa adds each row's signals" 0 "$CLARIFY" filters check \
		"$TESTDATA/filters/labelled.jsonl" --arpa "$REF/kenlm-o3.arpa" --json
	row=$(printf '%s\n' "$OUT" | head -n 1)
	[ "$(jget "$row" '.signals.modified.perplexity > 1')" = true ] && \
		[ "$(jget "$row" '.signals.questions.entropy > 0')" = true ] \
		&& ok "with perplexity and entropy of both fields" || fail "signals per row" "$row"
	printf 'stats:\n  modified_ppl_max: 60\n' >"$T/bounds.yaml"
	expect_status "a perplexity bound rejects outliers" 0 "$CLARIFY" -c "$T/bounds.yaml" filters check \
		"$TESTDATA/filters/labelled.jsonl" --arpa "$REF/kenlm-o3.arpa" --json
	n=$(printf '%s\n' "$OUT" | tail -n 1 | jq '.per_rule["lm-perplexity"]')
	[ "$n" -gt 0 ] && ok "lm-perplexity fired on $n rows" || fail "lm-perplexity fires" "$OUT"
else
	skip "conformance with KenLM" "$REF is missing"
fi

# a damaged model in the store is found by verify
if command -v mdb_load >/dev/null; then
	key=$(printf 'lm' | od -An -v -tx1 | tr -d ' \n')
	printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n 6a756e6b\nDATA=END\n' "$key" \
		| mdb_load -s meta "$S"
	expect_status "verify finds a damaged language model" 1 "$CLARIFY" -s "$S" verify
	contains "and says so" "$OUT" "the language model cannot be loaded"
	expect_status "lm info refuses it with the reason" 1 "$CLARIFY" -s "$S" lm info
fi

# bad ARPA: refused with the line and the reason
printf '\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0\t<s>\n-x\t</s>\n\n\\end\\\n' >"$T/bad.arpa"
expect_status "a malformed ARPA file is refused" 1 "$CLARIFY" lm info --arpa "$T/bad.arpa"
contains "naming the file and line" "$OUT" "bad.arpa:6:"
expect_status "a missing ARPA file is refused" 1 "$CLARIFY" lm info --arpa "$T/none.arpa"
exit $failed
