"""tieslod: what reporting says about ties between people and organisations, as Linked Open Data."""
__version__ = "0.1.0"
