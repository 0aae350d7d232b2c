from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

MIN_PASSWORD = 10


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in on this device")
    submit = SubmitField("Sign in")


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()])
    new = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD,
                                           message=f"Use at least {MIN_PASSWORD} characters.")],
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new", message="The two passwords differ.")],
    )
    submit = SubmitField("Change password")


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired()])
    submit = SubmitField("Continue")
