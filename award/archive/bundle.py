"""The procedure file's format (docs/archive.md): a ZIP whose every file is listed in manifest.json with its
size and SHA-256, and seal.json, which ties the manifest to the audit log. No database here: the writer takes
files as streams of chunks (a sealed bid of 2 GiB passes one chunk at a time, never whole in memory), and the
verifier needs only the ZIP and the platform's verifier key (`etender audit verify-bundle`).

How the manifest is covered: once every file is written the builder records an `award.archive.created` entry
whose details carry the manifest's SHA-256, signs a checkpoint that includes it, and writes seal.json: that
entry (its bytes and details), the signed checkpoint, and an inclusion proof to that checkpoint for it and for
every procedure entry of audit/entries.jsonl. The proofs are outside the manifest on purpose: they are checked
against the signed root, so they need no hash of their own, and they can only be computed once the entry that
carries the manifest's hash exists."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from audit.merkle import leaf_hash, verify_inclusion
from audit.remote import latest_checkpoint
from core.signing import VerifierKey

FORMAT = "etender-procedure-archive"
SEAL_FORMAT = "etender-procedure-archive-seal"
VERSION = 1
MANIFEST = "manifest.json"
SEAL = "seal.json"
ENTRIES = "audit/entries.jsonl"
TAG_CREATED = "award.archive.created"  # award.archive.events.ArchiveTag.archive_created, as text
# Every member gets this time: the ZIP's own timestamps carry nothing the manifest does not, and the same
# files give the same bytes (the test vector, docs/archive.md).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CHUNK = 1024 * 1024


def canonical(doc: Any) -> bytes:
    """The canonical JSON of every JSON file the archive writes (the audit log's own form: sorted keys, no
    spaces, UTF-8)."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class File:
    """One file of the archive: its path inside the ZIP and its content as a stream of chunks, produced only
    when the file is written. `compress`: deflate it (JSON, PDF); a sealed bid is ciphertext and is stored."""

    path: str
    media_type: str
    chunks: Callable[[], Iterable[bytes]]
    compress: bool = True

    @classmethod
    def json(cls, path: str, doc: Any) -> File:
        data = canonical(doc)
        return cls(path, "application/json", lambda: [data])

    @classmethod
    def raw(cls, path: str, media_type: str, data: bytes, compress: bool = True) -> File:
        return cls(path, media_type, lambda: [data], compress)


@dataclass(frozen=True)
class Listed:
    """A file as the manifest lists it."""

    path: str
    section: str
    media_type: str
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "section": self.section,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
        }


def safe_name(name: str, limit: int = 120) -> str:
    """A file name as a ZIP member's last part: no directory, no control character, not empty."""
    cleaned = "".join("_" if c in '/\\:*?"<>|' or ord(c) < 32 or ord(c) == 127 else c for c in name).strip()
    cleaned = cleaned.lstrip(".") or "file"
    return cleaned[-limit:]


class Writer:
    """Writes the archive to a seekable binary file: add() each file (hashed while it is written), then
    finish() with the manifest's header and the function that seals it (records the entry, signs the
    checkpoint, returns seal.json's document)."""

    def __init__(self, out: IO[bytes]):
        self.zip = zipfile.ZipFile(out, "w", allowZip64=True)
        self.listed: list[Listed] = []
        self._paths: set[str] = set()

    def add(self, section: str, file: File) -> Listed:
        if file.path in self._paths or file.path in (MANIFEST, SEAL):
            raise ValueError(f"the archive has a file {file.path!r} already")
        self._paths.add(file.path)
        info = zipfile.ZipInfo(file.path, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED if file.compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        digest = hashlib.sha256()
        size = 0
        with self.zip.open(info, "w", force_zip64=True) as member:
            for chunk in file.chunks():
                if chunk:
                    digest.update(chunk)
                    size += len(chunk)
                    member.write(chunk)
        listed = Listed(file.path, section, file.media_type, size, digest.hexdigest())
        self.listed.append(listed)
        return listed

    def _put(self, name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, data)

    def finish(self, header: Mapping[str, Any], seal: Callable[[str], Mapping[str, Any]]) -> str:
        """Write manifest.json (the header and every file listed), call seal(manifest SHA-256) and write
        seal.json; returns the manifest's SHA-256."""
        manifest = canonical({**header, "files": [f.as_json() for f in self.listed]})
        sha = hashlib.sha256(manifest).hexdigest()
        self._put(MANIFEST, manifest)
        self._put(SEAL, canonical(dict(seal(sha))))
        self.zip.close()
        return sha


# ---------------------------------------------------------------- verification (offline)


@dataclass
class Verdict:
    """What verify() found: `problems` names every difference (empty: the archive holds)."""

    problems: list[str] = field(default_factory=list)
    tender: dict[str, Any] = field(default_factory=dict)
    files: int = 0
    entries: int = 0
    withheld: int = 0
    checkpoint_size: int = 0
    key_id: str = ""
    bundle_keys: bool = False  # checked with the keys the seal carries, not a key the reader holds

    @property
    def ok(self) -> bool:
        return not self.problems


class Unreadable(Exception):
    """The file is not a ZIP, or not one that can be read: nothing could be checked (exit 2)."""


def _stream_sha256(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with zf.open(name) as member:
        while chunk := member.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _entry_problems(
    item: Mapping[str, Any], where: str, subjects: Sequence[str], withheld_ok: bool
) -> tuple[list[str], int | None, bytes | None, bool]:
    """An entry as the public log serves it (audit.feed.published): its leaf hash from its bytes, the index
    and subject its bytes carry, its details against the digest its bytes commit to. Returns the problems,
    its index, its leaf hash and whether it is withheld (only its hash is public)."""
    try:
        index = int(item["index"])
        claimed = bytes.fromhex(str(item["leaf_hash"]))
    except (KeyError, TypeError, ValueError):
        return [f"{where}: not an audit entry (no index or leaf hash)"], None, None, False
    if item.get("withheld"):
        if not withheld_ok:
            return (
                [f"{where}: audit entry {index} is withheld, its content cannot be checked"],
                index,
                None,
                True,
            )
        return [], index, claimed, True
    try:
        raw = base64.b64decode(str(item["entry"]), validate=True)
        doc = json.loads(raw)
    except (KeyError, ValueError):
        return [f"{where}: audit entry {index}: its bytes are not base64 JSON"], index, None, False
    problems: list[str] = []
    leaf = leaf_hash(raw)
    if leaf != claimed:
        problems.append(f"{where}: audit entry {index}: its leaf hash is not the hash of its bytes")
    if not isinstance(doc, dict) or doc.get("index") != index:
        problems.append(f"{where}: audit entry {index}: its bytes carry another index")
        return problems, index, leaf, False
    if item.get("decoded") is not None and item["decoded"] != doc:
        problems.append(f"{where}: audit entry {index}: the decoded entry differs from its bytes")
    if doc.get("subject") not in subjects:
        problems.append(
            f"{where}: audit entry {index} is about {doc.get('subject')!r}, not this procedure "
            f"({', '.join(subjects)})"
        )
    details = item.get("details")
    if not isinstance(details, dict) or hashlib.sha256(canonical(details)).hexdigest() != doc.get(
        "details_digest"
    ):
        problems.append(f"{where}: audit entry {index}: its details differ from the digest its bytes carry")
    return problems, index, leaf, False


def verify(path: str, keys: list[VerifierKey] | None = None) -> Verdict:
    """Check an archive offline: every member listed in the manifest with its size and SHA-256 and none
    unlisted; the seal's checkpoint signed by one of `keys` (None: the keys the seal carries, which shows the
    archive is whole but not whose it is); the award.archive.created entry carrying the manifest's SHA-256
    and included in that checkpoint; every entry of audit/entries.jsonl the procedure's, matching its bytes,
    and included in that checkpoint. Every difference is named. Raises Unreadable when there is no archive
    to check."""
    verdict = Verdict()
    problems = verdict.problems
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise Unreadable(f"{path} is not a ZIP file: {e}") from e
    with zf:
        names = zf.namelist()
        duplicates = sorted({n for n in names if names.count(n) > 1})
        for name in duplicates:
            problems.append(f"{name}: the ZIP holds it more than once")
        if MANIFEST not in names or SEAL not in names:
            problems.append(f"the archive has no {MANIFEST if MANIFEST not in names else SEAL}")
            return verdict
        try:
            manifest_bytes = zf.read(MANIFEST)
            manifest = json.loads(manifest_bytes)
            seal = json.loads(zf.read(SEAL))
        except (ValueError, zipfile.BadZipFile, OSError) as e:
            problems.append(f"{MANIFEST} or {SEAL} cannot be read: {e}")
            return verdict
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            problems.append(f"{MANIFEST}: not a procedure archive manifest ({FORMAT})")
            return verdict
        if manifest.get("version") != VERSION:
            problems.append(f"{MANIFEST}: version {manifest.get('version')!r}, this verifier reads {VERSION}")
            return verdict
        verdict.tender = dict(manifest.get("tender") or {})
        subjects = [str(s) for s in manifest.get("subjects") or []]
        # 1. the files against the manifest, streamed
        listed = {}
        for item in manifest.get("files") or []:
            listed[str(item.get("path"))] = item
        for name in names:
            if name in (MANIFEST, SEAL) or name.endswith("/"):
                continue
            if name not in listed:
                problems.append(f"{name}: in the ZIP but not in the manifest")
        for name, item in listed.items():
            if name not in names:
                problems.append(f"{name}: listed in the manifest but not in the ZIP (removed)")
                continue
            try:
                sha, size = _stream_sha256(zf, name)
            except (zipfile.BadZipFile, OSError, EOFError) as e:  # a CRC error: a changed byte in the ZIP
                problems.append(f"{name}: cannot be read from the ZIP ({e}): it was changed")
                continue
            if sha != item.get("sha256"):
                problems.append(f"{name}: its SHA-256 is {sha}, the manifest says {item.get('sha256')}")
            elif size != item.get("size"):
                problems.append(f"{name}: {size} bytes, the manifest says {item.get('size')}")
        verdict.files = len(listed)
        # 2. the seal: its checkpoint, signed by the key
        if not isinstance(seal, dict) or seal.get("format") != SEAL_FORMAT or seal.get("version") != VERSION:
            problems.append(f"{SEAL}: not a procedure archive seal ({SEAL_FORMAT} version {VERSION})")
            return verdict
        try:
            if keys is None:
                verdict.bundle_keys = True
                keys = [VerifierKey.parse(str(k)) for k in seal.get("verifier_keys") or []]
            checkpoint, _ = latest_checkpoint(lambda _path: str(seal.get("checkpoint", "")).encode(), keys)
        except ValueError as e:
            problems.append(f"{SEAL}: its checkpoint does not verify with the key: {e}")
            return verdict
        if manifest.get("origin") and checkpoint.origin != manifest.get("origin"):
            problems.append(
                f"{SEAL}: the checkpoint is of the log {checkpoint.origin!r}, the manifest names "
                f"{manifest.get('origin')!r}"
            )
        verdict.checkpoint_size, verdict.key_id = checkpoint.size, checkpoint.key_id
        proofs = seal.get("proofs") or {}

        def included(index: int, leaf: bytes, where: str) -> None:
            proof = proofs.get(str(index))
            if proof is None:
                problems.append(f"{where}: audit entry {index} has no inclusion proof in {SEAL}")
                return
            try:
                hashes = [bytes.fromhex(h) for h in proof]
            except (TypeError, ValueError):
                problems.append(f"{where}: audit entry {index}: its inclusion proof is not hexadecimal")
                return
            if not verify_inclusion(leaf, index, checkpoint.size, hashes, checkpoint.root):
                problems.append(
                    f"{where}: audit entry {index} is not proved included in the signed checkpoint of "
                    f"{checkpoint.size} entries"
                )

        # 3. the entry that carries the manifest's hash
        manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
        created = seal.get("entry") or {}
        found, created_index, created_leaf, _ = _entry_problems(created, SEAL, subjects, withheld_ok=False)
        problems.extend(found)
        if created_index is not None and created_leaf is not None:
            try:
                doc = json.loads(base64.b64decode(str(created["entry"])))
            except ValueError:
                doc = {}
            if doc.get("tag") != TAG_CREATED:
                problems.append(
                    f"{SEAL}: audit entry {created_index} is a {doc.get('tag')!r}, not {TAG_CREATED}"
                )
            if (created.get("details") or {}).get("manifest_sha256") != manifest_sha:
                problems.append(
                    f"{MANIFEST}: its SHA-256 is {manifest_sha}, the audit entry {created_index} that seals "
                    f"the archive says {(created.get('details') or {}).get('manifest_sha256')}"
                )
            if seal.get("manifest_sha256") != manifest_sha:
                problems.append(f"{SEAL}: names another manifest than {MANIFEST}")
            included(created_index, created_leaf, SEAL)
        # 4. the procedure's entries
        seen: set[int] = set()
        count = 0
        if ENTRIES in names and ENTRIES in listed:
            with zf.open(ENTRIES) as f:
                for number, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    where = f"{ENTRIES} line {number}"
                    try:
                        item = json.loads(line)
                    except ValueError:
                        problems.append(f"{where}: not JSON")
                        continue
                    count += 1
                    found, index, leaf, hidden = _entry_problems(item, where, subjects, withheld_ok=True)
                    problems.extend(found)
                    if index is None or leaf is None:
                        continue
                    if index in seen:
                        problems.append(f"{where}: audit entry {index} is listed twice")
                    seen.add(index)
                    if created_index is not None and index >= created_index:
                        problems.append(
                            f"{where}: audit entry {index} comes after the entry that seals the archive"
                        )
                    verdict.withheld += int(hidden)
                    included(index, leaf, where)
        else:
            problems.append(f"{ENTRIES}: the archive has no audit entries file in its manifest")
        declared = (manifest.get("audit") or {}).get("count")
        if declared != count:
            problems.append(
                f"{ENTRIES}: {count} entries, the manifest says {declared} (an entry was removed or added)"
            )
        verdict.entries = count
    return verdict
