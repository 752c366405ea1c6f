"""The one-pass population diff agrees with the per-enterprise Python path, on populations that
hypothesis draws: synthesized at the rules' boundaries from a drawn seed, with drawn columns left out
(so that results become unknown) and a drawn id column or none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_population import _classify

import policy_dsl
from policy_dsl.diff.compare import diff_paths
from policy_dsl.diff.population import population_diff
from policy_dsl.synth import synthesize

SEED = Path(__file__).resolve().parent.parent / "policies" / "cq-foreign-trade-2022"
OLD, NEW = str(SEED / "draft.policy"), str(SEED / "revision-example.policy")
DAYS = (dt.date(2022, 7, 1), dt.date(2019, 1, 1), dt.date(2031, 1, 1))

old_policy, new_policy = policy_dsl.load(OLD), policy_dsl.load(NEW)
DIFF = diff_paths(OLD, NEW)
FACTS = sorted(new_policy.checked.facts)


def _expected(table: pa.Table, day: dt.date, id_named: bool) -> dict[str, Any]:
    """Per benefit and duty: the ids of each kind, the counts granted under each version, and the
    sums of the eligible enterprises' amounts — enterprise by enterprise, in Python."""
    found: dict[str, Any] = {}
    for number, row in enumerate(table.to_pylist(), start=1):
        ident = str(row.pop("id")) if id_named else f"row {number}"
        values = {k: v for k, v in row.items() if v is not None}
        sides = []
        for policy in (old_policy, new_policy):
            facts = {k: v for k, v in values.items() if k in policy.checked.facts}
            outcome = policy.evaluate(facts, as_of=day, adopted=True)
            rules = {b.id: b for b in outcome.benefits}
            rules.update({d.id: d for d in outcome.duties})
            sides.append(rules)
        before, after = sides
        for name in {*before, *after}:
            entry = found.setdefault(name, {"ids": {}, "old": 0, "new": 0, "sum_old": 0, "sum_new": 0})
            o, n = before.get(name), after.get(name)
            for side, result in (("old", o), ("new", n)):
                if result is not None and result.status in ("eligible", "applies"):
                    entry[side] += 1
                    amount = getattr(result, "amount", None)
                    if amount is not None:
                        entry["sum_" + side] += amount.amount
            kind = _classify(_as_benefit(o), _as_benefit(n))
            if kind is not None:
                entry["ids"].setdefault(kind, []).append(ident)
    return found


class _Shown:
    """A duty's result seen as a benefit's, for :func:`_classify`: applies ↔ eligible, and its levels
    (「平均办理时间 <= 3个工作日」) in the place of the amount — owed under both, with other levels, is
    a change."""

    def __init__(self, status: str, levels: Any) -> None:
        self.status = "eligible" if status == "applies" else status
        self.amount, self.cap, self.rate = levels, None, None


def _as_benefit(result: Any) -> Any:
    if result is None or hasattr(result, "amount"):
        return result
    return _Shown(result.status, [(label, op, str(value)) for label, op, value in result.levels])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**20),
    size=st.integers(1, 60),
    dropped=st.sets(st.sampled_from(FACTS), max_size=6),
    id_named=st.booleans(),
    day=st.sampled_from(DAYS),
)
def test_one_pass_agrees_with_python_enterprise_by_enterprise(
    tmp_path: Path, seed: int, size: int, dropped: set[str], id_named: bool, day: dt.date
) -> None:
    path = tmp_path / f"population-{seed}-{size}.parquet"
    synthesize(new_policy.checked, size, str(path), seed=seed)
    table = pq.read_table(path)
    left_out = [c for c in table.column_names if c in dropped or (c == "id" and not id_named)]
    table = table.drop_columns(left_out)
    pq.write_table(table, path)
    layer = population_diff(DIFF, OLD, NEW, str(path), day, ids="all").population
    assert layer is not None and layer.rows == size
    expected = _expected(table, day, id_named)
    for benefit in layer.benefits:
        want = expected[benefit.id]
        assert {k: list(v) for k, v in benefit.ids.items() if v} == want["ids"], benefit.id
        assert (benefit.eligible_old, benefit.eligible_new) == (want["old"], want["new"]), benefit.id
        if benefit.amount is not None:
            assert (benefit.amount.old, benefit.amount.new) == (
                Decimal(want["sum_old"]),
                Decimal(want["sum_new"]),
            ), benefit.id
    assert {b.id for b in layer.benefits} == set(expected)


def test_counts_without_ids_are_the_counts_with_them(tmp_path: Path) -> None:
    """Without ``--ids`` no id or row number is made: the same counts and money all the same."""
    path = tmp_path / "population.parquet"
    synthesize(new_policy.checked, 500, str(path), seed=3)
    listed = population_diff(DIFF, OLD, NEW, str(path), DAYS[0], ids="all").population
    counted = population_diff(DIFF, OLD, NEW, str(path), DAYS[0]).population
    assert listed is not None and counted is not None
    assert [(b.id, b.counts, b.amount) for b in listed.benefits] == [
        (b.id, b.counts, b.amount) for b in counted.benefits
    ]
    assert any(b.moved for b in counted.benefits) and not any(b.ids for b in counted.benefits)


@pytest.mark.parametrize("progress", [False, True])
def test_duckdb_draws_no_progress_bar_unless_asked(progress: bool) -> None:
    """DuckDB's default draws a progress bar on standard output, into a report piped to a file."""
    from policy_dsl.table import connect

    con = connect(progress)
    assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (progress,)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_ids_file_holds_every_listed_id(tmp_path: Path, suffix: str) -> None:
    """``--ids-file``: every (id, benefit, change) that ``--ids all`` lists (in no particular order),
    written by DuckDB as it goes (nothing held in memory)."""
    path = tmp_path / "population.parquet"
    synthesize(new_policy.checked, 2000, str(path), seed=11)
    listed = population_diff(DIFF, OLD, NEW, str(path), DAYS[0], ids="all").population
    out = tmp_path / f"moved{suffix}"
    counted = population_diff(DIFF, OLD, NEW, str(path), DAYS[0], ids_file=str(out)).population
    assert listed is not None and counted is not None
    table = pq.read_table(out) if suffix == ".parquet" else pa.csv.read_csv(out)
    assert table.column_names == ["id", "benefit", "change"]
    written: dict[str, dict[str, list[str]]] = {}
    for row in table.to_pylist():
        written.setdefault(row["benefit"], {}).setdefault(row["change"], []).append(str(row["id"]))
    expected = {b.id: {k: sorted(v) for k, v in b.ids.items() if v} for b in listed.benefits if b.moved}
    written = {name: {k: sorted(v) for k, v in kinds.items()} for name, kinds in written.items()}
    assert written == expected and sum(len(v) for kinds in expected.values() for v in kinds.values()) > 100
    assert [b.counts for b in counted.benefits] == [b.counts for b in listed.benefits]


def test_an_ids_file_of_an_unknown_format_is_refused(tmp_path: Path) -> None:
    from policy_dsl.errors import PolicyLoadError

    path = tmp_path / "population.parquet"
    synthesize(new_policy.checked, 10, str(path), seed=1)
    with pytest.raises(PolicyLoadError, match="unknown ids file format"):
        population_diff(DIFF, OLD, NEW, str(path), DAYS[0], ids_file=str(tmp_path / "ids.xlsx"))
    with pytest.raises(PolicyLoadError, match="its directory does not exist"):
        population_diff(DIFF, OLD, NEW, str(path), DAYS[0], ids_file=str(tmp_path / "no" / "ids.csv"))


def test_an_ids_file_when_nothing_moves(tmp_path: Path) -> None:
    path = tmp_path / "population.parquet"
    synthesize(new_policy.checked, 50, str(path), seed=2)
    out = tmp_path / "moved.parquet"
    layer = population_diff(diff_paths(NEW, NEW), NEW, NEW, str(path), DAYS[0], ids_file=str(out)).population
    assert layer is not None and not layer.different
    table = pq.read_table(out)
    assert table.column_names == ["id", "benefit", "change"] and table.num_rows == 0
