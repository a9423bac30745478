#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with the Markdown files of fixtures/ (and this repository's docs/),
# the seed corpus of the fuzz targets. The corpus is not committed; run this before fuzzing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
for target in analyse claims pieces; do
    mkdir -p "$here/corpus/$target"
done
n=0
while IFS= read -r -d '' file; do
    name="$(printf '%s' "${file#"$repo"/}" | tr '/ ' '__')"
    cp "$file" "$here/corpus/analyse/$name"
    cp "$file" "$here/corpus/pieces/$name"
    # The claims target reads 8 bytes of seed for the new counts before the text.
    { printf 'docidx!!'; cat "$file"; } > "$here/corpus/claims/$name"
    n=$((n + 1))
done < <(find "$repo/fixtures" "$repo/docs" -type f \( -name '*.md' -o -name '*.mdx' \) -print0)
echo "seeded $n files into $here/corpus/{analyse,claims,pieces}"
