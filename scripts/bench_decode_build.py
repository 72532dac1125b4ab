#!/usr/bin/python3
"""effdl's session build time for a pruned model stored as bitmask against the same model stored
densely (issue 7: the bitmask decode is folded at build). resnet18 pruned 50%, `effdl bench
--threads T --json`: median of --reps alternating runs of session_build_ms and latency p50, and
the bitmask/dense ratios. With --baseline OTHER_EFFDL the same for another binary (e.g. main's),
measured in the same rounds, so the two are compared under the same load. Run by hand:
    /usr/bin/python3 scripts/bench_decode_build.py [build-cc/effdl] [--baseline /path/effdl] [--reps 7]
Needs /tmp/effdl-zoo/resnet18.onnx (scripts/make_zoo.py)."""
import argparse, json, os, statistics, subprocess, tempfile, time

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
ap = argparse.ArgumentParser()
ap.add_argument("effdl", nargs="?", default=os.path.join(root, "build-cc", "effdl"))
ap.add_argument("--baseline", help="another effdl binary timed in the same rounds")
ap.add_argument("--model", default="/tmp/effdl-zoo/resnet18.onnx")
ap.add_argument("--reps", type=int, default=7)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--iters", type=int, default=5)
a = ap.parse_args()
if not os.path.exists(a.model):
    raise SystemExit("%s is missing: run /usr/bin/python3 scripts/make_zoo.py" % a.model)

tmp = tempfile.mkdtemp(prefix="effdl-decode-build-")
models = {}
for fmt in ("dense", "bitmask"):
    models[fmt] = os.path.join(tmp, "r18_p50_%s.onnx" % fmt)
    subprocess.run([a.effdl, "optimize", a.model, "-o", models[fmt], "--force", "-q", "--prune", "0.5",
                    "--sparse-format", fmt, "--bench-iters", "0"], check=True, stdout=subprocess.DEVNULL)

binaries = [("this", a.effdl)] + ([("baseline", a.baseline)] if a.baseline else [])
res = {(b, f): ([], [], []) for b, _ in binaries for f in models}
for _ in range(a.reps):
    for b, exe in binaries:
        for f, path in models.items():
            t0 = time.perf_counter()
            out = subprocess.run([exe, "bench", path, "--threads", str(a.threads), "--iters", str(a.iters),
                                  "--warmup", "1", "--json", "-q"], check=True, capture_output=True, text=True).stdout
            wall = (time.perf_counter() - t0) * 1e3
            j = json.loads(out)
            res[(b, f)][0].append(j["session_build_ms"])
            res[(b, f)][1].append(j["latency_ms"]["p50"])
            res[(b, f)][2].append(wall)

print("resnet18 pruned 50%%, %d thread(s), median of %d alternating runs (%d inferences each)" % (a.threads, a.reps, a.iters))
print("%-9s %-8s %9s %7s %9s %7s %9s %7s %9s" % ("binary", "format", "build ms", "ratio", "p50 ms", "ratio", "wall ms",
                                                 "ratio", "MiB"))
for b, exe in binaries:
    dense = [statistics.median(x) for x in res[(b, "dense")]]
    for f, path in models.items():
        m = [statistics.median(x) for x in res[(b, f)]]
        print("%-9s %-8s %9.1f %6.2fx %9.2f %6.2fx %9.1f %6.2fx %9.2f" % (
            b, f, m[0], m[0] / dense[0], m[1], m[1] / dense[1], m[2], m[2] / dense[2], os.path.getsize(path) / 2**20))
print("wall: the whole `effdl bench` process (start, model load, session build, %d inferences)" % (a.iters + 1))
for b, _ in binaries:
    for f in models:
        print("raw %s %s build: %s" % (b, f, " ".join("%.0f" % v for v in res[(b, f)][0])))
