# test_filters.sh - clarify filters check and list: the labelled evaluation
# set, the text and JSON outputs, custom rule folders, and every refusal
# (bad rule files, a missing folder, a malformed row) with exit status 2.
. "$(dirname "$0")/lib.sh"

LABELLED=$TESTDATA/filters/labelled.jsonl

# ---- the labelled set ------------------------------------------------------

expect_status "check of the labelled set exits 0" 0 "$CLARIFY" filters check "$LABELLED" --json
printf '%s\n' "$OUT" >"$T/labelled.json"
SUMMARY=$(jq -c 'select(.summary == true)' "$T/labelled.json")
rows=$(wc -l <"$LABELLED")
[ "$(jget "$SUMMARY" .rows)" -eq "$rows" ] && ok "the summary counts all $rows rows" \
	|| fail "the summary counts all rows" "$SUMMARY"
[ "$(jq -c 'select(.summary != true)' "$T/labelled.json" | wc -l)" -eq "$rows" ] \
	&& ok "--json prints one object per row" || fail "--json prints one object per row"

precision=$(jget "$SUMMARY" .labels.precision)
recall=$(jget "$SUMMARY" .labels.recall)
if jq -e '.labels.precision >= 0.95' >/dev/null <<EOF
$SUMMARY
EOF
then ok "precision $precision on the labelled set (>= 0.95)"
else fail "precision on the labelled set is $precision (< 0.95)" "$SUMMARY"
fi
if jq -e '.labels.recall >= 0.95' >/dev/null <<EOF
$SUMMARY
EOF
then ok "recall $recall on the labelled set (>= 0.95)"
else fail "recall on the labelled set is $recall (< 0.95)" "$SUMMARY"
fi

# the counts add up, and agree with the rows
jq -e '.labels | .true_positives + .false_positives + .false_negatives + .true_negatives
	== '"$rows" >/dev/null <<EOF && ok "the label counts add up to the rows" \
	|| fail "the label counts add up to the rows" "$SUMMARY"
$SUMMARY
EOF
wrong=$(jq -s '[.[] | select(.summary != true)
	| select((.label != "clean") != (.verdict == "rejected"))] | length' "$T/labelled.json")
fn_fp=$(jget "$SUMMARY" '.labels.false_positives + .labels.false_negatives')
[ "$wrong" -eq "$fn_fp" ] && ok "$wrong rows disagree with their labels, as the summary says" \
	|| fail "rows that disagree with their labels" "rows: $wrong, summary: $fn_fp"

# per kind: the leak kinds are rejected, the clean kinds accepted
jq -r '[.kind, .label] | @tsv' "$LABELLED" | sort -u >"$T/kinds"
nkinds=0
while IFS="$(printf '\t')" read -r kind label; do
	nkinds=$((nkinds + 1))
	n=$(jget "$SUMMARY" ".per_kind[\"$kind\"].rows // 0")
	r=$(jget "$SUMMARY" ".per_kind[\"$kind\"].rejected // 0")
	if [ "$n" -eq 0 ]; then
		fail "kind $kind is in the summary" "$SUMMARY"
	elif [ "$label" = clean ]; then
		a=$((n - r))
		[ $((a * 10)) -ge $((n * 9)) ] && ok "clean kind $kind: $a of $n accepted" \
			|| fail "clean kind $kind: only $a of $n accepted"
	else
		[ $((r * 10)) -ge $((n * 9)) ] && ok "leak kind $kind: $r of $n rejected (recall >= 0.9)" \
			|| fail "leak kind $kind: only $r of $n rejected (recall < 0.9)"
	fi
done <"$T/kinds"
[ "$nkinds" -ge 17 ] && ok "all $nkinds kinds of the file are checked" \
	|| fail "all kinds of the file are checked" "$(cat "$T/kinds")"

# each leak row is rejected by a rule of its kind
kind_rules() {
	case $1 in
	ref_original) echo "ref-original-problem ref-original-bare ref-compared-to-original ref-rewrite ref-new-version ref-before-change" ;;
	echoed_header) echo "echoed-header echoed-header-statement" ;;
	explanation_section) echo "explanation-section explanation-label explanation-removed removed-label inline-marker" ;;
	announcement) echo "announces-change note-this-version changes-made here-is-rewrite inline-marker explanation-removed removed-label inline-commentary" ;;
	hidden_leak) echo "hidden-leak" ;;
	unchanged) echo "unchanged" ;;
	drift) echo "drift" ;;
	degenerate_repeat) echo "repeated-lines repeated-ngrams repeated-questions" ;;
	empty) echo "empty no-questions" ;;
	truncated) echo "truncated" ;;
	not_questions) echo "not-a-question" ;;
	esac
}
jq -r '[.id, .kind, .label] | @tsv' "$LABELLED" >"$T/ids"
off_kind=""
while IFS="$(printf '\t')" read -r id kind label; do
	[ "$label" = clean ] && continue
	fired=$(jq -r --arg id "$id" 'select(.id == $id) | .verdicts[].rule' "$T/labelled.json")
	hit=0
	for rule in $(kind_rules "$kind"); do
		for f in $fired; do [ "$f" = "$rule" ] && hit=1; done
	done
	[ $hit -eq 1 ] || off_kind="$off_kind $id($kind: $(echo $fired))"
done <"$T/ids"
[ -z "$off_kind" ] && ok "every leak row is rejected by a rule of its kind" \
	|| fail "every leak row is rejected by a rule of its kind" "not so for:$off_kind"

# ---- the text output ---------------------------------------------------------

expect_status "check as text exits 0" 0 "$CLARIFY" filters check "$LABELLED"
contains "a rejected row names its rules" "$OUT" "ann-lisrun               rejected: inline-commentary, announces-change"
contains "a rejected row names every rule that fired" "$OUT" "empty-both-rle           rejected: empty, no-questions"
contains "built-in checks are named like rules" "$OUT" "same-ws-islands          rejected: unchanged"
contains "an accepted row says so" "$OUT" "hn-compared-prev-day     accepted"
contains "the text ends with the row counts" "$OUT" "$rows rows: "
contains "and the counts per rule" "$OUT" "hidden-leak"
contains "and the figures against the labels" "$OUT" "against the labels ($rows rows): precision"
last=$(printf '%s\n' "$OUT" | tail -n 1)
case $last in
*[a-z_]\ *[0-9]\ *[0-9]) ok "the last line is a count per kind: '$last'" ;;
*) fail "the last line is a count per kind" "$last" ;;
esac
n_row_lines=$(printf '%s\n' "$OUT" | grep -cE '^[a-z0-9-]+ +(accepted|rejected)')
[ "$n_row_lines" -eq "$rows" ] && ok "one line per row" || fail "one line per row" "$n_row_lines of $rows"

# ---- --errors ------------------------------------------------------------------

expect_status "--errors on the labelled set exits 0" 0 "$CLARIFY" filters check "$LABELLED" --errors
n_err_lines=$(printf '%s\n' "$OUT" | grep -cE '^[a-z0-9-]+ +(accepted|rejected)')
[ "$n_err_lines" -eq "$wrong" ] && ok "--errors prints the $wrong rows that disagree and no other" \
	|| fail "--errors prints only the rows that disagree" "$OUT"

cat >"$T/mislabelled.jsonl" <<'EOF'
{"id": "says-clean-is-leak", "category": "ambiguous", "original": "Print the sum of n integers.", "modified": "Modified Problem:\nPrint the total of n integers.", "questions": ["Is the total taken modulo anything?"], "label": "clean", "kind": "well_formed"}
{"id": "says-leak-is-clean", "category": "ambiguous", "original": "Print the sum of n integers, each at most 1000.", "modified": "Print the total of n integers, each at most 1000.", "questions": ["Is the total taken modulo anything?"], "label": "leak", "kind": "announcement"}
{"id": "right-label", "category": "ambiguous", "original": "Print the sum of n integers, each at most 1000.", "modified": "Print the total of n integers, each at most 1000.", "questions": ["Is the total taken modulo anything?"], "label": "clean", "kind": "well_formed"}
EOF
expect_status "--errors exits 0 on mislabelled rows" 0 "$CLARIFY" filters check "$T/mislabelled.jsonl" --errors
contains "--errors prints a rejected row labelled clean" "$OUT" "says-clean-is-leak       rejected (label says otherwise): echoed-header"
contains "--errors shows what matched" "$OUT" "    echoed-header: \"Modified Problem:\""
contains "--errors prints an accepted row labelled leak" "$OUT" "says-leak-is-clean       accepted (label says otherwise)"
case $OUT in
*right-label*) fail "--errors leaves out a row that agrees with its label" "$OUT" ;;
*) ok "--errors leaves out a row that agrees with its label" ;;
esac
contains "--errors still prints the figures" "$OUT" "precision 0.000, recall 0.000"
expect_status "--errors --json exits 0" 0 "$CLARIFY" filters check "$T/mislabelled.jsonl" --errors --json
[ "$(printf '%s\n' "$OUT" | jq -r 'select(.summary != true) | .id' | tr '\n' ' ')" = \
	"says-clean-is-leak says-leak-is-clean " ] && ok "--errors --json prints only the two rows" \
	|| fail "--errors --json prints only the two rows" "$OUT"

# ---- real APPS statements are no leaks -------------------------------------------
# The 220 statements of ../shared/data/apps-corpus, each as the original of
# a plausible rewrite (the statement with a vague sentence added, which
# does not talk about its own clarity): none of them may be rejected.  Real statements repeat an example's paragraph, print
# "Yes Yes Yes Yes", say "-----Note-----" then "Explanation of the first
# testcase", and "hack the previous problem": all the problem's own.

CORPUS=$SHARED_DATA/apps-corpus/questions.jsonl
if [ -f "$CORPUS" ]; then
	jq -c '{id: (input_line_number | tostring), category: "incomplete", original: .question,
		modified: (.question + "\n\nThe number of test cases is small."),
		questions: ["How many test cases can the input have?"]}' "$CORPUS" >"$T/real.jsonl"
	"$CLARIFY" filters check "$T/real.jsonl" --json >"$T/real.json" 2>&1
	bad=$(jq -c 'select(.summary != true and .verdict != "accepted")' "$T/real.json")
	n=$(jq -c 'select(.summary != true)' "$T/real.json" | wc -l)
	[ "$n" -eq 220 ] && [ -z "$bad" ] \
		&& ok "none of the $n real APPS statements is rejected as a rewrite's original" \
		|| fail "real APPS statements are rejected" "$(printf '%s\n' "$bad" | head -5)"
else
	skip "real APPS statements are no leaks" "no $CORPUS"
fi

# ---- list ------------------------------------------------------------------

expect_status "list exits 0" 0 "$CLARIFY" filters list
missing=""
for id in ref-original-problem ref-original-bare ref-compared-to-original ref-rewrite \
	ref-new-version ref-before-change echoed-header echoed-header-statement \
	explanation-section explanation-removed inline-marker announces-change \
	note-this-version changes-made here-is-rewrite; do
	case $OUT in
	*"$id "*) ;;
	*) missing="$missing $id" ;;
	esac
done
[ -z "$missing" ] && ok "list names the 15 shipped rules" \
	|| fail "list names the 15 shipped rules" "missing:$missing" "$OUT"
contains "list names the built-in checks" "$OUT" "built-in checks (reject): unchanged, drift, hidden-leak"
contains "list says the patterns are JIT-compiled" "$OUT" "patterns run JIT-compiled"

# ---- a custom rule folder --------------------------------------------------------

mkdir "$T/custom"
cat >"$T/custom/fruit.yaml" <<'EOF'
rules:
  - id: custom-banana
    description: mentions a banana
    applies_to: [modified, questions]
    pattern: '\bbananas?\b'
    flags: [caseless]
    keywords: [banana, bananas]
    action: reject
  - id: custom-cherry
    description: mentions a cherry, for the auditor only
    applies_to: [questions]
    pattern: 'cherr(?:y|ies)'
    action: flag
EOF
cat >"$T/fruit.jsonl" <<'EOF'
{"id": "has-banana", "original": "Count the apples in the basket of n fruits.", "modified": "Count the Bananas in the basket of n fruits.", "questions": ["Do green ones count?"]}
{"id": "has-cherry", "original": "Count the apples in the basket of n fruits.", "modified": "Count the pears in the basket of n fruits.", "questions": ["Do cherries count as pears?"]}
{"id": "has-original", "original": "Count the apples in the basket of n fruits.", "modified": "Unlike the original problem, count the pears in the basket of n fruits.", "questions": ["Do green ones count?"]}
EOF
expect_status "check --rules DIR exits 0" 0 "$CLARIFY" filters check "$T/fruit.jsonl" --rules "$T/custom"
contains "a custom reject rule fires" "$OUT" "has-banana               rejected: custom-banana"
contains "a custom flag rule fires without rejecting" "$OUT" "has-cherry               accepted: custom-cherry"
contains "the shipped rules are not loaded with --rules" "$OUT" "has-original             accepted"
expect_status "list --rules DIR exits 0" 0 "$CLARIFY" filters list --rules "$T/custom"
contains "list --rules shows the custom rule" "$OUT" "custom-banana                reject  mentions a banana"
contains "list --rules shows a flag rule's action" "$OUT" "custom-cherry                flag    mentions a cherry"
case $OUT in
*ref-original-problem*) fail "list --rules shows only the folder's rules" "$OUT" ;;
*) ok "list --rules shows only the folder's rules" ;;
esac
expect_status "--rules may name one file" 0 "$CLARIFY" filters list --rules "$T/custom/fruit.yaml"
contains "the one file's rules are listed" "$OUT" "custom-banana"

# ---- refusals: exit 2 with FILE:LINE:COLUMN --------------------------------------

mkdir "$T/badkey" "$T/badre" "$T/empty"
cat >"$T/badkey/rules.yaml" <<'EOF'
rules:
  - id: typo
    descripton: a misspelt key
    applies_to: [modified]
    pattern: x
    action: reject
EOF
cat >"$T/badre/rules.yaml" <<'EOF'
rules:
  - id: unbalanced
    description: a pattern without its closing parenthesis
    applies_to: [modified]
    pattern: '\b(?:the|this\s+original'
    action: reject
EOF
for cmd in check list; do
	if [ $cmd = check ]; then set -- filters check "$LABELLED"; else set -- filters list; fi
	expect_status "$cmd with an unknown key in a rule file exits 2" 2 "$CLARIFY" "$@" --rules "$T/badkey"
	contains "$cmd names FILE:LINE:COLUMN of the unknown key" "$OUT" "$T/badkey/rules.yaml:3:5: rule 'typo'"
	contains "$cmd says why" "$OUT" "unknown key 'descripton'"
	case $OUT in
	*"rows:"*|*"built-in checks"*) fail "$cmd prints nothing else" "$OUT" ;;
	*) ok "$cmd prints nothing else" ;;
	esac
	expect_status "$cmd with a bad regex exits 2" 2 "$CLARIFY" "$@" --rules "$T/badre"
	contains "$cmd names FILE:LINE:COLUMN of the pattern" "$OUT" "$T/badre/rules.yaml:5:14: rule 'unbalanced'"
	contains "$cmd gives PCRE2's reason and offset" "$OUT" "pattern error at offset 24: missing closing parenthesis"
	expect_status "$cmd with a missing rules folder exits 2" 2 "$CLARIFY" "$@" --rules "$T/nowhere"
	contains "$cmd names the missing folder" "$OUT" "'$T/nowhere'"
	expect_status "$cmd with a folder without rule files exits 2" 2 "$CLARIFY" "$@" --rules "$T/empty"
	contains "$cmd says there are no rule files" "$OUT" "no rule files (*.yaml) in '$T/empty'"
done

# ---- refusals: malformed rows ------------------------------------------------------

printf '%s\n' '{"id": "fine", "original": "Sum n numbers.", "modified": "Add n numbers."}' \
	'{"id": "broken", "original": ' >"$T/broken.jsonl"
expect_status "a malformed JSONL row exits 2" 2 "$CLARIFY" filters check "$T/broken.jsonl"
contains "the malformed row is named FILE:LINE" "$OUT" "$T/broken.jsonl:2:"
case $OUT in
*"rows:"*) fail "a malformed row stops the run before the summary" "$OUT" ;;
*) ok "a malformed row stops the run before the summary" ;;
esac
printf '%s\n' '{"id": "fine", "original": "Sum n numbers.", "modified": "Add n numbers."}' \
	'["not", "an", "object"]' >"$T/array.jsonl"
expect_status "a row that is not an object exits 2" 2 "$CLARIFY" filters check "$T/array.jsonl"
contains "the row that is not an object is named FILE:LINE" "$OUT" "$T/array.jsonl:2:"
expect_status "a missing JSONL file exits 1" 1 "$CLARIFY" filters check "$T/none.jsonl"
contains "the missing JSONL file is named" "$OUT" "'$T/none.jsonl'"

# ---- usage --------------------------------------------------------------------

expect_status "filters --help exits 0" 0 "$CLARIFY" filters --help
contains "--help shows check" "$OUT" "usage: clarify filters check FILE.jsonl [--rules DIR] [--arpa FILE] [--json] [--errors]"
contains "--help shows list" "$OUT" "clarify filters list [--rules DIR]"
expect_status "check without a file exits 2" 2 "$CLARIFY" filters check
expect_status "an unknown subcommand exits 2" 2 "$CLARIFY" filters frobnicate
expect_status "an unknown option exits 2" 2 "$CLARIFY" filters list --bogus

exit $failed
