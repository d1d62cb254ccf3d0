"""The first worksheet of an .xlsx file, read with python-calamine in a child process of its own.

evaluation.pool.importing runs this file as a script: the workbook comes on standard input, the rows go to
standard output (one marshal record each), and the exit code says how it went. The child process is there
because calamine holds a sheet as one dense grid from its first to its last used cell: a workbook of 2 KB with
values in A1 and XFD1048576 asks for 550 GB, and a failed allocation in Rust aborts the process, which must
not be the web server's. The child runs under an address-space limit, so such a file ends the child and is
refused as too large; a grid that calamine could build but that spans more than MAX_CELLS cells is too.

The rows are what the previous reader (the sheet's XML read with ElementTree) returned, so that the importer
sees the same values: the sheet's own row numbers and column positions (leading and inner blank rows are
empty lists); empty cells are None and a row ends with its last non-empty cell; text as stored; numbers as int
when whole, else float; booleans as bool; a date or time as the serial number the cell holds (calamine makes a
datetime of it by the cell's format); an error value (#N/A) as its text. Where calamine cannot give the stored
value back (the text of an error cell, the exact digits of an integer beyond a double's 15 to 17, a negative
or fractional number that a date format made a time of), the sheet's XML is read for those cells, and only
when a quick search of it finds that there may be one.

What differs from the previous reader, knowingly: _xHHHH_ escapes are decoded (_x000D_ is a carriage return,
as Excel and openpyxl mean it) and a phonetic guide in an inline string is not part of its text (it was not
in a shared string either); a trailing cell stored without a value is left out rather than None; an ISO date
cell (t="d") is its date and time as text, where the previous reader handed the whole file to openpyxl; a
workbook that the previous reader could not parse but openpyxl could is read by calamine. calamine refuses,
where the previous reader did not, a number stored with spaces around it in a cell of type n, and a duration
format ([h]:mm) on a number of more than 2.7 million years.

Only the standard library and python-calamine are imported: the child starts in a few tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import marshal
import re
import sys
import zipfile
from collections.abc import Iterator
from fractions import Fraction
from typing import Any, BinaryIO
from xml.etree import ElementTree

OK, UNREADABLE, TOO_LARGE = 0, 2, 3  # the child's exit codes
ADDRESS_SPACE = 6 * 1024**3  # the child's limit: a grid of MAX_CELLS cells, the file and Python fit within it
MAX_CELLS = 32 * 1024 * 1024  # rows x columns of the used range (1 GB as calamine holds it): 1,000,000 x 33

_EPOCH_1900 = dt.date(1899, 12, 30)  # serial 0, Excel counting a 29 February 1900 that never was
_EPOCH_1904 = dt.date(1904, 1, 1)
_DAY = 86_400_000_000  # microseconds
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# a stored number that calamine may not give back as stored: signed, fractional, an exponent, 16 digits+
_ODD_NUMBER = re.compile(rb"<v>\s*(?:[-+]|[0-9]*[.eE]|[0-9]{16})")
_ANY_V = re.compile(rb"v(?:\s[^<>]*)?>\s*(?:[-+]|[0-9]*[.eE]|[0-9]{16})")  # also <x:v> and <v attr="...">
_DATE1904 = re.compile(rb"date1904\s*=\s*[\"'](?:1|true)[\"']")  # <workbookPr date1904="1"/>, as calamine
_ISO_DATE = object()  # a cell of type d (an ISO 8601 date): calamine's datetime is kept, as text


class TooManyCells(Exception):
    pass


def _of_day(t: dt.time) -> Fraction:
    return Fraction(((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond, _DAY)


def _serial(value: Any, date1904: bool) -> int | float:
    """The serial number of a date, time or duration that calamine made of a number by the cell's format.
    Exact for whole days; a fraction of a day only to the millisecond calamine keeps, which is why a sheet
    with such numbers has them read from its XML (_stored)."""
    if isinstance(value, dt.timedelta):
        days = Fraction(value // dt.timedelta(microseconds=1), _DAY)
    elif isinstance(value, dt.time):
        days = _of_day(value)
    else:
        day = value.date() if isinstance(value, dt.datetime) else value
        days = Fraction((day - (_EPOCH_1904 if date1904 else _EPOCH_1900)).days)
        if isinstance(value, dt.datetime):
            days += _of_day(value.time())
        if not date1904 and days < 61:
            days -= 1  # calamine adds a day below serial 60, so that 1 is 1 January 1900
    return int(days) if days.denominator == 1 else float(days)


def _number(text: str) -> int | float:
    """A stored number as the previous reader read it: an integer keeps all its digits."""
    return float(text) if any(c in text for c in ".eE") else int(text)


def _position(ref: str) -> tuple[int, int]:
    """(row, column) from 0 of a reference such as B7."""
    col = 0
    for ch in ref:
        if not ch.isalpha():
            break
        col = col * 26 + ord(ch.upper()) - 64
    return int(ref.lstrip(_LETTERS)) - 1, col - 1


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _first_sheet(book: zipfile.ZipFile) -> str:
    """The first sheet's part, as calamine finds it: the first <sheet> of xl/workbook.xml, by its relation."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))  # noqa: S314 - expat: no external entity
    first = next(el for el in workbook.iter() if _local(el.tag) == "sheet")
    rel = next(v for k, v in first.attrib.items() if _local(k) == "id")
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    target = next(r.get("Target", "") for r in rels if r.get("Id") == rel)
    return target[1:] if target.startswith("/") else target if target.startswith("xl/") else "xl/" + target


def _stored(xml: bytes) -> dict[int, list[tuple[int, Any]]]:
    """By row, the (column, value) of the cells whose stored value calamine does not give back: error values,
    ISO dates, and every number (as the previous reader read it). Rows and columns count from 0, and a row or
    cell without a reference follows the one before, as calamine counts them."""
    found: dict[int, list[tuple[int, Any]]] = {}
    row = col = 0
    for event, el in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):  # noqa: S314
        name = _local(el.tag)
        if name == "row":
            if event == "start" and el.get("r"):
                row = int(el.get("r") or 0) - 1
            elif event == "end":
                row, col = row + 1, 0
                el.clear()
        elif name == "c" and event == "end":
            ref = el.get("r")
            r, c = _position(ref) if ref else (row, col)
            col = c + 1
            kind = el.get("t")
            text = next((x.text for x in el if _local(x.tag) == "v"), None)
            value: Any = None
            if kind == "e":
                value = text
            elif kind == "d":
                value = _ISO_DATE
            elif kind in (None, "n") and text:
                try:
                    value = _number(text)
                except ValueError:
                    continue  # calamine's value stands
            else:
                continue
            found.setdefault(r, []).append((c, value))
    return found


def _may_need_xml(xml: bytes) -> bool:
    if b'"e"' in xml or b"'e'" in xml or b'"d"' in xml or b"'d'" in xml:
        return True
    odd = _ANY_V if b":v" in xml or b"<v " in xml else _ODD_NUMBER
    return odd.search(xml) is not None


def read(data: bytes) -> Iterator[list[Any]]:
    """The first worksheet's rows (see the module's docstring). Raises calamine's errors for a file it cannot
    read and TooManyCells for a grid of more than MAX_CELLS cells."""
    from python_calamine import CalamineWorkbook

    with zipfile.ZipFile(io.BytesIO(data)) as book:
        date1904 = _DATE1904.search(book.read("xl/workbook.xml")) is not None
        path = _first_sheet(book)
        xml = book.read(path) if path in book.namelist() else b""
    stored = _stored(xml) if _may_need_xml(xml) else {}
    del xml
    sheet = CalamineWorkbook.from_object(io.BytesIO(data)).get_sheet_by_index(0)
    if sheet.height * sheet.width > MAX_CELLS:
        raise TooManyCells(f"{sheet.height} x {sheet.width} cells")
    first_col = sheet.start[1] if sheet.start else 0  # rows start at the sheet's first, cells at this column
    pad: list[Any] = [None] * first_col
    for number, cells in enumerate(sheet.iter_rows()):
        values: list[Any] = [
            (v or None)
            if type(v) is str
            else (int(v) if v.is_integer() else v)
            if type(v) is float
            else v
            if type(v) in (bool, int)
            else _serial(v, date1904)
            for v in cells
        ]
        for c, value in stored.get(number, ()):
            i = c - first_col
            if 0 <= i < len(values):
                values[i] = (str(cells[i]) if cells[i] != "" else None) if value is _ISO_DATE else value
        while values and values[-1] is None:
            values.pop()
        yield pad + values if values and first_col else values


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:
        return  # not a Unix: no limit, calamine runs as it would in the caller's process
    for which, value in ((resource.RLIMIT_AS, ADDRESS_SPACE), (resource.RLIMIT_CORE, 0)):
        hard = resource.getrlimit(which)[1]
        with contextlib.suppress(ValueError, OSError):  # a system without such a limit (macOS: address space)
            resource.setrlimit(which, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


def main(stdin: BinaryIO, stdout: BinaryIO) -> int:
    _limit_memory()
    data = stdin.read()
    try:
        for row in read(data):
            marshal.dump(row, stdout)
    except (TooManyCells, MemoryError):
        return TOO_LARGE
    except Exception as e:  # noqa: BLE001 - any unreadable workbook is the same refusal to the person
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return UNREADABLE
    stdout.flush()
    return OK


if __name__ == "__main__":
    sys.exit(main(sys.stdin.buffer, sys.stdout.buffer))
