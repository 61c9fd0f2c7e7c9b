"""Locate the data files shipped under ``corpora/``.

In a source checkout the files live in ``<repo>/corpora``; an installed wheel
carries them as the package ``textmine.corpora``. Both resolve to a real
directory on disk.
"""
from __future__ import annotations

from pathlib import Path


def corpora_dir() -> Path:
    """Return the directory holding the shipped data files."""
    try:
        import textmine.corpora as pkg

        return Path(pkg.__file__).resolve().parent
    except ImportError:  # pragma: no cover - only when the package mapping is broken
        return Path(__file__).resolve().parent.parent / "corpora"


def corpus_path(*parts: str) -> Path:
    """Return the path of a shipped data file, e.g. ``corpus_path("taxonomy.toml")``."""
    return corpora_dir().joinpath(*parts)


def library_versions(*packages: str) -> dict[str, str]:
    """Installed versions of Python and ``packages`` ("unknown" when one is missing), for run records."""
    import importlib.metadata as md
    import platform

    versions = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            versions[package] = "unknown"
    return versions
