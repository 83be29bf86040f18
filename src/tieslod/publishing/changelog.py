"""What changed between two builds: the record versions.py computes and feeds.py publishes
(its own module so that neither of them imports the other)."""
from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox


@dataclass
class Changelog:
    """What changed between two builds, by resource and by quad."""

    old: str | None
    new: str
    changes: dict[str, dict[str, list[str]]]        # kind -> added/changed/withdrawn -> URIs
    labels: dict[str, str]
    replaced_by: dict[str, str]                     # withdrawn URI -> successor (dct:isReplacedBy)
    added: list[ox.Quad] = field(default_factory=list)
    removed: list[ox.Quad] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, int]]:
        return {k: {op: len(v) for op, v in ops.items()} for k, ops in self.changes.items()}

    def as_json(self) -> dict[str, object]:
        return {"from": self.old, "to": self.new, "summary": self.summary(), "changes": self.changes,
                "labels": self.labels, "replaced_by": self.replaced_by,
                "quads": {"added": len(self.added), "removed": len(self.removed)}}

    def as_text(self) -> str:
        lines = [f"changes from {self.old or '(nothing)'} to {self.new}"]
        marks = {"added": "+", "changed": "~", "withdrawn": "-"}
        for kind, ops in self.changes.items():
            lines.append(f"{kind}: " + ", ".join(f"{len(v)} {op}" for op, v in ops.items()))
            for op, uris in ops.items():
                for uri in uris:
                    extra = f" → {self.replaced_by[uri]}" if uri in self.replaced_by else ""
                    lines.append(f"  {marks[op]} {uri}  {self.labels.get(uri, '')}{extra}".rstrip())
        lines.append(f"quads: +{len(self.added)} -{len(self.removed)}")
        return "\n".join(lines) + "\n"
