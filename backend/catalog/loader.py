"""Load and validate the division catalog, reporting mistakes with the file name and line number."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from backend.catalog.schemas import Catalog

logger = logging.getLogger(__name__)

Loc = Sequence[int | str]


class CatalogError(ValueError):
    """The catalog file is missing, is not valid YAML or does not describe a valid catalog."""


class _StrictSafeLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key repeated in one mapping (PyYAML would silently keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: the base class reports it with its line
                continue
            if repeated:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_catalog(path: str | Path) -> Catalog:
    """Return the catalog in the YAML file at `path`, or raise `CatalogError` naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read the division catalog: {exc}") from exc
    loader = _StrictSafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise CatalogError(_describe_yaml_error(path, exc)) from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if root is None:
        raise CatalogError(f"{path}, line 1: the catalog is empty")
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(path, root, error["loc"], error["msg"]) for error in exc.errors()]
        raise CatalogError("invalid division catalog:\n" + "\n".join(problems)) from None
    problems = [_describe(path, root, loc, msg) for loc, msg in _duplicates(catalog)]
    if problems:
        raise CatalogError("invalid division catalog:\n" + "\n".join(problems))
    logger.info("Loaded %d divisions from %s", len(catalog.divisions), path)
    return catalog


def _describe_yaml_error(path: Path, exc: yaml.MarkedYAMLError) -> str:
    """Return a YAML syntax error as ``<file>, line <n>: ...``, with the line where the construct began."""
    mark = exc.problem_mark or exc.context_mark
    message = f"{path}, line {mark.line + 1}: " if mark is not None else f"{path}: "
    message += f"invalid YAML: {exc.problem or exc}"
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        message += f" ({exc.context} started on line {exc.context_mark.line + 1})"
    return message


def _duplicates(catalog: Catalog) -> Iterable[tuple[Loc, str]]:
    """Yield the location and a message for each code or name used twice."""
    divisions: dict[str, str] = {}
    services: dict[str, str] = {}
    for d, division in enumerate(catalog.divisions):
        for field in ("code", "name"):
            value = getattr(division, field)
            if value.casefold() in divisions:
                yield ("divisions", d, field), f"{value!r} is already used by division {divisions[value.casefold()]!r}"
            divisions.setdefault(value.casefold(), division.code)
        for s, service in enumerate(division.services):
            code = service.service_code.casefold()
            if code in services:
                yield (
                    ("divisions", d, "services", s, "service_code"),
                    f"service code {service.service_code!r} is already used in division {services[code]!r}",
                )
            services.setdefault(code, division.code)
            attribute_codes: set[str] = set()
            for a, attribute in enumerate(service.attributes):
                if attribute.code in attribute_codes:
                    yield (
                        ("divisions", d, "services", s, "attributes", a, "code"),
                        f"attribute code {attribute.code!r} is used twice in service {service.service_code!r}",
                    )
                attribute_codes.add(attribute.code)


def _describe(path: Path, root: yaml.Node, loc: Loc, msg: str) -> str:
    """Return one problem as ``<file>, line <n>: <where>: <message>``."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    return f"{path}, line {_line_of(root, loc)}: {where or 'catalog'}: {msg}"


def _line_of(root: yaml.Node, loc: Loc) -> int:
    """Return the 1-based line of the deepest YAML node on the path `loc`."""
    node = root
    line = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    line = key_node.start_mark.line + 1
                    child = value_node
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
