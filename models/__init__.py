"""SQLAlchemy models, one module per main entity."""

from models.base import Base, db, utcnow
from models.codebook import Code
from models.consultation import Comment, CommentSource, Consultation
from models.job import Job, JobStatus
from models.participant import Participant
from models.study import StakeholderGroup, Study, StudyMember, StudyRole
from models.user import Role, User

__all__ = [
    "Base", "db", "utcnow", "Code", "Comment", "CommentSource", "Consultation", "Job",
    "JobStatus", "Participant", "StakeholderGroup", "Study", "StudyMember", "StudyRole",
    "Role", "User",
]
