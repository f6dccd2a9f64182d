"""A damaged or hostile .qdpx is refused by `rta import-qdpx` with exit 2, the file's name and
what to do, no traceback, and the store and imported/ untouched: a folder, a file that is no
zip, corrupt and truncated members, zip bombs, zip-slip member paths, a missing or malformed
project.qde, and XML entity tricks."""

from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import pytest

from rta.errors import RtaError
from rta.project import Project
from rta.qdpx import MAX_BYTES_ENV, _unsafe_member_name, read_qdpx_selections
from test_store_fixtures import run_cli

QDE = ('<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="x">\n'
       '<CodeBook><Codes><Code guid="11111111-1111-1111-1111-111111111111" name="Tid" isCodable="true"/></Codes>'
       '</CodeBook>\n<Sources><TextSource guid="22222222-2222-2222-2222-222222222222" name="b" '
       'plainTextPath="internal://b.txt"/></Sources>\n</Project>\n')
TEXT = "I: Hvordan var det?\nS1: Tid er alltid knapp.\n" * 40


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def _patch_central(path: Path, member: str, **fields: int) -> None:
    """Change fields of ``member``'s central directory entry (what zipfile trusts) in place:
    flags, crc, csize (compressed size), usize (uncompressed size)."""
    offsets = {"flags": (8, "<H"), "crc": (16, "<I"), "csize": (20, "<I"), "usize": (24, "<I")}
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")  # end of central directory record
    (pos,) = struct.unpack_from("<I", data, end + 16)  # where the central directory starts
    while True:
        assert data[pos:pos + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46:pos + 46 + name_len].decode() == member:
            break
        pos += 46 + name_len + extra_len + comment_len
    for key, value in fields.items():
        off, fmt = offsets[key]
        struct.pack_into(fmt, data, pos + off, value)
    path.write_bytes(bytes(data))


def _member_data_offset(path: Path, member: str) -> tuple[int, int]:
    """Where ``member``'s packed bytes start in the file, and how many there are."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = path.read_bytes()
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _zeros_member(path: Path, size: int, extra: dict[str, bytes] | None = None) -> Path:
    """A .qdpx whose 'sources/b.txt' is ``size`` zero bytes, deflated (~1000 times smaller),
    written in chunks so the test never holds it in memory."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", QDE)
        with zf.open("sources/b.txt", "w") as fh:
            chunk = bytes(1 << 20)
            for _ in range(size // len(chunk)):
                fh.write(chunk)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


# -- the hostile files: name -> (builder(tmp_path) -> path, expected message) ------------------


def folder(tmp: Path) -> Path:
    (tmp / "mappe.qdpx").mkdir()
    return tmp / "mappe.qdpx"


def missing(tmp: Path) -> Path:
    return tmp / "finnes-ikke.qdpx"


def not_a_zip(tmp: Path) -> Path:
    path = tmp / "tekst.qdpx"
    path.write_text("dette er ingen zip\n", encoding="utf-8")
    return path


def empty_file(tmp: Path) -> Path:
    path = tmp / "tom.qdpx"
    path.write_bytes(b"")
    return path


def truncated_zip(tmp: Path) -> Path:
    path = _zip(tmp / "avkuttet.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def bad_crc(tmp: Path) -> Path:
    path = _zip(tmp / "crc.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()}, zipfile.ZIP_STORED)
    start, _ = _member_data_offset(path, "sources/b.txt")
    _flip_byte(path, start + 5)  # the text changes, its recorded CRC does not
    return path


def damaged_deflate(tmp: Path) -> Path:
    path = _zip(tmp / "deflate.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()})
    start, size = _member_data_offset(path, "sources/b.txt")
    for k in range(size // 2, size):
        _flip_byte(path, start + k)
    return path


def truncated_member(tmp: Path) -> Path:
    path = _zip(tmp / "kort.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()})
    with zipfile.ZipFile(path) as zf:
        csize = zf.getinfo("sources/b.txt").compress_size
    _patch_central(path, "sources/b.txt", csize=csize // 2)  # the packed stream ends early
    return path


def inflates_past_declared_size(tmp: Path) -> Path:
    path = _zip(tmp / "mer.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()})
    _patch_central(path, "sources/b.txt", usize=100)  # says 100 bytes, holds 1,800
    return path


def inflates_with_prefix_crc(tmp: Path) -> Path:
    """Declares 100 bytes with the checksum of the first 100: a reader that stops at the
    declared size without looking further would take a cut-off text as the whole."""
    import zlib

    path = _zip(tmp / "prefiks.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()})
    _patch_central(path, "sources/b.txt", usize=100, crc=zlib.crc32(TEXT.encode()[:100]))
    return path


def bzip2_bad_crc(tmp: Path) -> Path:
    path = _zip(tmp / "bzip2.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()}, zipfile.ZIP_BZIP2)
    _patch_central(path, "sources/b.txt", crc=12345)
    return path


def bomb_over_the_limit(tmp: Path) -> Path:
    return _zeros_member(tmp / "bombe.qdpx", 50 << 20)  # 50 MB of zeros, ~50 KB packed; limit 10 MB below


def bomb_by_ratio(tmp: Path) -> Path:
    return _zeros_member(tmp / "ratio.qdpx", 50 << 20)  # under the 2 GB default, but packed 1000:1


def bomb_declared_huge(tmp: Path) -> Path:
    path = _zip(tmp / "stor.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()})
    _patch_central(path, "sources/b.txt", usize=3 * 1024**3)  # 3 GB declared, under the zip32 4 GB field
    return path


def zip_slip_dotdot(tmp: Path) -> Path:
    return _zip(tmp / "slip.qdpx", {"project.qde": QDE.encode(), "sources/../../evil.txt": b"x",
                                    "sources/b.txt": TEXT.encode()})


def zip_slip_absolute(tmp: Path) -> Path:
    return _zip(tmp / "abs.qdpx", {"project.qde": QDE.encode(), "/etc/evil.txt": b"x", "sources/b.txt": TEXT.encode()})


def zip_slip_backslash(tmp: Path) -> Path:
    return _zip(tmp / "bs.qdpx", {"project.qde": QDE.encode(), "..\\..\\evil.txt": b"x",
                                  "sources/b.txt": TEXT.encode()})


def encrypted_member(tmp: Path) -> Path:
    path = _zip(tmp / "kryptert.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()})
    _patch_central(path, "sources/b.txt", flags=0x1)
    return path


def no_project_qde(tmp: Path) -> Path:
    return _zip(tmp / "uten.qdpx", {"sources/b.txt": TEXT.encode()})


def malformed_xml(tmp: Path) -> Path:
    bad = '<?xml version="1.0"?>\n<Project xmlns="urn:QDA-XML:project:1.0">\n<Sources>\n</Project>\n'
    return _zip(tmp / "xml.qdpx", {"project.qde": bad.encode(), "sources/b.txt": TEXT.encode()})


def billion_laughs(tmp: Path) -> Path:
    levels = ['<!ENTITY l0 "ha">'] + [f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    qde = f'<?xml version="1.0"?>\n<!DOCTYPE Project [\n{chr(10).join(levels)}\n]>\n<Project name="&l9;"/>\n'
    return _zip(tmp / "latter.qdpx", {"project.qde": qde.encode(), "sources/b.txt": TEXT.encode()})


def external_entity(tmp: Path) -> Path:
    qde = ('<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
           '<Project name="x">&x;</Project>\n')
    return _zip(tmp / "ekstern.qdpx", {"project.qde": qde.encode(), "sources/b.txt": TEXT.encode()})


def _with_selection(tmp: Path, name: str, start: int, end: int, code_guid: str) -> Path:
    sel = (f'<PlainTextSelection guid="33333333-3333-3333-3333-333333333333" startPosition="{start}" '
           f'endPosition="{end}"><Coding guid="44444444-4444-4444-4444-444444444444"><CodeRef targetGUID="{code_guid}"/>'
           '</Coding></PlainTextSelection>')
    qde = QDE.replace('plainTextPath="internal://b.txt"/>', f'plainTextPath="internal://b.txt">{sel}</TextSource>')
    return _zip(tmp / name, {"project.qde": qde.encode(), "sources/b.txt": TEXT.encode()})


def selection_past_the_end(tmp: Path) -> Path:
    return _with_selection(tmp, "forlang.qdpx", 24, len(TEXT) + 5, "11111111-1111-1111-1111-111111111111")


def coderef_to_no_code(tmp: Path) -> Path:
    return _with_selection(tmp, "ingenkode.qdpx", 24, 44, "99999999-9999-9999-9999-999999999999")


CASES = {
    "folder": (folder, "is a folder"),
    "missing": (missing, "file not found"),
    "not a zip": (not_a_zip, "cannot open as a .qdpx"),
    "empty file": (empty_file, "cannot open as a .qdpx"),
    "truncated zip": (truncated_zip, "cannot open as a .qdpx"),
    "bad CRC": (bad_crc, "member 'sources/b.txt' is corrupt: its checksum (CRC-32) does not match"),
    "damaged deflate stream": (damaged_deflate, "member 'sources/b.txt' is corrupt"),
    "truncated member": (truncated_member, "member 'sources/b.txt' is truncated"),
    "inflates past its declared size": (inflates_past_declared_size, "unpacks to more than the 100 bytes it declares"),
    "inflates past its declared size, checksum of the prefix": (inflates_with_prefix_crc,
                                                                "unpacks to more than the 100 bytes it declares"),
    "bzip2 member with a bad CRC": (bzip2_bad_crc, "member 'sources/b.txt' is corrupt"),
    "zip bomb over the limit": (bomb_over_the_limit, "more than 10,000,000 bytes"),
    "zip bomb by ratio": (bomb_by_ratio, "more than 200 times"),
    "zip bomb declaring 3 GB": (bomb_declared_huge, "possible zip bomb"),
    "zip slip ..": (zip_slip_dotdot, "unsafe member path"),
    "zip slip absolute": (zip_slip_absolute, "unsafe member path"),
    "zip slip backslash": (zip_slip_backslash, "unsafe member path"),
    "encrypted member": (encrypted_member, "is encrypted"),
    "no project.qde": (no_project_qde, "no project.qde inside"),
    "malformed XML": (malformed_xml, "project.qde is not well-formed XML"),
    "billion laughs": (billion_laughs, "declares XML entities"),
    "external entity": (external_entity, "declares XML entities"),
    "selection past the end": (selection_past_the_end, '<PlainTextSelection guid="33333333-3333-3333-3333-333333333333"> '
                                                       "of source 'b' selects 24-1805, outside its text (1800 characters)"),
    "CodeRef to no code": (coderef_to_no_code, '<CodeRef targetGUID="99999999-9999-9999-9999-999999999999"> in '
                                               '<PlainTextSelection guid="33333333-3333-3333-3333-333333333333">'),
}


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> Project:
    """One project every hostile file is thrown at: none may change it."""
    project = Project.init(tmp_path_factory.mktemp("hostile") / "studie", name="Mål", coder="tester")
    yield project
    project.close()


def _dump(project: Project) -> str:
    return "\n".join(project.store.conn.iterdump())


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_qdpx_is_refused_with_exit_2_and_changes_nothing(case, target, tmp_path, capsys, monkeypatch):
    build, expected = CASES[case]
    if case == "zip bomb over the limit":
        monkeypatch.setenv(MAX_BYTES_ENV, "10000000")
    path = build(tmp_path)
    before = _dump(target)
    started = time.monotonic()
    code, out, err = run_cli(capsys, target.root, "import-qdpx", str(path))
    elapsed = time.monotonic() - started
    assert code == 2, (out, err)
    assert "Traceback" not in err and expected in err, err
    assert path.name in err  # which file
    assert "hint:" in err  # what to do
    assert elapsed < 5, f"took {elapsed:.1f} s"
    assert _dump(target) == before
    imported = target.root / "imported"
    assert not imported.exists() or list(imported.iterdir()) == []


def test_a_malformed_project_qde_names_the_line(tmp_path):
    path = malformed_xml(tmp_path)
    with pytest.raises(RtaError) as info:
        read_qdpx_selections(path)
    assert info.value.line == 4 and str(info.value.path).endswith("xml.qdpx:project.qde")
    assert f"{path}:project.qde:4:" in str(info.value)


def test_the_bomb_limit_is_checked_before_anything_is_unpacked(tmp_path, monkeypatch):
    """The limit comes from the archive's directory: reading is never attempted."""
    import zipfile as zf_module

    path = bomb_declared_huge(tmp_path)
    monkeypatch.setattr(zf_module.ZipFile, "open", lambda *a, **k: pytest.fail("a member was opened"))
    with pytest.raises(RtaError, match="possible zip bomb"):
        read_qdpx_selections(path)


def test_the_limit_is_a_parameter_and_a_legitimate_file_under_it_is_read(tmp_path, monkeypatch):
    path = _zip(tmp_path / "ok.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": TEXT.encode()})
    assert read_qdpx_selections(path) == []  # no selections, but read
    with pytest.raises(RtaError, match="more than 1,000 bytes"):
        read_qdpx_selections(path, max_bytes=1000)
    monkeypatch.setenv(MAX_BYTES_ENV, "1000")
    with pytest.raises(RtaError, match="more than 1,000 bytes"):
        read_qdpx_selections(path)
    monkeypatch.setenv(MAX_BYTES_ENV, "lots")
    with pytest.raises(RtaError, match="not a whole number"):
        read_qdpx_selections(path)


@pytest.mark.parametrize("name, unsafe", [
    ("sources/a.txt", False), ("project.qde", False), ("Sources/..a.txt", False), ("a..b/c.txt", False),
    ("../a.txt", True), ("sources/../../a.txt", True), ("/etc/passwd", True), ("..\\a.txt", True),
    ("C:/Windows/a.txt", True), ("\\\\server\\share\\a.txt", True),
])
def test_member_paths_that_climb_out_are_unsafe(name, unsafe):
    assert _unsafe_member_name(name) is unsafe


def test_the_hostile_files_are_small(tmp_path):
    """The bombs are built from small packed payloads: the test suite stays fast and light."""
    for build in (bomb_over_the_limit, bomb_declared_huge):
        assert build(tmp_path).stat().st_size < 200_000


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])
def test_a_large_legitimate_member_is_read_whole_across_chunks(tmp_path, compression):
    from rta.qdpx import _read_member

    big = (TEXT * 1500).encode()  # about 2.7 MB: several read chunks
    path = _zip(tmp_path / "stor.qdpx", {"project.qde": QDE.encode(), "sources/b.txt": big}, compression)
    with zipfile.ZipFile(path) as zf:
        assert _read_member(zf, "sources/b.txt", path) == big


def test_a_qdc_codebook_with_an_entity_declaration_is_refused(tmp_path: Path) -> None:
    """Billion laughs in a .qdc: refused before anything expands, naming the file and line."""
    from rta.errors import RtaError
    from rta.qdc import read_qdc

    bomb = tmp_path / "bomb.qdc"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE CodeBook [\n <!ENTITY a "aaaaaaaaaa">\n'
        ' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="x" name="&b;" isCodable="true"/></Codes></CodeBook>\n',
        encoding="utf-8",
    )
    with pytest.raises(RtaError) as err:
        read_qdc(bomb)
    assert "entities" in err.value.message
    assert "bomb.qdc" in str(err.value.path)
    assert err.value.line == 3
