"""The release's VoID/DCAT description (void.py) lists every dump with its checksum."""
from __future__ import annotations

import pyoxigraph as ox

SPDX = "http://spdx.org/rdf/terms#checksumValue"


def test_the_description_lists_every_dump_checksum(real_build) -> None:
    dumps = real_build.release_dir / "dumps"
    described = ox.parse(path=str(dumps / "void.ttl"), format=ox.RdfFormat.TURTLE)
    values = {t.object.value for t in described if t.predicate.value == SPDX}
    sums = {line.split("  ")[0] for line in (dumps / "SHA256SUMS").read_text().splitlines()
            if not line.endswith("void.ttl")}
    assert sums and sums <= values
