"""Reading the structure of the Chinese source document, and the coverage report built on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import policy_dsl
from policy_dsl.document import read_document, split_units

SEED = Path(__file__).resolve().parent.parent / "policies" / "cq-foreign-trade-2022"


def test_seed_structure() -> None:
    document = read_document((SEED / "draft.txt").read_text(encoding="utf-8"))
    assert document.title == "关于推动外贸保稳提质的实施意见"
    assert document.status == "征求意见稿"
    assert [c.number for c in document.chapters] == ["一、", "二、", "三、", "四、"]
    assert [m.number for m in document.measures] == [
        f"（{n}）"
        for n in ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四"]
    ]
    six = document.measure("（六）")
    assert six is not None
    assert six.title == "进一步加大出口信用保险支持"
    assert six.chapter == "二、"
    assert [u.name for u in six.units] == ["市商务委", "市金融监管局", "重庆银保监局", "中国信保重庆分公司"]
    assert six.sentences[-1].text == "进一步扩大出口信用保险承保规模，2022年支持一般贸易出口不低于70亿美元。"


def test_collective_unit_is_one_unit() -> None:
    units = split_units(
        "市财政局、市商务委，各区县（自治县）政府和两江新区管委会、西部科学城重庆高新区、万盛经开区管委会"
        "（以下统称各区县政府）"
    )
    assert [u.name for u in units] == ["市财政局", "市商务委", "各区县政府"]
    assert units[2].full is not None and units[2].full.startswith("各区县（自治县）政府")


def test_crlf_and_bom_are_accepted() -> None:
    text = "\ufeff标题\r\n（征求意见稿）\r\n一、总则\r\n（一）第一条\r\n"
    text += "正文一。正文二；\r\n（责任单位：甲、乙）\r\n"
    document = read_document(text)
    assert document.title == "标题"
    measure = document.measures[0]
    assert [s.text for s in measure.sentences] == ["正文一。", "正文二；"]
    assert [u.name for u in measure.units] == ["甲", "乙"]


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    target = tmp_path / "cq"
    shutil.copytree(SEED, target)
    shutil.copy(Path(SEED).parent / "enterprise.vocabulary", target.parent)
    return target


def test_coverage_of_the_shipped_encoding(seed_copy: Path) -> None:
    coverage = policy_dsl.load(seed_copy / "draft.policy").checked.coverage
    assert coverage is not None
    assert len(coverage.units_in_source) == 18  # 4 chapters 一、, 14 measures （一）
    assert coverage.units_encoded == coverage.units_in_source
    assert coverage.styles == (("一、", 4, 4), ("（一）", 14, 14))
    assert coverage.unit_lines_encoded == coverage.unit_lines_in_source


SMALL_SOURCE = """示例政策

一、总则

（一）支持出口

对小微外贸企业给予保费补贴。建立工作专班，统筹协调。（责任单位：市商务委）
"""

SMALL_POLICY = """policy "示例政策" { source "s.txt" }
agency 市商务委 "重庆市商务委员会"
fact 小微: bool
chapter 一、 "总则" {
    measure （一） "支持出口" {
        agencies 市商务委
        cite "（责任单位：市商务委）"
        benefit 补贴 {
            kind premium_subsidy
            when 小微
            cite "对小微外贸企业给予保费补贴"
        }
    }
}
"""


def test_uncited_sentences_are_listed(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text(SMALL_SOURCE, encoding="utf-8")
    (tmp_path / "p.policy").write_text(SMALL_POLICY, encoding="utf-8")
    coverage = policy_dsl.load(tmp_path / "p.policy").checked.coverage
    assert coverage is not None
    assert coverage.sentences_total == 2
    assert [(s.measure, s.text, s.line) for s in coverage.uncited] == [
        ("（一）", "建立工作专班，统筹协调。", 7)
    ]
    assert coverage.unit_lines_encoded == ("（一）",)
    report = coverage.report()
    assert "sentences cited 1/2" in report
    assert "（一） line 7: 建立工作专班，统筹协调。" in report


def test_a_unit_line_the_measure_does_not_cite_is_not_counted(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text(SMALL_SOURCE, encoding="utf-8")
    policy = SMALL_POLICY.replace('cite "（责任单位：市商务委）"', 'cite "建立工作专班"')
    (tmp_path / "p.policy").write_text(policy, encoding="utf-8")
    coverage = policy_dsl.load(tmp_path / "p.policy").checked.coverage
    assert coverage is not None
    assert coverage.unit_lines_encoded == ()
    assert "responsible-unit lines 0/1" in coverage.summary()


def test_agencies_out_of_order_are_an_error(seed_copy: Path) -> None:
    path = seed_copy / "draft.policy"
    text = path.read_text(encoding="utf-8")
    line = "agencies 市商务委, 市金融监管局, 重庆银保监局, 中国信保重庆分公司"
    assert line in text
    path.write_text(
        text.replace(line, "agencies 市金融监管局, 市商务委, 重庆银保监局, 中国信保重庆分公司", 1), "utf-8"
    )
    with pytest.raises(policy_dsl.PolicyCheckError) as caught:
        policy_dsl.load(path)
    message = str(caught.value)
    assert "the agencies of （六） differ from its （责任单位：…） line" in message
    assert "市商务委、市金融监管局、重庆银保监局、中国信保重庆分公司" in message
