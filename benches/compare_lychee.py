#!/usr/bin/env python3
"""Compare `docidx validate` with lychee's offline check on the same tree.

    python3 benches/compare_lychee.py TREE [--docidx target/release/docidx] [--lychee lychee]

Runs `lychee --offline --include-fragments --format json '**/*.md'` in TREE and
`docidx validate TREE --format json`, then matches lychee's errors with docidx's link findings
(broken-link, broken-anchor, missing-doc, link-outside-root) by file and line. It prints what
lychee reports that docidx does not, grouped by reason, and what docidx reports that lychee does
not. A `.html` link whose `.md` source exists (mdBook, MkDocs) is valid for docidx, which then
checks the fragment against the `.md`; lychee reports it as a missing file.
"""
import argparse, collections, json, os, subprocess, sys, tempfile, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("--docidx", default=os.path.join(HERE, "..", "target", "release", "docidx"))
    ap.add_argument("--lychee", default="lychee")
    a = ap.parse_args()
    tree = os.path.abspath(a.tree)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([a.lychee, "--offline", "--include-fragments", "--no-progress", "--format", "json",
                        "-o", out.name, "**/*.md"], cwd=tree, capture_output=True)
        lychee = json.load(open(out.name))
    ran = subprocess.run([a.docidx, "validate", tree, "--format", "json"], capture_output=True, text=True)
    findings = json.loads(ran.stdout)["findings"]
    rules = {"broken-link", "broken-anchor", "missing-doc", "link-outside-root"}
    ours = {(f["path"], f["line"]) for f in findings if f["rule"] in rules}
    theirs = set()
    missed = collections.defaultdict(list)
    for path, errors in lychee["error_map"].items():
        for e in errors:
            key = (path, e["span"]["line"])
            theirs.add(key)
            if key in ours:
                continue
            url = urllib.parse.unquote(e["url"].replace("file://" + tree + "/", ""))
            target = url.split("#")[0]
            if target.endswith(".html") and os.path.exists(os.path.join(tree, target[:-5] + ".md")):
                reason = "an .html link whose .md source exists (valid for docidx)"
            else:
                reason = e["status"]["text"]
            missed[reason].append(f"{path}:{e['span']['line']}: {url}")
    print(f"lychee: {sum(len(v) for v in lychee['error_map'].values())} errors; "
          f"docidx: {len(ours)} lines with link findings")
    for reason, items in sorted(missed.items(), key=lambda kv: -len(kv[1])):
        print(f"lychee only, {len(items)}: {reason}")
        for item in items[:5]:
            print("   ", item)
    extra = sorted(ours - theirs)
    print(f"docidx only: {len(extra)}")
    for path, line in extra[:10]:
        print(f"    {path}:{line}")
    unexplained = sum(len(v) for r, v in missed.items() if not r.startswith("an .html link"))
    sys.exit(1 if unexplained else 0)


if __name__ == "__main__":
    main()
