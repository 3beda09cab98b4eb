"""SalesLab's own exceptions: each carries what a user needs to fix the problem.

The CLI prints them without a traceback and exits non-zero.
"""

from __future__ import annotations

from pathlib import Path


class SalesLabError(Exception):
    """Base class: an error the user can act on."""

    exit_code = 1


class ParameterError(SalesLabError):
    """A parameter or mapping file is invalid (names the file, the key and what is allowed)."""

    exit_code = 2


class MissingSource(SalesLabError):
    """A table or an earlier stage's result the analysis needs is not there (names it and how to make it)."""


class InsufficientData(SalesLabError):
    """The data are too few for the analysis asked (names what is missing and how much is needed)."""


class UnknownCustomer(SalesLabError):
    """A customer id asked for is not in the warehouse."""


class SourceError(SalesLabError):
    """An input file cannot be read as its mapping says (names file, row, column, expectation)."""

    def __init__(self, file, message: str, line: int | None = None, column: str | None = None,
                 expected: str | None = None):
        self.file, self.line, self.column, self.expected = str(file), line, column, expected
        parts = [self.file]
        if line is not None:
            parts.append(f"line {line}")
        if column is not None:
            parts.append(f"column {column!r}")
        text = f"{', '.join(parts)}: {message}"
        if expected:
            text += f" (expected {expected})"
        self.message = message
        super().__init__(text)


class IngestError(SalesLabError):
    """Ingestion finished but some files were rejected or the row accounting does not balance."""


class StageFailed(SalesLabError):
    """A stage notebook failed; carries the stage, the failing cell's error and the notebook path."""

    exit_code = 3

    def __init__(self, stage: str, error: str, notebook: Path):
        self.stage, self.error, self.notebook = stage, error, Path(notebook)
        super().__init__(
            f"stage {stage} failed:\n{error}\npartially executed notebook: {self.notebook}"
        )


def format_validation_error(path, err) -> str:
    """One line per pydantic error, naming the key path and what is allowed."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        typ = e["type"]
        if typ == "extra_forbidden":
            parent = e["loc"][:-1]
            lines.append(f"{path}: unknown key {loc!r}" + (f" under {'.'.join(map(str, parent))!r}" if parent else ""))
            continue
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if loc == "thresholds" and (msg.startswith("key 'thresholds.") or msg.startswith("unknown threshold")):
            lines.append(f"{path}: {msg}")  # already names the key and what is allowed
            continue
        got = e.get("input")
        got_txt = "" if typ == "missing" or isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{path}: key {loc!r}: {msg}{got_txt}")
    return "\n".join(lines)


def read_yaml(path: Path):
    """Parse a YAML file; dates stay strings so that pydantic validates (and names) bad ones."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as e:
        raise ParameterError(f"{path}: not valid YAML: {e}") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{path}: not UTF-8 text") from None
