#!/usr/bin/env python3
"""Side-by-side benchmark: docidx against the Python reference indexer, with the floors.

    python3 benches/compare.py [CORPUS ...] [--corpora DIR] [--rounds 3] [--encoding cl100k]
                               [--json out.json] [--no-build]

For each corpus (default: book argo-cd-docs tldr, from --corpora, default /tmp/corpora, which
is made with ../shared/corpora/unpack.sh if missing) the tree is copied to a temporary folder,
then every round measures, one process after another on the same copy (so docidx and the
reference alternate and share whatever the machine is doing at the time):

  floors        benches/src/bin/floors.rs: walk + stat and walk + read + hash every doc (1
                thread, all cores),
                encoder build, single-thread counting rate of the tokenizer on this corpus
  reference     ../shared/bench/ref_index.py TREE --encoding ENC --jobs 2 (on the tree without
                docidx's outputs, like docidx's cold run)
  cold          docidx generate, no previous outputs (INDEX.md, INDEX.json, .doc_hashes.json
                and the cache folder .docidx-cache/ deleted first)
  ref-startup   the reference on an empty tree: import, pool start and encoder build only
  warm-first    docidx generate again, nothing changed: the cache vouches for the outputs;
                each doc is stat'ed (the cold run recorded the known files: .docidx-cache/
                files-v1.txt, each doc's SHA-256 with its size, times and inode); the outputs
                are hashed and recorded the same way (outputs-v1.txt)
  warm          docidx generate once more: each doc and output is stat'ed, none is read (the
                steady state of a tree where generate ran before, as in a pre-commit hook)
  warm-no-cache the same with --no-cache: a fresh clone with committed outputs, as in CI
  touch-one     a line appended to one doc, docidx generate (then the doc is restored and the
                index regenerated, unmeasured)
  validate      docidx validate
  validate-no-cache  docidx validate --no-cache
  update-check  docidx update-tokens --check (INDEX.md is the generated one: no claims outside
                the markers, so this is walk + read + hash + compare)
  lychee        lychee --offline --include-fragments --no-progress '**/*.md', if installed
  code2prompt   code2prompt TREE --include '**/*.md' --encoding cl100k --output-file F, if
                on PATH (cargo install code2prompt; 4.x); on the tree without docidx's outputs
  repomix       repomix TREE --include '**/*.md' --quiet --output F, if on PATH (npm install
                repomix, then put node_modules/.bin on PATH); also without docidx's outputs

Each measurement is a whole process: wall time and peak resident memory (ru_maxrss from
wait4; for the reference with --jobs 2 that is its largest process, not the sum). The tables
show medians over the rounds and the ratios the targets in docs/PERFORMANCE.md are stated in.

Needs Python 3.9+, a Rust toolchain, and for the reference OpenAI's tiktoken:
    python3 -m pip install tiktoken
Without tiktoken the reference columns are skipped.
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.join(REPO, "..", "shared")
REF = os.path.join(SHARED, "bench", "ref_index.py")
UNPACK = os.path.join(SHARED, "corpora", "unpack.sh")
CORPORA = ["book", "argo-cd-docs", "tldr"]
OUTPUTS = ["INDEX.md", "INDEX.json", ".doc_hashes.json", "llms.txt"]


def run(cmd, cwd=None, stdout=subprocess.DEVNULL, timeout=None):
    """Runs `cmd` as one process: (wall seconds, peak RSS in KiB, exit code, stderr tail)."""
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    tail = err.read()[-2000:].decode("utf-8", "replace")
    err.close()
    return {"wall_s": wall, "maxrss_kb": usage.ru_maxrss, "rc": p.returncode, "stderr": tail}


def find_tool(name):
    """`name` on PATH or in ~/.cargo/bin, else None."""
    found = shutil.which(name)
    if found:
        return found
    cargo = os.path.expanduser(os.path.join("~", ".cargo", "bin", name))
    return cargo if os.access(cargo, os.X_OK) else None


def output_dir(tree):
    """Where docidx writes its outputs with the default config: docs/ if it exists, else ROOT."""
    docs = os.path.join(tree, "docs")
    return docs if os.path.isdir(docs) else tree


def remove_outputs(tree):
    for name in OUTPUTS:
        path = os.path.join(output_dir(tree), name)
        if os.path.exists(path):
            os.remove(path)
    shutil.rmtree(os.path.join(tree, ".docidx-cache"), ignore_errors=True)


def pick_doc(tree):
    """A doc of middling size to change for the touch-one run (deterministic)."""
    docs = []
    for d, dirs, files in os.walk(tree):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for f in sorted(files):
            p = os.path.join(d, f)
            if f.endswith(".md") and f != "INDEX.md" and not os.path.islink(p):
                docs.append((os.path.getsize(p), p))
    docs.sort()
    return docs[len(docs) // 2][1]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "kernel": platform.release()}


def git_describe():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, text=True, capture_output=True).stdout.strip()
        return head + ("+uncommitted changes" if dirty else "")
    except OSError:
        return "?"


def build(args):
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "docidx-cli", "-p", "docidx-benches",
                        "--bin", "docidx", "--bin", "floors"], cwd=REPO, check=True)
    return (args.docidx or os.path.join(REPO, "target", "release", "docidx"),
            args.floors or os.path.join(REPO, "target", "release", "floors"))


def measure_corpus(name, src, bins, tools, args, tmp):
    docidx, floors = bins
    enc = args.encoding
    tree = os.path.join(tmp, name)
    shutil.copytree(src, tree, symlinks=True)
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty, exist_ok=True)
    touched = pick_doc(tree)
    original = open(touched, "rb").read()
    gen = [docidx, "generate", tree, "--quiet", "--encoding", enc]
    raw = {k: [] for k in ["reference", "cold", "ref-startup", "warm-first", "warm",
                           "warm-no-cache",
                           "touch-one", "validate", "validate-no-cache", "update-check", "lychee",
                           "code2prompt", "repomix"]}
    floors_runs, sizes = [], {}
    for r in range(args.rounds):
        print(f"  round {r + 1}/{args.rounds}", file=sys.stderr, flush=True)
        f = subprocess.run([floors, tree, "--encoding", enc], check=True, capture_output=True,
                           text=True)
        floors_runs.append(json.loads(f.stdout))
        remove_outputs(tree)
        if tools.get("reference"):
            raw["reference"].append(run([sys.executable, REF, tree, "--encoding", enc,
                                         "--jobs", "2"]))
        # The peers pack the same Markdown files into one prompt and count its tokens
        # (code2prompt has no o200k_base; repomix counts with o200k_base).
        if tools.get("code2prompt"):
            raw["code2prompt"].append(run([tools["code2prompt"], tree, "--include", "**/*.md",
                                           "--encoding", "cl100k", "--output-file",
                                           os.path.join(tmp, "c2p.out")]))
        if tools.get("repomix"):
            raw["repomix"].append(run([tools["repomix"], tree, "--include", "**/*.md",
                                       "--quiet", "--output", os.path.join(tmp, "repomix.out")]))
        raw["cold"].append(run(gen))
        if tools.get("reference"):
            raw["ref-startup"].append(run([sys.executable, REF, empty, "--encoding", enc,
                                           "--jobs", "2"]))
        raw["warm-first"].append(run(gen))
        raw["warm"].append(run(gen))
        raw["warm-no-cache"].append(run(gen + ["--no-cache"]))
        with open(touched, "ab") as fh:
            fh.write(b"\nOne more line, so this doc changed.\n")
        raw["touch-one"].append(run(gen))
        with open(touched, "wb") as fh:
            fh.write(original)
        subprocess.run(gen, check=True)
        raw["validate"].append(run([docidx, "validate", tree, "--encoding", enc]))
        raw["validate-no-cache"].append(run([docidx, "validate", tree, "--encoding", enc,
                                             "--no-cache"]))
        raw["update-check"].append(run([docidx, "update-tokens", tree, "--check", "--quiet",
                                        "--encoding", enc]))
        if tools.get("lychee"):
            raw["lychee"].append(run([tools["lychee"], "--offline", "--include-fragments",
                                      "--no-progress", "**/*.md"], cwd=tree))
    for out in ["INDEX.md", "INDEX.json", ".doc_hashes.json"]:
        p = os.path.join(output_dir(tree), out)
        sizes[out] = os.path.getsize(p) if os.path.exists(p) else None
    shutil.rmtree(tree)
    raw = {k: v for k, v in raw.items() if v}
    return summarise(name, raw, floors_runs, sizes, touched[len(tree) + 1:], len(original))


def summarise(name, raw, floors_runs, sizes, touched, touched_bytes):
    cores = os.cpu_count()
    fl = floors_runs[0]
    for run_ in floors_runs:
        # The floor as the issue defines it: the tokenizer's own single-thread rate.
        rate = run_["tokenizer_1t_mb_s"] * 1e6
        run_["cold_floor_s"] = run_["bytes"] / (cores * rate) + run_["encoder_build_s"]
        # The same with docidx's counter (same counts, a memo of short pieces).
        rate = run_["count_1t_mb_s"] * 1e6
        run_["cold_floor_docidx_s"] = run_["bytes"] / (cores * rate) + run_["encoder_build_s"]
        # The same with the rate measured on all cores at once: what the cores really gave
        # (lower than cores x the 1-thread rate on a machine that is busy with other work).
        run_["cold_floor_measured_s"] = (run_["bytes"] / (run_["count_nt_mb_s"] * 1e6)
                                         + run_["encoder_build_s"])
    floors = {k: median(r[k] for r in floors_runs) for k in floors_runs[0]
              if isinstance(floors_runs[0][k], (int, float))}
    med = {k: {"wall_s": median(x["wall_s"] for x in v),
               "maxrss_mb": median(x["maxrss_kb"] / 1024 for x in v),
               "rcs": sorted({x["rc"] for x in v})} for k, v in raw.items()}

    def ratio(a, b):
        a = med[a]["wall_s"] if isinstance(a, str) and a in med else a
        b = med[b]["wall_s"] if isinstance(b, str) and b in med else b
        return a / b if isinstance(a, float) and isinstance(b, float) and b > 0 else None

    # The floor is the faster of one thread and all cores (on a small tree, threads cost more
    # than they save).
    wrh = min(floors["walk_read_hash_1t_s"], floors["walk_read_hash_nt_s"])
    floors["walk_read_hash_floor_s"] = wrh
    ws = min(floors["walk_stat_1t_s"], floors["walk_stat_nt_s"])
    floors["walk_stat_floor_s"] = ws
    one_file = touched_bytes / (floors["count_1t_mb_s"] * 1e6)
    ratios = {
        "cold / cold floor": ratio("cold", floors["cold_floor_s"]),
        "cold / cold floor at docidx's counting rate": ratio("cold", floors["cold_floor_docidx_s"]),
        "cold / cold floor at the measured all-core rate": ratio(
            "cold", floors["cold_floor_measured_s"]),
        "reference / cold": ratio("reference", "cold"),
        "warm / walk+read+hash floor": ratio("warm", wrh),
        "warm / walk+stat floor": ratio("warm", ws),
        "warm-first / walk+read+hash floor": ratio("warm-first", wrh),
        "validate / walk+read+hash floor": ratio("validate", wrh),
        "warm-no-cache / walk+read+hash floor": ratio("warm-no-cache", wrh),
        "validate-no-cache / walk+read+hash floor": ratio("validate-no-cache", wrh),
        "update-check / walk+read+hash floor": ratio("update-check", wrh),
        "reference / warm": ratio("reference", "warm"),
        "reference / warm-first": ratio("reference", "warm-first"),
        "lychee / validate": ratio("lychee", "validate"),
        "ref-startup / validate": ratio("ref-startup", "validate"),
        "code2prompt / cold": ratio("code2prompt", "cold"),
        "repomix / cold": ratio("repomix", "cold"),
    }
    extra = {"touch-one minus warm (s)": (med["touch-one"]["wall_s"] - med["warm"]["wall_s"]),
             "counting the touched doc alone (s)": one_file}
    return {"corpus": name, "files": fl["files"], "bytes": fl["bytes"], "tokens": fl["tokens"],
            "touched_doc": touched, "touched_doc_bytes": touched_bytes, "output_bytes": sizes,
            "floors": floors, "floors_runs": floors_runs, "medians": med,
            "ratios": {k: v for k, v in ratios.items() if v is not None}, "extra": extra,
            "raw": raw}


def print_corpus(s):
    mb = s["bytes"] / 1e6
    print(f"\n## {s['corpus']}: {s['files']:,} docs, {mb:.1f} MB, {s['tokens']:,} tokens"
          f" (touch-one changes {s['touched_doc']}, {s['touched_doc_bytes']:,} bytes)")
    print(f"\n| run | median s | min s | max s | peak RSS MB | exit codes |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for k, v in s["raw"].items():
        walls = [x["wall_s"] for x in v]
        m = s["medians"][k]
        print(f"| {k} | {m['wall_s']:.3f} | {min(walls):.3f} | {max(walls):.3f} | "
              f"{m['maxrss_mb']:.1f} | {','.join(map(str, m['rcs']))} |")
    f = s["floors"]
    t = f"{f['threads']:.0f}"
    print(f"\nfloors (medians): walk {f['walk_1t_s']:.3f} s on 1 thread, {f['walk_nt_s']:.3f} s"
          f" on {t}; walk+stat {f['walk_stat_1t_s']:.3f} s on 1 thread,"
          f" {f['walk_stat_nt_s']:.3f} s on {t}; walk+read+hash {f['walk_read_hash_1t_s']:.3f} s on 1 thread,"
          f" {f['walk_read_hash_nt_s']:.3f} s on {t} (floor: the faster,"
          f" {f['walk_read_hash_floor_s']:.3f} s); encoder build {f['encoder_build_s']:.3f} s;"
          f" counting: the tokenizer {f['tokenizer_1t_mb_s']:.2f} MB/s on 1 thread, docidx"
          f" {f['count_1t_mb_s']:.2f} MB/s on 1 thread and {f['count_nt_mb_s']:.2f} MB/s"
          f" on {t}; cold floor = bytes / ({t} x the tokenizer's 1-thread rate) + encoder build ="
          f" {f['cold_floor_s']:.3f} s ({f['cold_floor_docidx_s']:.3f} s at docidx's rate,"
          f" {f['cold_floor_measured_s']:.3f} s at docidx's {t}-thread rate)")
    print("\n| ratio | value |")
    print("| --- | ---: |")
    for k, v in s["ratios"].items():
        print(f"| {k} | {v:.2f} |")
    for k, v in s["extra"].items():
        print(f"| {k} | {v:.3f} |")
    o = s["output_bytes"]
    print(f"\noutputs: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in o.items() if v))
    for k, v in s["raw"].items():
        # docidx: 0 clean, 1 findings; lychee: 2 broken links (images were dropped from the
        # corpora, so some are expected).
        ok = (0, 2) if k == "lychee" else (0, 1)
        bad = [x for x in v if x["rc"] not in ok]
        if bad:
            print(f"note: {k} exited {bad[0]['rc']}: {bad[0]['stderr'].strip()[-300:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", nargs="*", default=CORPORA)
    ap.add_argument("--corpora", default="/tmp/corpora")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--encoding", default="cl100k", choices=["cl100k", "o200k"])
    ap.add_argument("--json", metavar="OUT", help="write every raw measurement here")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--docidx", help="docidx binary [default: target/release/docidx]")
    ap.add_argument("--floors", help="floors binary [default: target/release/floors]")
    args = ap.parse_args()

    if any(not os.path.isdir(os.path.join(args.corpora, c)) for c in args.corpus):
        subprocess.run(["bash", UNPACK, args.corpora], check=True, stdout=subprocess.DEVNULL)
    tools = {"reference": None, "lychee": find_tool("lychee"),
             "code2prompt": find_tool("code2prompt"), "repomix": find_tool("repomix")}
    if subprocess.run([sys.executable, "-c", "import tiktoken"],
                      capture_output=True).returncode == 0:
        tools["reference"] = REF
    else:
        print("note: tiktoken is not installed (python3 -m pip install tiktoken); "
              "skipping the reference", file=sys.stderr)

    commit = git_describe()  # before building: what the binaries are built from
    with tempfile.TemporaryDirectory(prefix="docidx-compare-") as tmp:
        # Copies, so a concurrent rebuild cannot swap a binary in the middle of a run.
        bins = []
        for path in build(args):
            copy = os.path.join(tmp, os.path.basename(path))
            shutil.copy2(path, copy)
            bins.append(copy)
        version = subprocess.run([bins[0], "--version"], capture_output=True,
                                 text=True).stdout.strip()
        lychee_version = (subprocess.run([tools["lychee"], "--version"], capture_output=True,
                                         text=True).stdout.strip() if tools["lychee"] else None)
        info = {"machine": machine(), "docidx": version, "commit": commit,
                "encoding": args.encoding, "rounds": args.rounds,
                "tools": {k: bool(v) for k, v in tools.items()}, "lychee": lychee_version}
        print(f"# docidx vs the Python reference ({args.encoding}, {args.rounds} rounds)")
        m = info["machine"]
        print(f"\nmachine: {m['cores']} cores, {m['cpu']}, Python {m['python']}; {version}"
              f" at {info['commit']}")
        missing = [k for k, v in tools.items() if not v]
        if missing:
            print("not installed (skipped): " + ", ".join(missing))
        results = []
        for name in args.corpus:
            print(f"{name}…", file=sys.stderr, flush=True)
            s = measure_corpus(name, os.path.join(args.corpora, name), bins, tools, args, tmp)
            results.append(s)
            print_corpus(s)
            sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"info": info, "corpora": results}, fh, indent=1)
            fh.write("\n")


if __name__ == "__main__":
    main()
