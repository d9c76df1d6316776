"""HTTP plumbing every Sonda service shares: app builder, problems, auth, health, settings."""

from sonda_service.app import build_app
from sonda_service.auth import OPEN_ACCESS, ApiKeys, Principal, principal_of, requester
from sonda_service.health import Check
from sonda_service.middleware import correlation_id_of
from sonda_service.problems import Problem, ProblemError, problem_response
from sonda_service.settings import ServiceSettings

__all__ = [
    "OPEN_ACCESS",
    "ApiKeys",
    "Check",
    "Principal",
    "Problem",
    "ProblemError",
    "ServiceSettings",
    "build_app",
    "correlation_id_of",
    "principal_of",
    "problem_response",
    "requester",
]
