"""The problem a content file can have, as reported by the checker and the quiz parser."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ContentError"]


@dataclass(frozen=True)
class ContentError:
    """A problem in a content file, printed as ``path:line: message``.

    Line 0 means the path itself is the problem (a folder, a file name, a missing
    file). The quiz parser does not know the file, so it leaves *path* None.
    """

    path: Path | None
    line: int
    message: str

    def __str__(self) -> str:
        where = "<quiz>" if self.path is None else str(self.path)
        return f"{where}:{self.line}: {self.message}"
