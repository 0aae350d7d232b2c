from flask import render_template
from flask_login import current_user, login_required

from engage.access import visible_studies
from engage.main import bp
from models import db


@bp.get("/")
@login_required
def index():
    studies = db.session.scalars(visible_studies(current_user)).all()
    return render_template("main/index.html", studies=studies)
