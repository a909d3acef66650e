#!/usr/bin/env bash
# asl-validate.sh DIR...: runs asl-validator (npm, pinned) on every *.asl.json
# under DIR and on the out/asl.json of every golden txtar case.
set -euo pipefail
cd "$(dirname "$0")/.."
validator=node_modules/.bin/asl-validator
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for dir in "$@"; do
  while IFS= read -r f; do
    "$validator" --json-path "$f" >/dev/null || { echo "asl-validator rejected $f" >&2; "$validator" --json-path "$f" >&2 || true; exit 1; }
    n=$((n+1))
  done < <(find "$dir" -name '*.asl.json' | sort)
  while IFS= read -r f; do
    # Extract the "-- out/asl.json --" section of a txtar archive.
    awk '/^-- out\/asl.json --$/{on=1; next} /^-- .* --$/{on=0} on' "$f" > "$tmp/case.asl.json"
    [ -s "$tmp/case.asl.json" ] || continue
    "$validator" --json-path "$tmp/case.asl.json" >/dev/null || { echo "asl-validator rejected the ASL of $f" >&2; exit 1; }
    n=$((n+1))
  done < <(find "$dir" -name '*.txtar' | sort)
done
echo "asl-validator: $n definitions valid"
