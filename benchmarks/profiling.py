"""`python -m benchmarks.profiling`: where cold start and per-event CPU go, in both implementations.

1. Cold start: ``-X importtime`` of ``import index`` from each unpacked zip, in a fresh runtime
   interpreter that has already imported what the handler host imports (as SCF's bootstrap has);
   self time summed per top-level package (``shared.*`` per module).
2. Per event: a sampling profile (py-spy, ``pip install py-spy``; skipped when absent) of one warm
   handler process per implementation over the same events against the emulator. Only samples of
   the handler's threads holding the GIL count (``--gil``: running Python, not waiting on a socket
   or a lock); each is attributed to every layer one of its frames belongs to (inclusive share)
   and to the package of its innermost frame (self share).
Prints plain text for docs/performance.md; measures nothing that ``make bench`` budgets.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from benchmarks import build, phases, run
from benchmarks.callback_phases import callback_events
from benchmarks.emulator_handle import running_emulator
from benchmarks.fixture import Seeder, cos_event_line

BOOTSTRAP = "import sys, json, logging, importlib, resource, time; sys.path[0] = sys.argv[1]"
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
FRAME_FILE = re.compile(r"\(([^()]*?)(?::\d+)?\)$")
HANDLER_FRAMES = ("main_handler (", "_worker (concurrent/futures/thread.py")
LAYERS = (
    ("requests (Session, adapters; incl. below)", ("requests/",)),
    ("urllib3 (pool, connection; incl. below)", ("urllib3/",)),
    ("http.client (incl. header parsing)", ("http/client.py",)),
    ("header parsing (email.parser)", ("email/",)),
    ("socket send/recv", ("socket.py",)),
    ("signing", ("shared/tencent/signing.py", "qcloud_cos/cos_auth.py")),
    (
        "XML build/parse",
        ("shared/tencent/xml_answers.py", "xmltodict.py", "qcloud_cos/cos_comm.py", "xml/"),
    ),
    ("logging", ("logging/", "shared/decision_log.py")),
    ("settings from environ", ("shared/settings/functions.py",)),
)
# Counted on the innermost frame only: every frame of a pool thread sits below concurrent/.
THREAD_LAYER = ("thread hand-off (innermost frame)", ("threading.py", "concurrent/", "queue.py"))


def import_profile(python: str, zip_dir: Path) -> Counter[str]:
    """Microseconds of import self time per package, for ``import index`` alone."""
    done = subprocess.run(
        [python, "-S", "-s", "-X", "importtime", "-c", f"{BOOTSTRAP}; import index", zip_dir],
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        cwd=zip_dir,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [IMPORT_LINE.match(line) for line in done.stderr.splitlines()]
    names = [match.group(4) for match in lines if match]
    first = names.index("time") + 1 if "time" in names else 0  # after the bootstrap's imports
    totals: Counter[str] = Counter()
    for match in [match for match in lines if match][first:]:
        name = match.group(4)
        group = name if name.startswith("shared.") else name.split(".")[0]
        totals[group] += int(match.group(1))
    return totals


def print_import_profiles(bench: phases.Bench, function: str, top: int) -> None:
    for impl in phases.IMPLEMENTATIONS:
        totals = import_profile(bench.python, bench.unpacked[(impl, function)])
        print(
            f"\n{impl}: import index = {sum(totals.values()) / 1000:.1f} ms (self time by package)"
        )
        for name, micros in totals.most_common(top):
            print(f"  {micros / 1000:6.1f} ms  {name}")


def layer_shares(collapsed: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(handler samples, inclusive samples per layer, self samples per package)."""
    total, layers, packages = 0, Counter[str](), Counter[str]()
    for line in collapsed.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if not any(frame.startswith(HANDLER_FRAMES) for frame in frames):
            continue
        count = int(count_text)
        total += count
        files = [match.group(1) for match in map(FRAME_FILE.search, frames) if match]
        for name, prefixes in LAYERS:
            if any(part in path for path in files for part in prefixes):
                layers[name] += count
        leaf = files[-1] if files else "?"
        if any(part in leaf for part in THREAD_LAYER[1]):
            layers[THREAD_LAYER[0]] += count
        packages[leaf.split("/")[0] if "/" in leaf else leaf] += count
    return total, layers, packages


def print_sampling_profiles(bench: phases.Bench, function: str, events: int) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).is_file():
        print("\n(py-spy not installed: `.venv/bin/pip install py-spy` for the sampling profile)")
        return
    job_delay = 0.0 if function == phases.CALLBACK else phases.PARKED_JOB_DELAY_S
    with running_emulator(0, job_delay, bench.scratch / "emulator-profile.log") as emulator:
        if function == phases.CALLBACK:
            seeder, objects, lines = callback_events(bench, emulator, events)
        else:
            seeder = Seeder(emulator.endpoint_url)
            objects = seeder.put_objects("up", phases.UPLOAD_OBJECTS, bench.media)
            lines = [cos_event_line(objects[i % len(objects)]) for i in range(events)]
        for impl in phases.IMPLEMENTATIONS:
            if function == phases.CALLBACK:
                seeder.clear_tags(objects)
            out = bench.scratch / f"{impl}.collapsed"
            wrapper = [
                spy,
                "record",
                "--gil",
                "-r",
                "1000",
                "--format",
                "raw",
                "-o",
                str(out),
                "--",
            ]
            host = bench.run(impl, function, lines, emulator, warmup=20, wrapper=wrapper)
            report_sampling(impl, out, host.report["cpu_ms"])


def report_sampling(impl: str, collapsed: Path, cpu_ms: Sequence[float]) -> None:
    total, layers, packages = layer_shares(collapsed)
    mean = sum(cpu_ms) / len(cpu_ms)
    print(f"\n{impl}: {total} samples in the handler's threads; {mean:.3f} ms CPU per event")
    for name, _ in (*LAYERS, THREAD_LAYER):
        print(f"  {100 * layers[name] / max(total, 1):5.1f} %  {name}")
    shares = ", ".join(f"{n} {100 * c / max(total, 1):.0f} %" for n, c in packages.most_common(8))
    print(f"  innermost frame by package: {shares}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__)
    parser.add_argument("--function", choices=(phases.UPLOAD, phases.CALLBACK), action="append")
    parser.add_argument("--events", type=int, default=1500, help="events per sampled process")
    parser.add_argument("--top", type=int, default=15, help="packages per import profile")
    args = parser.parse_args(argv)
    runtime = build.find_runtime()
    zips = run.build_zips(runtime)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as work:
        bench = run.prepare(runtime, zips, Path(work))
        for function in args.function or (phases.UPLOAD, phases.CALLBACK):
            print(f"\n===== {function}: cold start (python -X importtime) =====")
            print_import_profiles(bench, function, args.top)
            print(f"\n===== {function}: per event (py-spy, {args.events} events) =====")
            print_sampling_profiles(bench, function, args.events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
