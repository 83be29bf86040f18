"""Publishing releases: archived versions and their diff, the Atom feed, push to a Graph Store."""
