"""Every job kind the worker runs. Each area's tasks module registers its kinds on import."""

from engage.admin import tasks as _admin_tasks  # noqa: F401
from engage.analysis import tasks as _analysis_tasks  # noqa: F401
from engage.consultations import tasks as _consultation_tasks  # noqa: F401
from engage.jobs.runner import TASKS
from engage.recordings import tasks as _recording_tasks  # noqa: F401
from engage.scheduling import tasks as _scheduling_tasks  # noqa: F401
from engage.topics import tasks as _topic_tasks  # noqa: F401

__all__ = ["TASKS"]
