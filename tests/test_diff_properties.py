"""Properties of ``policy-diff`` on generated policies and documents.

* A version compared with itself shows no difference (and the command exits 0).
* Swapping OLD and NEW mirrors the report: gained ↔ lost with the same conditions, inserted ↔
  deleted, added ↔ removed.
* Every witness enterprise the report shows really evaluates differently under the two
  versions, as the region says (checked through the public ``policy_dsl.load`` / ``evaluate``).
* A threshold moved from c₁ to c₂ gives exactly one region, between c₁ and c₂, with the ends
  open or closed as the operator says.

Policies come from ``strategies.checked_policies()``; a second version is derived from the first
by moving constants, changing rates and dropping benefits.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import strategies as s
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import policy_dsl
from policy_dsl import model as m
from policy_dsl.cli import policy_diff
from policy_dsl.compile import runtime_value
from policy_dsl.diff.compare import PolicyDiff, diff_paths
from policy_dsl.diff.regions import Region
from policy_dsl.format import fmt
from policy_dsl.values import Duration, Money, Percent, parse_value

ROOT = Path(__file__).resolve().parent.parent
DRAFT_TEXT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.txt"

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

_counter = itertools.count()


# ---------------------------------------------------------------- writing versions to disk


def write_version(directory: Path, text: str, source_text: str, name: str) -> str:
    """A ``.policy`` file (and the source text it cites) in its own folder; returns its path."""
    folder = directory / f"{name}-{next(_counter)}"
    folder.mkdir()
    (folder / "source.txt").write_text(source_text, encoding="utf-8")
    path = folder / f"{name}.policy"
    path.write_text(text, encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------- a second version of a policy


def _other_literal(literal: m.Literal) -> st.SearchStrategy[m.Literal]:
    """Another constant of the same kind (same currency, unit; int stays int)."""
    value = literal.value
    if isinstance(value, Money):
        return s.money_literals(value.currency)
    if isinstance(value, Percent):
        return s.percent_literals()
    if isinstance(value, Duration):
        return s.duration_literals(value.unit)
    if isinstance(value, dt.date):
        return st.builds(m.Literal, st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31)), st.booleans())
    if isinstance(value, bool):
        return st.just(literal)
    if isinstance(value, int):
        return st.builds(m.Literal, st.integers(0, 10**6), st.booleans())
    return st.builds(m.Literal, s.fractional_decimals(), st.booleans())


def _move_constants(draw: st.DrawFn, node: Any) -> Any:
    """``node`` with some constants of its comparisons replaced by others of the same kind."""
    if isinstance(node, m.Comparison):
        left, right = node.left, node.right
        if isinstance(right, m.Literal) and draw(st.booleans()):
            right = draw(_other_literal(right))
        if isinstance(left, m.Literal) and draw(st.booleans()):
            left = draw(_other_literal(left))
        return attrs.evolve(node, left=left, right=right)
    if isinstance(node, m.And | m.Or):
        return attrs.evolve(node, operands=tuple(_move_constants(draw, o) for o in node.operands))
    if isinstance(node, m.Not):
        return attrs.evolve(node, operand=_move_constants(draw, node.operand))
    return node


@st.composite
def revised(draw: st.DrawFn, policy: s.GeneratedPolicy) -> str:
    """The text of a second version: constants moved, a rate changed, a benefit dropped."""
    items: list[m.Node] = []
    for item in policy.model.items:
        if isinstance(item, m.Definition) and item.means is not None:
            item = attrs.evolve(item, means=_move_constants(draw, item.means))
        if isinstance(item, m.Unit):
            rules: list[m.Node] = []
            for rule in item.rules:
                if isinstance(rule, m.Benefit):
                    change = draw(st.sampled_from(("keep", "constants", "rate", "drop")))
                    if change == "drop" and len(rules) + len(item.rules) > 1:
                        continue
                    if change == "constants" and rule.when is not None:
                        rule = attrs.evolve(rule, when=_move_constants(draw, rule.when))
                    if change == "rate" and rule.rate is not None and rule.rate.high is not None:
                        ends = sorted(
                            [draw(s.percent_literals()), draw(s.percent_literals())], key=lambda x: x.value
                        )
                        rule = attrs.evolve(rule, rate=attrs.evolve(rule.rate, rate=ends[0], high=ends[1]))
                    elif change == "rate" and rule.rate is not None:
                        rule = attrs.evolve(
                            rule, rate=attrs.evolve(rule.rate, rate=draw(s.percent_literals()))
                        )
                rules.append(rule)
            kept = {r.name for r in rules if isinstance(r, m.Benefit)}
            # an exclusive group loses the benefits dropped; with fewer than two left, it goes too
            # a staged payment likewise; with none left, it goes too
            rules = [
                attrs.evolve(r, members=tuple(n for n in r.members if n.text in kept))
                if isinstance(r, m.Exclusive | m.Staged)
                else r
                for r in rules
            ]
            rules = [r for r in rules if not isinstance(r, m.Exclusive) or len(r.members) >= 2]
            rules = [r for r in rules if not isinstance(r, m.Staged) or r.members]
            item = attrs.evolve(item, rules=tuple(rules))
        items.append(item)
    return fmt(m.PolicyFile(tuple(items)))


@attrs.frozen
class Pair:
    old: str
    new: str
    source_text: str
    facts: dict[str, m.TypeRef]

    def __repr__(self) -> str:
        return f"Pair(\nold=\n{self.old}\nnew=\n{self.new})"


@st.composite
def policy_pairs(draw: st.DrawFn) -> Pair:
    policy = draw(s.checked_policies())
    return Pair(policy.text, draw(revised(policy)), policy.source_text, policy.facts)


def diff_pair(pair: Pair, directory: Path, swapped: bool = False) -> tuple[PolicyDiff, str, str]:
    old = write_version(directory, pair.old, pair.source_text, "old")
    new = write_version(directory, pair.new, pair.source_text, "new")
    if swapped:
        old, new = new, old
    return diff_paths(old, new), old, new


# ---------------------------------------------------------------- reading a report back


def regions_of(diff: PolicyDiff) -> Iterator[tuple[str, Region]]:
    for measure in diff.measures:
        for benefit in measure.outcomes:
            for region in benefit.regions:
                yield benefit.id, region


def rule_kinds(diff: PolicyDiff) -> dict[str, str]:
    """benefit or duty, for every rule with regions (duties have regions too)."""
    return {o.id: getattr(o, "kind", "benefit") for mm in diff.measures for o in mm.outcomes}


def region_set(diff: PolicyDiff, mirror: bool = False) -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    flip = {"gained": "lost", "lost": "gained", "changed": "changed"}
    return {
        (ident, flip[r.change] if mirror else r.change, frozenset(r.constraints))
        for ident, r in regions_of(diff)
    }


def fact_value(shown: str, ref: m.TypeRef) -> Any:
    """A witness value as the report shows it, read back into a value ``evaluate`` accepts."""
    if ref.kind == "bool":
        assert shown in {"true", "false"}, shown
        return shown == "true"
    if ref.kind == "enum":
        return shown
    if ref.kind == "set":
        assert shown.startswith("{") and shown.endswith("}"), shown
        inner = shown[1:-1]
        return [v for v in inner.split(", ") if v]
    if ref.kind in {"integer", "decimal"} and shown.startswith("-"):
        return Decimal(shown)  # the notation has no sign; a plain Decimal is a valid fact value
    value = parse_value(shown)
    if ref.kind == "money":
        assert isinstance(value, Money) and value.currency == ref.param, (shown, ref)
    elif ref.kind == "percent":
        assert isinstance(value, Percent), shown
    elif ref.kind == "duration":
        assert isinstance(value, Duration) and value.unit == ref.param, (shown, ref)
    elif ref.kind == "date":
        assert isinstance(value, dt.date), shown
    else:
        assert isinstance(value, int | Decimal), shown
    return value


def outcome_key(outcome: Any) -> tuple[bool, Any]:
    """What the region compares: eligibility, and for the eligible the amount, cap, rate, what the
    text commits to and a range's ends (5%—20% of 投资: two amounts); for a duty whether it applies,
    and what it promises."""
    if outcome is None or outcome.status not in {"eligible", "applies"}:
        return (False, None)
    if hasattr(outcome, "levels"):
        return (True, outcome.levels)
    return (True, (outcome.amount, outcome.cap, outcome.rate, outcome.commitment, outcome.range))


def benefit_outcome(policy: policy_dsl.Policy, ident: str, facts: dict[str, Any], as_of: dt.date) -> Any:
    outcome = policy.evaluate(facts, as_of=as_of, adopted=True)
    for rule in (*outcome.benefits, *outcome.duties):
        if rule.id == ident:
            return rule
    return None  # the rule does not exist in this version


def assert_witness_differs(
    ident: str, region: Region, old: policy_dsl.Policy, new: policy_dsl.Policy, facts: dict[str, m.TypeRef]
) -> None:
    witness = region.witness
    values = {name: fact_value(shown, facts[name]) for name, shown in witness.facts}
    before = benefit_outcome(old, ident, values, witness.as_of)
    after = benefit_outcome(new, ident, values, witness.as_of)
    old_key, new_key = outcome_key(before), outcome_key(after)
    context = (ident, region.change, region.condition, witness)
    if region.change == "gained":
        assert not old_key[0] and new_key[0], context
    elif region.change == "lost":
        assert old_key[0] and not new_key[0], context
    else:
        assert region.change == "changed", context
        assert old_key[0] and new_key[0] and old_key[1] != new_key[1], context
    # the statuses the report shows are the ones evaluate gives
    assert witness.old.status == (before.status if before is not None else "absent"), context
    assert witness.new.status == (after.status if after is not None else "absent"), context


# ---------------------------------------------------------------- (a) a version against itself


@SETTINGS
@given(s.checked_policies())
def test_a_version_against_itself_shows_no_difference(policy: s.GeneratedPolicy) -> None:
    with tempfile.TemporaryDirectory(prefix="policy-diff-") as tmp:
        path = write_version(Path(tmp), policy.text, policy.source_text, "same")
        diff = diff_paths(path, path)
        assert not diff.different
        assert all(measure.kind == "unchanged" and not measure.different for measure in diff.measures)
        assert not any(measure.rules for measure in diff.measures)
        assert not diff.definitions
        assert not list(regions_of(diff))
        result = CliRunner().invoke(policy_diff, [path, path, "--format", "json"])
        assert result.exit_code == 0, result.output
        assert '"different": false' in result.stdout


# ---------------------------------------------------------------- (b) swapping OLD and NEW


@SETTINGS
@given(policy_pairs())
def test_swapping_versions_mirrors_the_report(pair: Pair) -> None:
    with tempfile.TemporaryDirectory(prefix="policy-diff-") as tmp:
        forward, _, _ = diff_pair(pair, Path(tmp))
        backward, _, _ = diff_pair(pair, Path(tmp), swapped=True)
    assert forward.different == backward.different
    assert region_set(forward) == region_set(backward, mirror=True)
    rules = {(r.kind, r.id, r.status) for mm in forward.measures for r in mm.rules}
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    mirrored = {(r.kind, r.id, flip[r.status]) for mm in backward.measures for r in mm.rules}
    assert rules == mirrored
    definitions = {(r.id, r.status) for r in forward.definitions}
    assert definitions == {(r.id, flip[r.status]) for r in backward.definitions}


# ---------------------------------------------------------------- (c) witnesses are real


@SETTINGS
@given(policy_pairs())
def test_every_witness_evaluates_differently(pair: Pair) -> None:
    with tempfile.TemporaryDirectory(prefix="policy-diff-") as tmp:
        diff, old_path, new_path = diff_pair(pair, Path(tmp))
        old, new = policy_dsl.load(old_path), policy_dsl.load(new_path)
        for ident, region in regions_of(diff):
            assert_witness_differs(ident, region, old, new, pair.facts)


# ---------------------------------------------------------------- structure: generated documents


def _draft_measures() -> list[tuple[str, list[str], str]]:
    from policy_dsl.document import read_document

    document = read_document(DRAFT_TEXT.read_text(encoding="utf-8"))
    return [(mm.title, [x.text for x in mm.sentences], mm.units_text or "") for mm in document.measures]


DRAFT_MEASURES = _draft_measures()
_CN = "一二三四五六七八九十"


def _numeral(n: int) -> str:
    if n <= 10:
        return _CN[n - 1]
    return "十" + _CN[n - 11] if n < 20 else str(n)


def document_text(measures: list[tuple[str, list[str], str]]) -> str:
    lines = ["关于生成的实施意见", "", "（征求意见稿）", "", "一、生成的章节", ""]
    for index, (title, sentences, units) in enumerate(measures, start=1):
        lines += [f"（{_numeral(index)}）{title}", "", "".join(sentences) + units, ""]
    return "\n".join(lines)


@st.composite
def document_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Two versions of a document made of the draft's measures: some dropped, added, reordered."""
    indices = range(len(DRAFT_MEASURES))
    old = draw(st.lists(st.sampled_from(indices), min_size=1, max_size=6, unique=True))
    new = draw(st.lists(st.sampled_from(indices), min_size=1, max_size=6, unique=True))
    return document_text([DRAFT_MEASURES[i] for i in old]), document_text([DRAFT_MEASURES[i] for i in new])


@settings(max_examples=40, deadline=None)
@given(document_pairs())
def test_swapping_documents_mirrors_the_structure(pair: tuple[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="policy-diff-") as tmp:
        a, b = Path(tmp) / "a.txt", Path(tmp) / "b.txt"
        a.write_text(pair[0], encoding="utf-8")
        b.write_text(pair[1], encoding="utf-8")
        forward, backward = diff_paths(str(a), str(b)), diff_paths(str(b), str(a))
    flip = {"inserted": "deleted", "deleted": "inserted", "merged": "split", "split": "merged"}

    def changes(diff: PolicyDiff, mirror: bool) -> set[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        out = set()
        for measure in diff.measures:
            old = tuple(x.number for x in measure.change.old)
            new = tuple(x.number for x in measure.change.new)
            kind = flip.get(measure.kind, measure.kind) if mirror else measure.kind
            out.add((kind, new, old) if mirror else (kind, old, new))
        return out

    assert changes(forward, False) == changes(backward, True)


# ---------------------------------------------------------------- a moved threshold


_ORDERED_KINDS = ("money", "integer", "decimal", "percent", "date", "duration")


def _ref(kind: str) -> m.TypeRef:
    if kind == "money":
        return m.TypeRef("money", "USD")
    if kind == "duration":
        return m.TypeRef("duration", "working_days")
    return m.TypeRef(kind)


def threshold_policy(kind: str, op: str, constant: m.Literal, flag: bool) -> str:
    when: m.Node = m.Comparison(m.Reference("x"), op, constant)
    if flag:
        when = m.And((when, m.Reference("f")))
    sentence = s.PLAIN_SENTENCE
    benefit = m.Benefit(
        "b",
        kind=m.Name("subsidy"),
        when=when,
        citations=(m.Citation(m.Text(sentence)),),
    )
    measure = m.Unit(
        "measure",
        "（一）",
        m.Text("生成的措施"),
        agencies=(m.Name("a"),),
        citations=(m.Citation(m.Text(sentence)),),
        rules=(benefit,),
    )
    facts = [m.FactDecl("x", _ref(kind)), m.FactDecl("f", m.TypeRef("bool"))]
    header = m.PolicyHeader(m.Text("阈值"), status=m.Name("final"), source=m.Text("source.txt"))
    return fmt(m.PolicyFile((header, m.Agency("a", m.Text("A")), *facts, measure)))


THRESHOLD_SOURCE = "生成的政策\n\n（一）生成的措施\n\n" + "\n".join(s.SENTENCES) + "\n"


def _runtime(value: Any) -> Any:
    """The runtime value, with integers as Decimals so that intervals compare alike."""
    value = runtime_value(value)
    return Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else value


@attrs.frozen
class Interval:
    lo: Any
    lo_closed: bool
    hi: Any
    hi_closed: bool

    def normal(self, discrete: bool) -> Interval:
        """Discrete domains (integers, days): open ends become closed ends one step inside."""
        if not discrete:
            return self
        step: Any = dt.timedelta(days=1) if isinstance(self.lo, dt.date) else 1
        lo = self.lo if self.lo_closed else self.lo + step
        hi = self.hi if self.hi_closed else self.hi - step
        return Interval(lo, True, hi, True)

    def contains(self, value: Any) -> bool:
        above = value >= self.lo if self.lo_closed else value > self.lo
        below = value <= self.hi if self.hi_closed else value < self.hi
        return above and below


_INTERVAL = re.compile(r"^x in ([\[(])(.+), (.+)([\])])$")


def read_interval(text: str) -> Interval:
    """``x in (5000万美元, 6000万美元]`` or ``x = 4`` back to an interval of runtime values."""
    if text.startswith("x = "):
        value = _runtime(parse_value(text[4:]))
        return Interval(value, True, value, True)
    match = _INTERVAL.match(text)
    assert match, f"not an interval of x: {text!r}"
    lo, hi = _runtime(parse_value(match[2])), _runtime(parse_value(match[3]))
    return Interval(lo, match[1] == "[", hi, match[4] == "]")


def expected_regions(op: str, c1: Any, c2: Any) -> dict[str, Interval]:
    """Where ``x op c1`` → ``x op c2`` is gained and lost (c1 ≠ c2)."""
    lo, hi = min(c1, c2), max(c1, c2)
    rising = c2 > c1
    if op in {"<=", "<"}:
        interval = Interval(lo, op == "<", hi, op == "<=")
        return {"gained" if rising else "lost": interval}
    if op in {">=", ">"}:
        interval = Interval(lo, op == ">=", hi, op == ">")
        return {"lost" if rising else "gained": interval}
    at_old, at_new = Interval(c1, True, c1, True), Interval(c2, True, c2, True)
    if op == "==":
        return {"gained": at_new, "lost": at_old}
    return {"gained": at_old, "lost": at_new}


@st.composite
def threshold_cases(draw: st.DrawFn) -> tuple[str, str, m.Literal, m.Literal, bool]:
    kind = draw(st.sampled_from(_ORDERED_KINDS))
    literal = s._literal_for(_ref(kind))
    c1 = draw(literal)
    c2 = draw(literal.filter(lambda lit: _runtime(lit.value) != _runtime(c1.value)))
    return kind, draw(st.sampled_from(s.COMPARISON_OPS)), c1, c2, draw(st.booleans())


def _money(text: str) -> m.Literal:
    return m.Literal(parse_value(text))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(threshold_cases())
@example(("money", "<=", _money("5000万美元"), _money("6000万美元"), True))
@example(("integer", "<", m.Literal(3), m.Literal(4), False))
# two constants closer than a cent: every amount between them gains too
@example(
    (
        "money",
        "<=",
        m.Literal(Money(Decimal("1.001"), "USD")),
        m.Literal(Money(Decimal("1.002"), "USD")),
        False,
    )
)
def test_a_moved_threshold_gives_a_region_between_the_constants(
    case: tuple[str, str, m.Literal, m.Literal, bool],
) -> None:
    kind, op, c1, c2, flag = case
    with tempfile.TemporaryDirectory(prefix="policy-diff-") as tmp:
        old = write_version(Path(tmp), threshold_policy(kind, op, c1, flag), THRESHOLD_SOURCE, "old")
        new = write_version(Path(tmp), threshold_policy(kind, op, c2, flag), THRESHOLD_SOURCE, "new")
        diff = diff_paths(old, new)
        old_policy, new_policy = policy_dsl.load(old), policy_dsl.load(new)
    [benefit] = [o for mm in diff.measures for o in mm.outcomes]
    assert benefit.exact
    discrete = kind in {"integer", "duration", "date"}
    expected = {
        change: interval.normal(discrete)
        for change, interval in expected_regions(op, _runtime(c1.value), _runtime(c2.value)).items()
        if not discrete or interval.normal(True).lo <= interval.normal(True).hi
    }
    found: dict[str, Interval] = {}
    for region in benefit.regions:
        constraints = dict(region.constraints)
        assert set(constraints) == ({"x", "f"} if flag else {"x"}), region.condition
        if flag:
            assert constraints["f"] == "f", region.condition
        assert region.change not in found, f"two {region.change} regions: {benefit.regions}"
        found[region.change] = read_interval(constraints["x"]).normal(discrete)
        witness = _runtime(fact_value(dict(region.witness.facts)["x"], _ref(kind)))
        assert found[region.change].contains(witness), (region.condition, witness)
        facts = {"x": _ref(kind)} | ({"f": m.TypeRef("bool")} if flag else {})
        assert_witness_differs("b", region, old_policy, new_policy, facts)
    assert found == expected, (op, c1.value, c2.value, [r.condition for r in benefit.regions])


def test_regions_between_constants_closer_than_a_cent() -> None:
    """Minimal reproduction: ``x <= 1.001 USD`` → ``x <= 1.002 USD``; 1.0015 USD gains too."""
    with tempfile.TemporaryDirectory(prefix="policy-diff-") as tmp:
        low = m.Literal(Money(Decimal("1.001"), "USD"))
        high = m.Literal(Money(Decimal("1.002"), "USD"))
        old = write_version(Path(tmp), threshold_policy("money", "<=", low, False), THRESHOLD_SOURCE, "old")
        new = write_version(Path(tmp), threshold_policy("money", "<=", high, False), THRESHOLD_SOURCE, "new")
        diff = diff_paths(old, new)
        between = {"x": Decimal("1.0015")}
        as_of = dt.date(2022, 7, 1)
        assert (
            policy_dsl.load(old).evaluate(between, as_of=as_of, adopted=True).benefit("b").status
            == "not_eligible"
        )
        assert (
            policy_dsl.load(new).evaluate(between, as_of=as_of, adopted=True).benefit("b").status
            == "eligible"
        )
    [benefit] = [o for mm in diff.measures for o in mm.outcomes]
    assert [r.condition for r in benefit.regions] == ["x in (1.001美元, 1.002美元]"]


@pytest.mark.parametrize("op", s.COMPARISON_OPS)
def test_expected_regions_helper(op: str) -> None:
    """The oracle itself, on 5000万 → 6000万 (C1 of the illustrative revision)."""
    regions = expected_regions(op, 5000, 6000)
    if op == "<=":
        assert regions == {"gained": Interval(5000, False, 6000, True)}
    if op == ">":
        assert regions == {"lost": Interval(5000, False, 6000, True)}
