"""`etender bid seal` (issue 12): the container's content rules refuse before anything is written, with the
code the opening would record; a total price above the lot's price ceiling (--ceiling) is a warning citing R51
and is sealed only with --above-ceiling (or a confirmation at a terminal), as --help says."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

from cli.bids import bid
from tender import keyfiles, sealing

PASS = "correct horse battery"
PRICE = {
    "total_price_fen": 1_250_000_00,
    "duration_days": 45,
    "quality_commitment": "合格",
    "bid_security_reference": "BG-1",
}


def setup(tmp_path: Path, price: dict | None = None) -> list[str]:  # type: ignore[type-arg]
    _, doc = keyfiles.new_key_file(PASS)
    other, doc2 = keyfiles.new_key_file(PASS)
    bundle = sealing.KeyBundle(
        5,
        (50,),
        2,
        "quorum",
        tuple(
            sealing.Holder(i, d["key_id"], sealing.unb64u(d["public_key"])) for i, d in enumerate((doc, doc2))
        ),
    )
    (tmp_path / "bundle.json").write_text(json.dumps({"bundle": bundle.to_json()}))
    (tmp_path / "a.pdf").write_bytes(b"%PDF technical")
    (tmp_path / "form.json").write_text(json.dumps(price or PRICE))
    return [
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
        str(tmp_path / "bid.sealed"),
    ]


def run(args: list[str], stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(bid, args, input=stdin, catch_exceptions=False)


def test_help_states_the_ceiling_check_and_its_flag():
    out = run(["seal", "--help"]).output
    assert "--ceiling" in out and "--above-ceiling" in out and "R51" in out
    assert "content rules" in out


def test_a_price_above_the_ceiling_warns_citing_r51_and_is_not_sealed(tmp_path):
    args = setup(tmp_path)
    r = run([*args, "--ceiling", "1,200,000.00"])
    assert r.exit_code == 1
    assert (
        "warning: the total price of 1,250,000.00 yuan is above the lot's price ceiling of 1,200,000.00"
        in (r.output)
    )
    assert "(R51)" in r.output and "--above-ceiling" in r.output
    assert not (tmp_path / "bid.sealed").exists()


def test_above_ceiling_seals_after_the_warning(tmp_path):
    args = setup(tmp_path)
    r = run([*args, "--ceiling", "1200000", "--above-ceiling"])
    assert r.exit_code == 0, r.output
    assert "R51" in r.output and "sealed bid written" in r.output
    assert sealing.read_header(io.BytesIO((tmp_path / "bid.sealed").read_bytes())).lot_id == 50


def test_a_price_at_or_below_the_ceiling_seals_without_a_word(tmp_path):
    args = setup(tmp_path)
    r = run([*args, "--ceiling", "1250000.00"])
    assert r.exit_code == 0, r.output
    assert "warning" not in r.output and "R51" not in r.output


def test_without_ceiling_a_note_says_the_price_was_not_compared(tmp_path):
    r = run(setup(tmp_path))
    assert r.exit_code == 0, r.output
    assert "not compared with the lot's price ceiling" in r.output and "--ceiling" in r.output


def test_a_ceiling_that_is_not_an_amount_is_refused(tmp_path):
    r = run([*setup(tmp_path), "--ceiling", "lots"])
    assert r.exit_code == 1 and "--ceiling lots" in r.output
    assert not (tmp_path / "bid.sealed").exists()


def test_the_content_rules_refuse_with_the_openings_code_and_write_nothing(tmp_path):
    args = setup(tmp_path, {**PRICE, "quality_commitment": "   "})
    r = run(args)
    assert r.exit_code == 1 and "container_quality" in r.output
    assert not (tmp_path / "bid.sealed").exists()
    # two files of the same name (from two folders): the opening would revoke the bid, so it is not sealed
    args = setup(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.pdf").write_bytes(b"%PDF again")
    r = run([*args, "--file", f"commercial={tmp_path / 'other' / 'a.pdf'}"])
    assert r.exit_code == 1 and "container_file_name_duplicate" in r.output and "a.pdf" in r.output
    assert not (tmp_path / "bid.sealed").exists()
