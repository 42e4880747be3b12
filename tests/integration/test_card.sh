# test_card.sh - export --provenance and the dataset card: README.md beside
# the files in the Hugging Face layout, whose YAML header names files that
# exist, features that are the rows' keys and counts that are the rows';
# a README.md not written by an export is left alone
. "$(dirname "$0")/lib.sh"

S=$T/store
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFYD" -s "$S" --once >/dev/null 2>&1
O=$T/out
mkdir "$O"
expect_status "export --provenance with a test split" 0 \
	"$CLARIFY" -s "$S" export -o "$O/train.jsonl.zst" --ratio 0.5 --test-fraction 0.25 --provenance
[ -s "$O/README.md" ] && ok "README.md beside the files" || fail "README.md" "$(ls -la "$O")"
zstdcat "$O/train.jsonl.zst" >"$T/train.jsonl"
[ "$(jq -r 'select(.type != "Original") | .model' "$T/train.jsonl" | sort -u)" = gpt-4o-mini ] \
	&& ok "clarify rows carry their model" || fail "model" "$(jq -c '{type, model}' "$T/train.jsonl" | head -3)"
[ "$(jq -r 'select(.type == "Incomplete") | .template' "$T/train.jsonl" | sort -u)" = \
	"modify-incomplete@1 clarify-incomplete@1 answer-incomplete@1" ] \
	&& ok "and their templates, stage by stage" || fail "template" "$(jq -r .template "$T/train.jsonl" | sort -u)"
[ "$(jq -r 'select(.type == "Original") | [.model, .template] | map(tostring) | join(",")' "$T/train.jsonl" | sort -u)" = "null,null" ] \
	&& ok "originals have null provenance" || fail "originals" "$(jq -c 'select(.type == "Original") | {model, template}' "$T/train.jsonl" | head -2)"
if command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null; then
	out=$(cd "$O" && python3 - <<'PY'
import io, json, sys, yaml, subprocess
text = open("README.md", encoding="utf-8").read()
assert text.startswith("---\n"), "no YAML header"
head = text.split("\n---\n", 1)[0][4:]
card = yaml.safe_load(head)
files = {f["split"]: f["path"] for f in card["configs"][0]["data_files"]}
assert set(files) == {"train", "test"}, files
info = card["dataset_info"]
names = [f["name"] for f in info["features"]]
splits = {s["name"]: s for s in info["splits"]}
for split, path in files.items():
    rows = subprocess.run(["zstdcat", path], capture_output=True, check=True).stdout.splitlines()
    assert len(rows) == splits[split]["num_examples"], (split, len(rows), splits[split])
    for r in rows:
        assert list(json.loads(r).keys()) == names, (list(json.loads(r).keys()), names)
    assert sum(len(r) + 1 for r in rows) == splits[split]["num_bytes"], split
assert card["size_categories"] == ["n<1K"]
print("card ok: %s, features %s" % (", ".join("%s %d" % (k, splits[k]["num_examples"]) for k in sorted(splits)), names))
PY
)
	contains "the YAML header: files, features and counts agree with the rows" "$out" "card ok"
else
	skip "the card's YAML header" "python3 with yaml is not installed"
fi
card=$(cat "$O/README.md")
contains "the prose names the model" "$card" "gpt-4o-mini"
contains "and how to load it" "$card" 'load_dataset("json", data_files={"train": "train.jsonl.zst", "test": "train.test.jsonl.zst"})'
contains "and the file's SHA-256" "$card" "$(jq -r .sha256 "$O/train.jsonl.zst.manifest.json")"
[ "$(jq .provenance "$O/train.jsonl.zst.manifest.json")" = true ] && ok "the manifest says provenance" || fail "manifest provenance"

# chat: the messages feature
expect_status "export --format chat" 0 "$CLARIFY" -s "$S" export -o "$O/chat.jsonl" --format chat
contains "the card describes the chat rows" "$(cat "$O/README.md")" "- name: messages"
[ "$(head -1 "$O/chat.jsonl" | jq -c 'keys_unsorted')" = '["messages","category","id"]' ] \
	&& ok "without --provenance the rows are as before" || fail "chat keys" "$(head -1 "$O/chat.jsonl" | jq -c keys_unsorted)"

# a README.md of someone else's is left alone
M=$T/mine
mkdir "$M"
printf '# my notes\n' >"$M/README.md"
expect_status "export into a folder with another README.md" 0 "$CLARIFY" -s "$S" export -o "$M/x.jsonl"
[ "$(cat "$M/README.md")" = "# my notes" ] && ok "that README.md is kept" || fail "kept" "$(head -3 "$M/README.md")"
contains "with a warning" "$OUT" "was not written by clarify export"
N=$T/nocard
mkdir "$N"
expect_status "--no-card" 0 "$CLARIFY" -s "$S" export -o "$N/x.jsonl" --no-card
[ ! -e "$N/README.md" ] && ok "writes no card" || fail "no card"
exit $failed
