"""The synthetic corpus generator (implementation: benchmarks/synthetic.py).

    python benchmarks/synth.py OUT_DIR --articles 2500 [--seed 1] [--defects 11]
"""
from __future__ import annotations

from synthetic import DEFECTS, Defect, articles_for, generate, main

__all__ = ["DEFECTS", "Defect", "articles_for", "generate", "main"]

if __name__ == "__main__":
    main()
