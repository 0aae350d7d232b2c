"""Command line: ``flask --app wsgi engage ...`` or the ``engage`` console script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo

from engage import ROOT
from models import Role, db

engage_cli = AppGroup("engage", help="Engage administration commands.")


@engage_cli.command("create-user")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default="researcher",
              show_default=True)
@click.option("--password", help="Leave out to generate one.")
def create_user_command(email: str, name: str, role: str, password: str | None) -> None:
    """Create an account and print its password."""
    from engage.auth.operations import AccountError, create_user

    try:
        user, password = create_user(email, name, Role(role), password)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} with password: {password}")


@engage_cli.command("demo")
def demo_command() -> None:
    """Load the demo study into a new database, then print the demo accounts."""
    from engage.demo import load_demo

    result = load_demo()
    db.session.commit()
    accounts_file = Path(current_app.instance_path) / "demo-accounts.txt"
    if result.created:
        accounts_file.write_text("".join(f"{role:<11} {email:<26} {password}\n"
                                         for email, role, password in result.accounts))
        accounts_file.chmod(0o600)
        click.echo("Loaded the demo study.")
    if accounts_file.exists():
        click.echo(f"Demo accounts (also in {accounts_file}):")
        click.echo(accounts_file.read_text().rstrip())


@engage_cli.command("transcribe")
@click.argument("audio", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", help="Model name (tiny.en, base) or a CTranslate2 model directory.")
@click.option("--language", help="Spoken language code, e.g. en or es; detected if left out.")
@click.option("--translate", is_flag=True, help="Translate into English.")
@click.option("--format", "fmt", type=click.Choice(["txt", "vtt", "srt", "json"]),
              default="txt", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")
def transcribe_command(audio: Path, model: str | None, language: str | None, translate: bool,
                       fmt: str, output: Path | None) -> None:
    """Transcribe an audio or video file without the web app."""
    import json

    from tqdm import tqdm

    from engage.recordings.operations import choose_model
    from transcripts.formats import export_transcript
    from transcripts.probe import MediaError
    from transcripts.whisper import TranscriptionError, transcribe

    config = current_app.config
    bar = tqdm(total=100, unit="%", desc=audio.name, file=sys.stderr,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def on_progress(percent: float, segment) -> None:
        bar.update(max(0.0, percent - bar.n))

    try:
        result = transcribe(
            audio, model=model or choose_model(config, language, translate),
            cache_dir=Path(config["WHISPER_MODEL_DIR"]), language=language,
            task="translate" if translate else "transcribe", device=config["WHISPER_DEVICE"],
            vad=config["WHISPER_VAD"], batched=config["WHISPER_BATCHED"],
            beam_size=config["WHISPER_BEAM_SIZE"], on_progress=on_progress)
    except (TranscriptionError, MediaError) as error:
        raise click.ClickException(error.message) from error
    finally:
        bar.close()
    if fmt == "json":
        data = json.dumps(result.to_dict(), ensure_ascii=False, indent=1).encode()
    else:
        data = export_transcript(result.segments, fmt)
    if output:
        output.write_bytes(data)
        click.echo(f"Wrote {len(result.segments)} segments to {output}", err=True)
    else:
        click.echo(data.decode())


@engage_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write a consistent snapshot (database, uploads, instance config) while running."""
    from engage.backup import BackupError, backup

    try:
        summary = backup(path, **_storage(), revision=_revision())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up the database and {summary.files} files to {summary.path}")


@engage_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database and files with a backup. Stop the server and worker first."""
    from engage.backup import BackupError, restore

    if not yes:
        click.confirm("This replaces the current database and files. Continue?", abort=True)
    db.session.remove()
    db.engine.dispose()
    try:
        manifest = restore(path, **_storage())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored the backup made {manifest['created_at']}. Run `flask --app wsgi db "
               "upgrade` if this version of Engage is newer than the backup.")


def _storage() -> dict:
    config = current_app.config
    return {"database_url": config["SQLALCHEMY_DATABASE_URI"],
            "instance": Path(current_app.instance_path),
            "upload_folder": Path(config["UPLOAD_FOLDER"])}


def _revision() -> str | None:
    from sqlalchemy import text

    try:
        return db.session.scalar(text("select version_num from alembic_version"))
    except Exception:  # a database made by create_all (tests) has no revision table
        db.session.rollback()
        return None


@engage_cli.command("sweep-jobs")
def sweep_jobs_command() -> None:
    """Mark jobs whose worker disappeared as failed."""
    from engage.jobs.operations import sweep_stale_jobs

    click.echo(f"{sweep_stale_jobs()} stale job(s) marked failed.")


@engage_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--worker/--no-worker", default=True, help="Also start a Celery worker.")
def serve_command(host: str, port: int, worker: bool) -> None:
    """Serve the web app and run a background worker; Ctrl-C stops both."""
    import waitress

    worker_process = start_worker() if worker else None
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    click.echo(f"Engage is running at http://{host}:{port}/ (Ctrl-C stops it)")
    try:
        waitress.serve(current_app._get_current_object(), host=host, port=port, threads=8,
                       _quiet=True)
    except KeyboardInterrupt:
        pass
    finally:
        if worker_process:
            stop_worker(worker_process)
        click.echo("Engage stopped.")


def _stop_like_ctrl_c(signum, frame) -> None:
    raise KeyboardInterrupt


def start_worker(concurrency: int = 2) -> subprocess.Popen:
    # Its own session, so Ctrl-C reaches it once, from us, as a warm shutdown.
    return subprocess.Popen(  # noqa: S603 (our own interpreter and module, fixed arguments)
        [sys.executable, "-m", "celery", "-A", "wsgi.celery_app", "worker",
         "--loglevel", "INFO", "--concurrency", str(concurrency), "-n", "engage@%h",
         # Embedded beat: periodic tasks such as session reminders (engage/scheduling).
         "--beat", "--schedule", str(Path(current_app.instance_path) / "celerybeat-schedule")],
        cwd=ROOT, env=os.environ.copy(), start_new_session=True,
    )


def stop_worker(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    """The ``engage`` console script: the same commands without ``flask --app``."""
    from engage import create_app
    from engage.exports import cli as _exports_cli  # noqa: F401 (topics, export)

    engage_cli.main(obj=ScriptInfo(create_app=create_app))
