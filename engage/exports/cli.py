"""``engage topics`` and ``engage export``: topic runs and exports for scripts."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from engage.cli import engage_cli
from models import Study, TopicRun, User, db


def _study(value: str) -> Study:
    study = db.session.get(Study, int(value)) if value.isdigit() else db.session.scalar(
        select(Study).where(Study.name == value))
    if study is None:
        raise click.ClickException(f"No study {value!r} (give its id or exact name).")
    return study


def _actor(email: str | None) -> User | None:
    if not email:
        return None
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise click.ClickException(f"No account {email!r}.")
    return user


def _bar(desc: str):
    from tqdm import tqdm

    return tqdm(total=100, unit="%", desc=desc, file=sys.stderr,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}")


@engage_cli.group("topics", invoke_without_command=True)
@click.option("--study", "study_ref", help="Study id or exact name (required for a run).")
@click.option("--source", type=click.Choice(["all", "transcripts", "comments"]), default="all",
              show_default=True)
@click.option("--campaigns", type=click.Choice(["n", "one"]), default="n", show_default=True,
              help="Count a form-letter campaign as N voices or as one.")
@click.option("--group", "groups", multiple=True, help="Only this stakeholder group (repeat).")
@click.option("--consultation", "consultations", multiple=True, type=int,
              help="Only comments of this consultation id (repeat).")
@click.option("--min-topic-size", type=int, help="Instead of choosing it from the corpus size.")
@click.option("--nr-topics", type=int, help="Reduce to at most this many topics.")
@click.option("--name", default="", help="Name of the run.")
@click.option("--as", "email", help="Account to record as the run's author.")
@click.option("--background", is_flag=True, help="Queue it for the worker instead of "
              "running it here.")
@click.pass_context
def topics_command(ctx, study_ref, source, campaigns, groups, consultations, min_topic_size,
                   nr_topics, name, email, background) -> None:
    """Run a topic model over a study's transcripts and/or comments (or see the commands)."""
    if ctx.invoked_subcommand is not None:
        return
    if not study_ref:
        raise click.UsageError("Missing option '--study'.")
    from engage.topics.corpus import CorpusFilters
    from engage.topics.operations import TopicError, execute_run, fail_run, start_run

    study = _study(study_ref)
    filters = CorpusFilters(source=source, campaigns=campaigns, groups=list(groups),
                            consultation_ids=list(consultations))
    overrides = {"min_topic_size": min_topic_size, "nr_topics": nr_topics}
    actor = _actor(email)
    if background:
        try:
            run = start_run(actor, study, filters, name=name, overrides=overrides)
        except TopicError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
        click.echo(f"Queued topic run {run.id} (job {run.job_id}).")
        return
    from coding.topics import TopicModelError, choose_params
    from engage.topics.corpus import build_corpus
    from engage.topics.operations import OVERRIDABLE, default_name, embedding_model_name

    docs = build_corpus(study, filters)
    try:
        choose_params(len(docs))
    except TopicModelError as error:
        raise click.ClickException(str(error)) from error
    run = TopicRun(study_id=study.id, name=name or default_name(filters),
                   created_by_id=actor.id if actor else None,
                   filters={**filters.to_dict(), "overrides": {
                       k: v for k, v in overrides.items() if v and k in OVERRIDABLE}},
                   embedding_model=embedding_model_name(), n_documents=len(docs))
    db.session.add(run)
    db.session.commit()
    bar = _bar(f"Topic run {run.id}")

    def progress(percent, message=None):
        bar.update(max(0.0, percent - bar.n))
        if message:
            bar.set_postfix_str(message[:60])

    try:
        message = execute_run(run, progress)
    except TopicError as error:
        bar.close()
        fail_run(run.id, str(error))
        raise click.ClickException(str(error)) from error
    db.session.commit()
    bar.update(100 - bar.n)
    bar.close()
    click.echo(f"Topic run {run.id}: {message}")
    for topic in run.topics:
        click.echo(f"  {topic.number:>3} {topic.size:>5}  {topic.label}")


@topics_command.command("prune-embeddings")
def prune_embeddings_command() -> None:
    """Delete stored embeddings no current text and no topic run uses any more."""
    from engage.topics.operations import prune_embeddings

    removed = prune_embeddings()
    db.session.commit()
    click.echo(f"Removed {removed} unused embedding(s).")


@engage_cli.command("export")
@click.option("--study", "study_ref", required=True, help="Study id or exact name.")
@click.option("--format", "fmt", required=True,
              type=click.Choice(["docx", "md", "html", "csv", "qdpx", "qdc", "topics-csv",
                                 "assignments-csv"]))
@click.option("--run", "run_id", type=int, help="Topic run (topics-csv, assignments-csv).")
@click.option("--audio", is_flag=True, help="Include recordings in a .qdpx.")
@click.option("--as", "email", help="Account to record in the audit log.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write; default: the export's own name in this folder.")
def export_command(study_ref, fmt, run_id, audio, email, output) -> None:
    """Export themes, codings, topics or the whole study."""
    from engage.exports.operations import ExportError, export

    study = _study(study_ref)
    run = db.session.get(TopicRun, run_id) if run_id else None
    bar = _bar(f"Export {fmt}")
    bar.update(10)
    try:
        out = export(_actor(email), study, fmt, run=run, include_audio=audio)
    except ExportError as error:
        bar.close()
        raise click.ClickException(str(error)) from error
    bar.update(80)
    path = output or Path(out.filename)
    path.write_bytes(out.data)
    db.session.commit()
    bar.update(100 - bar.n)
    bar.close()
    click.echo(f"Wrote {path} ({len(out.data):,} bytes).")
