"""Checking documents attached to public comments, and extracting their text.

Anyone can attach a file to a public comment, so the file is judged by its
content, never by its name: a PDF must start like a PDF, a DOCX must be a Word
package, a TXT must be text. The name only says which of the three it claims
to be, and the content must agree. Executables are refused whatever they are
called; ZIP packages are inspected before anything unpacks them (entry count,
total size, compression ratio), so a zip bomb named ``.docx`` costs nothing;
text extraction is bounded in pages and characters.

Errors carry a ``code`` (for the translated message the commenter reads) and
an English ``detail`` for logs.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["AttachmentError", "DocumentText", "KINDS", "check_document"]

KINDS = {"pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "txt": "text/plain"}

# Magic numbers of programs: PE (Windows), ELF, Mach-O (32/64-bit, both byte
# orders, universal), shell scripts.
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
                     b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
_ZIP_MAGIC = b"PK\x03\x04"

MAX_TEXT_CHARS = 200_000
MAX_PAGES = 300
MAX_ZIP_ENTRIES = 2_000
MAX_UNZIPPED_BYTES = 64 * 1024**2
# Word XML compresses about 5-20x; 100x on a large entry is a bomb, not a letter.
MAX_RATIO = 100


class AttachmentError(ValueError):
    """A refused attachment. ``code`` is one of: type, mismatch, executable,
    too_large, empty, archive, macros, encrypted, corrupt."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class DocumentText:
    kind: str  # "pdf", "docx" or "txt"
    text: str
    truncated: bool = False


def kind_from_name(filename: str) -> str | None:
    suffix = Path(filename).suffix.lower().lstrip(".")
    return suffix if suffix in KINDS else None


def check_document(path: Path, filename: str, *, max_bytes: int,
                   max_chars: int = MAX_TEXT_CHARS) -> DocumentText:
    """Validate the file at ``path`` (named ``filename`` by its sender) and
    return its text; raise ``AttachmentError`` when it is refused."""
    kind = kind_from_name(filename)
    size = path.stat().st_size
    if size == 0:
        raise AttachmentError("empty", "the file is empty")
    if size > max_bytes:
        raise AttachmentError("too_large", f"{size} bytes is over the {max_bytes} limit")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if head.startswith(_EXECUTABLE_MAGIC):
        raise AttachmentError("executable", f"{filename!r} is a program")
    if kind is None:
        raise AttachmentError("type", f"{filename!r} is not named .pdf, .docx or .txt")
    reader = {"pdf": _pdf_text, "docx": _docx_text, "txt": _txt_text}[kind]
    text = reader(path, head)
    truncated = len(text) > max_chars
    return DocumentText(kind, text[:max_chars], truncated)


def _pdf_text(path: Path, head: bytes) -> str:
    if b"%PDF-" not in head:
        raise AttachmentError("mismatch", "named .pdf but is not a PDF")
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every oddity of real-world PDFs; they are not ours to report.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise AttachmentError("encrypted", "the PDF needs a password")
        parts: list[str] = []
        chars = 0
        for page in reader.pages[:MAX_PAGES]:
            text = page.extract_text() or ""
            parts.append(text)
            chars += len(text)
            if chars > MAX_TEXT_CHARS:
                break
    except AttachmentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError,
            AssertionError, IndexError, AttributeError, NotImplementedError) as exc:
        # pypdf raises many kinds of error on damaged files; all mean "cannot be read".
        raise AttachmentError("corrupt", f"the PDF cannot be read: {exc}") from exc
    return "\n\n".join(p.strip() for p in parts if p.strip())


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise AttachmentError("corrupt", f"the package cannot be read: {exc}") from exc
    if len(entries) > MAX_ZIP_ENTRIES:
        raise AttachmentError("archive", f"{len(entries)} entries in the package")
    names = {e.filename for e in entries}
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        raise AttachmentError("mismatch", "named .docx but is not a Word document")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise AttachmentError("macros", "the document contains macros")
    total = sum(e.file_size for e in entries)
    if total > MAX_UNZIPPED_BYTES:
        raise AttachmentError("archive", f"unpacks to {total} bytes")
    for e in entries:
        # Small entries compress well legitimately; the ratio matters only where
        # the unpacked size could hurt.
        if e.file_size > 1024**2 and e.file_size > MAX_RATIO * max(e.compress_size, 1):
            raise AttachmentError("archive", f"{e.filename} compresses "
                                             f"{e.file_size // max(e.compress_size, 1)}x")


def _docx_text(path: Path, head: bytes) -> str:
    if not head.startswith(_ZIP_MAGIC):
        raise AttachmentError("mismatch", "named .docx but is not a Word document")
    # Declared sizes are checked before anything unpacks; zipfile then stops at
    # the declared size and checks the CRC, so an entry cannot lie its way past.
    _check_zip(path)
    import docx

    try:
        document = docx.Document(str(path))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                parts.append(" | ".join(cell.text for cell in row.cells))
    except Exception as exc:  # zipfile, lxml and python-docx each raise their own types
        raise AttachmentError("corrupt", f"the document cannot be read: {exc}") from exc
    return "\n".join(p for p in parts if p.strip())


def _txt_text(path: Path, head: bytes) -> str:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise AttachmentError("mismatch", "broken UTF-16 text") from exc
    if b"\x00" in data or data.startswith((_ZIP_MAGIC, b"%PDF-")):
        raise AttachmentError("mismatch", "named .txt but is not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Text saved on Windows is often cp1252; its few undefined bytes become U+FFFD.
        text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(3, len(text) // 100):
        raise AttachmentError("mismatch", "named .txt but is not text")
    return text
