"""Load test of ``policy serve``: HTTP requests per second and latency, beside the same work in process.

    python benchmarks/serve_load.py                       # 10,000 requests per endpoint, 4 clients
    python benchmarks/serve_load.py --quick               # 500 requests per endpoint (under a minute)
    python benchmarks/serve_load.py --requests 2000 --clients 8

The server runs in a subprocess (uvicorn, as ``policy serve`` runs it) on 127.0.0.1 with the shipped
``policies/`` folder as its library. After a warm-up and a run of one client alone (latency without
queueing), N client threads, each with one keep-alive connection (http.client), send POST /evaluate
(one enterprise of a shipped cases file against liuhe-key-industries-2023/new.policy), then POST
/match (the same facts against the whole library). The baseline is measured in this process: the
same evaluation called directly (``Policy.evaluate(...).to_json()``, ``Library.match(...).to_json()``),
so the ratio shows what HTTP, JSON and the server add. Nothing here asserts a time: the figures are
printed for docs/performance.md, in the style of ``benchmarks/bench.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import best_of, show

from policy_dsl.library import load_library
from policy_dsl.policy import read_json
from policy_dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "policies"
POLICY = "liuhe-key-industries-2023/new.policy"
CASES = LIBRARY / "liuhe-key-industries-2023" / "cases" / "new-cases.json"
#: OpenFisca's computation per entity as quoted for this comparison: a reference figure, NOT measured
#: here (benchmarks/bench.py (d) measures OpenFisca itself on populations when it is installed).
OPENFISCA_QUOTED_US = 300.0

#: The server: the library loaded and served as ``policy serve`` does, on a port the OS picks
#: (printed on the first line of stdout).
SERVER = """
import socket, sys
import uvicorn
from policy_dsl.library import load_library
from policy_dsl.serve import create_app
app = create_app(load_library(sys.argv[1]))
# IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so (else 40 ms ACK stalls)
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
uvicorn.Server(config).run(sockets=[sock])
"""


def start_server() -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(LIBRARY)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    deadline = time.monotonic() + 60
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                connection.close()
                return process, port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.05)


def drive(port: int, path: str, body: bytes, requests: int, clients: int) -> tuple[float, list[float]]:
    """``requests`` POSTs of ``body`` to ``path`` from ``clients`` threads, each with one keep-alive
    connection → (seconds for all, each request's latency in seconds). Any answer but 200 stops."""
    shares = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[str] = []
    ready = threading.Barrier(clients + 1)
    headers = {"Content-Type": "application/json"}

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.connect()
        mine = latencies[index]
        ready.wait()
        for _ in range(shares[index]):
            start = time.perf_counter()
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            answer = response.read()
            mine.append(time.perf_counter() - start)
            if response.status != 200:
                failures.append(f"{path}: {response.status} {answer[:300]!r}")
                break
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(failures[0])
    return elapsed, [latency for each in latencies for latency in each]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--requests", type=int, default=10_000, help="requests per endpoint")
    args.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    args.add_argument("--quick", action="store_true", help="500 requests per endpoint")
    options = args.parse_args()
    requests = 500 if options.quick else options.requests
    clients = options.clients
    warmup = 50 if options.quick else 200

    cases = json.loads(CASES.read_text(encoding="utf-8"))["cases"]
    case = cases[0]
    as_of = dt.date.fromisoformat(case["as_of"])
    evaluate_body = json.dumps(
        {"policy": POLICY, "facts": case["facts"], "as_of": case["as_of"]}, ensure_ascii=False
    )
    match_body = json.dumps({"facts": case["facts"], "as_of": case["as_of"]}, ensure_ascii=False)

    # the baseline, in this process: the same work without HTTP
    library = load_library(LIBRARY)
    policy = library.policies[POLICY]
    facts = read_json(SourceFile("body", evaluate_body), "facts")["facts"]  # as the server reads them
    repeat, number = (3, 100) if options.quick else (5, 500)
    direct_outcome = best_of(lambda: policy.evaluate(facts, as_of), repeat, number)
    direct_evaluate = best_of(lambda: policy.evaluate(facts, as_of).to_json(), repeat, number)
    direct_match = best_of(lambda: library.match(facts, as_of).to_json(), repeat, max(number // 5, 10))

    process, port = start_server()
    try:
        for path, body in (("/evaluate", evaluate_body), ("/match", match_body)):
            drive(port, path, body.encode(), warmup, clients)
        alone = drive(port, "/evaluate", evaluate_body.encode(), warmup * 2, 1)[1]
        evaluate_time, evaluate_latencies = drive(
            port, "/evaluate", evaluate_body.encode(), requests, clients
        )
        match_time, match_latencies = drive(port, "/match", match_body.encode(), requests, clients)
    finally:
        process.terminate()
        process.wait(10)

    print(f"machine: {platform.machine()} {platform.python_implementation()} {platform.python_version()}")
    print(f"cpus: {os.cpu_count()}; starlette {version('starlette')}, uvicorn {version('uvicorn')}")
    print(f"library: {LIBRARY.relative_to(ROOT)}/ ({len(library.policies)} policies)")
    print(f"enterprise: {CASES.relative_to(ROOT)}, case 1: {case['name']} (as of {case['as_of']})")
    print(
        f"mode: {'quick' if options.quick else 'full'}; {requests:,} requests per endpoint from {clients} "
        f"client threads (keep-alive), after {warmup} each to warm up; server in a subprocess"
    )
    rows: list[tuple[str, float, str, float | None]] = [
        ("in process (baseline, this process)", 0.0, "", None),
        (f"  Policy.evaluate + to_json: {POLICY}", direct_evaluate * 1e6, "µs", 1.0),
        (
            "  Policy.evaluate alone (the typed outcome)",
            direct_outcome * 1e6,
            "µs",
            direct_outcome / direct_evaluate,
        ),
        (f"  Library.match + to_json: {len(library.policies)} policies", direct_match * 1e6, "µs", None),
    ]
    for path, elapsed, latencies, direct in (
        ("/evaluate", evaluate_time, evaluate_latencies, direct_evaluate),
        ("/match", match_time, match_latencies, direct_match),
    ):
        rows.append((f"HTTP POST {path}", 0.0, "", None))
        rows.append(("  requests/s", len(latencies) / elapsed, "/s", None))
        for label, share in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99)):
            value = percentile(latencies, share)
            rows.append((f"  latency {label} (÷ in process)", value * 1e6, "µs", value / direct))
        per_request = elapsed / len(latencies)
        rows.append(
            (
                "  wall time per request, 1 ÷ requests/s (÷ in process)",
                per_request * 1e6,
                "µs",
                per_request / direct,
            )
        )
    rows.append(("HTTP POST /evaluate, one client alone (no queueing)", 0.0, "", None))
    for label, share in (("p50", 0.50), ("p90", 0.90)):
        value = percentile(alone, share)
        rows.append((f"  latency {label} (÷ in process)", value * 1e6, "µs", value / direct_evaluate))
    rows.append(("reference, NOT measured here", 0.0, "", None))
    rows.append(
        (
            "  OpenFisca: ~300 µs of computation per entity (quoted; ÷ in process)",
            OPENFISCA_QUOTED_US,
            "µs",
            OPENFISCA_QUOTED_US / (direct_evaluate * 1e6),
        )
    )
    show("serve: HTTP JSON API under load", rows)
    mean_evaluate = statistics.fmean(evaluate_latencies)
    print(
        "\nratios: against the same enterprise evaluated in process, Policy.evaluate + to_json (/match: "
        f"against Library.match + to_json); mean /evaluate latency {mean_evaluate * 1e6:,.0f} µs.\n"
        "The OpenFisca figure is quoted as a reference for the computation of one entity: it is not a "
        "measurement\nof OpenFisca on these rules or on this machine (benchmarks/bench.py (d) measures "
        "OpenFisca on populations)."
    )


if __name__ == "__main__":
    main()
