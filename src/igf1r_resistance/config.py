"""Validate the workflow config against its JSON-Schema, with messages a user can act on.

jsonschema's own messages name a JSON path; users think in YAML keys, so every error is
rewritten as "config.yaml, <dotted key>: <what is wrong>". Defaults from the schema are
filled in, so every later step sees the complete config.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from .errors import ConfigError


def _extend_with_defaults(validator_class):
    from jsonschema import validators

    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


def _where(error) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "(top level)"


def _message(error) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown key(s) {', '.join(map(repr, extra))}{hint}"
    if error.validator == "propertyNames":
        return f"{error.instance!r} is not an allowed name ({error.message})"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required here")
    return error.message


def validate_config(config: dict, schema_path: str | Path, config_name: str = "config.yaml") -> dict:
    """Return a validated copy of `config` with schema defaults filled in.

    Raises ConfigError listing every problem, each with its dotted key.
    """
    from jsonschema import Draft7Validator

    with open(schema_path, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    config = copy.deepcopy(config)
    validator = _extend_with_defaults(Draft7Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"  {config_name}, {_where(e)}: {_message(e)}" for e in errors]
        raise ConfigError("invalid configuration:\n" + "\n".join(lines))
    problems = []
    scoring = config["scoring"]
    if scoring["primary"] not in scoring["methods"]:
        problems.append(
            f"  {config_name}, scoring.primary: {scoring['primary']!r} must be one of scoring.methods "
            f"({', '.join(scoring['methods'])})"
        )
    for path in config["gene_sets"]["gmt"]:
        if not Path(path).is_file():
            problems.append(f"  {config_name}, gene_sets.gmt: file {path!r} does not exist")
    if not Path(config["gene_sets"]["catalogue"]).is_file():
        problems.append(
            f"  {config_name}, gene_sets.catalogue: file {config['gene_sets']['catalogue']!r} does not exist"
        )
    ids = [h["id"] for h in config["hypotheses"]["extra"]]
    if len(ids) != len(set(ids)):
        problems.append(f"  {config_name}, hypotheses.extra: hypothesis ids must be unique")
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(problems))
    return config
