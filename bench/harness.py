"""The measuring half of bench/run.sh (run.sh builds, this measures). Stdlib only.

    python3 bench/harness.py [--quick] --venv-python PATH --node-modules DIR

Starts the release emulator as its own process (rate limits off), and for every
measurement gives it a fresh queue through the admin API (POST /_emulator/reset, then
POST /_emulator/events {"generate": n}). Bench traffic goes to 127.0.0.1 only.
Writes bench/results.json (bench/results-quick.json with --quick) and bench/.work/table.md,
and prints the Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Optional

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RELEASE = REPO / "target" / "release"
EMULATOR_BIN = RELEASE / "smartai-emulator"
CLI_BIN = RELEASE / "smartai-events"
BENCH_BIN = RELEASE / "smartai-bench"
WORK = BENCH / ".work"

MODES = {
    # events per throughput run, repetitions, events for the peak-RSS drain, idle-sync seconds,
    # cold-start runs
    "quick": {"drain_events": 20_000, "reps": 3, "rss_events": 100_000, "idle_seconds": 20, "cold_runs": 10},
    "full": {"drain_events": 100_000, "reps": 7, "rss_events": 1_000_000, "idle_seconds": 60, "cold_runs": 30},
}

TARGETS = {
    "python_vs_plain": 3.0,
    "node_vs_plain": 1.5,
    "rust_vs_raw": 0.80,
    "rss_cli_mb": 64,
    "rss_python_mb": 150,
    "rss_node_mb": 200,
    "import_ms": 50,
    "idle_cpu_percent": 1.0,
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Emulator:
    """The release emulator as a separate process, so its memory is not counted."""

    def __init__(self) -> None:
        self.stderr = open(WORK / "emulator.stderr", "wb")
        self.proc = subprocess.Popen(
            [str(EMULATOR_BIN), "--port", "0", "--host", "127.0.0.1", "--events", "0", "--seed", "7", "--no-rate-limit"],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line:
            raise RuntimeError("emulator exited before its ready line; see bench/.work/emulator.stderr")
        ready = json.loads(line)
        self.url: str = ready["url"].rstrip("/")
        self.api_key: str = ready["apiKey"]
        self.secret_key: str = ready["secretKey"]
        if not self.url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"emulator is not on 127.0.0.1: {self.url}")

    def admin(self, method: str, path: str, body: Any = None, timeout: float = 600) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
        return json.loads(text) if text else None

    def fresh_queue(self, n: int) -> None:
        self.admin("POST", "/_emulator/reset")
        if n:
            self.admin("POST", "/_emulator/events", {"generate": n})
        pending = self.stats().get("pending")
        if pending != n:
            raise RuntimeError(f"emulator queue holds {pending} events, wanted {n}")

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.admin("GET", "/_emulator/stats")
        return stats

    def creds(self) -> list[str]:
        return [self.url, self.api_key, self.secret_key]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


# ---------------------------------------------------------------------------------------
# 1 + 2. Drain throughput and the emulator's raw capacity


def drain_commands(emu: Emulator, py: str, n: int) -> dict[str, list[str]]:
    c = emu.creds()
    flags = ["--url", emu.url, "--api-key", emu.api_key, "--secret-key", emu.secret_key, "--expect", str(n)]
    return {
        "raw_capacity": [str(BENCH_BIN), "raw", *flags],
        "raw_json": [str(BENCH_BIN), "raw-json", *flags],
        "rust_core": [str(BENCH_BIN), "core-drain", *flags],
        "rust_core_raw": [str(BENCH_BIN), "core-drain-raw", *flags],
        "python_async": [py, str(BENCH / "clients" / "py_package.py"), "async", *c, str(n)],
        "python_blocking": [py, str(BENCH / "clients" / "py_package.py"), "blocking", *c, str(n)],
        "plain_python": [py, str(BENCH / "baselines" / "plain_python.py"), *c, str(n)],
        "node_package": ["node", str(BENCH / "clients" / "node_package.js"), *c, str(n)],
        "plain_node": ["node", str(BENCH / "baselines" / "plain_node.mjs"), *c, str(n)],
    }


def run_json(cmd: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Runs a drain client; returns its JSON line plus its exit code.

    A client that printed its result line and then died (e.g. SIGABRT while the
    interpreter shuts down) still measured the drain: the run counts, and the exit code is
    kept in results.json and reported. One that printed no result line fails the bench."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=WORK)
    lines = p.stdout.strip().splitlines()
    try:
        out: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(f"{cmd[:3]} exited {p.returncode}: {p.stderr.strip()[-2000:]} {p.stdout.strip()[-500:]}")
    out["exit_code"] = p.returncode
    if p.returncode != 0:
        out["stderr_tail"] = p.stderr.strip()[-500:]
        log(f"WARNING: {' '.join(cmd[:3])} printed its result but exited {p.returncode}")
    return out


# Each baseline with the clients compared against it. A repetition runs a group back to
# back, so that each ratio compares runs seconds apart: on a shared machine the speed drifts
# by ±30 % within minutes, and a ratio of medians taken over the whole series mixes
# different moments.
GROUPS = [
    ["plain_python", "python_async", "python_blocking"],
    ["plain_node", "node_package"],
    ["raw_capacity", "rust_core", "rust_core_raw", "raw_json"],
]

# (client, baseline) pairs whose ratios the targets are about, and one reference pair.
PAIRS = [
    ("python_async", "plain_python"),
    ("python_blocking", "plain_python"),
    ("node_package", "plain_node"),
    ("rust_core", "raw_capacity"),
    ("rust_core_raw", "raw_capacity"),
    # No target: how much of the ceiling is left to a client that only reads the JSON,
    # and how close the core's raw-event drain comes to that client.
    ("raw_json", "raw_capacity"),
    ("rust_core_raw", "raw_json"),
]


def rep_order(rep: int) -> list[str]:
    """The clients of one repetition: the groups, starting one group further along each
    time, and within a group the baseline first on even repetitions and last on odd ones,
    so that neither side of a ratio always runs first."""
    groups = GROUPS[rep % len(GROUPS) :] + GROUPS[: rep % len(GROUPS)]
    return [name for g in groups for name in (g if rep % 2 == 0 else list(reversed(g)))]


def throughput(emu: Emulator, py: str, env: dict[str, str], n: int, reps: int) -> dict[str, Any]:
    cmds = drain_commands(emu, py, n)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in cmds}
    for rep in range(reps):
        for name in rep_order(rep):
            emu.fresh_queue(n)
            out = run_json(cmds[name], env, timeout=600)
            left = emu.stats().get("pending")
            if out["events"] != n or left != 0:
                raise RuntimeError(f"{name}: drained {out['events']} of {n}, {left} left in the queue")
            out["events_per_s"] = n / out["seconds"]
            runs[name].append(out)
            log(f"rep {rep + 1}/{reps} {name:<16} {out['events_per_s']:10.0f} events/s")
    return {
        name: {
            "runs": rs,
            "median_events_per_s": median([r["events_per_s"] for r in rs]),
            "abnormal_exits": [r["exit_code"] for r in rs if r["exit_code"] != 0],
        }
        for name, rs in runs.items()
    }


def paired_ratios(t: dict[str, Any]) -> dict[str, Any]:
    """For each pair, the ratio within every repetition and their median."""
    out: dict[str, Any] = {}
    for a, b in PAIRS:
        per_rep = [ra["events_per_s"] / rb["events_per_s"] for ra, rb in zip(t[a]["runs"], t[b]["runs"])]
        out[f"{a}/{b}"] = {"per_rep": per_rep, "median": median(per_rep), "min": min(per_rep), "max": max(per_rep)}
    return out


# ---------------------------------------------------------------------------------------
# 3. Peak RSS during a large drain


def time_v(cmd: list[str], env: dict[str, str], timeout: float, cwd: Path) -> tuple[dict[str, Any], str]:
    """Runs cmd under /usr/bin/time -v; returns its report and cmd's stdout."""
    report_path = WORK / "time-v.txt"
    p = subprocess.run(
        ["/usr/bin/time", "-v", "-o", str(report_path), *cmd],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=cwd,
    )
    report: dict[str, Any] = {"exit_code": p.returncode}
    if p.returncode != 0:
        # The caller checks that the queue was drained; a crash after that is reported.
        report["stderr_tail"] = p.stderr.strip()[-500:]
        log(f"WARNING: {' '.join(cmd[:3])} exited {p.returncode} under /usr/bin/time")
    for line in report_path.read_text().splitlines():
        key, _, value = line.strip().rpartition(": ")
        if key == "Maximum resident set size (kbytes)":
            report["max_rss_kb"] = int(value)
        elif key == "Elapsed (wall clock) time (h:mm:ss or m:ss)":
            parts = [float(x) for x in value.split(":")]
            report["wall_s"] = sum(x * 60**i for i, x in enumerate(reversed(parts)))
        elif key == "User time (seconds)":
            report["user_s"] = float(value)
        elif key == "System time (seconds)":
            report["system_s"] = float(value)
        elif line.strip().startswith("Command terminated by signal"):
            report["terminated_by_signal"] = int(line.split()[-1])
    return report, p.stdout


def peak_rss(emu: Emulator, py: str, env: dict[str, str], n: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="rss-", dir=WORK))
    c = emu.creds()
    cmds = {
        "cli_sync_once_sqlite": [
            str(CLI_BIN),
            "sync",
            "--once",
            "--no-progress",
            "--db",
            f"sqlite://{tmp}/bench.db",
            "--api-key",
            emu.api_key,
            "--secret-key",
            emu.secret_key,
            "--base-url",
            emu.url,
        ],
        "python_async": [py, str(BENCH / "clients" / "py_package.py"), "async", *c, str(n)],
        "python_blocking": [py, str(BENCH / "clients" / "py_package.py"), "blocking", *c, str(n)],
        "node_package": ["node", str(BENCH / "clients" / "node_package.js"), *c, str(n)],
    }
    for name, cmd in cmds.items():
        log(f"peak RSS: generating {n} events for {name}")
        t0 = time.perf_counter()
        emu.fresh_queue(n)
        gen_s = time.perf_counter() - t0
        report, _ = time_v(cmd, env, timeout=3600, cwd=tmp)
        left = emu.stats().get("pending")
        if left != 0:
            raise RuntimeError(f"{name}: {left} events left in the queue after the drain")
        report["events"] = n
        report["max_rss_mb"] = report["max_rss_kb"] / 1024
        report["events_per_s_incl_startup"] = n / report["wall_s"] if report.get("wall_s") else None
        report["queue_generation_s"] = gen_s
        results[name] = report
        log(f"peak RSS {name:<22} {report['max_rss_mb']:7.1f} MB ({report['wall_s']:.1f} s)")
    shutil.rmtree(tmp, ignore_errors=True)
    return results


# ---------------------------------------------------------------------------------------
# 4. Cold start and idle sync


def cold_start(py: str, env: dict[str, str], runs: int) -> dict[str, Any]:
    pairs = {
        "python_import": ([py, "-c", "import smartai_events"], [py, "-c", "pass"]),
        "node_require": (["node", "-e", "require('smartai-events')"], ["node", "-e", ""]),
    }
    out: dict[str, Any] = {}
    hyperfine = shutil.which("hyperfine")
    for name, (cmd, base) in pairs.items():
        if hyperfine:
            export = WORK / f"hyperfine-{name}.json"
            subprocess.run(
                [
                    hyperfine,
                    "--warmup",
                    "3",
                    "--runs",
                    str(runs),
                    "-N",
                    "--export-json",
                    str(export),
                    shlex.join(base),
                    shlex.join(cmd),
                ],
                check=True,
                capture_output=True,
                env=env,
                cwd=WORK / "node",
                timeout=600,
            )
            res = json.loads(export.read_text())["results"]
            base_times = [t * 1e3 for t in res[0]["times"]]
            cmd_times = [t * 1e3 for t in res[1]["times"]]
            tool = "hyperfine -N --warmup 3"
        else:
            base_times, cmd_times = [], []
            for _ in range(3):  # warm-up
                subprocess.run(cmd, check=True, env=env, cwd=WORK / "node", capture_output=True)
            for _ in range(runs):  # alternate the pair
                for target, argv in ((base_times, base), (cmd_times, cmd)):
                    t0 = time.perf_counter()
                    subprocess.run(argv, check=True, env=env, cwd=WORK / "node", capture_output=True)
                    target.append((time.perf_counter() - t0) * 1e3)
            tool = "subprocess wall time, 3 warm-ups"
        out[name] = {
            "command": shlex.join(cmd),
            "baseline_command": shlex.join(base),
            "tool": tool,
            "runs_ms": cmd_times,
            "baseline_runs_ms": base_times,
            "median_ms": median(cmd_times),
            "baseline_median_ms": median(base_times),
            "net_ms": median(cmd_times) - median(base_times),
        }
        log(f"cold start {name}: {median(cmd_times):.1f} ms (baseline {median(base_times):.1f} ms)")
    return out


def proc_cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the ")" field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    return int(fields[11]) + int(fields[12])


def proc_status_kb(pid: int, key: str) -> Optional[int]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def idle_sync(emu: Emulator, env: dict[str, str], seconds: int) -> dict[str, Any]:
    emu.fresh_queue(0)
    tmp = Path(tempfile.mkdtemp(prefix="idle-", dir=WORK))
    cmd = [
        str(CLI_BIN),
        "sync",
        "--interval",
        "30s",
        "--no-progress",
        "--db",
        f"sqlite://{tmp}/idle.db",
        "--api-key",
        emu.api_key,
        "--secret-key",
        emu.secret_key,
        "--base-url",
        emu.url,
    ]
    with open(tmp / "sync.out", "wb") as so, open(tmp / "sync.err", "wb") as se:
        proc = subprocess.Popen(cmd, stdout=so, stderr=se, env=env, cwd=tmp)
        try:
            time.sleep(3)  # start-up, migrations and the first (empty) poll
            if proc.poll() is not None:
                raise RuntimeError(f"idle sync exited {proc.returncode}: {(tmp / 'sync.err').read_text()[-1000:]}")
            hz = os.sysconf("SC_CLK_TCK")
            t0, c0 = time.monotonic(), proc_cpu_ticks(proc.pid)
            rss0 = proc_status_kb(proc.pid, "VmRSS")
            time.sleep(seconds)
            t1, c1 = time.monotonic(), proc_cpu_ticks(proc.pid)
            rss1 = proc_status_kb(proc.pid, "VmRSS")
            hwm = proc_status_kb(proc.pid, "VmHWM")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    cpu_s = (c1 - c0) / hz
    result = {
        "window_s": t1 - t0,
        "cpu_s": cpu_s,
        "cpu_percent": 100 * cpu_s / (t1 - t0),
        "clock_ticks_per_s": hz,
        "rss_start_kb": rss0,
        "rss_end_kb": rss1,
        "vm_hwm_kb": hwm,
        "emulator_stats_after": emu.stats(),
    }
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"idle sync: {result['cpu_percent']:.3f} % CPU over {result['window_s']:.0f} s, RSS {rss1} kB")
    return result


# ---------------------------------------------------------------------------------------
# Machine, table


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break

    def version(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except Exception as e:  # noqa: BLE001 - informational only
            return f"unknown ({e})"

    return {
        "uname": " ".join(platform.uname()),
        "uname_a": version(["uname", "-a"]),
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "loadavg_start": Path("/proc/loadavg").read_text().strip(),
        "rustc": version(["rustc", "--version"]),
        "node": version(["node", "--version"]),
        "git_commit": version(["git", "-C", str(REPO), "rev-parse", "HEAD"]),
        # Others work in the same tree: the packages are built from the working tree.
        "git_dirty_paths": subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        ).stdout.splitlines(),
    }


def mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table(r: dict[str, Any]) -> str:
    t = r["throughput"]
    eps = {k: v["median_events_per_s"] for k, v in t.items()}
    rows = []

    ratios = r["ratios"]

    def ratio_row(what: str, a: str, b: str, target: Optional[float], percent: bool = False) -> None:
        q = ratios[f"{a}/{b}"]
        shown = (lambda x: f"{x * 100:.0f} %") if percent else (lambda x: f"{x:.2f}×")
        goal = "(reference)" if target is None else f"≥ {shown(target)}"
        verdict = "" if target is None else mark(q["median"] >= target)
        rows.append(
            f"| {what} | {eps[a]:,.0f} / {eps[b]:,.0f} events/s | **{shown(q['median'])}** "
            f"({shown(q['min'])}–{shown(q['max'])}) | {goal} | {verdict} |"
        )

    ratio_row("Python package, async `drain` vs plain Python", "python_async", "plain_python", TARGETS["python_vs_plain"])
    ratio_row(
        "Python package, blocking `drain` vs plain Python", "python_blocking", "plain_python", TARGETS["python_vs_plain"]
    )
    ratio_row("Node package `drain` vs plain Node", "node_package", "plain_node", TARGETS["node_vs_plain"])
    for key, label in (("rust_core", "Rust core `drain`"), ("rust_core_raw", "Rust core `drain_as::<RawEvent>`")):
        ratio_row(f"{label} vs emulator raw capacity", key, "raw_capacity", TARGETS["rust_vs_raw"], percent=True)
    ratio_row(
        "Raw loop reading each response with serde_json (IDs only) vs raw capacity",
        "raw_json",
        "raw_capacity",
        None,
        percent=True,
    )
    ratio_row(
        "Rust core `drain_as::<RawEvent>` vs that serde_json loop", "rust_core_raw", "raw_json", None, percent=True
    )
    rss = r["peak_rss"]
    n = next(iter(rss.values()))["events"]
    for key, label, target in (
        ("cli_sync_once_sqlite", "CLI `sync --once` into SQLite", TARGETS["rss_cli_mb"]),
        ("python_async", "Python package, async `drain`", TARGETS["rss_python_mb"]),
        ("python_blocking", "Python package, blocking `drain`", TARGETS["rss_python_mb"]),
        ("node_package", "Node package `drain`", TARGETS["rss_node_mb"]),
    ):
        mb = rss[key]["max_rss_mb"]
        rows.append(f"| Peak RSS, {label}, {n:,} events | {rss[key]['wall_s']:.1f} s | **{mb:.1f} MB** | < {target} MB | {mark(mb < target)} |")
    for key, label in (("python_import", "`import smartai_events`"), ("node_require", "`require('smartai-events')`")):
        c = r["cold_start"][key]
        rows.append(
            f"| Cold start, {label} (minus bare interpreter) | {c['median_ms']:.1f} − {c['baseline_median_ms']:.1f} ms "
            f"| **{c['net_ms']:.1f} ms** | < {TARGETS['import_ms']} ms | {mark(c['net_ms'] < TARGETS['import_ms'])} |"
        )
    idle = r["idle_sync"]
    rows.append(
        f"| Idle `sync --interval 30s`, CPU over {idle['window_s']:.0f} s | {idle['cpu_s']:.2f} s CPU, RSS {idle['rss_end_kb'] / 1024:.1f} MB "
        f"| **{idle['cpu_percent']:.2f} %** | < {TARGETS['idle_cpu_percent']} % | {mark(idle['cpu_percent'] < TARGETS['idle_cpu_percent'])} |"
    )
    notes = []
    for name, v in t.items():
        if v["abnormal_exits"]:
            notes.append(f"`{name}` exited abnormally after printing its result in {len(v['abnormal_exits'])} of {len(v['runs'])} runs (exit codes {v['abnormal_exits']})")
    for name, v in rss.items():
        if v["exit_code"] != 0:
            notes.append(f"peak-RSS run `{name}` exited {v['exit_code']} after draining the queue")
    head = (
        "| measurement | raw numbers (medians) | result (throughput: median of the per-repetition ratios, "
        "and their range) | target | |\n|---|---|---|---|---|"
    )
    cfg = r["config"]
    m = r["machine"]
    lines = [
        f"- SmartAI events benchmark ({r['mode']} mode), {r['date']}",
        f"- Machine: {m['cpu_model']}, {m['nproc']} CPUs; `{m['uname_a']}`; load average at start {m['loadavg_start']}",
        f"- Throughput: {cfg['drain_events']:,} events per run, batches of 100, {cfg['reps']} repetitions; each "
        "repetition runs every baseline with its clients back to back, and a ratio is the median of the "
        "repetitions' ratios.",
        "",
        head,
        *rows,
        "",
        "All drains, medians in events/s: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(eps.items(), key=lambda kv: -kv[1])),
    ]
    if notes:
        lines += ["", "Crashes (the drain itself completed; see results.json):", *[f"- {n}" for n in notes]]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--venv-python", required=True)
    ap.add_argument("--node-modules", required=True)
    ap.add_argument("--skip", action="append", default=[], help="throughput|rss|cold|idle (for debugging the harness)")
    args = ap.parse_args()
    mode = "quick" if args.quick else "full"
    cfg = MODES[mode]
    WORK.mkdir(exist_ok=True)
    (WORK / "node").mkdir(exist_ok=True)
    env = dict(os.environ)
    env["NODE_PATH"] = args.node_modules
    env.pop("ASSESSMENT_API_KEY", None)
    env.pop("ASSESSMENT_SECRET_KEY", None)
    env.pop("ASSESSMENT_BASE_URL", None)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["no_proxy"] = "127.0.0.1,localhost"
    for p in (EMULATOR_BIN, CLI_BIN, BENCH_BIN):
        if not p.exists():
            raise SystemExit(f"missing {p}: run bench/run.sh (it builds the release binaries)")

    started = time.time()
    results: dict[str, Any] = {
        "mode": mode,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": cfg,
        "targets": TARGETS,
    }
    results["machine"]["python"] = subprocess.run(
        [args.venv_python, "--version"], capture_output=True, text=True
    ).stdout.strip()
    emu = Emulator()
    try:
        log(f"emulator at {emu.url} ({mode} mode)")
        if "throughput" not in args.skip:
            results["throughput"] = throughput(emu, args.venv_python, env, cfg["drain_events"], cfg["reps"])
            results["ratios"] = paired_ratios(results["throughput"])
        if "rss" not in args.skip:
            results["peak_rss"] = peak_rss(emu, args.venv_python, env, cfg["rss_events"])
        if "cold" not in args.skip:
            results["cold_start"] = cold_start(args.venv_python, env, cfg["cold_runs"])
        if "idle" not in args.skip:
            results["idle_sync"] = idle_sync(emu, env, cfg["idle_seconds"])
    finally:
        emu.stop()
    results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().strip()
    results["elapsed_s"] = time.time() - started
    if not args.skip:
        results["table_markdown"] = table(results)
    # A quick check must not overwrite the full run that the README's table comes from.
    if args.skip:
        out = WORK / "results-partial.json"
    else:
        out = BENCH / ("results-quick.json" if args.quick else "results.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    if not args.skip:
        (WORK / "table.md").write_text(results["table_markdown"] + "\n")
        print(results["table_markdown"])
    log(f"wrote {out} in {results['elapsed_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
