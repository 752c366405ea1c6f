"""The fuzz campaign's harness: inputs drawn per category, run through the public entry points.

Every input is a :class:`Case`: a category, the repository folder it sits in (its source texts and
agency registries), the files it writes into a scratch copy of that folder, and parameters. One
runner per category takes a case through every stage a user's input would go through; the outcome
is ``valid``, ``policy_error`` (a :class:`~policy_dsl.errors.PolicyError`, the expected answer to
bad input), ``crash`` (any other exception) or ``hang`` (over :data:`TIMEOUT` seconds).

A case is drawn from ``random.Random(f"{seed}/{category}/{index}")`` alone, so (seed, category,
index) names an input on every machine; crashes are saved as reproducers (the files plus
``crash.json``) and replayed by ``tests/test_fuzz_replay.py`` through the same runner.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import re
import shutil
import signal
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fuzz import mutators as mu
from policy_dsl.errors import PolicyError

ROOT = Path(__file__).resolve().parents[2]
CRASHES = Path(__file__).resolve().parent / "crashes"
MAX_KEPT = 1_000_000  # bytes of input a reproducer may hold; larger inputs are named by seed and index
TIMEOUT = 5.0  # seconds of CPU time for one input, beyond which it is a hang
DIALECTS = ("duckdb", "postgres", "spark")
AS_OF = ("2019-01-01", "2022-07-01", "2023-02-08", "2024-06-30", "2026-02-08", "2026-02-09", "2031-01-01")

#: Relative weight of each category in a campaign (inputs are interleaved in this proportion).
WEIGHTS: dict[str, int] = {
    "policy": 30,
    "source": 10,
    "registry": 8,
    "facts": 25,
    "population": 10,
    "diff": 5,
    "cli": 12,
}
CATEGORIES = tuple(WEIGHTS)


class Hang(BaseException):
    """An input ran over the time limit."""


class Disagreement(Exception):
    """Two backends (in-process and standalone module, Python and SQL) disagree on one input."""


class ContractViolation(Exception):
    """The command line broke its contract: a traceback, an exit code other than 0 / 2, no message."""


@dataclass
class Case:
    category: str
    base: str  # repository folder the input sits in (its source texts, registries), relative
    files: dict[str, bytes]  # written into a scratch copy of ``base``
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    outcome: str  # valid, policy_error, crash, hang
    stage: str = ""
    error: BaseException | None = None
    key: str = ""
    frame: str = ""
    trace: str = ""
    seconds: float = 0.0
    stage_times: dict[str, float] = field(default_factory=dict)  # CPU seconds per stage


# ---------------------------------------------------------------- the repository's inputs


def shipped_folders() -> list[str]:
    """Every folder whose files the campaign mutates: the shipped policies and the good examples."""
    folders = sorted(p.parent for p in ROOT.glob("policies/*/*.policy"))
    folders.append(ROOT / "tests" / "examples" / "good")
    return sorted({f.relative_to(ROOT).as_posix() for f in folders})


@dataclass
class Folder:
    rel: str
    files: dict[str, bytes]  # top-level .policy, .agencies, .vocabulary, .txt files

    def named(self, suffix: str) -> list[str]:
        return sorted(n for n in self.files if n.endswith(suffix))

    def policy_using(self, name: str, word: str) -> list[str]:
        """Policies of this folder whose ``use`` / ``source`` names ``name``."""
        pattern = re.compile(rf'\b{word}\s+"{re.escape(name)}"')
        return [p for p in self.named(".policy") if pattern.search(self.files[p].decode("utf-8"))]


def read_folders() -> dict[str, Folder]:
    folders = {}
    for rel in shipped_folders():
        path = ROOT / rel
        files = {
            p.name: p.read_bytes()
            for p in sorted(path.iterdir())
            if p.is_file() and p.suffix in {".policy", ".agencies", ".vocabulary", ".txt"}
        }
        folders[rel] = Folder(rel, files)
    return folders


class Workspace:
    """Scratch copies of the repository's folders; a case's files are written over them, then undone."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="policy-fuzz-"))
        self.folders = read_folders()
        self._written: list[Path] = []
        for rel, folder in self.folders.items():
            target = self.root / rel
            target.mkdir(parents=True)
            for name, data in folder.files.items():
                (target / name).write_bytes(data)
        for vocabulary in ROOT.glob("policies/*.vocabulary"):
            (self.root / "policies" / vocabulary.name).write_bytes(vocabulary.read_bytes())
        self._policies: dict[str, Any] = {}

    def folder(self, rel: str) -> Path:
        return self.root / rel

    @contextmanager
    def placed(self, case: Case) -> Iterator[Path]:
        folder = self.folder(case.base)
        originals = self.folders[case.base].files
        try:
            for name, data in case.files.items():
                (folder / name).write_bytes(data)
            yield folder
        finally:
            for name in case.files:
                if name in originals:
                    (folder / name).write_bytes(originals[name])
                else:
                    (folder / name).unlink(missing_ok=True)
            for extra in folder.iterdir():  # results files the case wrote
                if extra.name not in originals:
                    if extra.is_dir():
                        shutil.rmtree(extra, ignore_errors=True)
                    else:
                        extra.unlink(missing_ok=True)

    def original_policy(self, rel: str, name: str) -> Any:
        """An unmodified policy of the repository, loaded once (the base of facts and populations)."""
        import policy_dsl

        key = f"{rel}/{name}"
        if key not in self._policies:
            self._policies[key] = policy_dsl.load(self.folder(rel) / name)
        return self._policies[key]

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------- valid values, then mutated


def _fact_value(rng: random.Random, type_: Any, checked: Any, plain: bool = False) -> Any:
    kind = type_.kind
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "integer":
        return rng.choice([0, 1, 2, 3, 5, 10, 50, 100, 1000, rng.randint(0, 10**6)])
    if kind in {"decimal", "money"}:
        amount = rng.choice([0, 1, 10 ** rng.randint(2, 9), rng.randint(0, 10**9)])
        if kind == "money" and not plain and rng.random() < 0.4:
            word = {"CNY": "元", "USD": "美元", "EUR": "欧元"}.get(type_.param or "", "元")
            return f"{Decimal(amount) / 10000}万{word}"
        return str(amount)
    if kind == "percent":
        value = rng.randint(0, 100)
        return str(value) if plain else f"{value}%"
    if kind == "date":
        return (dt.date(2018, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 10))).isoformat()
    if kind == "duration":
        return rng.randint(0, 60)
    if kind == "list":  # a list of items: 0 to 3 objects of the item's facts (CSV: unknown)
        if plain:
            return None
        fields = checked.items[type_.param or ""].facts
        return [
            {f: _fact_value(rng, info.type, checked) for f, info in fields.items() if rng.random() < 0.8}
            for _ in range(rng.randint(0, 3))
        ]
    values = [v.name for v in checked.enums[type_.param or ""].values]
    if kind == "enum":
        return rng.choice(values)
    chosen = [v for v in values if rng.random() < 0.4]
    return ";".join(chosen) if plain else chosen


def valid_facts(rng: random.Random, checked: Any, plain: bool = False) -> dict[str, Any]:
    """Facts of the right types for ``checked``, each known with probability 0.8."""
    return {
        name: _fact_value(rng, info.type, checked, plain)
        for name, info in checked.facts.items()
        if rng.random() < 0.8
    }


def _mutate_facts(rng: random.Random, facts: dict[str, Any], python: bool) -> dict[str, Any]:
    facts = dict(facts)
    names = list(facts) or ["出口额"]
    for _ in range(rng.choice([1, 1, 2, 3])):
        op = rng.randrange(10)
        name = rng.choice(names)
        if op < 6:
            facts[name] = mu.python_nasty_value(rng) if python and rng.random() < 0.5 else mu.nasty_value(rng)
        elif op == 6:
            facts[mu.nasty_string(rng)] = mu.nasty_value(rng)  # an unknown (or odd) fact name
        elif op == 7:
            facts.pop(name, None)
        elif op == 8:
            facts[name + mu.pick(rng, mu.NASTY_CHARS)] = facts.get(name)
        else:
            facts = {k: mu.nasty_value(rng) for k in facts}
    if python:
        facts = {k: mu.undeep(v) for k, v in facts.items()}
    return facts


_DECIMAL_MARK = "@@decimal:"


def _json_text(rng: random.Random, facts: Any) -> str:
    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return _DECIMAL_MARK + str(value) + "@@"
        raise TypeError(type(value).__name__)

    text = json.dumps(facts, ensure_ascii=rng.random() < 0.3, indent=2, default=default)
    text = re.sub(r'"@@decimal:([^@]*)@@"', r"\1", text)  # a Decimal as the JSON number it is
    return mu.deep_json(text)


# Python values for facts the API may be given, as JSON a reproducer can hold.


def encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**100 else {"$int": hex(value)}
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, frozenset | set | tuple):
        tag = {frozenset: "$frozenset", set: "$set", tuple: "$tuple"}[type(value)]
        return {tag: [encode_value(v) for v in sorted(value, key=repr)]}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    if isinstance(value, bytes | bytearray):
        return {"$" + type(value).__name__: value.hex()}
    return {"$repr": repr(value)}


_REPRS: dict[str, Any] = {"<class 'object'>": object, "range(0, 3)": range(3), "(1+2j)": 1 + 2j}


def decode_value(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    ((tag, inner),) = value.items()
    simple: dict[str, Callable[[Any], Any]] = {
        "$int": lambda v: int(v, 16),
        "$float": float,
        "$decimal": Decimal,
        "$datetime": dt.datetime.fromisoformat,
        "$date": dt.date.fromisoformat,
        "$bytes": bytes.fromhex,
        "$bytearray": lambda v: bytearray(bytes.fromhex(v)),
        "$repr": _REPRS.__getitem__,
    }
    if tag in simple:
        return simple[tag](inner)
    if tag in {"$frozenset", "$set", "$tuple"}:
        kind = {"$frozenset": frozenset, "$set": set, "$tuple": tuple}[tag]
        return kind(decode_value(v) for v in inner)
    if tag == "$dict":
        return {decode_value(k): decode_value(v) for k, v in inner}
    raise ValueError(f"unknown tag {tag}")


# ---------------------------------------------------------------- drawing cases


class Drawer:
    """Draws the cases of every category from the repository's files."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.folders = workspace.folders
        self.policies = [(rel, n) for rel, f in self.folders.items() for n in f.named(".policy")]
        self.registries = [
            (rel, n, users)
            for rel, f in self.folders.items()
            for n in f.named(".agencies")
            if (users := f.policy_using(n, "use"))
        ]
        self.sources = [
            (rel, n, users)
            for rel, f in self.folders.items()
            for n in f.named(".txt")
            if (users := f.policy_using(n, "source"))
        ]

    def draw(self, category: str, rng: random.Random) -> Case:
        case: Case = getattr(self, "draw_" + category)(rng)
        return case

    def _common(self, rng: random.Random) -> dict[str, Any]:
        return {"as_of": rng.choice(AS_OF), "adopted": rng.random() < 0.7, "seed": rng.randrange(2**32)}

    def draw_policy(self, rng: random.Random) -> Case:
        rel, name = rng.choice(self.policies)
        data = mu.mutate_file(rng, self.folders[rel].files[name])
        return Case("policy", rel, {name: data}, {"policy": name, **self._common(rng)})

    def draw_source(self, rng: random.Random) -> Case:
        rel, name, users = rng.choice(self.sources)
        data = mu.mutate_file(rng, self.folders[rel].files[name])
        return Case("source", rel, {name: data}, {"policy": rng.choice(users), **self._common(rng)})

    def draw_registry(self, rng: random.Random) -> Case:
        rel, name, users = rng.choice(self.registries)
        data = mu.mutate_file(rng, self.folders[rel].files[name])
        params = {"policy": rng.choice(users), "registry": name, **self._common(rng)}
        return Case("registry", rel, {name: data}, params)

    def draw_facts(self, rng: random.Random) -> Case:
        rel, name = rng.choice(self.policies)
        checked = self.ws.original_policy(rel, name).checked
        params = {"policy": name, **self._common(rng)}
        python = rng.random() < 0.3
        facts = _mutate_facts(rng, valid_facts(rng, checked), python)
        if python:
            params["mode"] = "python"
            params["facts"] = encode_value(facts)
            return Case("facts", rel, {}, params)
        text = _json_text(rng, facts)
        if rng.random() < 0.3:
            text = mu.mutate_json_text(rng, text)
        data = text.encode("utf-8", "surrogatepass")
        if rng.random() < 0.1:
            data = mu.mutate_bytes(rng, data)
        params["mode"] = "json"
        return Case("facts", rel, {"fuzz-facts.json": data}, params)

    def draw_population(self, rng: random.Random) -> Case:
        rel, name = rng.choice(self.policies)
        checked = self.ws.original_policy(rel, name).checked
        rows = [valid_facts(rng, checked, plain=True) for _ in range(rng.randint(1, 4))]
        columns = ["id", *checked.facts]
        rng.shuffle(columns)
        columns = [c for c in columns if rng.random() < 0.85]
        for _ in range(rng.choice([0, 1, 1, 2, 3])):  # header edits
            op = rng.randrange(4)
            if op == 0 and columns:
                columns.append(rng.choice(columns))  # a duplicate column
            elif op == 1:
                columns.append(mu.nasty_string(rng))
            elif op == 2 and columns:
                columns[rng.randrange(len(columns))] = rng.choice(list(checked.facts) or ["x"]) + ":amount"
            elif columns:
                i = rng.randrange(len(columns))
                columns[i] = columns[i] + mu.pick(rng, mu.NASTY_CHARS)
        table = []
        for index, row in enumerate(rows):
            cells = [f"E{index}" if c == "id" else row.get(c) for c in columns]
            for _ in range(rng.choice([0, 1, 2, 3])):
                if cells:
                    cells[rng.randrange(len(cells))] = (
                        mu.nasty_value(rng) if rng.random() < 0.3 else (mu.nasty_string(rng))
                    )
            table.append(cells)
        suffix = rng.choice([".csv", ".csv", ".tsv", ".jsonl", ".parquet", ".parquet", ".json"])
        data = _population_bytes(rng, suffix, columns, table)
        params = {"policy": name, **self._common(rng)}
        params["output"] = rng.choice(
            [None, None, "fuzz-results.parquet", "fuzz-results.csv", "fuzz-results.arrow"]
        )
        params["table"] = suffix == ".parquet" and rng.random() < 0.3
        return Case("population", rel, {"fuzz-population" + suffix: data}, params)

    def draw_diff(self, rng: random.Random) -> Case:
        rel = rng.choice(sorted(self.folders))
        folder = self.folders[rel]
        suffix = ".policy" if rng.random() < 0.8 else ".txt"
        names = folder.named(suffix)
        if suffix == ".txt":
            names = [n for n in names if folder.policy_using(n, "source")]
        old, new = rng.choice(names), rng.choice(names)
        if suffix == ".policy" and len(names) == 2 and rng.random() < 0.7:  # the folder's own pair
            old, new = sorted(names, key=lambda n: not ("draft" in n or "old" in n))
        files = {}
        for side, source in (("old", old), ("new", new)):
            data = folder.files[source]
            roll = rng.random()
            if roll < 0.6:
                data = mu.mutate_file(rng, data, mild=True)
            elif roll < 0.75:
                data = mu.mutate_file(rng, data)
            files[f"fuzz-{side}{suffix}"] = data
        params = {"format": rng.choice(["text", "json", "markdown", "html"]), "color": rng.random() < 0.3}
        return Case("diff", rel, files, params)

    def draw_cli(self, rng: random.Random) -> Case:
        command = rng.choice(["check", "check", "eval", "eval", "compile", "explain"])
        rel, name = rng.choice(self.policies)
        folder = self.folders[rel]
        files: dict[str, bytes] = {}
        if command == "check" and rng.random() < 0.2 and folder.named(".agencies"):
            target = rng.choice(folder.named(".agencies"))
            files[target] = mu.mutate_file(rng, folder.files[target])
            return Case("cli", rel, files, {"argv": ["check", "{dir}/" + target]})
        as_of = ["--as-of", rng.choice(AS_OF)]
        if command in {"check", "compile"} or rng.random() < 0.5:
            files[name] = mu.mutate_file(rng, folder.files[name])
        if command == "check":
            argv = ["check", "{dir}/" + name]
        elif command == "compile":
            argv = ["compile", "{dir}/" + name, "--to", rng.choice(["python", "sql"]), *as_of]
            argv += ["--dialect", rng.choice(DIALECTS)] if argv[3] == "sql" else []
        else:
            checked = self.ws.original_policy(rel, name).checked
            facts = valid_facts(rng, checked)
            if name not in files:
                facts = _mutate_facts(rng, facts, python=False)
            text = _json_text(rng, facts)
            if name not in files and rng.random() < 0.3:
                text = mu.mutate_json_text(rng, text)
            files["fuzz-facts.json"] = text.encode("utf-8", "surrogatepass")
            argv = [command, "{dir}/" + name, "--facts", "{dir}/fuzz-facts.json", *as_of]
            if rng.random() < 0.7:
                argv.append("--as-adopted")
            if command == "eval":
                argv += rng.choice([[], ["--format", "json"], ["-v"], ["--only", "eligible"]])
        return Case("cli", rel, files, {"argv": argv})


def _population_bytes(rng: random.Random, suffix: str, columns: list[str], table: list[list[Any]]) -> bytes:
    def cell_text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return value
        return json.dumps(value, default=str)

    if suffix in {".csv", ".tsv"}:
        import csv

        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if suffix == ".csv" else "\t")
        writer.writerow(columns)
        for row in table:
            writer.writerow([cell_text(v) for v in row])
        data = out.getvalue().encode("utf-8", "surrogatepass")
        return mu.mutate_bytes(rng, data) if rng.random() < 0.15 else data
    if suffix in {".jsonl", ".json"}:
        lines = []
        for row in table:
            record = dict(zip(columns, row, strict=True))
            lines.append(_json_text(rng, record).replace("\n", ""))
        data = "\n".join(lines).encode("utf-8", "surrogatepass")
        return mu.mutate_bytes(rng, data) if rng.random() < 0.15 else data
    return _parquet_bytes(rng, columns, table)


def _parquet_bytes(rng: random.Random, columns: list[str], table: list[list[Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    names = []
    for index, name in enumerate(columns):
        if name in names:
            name = name + "_"  # pyarrow writes duplicate names, but keep the file readable
        cells = [row[index] for row in table]
        kind = rng.choice(
            ["string", "string", "int64", "float64", "decimal", "bool", "date", "list", "null", "native"]
        )
        try:
            if kind == "int64":
                array = pa.array([_int_or_none(v) for v in cells], pa.int64())
            elif kind == "float64":
                array = pa.array([_float_or_none(v) for v in cells], pa.float64())
            elif kind == "decimal":
                array = pa.array(
                    [_decimal_or_none(v) for v in cells], pa.decimal128(38, rng.choice([0, 2, 10, 37]))
                )
            elif kind == "bool":
                array = pa.array([None if v is None else bool(v) for v in cells], pa.bool_())
            elif kind == "date":
                array = pa.array(
                    [dt.date(rng.choice([1, 1970, 2022, 9999]), 1, 1) for _ in cells], pa.date32()
                )
            elif kind == "list":
                array = pa.array([None if v is None else [str(v)] for v in cells], pa.list_(pa.string()))
            elif kind == "null":
                array = pa.nulls(len(cells))
            elif kind == "native":
                array = pa.array(cells)
            else:
                raise ValueError
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            array = pa.array([None if v is None else str(v) for v in cells], pa.string())
        arrays.append(array)
        names.append(name)
    out = io.BytesIO()
    try:
        pq.write_table(pa.Table.from_arrays(arrays, names=names), out)
    except pa.ArrowException:  # a type Parquet cannot hold (a struct with no fields): all text instead
        out = io.BytesIO()
        text = [pa.array([None if v is None else str(v) for v in a.to_pylist()], pa.string()) for a in arrays]
        pq.write_table(pa.Table.from_arrays(text, names=names), out)
    data = out.getvalue()
    return mu.mutate_bytes(rng, data) if rng.random() < 0.1 else data


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if -(2**63) <= number < 2**63 else None


def _float_or_none(value: Any) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def _decimal_or_none(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() and number.adjusted() < 20 else None


# ---------------------------------------------------------------- running cases


class Stage:
    """Which stage a case is in, for the crash report, and the CPU time each stage took."""

    def __init__(self) -> None:
        self.name = "start"
        self.started = time.process_time()
        self.times: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        self.finish()
        self.name = name
        self.started = time.process_time()

    def finish(self) -> None:
        self.times[self.name] = self.times.get(self.name, 0.0) + time.process_time() - self.started
        self.started = time.process_time()


def _outcome_json(compiled: Any, raw: dict[str, Any]) -> Any:
    return json.loads(json.dumps(compiled.namespace["to_json"](raw), sort_keys=True, default=str))


def _arrow_row(values: dict[str, Any]) -> Any:
    """A one-row Arrow table of validated facts, or None when Arrow cannot hold a value."""
    import pyarrow as pa

    columns = {"id": pa.array(["E0"])}
    try:
        for name, value in values.items():
            if isinstance(value, frozenset):
                columns[name] = pa.array([sorted(value)], pa.list_(pa.string()))
            elif isinstance(value, Decimal):
                columns[name] = pa.array([str(value)], pa.string())  # cast by the query to its DECIMAL
            else:
                columns[name] = pa.array([value])
        return pa.table(columns)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return None


_UNCHANGED: dict[tuple[str, bytes], tuple[Any, dict[str, Any]]] = {}


def _load_unchanged(path: Path) -> tuple[Any, dict[str, Any]]:
    """A policy file the case does not change, loaded once per process, with its standalone module's
    namespace (filled on first use): the facts and population categories fuzz the data, not this."""
    import policy_dsl

    key = (str(path), path.read_bytes())
    if key not in _UNCHANGED:
        _UNCHANGED[key] = (policy_dsl.load(path), {})
    return _UNCHANGED[key]


def run_policy(case: Case, folder: Path, stage: Stage) -> None:
    """load → evaluate → render → explain → schema → module source, exec'd → SQL → DuckDB → fmt."""
    import policy_dsl
    from policy_dsl.facts import validate_facts
    from policy_dsl.parse import parse
    from policy_dsl.views import explain, facts_schema

    as_of = dt.date.fromisoformat(case.params["as_of"])
    adopted = bool(case.params["adopted"])
    stage("load")
    pol = policy_dsl.load(folder / case.params["policy"])
    for warning in pol.checked.warnings:
        warning.render()
    if case.params.get("registry"):
        _cli_contract(["check", str(folder / case.params["registry"])], stage)
    facts = valid_facts(random.Random(case.params["seed"]), pol.checked)
    stage("evaluate")
    outcome = pol.evaluate(facts, as_of=as_of, adopted=adopted)
    stage("render outcome")
    outcome.to_text(verbose=True)
    json.dumps(outcome.to_json(), ensure_ascii=False)
    stage("explain")
    explain(pol.checked, outcome)
    stage("schema")
    json.dumps(facts_schema(pol.checked), ensure_ascii=False)
    _standalone(pol, validate_facts(pol.checked, facts), as_of, adopted, stage)
    stage("sql")
    for dialect in DIALECTS:
        pol.sql(dialect, as_of=as_of, adopted=adopted)
    _duckdb_row(pol, validate_facts(pol.checked, facts), outcome, as_of, adopted, stage)
    stage("fmt")
    formatted = pol.formatted()
    if parse(formatted, pol.path) != pol.file:
        raise Disagreement("the formatted policy parses to another model")


def _standalone(
    pol: Any,
    values: dict[str, Any],
    as_of: dt.date,
    adopted: bool,
    stage: Stage,
    namespace: dict[str, Any] | None = None,
) -> None:
    """The standalone module's source, exec'd in a fresh namespace (or ``namespace`` if already
    filled), evaluated on ``values``: it must agree with in-process evaluation."""
    namespace = {} if namespace is None else namespace
    if not namespace:
        stage("module source")
        source = pol.compiled.source
        stage("module exec")
        namespace["__name__"] = "policy_fuzz_standalone"
        exec(compile(source, "<standalone module>", "exec"), namespace)
    stage("module evaluate")
    raw = namespace["evaluate"](dict(values), as_of, adopted)
    standalone = json.loads(json.dumps(namespace["to_json"](raw), sort_keys=True, default=str))
    in_process = _outcome_json(pol.compiled, pol.compiled.evaluate(dict(values), as_of, adopted))
    if standalone != in_process:
        raise Disagreement("the standalone module and in-process evaluation disagree")


def _duckdb_row(
    pol: Any, values: dict[str, Any], outcome: Any, as_of: dt.date, adopted: bool, stage: Stage
) -> None:
    stage("duckdb")
    table = _arrow_row(values)
    if table is None:
        return
    result = pol.evaluate_table(table, as_of=as_of, adopted=adopted).to_pylist()[0]
    for benefit in outcome.benefits:
        if benefit.id not in result:
            continue
        python = {
            "eligible": True,
            "not_eligible": False,
            "unknown": None,
            "not_in_force": False,
            "superseded": False,  # not received: its exclusive group (不重复享受) keeps another
        }[benefit.status]
        if result[benefit.id] != python:
            raise Disagreement(f"SQL says {result[benefit.id]} for `{benefit.id}`, Python {benefit.status}")
        superseded = result.get(f"{benefit.id}:superseded")
        if superseded is not None and superseded != (benefit.status == "superseded"):
            raise Disagreement(
                f"SQL says superseded={superseded} for `{benefit.id}`, Python {benefit.status}"
            )


def run_facts(case: Case, folder: Path, stage: Stage) -> None:
    """read_json (as `policy eval` reads a facts file) → evaluate → render → explain → the module → DuckDB."""
    from policy_dsl.facts import validate_facts
    from policy_dsl.policy import read_json, read_source
    from policy_dsl.views import explain

    as_of = dt.date.fromisoformat(case.params["as_of"])
    adopted = bool(case.params["adopted"])
    stage("load")
    pol, namespace = _load_unchanged(folder / case.params["policy"])
    source = None
    if case.params["mode"] == "json":
        stage("read facts")
        source = read_source(folder / "fuzz-facts.json")
        facts = read_json(source, "facts")
    else:
        facts = decode_value(case.params["facts"])
    stage("evaluate")
    outcome = pol.evaluate(facts, as_of=as_of, source=source, adopted=adopted)
    stage("render outcome")
    outcome.to_text(verbose=True)
    json.dumps(outcome.to_json(), ensure_ascii=False)
    stage("explain")
    explain(pol.checked, outcome)
    values = validate_facts(pol.checked, facts, source)
    _standalone(pol, values, as_of, adopted, stage, namespace)
    _duckdb_row(pol, values, outcome, as_of, adopted, stage)


def run_population(case: Case, folder: Path, stage: Stage) -> None:
    from policy_dsl.table import evaluate_file

    as_of = dt.date.fromisoformat(case.params["as_of"])
    adopted = bool(case.params["adopted"])
    stage("load")
    pol, _ = _load_unchanged(folder / case.params["policy"])
    (name,) = case.files
    output = case.params.get("output")
    stage("evaluate_file")
    evaluate_file(
        pol.checked,
        str(folder / name),
        None if output is None else str(folder / output),
        as_of,
        adopted=adopted,
    )
    if case.params.get("table"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(folder / name)
        except (pa.ArrowException, OSError):
            return
        stage("evaluate_table")
        pol.evaluate_table(table, as_of=as_of, adopted=adopted)


def run_diff(case: Case, folder: Path, stage: Stage) -> None:
    from policy_dsl.diff.compare import diff_paths
    from policy_dsl.diff.report import render

    old, new = sorted(case.files, key=lambda n: "new" in n)
    stage("diff")
    result = diff_paths(str(folder / old), str(folder / new))
    stage("render " + case.params["format"])
    render(result, case.params["format"], color=bool(case.params["color"]))


def _cli_contract(argv: list[str], stage: Stage) -> int:
    from click.testing import CliRunner

    from policy_dsl.cli import policy

    stage("cli " + argv[0])
    result = CliRunner().invoke(policy, argv, catch_exceptions=False)
    output = result.stdout + result.stderr
    if "Traceback (most recent call last)" in output:
        raise ContractViolation(f"`policy {argv[0]}` printed a traceback")
    if result.exit_code not in (0, 2):
        raise ContractViolation(f"`policy {argv[0]}` exited {result.exit_code}")
    if result.exit_code == 2 and not result.stderr.strip():
        raise ContractViolation(f"`policy {argv[0]}` exited 2 with nothing on stderr")
    return result.exit_code


class CliPolicyError(PolicyError):
    """`policy` exited 2 with a message: the command line's answer to bad input."""


def run_cli(case: Case, folder: Path, stage: Stage) -> None:
    argv = [a.replace("{dir}", str(folder)) for a in case.params["argv"]]
    if _cli_contract(argv, stage) == 2:
        raise CliPolicyError("exit 2")


def run_native_crash(case: Case, folder: Path, stage: Stage) -> None:
    """Not a category: a real segfault (reading address 0), to test that :class:`Worker` survives one."""
    import ctypes

    stage("native crash")
    ctypes.string_at(0)


RUNNERS: dict[str, Callable[[Case, Path, Stage], None]] = {
    "policy": run_policy,
    "source": run_policy,
    "registry": run_policy,
    "facts": run_facts,
    "population": run_population,
    "diff": run_diff,
    "cli": run_cli,
    "selftest-native-crash": run_native_crash,
}


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread after ``seconds`` of CPU time (``signal.setitimer``
    with ``ITIMER_PROF``; POSIX): CPU time, not wall time, so that a busy shared machine does not
    turn a slow input into a hang."""

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"over {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def innermost_frame(error: BaseException) -> str:
    """The innermost frame of policy_dsl (or of code it generated) in the error's traceback."""
    found = ""
    for frame in traceback.extract_tb(error.__traceback__):
        name = frame.filename.replace("\\", "/")
        if "/policy_dsl/" in name:
            found = f"policy_dsl/{name.rsplit('/policy_dsl/', 1)[1]}:{frame.name}:{frame.lineno}"
        elif name.startswith("<policy") or name == "<standalone module>":
            found = f"{name}:{frame.name}"
    return found or "(outside policy_dsl)"


def run_case(case: Case, workspace: Workspace, timeout: float = TIMEOUT) -> Result:
    stage = Stage()
    start = time.process_time()
    with workspace.placed(case) as folder:
        try:
            with time_limit(timeout):
                RUNNERS[case.category](case, folder, stage)
            outcome = "valid"
            error: BaseException | None = None
        except PolicyError as exc:
            outcome, error = "policy_error", exc
        except Hang as exc:
            outcome, error = "hang", exc
        except Exception as exc:  # the finding: any other exception is a crash
            outcome, error = "crash", exc
    stage.finish()
    seconds = time.process_time() - start  # CPU time: DuckDB's threads count too
    if seconds > timeout and outcome in {"valid", "policy_error"}:  # the alarm came while in C code
        outcome, error = "hang", Hang(f"{seconds:.1f} s of CPU time")
    result = Result(outcome, stage.name, error, seconds=seconds, stage_times=stage.times)
    if outcome in {"crash", "hang"}:
        assert error is not None
        frame = innermost_frame(error)
        name = type(error).__name__ if outcome == "crash" else "Hang"
        where = frame.rsplit(":", 1)[0] if frame.count(":") >= 2 else frame
        result.key = (
            f"{case.category}|{name}|{where}" if outcome == "crash" else f"{case.category}|Hang|{stage.name}"
        )
        result.frame = frame
        lines = traceback.format_exception(error)
        result.trace = _scrub("".join(lines[-12:]), workspace)
    return result


# ---------------------------------------------------------------- a child process per campaign


class NativeCrash(Exception):
    """The child process running an input died of a signal: a crash inside native code (libarrow,
    DuckDB), which no ``except`` can catch."""


class ChildError(Exception):
    """An exception raised in the child process, carried back by name and message."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(name, message)  # both in ``args``: it crosses the pipe by pickle
        self.name = name
        self.message = message

    def __str__(self) -> str:
        return self.message


def error_name(error: BaseException | None) -> str:
    return error.name if isinstance(error, ChildError) else type(error).__name__


def _serve(conn: Any, timeout: float) -> None:
    """The child's loop: an input in — a :class:`Case`, or its name ``(seed, category, index)`` to
    draw here (a case can hold values nested too deeply to pickle) — a picklable :class:`Result`
    out, until ``None``. A native crash prints the Python stack it happened under on stderr."""
    import faulthandler

    faulthandler.enable()
    workspace = Workspace()
    drawer: Drawer | None = None
    try:
        while True:
            task = conn.recv()
            if task is None:
                break
            if isinstance(task, Case):
                case = task
            else:
                drawer = drawer or Drawer(workspace)
                seed, category, index = task
                try:
                    case = drawer.draw(category, case_rng(seed, category, index))
                except Exception as exc:  # a bug of the campaign itself
                    conn.send(Result("harness_error", "draw", ChildError(type(exc).__name__, str(exc))))
                    continue
            result = run_case(case, workspace, timeout)
            if result.error is not None:
                message = _scrub(str(result.error), workspace)
                result.error = ChildError(type(result.error).__name__, message)
            conn.send(result)
    finally:
        workspace.close()


class Worker:
    """Runs cases in a child process (``spawn``: a fresh interpreter, no inherited DuckDB threads).

    A segfault in native code kills the child, not the campaign: the input is reported as a crash
    keyed ``category|SIGSEGV|native code``, saved as a reproducer like any other, and a new child
    takes the next input. A child that neither answers nor uses CPU for ``wall`` seconds (a
    deadlock in native code) is killed and the input counted as a hang."""

    def __init__(self, timeout: float = TIMEOUT, wall: float | None = None) -> None:
        self.timeout = timeout
        self.wall = wall if wall is not None else max(120.0, 20 * timeout)
        self.process: Any = None
        self.conn: Any = None
        self.started = 0

    @property
    def restarts(self) -> int:
        """Child processes started after the first: one per native crash or hang."""
        return max(self.started - 1, 0)

    def _start(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, self.timeout), daemon=True)
        self.process.start()
        child.close()

    def run(self, case: Case | tuple[int, str, int]) -> Result:
        """Run ``case``, or the input named ``(seed, category, index)``, in the child."""
        category = case.category if isinstance(case, Case) else case[1]
        if self.process is None or not self.process.is_alive():
            self._start()
            self.started += 1
        try:
            self.conn.send(case)
            if self.conn.poll(self.wall):
                result: Result = self.conn.recv()
                return result
            self.process.kill()
            self.process.join()
            self.process = None
            return Result(
                "hang",
                "native code",
                Hang(f"no answer in {self.wall:g} s of wall time"),
                key=f"{category}|Hang|native code",
                frame="(native code)",
            )
        except (EOFError, OSError, BrokenPipeError):
            self.process.join(timeout=10)
            code = self.process.exitcode
            self.process = None
            signame = signal.Signals(-code).name if code is not None and code < 0 else f"exit {code}"
            error = NativeCrash(f"the process running the input died: {signame}")
            return Result(
                "crash",
                "native code",
                error,
                key=f"{category}|{signame}|native code",
                frame=f"(native code: {signame})",
                trace=f"NativeCrash: {error}",
            )

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            try:
                self.conn.send(None)
                self.process.join(timeout=10)
            except (OSError, BrokenPipeError):
                pass
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.process = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _scrub(text: str, workspace: Workspace) -> str:
    """No machine paths: the scratch folder and the installation's prefix are cut off."""
    text = text.replace(str(workspace.root), "<work>")
    return scrub_paths(text)


def scrub_paths(text: str) -> str:
    """Each file in a traceback by its package-relative name (policy_dsl/…, json/…), no prefix."""
    text = re.sub(r'File "[^"]*?/policy_dsl/', 'File "policy_dsl/', text)
    return re.sub(r'File "/[^"]*/([^"/]+/[^"/]+)"', r'File "\1"', text)


# ---------------------------------------------------------------- reproducers


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


def known_crashes(directory: Path = CRASHES, pending_only: bool = False) -> dict[str, Path]:
    """Saved reproducers by crash key; with ``pending_only`` those not yet marked fixed."""
    known = {}
    for path in sorted(directory.glob("*/crash.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        if not pending_only or not meta["status"].startswith("fixed"):
            known[meta["key"]] = path.parent
    return known


def save_reproducer(
    case: Case, result: Result, seed: int, index: int, workspace: Workspace, directory: Path = CRASHES
) -> Path:
    digest = hashlib.sha1(result.key.encode("utf-8")).hexdigest()[:8]
    exc_name = result.key.split("|")[1]
    function = result.frame.split(":")[1] if result.frame.count(":") >= 1 else ""
    if result.frame.startswith("(native code"):
        function = "native"
    target = directory / _slug(f"{case.category}-{exc_name}-{function}-{digest}")
    target.mkdir(parents=True, exist_ok=True)
    omitted = {}
    for name, data in case.files.items():
        if sum(len(d) for d in case.files.values()) > MAX_KEPT:
            omitted[name] = len(data)  # too large for the repository: regenerated from the seed
        else:
            (target / name).write_bytes(data)
    message = _scrub(str(result.error), workspace)
    meta = {
        "key": result.key,
        "category": case.category,
        "stage": result.stage,
        "exception": f"{error_name(result.error)}: {message[:400]}",
        "frame": result.frame,
        "seed": seed,
        "index": index,
        "base": case.base,
        "files": sorted(n for n in case.files if n not in omitted),
        "omitted": omitted,
        "params": case.params,
        "status": "found; fix pending",
        "traceback": result.trace,
        "reproduce": f"python benchmarks/fuzz.py --seed {seed} --category {case.category} --index {index}",
    }
    (target / "crash.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return target


def load_reproducer(directory: Path) -> tuple[Case, dict[str, Any]]:
    meta = json.loads((directory / "crash.json").read_text(encoding="utf-8"))
    files = {name: (directory / name).read_bytes() for name in meta["files"]}
    return Case(meta["category"], meta["base"], files, meta["params"]), meta


# ---------------------------------------------------------------- the campaign


@dataclass
class Tally:
    inputs: int = 0
    policy_errors: int = 0
    valid: int = 0
    crashes: int = 0
    hangs: int = 0
    seconds: float = 0.0

    def add(self, result: Result) -> None:
        self.inputs += 1
        self.seconds += result.seconds
        if result.outcome == "valid":
            self.valid += 1
        elif result.outcome == "policy_error":
            self.policy_errors += 1
        elif result.outcome == "crash":
            self.crashes += 1
        else:
            self.hangs += 1


@dataclass
class Finding:
    key: str
    category: str
    index: int
    stage: str
    exception: str
    frame: str
    count: int = 1
    saved: Path | None = None
    known: bool = False


def case_rng(seed: int, category: str, index: int) -> random.Random:
    return random.Random(f"{seed}/{category}/{index}")


def schedule(categories: tuple[str, ...]) -> list[str]:
    """One round of the interleaving: each category as often as its weight, spread out."""
    slots = []
    for category in categories:
        weight = WEIGHTS[category]
        slots += [((k + 0.5) / weight, category) for k in range(weight)]
    return [category for _, category in sorted(slots)]


@dataclass
class Campaign:
    seed: int = 0
    categories: tuple[str, ...] = CATEGORIES
    inputs: int | None = None
    budget: float | None = None
    save: bool = True
    timeout: float = TIMEOUT
    isolate: bool = True  # inputs run in a child process (:class:`Worker`): native crashes are findings
    progress: Callable[[str], None] | None = None
    tallies: dict[str, Tally] = field(default_factory=dict)
    findings: dict[str, Finding] = field(default_factory=dict)
    harness_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    worker: Worker | None = None

    def run(self) -> Campaign:
        workspace = Workspace()
        drawer = Drawer(workspace)
        known = known_crashes(pending_only=True)  # a crash of a reproducer marked fixed is new again
        order = schedule(self.categories)
        counters = dict.fromkeys(self.categories, 0)
        self.tallies = {c: Tally() for c in self.categories}
        start = time.perf_counter()
        total = 0
        self.worker = Worker(self.timeout) if self.isolate else None
        try:
            while True:
                if self.inputs is not None and total >= self.inputs:
                    break
                if self.budget is not None and time.perf_counter() - start >= self.budget:
                    break
                category = order[total % len(order)]
                index = counters[category]
                counters[category] += 1
                total += 1
                self.run_one(drawer, workspace, category, index, known)
                if self.progress is not None and total % 500 == 0:
                    self.progress(self.progress_line(total, time.perf_counter() - start))
        finally:
            self.seconds = time.perf_counter() - start
            if self.worker is not None:
                self.worker.close()
            workspace.close()
        return self

    def run_one(
        self, drawer: Drawer, workspace: Workspace, category: str, index: int, known: dict[str, Path]
    ) -> Result:
        case: Case | None = None
        if self.worker is not None:
            result = self.worker.run((self.seed, category, index))  # drawn in the child
        else:
            try:
                case = drawer.draw(category, case_rng(self.seed, category, index))
            except Exception as exc:
                result = Result("harness_error", "draw", exc)
            else:
                result = run_case(case, workspace, self.timeout)
        if result.outcome == "harness_error":  # a bug of the campaign itself: never counted as an input
            message = f"{category} #{index}: {error_name(result.error)}: {result.error}"
            self.harness_errors.append(message[:300])
            return result
        self.tallies[category].add(result)
        if result.outcome in {"crash", "hang"}:
            finding = self.findings.get(result.key)
            if finding is not None:
                finding.count += 1
                return result
            exception = f"{error_name(result.error)}: {_scrub(str(result.error), workspace)[:200]}"
            finding = Finding(result.key, category, index, result.stage, exception, result.frame)
            finding.known = result.key in known
            if finding.known:
                finding.saved = known[result.key]
            elif self.save and result.key not in known_crashes():
                if case is None:  # drawn again here, from its name, to be saved
                    case = drawer.draw(category, case_rng(self.seed, category, index))
                finding.saved = save_reproducer(case, result, self.seed, index, workspace)
            self.findings[result.key] = finding
            if self.progress is not None:
                self.progress(f"  {result.outcome}: {category} #{index} at {result.stage}: {exception[:160]}")
        return result

    def progress_line(self, total: int, seconds: float) -> str:
        crashes = sum(t.crashes for t in self.tallies.values())
        hangs = sum(t.hangs for t in self.tallies.values())
        distinct = len(self.findings)
        return f"{total} inputs in {seconds:.0f} s: {crashes} crashes, {hangs} hangs, {distinct} distinct"

    def table(self) -> str:
        rows = [("category", "inputs", "PolicyErrors", "valid", "other exceptions", "hangs", "CPU s/input")]
        total = Tally()
        for category, tally in self.tallies.items():
            rows.append(_row(category, tally))
            for name in ("inputs", "policy_errors", "valid", "crashes", "hangs"):
                setattr(total, name, getattr(total, name) + getattr(tally, name))
            total.seconds += tally.seconds
        rows.append(_row("total", total))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = []
        for k, row in enumerate(rows):
            lines.append(
                "  ".join(
                    c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
            )
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    @property
    def new_findings(self) -> list[Finding]:
        return [f for f in self.findings.values() if not f.known]


def _row(name: str, tally: Tally) -> tuple[str, ...]:
    per = f"{tally.seconds / tally.inputs:.3f}" if tally.inputs else "-"
    return (
        name,
        str(tally.inputs),
        str(tally.policy_errors),
        str(tally.valid),
        str(tally.crashes),
        str(tally.hangs),
        per,
    )


def minimize(directory: Path, budget: int = 300) -> tuple[int, int]:
    """Shrink a saved crash's input files in place while the same crash (same key) still happens:
    chunks of lines removed, halving the chunk (a simple delta debugging), then long lines cut.
    Hangs are left as found. Returns the input size before and after, in bytes."""
    case, meta = load_reproducer(directory)
    before = sum(len(d) for d in case.files.values())
    if "|Hang|" in meta["key"] or not case.files:
        return before, before
    workspace = Workspace()
    tries = 0

    def same(candidate: Case) -> bool:
        nonlocal tries
        tries += 1
        result = run_case(candidate, workspace)
        return result.outcome == "crash" and result.key == meta["key"]

    try:
        for name in sorted(case.files):
            data = case.files[name]
            try:
                lines = data.decode("utf-8").splitlines(keepends=True)
            except UnicodeDecodeError:
                continue
            chunk = max(len(lines) // 2, 1)
            while chunk >= 1 and tries < budget:
                start, changed = 0, False
                while start < len(lines) and tries < budget:
                    trial = lines[:start] + lines[start + chunk :]
                    files = {**case.files, name: "".join(trial).encode("utf-8")}
                    if trial and same(Case(case.category, case.base, files, case.params)):
                        lines, changed = trial, True
                    else:
                        start += chunk
                if not changed:
                    chunk //= 2
            for index in sorted(range(len(lines)), key=lambda i: -len(lines[i])):  # long lines cut
                while len(lines[index]) > 200 and tries < budget:
                    line = lines[index]
                    half = len(line) // 4
                    trial = [*lines[:index], line[:half] + line[-half:], *lines[index + 1 :]]
                    files = {**case.files, name: "".join(trial).encode("utf-8")}
                    if not same(Case(case.category, case.base, files, case.params)):
                        break
                    lines = trial
            case.files[name] = "".join(lines).encode("utf-8")
    finally:
        workspace.close()
    for name, data in case.files.items():
        (directory / name).write_bytes(data)
    after = sum(len(d) for d in case.files.values())
    meta["minimized"] = f"{before} → {after} bytes of input, the same crash"
    (directory / "crash.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return before, after


def replay(directory: Path, timeout: float = TIMEOUT) -> tuple[Result, dict[str, Any]]:
    """Run a saved reproducer through its category's runner, as the campaign ran it."""
    case, meta = load_reproducer(directory)
    if meta["key"].endswith("|native code"):  # it may still kill its process: run it in a child
        with Worker(timeout) as worker:
            return worker.run(case), meta
    workspace = Workspace()
    try:
        return run_case(case, workspace, timeout), meta
    finally:
        workspace.close()


def draw_one(seed: int, category: str, index: int, isolate: bool = True) -> tuple[Case, Result]:
    """One input by its name (seed, category, index): drawn and run again, for ``--index`` (in a
    child process, unless ``isolate`` is false, so that a native crash is reported, not suffered)."""
    workspace = Workspace()
    try:
        case = Drawer(workspace).draw(category, case_rng(seed, category, index))
        if isolate:
            with Worker() as worker:
                return case, worker.run(case)
        return case, run_case(case, workspace)
    finally:
        workspace.close()
