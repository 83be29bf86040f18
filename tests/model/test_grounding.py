"""The grounding rule (docs/authoring.md, "Grounding"): every as-printed qualifier of a claim occurs in
the evidence sentence(s) of its own quote, in its own source; `tieslod build` and `tieslod validate`
both refuse data that breaks it (exit 2, file:line, claim and qualifier). Descriptions are made of
printed descriptors only."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from tieslod.config import Settings
from tieslod.errors import GroundingError, InputError
from tieslod.model.graph import assemble
from tieslod.model.grounding import QUALIFIERS, Sentences, normalise
from tieslod.model.sources import read_inputs
from tieslod.vocab import SCHEMA

FIXTURES = Path(__file__).parents[1] / "data" / "grounding"


def _append(settings: Settings, name: str) -> str:
    """Append a fixture to the mini article; return what its message must contain."""
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    expect = next(line for line in lines if line.startswith("# expect: ")).removeprefix("# expect: ")
    with (settings.data_dir / "articles" / "mini.ttl").open("a", encoding="utf-8") as handle:
        handle.write("\n" + "\n".join(line for line in lines if not line.startswith("#")) + "\n")
    return expect


def _add_second_article(settings: Settings) -> None:
    for kind in ("articles", "sources"):
        for path in (FIXTURES / "second-article" / kind).iterdir():
            shutil.copy(path, settings.data_dir / kind / path.name)


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


@pytest.mark.parametrize("name", ["other-sentence.ttl", "other-article.ttl"])
def test_a_qualifier_outside_its_own_sentence_is_refused(mini_settings: Settings, name: str) -> None:
    _add_second_article(mini_settings)   # the other article's words are in the dataset, just not here
    expect = _append(mini_settings, name)
    with pytest.raises(GroundingError) as caught:
        assemble(read_inputs(mini_settings), mini_settings)
    error = caught.value
    assert expect in str(error) and "claim https://w3id.org/tieslod/id/claim/mini-02" in str(error)
    assert error.exit_code == 2
    path = mini_settings.data_dir / "articles" / "mini.ttl"
    assert Path(str(error.path)) == path
    assert error.line == _line_of(path, f"c:mini-02 tl:{expect.split()[0].removeprefix('tl:')} "), \
        "the line of the qualifier itself"


def test_the_same_qualifier_in_its_own_article_is_accepted(mini_settings: Settings) -> None:
    """Control for the fixture above: "the club treasurer" is grounded on second.ttl's own claims (the
    quote "met Carol at the fair." widened to its sentence holds it), and becomes a description."""
    _add_second_article(mini_settings)
    dataset = assemble(read_inputs(mini_settings), mini_settings)
    described = [q for q in dataset.parts["second"].quads if q.predicate.value == SCHEMA + "description"]
    assert [(q.subject.value.rsplit("/", 1)[-1], q.object.value) for q in described] == [
        ("bob-jones", "the club treasurer")]
    assert not [q for q in dataset.parts["mini"].quads if q.predicate.value == SCHEMA + "description"]


@pytest.mark.parametrize("command", ["validate", "build"])
def test_cli_exits_2_naming_file_line_claim_and_qualifier(mini_settings: Settings, tmp_path: Path,
                                                          command: str) -> None:
    expect = _append(mini_settings, "other-sentence.ttl")
    args = [str(Path(sys.executable).with_name("tieslod")), command, "--data", str(mini_settings.data_dir)]
    if command == "build":
        args += ["--out", str(tmp_path / "out")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    path = mini_settings.data_dir / "articles" / "mini.ttl"
    assert f"{path}:{_line_of(path, 'c:mini-02 tl:purpose')}:" in done.stderr
    assert "claim/mini-02" in done.stderr and expect in done.stderr
    assert "Traceback" not in done.stderr


def test_every_as_printed_qualifier_is_checked(mini_settings: Settings) -> None:
    """Each of the nine as-printed qualifiers, set to words of another sentence, is refused."""
    path = mini_settings.data_dir / "articles" / "mini.ttl"
    original = path.read_text(encoding="utf-8")
    for name in QUALIFIERS:
        extra = f'\nc:mini-03 tl:{name} "Bob Jones denied" .\n'
        if name == "descriptor":
            extra = '\nc:mini-04 a tl:Claim ; tl:about e:carol ; tl:stance tl:Asserts ; tl:speaker s:mini ; ' \
                    'tl:summary "x" ; tl:quote "Carol did not respond." ; tl:descriptor "Bob Jones denied" .\n'
        path.write_text(original + extra, encoding="utf-8")
        with pytest.raises(GroundingError, match=f"tl:{name} 'Bob Jones denied'"):
            assemble(read_inputs(mini_settings), mini_settings)


def test_every_ungrounded_qualifier_of_a_file_is_listed(mini_settings: Settings) -> None:
    _append(mini_settings, "other-sentence.ttl")
    path = mini_settings.data_dir / "articles" / "mini.ttl"
    path.write_text(path.read_text(encoding="utf-8") + '\nc:mini-03 tl:when "for the fair" .\n', encoding="utf-8")
    with pytest.raises(GroundingError) as caught:
        assemble(read_inputs(mini_settings), mini_settings)
    text = str(caught.value)
    assert "(2 ungrounded qualifier(s) in this file)" in text
    assert f"also {path}:{_line_of(path, 'c:mini-03 tl:when')}: claim https://w3id.org/tieslod/id/claim/mini-03: " \
           "tl:when 'for the fair'" in text


def test_normalised_quotes_spaces_and_case_are_accepted(mini_settings: Settings) -> None:
    path = mini_settings.data_dir / "articles" / "mini.ttl"
    path.write_text(path.read_text(encoding="utf-8")
                    + '\nc:mini-01 tl:item "a \\"GRANT\\"\\u00a0 of" .\n', encoding="utf-8")
    assemble(read_inputs(mini_settings), mini_settings)   # "a “grant” of" is printed in the sentence


@pytest.mark.parametrize(("about", "message"), [
    ("e:carol, e:acme", "about exactly one entity"),
    ('"Carol"', "not a literal"),   # regression: a literal here crashed the build with exit 3
])
def test_a_descriptor_claim_not_about_one_entity_is_refused(mini_settings: Settings, about: str,
                                                             message: str) -> None:
    path = mini_settings.data_dir / "articles" / "mini.ttl"
    path.write_text(path.read_text(encoding="utf-8") + f'\nc:mini-05 a tl:Claim ; tl:about {about} ; '
                    'tl:stance tl:Asserts ; tl:speaker s:mini ; tl:summary "x" ; tl:quote "Carol did not respond." ; '
                    'tl:descriptor "Carol" .\n', encoding="utf-8")
    with pytest.raises(InputError, match=message):
        assemble(read_inputs(mini_settings), mini_settings)


def test_a_hand_written_description_is_refused(mini_settings: Settings) -> None:
    path = mini_settings.data_dir / "entities" / "entities.ttl"
    path.write_text(path.read_text(encoding="utf-8") + '\ne:carol schema:description "A neighbour." .\n',
                    encoding="utf-8")
    with pytest.raises(InputError, match="hand-written schema:description") as caught:
        assemble(read_inputs(mini_settings), mini_settings)
    assert caught.value.line == _line_of(path, "A neighbour.")


@pytest.mark.parametrize(("text", "quote", "window"), [
    ("One. Two words here. Three.", "words", "Two words here."),
    ("He said “No.” Then she left. End", "she", "Then she left."),
    ("A (an aside.) B is here! C?", "is", "B is here!"),
    ("first line\nsecond, no stop\nthird.", "no stop", "second, no stop\n"),
    ("U.S.A. and more.", "and", "and more."),            # a dot before a letter is no sentence end
    ("Start of text with no end", "text", "Start of text with no end"),
    ("One. Two spans. Three words. Four.", "spans. Three", "Two spans. Three words."),
])
def test_evidence_window_is_the_quote_widened_to_sentence_ends(text: str, quote: str, window: str) -> None:
    assert Sentences.of(text).evidence(quote).strip(" ") == window.strip(" ")


def test_normalise() -> None:
    assert normalise("The  “Self-Anointed”\u00a0‘foreign’\n minister") == "the \"self-anointed\" 'foreign' minister"


def test_the_real_data_is_grounded(real_build) -> None:
    """The bundled data passes (the build would have raised), and every derived description is made
    of descriptors printed in the evidence sentence of their own claim's quote."""
    assert real_build.counts["claims"] > 100
    settings = Settings()
    inputs = read_inputs(settings)
    dataset = assemble(inputs, settings)
    for key, article in inputs.articles.items():
        sentences = Sentences.of(article.text)
        props: dict[str, dict[str, list[str]]] = {}
        for q in article.ttl.quads:
            props.setdefault(q.subject.value, {}).setdefault(q.predicate.value.rsplit("#", 1)[-1], []).append(
                q.object.value)
        printed: dict[str, set[str]] = {}
        for node, p in props.items():
            for descriptor in p.get("descriptor", []):
                windows = [normalise(sentences.evidence(quote) or "") for quote in p.get("quote", [])]
                assert any(normalise(descriptor) in w for w in windows), (node, descriptor)
                printed.setdefault(p["about"][0], set()).add(descriptor)
        for q in dataset.parts[key].quads:
            if q.predicate.value == SCHEMA + "description":
                assert isinstance(q.object, ox.Literal)
                assert set(q.object.value.split("; ")) <= printed[q.subject.value], (key, q)
    entity_descriptions = [q for q in dataset.parts["entities"].quads if q.predicate.value == SCHEMA + "description"]
    assert not entity_descriptions, "no hand-written description is left in data/entities/"
