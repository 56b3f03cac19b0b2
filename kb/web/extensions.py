"""Flask extensions, created here and bound to the app in `create_app`."""
from flask_babel import Babel

babel = Babel()
