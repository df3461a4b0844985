"""The installed seoga release, recorded in every manifest and model folder this code writes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("seoga")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
