"""`etender keys` and `etender bid`: the key holder's and the bidder's offline tools (E26: bids are prepared
offline). Nothing here talks to the server; the private keys stay in the person's key files."""

from __future__ import annotations

import json
import mimetypes
import sys
from pathlib import Path
from typing import Any

import click

from core import money
from core.signing import VerifierKey
from tender import bidcontent, keyfiles, sealing
from tender.keyholders import verify_bundle_document


def _passphrase(confirm: bool) -> str:
    return str(click.prompt("Passphrase for the key file", hide_input=True, confirmation_prompt=confirm))


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group("keys")
def keys() -> None:
    """Key pairs of key holders and bidders: create one, unwrap a bid's parts at the opening."""


@keys.command("new")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Key file to write (JSON).",
)
@click.option("--label", default="", help="A name to recognise the key by.")
@click.option(
    "--passphrase-env",
    default="",
    help="Read the passphrase from this environment variable instead of asking.",
)
def keys_new(out: Path, label: str, passphrase_env: str) -> None:
    """Create an X25519 key pair and save it as a passphrase-protected key file; print the public key to
    register."""
    import os

    if out.exists():
        _fail(f"{out} already exists; choose another name (a key file is never overwritten)")
    passphrase = os.environ.get(passphrase_env, "") if passphrase_env else _passphrase(confirm=True)
    try:
        _, doc = keyfiles.new_key_file(passphrase, label)
    except keyfiles.KeyFileError as e:
        _fail(str(e))
    with open(out, "x", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
    click.echo(
        f"key file written to {out}; keep it and its passphrase safe: "
        "without them your parts cannot be unwrapped"
    )
    click.echo(f"key id:     {doc['key_id']}")
    click.echo(f"public key: {doc['public_key']}   (register this on the key holder page)")


@keys.command("unwrap")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your key file.",
)
@click.option(
    "--bid",
    "bid_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="One sealed bid.",
)
@click.option(
    "--headers",
    "headers_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The bids' headers from the opening page (opening-headers-N.json): unwrap your parts of every bid.",
)
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the parts JSON here (default: print).",
)
@click.option(
    "--passphrase-env",
    default="",
    help="Read the passphrase from this environment variable instead of asking.",
)
def keys_unwrap(
    key_path: Path, bid_path: Path | None, headers_path: Path | None, out: Path | None, passphrase_env: str
) -> None:
    """Unwrap your parts of a sealed bid (or of every bid in an opening's headers), as the JSON the opening
    ceremony accepts."""
    import base64
    import io
    import os

    if (bid_path is None) == (headers_path is None):
        _fail("give either --bid (one sealed bid) or --headers (the headers document from the opening page)")
    passphrase = os.environ.get(passphrase_env, "") if passphrase_env else _passphrase(confirm=False)
    try:
        private = keyfiles.load(key_path.read_text(encoding="utf-8"), passphrase)
    except keyfiles.KeyFileError as e:
        _fail(str(e))
    kid = sealing.key_id(sealing.public_bytes(private))
    headers: list[sealing.Header] = []
    numbers: list[
        int | None
    ] = []  # each header's platform bid id (from the headers document; none for --bid)
    if bid_path is not None:
        with open(bid_path, "rb") as f:
            try:
                headers.append(sealing.read_header(f))
                numbers.append(None)
            except sealing.SealedBidInvalid as e:
                _fail(str(e))
    else:
        assert headers_path is not None
        try:
            doc = json.loads(headers_path.read_text(encoding="utf-8"))
            if doc.get("format") != "etender-opening-headers":
                raise ValueError("not an etender-opening-headers document")
            headers = [sealing.read_header(io.BytesIO(base64.b64decode(b["header"]))) for b in doc["bids"]]
            numbers = [b["bid"] if isinstance(b.get("bid"), int) else None for b in doc["bids"]]
        except (ValueError, KeyError, TypeError, sealing.SealedBidInvalid) as e:
            _fail(f"{headers_path}: {e}; download the headers again from the opening page")
    docs = []
    for header, number in zip(headers, numbers, strict=True):
        try:
            docs.append(parts_document(header, kid, sealing.unwrap_parts(header, private), number))
        except sealing.WrongKey as e:
            if bid_path is not None or e.code != "key_not_in_bid":
                _fail(f"bid {header.bid_id}: {e}")
    if not docs:
        _fail("your key is not one of the keys these bids were sealed to")
    result: dict[str, Any] = docs[0] if bid_path is not None else {"bids": docs}
    text = json.dumps(result, indent=2)
    count = sum(len(d["parts"]) for d in docs)
    if out:
        out.write_text(text)
        click.echo(f"{count} parts of {len(docs)} bids written to {out}")
    else:
        click.echo(text)


def parts_document(
    header: sealing.Header, kid: str, parts: list[sealing.UnwrappedPart], bid: int | None = None
) -> dict[str, Any]:
    """The `etender-key-parts` envelope (docs/opening.md). `bid`: the platform's bid id from the headers
    document, which the opening credits the parts to; the header's own bid_id is written by the bidder and
    may be shared by several bids."""
    doc: dict[str, Any] = {
        "format": "etender-key-parts",
        "version": 1,
        "tender_id": header.tender_id,
        "lot_id": header.lot_id,
        "bid_id": header.bid_id,
        "key_id": kid,
        "parts": [p.to_json() for p in parts],
    }
    if bid is not None:
        doc["bid"] = bid
    return doc


@click.group("bid")
def bid() -> None:
    """Seal a bid offline for upload."""


def _bundle(path: Path, verifier: str) -> sealing.KeyBundle:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if verifier:
        return verify_bundle_document(doc, VerifierKey.parse(verifier))
    if doc.get("signature"):
        click.echo(
            "note: the bundle's signature was not checked; "
            "pass --verifier with the platform's key to check it",
            err=True,
        )
    return sealing.KeyBundle.from_json(doc)


@bid.command("seal")
@click.option(
    "--bundle",
    "bundle_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The tender's key bundle (key-bundle.json from the tender page).",
)
@click.option("--lot", "lot_id", required=True, type=int, help="The lot id you bid for.")
@click.option(
    "--file",
    "files",
    multiple=True,
    required=True,
    metavar="ROLE=PATH",
    help="A bid file: qualification=, technical=, commercial= or other=PATH. Repeat for each file.",
)
@click.option(
    "--price-form",
    "price_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON: total_price_fen, duration_days, quality_commitment, bid_security_reference.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .sealed file to write.",
)
@click.option(
    "--bidder-key",
    "bidder_key",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your own key file (needed when the tender's policy is quorum+bidder).",
)
@click.option("--verifier", default="", help="The platform's verifier key, to check the bundle's signature.")
@click.option(
    "--ceiling",
    "ceiling",
    default=None,
    metavar="YUAN",
    help="The lot's price ceiling (最高投标限价) in yuan, as the tender notice publishes it. A total "
    "price above it is rejected in the evaluation (R51): the command then warns and seals only with "
    "--above-ceiling (or, at a terminal, when you confirm).",
)
@click.option(
    "--above-ceiling",
    "above_ceiling",
    is_flag=True,
    default=False,
    help="Seal even though the total price is above --ceiling (the bid will be rejected, R51).",
)
def bid_seal(
    bundle_path: Path,
    lot_id: int,
    files: tuple[str, ...],
    price_path: Path,
    out: Path,
    bidder_key: Path | None,
    verifier: str,
    ceiling: str | None,
    above_ceiling: bool,
) -> None:
    """Seal files and a price form into a .sealed bid for the tender's key holders.

    The price form and the files are checked against the format's content rules first
    (docs/sealed-bid-format.md section 6): a bid the opening would revoke is never sealed. Give the lot's
    price ceiling with --ceiling to be warned of a price above it (R51)."""
    try:
        bundle = _bundle(bundle_path, verifier)
    except (ValueError, KeyError) as e:
        _fail(f"the key bundle cannot be used: {e}")
    try:
        ceiling_fen = money.parse_yuan(ceiling) if ceiling is not None else None
    except ValueError:
        _fail(f"--ceiling {ceiling}: write the lot's price ceiling in yuan, e.g. 1200000.00")
    bidder_public = keyfiles.public_key_of(bidder_key.read_text(encoding="utf-8"))[1] if bidder_key else None
    entries = []
    handles = []
    try:
        for spec in files:
            role, sep, path_text = spec.partition("=")
            path = Path(path_text)
            if not sep or not path.is_file():
                _fail(f"--file {spec}: write ROLE=PATH with an existing file")
            handle = open(path, "rb")  # noqa: SIM115 - closed below
            handles.append(handle)
            media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            entries.append(sealing.BidFile(role, path.name, media, path.stat().st_size, handle))
        price = json.loads(price_path.read_text(encoding="utf-8"))
        sealing.manifest_bytes(entries, price)  # the content rules, before any file is written
        _check_ceiling(price, ceiling_fen, above_ceiling)
        with open(out, "xb") as sink:
            header = sealing.seal(bundle, lot_id, entries, price, sink, bidder_public_key=bidder_public)
    except bidcontent.ContentInvalid as e:
        # the content rules refuse before --out is created: nothing to remove
        _fail(f"{e.code}: {e.message % e.params} (docs/sealed-bid-format.md section 6)")
    except (ValueError, FileExistsError) as e:
        if isinstance(e, FileExistsError):
            _fail(f"{out} already exists; choose another name")
        out.unlink(missing_ok=True)
        _fail(str(e))
    finally:
        for handle in handles:
            handle.close()
    click.echo(f"sealed bid written to {out} ({header.size} bytes, bid id {header.bid_id})")
    click.echo(
        f"tender {header.tender_id}, lot {header.lot_id}: opens with {header.k} of "
        f"{len(header.holder_key_ids)} key holders" + (" and your bidder key" if header.bidder_key_id else "")
    )


def _check_ceiling(price: object, ceiling_fen: int | None, above_ceiling: bool) -> None:
    """R51: a bid above the lot's price ceiling is rejected. Warn; seal only if the bidder says so (the flag,
    or a confirmation at a terminal)."""
    total = price.get("total_price_fen") if isinstance(price, dict) else None
    if ceiling_fen is None:
        click.echo(
            "note: the price was not compared with the lot's price ceiling; pass --ceiling YUAN (from the "
            "tender notice) to be warned of a price above it (R51)",
            err=True,
        )
        return
    if not isinstance(total, int) or isinstance(total, bool) or not ceiling_fen or total <= ceiling_fen:
        return  # a malformed price is the content rules' to refuse, with their code
    click.echo(
        f"warning: the total price of {money.format_yuan(total)} yuan is above the lot's price ceiling of "
        f"{money.format_yuan(ceiling_fen)} yuan. A bid above the price ceiling is rejected in the evaluation "
        "(R51).",
        err=True,
    )
    if above_ceiling:
        click.echo("sealing at this price, as --above-ceiling asks", err=True)
        return
    if sys.stdin.isatty() and click.confirm("Seal at this price anyway?", default=False, err=True):
        return
    _fail("not sealed: check the price, or pass --above-ceiling to seal at this price anyway")


@bid.command("inspect")
@click.option(
    "--bundle", "bundle_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.argument("sealed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def bid_inspect(bundle_path: Path, sealed: Path) -> None:
    """Run the platform's upload check on a sealed bid, without any key."""
    bundle = sealing.KeyBundle.from_json(json.loads(bundle_path.read_text(encoding="utf-8")))
    with open(sealed, "rb") as f:
        try:
            header = sealing.inspect(f, bundle, total_size=sealed.stat().st_size)
        except sealing.SealedBidInvalid as e:
            _fail(f"{e.code}: {e}")
    click.echo(
        f"a well-formed sealed bid for tender {header.tender_id}, lot {header.lot_id} ({header.size} bytes)"
    )
