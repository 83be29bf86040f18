"""Dump parts (dumpparts.py): content-defined buckets, parts written, reused by hard link only when
their bytes have the recorded SHA-256, and the whole file the concatenation of header, parts, footer."""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from tieslod.building.bodies import gz
from tieslod.building.dumpparts import PARTS, Parts, Source, buckets, records_digest


def _sources(names: list[str], tag: str = "") -> list[Source]:
    def loader(name: str):
        body = f"<{name}{tag}> .\n".encode()
        return lambda: ({"nt": body}, {"nt": gz(body)})
    return [({"nt": f"nt:{name}{tag}"}, loader(name)) for name in names]


NAMES = [f"article-{i:04d}" for i in range(300)]


def test_buckets_are_contiguous_and_content_defined() -> None:
    runs = buckets(NAMES)
    assert [i for r in runs for i in r] == list(range(len(NAMES)))
    assert 3 < len(runs) < 40, "about one bucket per 32 graphs"
    # a graph inserted changes only the bucket it falls into: the boundaries elsewhere stay
    more = sorted(NAMES + ["article-0150x"])
    before = {tuple(NAMES[i] for i in r) for r in runs}
    after = {tuple(more[i] for i in r) for r in buckets(more)}
    assert len(before - after) == 1 and len(after - before) == 1


def _parts(tmp: Path, previous: Path | None, recorded: dict, said: list[str]) -> Parts:  # type: ignore[type-arg]
    return Parts(tmp, previous, recorded, {"nt": "nt"}, {}, said.append, records_digest(recorded))


def test_whole_file_is_the_parts_concatenated_and_reuse_is_by_link(tmp_path: Path) -> None:
    said: list[str] = []
    first = _parts(tmp_path / "one", None, {}, said)
    first.make(("nt",), _sources(NAMES), NAMES)
    sums = first.assemble("nt", tmp_path / "one.nt", b"# head\n", b"# foot\n")
    whole = (tmp_path / "one.nt").read_bytes()
    assert whole == b"# head\n" + b"".join(f"<{n}> .\n".encode() for n in NAMES) + b"# foot\n"
    assert gzip.decompress((tmp_path / "one.nt.gz").read_bytes()) == whole
    assert sums[0] == (len(whole), hashlib.sha256(whole).hexdigest())
    # a second build with one graph changed: the other parts are the first build's files
    changed = _sources(NAMES)
    changed[100] = _sources([NAMES[100]], "-changed")[0]
    second = _parts(tmp_path / "two", tmp_path / "one", first.records(), said)
    second.make(("nt",), changed, NAMES)
    second.assemble("nt", tmp_path / "two.nt", b"", b"")
    linked = [p for p in (tmp_path / "two" / PARTS).iterdir() if (tmp_path / "one" / PARTS / p.name).exists()]
    assert len(linked) == 2 * (len(buckets(NAMES)) - 1), "every part but the changed one, and its .gz"
    assert all(p.samefile(tmp_path / "one" / PARTS / p.name) for p in linked)
    assert b"-changed" in (tmp_path / "two.nt").read_bytes() and not said


def test_a_part_that_does_not_match_its_record_is_made_again(tmp_path: Path) -> None:
    said: list[str] = []
    first = _parts(tmp_path / "one", None, {}, said)
    first.make(("nt",), _sources(NAMES), NAMES)
    first.assemble("nt", tmp_path / "one.nt", b"", b"")
    victim = min((tmp_path / "one" / PARTS).glob("*.nt"))
    victim.write_bytes(victim.read_bytes().replace(b"article", b"articlf", 1))
    second = _parts(tmp_path / "two", tmp_path / "one", first.records(), said)
    second.make(("nt",), _sources(NAMES), NAMES)
    second.assemble("nt", tmp_path / "two.nt", b"", b"")
    assert (tmp_path / "two.nt").read_bytes() == (tmp_path / "one.nt").read_bytes().replace(b"articlf", b"article")
    assert any(str(victim) in m and "does not match its recorded checksum" in m for m in said), said
    assert not (tmp_path / "two" / PARTS / victim.name).samefile(victim)


def test_a_record_that_is_not_ours_is_named_and_not_used(tmp_path: Path) -> None:
    said: list[str] = []
    parts = _parts(tmp_path / "two", tmp_path / "one", {"nt": [["key", "not a size"]]}, said)
    assert parts.old == {} and any("record of the parts is unreadable" in m for m in said), said


def test_a_record_its_checksum_does_not_name_is_not_used(tmp_path: Path) -> None:
    said: list[str] = []
    first = _parts(tmp_path / "one", None, {}, said)
    first.make(("nt",), _sources(NAMES), NAMES)
    recorded = first.records()
    changed = {"nt": [[*recorded["nt"][0][:2], "0" * 64, *recorded["nt"][0][3:]], *recorded["nt"][1:]]}
    parts = Parts(tmp_path / "two", tmp_path / "one", changed, {"nt": "nt"}, {}, said.append, records_digest(recorded))
    assert parts.old == {} and any("not the record its checksum names" in m for m in said), said
