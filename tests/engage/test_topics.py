"""Topic runs in the app: starting, fitting as a job, browsing, renaming, merging, comparing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engage.jobs.runner import run_job
from engage.topics import operations
from engage.topics.corpus import CorpusFilters, build_corpus
from engage.topics.tasks import topic_run
from models import (
    AuditEvent,
    Campaign,
    CommentStatus,
    Embedding,
    Job,
    JobStatus,
    Role,
    SpeakerLink,
    StakeholderGroup,
    StudyRole,
    Theme,
    ThemeEvidence,
    Topic,
    TopicAssignment,
    TopicRun,
    TopicRunStatus,
)
from tests.topic_corpus import corpus, use_memo_encoder


@pytest.fixture(autouse=True)
def encoder(monkeypatch):
    return use_memo_encoder(monkeypatch)


@pytest.fixture
def world(make, db):
    owner = make.user(Role.RESEARCHER, name="Owner")
    study = make.study(owner)
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    groups = {g.name: g for g in db.session.scalars(
        select(StakeholderGroup).where(StakeholderGroup.study_id == study.id))}
    texts, labels = corpus(15)
    speakers = ["Interviewer" if i % 5 == 0 else "Guest" for i in range(len(texts))]
    transcript = make.transcript(study, texts, speakers=speakers, title="Focus group 1")
    guest = make.participant(study, name="Dana Whitfield",
                             stakeholder_group_id=groups["Providers"].id)
    db.session.add(SpeakerLink(transcript_id=transcript.id, speaker="Guest",
                               participant_id=guest.id))
    consultation = make.consultation(study)
    comment_texts, _ = corpus(10, seed=8)
    comments = [make.comment(consultation, body, answers={"stakeholder_group": "Health plans"}
                             if i % 3 == 0 else {}) for i, body in enumerate(comment_texts)]
    db.session.commit()
    return {"owner": owner, "coder": coder, "study": study, "transcript": transcript,
            "consultation": consultation, "comments": comments, "labels": labels}


def _run(db, world, filters=None, **kwargs) -> TopicRun:
    run = operations.start_run(world["owner"], world["study"], filters or CorpusFilters(),
                               **kwargs)
    db.session.commit()
    job = run_job(run.job_id, topic_run)
    assert job.status is JobStatus.SUCCEEDED, (job.error, job.error_detail)
    db.session.expire_all()
    return db.session.get(TopicRun, run.id)


def test_run_over_transcripts_and_comments(db, world, client, login):
    run = _run(db, world)
    assert run.status is TopicRunStatus.DONE
    assert run.n_documents == 100 and run.n_topics >= 3
    assert run.params["min_topic_size"] == 5 and run.params["reasons"]
    distinct = run.timings["distinct"]
    assert 50 < distinct <= 100
    assert run.timings["embedded"] == distinct and run.timings["reused"] == 0
    assert set(run.figures) >= {"barchart"}
    rows = db.session.scalars(select(TopicAssignment).where(
        TopicAssignment.run_id == run.id)).all()
    assert len(rows) == 100
    assert {r.source for r in rows} == {"transcript", "comment"}
    groups = {r.stakeholder_group for r in rows}
    assert {"Providers", "Health plans", None} <= groups  # linked speaker, commenter, neither
    assert all(0 <= r.probability <= 1 for r in rows)
    topics = [t for t in run.topics if not t.is_outliers]
    assert all(t.keywords and t.representatives and t.centroid for t in topics)

    login(world["coder"])  # coders browse; only researchers change
    page = client.get(f"/studies/{world['study'].id}/topics/runs/{run.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="topic-charts"' in html and 'type="application/json"' in html
    assert "/topics/assets/plotly.min.js" in html and "topic-charts.js" in html
    assert "<script>" not in html  # nothing inline: the CSP forbids it
    assert 'id="plotly.js-style-global" class="no-inline-styles"' in html
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in page.headers["Content-Security-Policy"]
    assert f"#segment-{world['transcript'].segments[0].id}" in html or "#segment-" in html
    charts = client.get(f"/studies/{world['study'].id}/topics/runs/{run.id}/charts.json")
    assert {"by_group", "by_source", "over_time", "barchart"} <= set(charts.get_json())
    topic = topics[0]
    detail = client.get(f"/studies/{world['study'].id}/topics/runs/{run.id}/topics/{topic.id}")
    assert detail.status_code == 200 and topic.words[0] in detail.get_data(as_text=True)
    refused = client.post(f"/studies/{world['study'].id}/topics/runs/{run.id}/topics/"
                          f"{topic.id}/rename", data={"name": "Mine"})
    assert refused.status_code == 403


def test_plotly_is_served_locally(client, login, world):
    assert client.get("/topics/assets/plotly.min.js").status_code == 302  # sign in first
    login(world["coder"])
    response = client.get("/topics/assets/plotly.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert b"plotly.js" in response.data[:200]
    assert "max-age" in response.headers["Cache-Control"]
    # Plotly's stylesheet, which it would otherwise inject as <style> (refused by the CSP).
    css = client.get("/topics/assets/plotly.css")
    assert css.mimetype == "text/css" and ".js-plotly-plot .plotly .modebar" in css.get_data(
        as_text=True)


def test_second_run_reuses_stored_embeddings(db, world, encoder):
    first = _run(db, world)
    calls_after_first = list(encoder.calls)
    distinct = first.timings["distinct"]
    assert sum(calls_after_first) == distinct  # each distinct text once
    second = _run(db, world)
    assert encoder.calls == calls_after_first  # the model was not called again
    assert second.timings["reused"] == distinct and second.timings["embedded"] == 0
    assert db.session.scalar(select(func.count()).select_from(Embedding)) == distinct
    # Same corpus, same parameters: the same topics, and every one persists.
    a = [(t.number, t.keywords, t.size) for t in first.topics]
    b = [(t.number, t.keywords, t.size) for t in second.topics]
    assert a == b
    matches = operations.compare_runs(first, second)
    assert matches and all(m.persists for _, _, m in matches)


def test_compare_page(db, world, client, login):
    first, second = _run(db, world), _run(db, world, CorpusFilters(source="transcripts"))
    login(world["owner"])
    page = client.get(f"/studies/{world['study'].id}/topics/compare?a={first.id}&b={second.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Persists" in html and first.topics[0].label in html


def test_rename_merge_unmerge_and_noise(db, world, client, login):
    run = _run(db, world)
    login(world["owner"])
    base = f"/studies/{world['study'].id}/topics/runs/{run.id}"
    a, b, c = [t for t in run.topics if not t.is_outliers][:3]
    sizes = (a.size, b.size)
    response = client.post(f"{base}/topics/{a.id}/rename", data={"name": "  Getting  rides "})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Topic, a.id).name == "Getting rides"

    old_words = list(a.keywords)
    client.post(f"{base}/merge", data={"topics": [a.id, b.id], "into": a.id})
    db.session.expire_all()
    a, b = db.session.get(Topic, a.id), db.session.get(Topic, b.id)
    assert b.merged_into_id == a.id and a.size == sum(sizes)
    assert db.session.scalar(select(func.count()).where(TopicAssignment.topic_id == a.id)) \
        == sum(sizes)
    assert a.keywords != old_words  # recomputed from both topics' documents
    assert b.id not in [t.id for t in operations.active_topics(run)]
    page = client.get(base).get_data(as_text=True)
    assert "Merged topics" in page

    client.post(f"{base}/topics/{b.id}/unmerge")
    db.session.expire_all()
    a, b = db.session.get(Topic, a.id), db.session.get(Topic, b.id)
    assert b.merged_into_id is None and (a.size, b.size) == sizes

    client.post(f"{base}/topics/{c.id}/noise", data={"noise": "1"})
    db.session.expire_all()
    assert db.session.get(Topic, c.id).is_noise
    charts = client.get(f"{base}/charts.json").get_json()
    labels = json.dumps(charts["by_group"]["figure"]["data"])
    assert db.session.get(Topic, c.id).label not in labels  # noise left out of charts


def test_merging_needs_two_topics_of_the_run(db, world):
    run = _run(db, world)
    topic = next(t for t in run.topics if not t.is_outliers)
    with pytest.raises(operations.TopicError, match="at least two"):
        operations.merge_topics(world["owner"], run, [topic], topic)


def test_too_few_documents_is_refused_with_a_clear_message(db, world, client, login):
    login(world["owner"])
    response = client.post(f"/studies/{world['study'].id}/topics",
                           data={"source": "comments", "campaigns": "n",
                                 "groups": ["Health plans"]})
    assert response.status_code == 400
    assert ("Only 14 documents match these filters; a topic model needs at least 30."
            in response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(TopicRun)) == 0


def test_form_starts_a_run_with_filters(db, world, client, login):
    login(world["owner"])
    response = client.post(f"/studies/{world['study'].id}/topics",
                           data={"source": "transcripts", "campaigns": "n", "name": "Groups",
                                 "min_topic_size": "4"})
    assert response.status_code == 302
    run = db.session.scalars(select(TopicRun)).one()
    assert run.name == "Groups" and run.n_documents == 60
    assert run.filters["source"] == "transcripts"
    assert run.filters["overrides"] == {"min_topic_size": 4}
    job = run_job(run.job_id, topic_run)
    assert job.status is JobStatus.SUCCEEDED
    db.session.expire_all()
    assert db.session.get(TopicRun, run.id).params["min_topic_size"] == 4


def test_campaign_counted_as_one_voice(db, world, make):
    consultation = world["consultation"]
    letter = "Please keep dental coverage in the integrated plan for every adult."
    members = [make.comment(consultation, letter) for _ in range(30)]
    campaign = Campaign(consultation_id=consultation.id, template=letter,
                        representative_id=members[3].id)
    db.session.add(campaign)
    db.session.flush()
    for m in members:
        m.campaign_id = campaign.id
    db.session.commit()
    filters = CorpusFilters(source="comments", campaigns="one")
    docs = build_corpus(world["study"], filters)
    fitted = [d for d in docs if d.campaign_id == campaign.id and d.representative]
    assert [d.comment_id for d in fitted] == [members[3].id]
    assert sum(d.weight for d in docs if d.campaign_id) == pytest.approx(1.0)
    run = _run(db, world, filters)
    rows = db.session.scalars(select(TopicAssignment).where(
        TopicAssignment.run_id == run.id, TopicAssignment.comment_id.in_(
            [m.id for m in members]))).all()
    assert len(rows) == 30 and len({r.topic_id for r in rows}) == 1
    assert sum(not r.fitted for r in rows) == 29
    assert sum(t.weighted_size for t in run.topics) == pytest.approx(40 + 1)


def test_rejected_and_held_comments_are_left_out(db, world):
    world["comments"][0].status = CommentStatus.REJECTED
    world["comments"][1].status = CommentStatus.HELD
    db.session.commit()
    docs = build_corpus(world["study"], CorpusFilters(source="comments"))
    assert len(docs) == 38


@pytest.mark.worker
def test_topic_run_in_a_real_worker(db, world, start_worker):
    run = operations.start_run(world["owner"], world["study"], CorpusFilters())
    db.session.commit()
    start_worker()
    from tests.worker import wait_for

    job, seen = wait_for(db, run.job_id, lambda j: j.status.finished, timeout=240)
    assert job.status is JobStatus.SUCCEEDED, (job.error, job.error_detail)
    assert any(0 < p < 100 for p in seen)
    db.session.expire_all()
    run = db.session.get(TopicRun, run.id)
    assert run.status is TopicRunStatus.DONE and run.n_topics >= 2
    assert job.message.startswith(f"Found {run.n_topics} topics in 100 documents")


def test_cli_topics_runs_here_and_exports_csv(app, db, world, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["engage", "topics", "--study", str(world["study"].id),
                                 "--source", "transcripts", "--name", "CLI run"])
    assert result.exit_code == 0, result.output
    run = db.session.scalars(select(TopicRun).where(TopicRun.name == "CLI run")).one()
    assert run.status is TopicRunStatus.DONE and run.n_documents == 60
    assert f"Topic run {run.id}: Found {run.n_topics} topics in 60 documents" in result.output
    out = tmp_path / "topics.csv"
    result = runner.invoke(args=["engage", "export", "--study", world["study"].name,
                                 "--format", "topics-csv", "--run", str(run.id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    header = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == ("run_id,run,topic_id,number,name,generated_label,keywords,documents,"
                      "weighted_documents,noise,merged_into_topic_id,representative_units")
    out = tmp_path / "documents.csv"
    runner.invoke(args=["engage", "export", "--study", str(world["study"].id), "--format",
                        "assignments-csv", "--run", str(run.id), "-o", str(out)])
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("run_id,unit,source,stakeholder_group,session_kind,dated_at,"
                               "topic_id,topic,model_topic_number,probability")
    assert len(lines) == 61
    too_few = runner.invoke(args=["engage", "topics", "--study", str(world["study"].id),
                                  "--group", "Health plans"])
    assert too_few.exit_code != 0 and "a topic model needs at least 30" in too_few.output


# --- deleting a run, pruning embeddings -------------------------------------------------


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _stored_run(db, study, documents=(), status=TopicRunStatus.DONE) -> TopicRun:
    """A run as the worker leaves it, without fitting: one topic holding ``documents``,
    (segment, the text the run saw) pairs."""
    from coding.embeddings import text_hash

    run = TopicRun(study_id=study.id, name="Stored", status=status)
    db.session.add(run)
    db.session.flush()
    topic = Topic(run_id=run.id, number=0)
    db.session.add(topic)
    db.session.flush()
    for segment, text in documents:
        db.session.add(TopicAssignment(run_id=run.id, segment_id=segment.id, topic_id=topic.id,
                                       original_number=0, text_hash=text_hash(text),
                                       source="transcript"))
    db.session.commit()
    return run


def _embedding(text: str, model: str = "m") -> Embedding:
    from coding.embeddings import text_hash

    return Embedding(model=model, text_hash=text_hash(text), dimensions=1, vector=b"\0" * 4)


def test_deleting_a_run_takes_its_rows_and_unlinks_themes(db, world, client, login):
    from engage.themes.operations import add_evidence, create_theme, set_topics

    doomed, kept = _run(db, world), _run(db, world, CorpusFilters(source="transcripts"))
    owner = world["owner"]
    doomed_topics = [t for t in doomed.topics if not t.is_outliers][:2]
    kept_topic = next(t for t in kept.topics if not t.is_outliers)
    operations.rename_topic(owner, doomed_topics[0], "Getting rides")
    access = create_theme(owner, world["study"], "Access to care")
    set_topics(owner, access, [*doomed_topics, kept_topic])
    housing = create_theme(owner, world["study"], "Housing first")
    set_topics(owner, housing, [kept_topic])
    quote = add_evidence(owner, access, doomed_topics[0].representatives[0],
                         topic=doomed_topics[0])
    db.session.commit()
    ids = {"doomed": doomed.id, "doomed_topics": [t.id for t in doomed.topics],
           "kept_topic": kept_topic.id, "quote": quote.id}
    before = {"topics": _count(db, Topic, Topic.run_id == kept.id),
              "assignments": _count(db, TopicAssignment, TopicAssignment.run_id == kept.id),
              "embeddings": _count(db, Embedding)}
    doomed_assignments = _count(db, TopicAssignment, TopicAssignment.run_id == doomed.id)

    login(owner)
    base = f"/studies/{world['study'].id}/topics/runs/{doomed.id}"
    assert f'href="{base}/delete"' in client.get(base).get_data(as_text=True)
    page = client.get(f"{base}/delete")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"its {len(doomed.topics)} topics" in html
    assert f"its {doomed_assignments} documents" in html
    assert "charts, including those BERTopic drew" in html
    assert "Access to care</a> loses 2 topics: “Getting rides”" in html
    assert doomed_topics[1].label in html
    assert "Housing first" not in html  # it links only the other run's topic
    assert "1 theme quote was picked from its topics" in html

    response = client.post(f"{base}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/studies/{world['study'].id}/topics"
    db.session.expire_all()
    assert db.session.get(TopicRun, ids["doomed"]) is None
    assert _count(db, Topic, Topic.id.in_(ids["doomed_topics"])) == 0
    assert _count(db, TopicAssignment, TopicAssignment.run_id == ids["doomed"]) == 0
    # Themes stay; they lose the deleted run's topics only. The quote stays, unlinked.
    access, housing = db.session.get(Theme, access.id), db.session.get(Theme, housing.id)
    assert [t.id for t in access.topics] == [ids["kept_topic"]]
    assert [t.id for t in housing.topics] == [ids["kept_topic"]]
    assert db.session.get(ThemeEvidence, ids["quote"]).topic_id is None
    # The other run is untouched, and its (shared) embeddings are still used.
    assert {"topics": _count(db, Topic, Topic.run_id == kept.id),
            "assignments": _count(db, TopicAssignment, TopicAssignment.run_id == kept.id),
            "embeddings": _count(db, Embedding)} == before
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "topic_run.delete"))
    assert (event.actor_id, event.study_id, event.target_type, event.target_id) == (
        owner.id, world["study"].id, "topic_run", ids["doomed"])
    assert event.detail["topics"] == len(ids["doomed_topics"])
    assert event.detail["assignments"] == doomed_assignments
    assert event.detail["themes_unlinked"] == [
        {"id": access.id, "name": "Access to care",
         "topics": ["Getting rides", doomed_topics[1].label]}]
    assert event.detail["embeddings_pruned"] == 0
    index = client.get(f"/studies/{world['study'].id}/topics").get_data(as_text=True)
    assert "deleted" in index and f"runs/{ids['doomed']}\"" not in index


def test_a_running_run_cannot_be_deleted(db, world, client, login):
    run = operations.start_run(world["owner"], world["study"], CorpusFilters())
    db.session.commit()
    login(world["owner"])
    base = f"/studies/{world['study'].id}/topics/runs/{run.id}"
    assert "/delete" not in client.get(base).get_data(as_text=True)
    page = client.get(f"{base}/delete").get_data(as_text=True)
    assert "still running, so it cannot be deleted" in page and "<form" not in page.split(
        "<main")[-1]
    response = client.post(f"{base}/delete", follow_redirects=True)
    assert response.request.path == base
    assert "This run is still running. Wait for it to finish, or cancel its job" in \
        response.get_data(as_text=True)
    assert db.session.get(TopicRun, run.id) is not None
    assert _count(db, AuditEvent, AuditEvent.action == "topic_run.delete") == 0
    # A run whose job ended without it noticing (a worker lost) is not running any more.
    db.session.get(Job, run.job_id).status = JobStatus.CANCELLED
    db.session.commit()
    assert client.post(f"{base}/delete").status_code == 302
    assert db.session.get(TopicRun, run.id) is None


@pytest.mark.parametrize(("who", "expected"), [
    ("coder", 403), ("study_coder_researcher", 403), ("outside_researcher", 404),
    ("admin", None),
])
def test_only_the_study_researchers_may_delete_a_run(db, world, make, client, login, who,
                                                     expected):
    run = _stored_run(db, world["study"])
    user = world["coder"] if who == "coder" else make.user(
        Role.ADMIN if who == "admin" else Role.RESEARCHER)
    if who == "study_coder_researcher":
        make.member(world["study"], user, StudyRole.CODER)
    login(user)
    url = f"/studies/{world['study'].id}/topics/runs/{run.id}/delete"
    if expected is None:  # admins act as researchers everywhere
        assert client.get(url).status_code == 200
        assert client.post(url).status_code == 302
        assert db.session.get(TopicRun, run.id) is None
        return
    assert client.get(url).status_code == expected
    assert client.post(url).status_code == expected
    assert db.session.get(TopicRun, run.id) is not None


def test_a_run_of_another_study_is_not_found(db, world, make, client, login):
    run = _stored_run(db, make.study())
    login(world["owner"])
    url = f"/studies/{world['study'].id}/topics/runs/{run.id}/delete"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert db.session.get(TopicRun, run.id) is not None


def test_deleting_a_run_prunes_the_embeddings_only_it_used(db, world, client, login):
    from coding.embeddings import text_hash

    segment = world["transcript"].segments[0]
    texts = ("Words the segment had before a coder corrected them.", segment.text)
    run = _stored_run(db, world["study"], [(segment, t) for t in texts],
                      status=TopicRunStatus.FAILED)
    db.session.add_all(_embedding(t) for t in texts)
    db.session.commit()
    login(world["owner"])
    client.post(f"/studies/{world['study'].id}/topics/runs/{run.id}/delete")
    assert list(db.session.scalars(select(Embedding.text_hash))) == [text_hash(segment.text)]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "topic_run.delete"))
    assert event.detail["embeddings_pruned"] == 1


def test_prune_embeddings_keeps_used_ones_and_removes_orphans(app, db, world, make):
    from coding.embeddings import text_hash
    from engage.consultations.moderation import public_text
    from engage.transcript_editor.operations import edit_segment

    transcript = make.transcript(world["study"], [
        "The first words, said once.", "The second words, said once.",
        "The third words, said once."])
    segment, edited, third = transcript.segments
    old_text = segment.text
    edit_segment(world["owner"], segment, text="A brand new sentence about dental care.",
                 speaker=segment.speaker)
    referenced_text = edited.text
    edit_segment(world["owner"], edited, text="Another corrected sentence.",
                 speaker=edited.speaker)
    # An earlier transcript, replaced by transcribing again: never a run's document again.
    replaced = make.transcript(world["study"], ["Words only an old transcript has."])
    replaced.is_current = False
    private = world["comments"][0]
    private.body = "Call me at 555-201-4477 about the ride to dialysis."
    # A run's document whose text has since changed: the run still references it.
    _stored_run(db, world["study"], [(edited, referenced_text)])
    texts = {"segment": segment.text, "other model": third.text,
             "comment": public_text(private), "referenced": referenced_text,
             "old segment": old_text, "replaced": replaced.segments[0].text,
             "private body": private.body, "gone": "never seen"}
    assert texts["comment"] != texts["private body"]  # the phone number is masked
    db.session.add_all(_embedding(text, "other-model" if name == "other model" else "m")
                       for name, text in texts.items())
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["engage", "topics", "prune-embeddings"])
    assert result.exit_code == 0, result.output
    assert "Removed 4 unused embedding(s)." in result.output
    db.session.expire_all()
    left = set(db.session.scalars(select(Embedding.text_hash)))
    assert left == {text_hash(texts[k]) for k in ("segment", "other model", "comment",
                                                  "referenced")}
    assert operations.prune_embeddings() == 0
