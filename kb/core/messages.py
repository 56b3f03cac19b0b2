"""Messages for people, in English, translated where they are shown.

A message is an English msgid with ``%(name)s`` placeholders, marked with ``N_`` so that
`make messages` collects it, and its values kept apart. The layers below the web raise
`DomainError`s (or subclasses) carrying both; the web layer shows them in the UI language
(`kb.web.errors`), while the JSON API and the CLI say them in English.
"""
from __future__ import annotations


def N_(text: str) -> str:
    """Marks ``text`` for translation; the web layer translates it when it shows it."""
    return text


class DomainError(ValueError):
    """Input a rule refuses: ``template`` (an N_-marked msgid), its ``values``, and the
    ``field`` at fault. ``str()`` of it is the English message."""

    def __init__(self, template: str, field: str | None = None, **values):
        self.template = template
        self.values = values
        self.field = field
        super().__init__(template % values if values else template)


class FieldMessage(str):
    """A message about one field of a form or record, in English (it is a str); its
    ``template`` (an N_-marked ``str.format`` msgid) and ``values`` let the web layer say it in
    the UI language (a value named ``label`` is an N_-marked word too)."""

    template: str
    values: dict

    def __new__(cls, template: str, values: dict) -> "FieldMessage":
        message = super().__new__(cls, template.format(**values))
        message.template, message.values = template, values
        return message
