"""Align the measures of two versions of a document by content. Entry point: :func:`align`.

Numbers shift when a measure is inserted, so measures are matched by what they say: identical
bodies first, then the most similar pairs, then merges (one new measure holding the sentences of
several old ones) and splits (the reverse); the rest were inserted or deleted. Each result is a
frozen :class:`MeasureChange` record, in the manner of sqlglot's diff edits.
"""

from __future__ import annotations

import bisect
import difflib
import functools
from collections.abc import Sequence

import attrs

from policy_dsl.citations import normalize_text
from policy_dsl.diff.redline import quantities
from policy_dsl.document import Document, DocumentChapter, DocumentMeasure

UNCHANGED = "unchanged"
REWORDED = "reworded"
MODIFIED = "modified"
INSERTED = "inserted"
DELETED = "deleted"
MERGED = "merged"
SPLIT = "split"

#: Two measures this similar (0–1) or more are taken to be the same measure, revised.
MATCH_THRESHOLD = 0.45
#: A measure whose sentences are this much (0–1) inside another measure counts as part of it.
CONTAINED_THRESHOLD = 0.5


@attrs.frozen
class MeasureChange:
    """How one measure (or a group, for merges and splits) changed between versions."""

    kind: str
    old: tuple[DocumentMeasure, ...]
    new: tuple[DocumentMeasure, ...]
    renumbered: bool = False
    moved: bool = False
    similarity: float = 0.0

    @property
    def label(self) -> str:
        old = " ".join(m.number for m in self.old) or "—"
        new = " ".join(m.number for m in self.new) or "—"
        return f"{old} → {new}"


@attrs.frozen
class ChapterChange:
    """How a chapter changed: ``unchanged``, ``retitled``, ``renumbered``, ``inserted`` or ``deleted``.

    Chapters are paired by the measures they hold (most of an old chapter's measures landing in a
    new one), then by title or number; a chapter whose title changed is reported once, here, and
    its measures are not "moved"."""

    kind: str
    old: DocumentChapter | None
    new: DocumentChapter | None

    @property
    def label(self) -> str:
        old = f"{self.old.number}{self.old.title}" if self.old else "—"
        new = f"{self.new.number}{self.new.title}" if self.new else "—"
        return f"{old} → {new}"


@attrs.frozen
class Alignment:
    old: Document
    new: Document
    changes: tuple[MeasureChange, ...]
    chapters: tuple[ChapterChange, ...] = ()


def _body(measure: DocumentMeasure) -> str:
    return normalize_text(measure.body)


@functools.lru_cache(maxsize=4096)
def _ratio(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def similarity(a: DocumentMeasure, b: DocumentMeasure) -> float:
    return _ratio(normalize_text(a.title) + _body(a), normalize_text(b.title) + _body(b))


def _at_least(a: str, b: str, threshold: float) -> bool:
    """Whether ``_ratio(a, b) >= threshold``, deciding on the cheap upper bounds first (the length
    ratio, then the shared characters: each bounds the ratio from above) and comparing only pairs
    that could reach it. Exactly the same answer as computing the ratio."""
    if a == b:
        return True
    longer = max(len(a), len(b))
    if longer and 2 * min(len(a), len(b)) / (len(a) + len(b)) < threshold:
        return False
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
        return False
    return _ratio(a, b) >= threshold


def _similarity_above(left: str, right: str, threshold: float) -> float:
    """:func:`similarity` of two normalized texts, or 0.0 when it is certainly below ``threshold``."""
    return _ratio(left, right) if _at_least(left, right, threshold) else 0.0


def contained(part: DocumentMeasure, whole: DocumentMeasure) -> float:
    """The share of ``part``'s sentences that reappear (nearly) word for word in ``whole``."""
    return _share_found(_sentences(part), _sentences(whole))


def _sentences(measure: DocumentMeasure) -> list[str]:
    return [normalize_text(s.text) for s in measure.sentences]


def _share_found(sentences: Sequence[str], targets: Sequence[str]) -> float:
    if not sentences:
        return 0.0
    exact = set(targets)
    by_length = sorted(targets, key=len)
    lengths = [len(t) for t in by_length]

    def near(s: str) -> bool:
        # a ratio of at least 0.8 needs lengths within [2/3, 3/2] of each other (2·min/(sum) ≥ 0.8)
        low, high = bisect.bisect_left(lengths, len(s) * 2 / 3), bisect.bisect_right(lengths, len(s) * 3 / 2)
        return any(_at_least(s, t, 0.8) for t in by_length[low:high])

    found = sum(1 for s in sentences if s in exact or near(s))
    return found / len(sentences)


def _kind(old: DocumentMeasure, new: DocumentMeasure) -> str:
    same_units = [u.name for u in old.units] == [u.name for u in new.units]
    if _body(old) == _body(new) and normalize_text(old.title) == normalize_text(new.title) and same_units:
        return UNCHANGED
    same_numbers = quantities(old.title + old.body) == quantities(new.title + new.body)
    # a sentence added or dropped is more than a rewording, even with no number in it
    same_shape = len(old.sentences) == len(new.sentences)
    return REWORDED if same_numbers and same_units and same_shape else MODIFIED


def _increasing(pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """The longest run of pairs whose new positions increase with their old positions."""
    ordered = sorted(pairs)
    best: list[list[tuple[int, int]]] = []
    for pair in ordered:
        chain = [pair]
        for previous in best:
            if previous[-1][1] < pair[1] and len(previous) + 1 > len(chain):
                chain = [*previous, pair]
        best.append(chain)
    longest = max(best, key=len, default=[])
    return set(longest)


def align(old: Document, new: Document) -> Alignment:
    """Match the measures of ``old`` and ``new``; every measure of both appears in exactly one change."""
    olds, news = list(old.measures), list(new.measures)
    pair_of_old: dict[int, int] = {}
    pair_of_new: dict[int, int] = {}

    def pair(i: int, j: int) -> None:
        pair_of_old[i] = j
        pair_of_new[j] = i

    # each measure's text normalized once (a pass over every pair would redo it for each)
    old_bodies, new_bodies = [_body(o) for o in olds], [_body(n) for n in news]
    old_keys = [normalize_text(o.title) + body for o, body in zip(olds, old_bodies, strict=True)]
    new_keys = [normalize_text(n.title) + body for n, body in zip(news, new_bodies, strict=True)]
    old_sentences, new_sentences = [_sentences(o) for o in olds], [_sentences(n) for n in news]
    # 1. identical bodies
    for i in range(len(olds)):
        for j in range(len(news)):
            if j not in pair_of_new and old_bodies[i] == new_bodies[j] and old_bodies[i]:
                pair(i, j)
                break
    # 2. most similar pairs first (a pair that cannot reach the threshold is never paired: its
    # exact similarity is not computed)
    scored = sorted(
        (
            (-_similarity_above(old_keys[i], new_keys[j], MATCH_THRESHOLD), i, j)
            for i, o in enumerate(olds)
            if i not in pair_of_old
            for j, n in enumerate(news)
            if j not in pair_of_new
        ),
    )
    for negative, i, j in scored:
        if -negative < MATCH_THRESHOLD:
            break
        if i not in pair_of_old and j not in pair_of_new:
            pair(i, j)
    # 3. merges: unmatched old measures whose sentences live on inside a new measure
    merged_into: dict[int, list[int]] = {}
    for i in range(len(olds)):
        if i in pair_of_old:
            continue
        hosts = [(_share_found(old_sentences[i], new_sentences[j]), j) for j in range(len(news))]
        share, j = max(hosts, default=(0.0, -1))
        if share >= CONTAINED_THRESHOLD:
            merged_into.setdefault(j, []).append(i)
    # 4. splits: unmatched new measures made of sentences of one old measure
    split_from: dict[int, list[int]] = {}
    for j in range(len(news)):
        if j in pair_of_new or j in merged_into:
            continue
        sources = [(_share_found(new_sentences[j], old_sentences[i]), i) for i in range(len(olds))]
        share, i = max(sources, default=(0.0, -1))
        if share >= CONTAINED_THRESHOLD and (i in pair_of_old or i in split_from):
            split_from.setdefault(i, []).append(j)

    # order: which matched pairs kept their relative order
    anchors = [(i, j) for i, j in pair_of_old.items()]
    anchors += [(i, j) for j, members in merged_into.items() if j not in pair_of_new for i in members[:1]]
    split_parts = {k for parts in split_from.values() for k in parts}
    in_order = _increasing(anchors)
    matched = [(olds[i], news[j]) for i, j in pair_of_old.items()]
    matched += [(olds[i], news[j]) for j, members in merged_into.items() for i in members]
    chapter_pairs, chapter_changes = _pair_chapters(old, new, matched)

    changes: list[tuple[tuple[float, float], MeasureChange]] = []
    handled_new: set[int] = set()
    handled_old: set[int] = set()
    for j, n in enumerate(news):
        if j in handled_new or j in split_parts:
            continue  # split-off parts are reported with the measure they were split from
        group_old = ([pair_of_new[j]] if j in pair_of_new else []) + merged_into.get(j, [])
        group_old.sort()
        if len(group_old) > 1:
            members = tuple(olds[i] for i in group_old)
            change = MeasureChange(
                MERGED,
                members,
                (n,),
                renumbered=any(m.number != n.number for m in members),
                moved=(group_old[0], j) not in in_order
                and (pair_of_new.get(j, group_old[0]), j) not in in_order,
                similarity=max(similarity(m, n) for m in members),
            )
            handled_old.update(group_old)
            handled_new.add(j)
            changes.append(((j, 0), change))
            continue
        if group_old:
            i = group_old[0]
            if i in split_from:
                parts = sorted([j, *split_from[i]])
                change = MeasureChange(
                    SPLIT,
                    (olds[i],),
                    tuple(news[k] for k in parts),
                    renumbered=any(news[k].number != olds[i].number for k in parts),
                    moved=(i, j) not in in_order,
                    similarity=similarity(olds[i], n),
                )
                handled_new.update(parts)
                handled_old.add(i)
                changes.append(((j, 0), change))
                continue
            o = olds[i]
            moved = (i, j) not in in_order or (
                o.chapter is not None and chapter_pairs.get(o.chapter, o.chapter) != n.chapter
            )
            change = MeasureChange(
                _kind(o, n),
                (o,),
                (n,),
                renumbered=o.number != n.number,
                moved=moved,
                similarity=similarity(o, n),
            )
            handled_old.add(i)
            handled_new.add(j)
            changes.append(((j, 0), change))
            continue
        handled_new.add(j)
        changes.append(((j, 0), MeasureChange(INSERTED, (), (n,))))
    # deleted measures sit after the new position of their nearest matched predecessor
    for i, o in enumerate(olds):
        if i in handled_old:
            continue
        before = [pair_of_old[k] for k in range(i) if k in pair_of_old]
        anchor = max(before, default=-1)
        changes.append(((anchor, 0.5 + i / 1000), MeasureChange(DELETED, (o,), ())))
    changes.sort(key=lambda item: item[0])
    return Alignment(old, new, tuple(change for _, change in changes), chapter_changes)


def _pair_chapters(
    old: Document, new: Document, pairs: Sequence[tuple[DocumentMeasure, DocumentMeasure]]
) -> tuple[dict[str, str], tuple[ChapterChange, ...]]:
    """Old chapter number → new chapter number, and the chapters' changes."""
    votes: dict[tuple[str, str], int] = {}
    for o, n in pairs:
        if o.chapter is not None and n.chapter is not None:
            votes[o.chapter, n.chapter] = votes.get((o.chapter, n.chapter), 0) + 1
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for (a, b), _ in sorted(votes.items(), key=lambda item: (-item[1], item[0])):
        if a not in mapping and b not in taken:
            mapping[a] = b
            taken.add(b)
    new_by_number = {c.number: c for c in new.chapters}
    new_by_title = {normalize_text(c.title): c for c in new.chapters}
    for chapter in old.chapters:  # a chapter without matched measures: by title, then by number
        if chapter.number in mapping:
            continue
        candidate = new_by_title.get(normalize_text(chapter.title)) or new_by_number.get(chapter.number)
        if candidate is not None and candidate.number not in taken:
            mapping[chapter.number] = candidate.number
            taken.add(candidate.number)
    changes: list[ChapterChange] = []
    for chapter in old.chapters:
        target = new_by_number.get(mapping.get(chapter.number, ""))
        if target is None:
            changes.append(ChapterChange(DELETED, chapter, None))
        elif normalize_text(target.title) != normalize_text(chapter.title):
            changes.append(ChapterChange("retitled", chapter, target))
        elif target.number != chapter.number:
            changes.append(ChapterChange("renumbered", chapter, target))
        else:
            changes.append(ChapterChange(UNCHANGED, chapter, target))
    changes.extend(ChapterChange(INSERTED, None, c) for c in new.chapters if c.number not in taken)
    return mapping, tuple(changes)
