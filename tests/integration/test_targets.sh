# test_targets.sh - jobs.target_accepted: clarifyd stops taking a
# category's jobs once that many of its records are accepted, counting the
# store's earlier runs, and takes held jobs again when rejections leave
# the category short
. "$(dirname "$0")/lib.sh"

S=$T/store
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFY" -s "$S" lm train --order 3 >/dev/null 2>&1
cat >"$T/c.yaml" <<YAML
jobs:
  target_accepted:
    ambiguous: 9
    incomplete: 4
YAML
expect_status "--check-config reads the targets" 0 "$CLARIFYD" -c "$T/c.yaml" --check-config
printf 'jobs:\n  target_accepted:\n    ambiguous: -1\n' >"$T/neg.yaml"
expect_status "a negative target is refused" 2 "$CLARIFYD" -c "$T/neg.yaml" --check-config
contains "with its place" "$OUT" "neg.yaml:3:16: 'jobs.target_accepted.ambiguous'"
printf 'jobs:\n  target_accepted:\n    vague: 3\n' >"$T/unk.yaml"
expect_status "an unknown category is refused" 2 "$CLARIFYD" -c "$T/unk.yaml" --check-config
contains "naming the key" "$OUT" "unknown key 'jobs.target_accepted.vague'"

expect_status "clarifyd --once with targets" 0 "$CLARIFYD" -c "$T/c.yaml" -s "$S" --once
contains "says when a target is reached" "$OUT" "incomplete: its target of 4 accepted records is reached"
st=$("$CLARIFY" -s "$S" status --json)
[ "$(jget "$st" .by_category.incomplete.done)" -eq 4 ] && [ "$(jget "$st" .by_category.incomplete.pending)" -eq 8 ] \
	&& ok "incomplete: 4 accepted, the other 8 jobs pending" || fail "incomplete target" "$(jget "$st" .by_category)"
# two ambiguous records are rejected by the judge: the jobs held back are
# taken in another pass until 9 are accepted
[ "$(jget "$st" .by_category.ambiguous.done)" -eq 9 ] && [ "$(jget "$st" .by_category.ambiguous.rejected)" -ge 1 ] \
	&& ok "ambiguous: exactly 9 accepted, rejections made up for" || fail "ambiguous target" "$(jget "$st" .by_category)"
[ "$(jget "$st" .by_category.inconsistent.done)" -eq 12 ] && ok "a category without a target runs whole" \
	|| fail "inconsistent whole" "$(jget "$st" .by_category)"

expect_status "a second run with the same targets" 0 "$CLARIFYD" -c "$T/c.yaml" -s "$S" --once
contains "takes nothing: the store's records count" "$OUT" "0 accepted, 0 rejected, 0 failed"
sed -i 's/incomplete: 4/incomplete: 6/' "$T/c.yaml"
"$CLARIFYD" -c "$T/c.yaml" -s "$S" --once >/dev/null 2>&1
[ "$("$CLARIFY" -s "$S" status --json | jq .by_category.incomplete.done)" -eq 6 ] \
	&& ok "a higher target takes two more" || fail "higher target" "$("$CLARIFY" -s "$S" status --json | jq .by_category)"
"$CLARIFYD" -s "$S" --once >/dev/null 2>&1
[ "$("$CLARIFY" -s "$S" status --json | jq .jobs.pending)" -eq 0 ] && ok "without targets the rest is taken" \
	|| fail "rest taken"

exit $failed
