"""An uploaded ``.qdpx`` zip, read within limits.

A zip's own size fields can lie, so sizes are counted while reading; member
names that escape the archive and suspiciously well compressed members are
refused before anything is read.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

from coding.refiqda_project.model import ProjectFormatError

MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 1024**3  # an audio file may be large
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_TEXT_BYTES = 200 * 1024**2  # project.qde and each text source
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MiB


class SafeZip:
    """A zip upload read within limits; member names checked against traversal."""

    def __init__(self, source: bytes | Path | io.BufferedIOBase, *, max_total: int,
                 max_member: int):
        try:
            self.zf = zipfile.ZipFile(source if not isinstance(source, bytes)
                                      else io.BytesIO(source))
        except (zipfile.BadZipFile, OSError) as exc:
            raise ProjectFormatError("The file is not a .qdpx project (not a zip archive).") \
                from exc
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ProjectFormatError(f"The project has more than {MAX_MEMBERS} files.")
        self.members: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            name = info.filename
            if info.is_dir():
                continue
            normal = posixpath.normpath(name.replace("\\", "/"))
            if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name)
                    or normal.startswith("..") or "/../" in f"/{normal}/"):
                raise ProjectFormatError(f"The project contains an unsafe file name {name!r}.")
            if info.flag_bits & 0x1:
                raise ProjectFormatError("The project is encrypted; export it without a "
                                         "password.")
            declared += info.file_size
            if info.file_size > 1024**2 and info.compress_size and \
                    info.file_size / info.compress_size > MAX_RATIO:
                raise ProjectFormatError(f"{name!r} is compressed suspiciously well "
                                         "(a zip bomb?); refusing it.")
            self.members[normal] = info
        if declared > max_total:
            raise ProjectFormatError("The project unpacks to more than the size limit.")
        self.max_total, self.max_member, self.read_total = max_total, max_member, 0

    def find(self, name: str) -> str | None:
        lower = {k.lower(): k for k in self.members}
        return lower.get(name.lower())

    def read(self, name: str, limit: int | None = None) -> bytes:
        info = self.members[name]
        limit = min(limit or self.max_member, self.max_member)
        out = bytearray()
        with self.zf.open(info) as f:
            while chunk := f.read(1024 * 1024):
                out += chunk
                self.read_total += len(chunk)
                if len(out) > limit or self.read_total > self.max_total:
                    raise ProjectFormatError(f"{name!r} is larger than the size limit.")
        return bytes(out)
