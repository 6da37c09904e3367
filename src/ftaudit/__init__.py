"""ftaudit: find the thread-safety hazards the GIL used to hide in extension modules."""

__version__ = "0.1.0"

INFORMATION_URI = "https://github.com/ftaudit/ftaudit"
