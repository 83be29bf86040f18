"""What a build plans (one task per named graph) and what making the parts gives the rest of it:
plain records, shared by pipeline.py and storeupdate.py (kept apart so neither imports the other)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from .parts import Chunk, Describers, Task


@dataclass
class Plan:
    settings: Settings
    digests: dict[Path, str]                  # every input file -> sha256
    tasks: list[Task] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    shapes_text: str = ""
    subclass_nt: bytes = b""


@dataclass
class Made:
    """What the rest of the build needs of every chunk (its bodies stay on disk until the dumps)."""

    metas: list[Chunk]               # in graph-key order, bodies emptied
    remade: set[str]                 # keys of parts made in this build
    describers: Describers = field(init=False)

    def __post_init__(self) -> None:
        self.describers = Describers(self.metas)
