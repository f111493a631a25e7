# Only what mypy cannot learn without django-stubs: the choices enumerations. Django's
# ChoicesType metaclass turns `NAME = "value", _("Label")` into a str member with a label;
# every other name in django.db.models stays Any (see the module __getattr__ below).
import enum
from typing import Any, ClassVar

def __getattr__(name: str) -> Any: ...

# mypy warns about enums without members in a stub; these are bases, members come in subclasses.
class Choices(enum.Enum):  # type: ignore[misc]
    choices: ClassVar[list[tuple[Any, str]]]
    labels: ClassVar[list[str]]
    values: ClassVar[list[Any]]
    names: ClassVar[list[str]]
    @property
    def label(self) -> str: ...
    do_not_call_in_templates: ClassVar[bool]

class TextChoices(str, Choices):  # type: ignore[misc]
    _value_: str
    @property
    def value(self) -> str: ...

class IntegerChoices(int, Choices):  # type: ignore[misc]
    _value_: int
    @property
    def value(self) -> int: ...
