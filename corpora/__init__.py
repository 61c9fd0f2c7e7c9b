"""Data files shipped with textmine (installed as the package ``textmine.corpora``)."""
