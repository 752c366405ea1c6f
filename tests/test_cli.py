"""The command line: exit codes as diff(1), errors on stderr, the standalone module."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.cli import policy, policy_diff

EXAMPLE = Path(__file__).resolve().parent.parent / "policies" / "cq-foreign-trade-2022"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the shipped example, so tests may change it."""
    target = tmp_path / "cq"
    shutil.copytree(EXAMPLE, target)
    shutil.copy(Path(EXAMPLE).parent / "enterprise.vocabulary", target.parent)
    return target


def test_check_ok(example: Path) -> None:
    result = CliRunner().invoke(
        policy, ["check", str(example / "draft.policy"), str(example / "chongqing.agencies")]
    )
    assert result.exit_code == 0, result.stderr
    assert "draft.policy: ok" in result.stdout
    assert "agency registry" in result.stdout
    assert result.stderr == ""


def test_check_reports_errors_on_stderr_with_exit_2(example: Path) -> None:
    path = example / "draft.policy"
    text = path.read_text(encoding="utf-8").replace("when 小微外贸企业 and", "when 小微外贸企 and", 1)
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(policy, ["check", str(path)])
    assert result.exit_code == 2
    assert "unknown name `小微外贸企`" in result.stderr
    assert "did you mean `小微外贸企业`?" in result.stderr
    assert result.stdout == ""


def test_check_missing_file_is_a_clear_error() -> None:
    result = CliRunner().invoke(policy, ["check", "no/such.policy"])
    assert result.exit_code == 2
    assert "no/such.policy: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.policy"
    path.write_bytes(b"\x00\x01\x02")
    result = CliRunner().invoke(policy, ["check", str(path)])
    assert result.exit_code == 2
    assert "binary file" in result.stderr


def test_eval_text_explains(example: Path) -> None:
    facts = example / "enterprises" / "small-exporter.json"
    args = [
        "eval",
        "--as-adopted",
        str(example / "draft.policy"),
        "--facts",
        str(facts),
        "--as-of",
        "2022-07-01",
    ]
    result = CliRunner().invoke(policy, args)
    assert result.exit_code == 0, result.stderr
    assert "✓ eligible" in result.stdout
    assert "小微外贸企业短期出口信用保险保费补贴" in result.stdout
    assert "amount: 36800.00元" in result.stdout
    assert "cites: 「对小微外贸企业投保短期出口信用保险给予保费100%补贴」" in result.stdout


def test_eval_json_from_stdin(example: Path) -> None:
    args = [
        "eval",
        "--as-adopted",
        str(example / "draft.policy"),
        "--facts",
        "-",
        "--as-of",
        "2022-07-01",
        "--format",
        "json",
    ]
    result = CliRunner().invoke(policy, args, input='{"是外贸企业": true, "出口额": "500万美元"}')
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    statuses = {b["id"]: b["status"] for b in data["benefits"]}
    assert statuses["差异化降低投保费率"] == "eligible"
    assert data["as_of"] == "2022-07-01"


def test_eval_bad_facts_point_into_the_json(example: Path, tmp_path: Path) -> None:
    facts = tmp_path / "f.json"
    facts.write_text('{\n  "出口额": "5000万美元",\n  "出口企业分类": "五类"\n}\n', encoding="utf-8")
    result = CliRunner().invoke(
        policy, ["eval", "--as-adopted", str(example / "draft.policy"), "--facts", str(facts)]
    )
    assert result.exit_code == 2
    assert f"{facts}:3:3: error: fact `出口企业分类`" in result.stderr


def test_eval_invalid_json(example: Path) -> None:
    result = CliRunner().invoke(
        policy, ["eval", "--as-adopted", str(example / "draft.policy"), "--facts", "-"], input="{oops"
    )
    assert result.exit_code == 2
    assert "<stdin>:1:2: error: facts are not valid JSON" in result.stderr


def test_eval_bad_date(example: Path) -> None:
    result = CliRunner().invoke(
        policy, ["eval", "--as-adopted", str(example / "draft.policy"), "--facts", "-", "--as-of", "June"]
    )
    assert result.exit_code == 2
    assert "not a date" in result.stderr


def test_fmt_check_and_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "a.policy"
    path.write_text("fact   出口额 :money USD   // 出口额\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(policy, ["fmt", "--check", str(path)])
    assert result.exit_code == 1
    assert "would reformat" in result.stdout
    result = runner.invoke(policy, ["fmt", str(path)])
    assert result.exit_code == 0
    assert path.read_text(encoding="utf-8") == "fact 出口额: money USD  // 出口额\n"
    assert runner.invoke(policy, ["fmt", "--check", str(path)]).exit_code == 0


def test_fmt_syntax_error_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "a.policy"
    path.write_text("fact 出口额 money\n", encoding="utf-8")
    result = CliRunner().invoke(policy, ["fmt", str(path)])
    assert result.exit_code == 2
    assert "a.policy:1:" in result.stderr


def test_compile_writes_a_standalone_module(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "cq_rules.py"
    result = CliRunner().invoke(policy, ["compile", str(example / "draft.policy"), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    source = out.read_text(encoding="utf-8")
    assert "policy_dsl" not in source.replace("Generated by policy_dsl", "")
    spec = importlib.util.spec_from_file_location("cq_rules", out)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loaded = policy_dsl.load(example / "draft.policy")
    facts = {
        "是外贸企业": True,
        "出口额": "480万美元",
        "投保短期出口信用保险": True,
        "短期出口信用保险保费": "36800元",
    }
    day = dt.date(2022, 7, 1)
    outcome = loaded.evaluate(facts, as_of=day, adopted=True)
    from policy_dsl.facts import validate_facts

    raw = module.evaluate(validate_facts(loaded.checked, facts), day, True)
    assert module.to_json(raw) == outcome.to_json()


def test_python_m_runs_the_cli() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "policy_dsl", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "check" in result.stdout and "eval" in result.stdout


def test_policy_diff_exit_codes_follow_diff(example: Path) -> None:
    runner = CliRunner()
    same = runner.invoke(policy_diff, [str(example / "draft.policy"), str(example / "draft.policy")])
    assert same.exit_code == 0, same.stderr
    assert "no differences" in same.stdout
    different = runner.invoke(
        policy_diff, [str(example / "draft.policy"), str(example / "revision-example.policy")]
    )
    assert different.exit_code == 1, different.stderr
    assert "Summary" in different.stdout
    missing = runner.invoke(policy_diff, [str(example / "draft.policy"), "nope.policy"])
    assert missing.exit_code == 2
    assert "nope.policy: no such file" in missing.stderr


def test_eval_only_shows_the_statuses_asked_for(example: Path) -> None:
    facts = example / "enterprises" / "small-exporter.json"
    args = [
        "eval",
        "--as-adopted",
        str(example / "draft.policy"),
        "--facts",
        str(facts),
        "--as-of",
        "2022-07-01",
    ]
    result = CliRunner().invoke(policy, [*args, "--only", "eligible"])
    assert result.exit_code == 0, result.stderr
    assert "eligible only" in result.stdout
    assert "? unknown" not in result.stdout and "✗ not eligible" not in result.stdout
    assert "小微外贸企业短期出口信用保险保费补贴" in result.stdout
    data = json.loads(CliRunner().invoke(policy, [*args, "--only", "unknown", "--format", "json"]).stdout)
    assert data["benefits"] and {b["status"] for b in data["benefits"]} == {"unknown"}


@pytest.mark.parametrize("command", ["eval", "explain"])
def test_the_default_day_is_said(example: Path, command: str) -> None:
    """Without --as-of the day is today, and the output says so (a period makes results depend on it)."""
    args = [command, "--as-adopted", str(example / "draft.policy"), "--facts", "-"]
    result = CliRunner().invoke(policy, args, input='{"是外贸企业": true, "出口额": "500万美元"}')
    assert result.exit_code == 0, result.stderr
    today = dt.date.today().isoformat()
    assert f"no --as-of given: evaluated as of today, {today}" in result.stderr
    assert f"as of {today}" in result.stdout
    given = CliRunner().invoke(
        policy, [*args, "--as-of", "2022-07-01"], input='{"是外贸企业": true, "出口额": "500万美元"}'
    )
    assert "no --as-of given" not in given.stderr
    assert "as of 2022-07-01" in given.stdout


def test_the_default_day_is_said_for_a_population_and_sql(example: Path, tmp_path: Path) -> None:
    population = tmp_path / "p.csv"
    population.write_text("id,出口额\n1,100\n", encoding="utf-8")
    result = CliRunner().invoke(
        policy, ["eval", "--as-adopted", str(example / "draft.policy"), "--population", str(population)]
    )
    assert result.exit_code == 0, result.stderr
    assert "no --as-of given" in result.stderr
    sql = CliRunner().invoke(policy, ["compile", "--to", "sql", str(example / "draft.policy")])
    assert sql.exit_code == 0, sql.stderr
    assert "no --as-of given" in sql.stderr
    python = CliRunner().invoke(policy, ["compile", str(example / "draft.policy")])
    assert "no --as-of given" not in python.stderr
