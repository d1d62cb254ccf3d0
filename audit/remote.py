"""Checking a platform from outside, through its public audit API only: `etender audit verify --url` (the
whole log against every signed checkpoint) and `etender audit watch` (a monitor's own witness that keeps every
checkpoint it saw and raises an alarm when the platform shows a history that does not extend it).

Nothing here trusts the platform beyond its verifier key, which a witness pins on first use."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.checkpoints import Checkpoint, NoteError, open_note
from audit.merkle import verify_consistency
from audit.verify import Altered, LogReplay, VerifyResult, check_published_entry
from core.signing import VerifierKey

Fetch = Callable[
    [str], bytes
]  # path and query under the base URL -> response body; raises OSError on failure
PAGE = 1000


class Unreachable(Exception):
    """The platform could not be asked (network, HTTP error, malformed answer): nothing could be checked."""


def http_fetch(base_url: str, timeout: float = 30.0) -> Fetch:
    base = base_url.rstrip("/")

    def fetch(path: str) -> bytes:
        try:
            with urllib.request.urlopen(base + path, timeout=timeout) as response:  # noqa: S310 - a URL the operator gave
                return bytes(response.read())
        except (urllib.error.URLError, OSError) as e:
            raise Unreachable(f"{base + path}: {e}") from e

    return fetch


def _json(fetch: Fetch, path: str) -> Any:
    try:
        return json.loads(fetch(path))
    except ValueError as e:
        raise Unreachable(f"{path}: the answer is not JSON") from e


def server_keys(fetch: Fetch) -> list[VerifierKey]:
    body = _json(fetch, "/api/v1/audit/key")
    try:
        return [VerifierKey.parse(k["verifier_key"]) for k in body.get("keys", [body])]
    except (KeyError, ValueError) as e:
        raise Unreachable(f"the verifier key is malformed: {e}") from e


def latest_checkpoint(fetch: Fetch, keys: list[VerifierKey]) -> tuple[Checkpoint, str]:
    note = fetch("/api/v1/audit/checkpoint").decode()
    return open_note(note, keys), note


def verify_remote(fetch: Fetch, keys: list[VerifierKey] | None = None) -> VerifyResult:
    """Check the whole published log. Raises Unreachable when it could not be checked."""
    keys = keys or server_keys(fetch)
    replay = LogReplay()
    result = VerifyResult(True, 0)
    try:
        latest, _ = latest_checkpoint(fetch, keys)
        signed: list[Checkpoint] = []
        after = -1
        while True:
            page = _json(fetch, f"/api/v1/audit/checkpoints?after={after}")["checkpoints"]
            if not page:
                break
            for item in page:
                try:
                    cp = open_note(item["note"], keys)
                except NoteError as e:
                    raise Altered(None, f"checkpoint of size {item['size']}: {e}") from e
                signed.append(cp)
                after = cp.size
        if not signed or signed[-1].size < latest.size:
            signed.append(latest)
        for cp in signed:
            if replay.roots.setdefault(cp.size, cp.root) != cp.root:
                raise Altered(
                    None, f"two signed checkpoints of size {cp.size} have different roots: the log forked"
                )
        size = max(cp.size for cp in signed)
        while replay.size < size:
            start = replay.size
            body = _json(fetch, f"/api/v1/audit/entries?start={start}&end={min(size, start + PAGE)}")
            items = body["entries"]
            if not items:
                raise Altered(
                    start,
                    f"entry {start} is missing: the checkpoints cover {size} entries, the API serves {start}",
                )
            for item in items:
                problem = check_published_entry(item)
                if item.get("withheld") is True:
                    # withheld until its disclosure time: only its leaf hash is public; the tree, the signed
                    # roots and their consistency still cover it, its content is checked once released
                    if problem:
                        raise Altered(item["index"], f"entry {item['index']}: {problem}")
                    replay.add_leaf(item["index"], bytes.fromhex(item["leaf_hash"]))
                    result.withheld += 1
                    continue
                raw = base64.b64decode(item["entry"])
                replay.add(item["index"], raw)
                if problem:
                    raise Altered(item["index"], f"entry {item['index']}: {problem}")
                result.disclosed += "disclosed" in item
        for a, b in zip(signed, signed[1:], strict=False):
            proof = _json(fetch, f"/api/v1/audit/proof/consistency?first={a.size}&second={b.size}")
            hashes = [bytes.fromhex(h) for h in proof["hashes"]]
            if not verify_consistency(a.size, b.size, a.root, b.root, hashes):
                raise Altered(
                    a.size,
                    f"the platform's proof does not show checkpoint {b.size} consistent with checkpoint "
                    f"{a.size}",
                )
        result.size, result.checkpoints = replay.size, len(signed)
    except NoteError as e:
        raise Unreachable(f"the latest checkpoint does not verify: {e}") from e
    except Altered as e:
        return VerifyResult(
            False, replay.size, e.index, e.reason, len(replay.roots), result.disclosed, result.withheld
        )
    except (KeyError, TypeError, ValueError) as e:
        raise Unreachable(f"the platform's answer is malformed: {e!r}") from e
    return result


# ---------------------------------------------------------------- the witness


@dataclass
class WatchResult:
    ok: bool
    message: str
    size: int = 0


class Witness:
    """State in a directory: keys.txt (pinned verifier keys), checkpoints/<size>.note (every checkpoint seen),
    latest.note."""

    def __init__(self, state: Path, fetch: Fetch):
        self.state = state
        self.fetch = fetch
        (state / "checkpoints").mkdir(parents=True, exist_ok=True)

    def _keys(self) -> list[VerifierKey]:
        pinned_file = self.state / "keys.txt"
        offered = server_keys(self.fetch)
        if not pinned_file.exists():
            pinned_file.write_text("".join(k.encode() + "\n" for k in offered))
            return offered
        pinned = [VerifierKey.parse(line) for line in pinned_file.read_text().splitlines() if line.strip()]
        if not any(k in offered for k in pinned):
            raise Altered(None, "the platform no longer offers any key this witness pinned")
        new = [k for k in offered if k not in pinned]
        if (
            new
        ):  # a rotation: the new key is accepted because the platform still offers the pinned one beside it
            pinned_file.write_text("".join(k.encode() + "\n" for k in pinned + new))
        return pinned + new

    def _last(self, keys: list[VerifierKey]) -> Checkpoint | None:
        path = self.state / "latest.note"
        return open_note(path.read_text(), keys) if path.exists() else None

    def poll(self) -> WatchResult:
        try:
            keys = self._keys()
            last = self._last(keys)
            current, note = latest_checkpoint(self.fetch, keys)
        except Altered as e:
            return WatchResult(False, e.reason)
        except NoteError as e:
            return WatchResult(False, f"the platform's checkpoint does not verify: {e}")
        (self.state / "checkpoints" / f"{current.size}.note").write_text(note)
        if last is not None:
            if current.size < last.size:
                return WatchResult(
                    False,
                    f"the platform shows a log of {current.size} entries after showing {last.size}",
                    current.size,
                )
            if current.size == last.size and current.root != last.root:
                return WatchResult(
                    False,
                    f"the platform shows another root for the same size {current.size}: a forked history",
                    current.size,
                )
            if current.size > last.size:
                try:
                    proof = _json(
                        self.fetch, f"/api/v1/audit/proof/consistency?first={last.size}&second={current.size}"
                    )
                    hashes = [bytes.fromhex(h) for h in proof["hashes"]]
                except (KeyError, ValueError, TypeError) as e:
                    raise Unreachable(f"the consistency proof is malformed: {e!r}") from e
                if not verify_consistency(last.size, current.size, last.root, current.root, hashes):
                    return WatchResult(
                        False,
                        f"the log of {current.size} entries does not extend the log of {last.size} entries "
                        "this witness saw before: its history was rewritten",
                        current.size,
                    )
        (self.state / "latest.note").write_text(note)
        return WatchResult(
            True, f"ok: {current.size} entries, consistent with what this witness saw before", current.size
        )
