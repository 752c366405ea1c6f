"""``policy serve``: the real server (uvicorn on a free port, in a thread) answers over HTTP what the
library answers in process, every error in one shape, and never a 5xx for bad input."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import uvicorn
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_dsl.cli import policy, policy_diff
from policy_dsl.library import Library, load_library
from policy_dsl.policy import read_json
from policy_dsl.serve import ENDPOINTS, ERROR_KINDS, MAX_BODY, EvaluateRequest, create_app, serve_command
from policy_dsl.source import SourceFile
from policy_dsl.views import facts_schema

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
LIUHE_NEW = "liuhe-key-industries-2023/new.policy"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(POLICIES)


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """``app`` served by uvicorn on 127.0.0.1 at a free port (bound here first), until /health answers."""
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so (else 40 ms ACK stalls)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while True:
        try:
            if call(port, "GET", "/health")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the server did not answer /health"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def port(library: Library) -> Iterator[int]:
    with serving(create_app(library)) as port:
        yield port


def call(
    port: int, method: str, path: str, body: bytes | str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = body.encode() if isinstance(body, str) else body
        connection.request(method, path, body=data, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def post(port: int, path: str, payload: Any) -> tuple[int, Any]:
    status, _, body = call(port, "POST", path, json.dumps(payload, ensure_ascii=False))
    return status, json.loads(body)


def get(port: int, path: str) -> tuple[int, Any]:
    status, _, body = call(port, "GET", path)
    return status, json.loads(body)


def plain(data: Any) -> Any:
    """The JSON the server would send for ``data``: tuples as lists, keys as text."""
    return json.loads(json.dumps(data, ensure_ascii=False))


def error_of(status: int, data: Any) -> dict[str, Any]:
    """The error of an error answer, checked to have the one shape."""
    assert set(data) == {"error"}, data
    error = data["error"]
    assert set(error) == {"kind", "message", "diagnostics"}
    assert ERROR_KINDS[error["kind"]] == status
    assert error["diagnostics"], "every error says what went wrong"
    for diagnostic in error["diagnostics"]:
        keys = {"message", "severity", "hint", "line", "column", "end_line", "end_column", "rendered"}
        assert set(diagnostic) == keys
        assert diagnostic["message"] in diagnostic["rendered"]
    assert "Traceback" not in json.dumps(data)
    return dict(error)


def shipped_cases(library: Library) -> list[tuple[str, dict[str, Any]]]:
    """Every example enterprise of the shipped cases files, with the id of its policy."""
    found = []
    for path in sorted(POLICIES.glob("*/cases/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        ident = (path.parent / data["policy"]).resolve().relative_to(POLICIES.resolve()).as_posix()
        if ident not in library.policies:
            continue
        for case in data["cases"]:
            adopted = bool(case.get("as_adopted", data.get("as_adopted", False)))
            found.append((ident, {"facts": case["facts"], "as_of": case["as_of"], "adopted": adopted}))
    return found


# ---------------------------------------------------------------- good input: the library's answers


def test_health_and_the_policies_listed(port: int, library: Library) -> None:
    assert get(port, "/health") == (
        200,
        {"status": "ok", "policies": len(library.policies), "title": library.title},
    )
    status, listed = get(port, "/policies")
    assert status == 200
    assert listed["title"] == library.title
    assert [p["id"] for p in listed["policies"]] == sorted(library.policies)
    for info in listed["policies"]:
        checked = library.policies[info["id"]].checked
        assert info["title"] == checked.title
        assert info["status"] == (checked.header.status.text if checked.header.status else None)
        validity = checked.validity
        assert info["validity"]["start"] == (validity.start.isoformat() if validity.start else None)
        assert info["validity"]["end"] == (validity.end.isoformat() if validity.end else None)
        assert info["validity"]["draft"] == validity.draft
        assert info["level"] == validity.level
    new = next(p for p in listed["policies"] if p["id"] == LIUHE_NEW)
    assert (new["validity"]["start"], new["validity"]["end"]) == ("2023-02-08", "2026-02-08")


def test_the_facts_schemas_are_the_librarys(port: int, library: Library) -> None:
    assert get(port, "/schema") == (200, plain(library.facts_schema()))
    for ident, policy_obj in library.policies.items():
        assert get(port, f"/policies/{ident}/schema") == (200, plain(facts_schema(policy_obj.checked)))


def test_every_shipped_case_evaluates_as_in_process(port: int, library: Library) -> None:
    cases = shipped_cases(library)
    assert len(cases) > 100
    for ident, case in cases:
        body = json.dumps({"policy": ident, **case}, ensure_ascii=False)
        status, _, answer = call(port, "POST", "/evaluate", body)
        assert status == 200, answer.decode()
        facts = read_json(SourceFile("body", body), "facts")["facts"]  # as the server reads it: Decimals
        expected = library.policies[ident].evaluate(
            facts, dt.date.fromisoformat(case["as_of"]), adopted=case["adopted"]
        )
        assert json.loads(answer) == plain(expected.to_json()), case


def test_explain_answers_what_policy_explain_prints(port: int, library: Library, tmp_path: Path) -> None:
    ident, case = next((i, c) for i, c in shipped_cases(library) if i == LIUHE_NEW)
    status, answer = post(port, "/explain", {"policy": ident, **case})
    assert status == 200
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(case["facts"], ensure_ascii=False), encoding="utf-8")
    printed = CliRunner().invoke(
        policy, ["explain", str(POLICIES / ident), "--facts", str(facts), "--as-of", case["as_of"]]
    )
    assert printed.exit_code == 0, printed.stderr
    assert answer["explanation"] == printed.stdout
    assert "eligible" in answer["explanation"]
    assert answer["outcome"] == post(port, "/evaluate", {"policy": ident, **case})[1]


def test_match_answers_as_the_library(port: int, library: Library) -> None:
    """The library's own example enterprises, and a sample of every policy's."""
    shipped = json.loads((POLICIES / "library-cases.json").read_text(encoding="utf-8"))["cases"]
    cases = [
        {"facts": c["facts"], "as_of": c["as_of"], "adopted": bool(c.get("as_adopted", False))}
        for c in shipped
    ]
    every = shipped_cases(library)
    cases += [case for _, case in every[:: max(len(every) // 12, 1)]]
    assert len(cases) > 12
    for case in cases:
        body = json.dumps(case, ensure_ascii=False)
        status, _, answer = call(port, "POST", "/match", body)
        assert status == 200, answer.decode()
        facts = read_json(SourceFile("body", body), "facts")["facts"]
        expected = library.match(facts, dt.date.fromisoformat(case["as_of"]), case["adopted"])
        assert json.loads(answer) == plain(expected.to_json())


def test_diff_answers_what_policy_diff_prints(port: int, library: Library) -> None:
    old, new = "cq-foreign-trade-2022/draft.policy", "cq-foreign-trade-2022/revision-example.policy"
    status, _, answer = call(port, "POST", "/diff", json.dumps({"old": old, "new": new}))
    assert status == 200
    paths = [library.policies[old].path, library.policies[new].path]
    printed = CliRunner().invoke(policy_diff, [*paths, "--format", "json"])
    assert printed.exit_code == 1  # they differ
    assert answer.decode() == printed.stdout
    assert call(port, "POST", "/diff", json.dumps({"old": old, "new": new}))[2] == answer  # kept


# ---------------------------------------------------------------- the OpenAPI description


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_describes_every_route_and_nothing_else(port: int, library: Library) -> None:
    status, document = get(port, "/openapi.json")
    assert status == 200 and document["openapi"] == "3.1.0"
    routes = set()
    for route in create_app(library).routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)  # type: ignore[attr-defined]
        routes |= {(path, method) for method in route.methods - {"HEAD"}}  # type: ignore[attr-defined]
    described = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    assert routes == described
    assert len(described) == len(ENDPOINTS)
    components = document["components"]["schemas"]
    for ref in set(_refs(document)):
        assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in components, ref
    for path, ops in document["paths"].items():
        for operation in ops.values():
            codes = set(operation["responses"])
            assert "200" in codes and "500" in codes, path
            for code in codes - {"200"}:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    post_ops = [ops["post"] for ops in document["paths"].values() if "post" in ops]
    assert all({"400", "413", "422"} <= set(op["responses"]) for op in post_ops)


def test_openapi_request_bodies_come_from_the_classes_and_the_facts_schemas(
    port: int, library: Library
) -> None:
    _, document = get(port, "/openapi.json")
    components = document["components"]["schemas"]
    request = components["EvaluateRequest"]
    assert set(request["properties"]) == {"policy", "facts", "as_of", "adopted"}
    assert request["required"] == ["policy", "facts"] and request["additionalProperties"] is False
    assert request["properties"]["adopted"]["type"] == "boolean"
    assert request["properties"]["as_of"]["anyOf"] == [{"type": "string", "format": "date"}, {"type": "null"}]
    assert request["properties"]["policy"]["enum"] == sorted(library.policies)
    facts_of = {
        rule["if"]["properties"]["policy"]["const"]: rule["then"]["properties"]["facts"]["$ref"]
        for rule in request["allOf"]
    }
    assert set(facts_of) == set(library.policies)
    for ident, ref in facts_of.items():  # each policy's facts schema, embedded as a component
        assert components[ref.split("/")[-1]] == get(port, f"/policies/{ident}/schema")[1]
    assert components["MatchRequest"]["properties"]["facts"]["$ref"] == "#/components/schemas/LibraryFacts"
    assert components["LibraryFacts"] == get(port, "/schema")[1]
    assert components["DiffRequest"]["required"] == ["old", "new"]
    error = components["ErrorInfo"]
    assert set(error["properties"]["kind"]["enum"]) == set(ERROR_KINDS)
    evaluate = document["paths"]["/evaluate"]["post"]
    assert evaluate["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EvaluateRequest"
    }
    assert EvaluateRequest.__name__ in components


# ---------------------------------------------------------------- bad input


def test_malformed_json_is_400_with_line_and_column(port: int) -> None:
    body = '{"policy": "x",\n  "facts": {"出口额": 1,}}'
    status, _, answer = call(port, "POST", "/evaluate", body)
    error = error_of(status, json.loads(answer))
    assert status == 400 and error["kind"] == "invalid_json"
    (diagnostic,) = error["diagnostics"]
    assert (diagnostic["line"], diagnostic["column"]) == (2, 22)  # characters: the `}` after `1,`
    assert diagnostic["rendered"].startswith("<request>:2:22: error: ")
    assert '2 |   "facts": {"出口额": 1,}}' in diagnostic["rendered"]  # the line, then a caret under it
    twice = call(port, "POST", "/match", '{"facts": {},\n "facts": {}}')
    error = error_of(twice[0], json.loads(twice[2]))
    assert twice[0] == 400 and error["diagnostics"][0]["line"] == 2
    assert "given twice" in error["message"]
    for bad in (b"", b"{", b"\xff\xfe\x00{}", b"NaN", b'{"facts": {}} {}', b"[" * 100_000):
        status, _, answer = call(port, "POST", "/match", bad)
        assert status == 400 and error_of(status, json.loads(answer))["kind"] == "invalid_json", bad


def _raw(port: int, head: bytes, chunks: list[bytes]) -> tuple[int, bytes]:
    """Send a request by hand (so a body can be declared or streamed as we like), then read the
    answer; the server may stop reading once it has refused the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        try:
            for chunk in chunks:
                connection.sendall(chunk)
        except OSError:
            pass  # refused midway: the answer is waiting
        received = b""
        while b"\r\n\r\n" not in received or len(received) < _length(received):
            part = connection.recv(65536)
            if not part:
                break
            received += part
    head_text, _, body = received.partition(b"\r\n\r\n")
    return int(head_text.split()[1]), body


def _length(received: bytes) -> int:
    head, _, _ = received.partition(b"\r\n\r\n")
    found = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
    return len(head) + 4 + (int(found.group(1)) if found else 0)


def test_a_body_over_the_limit_is_413_declared_or_streamed(port: int) -> None:
    assert MAX_BODY == 1 << 20
    declared = b"POST /evaluate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1)
    status, body = _raw(port, declared, [])  # refused on its Content-Length, before any byte is sent
    error = error_of(status, json.loads(body))
    assert status == 413 and error["kind"] == "body_too_large"
    assert "1048577 bytes" in error["message"] and error["diagnostics"][0]["hint"]
    chunked = b"POST /match HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    piece = b" " * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 17 + [b"0\r\n\r\n"]  # 17 × 64 KiB > 1 MiB
    status, body = _raw(port, chunked, chunks)
    assert status == 413 and error_of(status, json.loads(body))["kind"] == "body_too_large"
    # exactly at the limit: read, and answered on its merits
    payload = json.dumps({"facts": {}, "as_of": "2023-06-01"}).encode()
    status, _, answer = call(port, "POST", "/match", payload + b" " * (MAX_BODY - len(payload)))
    assert status == 200, answer[:300]
    status, _, answer = call(port, "POST", "/match", payload + b" " * (MAX_BODY + 1 - len(payload)))
    assert status == 413


def test_fields_unknown_missing_or_of_the_wrong_type_are_422_naming_them(port: int) -> None:
    status, answer = post(port, "/evaluate", {"polcy": LIUHE_NEW, "facts": {}})
    error = error_of(status, answer)
    assert status == 422 and error["kind"] == "invalid_request"
    messages = {d["message"]: d["hint"] for d in error["diagnostics"]}
    assert messages == {
        "unknown field `polcy` in the request body": "did you mean `policy`?",
        "the request body has no field `policy`": None,
    }
    status, answer = post(
        port, "/evaluate", {"policy": 7, "facts": [], "as_of": "2023-02-30", "adopted": "yes"}
    )
    error = error_of(status, answer)
    shown = [d["message"] for d in error["diagnostics"]]
    assert status == 422 and len(shown) == 4
    for field in ("policy", "facts", "as_of", "adopted"):
        assert any(m.startswith(f"field `{field}`: expected") for m in shown), field
    assert any("no such date" in m for m in shown)
    status, answer = post(port, "/diff", ["old", "new"])
    assert status == 422 and "must be a JSON object" in error_of(status, answer)["message"]


def test_an_unknown_policy_is_404_with_did_you_mean(port: int) -> None:
    status, answer = post(port, "/evaluate", {"policy": "liuhe-key-industries-2023/new.polcy", "facts": {}})
    error = error_of(status, answer)
    assert status == 404 and error["kind"] == "unknown_policy"
    assert error["diagnostics"][0]["hint"] == f"did you mean `{LIUHE_NEW}`?"
    status, answer = post(port, "/diff", {"old": LIUHE_NEW, "new": "nowhere"})
    assert status == 404 and "`nowhere`" in error_of(status, answer)["message"]
    status, answer = get(port, "/policies/liuhe-key-industries-2023/nw.policy/schema")
    assert (
        status == 404 and error_of(status, answer)["diagnostics"][0]["hint"] == f"did you mean `{LIUHE_NEW}`?"
    )


def test_facts_errors_are_422_with_every_diagnostic_in_the_body(port: int) -> None:
    body = json.dumps(
        {
            "policy": LIUHE_NEW,
            "as_of": "2023-06-01",
            "facts": {"固定资产投资": "5万美元", "是新上项目": "是", "项目类": 1},
        },
        ensure_ascii=False,
        indent=1,
    )
    status, _, answer = call(port, "POST", "/evaluate", body)
    error = error_of(status, json.loads(answer))
    assert status == 422 and error["kind"] == "facts_error"
    assert len(error["diagnostics"]) == 3
    lines = body.splitlines()
    for diagnostic in error["diagnostics"]:  # each points at its fact in the request body
        line = lines[diagnostic["line"] - 1]
        assert line[diagnostic["column"] - 1 :].startswith('"'), diagnostic
    assert any(d["hint"] == "did you mean `项目类别`?" for d in error["diagnostics"])
    status, answer = post(port, "/match", {"facts": {"固定资产投资": -5}})
    assert status == 422 and error_of(status, answer)["kind"] == "facts_error"


def test_so_many_facts_that_some_must_be_unknown_are_refused_at_once(port: int, library: Library) -> None:
    facts = {f"k{i:06d}": 1 for i in range(70_000)}  # ~1 MiB: finding each one's closest name takes minutes
    started = time.monotonic()
    status, answer = post(port, "/match", {"facts": facts})
    error = error_of(status, answer)
    assert status == 422 and error["kind"] == "facts_error" and time.monotonic() - started < 5
    declared = len(library.facts_schema()["properties"])
    assert error["message"].startswith(
        f"the facts hold 70000 names but the library's policies declare only {declared}"
    )
    status, answer = post(port, "/evaluate", {"policy": LIUHE_NEW, "facts": facts})
    assert status == 422 and "70000 are unknown (`k000000`, `k000001`" in error_of(status, answer)["message"]


def test_an_error_body_lists_the_first_hundred_diagnostics(port: int) -> None:
    products = [{"未知": 1}] * 150  # one unknown fact in each of 150 items
    status, answer = post(
        port, "/evaluate", {"policy": "cq-foreign-trade-2022/draft.policy", "facts": {"医药产品": products}}
    )
    error = error_of(status, answer)
    assert status == 422 and error["message"] == "150 problems (facts error)"
    assert len(error["diagnostics"]) == 101
    assert error["diagnostics"][-1]["message"] == "… and 50 more problems of the same request, not listed"


def test_deeply_nested_values_are_refused_not_crashed_on(port: int) -> None:
    nested = "[" * 900 + "]" * 900
    body = f'{{"policy": {nested}, "facts": {{"所属产业": {nested}}}, "as_of": {nested}}}'
    status, _, answer = call(port, "POST", "/evaluate", body)
    shown = [d["message"] for d in error_of(status, json.loads(answer))["diagnostics"]]
    assert status == 422 and shown == [
        "field `policy`: expected text, got a list",
        "field `as_of`: expected a date such as 2023-06-01, got a list",
    ]
    body = '{"facts": {"所属产业": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}}"
    status, _, answer = call(port, "POST", "/match", body)
    assert status == 422 and error_of(status, json.loads(answer))["kind"] == "facts_error"


def test_unknown_paths_and_wrong_methods(port: int) -> None:
    status, headers, answer = call(port, "GET", "/evaluate")
    error = error_of(status, json.loads(answer))
    assert status == 405 and error["kind"] == "method_not_allowed" and headers["allow"] == "POST"
    status, _, answer = call(port, "DELETE", "/policies")
    assert status == 405
    status, _, answer = call(port, "POST", "/evalute", "{}")
    error = error_of(status, json.loads(answer))
    assert status == 404 and error["kind"] == "not_found"
    assert error["diagnostics"][0]["hint"] == "did you mean `/evaluate`?"


class _Broken:
    """A library whose matching fails inside: the server's own fault."""

    def __init__(self, library: Library) -> None:
        self._library = library

    def __getattr__(self, name: str) -> Any:
        return getattr(self._library, name)

    def match(self, *args: Any) -> Any:
        raise RuntimeError("a secret the client must not see")


def test_a_fault_of_the_server_is_500_without_a_traceback(library: Library) -> None:
    with serving(create_app(_Broken(library))) as port:  # type: ignore[arg-type]
        status, _, answer = call(port, "POST", "/match", '{"facts": {}}')
        assert call(port, "GET", "/health")[0] == 200  # and it goes on serving
    error = error_of(status, json.loads(answer))
    assert status == 500 and error["kind"] == "internal_error"
    assert "secret" not in answer.decode() and "RuntimeError" not in answer.decode()


def test_a_computation_past_the_timeout_is_503_and_so_is_a_full_server(library: Library) -> None:
    slow = json.dumps({"old": "cq-foreign-trade-2022/draft.policy", "new": LIUHE_NEW})
    with serving(create_app(library, timeout=0.05, concurrency=1)) as port:
        status, _, answer = call(port, "POST", "/diff", slow)
        assert status == 503 and error_of(status, json.loads(answer))["kind"] == "timeout"
        # the abandoned diff still holds the one slot: the next computation cannot start
        status, headers, answer = call(port, "POST", "/match", '{"facts": {}}')
        assert status == 503 and error_of(status, json.loads(answer))["kind"] == "busy"
        assert headers["retry-after"] == "1"
        assert call(port, "GET", "/health")[0] == 200  # answered without a slot


# ---------------------------------------------------------------- fuzzing: never a 5xx


def _fact_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**45), max_value=10**45),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(
            ["500万元", "3000万美元", "USD 500万", "５００万美元", "1.5亿元", "-5万元", "12.5%", "3个工作日"]
        ),
        st.sampled_from(["2023-06-01", "2023-02-30", "2023年6月1日", "0000-01-01", "二〇二三年"]),
        st.from_regex(r"[0-9]{1,45}(\.[0-9]{1,8})?(万|亿)?(元|美元|欧元)?", fullmatch=True),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=6,
    )


def _json_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    )


@attrs.frozen
class FuzzInputs:
    policies: list[str]
    facts: list[str]  # every fact of the library
    cases: list[tuple[str, dict[str, Any]]]  # real enterprises, to perturb


@st.composite
def _bodies(draw: st.DrawFn, path: str, inputs: FuzzInputs) -> bytes:
    """Mostly a real enterprise of the shipped cases with a few facts replaced, added or dropped
    and the other fields sometimes wrong; now and then random JSON or random bytes. (Hypothesis
    draws small integers most often: the usual case is 0, a rare one the largest.)"""

    def one_in(n: int) -> bool:
        return draw(st.integers(0, n - 1)) == n - 1

    if one_in(20):
        return draw(st.binary(max_size=64))
    if one_in(20):
        return json.dumps(draw(_json_values()), ensure_ascii=False).encode()
    ident, case = draw(st.sampled_from(inputs.cases))
    facts = dict(case["facts"])
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted({*facts, *inputs.facts})) | st.text(max_size=6))
        facts[name] = draw(_fact_values())
    for name in draw(st.lists(st.sampled_from(sorted(facts)), max_size=2)) if facts else ():
        facts.pop(name, None)
    body: dict[str, Any] = {"facts": facts}
    if (path == "/evaluate" and not one_in(10)) or (path == "/match" and one_in(20)):
        body["policy"] = draw(st.sampled_from(inputs.policies) | st.text()) if one_in(5) else ident
    if one_in(10):
        body["as_of"] = draw(st.sampled_from(["2023-13-01", "2023年6月1日", "今天"]) | _fact_values())
    elif not one_in(5):
        body["as_of"] = case["as_of"]
    if one_in(8):
        body["adopted"] = draw(_fact_values())
    elif not one_in(3):
        body["adopted"] = case["adopted"]
    if one_in(20):
        body[draw(st.sampled_from(["polcy", "fact", "asof"]))] = 1
    return json.dumps(body, ensure_ascii=False).encode()  # NaN, Infinity: invalid JSON, on purpose


@pytest.fixture(scope="module")
def fuzz_inputs(library: Library) -> FuzzInputs:
    facts = sorted(library.facts_schema()["properties"])
    return FuzzInputs(sorted(library.policies), facts, shipped_cases(library))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_bodies_never_get_a_5xx(port: int, fuzz_inputs: FuzzInputs, data: Any) -> None:
    path = data.draw(st.sampled_from(["/evaluate", "/match"]))
    body = data.draw(_bodies(path, fuzz_inputs))
    status, _, answer = call(port, "POST", path, body)
    assert status < 500, (path, body, answer[:500])
    found = json.loads(answer)
    if status == 200:
        assert "error" not in found and ("benefits" in found if path == "/evaluate" else "documents" in found)
    else:
        error_of(status, found)


# ---------------------------------------------------------------- the command


def test_the_command_loads_no_server_until_it_serves() -> None:
    """cli.py registers serve_command: `policy --help` must not pay for Starlette, uvicorn or the parser."""
    script = (
        "import sys\nfrom policy_dsl.serve import serve_command\n"
        "try:\n    serve_command(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "--max-body" in found.stdout
    loaded = {name.split(".")[0] for name in found.stdout.split()} | set(found.stdout.split())
    for heavy in ("starlette", "uvicorn", "anyio", "lark", "duckdb", "policy_dsl.check"):
        assert heavy not in loaded, heavy


def test_serve_command_refuses_a_library_that_does_not_load(tmp_path: Path) -> None:
    result = CliRunner().invoke(serve_command, [str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no such library" in result.stderr and result.stdout == ""


def test_serve_command_serves_a_library(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    free = sock.getsockname()[1]
    sock.close()
    code = (
        f"from policy_dsl.serve import serve_command; serve_command([{str(POLICIES)!r}, '--port', '{free}'])"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, answer = get(free, "/health")
                break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert status == 200 and answer["status"] == "ok"
    finally:
        process.terminate()
        process.communicate(timeout=10)
