# test_layout.sh - the tree keeps the shape ARCHITECTURE.md describes:
# no include cycle between modules (the folders) or between files, each
# module includes only the modules below it, nothing under pipeline/ is
# export or provider code, and no source file is over 1,500 lines.
. "$(dirname "$0")/lib.sh"

cd "$ROOT" || exit 1
MODULES="common store prompts filters stats llm export pipeline cli"

# the modules each may include, lowest first (ARCHITECTURE.md)
allowed() {
	case $1 in
	common) echo "" ;;
	store) echo "common" ;;
	prompts) echo "common" ;;
	filters) echo "common" ;;
	stats) echo "common store filters" ;;
	llm) echo "common" ;;
	export) echo "common store stats" ;;
	pipeline) echo "common store prompts filters stats llm" ;;
	cli) echo "common store prompts filters stats llm export pipeline" ;;
	esac
}

# FILE's includes of other modules, one per line
deps_of() {
	sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*"\.\./\([a-z_]*\)/.*|\1|p' "$1" | sort -u
}

edges=$T/edges
: >"$edges"
bad=""
for m in $MODULES; do
	for f in "$m"/*.c "$m"/*.h; do
		[ -f "$f" ] || continue
		for d in $(deps_of "$f"); do
			echo "$m $d" >>"$edges"
			case " $(allowed "$m") " in
			*" $d "*) ;;
			*) bad="$bad $f->$d" ;;
			esac
		done
	done
done
sort -u -o "$edges" "$edges"
[ -z "$bad" ] && ok "every module includes only the modules below it" \
	|| fail "every module includes only the modules below it" "against ARCHITECTURE.md:$bad"

# a cycle between modules: tsort refuses the graph
if tsort "$edges" >"$T/order" 2>"$T/tsort.err"; then
	ok "no include cycle between modules"
else
	fail "no include cycle between modules" "$(cat "$T/tsort.err")"
fi

# a cycle between files: the graph of "file includes file"
: >"$T/fedges"
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*'); do
	dir=$(dirname "$f")
	sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*|\1|p' "$f" | while read -r inc; do
		t=$(realpath -m --relative-to=. "$dir/$inc")
		[ "$t" != "$f" ] && echo "$f $t"
	done >>"$T/fedges"
done
if tsort "$T/fedges" >/dev/null 2>"$T/ftsort.err"; then
	ok "no include cycle between files ($(wc -l <"$T/fedges") includes)"
else
	fail "no include cycle between files" "$(cat "$T/ftsort.err")"
fi

# pipeline/ holds neither the export nor a provider
strays=$(ls pipeline | grep -E '^(export|llm|openai|gemini|offline)' || true)
incl=$(grep -l '"\.\./export/' pipeline/*.c pipeline/*.h 2>/dev/null || true)
[ -z "$strays$incl" ] && ok "nothing under pipeline/ is export or provider code" \
	|| fail "nothing under pipeline/ is export or provider code" "$strays $incl"

# no source file over 1,500 lines
git ls-files '*.c' '*.h' 2>/dev/null | xargs wc -l | awk '$2 != "total"' >"$T/sizes"
long=$(awk '$1 > 1500 { print $2 " (" $1 ")" }' "$T/sizes")
[ -z "$long" ] && ok "no source file over 1,500 lines" || fail "no source file over 1,500 lines" "$long"
biggest=$(sort -n "$T/sizes" | tail -1 | awk '{ print $2 ", " $1 " lines" }')
echo "# figure: layout: modules from the top: $(tr '\n' ' ' <"$T/order" | sed 's/ $//'); the longest file: $biggest"

# no build output tracked
tracked=$(git ls-files 2>/dev/null | grep -E '(^|/)(build|run)/|\.o$|\.a$|(^|/)d\.out$' || true)
[ -z "$tracked" ] && ok "no build output is tracked" || fail "no build output is tracked" "$tracked"
exit $failed
