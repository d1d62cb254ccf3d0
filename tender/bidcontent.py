"""The content rules of a sealed bid's container (docs/sealed-bid-format.md §6), defined once.

A sealed bid's content (the manifest: the price form and the list of files) is encrypted, so the platform's
upload check cannot see it (E26: the check is keyless); only the opening reads it. A bid whose content
breaks a rule is then revoked as the bidder's fault (E31, `container_invalid`). So every sealer must refuse
exactly what the opening would revoke: the command-line sealer (tender.sealing.seal) and the opening
(tender.sealing.open_bid) call the functions here, and the browser's sealer (web/static/js/etender-crypto.js)
runs the same logic on `rules_data()`, which the seal page renders from this module. A shared table of cases
(tests/tender/content_cases.py) is run through both and must give the same verdicts and codes.

Pure: no database, no web, no cryptography. Each refusal is a ContentInvalid with a stable code (the list is
CODES, each with its message in MESSAGES) checked in a fixed order, so that both implementations name the same
first problem: the manifest's form, then the price form field by field, then each file in order (its role,
name, media type, size, then whether an earlier file has the same name).

The rules are the format's (platform policy for the format; the legal ground for refusing a bid that cannot be
read is E31)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from core.errors import N_

CONTAINER_FORMAT = "etender-bid-container"
VERSION = 1
MAX_MANIFEST_SIZE = 1024 * 1024  # bytes of the manifest's JSON: a content list, never the files themselves
FILE_ROLES = ("qualification", "technical", "commercial", "other")
MAX_PRICE_FEN = 10**15  # ten trillion yuan: anything above is a typing mistake
MAX_DURATION_DAYS = 36_500  # a hundred years
MAX_QUALITY_CHARS = 500
MAX_SECURITY_CHARS = 200
MAX_NAME_CHARS = 255  # characters (Unicode code points), as most file systems allow in one name
MAX_FILE_SIZE = 2**53 - 1  # the largest integer every JSON reader (JavaScript's included) holds exactly
PRICE_FORM_FIELDS = ("total_price_fen", "duration_days", "quality_commitment", "bid_security_reference")
# RFC 6838 §4.2: type "/" subtype, each a restricted-name of 1..127 characters; no parameters
MEDIA_TYPE = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"
# What is trimmed from both ends of a text field, exactly: JavaScript's String.prototype.trim set
# (ECMA-262 WhiteSpace and LineTerminator), so both sealers trim alike; written out because Python's
# str.strip differs (it also strips U+001C..U+001F and U+0085 and keeps U+FEFF). U+3000 is the
# ideographic space of Chinese input.
TRIMMED = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def _forbidden(ch: str) -> bool:
    """A control character (Unicode Cc: U+0000..U+001F, U+007F..U+009F) or a surrogate code point (U+D800..
    U+DFFF, which a JSON escape can write but no text holds): never in a name or a text field."""
    o = ord(ch)
    return o <= 0x1F or 0x7F <= o <= 0x9F or 0xD800 <= o <= 0xDFFF


# Every code a content rule gives, with its message (English; the translation key). The opening records the
# bid as `container_invalid` with this code in its detail; the sealers refuse with it.
MESSAGES: dict[str, str] = {
    "container_manifest_size": N_(
        "The bid's content list is %(size)s bytes; it may be at most %(limit)s bytes. Put fewer files in "
        "the bid (pack them into one archive)."
    ),
    "container_manifest_json": N_("The bid's content list is not a JSON object in UTF-8."),
    "container_format": N_("The bid's content list is not of format etender-bid-container, version 1."),
    "container_price_form": N_(
        "The price form must hold total_price_fen, duration_days, quality_commitment and "
        "bid_security_reference, and nothing else."
    ),
    "container_price": N_(
        "The total price (total_price_fen) must be a whole number of fen from 1 to %(limit)s (a positive "
        "amount in yuan)."
    ),
    "container_duration": N_(
        "The duration (duration_days) must be a whole number of days from 1 to %(limit)s."
    ),
    "container_quality": N_(
        "The quality commitment (quality_commitment) is required: text of at most %(limit)s characters, "
        "without control characters."
    ),
    "container_security": N_(
        "The bid security reference (bid_security_reference) must be text of at most %(limit)s characters, "
        "without control characters."
    ),
    "container_files": N_("The bid's list of files is missing or malformed."),
    "container_file_role": N_("File %(n)s: its role must be qualification, technical, commercial or other."),
    "container_file_name_empty": N_("File %(n)s has no name. Give every file a name."),
    "container_file_name_dot": N_(
        "File %(n)s is named “.” or “..”, which is not a file name. Rename the file."
    ),
    "container_file_name_separator": N_(
        "The file name “%(name)s” contains / or \\. Use a plain file name, without folders."
    ),
    "container_file_name_control": N_(
        "File %(n)s has a name with a control character (such as a line break or a tab). Rename the file."
    ),
    "container_file_name_long": N_(
        "The file name “%(name)s” is longer than %(limit)s characters. Rename the file with a shorter name."
    ),
    "container_file_name_duplicate": N_(
        "Two files are named “%(name)s”. Every file of a bid needs its own name: rename one of them."
    ),
    "container_media_type": N_(
        "File “%(name)s”: its media type must be written type/subtype, e.g. application/pdf."
    ),
    "container_file_size": N_("File “%(name)s”: its size must be a whole number of bytes."),
    "container_sizes": N_("The files' sizes do not add up to the sealed content's size."),
}
CODES = tuple(MESSAGES)
# the parameters each message takes: the seal page fills them in the browser
PARAMS: dict[str, tuple[str, ...]] = {
    code: tuple(re.findall(r"%\((\w+)\)s", message)) for code, message in MESSAGES.items()
}
# names are shown shortened in a message: a 10,000-character name is its own problem
_SHOWN_NAME = 80


class ContentInvalid(ValueError):
    """A container content rule broken: `code` one of CODES, `message` its English text (a translation key),
    `params` what the message names."""

    def __init__(self, code: str, **params: Any):
        self.code, self.message, self.params = code, MESSAGES[code], params
        super().__init__(f"{code}: {self.message % params}")


def _shown(name: str) -> str:
    return name if len(name) <= _SHOWN_NAME else name[: _SHOWN_NAME - 1] + "…"


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def trim(text: str) -> str:
    """The text without TRIMMED characters at either end (and only those)."""
    return text.strip(TRIMMED)


def _text(form: Mapping[str, Any], name: str, limit: int, required: bool, code: str) -> str:
    value = form.get(name, None if required else "")
    if not isinstance(value, str):
        raise ContentInvalid(code, limit=limit)
    value = trim(value)
    if (required and not value) or len(value) > limit or any(_forbidden(c) for c in value):
        raise ContentInvalid(code, limit=limit)
    return value


def check_price_form(form: Any) -> dict[str, Any]:
    """The price form the opening record reads, normalised (text fields trimmed). Fields in order:
    total_price_fen, duration_days, quality_commitment, bid_security_reference (may be absent: empty), then no
    other field."""
    if not isinstance(form, Mapping):
        raise ContentInvalid("container_price_form")
    price = form.get("total_price_fen")
    if not _is_int(price) or not 0 < price <= MAX_PRICE_FEN:
        raise ContentInvalid("container_price", limit=MAX_PRICE_FEN)
    duration = form.get("duration_days")
    if not _is_int(duration) or not 0 < duration <= MAX_DURATION_DAYS:
        raise ContentInvalid("container_duration", limit=MAX_DURATION_DAYS)
    out = {
        "total_price_fen": price,
        "duration_days": duration,
        "quality_commitment": _text(form, "quality_commitment", MAX_QUALITY_CHARS, True, "container_quality"),
        "bid_security_reference": _text(
            form, "bid_security_reference", MAX_SECURITY_CHARS, False, "container_security"
        ),
    }
    if set(form) - set(PRICE_FORM_FIELDS):
        raise ContentInvalid("container_price_form")
    return out


def check_file_name(name: Any, n: int) -> str:
    """A plain file name, taken exactly as written (nothing trimmed or normalised). `n` is the file's number
    (from 1) for the message."""
    if not isinstance(name, str) or not name:
        raise ContentInvalid("container_file_name_empty", n=n)
    if name in (".", ".."):
        raise ContentInvalid("container_file_name_dot", n=n)
    if "/" in name or "\\" in name:
        raise ContentInvalid("container_file_name_separator", name=_shown(name))
    if any(_forbidden(c) for c in name):
        raise ContentInvalid("container_file_name_control", n=n)
    if len(name) > MAX_NAME_CHARS:
        raise ContentInvalid("container_file_name_long", name=_shown(name), limit=MAX_NAME_CHARS)
    return name


def check_files(files: Any) -> list[dict[str, Any]]:
    """The list of files, in order, each normalised to its four fields (other members are ignored). Names are
    unique by exact comparison (code point by code point: "A.pdf" and "a.pdf" are two names)."""
    if not isinstance(files, list):
        raise ContentInvalid("container_files")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, entry in enumerate(files, start=1):
        if not isinstance(entry, Mapping):
            raise ContentInvalid("container_files")
        if entry.get("role") not in FILE_ROLES:
            raise ContentInvalid("container_file_role", n=i)
        name = check_file_name(entry.get("name"), i)
        media = entry.get("media_type")
        if not isinstance(media, str) or not re.fullmatch(MEDIA_TYPE, media):
            raise ContentInvalid("container_media_type", name=_shown(name))
        size = entry.get("size")
        if not _is_int(size) or not 0 <= size <= MAX_FILE_SIZE:
            raise ContentInvalid("container_file_size", name=_shown(name))
        if name in seen:
            raise ContentInvalid("container_file_name_duplicate", name=_shown(name))
        seen.add(name)
        out.append({"role": entry["role"], "name": name, "media_type": media, "size": size})
    return out


@dataclass(frozen=True)
class Manifest:
    price_form: dict[str, Any]
    files: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CONTAINER_FORMAT,
            "version": VERSION,
            "price_form": self.price_form,
            "files": self.files,
        }


def check_manifest(manifest: Any) -> Manifest:
    """The manifest's rules, in order: a JSON object of format etender-bid-container and version 1 (other
    members are ignored), its price form, its files. Returns it normalised: what a sealer writes and what the
    opening records."""
    if not isinstance(manifest, Mapping):
        raise ContentInvalid("container_manifest_json")
    version = manifest.get("version")
    if manifest.get("format") != CONTAINER_FORMAT or not _is_int(version) or version != VERSION:
        raise ContentInvalid("container_format")
    if "price_form" not in manifest:
        raise ContentInvalid("container_price_form")
    price_form = check_price_form(manifest["price_form"])
    return Manifest(price_form, check_files(manifest.get("files")))


def read_manifest(manifest: Any) -> Manifest:
    """A manifest already judged valid at its opening, read without judging it again (the rules may have
    grown since): only what reading its files needs, each file's four fields with an integer size."""
    try:
        files = [
            {"role": f["role"], "name": f["name"], "media_type": f["media_type"], "size": f["size"]}
            for f in manifest["files"]
        ]
        price_form = dict(manifest["price_form"])
    except (KeyError, TypeError) as e:
        raise ContentInvalid("container_files") from e
    if not all(_is_int(f["size"]) and f["size"] >= 0 for f in files):
        raise ContentInvalid("container_files")
    return Manifest(price_form, files)


def check_manifest_size(size: int, plaintext_size: int | None = None) -> None:
    """The manifest's length in bytes: 2 (the shortest JSON object) to MAX_MANIFEST_SIZE, and (at the
    opening) no more than the sealed content holds after its 4-byte length."""
    if not 2 <= size <= MAX_MANIFEST_SIZE or (plaintext_size is not None and size > plaintext_size - 4):
        raise ContentInvalid("container_manifest_size", size=size, limit=MAX_MANIFEST_SIZE)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_manifest(body: bytes) -> Any:
    """The manifest's JSON (RFC 8259: UTF-8 without a byte order mark; NaN and Infinity refused)."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ContentInvalid("container_manifest_json") from e


def serialise(manifest: Manifest) -> bytes:
    """The manifest as the Python sealer writes it (canonical JSON), its size checked."""
    body = json.dumps(manifest.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    check_manifest_size(len(body))
    return body


def verdict(manifest: Any) -> str | None:
    """None when a sealer would write this manifest (its normalised form fits the size limit), else the code
    of the first rule it breaks: what the shared case table compares with the browser's."""
    try:
        serialise(check_manifest(manifest))
    except ContentInvalid as e:
        return e.code
    return None


def rules_data() -> dict[str, Any]:
    """The rules' figures for the browser's sealer, which runs the same checks (etender-crypto.js
    checkContainer): rendered into the seal page, never written twice."""
    return {
        "format": CONTAINER_FORMAT,
        "version": VERSION,
        "max_manifest_size": MAX_MANIFEST_SIZE,
        "file_roles": list(FILE_ROLES),
        "max_price_fen": MAX_PRICE_FEN,
        "max_duration_days": MAX_DURATION_DAYS,
        "max_quality_chars": MAX_QUALITY_CHARS,
        "max_security_chars": MAX_SECURITY_CHARS,
        "max_name_chars": MAX_NAME_CHARS,
        "max_file_size": MAX_FILE_SIZE,
        "price_form_fields": list(PRICE_FORM_FIELDS),
        "media_type": MEDIA_TYPE,
        "trimmed": TRIMMED,
        "codes": list(CODES),
    }


def for_page() -> dict[str, Any]:
    """What the seal page renders for the browser's sealer: the rules' figures, each code's message (the page
    translates it) and the placeholders its parameters become ({name}), which the script fills in."""
    return {
        "rules": rules_data(),
        "messages": MESSAGES,
        "placeholders": {code: {p: "{" + p + "}" for p in params} for code, params in PARAMS.items()},
    }
