from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SubmitField


class ImportProjectForm(FlaskForm):
    file = FileField("REFI-QDA project (.qdpx) from Engage, NVivo, ATLAS.ti, MAXQDA or QualCoder")
    submit = SubmitField("Import project")
