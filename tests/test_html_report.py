"""The HTML report of policy-diff: one self-contained page, checked as text and in a real browser.

The browser test runs Debian's Chromium headless (``apt-get install -y chromium``). Without it the
test is skipped locally and fails when ``CI`` is set, since CI installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy_dsl.diff.compare import PolicyDiff, diff_paths
from policy_dsl.diff.html_report import redline_rows, render_html
from policy_dsl.diff.redline import DELETE, EQUAL, INSERT, Segment
from policy_dsl.diff.report import render

EXAMPLE = Path(__file__).resolve().parent.parent / "policies" / "cq-foreign-trade-2022"
DRAFT, REVISION = EXAMPLE / "draft.policy", EXAMPLE / "revision-example.policy"

#: The row of a side-by-side redline: old cell, new cell.
ROW = re.compile(
    r'<tr class="(?:changed|same|title)">'
    r'<td class="redline old">(.*?)</td><td class="redline new">(.*?)</td></tr>'
)


@pytest.fixture(scope="module")
def diff() -> PolicyDiff:
    return diff_paths(str(DRAFT), str(REVISION))


@pytest.fixture(scope="module")
def page(diff: PolicyDiff) -> str:
    return render_html(diff)


def _section(page: str, index: int) -> str:
    match = re.search(rf'<section class="measure" id="measure-{index}" .*?</section>', page, re.S)
    assert match, f"no section measure-{index}"
    return match.group(0)


# ---------------------------------------------------------------- the page as text


def test_page_is_one_self_contained_document(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>\n")
    assert '<html lang="zh-CN">' in page
    assert '<meta charset="utf-8">' in page
    assert "<style>" in page
    lowered = page.lower()
    for external in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "http://", "https://"):
        assert external not in lowered, external


def test_header_names_both_versions(page: str) -> None:
    header = page[page.index('<header class="versions">') : page.index("</header>")]
    for text in (
        str(DRAFT),
        str(REVISION),
        "征求意见稿",
        "示例修订稿",
        "UTF-8",
        "关于推动外贸保稳提质的实施意见",
    ):
        assert text in header, text


def test_summary_shows_every_count_of_every_layer(diff: PolicyDiff, page: str) -> None:
    summary = page[page.index('<section id="summary">') :]
    summary = summary[: summary.index("</section>")]
    for layer, counts in diff.summary().items():
        row = re.search(rf'<tr data-layer="{layer}">.*?</tr>', summary)
        assert row, layer
        for key, number in counts.items():
            assert f'data-key="{key}"><b>{number}</b>' in row.group(0), (layer, key)
    assert diff.summary()["rules"]["added"] == 3  # the example really has rule changes to show


def test_measures_in_document_order_with_stable_ids(diff: PolicyDiff, page: str) -> None:
    ids = re.findall(r'<section class="measure" id="measure-(\d+)" data-kind="(\w+)"', page)
    assert ids == [(str(i), m.kind) for i, m in enumerate(diff.measures, start=1)]
    for index, measure in enumerate(diff.measures, start=1):
        section = _section(page, index)
        title = (measure.change.new or measure.change.old)[0].title
        assert title in section
        if not measure.different:  # folded to one line
            assert "<details><summary>" in section
            assert 'class="redline' not in section


def test_known_redline_is_side_by_side(page: str) -> None:
    rows = ROW.findall(page)
    matching = [(old, new) for old, new in rows if "<del>5000万美元</del>" in old]
    assert matching, "no redline row deletes 5000万美元"
    old, new = matching[0]
    assert "<ins>6000万美元</ins>" in new
    assert "<ins>" not in old and "<del>" not in new
    # equal text on both sides
    assert "将中型和小微外贸企业的认定标准分别放宽至出口额" in old
    assert "将中型和小微外贸企业的认定标准分别放宽至出口额" in new


def test_inserted_and_deleted_measures_fill_one_side_only(diff: PolicyDiff, page: str) -> None:
    kinds = {m.kind: i for i, m in enumerate(diff.measures, start=1)}
    inserted = ROW.findall(_section(page, kinds["inserted"]))
    deleted = ROW.findall(_section(page, kinds["deleted"]))
    assert inserted and all(old == "" and new.startswith("<ins>") for old, new in inserted)
    assert deleted and all(new == "" and old.startswith("<del>") for old, new in deleted)
    assert len(inserted) >= 3  # one row per sentence, not one block


def test_units_rules_and_outcomes_of_a_measure(diff: PolicyDiff, page: str) -> None:
    index = next(
        i
        for i, m in enumerate(diff.measures, start=1)
        if any(r.id == "小微企业信保保费补贴" for r in m.rules)
    )
    section = _section(page, index)
    rule = re.search(r'<table class="rule" data-rule="小微企业信保保费补贴".*?</table>', section, re.S)
    assert rule
    assert "<del>100%</del>" in rule.group(0) and "<ins>80%</ins>" in rule.group(0)
    assert "「对小微外贸企业投保短期出口信用保险给予保费100%补贴」" in rule.group(0)
    outcomes = re.search(
        r'<table class="outcomes" data-benefit="小微企业信保保费补贴".*?</table>', section, re.S
    )
    assert outcomes
    text = outcomes.group(0)
    for change in ("gained", "lost", "changed"):
        assert f'<tr class="region {change}">' in text
    assert "出口额 = 750万美元" in text and "8000.00 CNY" in text and "10000.00 CNY" in text
    units = next(i for i, m in enumerate(diff.measures, start=1) if m.units and m.units.added)
    assert "<ins>市公安局</ins>" in _section(page, units)


def test_definitions_come_before_measures(page: str) -> None:
    definitions = page.index('<section id="definitions">')
    assert page.index('<section id="summary">') < definitions < page.index('<section id="measures">')
    assert "<del>5000万美元</del>" in page[definitions : page.index('<section id="measures">')]


def test_deterministic_and_reached_through_render(diff: PolicyDiff, page: str) -> None:
    again = diff_paths(str(DRAFT), str(REVISION))
    assert render_html(again) == page
    assert render(diff, "html") == page
    assert not re.search(r"\d{2}:\d{2}:\d{2}", page)  # no timestamp


def test_plain_texts_have_no_rule_layers(tmp_path: Path) -> None:
    page = render_html(diff_paths(str(EXAMPLE / "draft.txt"), str(EXAMPLE / "revision-example.txt")))
    assert '<section id="summary">' in page
    assert '<section id="definitions">' not in page
    assert "未比较" in page
    assert "<del>5000万美元</del>" in page and "<ins>6000万美元</ins>" in page


def _document(title: str, body: str, units: str) -> str:
    return f"{title}\n（征求意见稿）\n一、总则\n（一）测试措施\n{body}\n（责任单位：{units}）\n"


def test_policy_text_is_escaped(tmp_path: Path) -> None:
    old = tmp_path / "old.txt"
    new = tmp_path / "new.txt"
    old.write_text(
        _document("关于<b>测试</b>的意见", "对企业给予<script>alert(1)</script>奖励。另有说明。", "甲、乙"),
        encoding="utf-8",
    )
    new.write_text(
        _document(
            "关于<b>测试</b>的意见",
            "对企业给予<script>alert(2)</script>奖励&补贴。另有说明。",
            '甲、乙、丙<img src=x onerror="alert(3)">',
        ),
        encoding="utf-8",
    )
    page = render_html(diff_paths(str(old), str(new)))
    lowered = page.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<b>测试" not in page
    assert "&lt;script&gt;alert(" in page
    assert "&lt;b&gt;测试&lt;/b&gt;" in page
    assert "&amp;补贴" in page
    assert "丙&lt;img src=x onerror=&quot;alert(3)&quot;&gt;" in page
    rows = ROW.findall(page)
    assert any("<del>1</del>" in o and "<ins>2</ins>" in n for o, n in rows), rows


# ---------------------------------------------------------------- rows of the side-by-side view


def _sides(rows: list[tuple[list[Segment], list[Segment]]]) -> list[tuple[str, str]]:
    return [("".join(t for _, t in old), "".join(t for _, t in new)) for old, new in rows]


def test_rows_keep_a_replaced_sentence_on_one_row() -> None:
    segments = [(EQUAL, "甲。"), (DELETE, "乙。"), (INSERT, "丙。"), (EQUAL, "丁。")]
    assert _sides(redline_rows(segments)) == [("甲。", "甲。"), ("乙。", "丙。"), ("丁。", "丁。")]


def test_rows_give_an_inserted_sentence_its_own_row() -> None:
    segments = [(EQUAL, "甲。"), (INSERT, "新句一。新句二。"), (EQUAL, "丁。（责任单位：甲）")]
    assert _sides(redline_rows(segments)) == [
        ("甲。", "甲。"),
        ("", "新句一。"),
        ("", "新句二。"),
        ("丁。", "丁。"),
        ("（责任单位：甲）", "（责任单位：甲）"),
    ]


_TEXT = st.text(alphabet="甲乙丙。；（）", min_size=1, max_size=8)


@given(st.lists(st.tuples(st.sampled_from([EQUAL, INSERT, DELETE]), _TEXT), max_size=12))
def test_rows_lose_nothing(segments: list[Segment]) -> None:
    rows = redline_rows(segments)
    old = "".join(t for op, t in segments if op != INSERT)
    new = "".join(t for op, t in segments if op != DELETE)
    assert "".join(o for o, _ in _sides(rows)) == old
    assert "".join(n for _, n in _sides(rows)) == new
    assert all(o or n for o, n in rows)
    assert all(op != INSERT for o, _ in rows for op, _ in o)
    assert all(op != DELETE for _, n in rows for op, _ in n)


# ---------------------------------------------------------------- a real browser


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed, and CI must install it: apt-get install -y chromium")
        pytest.skip("Chromium not found; install it to run this test: apt-get install chromium")
    return path


def _run_chromium(chromium: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *arguments,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(profile)}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_page_in_a_headless_browser(chromium: str, diff: PolicyDiff, page: str, tmp_path: Path) -> None:
    target = tmp_path / "diff.html"
    target.write_text(page, encoding="utf-8")
    profile = tmp_path / "profile"
    profile.mkdir()

    dom = _run_chromium(chromium, profile, "--dump-dom", target.as_uri()).stdout
    assert '<section id="summary">' in dom
    assert dom.count('<section class="measure" id="measure-') == len(diff.measures)
    # the browser kept the table structure: every redline cell the page has, the DOM has
    assert dom.count('<td class="redline old">') == page.count('<td class="redline old">') > 0
    assert dom.count('<td class="redline new">') == page.count('<td class="redline new">')
    cells = re.findall(r'<td class="redline old">(.*?)</td><td class="redline new">(.*?)</td>', dom)
    assert any("<del>5000万美元</del>" in old and "<ins>6000万美元</ins>" in new for old, new in cells)

    shot = tmp_path / "diff.png"
    _run_chromium(chromium, profile, "--window-size=1280,2400", f"--screenshot={shot}", target.as_uri())
    assert shot.exists()
    assert _png_size(shot) == (1280, 2400)
    assert shot.stat().st_size > 50_000  # a blank page of this size is a few kilobytes
