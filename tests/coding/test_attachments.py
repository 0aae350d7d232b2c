"""Attachment checks: by content, not by name; bounded extraction."""

from __future__ import annotations

import zipfile

import pytest

from coding.attachments import AttachmentError, check_document
from tests.documents import EXECUTABLE, make_docx, make_pdf, make_zip_bomb

MB = 1024**2


def check(path, name=None, max_bytes=10 * MB):
    return check_document(path, name or path.name, max_bytes=max_bytes)


def test_pdf_docx_and_txt_give_their_text(tmp_path):
    pdf = check(make_pdf(tmp_path / "carta.pdf", "Mi madre necesita un solo plan."))
    assert pdf.kind == "pdf" and "Mi madre necesita un solo plan." in pdf.text
    docx = check(make_docx(tmp_path / "letter.docx", ["First paragraph.", "Second one."]))
    assert docx.kind == "docx" and docx.text == "First paragraph.\nSecond one."
    txt = tmp_path / "notes.TXT"
    txt.write_text("Comentario: ¡integración ya!\n", encoding="utf-8")
    assert check(txt).text == "Comentario: ¡integración ya!\n"
    windows = tmp_path / "win.txt"
    windows.write_bytes("café – naïve".encode("cp1252"))
    assert check(windows).text == "café – naïve"
    utf16 = tmp_path / "u16.txt"
    utf16.write_text("hola", encoding="utf-16")
    assert check(utf16).text == "hola"


@pytest.mark.parametrize("name", ["letter.pdf", "letter.docx", "notes.txt", "setup.exe"])
def test_renamed_executable_is_refused_whatever_its_name(tmp_path, name):
    path = tmp_path / "upload"
    path.write_bytes(EXECUTABLE)
    with pytest.raises(AttachmentError) as error:
        check(path, name)
    assert error.value.code == "executable"


def test_zip_bomb_named_docx_is_refused_before_unpacking(tmp_path):
    bomb = make_zip_bomb(tmp_path / "bomb.docx", unpacked_mb=80)
    assert bomb.stat().st_size < MB
    with pytest.raises(AttachmentError) as error:
        check(bomb)
    assert error.value.code == "archive"


def test_compressed_bomb_under_the_total_limit_is_refused_by_ratio(tmp_path):
    bomb = make_zip_bomb(tmp_path / "small-bomb.docx", unpacked_mb=20)
    with pytest.raises(AttachmentError, match="compresses") as error:
        check(bomb)
    assert error.value.code == "archive"


def test_oversized_and_empty_files(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (MB + 1))
    with pytest.raises(AttachmentError) as error:
        check(big, max_bytes=MB)
    assert error.value.code == "too_large"
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(AttachmentError) as error:
        check(empty)
    assert error.value.code == "empty"


@pytest.mark.parametrize(("name", "content", "code"), [
    ("photo.jpg", b"\xff\xd8\xff\xe0 jpeg", "type"),
    ("letter.pdf", b"just text pretending", "mismatch"),
    ("letter.docx", b"%PDF-1.4 not a zip", "mismatch"),
    ("notes.txt", b"binary\x00\x01\x02 stuff", "mismatch"),
    ("notes.txt", b"%PDF-1.4\n...", "mismatch"),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "corrupt"),
])
def test_content_must_match_the_claimed_kind(tmp_path, name, content, code):
    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(AttachmentError) as error:
        check(path, name)
    assert error.value.code == code


def test_zip_that_is_not_word_and_word_with_macros(tmp_path):
    plain = tmp_path / "photos.docx"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("a.jpg", b"x")
    with pytest.raises(AttachmentError) as error:
        check(plain)
    assert error.value.code == "mismatch"
    macro = make_docx(tmp_path / "macro.docx", ["Hello"])
    with zipfile.ZipFile(macro, "a") as archive:
        archive.writestr("word/vbaProject.bin", b"\x00macro")
    with pytest.raises(AttachmentError) as error:
        check(macro)
    assert error.value.code == "macros"


def test_long_text_is_truncated_not_refused(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("word " * 50_000)
    result = check_document(path, "long.txt", max_bytes=MB, max_chars=1000)
    assert result.truncated and len(result.text) == 1000
