"""What the interop checks share: finding ONNX Runtime (through node and scripts/ort/ort_run.js),
the effdl/ORT output folders, and running one model in ORT.

SKIP (77) is ctest's skipped code for these tests (SKIP_RETURN_CODE in tests/CMakeLists.txt).
"""
import os
import subprocess

SKIP = 77


def harness_or_skip_message(src):
    """Returns (harness path, None) when ONNX Runtime answers, else (None, the reason to print)."""
    harness = os.path.join(src, "scripts", "ort", "ort_run.js")
    r = subprocess.run(["node", harness, "check"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, "SKIPPED: ONNX Runtime is not available: " + (r.stdout + r.stderr).strip()
    return harness, None


def io_dirs(tmp):
    """Creates and returns the inputs, effdl-outputs and ORT-outputs folders under tmp."""
    dirs = tuple(os.path.join(tmp, d) for d in ("in", "effdl", "ort"))
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    return dirs


def run_ort(harness, model, input_dir, output_dir):
    """Runs model in ONNX Runtime (1 thread) on input_dir's tensors; returns None or the error."""
    r = subprocess.run(["node", harness, "run", model, "--input-dir", input_dir, "--output-dir", output_dir,
                        "--threads", "1"], capture_output=True, text=True)
    if r.returncode != 0:
        return "ONNX Runtime failed: " + (r.stdout.strip() or r.stderr.strip())
    return None
