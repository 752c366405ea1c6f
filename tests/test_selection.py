"""--benefit and --measure: only the rules asked for are computed, with the same figures as a full
run; names that match nothing are errors with a hint. And the start-up promise: a command imports
only what it needs."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.cli import policy, policy_diff
from policy_dsl.diff.compare import diff_paths
from policy_dsl.diff.population import population_diff
from policy_dsl.errors import PolicyLoadError
from policy_dsl.selection import select_rules
from policy_dsl.synth import synthesize
from policy_dsl.table import population_summary

SEED = Path(__file__).resolve().parent.parent / "policies" / "cq-foreign-trade-2022"
LIUHE = Path(__file__).resolve().parent.parent / "policies" / "liuhe-key-industries-2023"
OLD, NEW = str(SEED / "draft.policy"), str(SEED / "revision-example.policy")
DAY = dt.date(2022, 7, 1)
draft = policy_dsl.load(OLD)
revision = policy_dsl.load(NEW)


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("selection") / "population.parquet"
    synthesize(revision.checked, 3000, str(path), seed=5)
    return path


def _measure_rules(checked: policy_dsl.Policy, label: str) -> set[str]:
    infos = (*checked.checked.benefits, *checked.checked.duties)
    return {info.rule.name for info in infos if info.measure == label}


@pytest.mark.parametrize("asked", ["（五）", "(五)", "五", "5", " （五） "])
def test_a_measure_by_its_label_or_its_number(asked: str) -> None:
    assert select_rules([draft.checked], measures=[asked]) == _measure_rules(draft, "（五）")


def test_articles_numbered_by_their_number() -> None:
    liuhe = policy_dsl.load(LIUHE / "new.policy")
    assert select_rules([liuhe.checked], measures=["第5条"]) == _measure_rules(liuhe, "第5条")
    assert select_rules([liuhe.checked], measures=["5"]) == _measure_rules(liuhe, "第5条")


def test_a_number_two_measures_share_must_be_written_out() -> None:
    liuhe_old = policy_dsl.load(LIUHE / "old.policy")  # （三） and the chapter 三、 both hold rules
    with pytest.raises(PolicyLoadError) as caught:
        select_rules([liuhe_old.checked], measures=["3"])
    text = caught.value.render()
    assert (
        "--measure 3: the number is that of several measures" in text and "（三）" in text and "三、" in text
    )
    assert select_rules([liuhe_old.checked], measures=["三、"]) == _measure_rules(liuhe_old, "三、")


def test_unknown_names_are_errors_with_a_hint() -> None:
    with pytest.raises(PolicyLoadError) as caught:
        select_rules([draft.checked], benefits=["小微企业信保补贴", "海外仓建设支持"], measures=["99"])
    text = caught.value.render()
    assert "--benefit 小微企业信保补贴: no benefit or duty has this id" in text
    assert "did you mean `小微企业信保保费补贴`" in text
    assert "--measure 99: no measure with rules" in text
    assert select_rules([draft.checked]) is None


def test_a_rule_of_either_version_can_be_asked_for_in_a_diff() -> None:
    only_new = sorted(
        {b.rule.name for b in revision.checked.benefits} - {b.rule.name for b in draft.checked.benefits}
    )
    assert only_new, "the revision adds benefits"
    assert select_rules([draft.checked, revision.checked], benefits=only_new[:1]) == {only_new[0]}
    with pytest.raises(PolicyLoadError):
        select_rules([draft.checked], benefits=only_new[:1])


def test_the_selected_figures_are_the_full_run_figures(population: Path) -> None:
    full = population_summary(draft.checked, str(population), None, DAY, adopted=True)
    only = select_rules([draft.checked], measures=["（六）"], benefits=["小微企业信保保费补贴"])
    assert only is not None and len(only) > 1
    part = population_summary(draft.checked, str(population), None, DAY, adopted=True, only=only)
    assert [b["benefit"] for b in part["benefits"]] == [
        b["benefit"] for b in full["benefits"] if b["benefit"] in only
    ]
    assert part["benefits"] == [b for b in full["benefits"] if b["benefit"] in only]


def test_the_results_file_holds_only_the_selected_columns(population: Path, tmp_path: Path) -> None:
    output = tmp_path / "results.parquet"
    only = frozenset({"小微企业信保保费补贴"})
    population_summary(draft.checked, str(population), str(output), DAY, adopted=True, only=only)
    passed_through = pq.read_schema(population).names  # the columns that are not facts of the draft
    written = [n for n in pq.read_schema(output).names if n not in passed_through]
    assert written == ["小微企业信保保费补贴", "小微企业信保保费补贴:amount"]


def test_evaluate_table_and_sql_take_the_selection(population: Path) -> None:
    table = pq.read_table(population)
    results = draft.evaluate_table(table, DAY, adopted=True, measures=["（五）"])
    benefits = _measure_rules(draft, "（五）") - {info.rule.name for info in draft.checked.duties}
    assert set(results.column_names) - set(table.column_names) == benefits
    query = draft.sql("postgres", DAY, adopted=True, benefits=["小微企业信保保费补贴"])
    assert '"小微企业信保保费补贴:amount"' in query and '"中型外贸企业认定标准放宽"' not in query


def test_the_population_diff_of_some_rules_is_that_of_all(population: Path) -> None:
    diff = diff_paths(OLD, NEW)
    full = population_diff(diff, OLD, NEW, str(population), DAY, ids=5).population
    asked = ["小微企业信保保费补贴", "中型外贸企业认定标准放宽"]
    part = population_diff(diff, OLD, NEW, str(population), DAY, ids=5, benefits=asked).population
    assert full is not None and part is not None
    assert [b for b in full.benefits if b.id in asked] == list(part.benefits)
    assert part.selected is not None and sorted(part.selected) == sorted(asked) and full.selected is None
    assert sorted(part.to_dict()["selected"]) == sorted(asked)


def test_the_cli_options(population: Path) -> None:
    asked = ["--as-of", "2022-07-01", "--as-adopted", "--measure", "五", "--format", "json"]
    run = CliRunner().invoke(policy, ["eval", OLD, "--population", str(population), *asked])
    assert run.exit_code == 0, run.stderr
    assert {b["benefit"] for b in json.loads(run.stdout)["benefits"]} == _measure_rules(draft, "（五）")
    refused = CliRunner().invoke(policy, ["eval", OLD, "--facts", "-", "--benefit", "x"], input="{}")
    assert refused.exit_code == 2 and "choose the rules of a population run" in refused.stderr
    wrong = CliRunner().invoke(
        policy, ["compile", OLD, "--to", "sql", "--benefit", "nope", "--as-of", "2022-07-01"]
    )
    assert wrong.exit_code == 2 and "--benefit nope" in wrong.stderr
    diff = CliRunner().invoke(
        policy_diff,
        [
            OLD,
            NEW,
            "--population",
            str(population),
            "--as-of",
            "2022-07-01",
            "--benefit",
            "小微企业信保保费补贴",
        ],
    )
    assert diff.exit_code == 1, diff.stderr
    assert "only the 1 rule asked for: 小微企业信保保费补贴" in diff.stdout


def _imported(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sys.modules))"
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in found.stdout.split()} | set(found.stdout.split())


def test_help_loads_neither_the_parser_nor_duckdb() -> None:
    loaded = _imported(
        "from policy_dsl.cli import policy\ntry:\n    policy(['--help'])\nexcept SystemExit:\n    pass"
    )
    for heavy in ("lark", "duckdb", "pyarrow", "policy_dsl.check", "policy_dsl.compile"):
        assert heavy not in loaded, heavy


def test_eval_of_one_enterprise_loads_no_duckdb_or_pyarrow(tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text('{"是外贸企业": true}', encoding="utf-8")
    loaded = _imported(
        "from policy_dsl.cli import policy\n"
        f"try:\n    policy(['eval', {OLD!r}, '--facts', {str(facts)!r}, '--as-of', '2022-07-01'])\n"
        "except SystemExit:\n    pass"
    )
    assert "policy_dsl.evaluate" in loaded  # it did evaluate
    assert not {"duckdb", "pyarrow", "numpy", "pandas"} & loaded
