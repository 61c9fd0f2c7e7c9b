"""textmine: theme analysis and rectification lists for government-office evaluation opinions.

The public API (heavy libraries load only when used)::

    from textmine import run, analyse, Toolkit, read_table, resolve_columns
    from textmine import LexiconThemeClassifier, Segmenter, Masker, load_taxonomy
"""
from __future__ import annotations

__version__ = "0.1.0"

_EXPORTS = {
    "run": "pipeline", "analyse": "pipeline", "demo": "pipeline", "Toolkit": "pipeline",
    "Analysis": "pipeline", "write_outputs": "pipeline", "classify_file": "pipeline",
    "read_table": "read", "resolve_columns": "read",
    "clean_text": "clean", "NonSubstantiveFilter": "clean",
    "Masker": "redact", "Segmenter": "segment",
    "load_taxonomy": "taxonomy", "Taxonomy": "taxonomy",
    "LexiconThemeClassifier": "classify", "theme_table": "classify",
    "OfficeDirectory": "offices",
    "office_theme_summary": "aggregate", "rectification_items": "aggregate",
    "TextmineError": "errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'textmine' has no attribute {name!r}")
