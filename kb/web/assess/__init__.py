from flask import Blueprint

bp = Blueprint("assess", __name__)

from kb.web.assess import routes  # noqa: E402,F401
