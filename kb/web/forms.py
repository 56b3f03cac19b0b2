"""Forms in the UI language: WTForms' own messages ("This field is required.") come from kb's
catalogue, since WTForms ships none in Latvian. Every form of kb derives from `Form`."""
from __future__ import annotations

from flask_babel import get_translations
from flask_wtf import FlaskForm

from kb.core.messages import N_



def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message with a plural form for translation (`make messages` collects it)."""
    return singular, plural


# The WTForms messages kb's forms can show, so that `make messages` collects them.
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Not a valid choice."),
    N_("Invalid input."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    Np_("'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field."),
    Np_("Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters."),
    Np_("Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long."),
)


class _Translations:
    """What WTForms asks for: its own message in the UI language, not yet formatted (WTForms
    puts the values in)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


TRANSLATIONS = _Translations()


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return TRANSLATIONS
