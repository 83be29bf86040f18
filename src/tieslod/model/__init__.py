"""The data model: source texts (parsed with file:line), the graph of one article, its evidence."""
