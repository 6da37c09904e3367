"""Whether output gets colour: `--color`, then the environment's conventions, then the terminal.

`--color always|never` wins. Under `auto`: `FORCE_COLOR` (https://force-color.org) or
`CLICOLOR_FORCE` (https://bixense.com/clicolors/) set to anything but empty or `0` forces colour,
even into a pipe or a CI log (they are how a user overrides `NO_COLOR` and the terminal test);
else `NO_COLOR` set and not empty (https://no-color.org) turns it off; else colour on a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping


def _set(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "") not in ("", "0")


def use_colour(choice: str, is_tty: bool, environ: Mapping[str, str]) -> bool:
    """Colour for a stream (`is_tty`: it is a terminal) under `--color choice` and `environ`."""
    if choice != "auto":
        return choice == "always"
    if _set(environ, "FORCE_COLOR") and environ.get("FORCE_COLOR", "").lower() != "false":
        return True
    if _set(environ, "CLICOLOR_FORCE"):
        return True
    if environ.get("NO_COLOR", ""):
        return False
    return is_tty
