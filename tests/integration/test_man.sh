# test_man.sh - the manual pages render without a warning and follow the
# code: every command and option of clarify --help is in clarify(1), every
# option of clarifyd --help in clarifyd(8), and clarifyd.yaml(5) has every
# key of clarifyd --print-config and no other.
. "$(dirname "$0")/lib.sh"

MAN=$ROOT/man
PAGES="clarify.1 clarifyd.8 clarifyd.yaml.5"

if ! command -v groff >/dev/null; then
	skip "the manual pages render" "groff is not installed (groff-base)"
	exit 0
fi
for p in $PAGES; do
	if [ ! -f "$MAN/$p" ]; then
		fail "man/$p exists"
		continue
	fi
	# -ww: every warning; -z: no output but the diagnostics
	out=$(groff -man -Tutf8 -ww -z "$MAN/$p" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		ok "man/$p renders without warnings"
	else
		fail "man/$p renders without warnings" "$out"
	fi
	text=$(groff -man -Tutf8 "$MAN/$p" 2>/dev/null | sed 's/.\x08//g')
	contains "man/$p has a NAME section" "$text" "NAME"
done

# has NAME TEXT NEEDLE: contains, without printing a whole page
has() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) fail "$1" "not found: $3" ;;
	esac
}

# the roff source as text: \- is a hyphen, font changes and quotes go
plain() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/"//g' "$1"
}
CLARIFY1=$(plain "$MAN/clarify.1")
CLARIFYD8=$(plain "$MAN/clarifyd.8")
YAML5=$(plain "$MAN/clarifyd.yaml.5")

# clarify's commands: the lines under "commands:" in clarify --help
cmds=$("$CLARIFY" --help | sed -n '/^commands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
if [ -z "$cmds" ]; then
	fail "clarify --help lists commands"
fi
for cmd in $cmds; do
	has "clarify(1) has a section for 'clarify $cmd'" "$CLARIFY1" ".SS clarify $cmd"
	# every long option of the command's --help, and -o
	opts=$("$CLARIFY" "$cmd" --help | grep -o -- '--[a-z][a-z-]*\|^  -[a-z] ' | tr -d ' ' | sort -u)
	for o in $opts; do
		[ "$o" = --help ] && continue
		has "clarify(1) has 'clarify $cmd $o'" "$CLARIFY1" "$o"
	done
done
for o in $("$CLARIFY" --help | sed '/^commands:/,$d' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	has "clarify(1) has the global option $o" "$CLARIFY1" "$o"
done
for o in $("$CLARIFYD" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	has "clarifyd(8) has $o" "$CLARIFYD8" "$o"
done

# the configuration keys: those in force, and those documented
keys=$("$CLARIFYD" --print-config | sed -n 's/^\([a-z_]*\.[a-z_.]*\): .*/\1/p')
if [ "$(printf '%s\n' "$keys" | wc -l)" -lt 10 ]; then
	fail "clarifyd --print-config prints the keys" "$keys"
fi
for k in $keys; do
	has "clarifyd.yaml(5) documents $k" "$YAML5" ".B $k
"
done
documented=$(printf '%s\n' "$YAML5" | sed -n '/^\.SH KEYS/,/^\.SH /s/^\.B \([a-z_]*\.[a-z_.]*\)$/\1/p')
for k in $documented; do
	case "
$keys
" in
	*"
$k
"*) ok "clarifyd.yaml(5)'s $k is a key of the code" ;;
	*) fail "clarifyd.yaml(5)'s $k is a key of the code" "not printed by clarifyd --print-config" ;;
	esac
done

# the defaults in the page are those of the code: ".B KEY", a line of
# type and range, then '.BR "DEFAULT" .'
awk '
/^\.B [a-z_]+(\.[a-z_]+)+$/ { key = $2; next }
key != "" && /^\.BR ".*" \.$/ {
	v = $0
	sub(/^\.BR "/, "", v); sub(/" \.$/, "", v)
	gsub(/\\\(dq/, "\"", v); gsub(/\\-/, "-", v)
	if (v == "\"\"") v = ""
	printf "%s: %s\n", key, v
	key = ""
}' "$MAN/clarifyd.yaml.5" | sort >"$T/documented"
"$CLARIFYD" --print-config | sed -e 's/    #.*//' -e "s/: '\\(.*\\)'\$/: \\1/" | sort >"$T/printed"
if diff "$T/printed" "$T/documented" >"$T/diff"; then
	ok "clarifyd.yaml(5) gives every key the default of the code"
else
	fail "clarifyd.yaml(5) gives every key the default of the code" "$(cat "$T/diff")"
fi
exit $failed
