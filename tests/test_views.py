"""The views a user asks for: agencies, facts schema, explanation; and `policy test` on cases."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from policy_dsl.cli import policy

SMALL = Path(__file__).resolve().parent / "fixtures" / "small"
POLICY = str(SMALL / "small.policy")


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(policy, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_agencies_text_names_lead_and_co_leads() -> None:
    code, out, err = invoke("agencies", POLICY)
    assert code == 0, err
    assert "市商务委  重庆市商务委员会" in out
    assert "leads (1): （六）进一步加大出口信用保险支持" in out
    assert "named on rules: （六）退税时间" in out


def test_agencies_csv_and_json() -> None:
    code, out, _ = invoke("agencies", POLICY, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["agency"] == "市商务委"
    assert rows[0]["leads"] == "（六）进一步加大出口信用保险支持"
    code, out, _ = invoke("agencies", POLICY, "--format", "json")
    data = json.loads(out)
    assert {row["id"] for row in data} == {"市商务委", "重庆市税务局"}


def test_schema_describes_every_fact() -> None:
    code, out, err = invoke("schema", POLICY)
    assert code == 0, err
    schema = json.loads(out)
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert set(properties) == {"出口额", "分类", "投保", "保费", "注册"}
    assert properties["分类"]["enum"] == ["一类", "二类", "三类", "四类", None]  # null: unknown
    assert properties["注册"]["items"]["enum"] == ["FDA", "EMA"]
    assert properties["注册"]["type"] == ["array", "null"]
    assert properties["投保"]["type"] == ["boolean", "null"]
    assert properties["出口额"]["x-currency"] == "USD"


def test_explain_quotes_a_citation_for_each_step() -> None:
    facts = json.dumps({"出口额": "400万美元", "投保": True, "保费": "1000元"})
    code, out, err = invoke(
        "explain", "--as-adopted", POLICY, "--facts", "-", "--as-of", "2022-07-01", stdin=facts
    )
    assert code == 0, err
    section = out.split("保费补贴 — eligible", 1)[1].split("\n\n", 1)[0]
    assert "1. ✓ 小微 is true" in section
    assert "per 「出口额5000万美元和500万美元以下」" in section  # the definition's own citation
    assert "✓ 投保 is true" in section
    assert "⇒ so the enterprise is eligible, for 1000.00元" in section


def test_policy_test_passes_and_fails_honestly(tmp_path: Path) -> None:
    code, out, err = invoke("test", POLICY, str(SMALL / "cases.json"))
    assert code == 0, err
    assert out.rstrip().endswith("3 passed, 0 failed")
    cases = json.loads((SMALL / "cases.json").read_text(encoding="utf-8"))
    cases["cases"][1]["expect"]["保费补贴"] = "eligible"
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    code, out, _ = invoke("test", POLICY, str(wrong))
    assert code == 1
    assert "✗ 出口额超过500万美元一分钱" in out
    assert "保费补贴: expected eligible, got not_eligible" in out
    assert "出口额 <= 500万美元 = false" in out
    assert out.rstrip().endswith("2 passed, 1 failed")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expect": {"保费补帖": "eligible"}}, "no benefit or duty `保费补帖`"),
        ({"expect": {"保费补贴": "eligable"}}, "`eligable` is not a benefit status"),
        ({"facts": {"出口额": "五百万"}}, "fact `出口额`"),
        ({"as_of": "someday"}, "not a date"),
    ],
)
def test_malformed_cases_are_errors_not_skips(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    case = {"name": "坏例子", "as_of": "2022-07-01", "facts": {}, "expect": {"保费补贴": "unknown"}}
    case.update(change)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"cases": [case]}, ensure_ascii=False), encoding="utf-8")
    code, _, err = invoke("test", POLICY, str(path))
    assert code == 2
    assert message in err


def test_explain_covers_duties_with_their_service_level() -> None:
    code, out, err = invoke(
        "explain", "--as-adopted", POLICY, "--facts", "-", "--as-of", "2022-07-01", stdin='{"分类": "二类"}'
    )
    assert code == 0, err
    section = out.split("Duties of the agencies", 1)[1]
    assert "退税时间 — applies" in section
    assert "✓ 分类 in {一类, 二类} is true" in section
    assert "with the service level 平均办理时间 <= 3个工作日" in section
    code, out, _ = invoke(
        "explain", "--as-adopted", POLICY, "--facts", "-", "--as-of", "2023-07-01", stdin='{"分类": "二类"}'
    )
    assert "✗ 2023-07-01 is not in force (2022-06-20 to 2023-06-30)" in out
    assert "退税时间 — not in force" in out
    assert "so it is not in force on this day" in out
