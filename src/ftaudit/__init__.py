"""ftaudit: find the thread-safety hazards the GIL used to hide in extension modules."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ftaudit")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+source"

INFORMATION_URI = "https://github.com/ftaudit/ftaudit"
