"""How the worked examples (test vectors) of docs/sealed-bid-format.md §10 were made: `python -m
tests.tender.sealing_vectors` prints them. HPKE's ephemeral keys are random, so each run gives other bytes;
the document keeps one run, and tests/tender/test_sealing.py opens it (with the platform and with an opener
written from the document alone)."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tender import sealing

# the first example's holders (their private keys are published with it, for the examples only)
HOLDERS_HEX = [
    "50109a92ff088efdb431e11315e55f95b30573a64ab241fb0395e36619114156",
    "e851cb8cc66f26e47bb9c5f40c6c0bfce3a15f698bf098e6b8049423fc77806f",
    "f81114f5b3544867865a84e2a04b1d3bfc89dae25502f8bf9e34b0e3c31c4740",
]


def vector(
    tender_id: int,
    lot_id: int,
    policy: str,
    files: dict[str, tuple[str, str, str]],
    price_form: dict[str, Any],
    bidder_hex: str | None = None,
) -> dict[str, Any]:
    keys = [X25519PrivateKey.from_private_bytes(bytes.fromhex(h)) for h in HOLDERS_HEX]
    holders = tuple(
        sealing.Holder(i, sealing.key_id(sealing.public_bytes(k)), sealing.public_bytes(k), f"holder {i}")
        for i, k in enumerate(keys)
    )
    bundle = sealing.KeyBundle(tender_id, (lot_id,), 2, policy, holders, "ET-EXAMPLE")
    bidder = X25519PrivateKey.from_private_bytes(bytes.fromhex(bidder_hex)) if bidder_hex else None
    entries = [
        sealing.BidFile(role, name, media, len(text.encode()), io.BytesIO(text.encode()))
        for name, (role, media, text) in files.items()
    ]
    out = io.BytesIO()
    header = sealing.seal(
        bundle,
        lot_id,
        entries,
        price_form,
        out,
        bidder_public_key=sealing.public_bytes(bidder) if bidder else None,
        chunk_size=1024,
    )
    sealed = out.getvalue()
    parties = keys[:2] + ([bidder] if bidder else [])
    parts = [p for k in parties for p in sealing.unwrap_parts(header, k)]
    doc: dict[str, Any] = {
        "bundle": bundle.to_json(),
        "holder_private_keys_hex": HOLDERS_HEX,
        **({"bidder_private_key_hex": bidder_hex} if bidder_hex else {}),
        "price_form": price_form,
        "files": {name: text for name, (_r, _m, text) in files.items()},
        "chunks": sealing.chunk_count(header.plaintext_size, header.chunk_size),
        "data_key_hex": sealing.combine(header, parts).hex(),
        "sealed_bid_sha256": hashlib.sha256(sealed).hexdigest(),
        "sealed_bid_hex": sealed.hex(),
    }
    return doc


def main() -> None:
    offer = "".join(f"Line {i:03d} of the commercial offer: 1,234,567.89 yuan in total.\n" for i in range(40))
    technical = "技术方案：" + "本项目按招标文件要求实施，工期六十日。" * 60
    multi = vector(
        7,
        70,
        "quorum",
        {
            "offer.txt": ("commercial", "text/plain", offer),
            "技术方案.txt": ("technical", "text/plain", technical),
        },
        {
            "total_price_fen": 123456789,
            "duration_days": 60,
            "quality_commitment": "合格",
            "bid_security_reference": "BG-EXAMPLE-2",
        },
    )
    bidder = vector(
        8,
        80,
        "quorum+bidder",
        {"offer.txt": ("commercial", "text/plain", offer[:1500])},
        {
            "total_price_fen": 98765400,
            "duration_days": 45,
            "quality_commitment": "优良",
            "bid_security_reference": "",
        },
        bidder_hex="a8ba0b5c1f5bbd4a0d59d24e6ecc6be7e4dbf0b6e3b3cbe8e1d41e5dd2b1a16f",
    )
    for name, doc in (("multi-chunk", multi), ("quorum-bidder", bidder)):
        print(f"```json worked-example-{name}")
        print(json.dumps(doc, indent=1, ensure_ascii=False))
        print("```")


if __name__ == "__main__":
    main()
