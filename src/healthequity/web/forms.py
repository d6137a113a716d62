"""What a form page works with: what was typed (or what is stored, before any typing) and
what is wrong with it, each error keyed by the id of the input it is about, so that the
error summary can link to the field and the page can show everything typed again."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (input id, message)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def error_for(self, name: str) -> str | None:
        return next((message for key, message in self.errors if key == name), None)
