"""The key holder's and bidder's tools: `etender keys` / `etender bid` on the command line, and the key holder
pages (register a public key made in the browser, the published bundle)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from tender import drafting, keyfiles, sealing

PASS = "correct horse battery"
PRICE = {
    "total_price_fen": 88_000_00,
    "duration_days": 45,
    "quality_commitment": "合格",
    "bid_security_reference": "BG-1",
}


def _run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, list(args), env={"ETENDER_PASS": PASS, **(env or {})}, catch_exceptions=False
    )
    return result


def test_cli_keys_new_bid_seal_and_keys_unwrap_open_a_bid(tmp_path):
    holders = []
    for i in range(3):
        path = tmp_path / f"holder{i}.json"
        r = _run(
            "keys", "new", "--out", str(path), "--label", f"holder {i}", "--passphrase-env", "ETENDER_PASS"
        )
        assert r.exit_code == 0, r.output
        doc = json.loads(path.read_text())
        assert doc["public_key"] in r.output
        holders.append((path, doc))
    r = _run("keys", "new", "--out", str(holders[0][0]), "--passphrase-env", "ETENDER_PASS")
    assert r.exit_code == 1 and "already exists" in r.output
    bundle = sealing.KeyBundle(
        5,
        (50,),
        2,
        "quorum",
        tuple(
            sealing.Holder(i, doc["key_id"], sealing.unb64u(doc["public_key"]))
            for i, (_, doc) in enumerate(holders)
        ),
    )
    (tmp_path / "bundle.json").write_text(json.dumps({"bundle": bundle.to_json()}))
    (tmp_path / "a.pdf").write_bytes(b"%PDF qualification")
    (tmp_path / "b.pdf").write_bytes(b"%PDF technical" * 10_000)
    (tmp_path / "form.json").write_text(json.dumps(PRICE))
    sealed = tmp_path / "bid.sealed"
    r = _run(
        "bid",
        "seal",
        "--bundle",
        str(tmp_path / "bundle.json"),
        "--lot",
        "50",
        "--file",
        f"qualification={tmp_path / 'a.pdf'}",
        "--file",
        f"technical={tmp_path / 'b.pdf'}",
        "--price-form",
        str(tmp_path / "form.json"),
        "--out",
        str(sealed),
    )
    assert r.exit_code == 0, r.output
    r = _run("bid", "inspect", "--bundle", str(tmp_path / "bundle.json"), str(sealed))
    assert r.exit_code == 0 and "well-formed" in r.output
    parts = []
    for path, _ in holders[1:]:
        out = tmp_path / f"{path.stem}.parts.json"
        r = _run(
            "keys",
            "unwrap",
            "--key",
            str(path),
            "--bid",
            str(sealed),
            "--out",
            str(out),
            "--passphrase-env",
            "ETENDER_PASS",
        )
        assert r.exit_code == 0, r.output
        doc = json.loads(out.read_text())
        assert doc["format"] == "etender-key-parts" and doc["tender_id"] == 5
        parts += [
            sealing.UnwrappedPart(p["subset_index"], p["position"], sealing.unb64u(p["part"]))
            for p in doc["parts"]
        ]
    opened, contents = sealing.open_bytes(sealed.read_bytes(), parts)
    assert opened.price_form == PRICE and contents["b.pdf"] == b"%PDF technical" * 10_000
    r = _run(
        "keys",
        "unwrap",
        "--key",
        str(holders[0][0]),
        "--bid",
        str(sealed),
        "--passphrase-env",
        "WRONG",
        env={"WRONG": "not the passphrase"},
    )
    assert r.exit_code == 1 and "passphrase is wrong" in r.output
    r = _run("bid", "inspect", "--bundle", str(tmp_path / "bundle.json"), str(tmp_path / "a.pdf"))
    assert r.exit_code == 1 and "sealed_not_sealed" in r.output


def test_cli_bid_seal_refuses_a_bad_price_form_and_leaves_no_file(tmp_path):
    _, doc = keyfiles.new_key_file(PASS)
    bundle = sealing.KeyBundle(
        5, (50,), 1, "quorum", (sealing.Holder(0, doc["key_id"], sealing.unb64u(doc["public_key"])),)
    )
    (tmp_path / "bundle.json").write_text(json.dumps(bundle.to_json()))
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    (tmp_path / "form.json").write_text(json.dumps({**PRICE, "total_price_fen": -1}))
    r = _run(
        "bid",
        "seal",
        "--bundle",
        str(tmp_path / "bundle.json"),
        "--lot",
        "50",
        "--file",
        f"technical={tmp_path / 'a.pdf'}",
        "--price-form",
        str(tmp_path / "form.json"),
        "--out",
        str(tmp_path / "x.sealed"),
    )
    assert r.exit_code == 1 and "total_price_fen" in r.output
    assert not (tmp_path / "x.sealed").exists()


# ---------------------------------------------------------------- the pages

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402

from core.signing import signing_key  # noqa: E402
from tender import keyholders  # noqa: E402
from tests.factories.accounts import cast  # noqa: E402
from tests.factories.tenders import draft_tender  # noqa: E402
from tests.web.support import login, zh  # noqa: E402


def test_holder_registers_a_browser_made_key_and_the_published_bundle_is_signed(
    client, db, make, blobs, settings
):
    w = cast(db, make)
    tender = draft_tender(w, blobs, with_keys=False)
    names = {
        who: (getattr(w, f"{who}_user").username, getattr(w, f"{who}_user").full_name)
        for who in ("monitor", "agency", "centre", "bidder")
    }
    tender_id, reference = tender.id, tender.reference
    db.commit()  # SQLite: end the test session's transaction, or the app's writes would wait for it
    csrf = login(client, names["monitor"][0])
    r = client.get("/keys")
    assert r.status_code == 200 and reference in r.text and zh("not registered") in r.text
    r = client.get(f"/keys/tenders/{tender_id}")
    assert r.status_code == 200 and "/static/js/etender-crypto.js" in r.text and 'id="make-key"' in r.text
    # the saved-key proof: the page asks for the saved key file and its passphrase, and its register button
    # is disabled until the browser has checked them (walked in tests/e2e/test_keyholder_registers.py)
    assert (
        'id="proof-file"' in r.text
        and 'id="proof-pass"' in r.text
        and '<button class="primary" id="register-key" disabled>' in r.text
    )
    assert zh("Show that your key file is saved") in r.text
    r = client.post(
        f"/keys/tenders/{tender_id}/register", data={"public_key": "rubbish", "_csrf_token": csrf}
    )
    assert r.status_code == 422
    assert (
        zh(
            "This is not a valid public key: create a key pair on this page or with `etender keys "
            "new` and register its public key."
        )
        in r.text
    )
    assert 'value="rubbish"' in r.text  # what was entered stays
    private = X25519PrivateKey.generate()
    public = sealing.b64u(sealing.public_bytes(private))
    r = client.post(
        f"/keys/tenders/{tender_id}/register",
        data={"public_key": public, "_csrf_token": csrf},
        follow_redirects=True,
    )
    assert r.status_code == 200 and sealing.key_id(sealing.public_bytes(private)) in r.text

    # the agency cannot publish until every holder has a key; the refusal names who is missing
    agency_csrf = login(client, names["agency"][0])
    r = client.post(
        f"/agency/tenders/{tender_id}/publish",
        data={"_csrf_token": agency_csrf, "confirmed": "1"},
        follow_redirects=True,
    )
    assert names["centre"][1] in r.text
    tender = db.get(type(tender), tender_id)
    assert tender.status == "draft"
    keyholders.generate_keys_for(db, tender)
    drafting.publish(db, w.agency, tender_id)
    db.commit()

    client.cookies.clear()
    r = client.get(f"/tenders/{tender_id}/key-bundle.json")
    assert r.status_code == 200
    doc = r.json()
    bundle = keyholders.verify_bundle_document(doc, signing_key(settings.data_dir, settings.origin).verifier)
    assert bundle.holders[1].public_key == sealing.public_bytes(private)  # the monitor is the second holder

    login(client, names["monitor"][0])
    r = client.get(f"/keys/tenders/{tender_id}")
    assert (
        zh("The tender is published: its key holders' keys are fixed and can no longer be changed.") in r.text
    )
    assert 'id="make-key"' not in r.text

    login(client, names["bidder"][0])
    r = client.get(f"/bidder/tenders/{tender_id}/seal")
    assert (
        r.status_code == 200
        and f'data-bundle="/tenders/{tender_id}/key-bundle.json"' in r.text
        and "/static/js/seal.js" in r.text
    )
    assert client.get("/static/js/etender-crypto.js").status_code == 200


def test_demo_key_files_open_with_the_documented_passphrase(db, make, tmp_path):
    from demo import county as demo

    holder = make.user(make.org("trading_centre"), "centre", username="centre-demo")
    db.flush()
    private = X25519PrivateKey.generate()
    demo.write_demo_key_files(db, {holder.id: private}, tmp_path / "demo-keys")
    text = (tmp_path / "demo-keys" / "centre-demo.etkey.json").read_text()
    assert keyfiles.load(text, demo.DEMO_KEY_PASSPHRASE).private_bytes_raw() == private.private_bytes_raw()
    assert (
        demo.DEMO_KEY_PASSPHRASE
        in (Path(__file__).resolve().parents[3] / "docs" / "demo-accounts.md").read_text()
    )
