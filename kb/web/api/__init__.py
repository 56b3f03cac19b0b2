from flask import Blueprint

bp = Blueprint("api", __name__)

from kb.web.api import routes  # noqa: E402,F401
from kb.web.api import assessments  # noqa: E402,F401
