"""Validation: SHACL (pyshacl, the validator of record), grounding and quote checks, the compiled fast path, the URI ledger."""
