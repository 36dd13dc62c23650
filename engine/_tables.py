"""The relational model of the runtime (DESIGN.md section 4).

State lives in rows, never in one JSON blob per instance: an instance's position is its tokens,
its data is one row per case value, every step run is a row with its idempotency key, and a job
table drives all work. Definitions are stored immutably by content hash; submissions, instances and
tasks point at the exact definition row they started on.

Times are stored as UTC. SQLite has no time zones, so :class:`UTCDateTime` stores naive UTC and
always hands back aware datetimes, on both databases alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Constraint names are fixed so Alembic migrations can refer to them on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, but INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with the project's constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: Json}


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here, so
    a copy of the database cannot be used to sign in. ``csrf_token`` guards every form post."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie token
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiToken(Base):
    """A bearer token for an API client, acting as one user. Only the token's SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class LoginAttempt(Base):
    """One sign-in attempt, kept for rate limiting (by user name and by address) across processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username", "username", "at"),
        Index("ix_login_attempts_ip", "ip", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(120))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class Draft(Base):
    """A form being filled, saved on the server as the officer moves between pages.

    A draft is pinned to the form version it started on (``definition_id``): publishing a new
    version never changes a half-filled form under an officer's feet.
    """

    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_user", "user_id", "updated_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    form_name: Mapped[str] = mapped_column(String(120))
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(Json)
    page: Mapped[str | None] = mapped_column(String(120))
    acknowledged: Mapped[Any] = mapped_column(Json, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Definition(Base):
    """One immutable version of a form or workflow, identified by its content hash."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("kind", "department_id", "name", "content_hash"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # form | workflow
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    name: Mapped[str] = mapped_column(String(120))
    version_label: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    # What this version was checked against: for a workflow, the definition ids of its forms and
    # the department's hash, so a pinned version can be rebuilt exactly as it was loaded.
    dependencies: Mapped[Any] = mapped_column(Json, nullable=True)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """Answers to a form, pinned to the definition version they were validated against."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("department_id", "form_name", "client_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    form_name: Mapped[str] = mapped_column(String(120))
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    client_id: Mapped[str | None] = mapped_column(String(120))  # the client's idempotency key
    body_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical answers
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(Json)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Instance(Base):
    """One run of a workflow; its position is in `tokens` and its data in `case_values`."""

    __tablename__ = "instances"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"))
    state: Mapped[str] = mapped_column(String(16), default="running")  # running|completed|failed|cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()
    lock_version: Mapped[int] = mapped_column(Integer, default=0)


class CaseValue(Base):
    __tablename__ = "case_values"
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[Any] = mapped_column(Json, nullable=True)
    step_run_id: Mapped[int | None] = mapped_column(ForeignKey("step_runs.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Token(Base):
    """A position of an instance in its workflow graph (more than one inside parallel branches)."""

    __tablename__ = "tokens"
    __table_args__ = (Index("ix_tokens_instance_state", "instance_id", "state"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(120))
    branch: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default="active")  # active|waiting|done
    visit: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StepRun(Base):
    """One visit of one step; the idempotency key is the same for every attempt of the visit."""

    __tablename__ = "step_runs"
    __table_args__ = (Index("ix_step_runs_instance", "instance_id", "step"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"))
    step: Mapped[str] = mapped_column(String(120))
    visit: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|running|succeeded|failed
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    inputs: Mapped[Any] = mapped_column(Json, nullable=True)
    outputs: Mapped[Any] = mapped_column(Json, nullable=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class Job(Base):
    """A unit of work: advance an instance, run a step, fire a timer, check a task's due time."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "state", "queue", "due_at"),
        Index("ix_jobs_lease", "state", "lease_expires_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # advance|run_step|timer|task_due
    queue: Mapped[str] = mapped_column(String(64), default="default")
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    step_run_id: Mapped[int | None] = mapped_column(ForeignKey("step_runs.id"))
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id"))
    payload: Mapped[Any] = mapped_column(Json, nullable=True)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="ready")  # ready|leased|done|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    fencing_token: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class Task(Base):
    """A human task for a role in a department, with its own form."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_inbox", "department_id", "role", "state"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(120))
    step_run_id: Mapped[int | None] = mapped_column(ForeignKey("step_runs.id"))
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"))
    role: Mapped[str] = mapped_column(String(64))
    form_definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    title: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open|claimed|completed|cancelled
    claimed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[Any] = mapped_column(Json, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Incident(Base):
    """A step whose retries ran out; an operator can retry it."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    step_run_id: Mapped[int | None] = mapped_column(ForeignKey("step_runs.id"))
    step: Mapped[str] = mapped_column(String(120))
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolution: Mapped[str | None] = mapped_column(String(32))  # retried|cancelled


class InstanceEvent(Base):
    """The timeline of an instance (step started, completed, task created, ...), for people."""

    __tablename__ = "instance_events"
    __table_args__ = (Index("ix_instance_events_instance", "instance_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(120))
    detail: Mapped[Any] = mapped_column(Json, nullable=True)


class Attachment(Base):
    """Content-addressed bytes (behaviour comes with the evidence issue)."""

    __tablename__ = "attachments"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigId)
    content_type: Mapped[str] = mapped_column(String(120))
    filename: Mapped[str | None] = mapped_column(String(255))
    captured_at: Mapped[datetime | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"))


class AuditEvent(Base):
    """Append-only, hash-chained audit log (chaining comes with the evidence issue)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(32))
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(120))
    justification: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[Any] = mapped_column(Json, nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str | None] = mapped_column(String(64))
