"""SQLAlchemy models, one module per main entity."""

from models.audit import AuditEvent
from models.base import Base, db, utcnow
from models.codebook import Code
from models.consultation import (
    Campaign,
    Comment,
    CommentSource,
    CommentStatus,
    Consultation,
    IntakeRejection,
)
from models.job import Job, JobStatus
from models.participant import Participant
from models.recording import Recording
from models.study import StakeholderGroup, Study, StudyMember, StudyRole
from models.transcript import SegmentRevision, Transcript, TranscriptSegment
from models.user import Role, User

__all__ = [
    "AuditEvent", "Base", "db", "utcnow", "Campaign", "Code", "Comment", "CommentSource",
    "CommentStatus",
    "Consultation", "IntakeRejection", "Job", "JobStatus", "Participant", "Recording", "Role",
    "SegmentRevision", "StakeholderGroup", "Study", "StudyMember", "StudyRole", "Transcript",
    "TranscriptSegment", "User",
]
