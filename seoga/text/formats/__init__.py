"""Readers of each file format seoga indexes, and the structure (headings, tables, pages)
they share; the registry from suffix to reader is `seoga.text.loaders`."""
