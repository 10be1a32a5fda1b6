"""Pydantic models of the division catalog (`backend/catalog.yml`)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, PrivateAttr, StringConstraints, model_validator

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CatalogModel(BaseModel):
    """Base of the catalog models: unknown keys are typos, so they are refused."""

    model_config = ConfigDict(extra="forbid")


class TimeLimits(CatalogModel):
    """Time limits in working days."""

    acknowledge: PositiveInt = 5
    respond_stage_1: PositiveInt = 10
    respond_stage_2: PositiveInt = 20


class AttributeDatatype(str, Enum):
    """Open311 attribute datatypes."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


class AttributeValue(CatalogModel):
    """One choice of a list attribute."""

    key: Code
    name: Text


class Attribute(CatalogModel):
    """An Open311 service attribute: an extra question asked for this kind of request."""

    code: Code
    datatype: AttributeDatatype
    required: bool = False
    variable: bool = True
    order: PositiveInt | None = None
    description: Text = Field(description="The question asked, in plain words.")
    datatype_description: Text | None = None
    values: list[AttributeValue] = []

    @model_validator(mode="after")
    def _values_match_datatype(self) -> Attribute:
        is_list = self.datatype in (AttributeDatatype.SINGLEVALUELIST, AttributeDatatype.MULTIVALUELIST)
        if is_list and not self.values:
            raise ValueError(f"a {self.datatype.value} attribute needs values")
        if not is_list and self.values:
            raise ValueError(f"a {self.datatype.value} attribute takes no values")
        return self


class Service(CatalogModel):
    """An Open311 service category offered by a division."""

    service_code: Code
    service_name: Text
    description: Text
    keywords: list[Text] = []
    group: Text
    attributes: list[Attribute] = []


class Division(CatalogModel):
    """A City division that takes cases."""

    code: Code
    name: Text
    owner: Text | None = Field(default=None, description="Who answers for the division's queue.")
    triage: bool = Field(default=False, description="Takes the reports no service or team was found for.")
    time_limits: TimeLimits = TimeLimits()
    services: list[Service] = []


class Catalog(CatalogModel):
    """The whole catalog: default time limits and the divisions."""

    time_limits: TimeLimits = TimeLimits()
    divisions: list[Division] = Field(min_length=1)

    _divisions: dict[str, Division] = PrivateAttr(default_factory=dict)
    _services: dict[str, tuple[Service, Division]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _apply_default_time_limits(self) -> Catalog:
        """Fill each division's unset time limits from the catalog-wide ones."""
        for division in self.divisions:
            override = division.time_limits.model_dump(exclude_unset=True)
            division.time_limits = self.time_limits.model_copy(update=override)
        return self

    def model_post_init(self, context: object, /) -> None:
        """Index divisions by code and name, and services by code (case-insensitive)."""
        for division in self.divisions:
            self._divisions[division.code.casefold()] = division
            self._divisions[division.name.casefold()] = division
            for service in division.services:
                self._services[service.service_code.casefold()] = (service, division)

    def find_division(self, code_or_name: str) -> Division | None:
        """Return the division with this code or name (any case), or None."""
        return self._divisions.get(code_or_name.strip().casefold())

    def find_service(self, service_code: str) -> tuple[Service, Division] | None:
        """Return the service with this code (any case) and its division, or None."""
        return self._services.get(service_code.strip().casefold())
