"""The web side: SPARQL endpoint, linked-data pages and downloads on one Starlette app."""
