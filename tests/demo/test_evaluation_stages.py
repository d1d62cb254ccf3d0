"""The demo's later evaluation stages (demo/evaluation_stages.py): a tender mid-scoring, one whose report
waits for signatures, three signed (one with a clarification, a confirmed flag and dissents in its report; two
of them carried on by the results stages, tests/demo/test_county_results.py), and the function that hands the
evaluated ones to the results stages."""

from sqlalchemy import select

from accounts.models import Notification, User
from accounts.passwords import verify_password
from demo import county as demo
from demo import evaluation_stages
from evaluation.report import signing
from evaluation.report.models import EvaluationReport
from evaluation.room import sessions
from evaluation.room.models import Step
from evaluation.room.steps import closed_steps
from evaluation.scoring import sheets
from tender.models import Tender


def _tender(db, key: str) -> Tender:
    title = next(s.spec.title for s in evaluation_stages.STAGES if s.key == key)
    return db.scalars(select(Tender).where(Tender.title == title)).one()


def test_the_demo_shows_every_stage_of_the_evaluation(db, blobs):
    loader = demo.load(db, blobs)
    db.commit()

    scoring = _tender(db, "stage_scoring")
    sess = sessions.session_of(db, scoring.id)
    assert scoring.status == "evaluating"
    assert set(closed_steps(db, sess)) == {Step.review}
    assert sheets.progress(db, sess) == (3, 5)

    waiting = _tender(db, "stage_signing")
    report = signing.report_of(db, sessions.session_of(db, waiting.id))
    assert waiting.status == "evaluating" and report is not None and report.completed_at is None
    assert len(signing.signatures_of(db, report)) == 2
    # the members who sign were told, with the deadline
    told = db.scalars(select(Notification).where(Notification.kind == "evaluation.report.generated")).all()
    assert {n.params["reference"] for n in told} >= {waiting.reference}

    rich = _tender(db, "stage_evaluated_dissent")
    plain = _tender(db, "stage_evaluated")
    recent = _tender(db, "stage_evaluated_recent")
    # demo.county carries the first two on to the award and to the publicity (demo/results_*.py)
    assert (rich.status, plain.status, recent.status) == ("awarded", "publicity", "evaluated")
    for t in (rich, plain, recent):
        done = db.scalars(select(EvaluationReport).where(EvaluationReport.tender_id == t.id)).one()
        assert done.completed_at is not None
    doc = signing.document_of(
        db.scalars(select(EvaluationReport).where(EvaluationReport.tender_id == rich.id)).one()
    )
    asked = doc["sections"]["review"]["clarifications"]
    assert len(asked) == 1 and asked[0]["answer"] and asked[0]["assessment"] == "accepted"
    assert doc["dissents"], "the review's minority dissent is in the report"
    flags = doc["sections"]["scoring"]["flags"]
    assert any(f["confirmed_reason"] for f in flags)
    report = db.scalars(select(EvaluationReport).where(EvaluationReport.tender_id == rich.id)).one()
    assert any(s.dissent for s in signing.signatures_of(db, report))

    # every member can log in as themself: the experts without an account got one
    expert = db.scalars(select(User).where(User.username == "expert6")).one_or_none()
    if expert is not None:
        assert verify_password(expert.password_hash, "Demo-2026-expert")

    assert [t.id for t in evaluation_stages.evaluated_tenders(loader)] == [recent.id]
