"""``flask --app wsgi engage send-reminders``: send due reminders now (cron or by hand)."""

from __future__ import annotations

import click

from engage.cli import engage_cli


@engage_cli.command("send-reminders")
def send_reminders_command() -> None:
    """Send the reminders due within REMINDER_HOURS; each is sent once."""
    from engage.scheduling.mail import deliver_left_over
    from engage.scheduling.messages import send_due_reminders

    sent = send_due_reminders()
    left_over = deliver_left_over()
    click.echo(f"Sent {sent} reminder(s)." + (f" Delivered {left_over} left-over message(s)."
                                               if left_over else ""))
