"""The procedure file's build time (issue 14, award/archive): a tender with --bids sealed bids of --size
KiB each (default 300 x 1024 KiB) in the local blob store, on SQLite, ended (cancelled after its
deadline), its file built by the real path (award.archive.services.build: every section, the bids
streamed one chunk at a time, the manifest, the archive.created entry, a checkpoint signed, an inclusion
proof for every entry).

Baseline, in the same run: a plain ZIP of the same bytes (the same blobs streamed from the same store with
the same compression: sealed bids stored, the rest deflated, and the same small JSON members), no hashing,
no database. The two alternate over --rounds; the best of each is printed, in seconds and MB/s of archive
bytes (1 MB = 10^6 bytes), with their ratio, and the process's peak resident memory (the build streams: it
stays far below the archive's size).

    .venv/bin/python bench/archive.py [--bids 300] [--size 1024] [--rounds 3]

Only one bid is sealed by the real path (its receipt is copied to the others); the others are random bytes
of the given size stored as bids of their own companies: the archive does not open them.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import zipfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from award.archive import bundle, services  # noqa: E402
from cli.database import upgrade_database  # noqa: E402
from core import clock  # noqa: E402
from core.db import make_engine, make_sessionmaker  # noqa: E402
from core.signing import signing_key  # noqa: E402
from storage.local import LocalBlobStore  # noqa: E402
from tender import lifecycle  # noqa: E402
from tender.lifecycle import Event  # noqa: E402
from tender.models import Bid, BidStatus  # noqa: E402
from tests.factories.accounts import Maker, cast  # noqa: E402
from tests.factories.bids import submit_bid  # noqa: E402
from tests.factories.tenders import publish_new  # noqa: E402

ORIGIN = "bench.archive"


def world(session, blobs, key, bids: int, size: int):  # type: ignore[no-untyped-def]
    make = Maker(session)
    w = cast(session, make)
    w.tender = publish_new(w, blobs)
    lot = w.tender.lots[0]
    real = submit_bid(session, w.bidder, blobs, w.tender, lot, key)
    for n in range(bids - 1):
        org = make.org("bidder", f"Bench Bidder {n:04d} Ltd")
        user = make.user(org, "bidder")
        info = blobs.put([os.urandom(size)])
        session.add(
            Bid(
                tender_id=w.tender.id,
                lot_id=lot.id,
                organisation_id=org.id,
                user_id=user.id,
                status=BidStatus.submitted,
                blob_key=info.key,
                size=info.size,
                declared_size=info.size,
                sealed_bid_id=os.urandom(16).hex(),
                submitted_at=clock.now(),
                receipt=real.receipt,
                receipt_signature=real.receipt_signature,
                receipt_signer=real.receipt_signer,
            )
        )
    session.flush()
    clock.shift(w.tender.bid_deadline - clock.now() + timedelta(minutes=1))
    lifecycle.apply(w.tender, Event.cancel)  # ended after its deadline: the file may be made
    w.tender.cancel_reason = "bench"
    session.commit()
    return w


def build(factory, w, blobs, key, path: Path) -> float:  # type: ignore[no-untyped-def]
    with factory() as session:
        t0 = time.perf_counter()
        with path.open("wb") as out:
            services.build(session, w.agency, w.tender.id, blobs, key, ORIGIN, out)
        session.commit()
        return time.perf_counter() - t0


def baseline(members: list[tuple[str, str | None, bytes | None, bool]], blobs, path: Path) -> float:  # type: ignore[no-untyped-def]
    """A plain ZIP of the same members: blobs streamed from the store, the small members from memory."""
    t0 = time.perf_counter()
    with zipfile.ZipFile(path, "w", allowZip64=True) as zf:
        for name, blob_key, data, compress in members:
            info = zipfile.ZipInfo(name, date_time=bundle.ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as member:
                for chunk in blobs.open(blob_key) if blob_key else [data]:
                    member.write(chunk)
    return time.perf_counter() - t0


def same_members(path: Path, session, tender_id: int):  # type: ignore[no-untyped-def]
    """The built archive's members, each as its blob key (a stored file) or its bytes (the rest)."""
    from tender.models import TenderDocument

    blob_of = {
        f"bids/{b.id:06d}.sealed": b.blob_key for b in session.query(Bid).filter_by(tender_id=tender_id)
    }
    for d in session.query(TenderDocument).filter_by(tender_id=tender_id):
        blob_of[f"documents/{d.id:06d}-{bundle.safe_name(d.filename)}"] = d.blob_key
    out = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            key = blob_of.get(info.filename)
            out.append(
                (
                    info.filename,
                    key,
                    None if key else zf.read(info.filename),
                    info.compress_type == zipfile.ZIP_DEFLATED,
                )
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bids", type=int, default=300)
    parser.add_argument("--size", type=int, default=1024, help="KiB per bid")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        base = Path(tmp)
        url = f"sqlite:///{base / 'bench.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        blobs = LocalBlobStore(base / "blobs")
        key = signing_key(base / "platform", ORIGIN)
        t0 = time.perf_counter()
        with factory() as session:
            w = world(session, blobs, key, args.bids, args.size * 1024)
        print(f"world: {args.bids} bids of {args.size} KiB in {time.perf_counter() - t0:.1f} s")
        archive, plain = base / "archive.zip", base / "plain.zip"
        built_s, plain_s = [], []
        members = None
        for _ in range(args.rounds):
            built_s.append(build(factory, w, blobs, key, archive))
            if members is None:
                with factory() as session:
                    members = same_members(archive, session, w.tender.id)
            plain_s.append(baseline(members, blobs, plain))
        verdict = bundle.verify(str(archive), [key.verifier])
        if not verdict.ok:
            sys.exit(f"the archive does not verify: {verdict.problems[:3]}")
        size = archive.stat().st_size
        b, p = min(built_s), min(plain_s)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"archive: {size / 1e6:.1f} MB, {verdict.files} files, {verdict.entries} audit entries, "
            "verifies\n"
            f"build (award.archive):     {b:6.2f} s  {size / 1e6 / b:7.1f} MB/s  (best of {args.rounds})\n"
            f"baseline (plain zipfile):  {p:6.2f} s  {plain.stat().st_size / 1e6 / p:7.1f} MB/s\n"
            f"ratio build / baseline:    {b / p:6.2f}\n"
            f"peak resident memory:      {peak:6.0f} MB (the archive is {size / 1e6:.0f} MB)"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
