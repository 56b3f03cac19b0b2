from flask import Blueprint

bp = Blueprint("assess", __name__)

from kb.web.assess import quality_check, routes  # noqa: E402,F401
