from flask import Blueprint

bp = Blueprint("curate", __name__)

from kb.web.curate import routes, status  # noqa: E402,F401
