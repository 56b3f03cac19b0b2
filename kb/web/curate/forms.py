"""Curators' and the public's forms (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField,
                     StringField, TextAreaField, widgets)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from kb.curation.accounts import EMAIL
from kb.curation.schema import LIMITS, REASON_LIMIT
from kb.web import labels
from kb.web.forms import Form

try:  # WTForms >= 3.3 wants choice objects; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice as _SelectChoice
except ImportError:  # pragma: no cover
    _SelectChoice = None


def choice(value: str, label) -> object:
    return _SelectChoice(value, label) if _SelectChoice else (value, label)


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def sized(name: str, required: bool = False) -> list:
    """Required or optional, and at most as long as the practice schema allows field ``name``."""
    return [DataRequired() if required else Optional(), Length(max=LIMITS[name])]


class PracticeForm(Form):
    """A practice's fields (`kb.curation.schema`, which also checks them and says what is wrong);
    choices are filled in by the view (they come from the database)."""

    title = StringField(_l("Title (project or organisation name)"),
                        validators=sized("title", required=True))
    title_en = StringField(_l("Title in English"), validators=sized("title_en"))
    organisation = StringField(_l("Organisation"), validators=sized("organisation"))
    countries = CheckboxList(_l("Countries"), validators=[DataRequired()])
    city = StringField(_l("City"), validators=sized("city"))
    area = SelectField(_l("Key area"), validators=[DataRequired()])
    success_factor = SelectField(_l("Success factor"), validators=[Optional()], validate_choice=False)
    text = TextAreaField(_l("Description in Latvian"), validators=sized("text"))
    summary_en = TextAreaField(_l("Description in English"), validators=sized("summary_en"))
    needs = CheckboxList(_l("Needs"), validators=[Optional()], validate_choice=False)
    activities = CheckboxList(_l("Activities"), validators=[Optional()], validate_choice=False)
    # One address a line: the schema checks each, and how many.
    urls = TextAreaField(_l("Web addresses (one per line)"), validators=[Optional()])
    # The rest of the template: all optional (the schema checks years, numbers and codes).
    period_start = StringField(_l("Start year"), validators=[Optional()])
    period_end = StringField(_l("End year"), validators=[Optional()])
    ongoing = BooleanField(_l("It is still running"))
    target_groups = CheckboxList(_l("Target groups"), validators=[Optional()],
                                 validate_choice=False,
                                 choices=[choice(c, label) for c, label in
                                          labels.TARGET_GROUPS.items()])
    reach = StringField(_l("People reached"), validators=[Optional()])
    languages = StringField(_l("Languages"), validators=[Optional()])
    funding_source = StringField(_l("Funding source"), validators=sized("funding_source"))
    funding_band = SelectField(_l("Funding a year"), validators=sized("funding_band"),
                               validate_choice=False,
                               choices=[choice("", "—")] + [choice(c, label) for c, label in
                                                            labels.FUNDING_BANDS.items()])
    challenge = TextAreaField(labels.SECTIONS["challenge"], validators=sized("challenge"))
    how_it_works = TextAreaField(labels.SECTIONS["how_it_works"], validators=sized("how_it_works"))
    results = TextAreaField(labels.SECTIONS["results"], validators=sized("results"))
    evaluation = TextAreaField(labels.SECTIONS["evaluation"], validators=sized("evaluation"))
    transferability = TextAreaField(labels.SECTIONS["transferability"],
                                    validators=sized("transferability"))
    public_contact = StringField(_l("Contact for the practice (shown on its page)"),
                                 validators=sized("public_contact"))
    contact = StringField(_l("Contact"), validators=sized("contact"))
    source_note = StringField(_l("Source"), validators=sized("source_note"))


class SuggestForm(PracticeForm):
    """The public suggestion form: contact required, and a field only bots fill in."""

    contact = StringField(_l("Your email (so a curator can ask you questions)"),
                          validators=[*sized("contact", required=True),
                                      Regexp(EMAIL, message=_l("Enter an email address."))])
    website = StringField("Website", validators=[Optional()])  # honeypot, hidden by CSS


class ReviewForm(Form):
    action = SelectField(_l("Decision"), choices=[
        choice("publish", _l("Publish")), choice("request_changes", _l("Request changes")),
        choice("reject", _l("Reject")), choice("unpublish", _l("Unpublish"))])
    reason = TextAreaField(_l("Reason (required to reject or request changes)"),
                           validators=[Optional(), Length(max=REASON_LIMIT)])
