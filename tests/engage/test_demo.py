"""The demo study: real comments, the guide's codebook, accounts that work."""

from engage.demo import DEMO_STUDY, load_demo
from models import Code, Comment, Participant, Study, User


def test_demo_loads_once_with_real_comments(app, db, client):
    result = load_demo()
    db.session.commit()
    assert result.created and result.comment_errors == 0
    study = db.session.scalar(db.select(Study).where(Study.name == DEMO_STUDY))
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 199
    first = db.session.scalar(db.select(Comment).where(
        Comment.external_id == "USDA-2017-0002-2889"))
    assert first.body.startswith("Workfare NOT Welfare!")
    assert db.session.scalar(db.select(db.func.count(Participant.id)).where(
        Participant.study_id == study.id)) == 8
    assert db.session.scalar(db.select(Code).where(Code.key == "lessons-learned")) is not None
    # Passwords are generated, different, and sign in.
    passwords = {email: password for email, _, password in result.accounts}
    assert len(set(passwords.values())) == 4
    for email, password in passwords.items():
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, email
        client.post("/logout")
    assert load_demo().created is False
    assert db.session.scalar(db.select(db.func.count(User.id))) == 4


def test_demo_cli_prints_accounts_each_time(app, db, instance_path):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["engage", "demo"])
    assert "Loaded the demo study" in first.output
    assert "researcher@example.org" in first.output
    second = runner.invoke(args=["engage", "demo"])
    assert "Loaded" not in second.output
    assert (instance_path / "demo-accounts.txt").read_text().split() == [
        w for w in second.output.splitlines()[1:] for w in w.split()]


def test_demo_has_a_recorded_interview_with_a_transcript(app, db):
    from models import Job, Recording, Transcript

    load_demo()
    db.session.commit()
    recording = db.session.scalar(db.select(Recording))
    assert 120_000 < recording.duration_ms < 150_000
    transcript = recording.current_transcript
    assert transcript.source == "vtt" and len(transcript.segments) == 22
    assert {s.speaker for s in transcript.segments} == {"Facilitator", "Participant"}
    assert any("D-SNPs" in s.text for s in transcript.segments)
    assert db.session.scalar(db.select(db.func.count(Transcript.id))) == 1
    # The demo does not start Whisper on its own; the recording page offers it.
    assert db.session.scalar(db.select(Job).where(Job.kind == "transcribe")) is None
    # The worker suggests codes for the whole demo study.
    assert db.session.scalar(db.select(Job).where(Job.kind == "tag-study")) is not None
