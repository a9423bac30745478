#!/usr/bin/env python3
"""Compare docidx's token counts with OpenAI's tiktoken (the oracle in ../shared/bench/).

    python3 benches/compare_tokens.py TREE [--encoding o200k|cl100k] [--docidx target/release/docidx]

Copies TREE to a temporary folder, runs ../shared/bench/ref_index.py and `docidx generate` on the
copy, and compares every document's path set, tokens, bytes, sha256, lines and legacy word
estimate. Exits 1 on any difference. Needs `pip install tiktoken`.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "..", "..", "shared", "bench", "ref_index.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("--encoding", default="o200k", choices=["o200k", "cl100k"])
    ap.add_argument("--docidx", default=os.path.join(HERE, "..", "target", "release", "docidx"))
    ap.add_argument("--ref", default=REF)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "tree")
        shutil.copytree(a.tree, tree, symlinks=True)
        ref = subprocess.run([sys.executable, a.ref, tree, "--encoding", a.encoding, "--jobs", "2"],
                             check=True, capture_output=True, text=True).stdout
        ref = {r["path"]: r for r in map(json.loads, ref.splitlines())}
        subprocess.run([a.docidx, "generate", tree, "--quiet", "--encoding", a.encoding],
                       check=True)
        out = os.path.join(tree, "docs") if os.path.isdir(os.path.join(tree, "docs")) else tree
        docs = {d["path"]: d for d in json.load(open(os.path.join(out, "INDEX.json")))["documents"]}
    bad = 0
    for p in sorted(set(ref) ^ set(docs)):
        print(f"only in {'reference' if p in ref else 'docidx'}: {p}")
        bad += 1
    for p in sorted(set(ref) & set(docs)):
        r, d = ref[p], docs[p]
        for rk, dk in [("tokens", "tokens"), ("bytes", "bytes"), ("sha256", "sha256"),
                       ("lines", "lines"), ("words13", "words")]:
            if r[rk] != d[dk]:
                print(f"{p}: {dk} docidx={d[dk]} tiktoken={r[rk]}")
                bad += 1
    n = len(set(ref) & set(docs))
    tokens = sum(docs[p]["tokens"] for p in docs)
    print(f"{a.tree} ({a.encoding}): {n} docs, {tokens} tokens, {bad} differences")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
