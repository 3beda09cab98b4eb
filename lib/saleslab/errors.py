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


class InvalidArgument(SalesLabError, ValueError):
    """A function was called with a value it does not accept (names the argument and what is allowed).
    A ValueError too, so that parameter models validating through the same function report it
    against the key."""


class MissingSource(SalesLabError):
    """A table or an earlier stage's result the analysis needs is not there (names it and how to make it).

    ``tables``: the warehouse tables that are empty; ``needed_for``: what needs them.
    """

    def __init__(self, message: str, tables: tuple[str, ...] = (), needed_for: str = ""):
        self.tables, self.needed_for = tuple(tables), needed_for
        super().__init__(message)


class InsufficientData(SalesLabError):
    """The data are too few for the analysis asked (names what is missing and how much is needed)."""

    def __init__(self, message: str, needed_for: str = ""):
        self.needed_for = needed_for
        super().__init__(message)


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


class LockBusy(SalesLabError):
    """Another ingest or run holds the warehouse or reports folder (names the holder)."""

    exit_code = 4


class DiskFull(SalesLabError):
    """The disk ran full; nothing half-written was left behind."""

    exit_code = 5


class OutOfMemory(SalesLabError):
    """The process ran out of memory; nothing half-written was left behind."""

    exit_code = 6


class GuardRefused(SalesLabError):
    """An ingest would publish a warehouse that looks wrong (much smaller, mostly quarantined)."""

    exit_code = 7


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
        shown = repr(got) if isinstance(got, (str, int, float, bool, type(None))) else f"a {type(got).__name__}"
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        got_txt = "" if typ == "missing" or isinstance(got, dict) else f" (got {shown})"
        lines.append(f"{path}: key {loc!r}: {msg}{got_txt}")
    return "\n".join(lines)


#: Limits on a parameter or mapping file: its size, and the nodes it expands to (aliases included)
YAML_MAX_BYTES = 1_000_000
YAML_MAX_NODES = 100_000
YAML_MAX_DEPTH = 64


def _expanded_nodes(node, memo: dict, depth: int = 0) -> int:
    """How many nodes ``node`` stands for once every alias is expanded (shared nodes counted each
    time they are used), capped: an alias bomb is refused before anything is built from it."""
    if id(node) in memo:
        return memo[id(node)]
    if depth > YAML_MAX_DEPTH:
        return YAML_MAX_NODES + 1
    n = 1
    value = node.value if isinstance(node.value, list) else []
    for item in value:
        for child in (item if isinstance(item, tuple) else (item,)):
            n += _expanded_nodes(child, memo, depth + 1)
            if n > YAML_MAX_NODES:
                break
        if n > YAML_MAX_NODES:
            break
    memo[id(node)] = n
    return n


def read_yaml(path: Path):
    """Parse a YAML file; dates stay strings so that pydantic validates (and names) bad ones.

    Safe for hostile files: safe loading (no object tags), at most :data:`YAML_MAX_BYTES`, and at
    most :data:`YAML_MAX_NODES` nodes after alias expansion (a "billion laughs" file is refused at
    once instead of exhausting memory).
    """
    import yaml

    # libyaml's parser when PyYAML has it (5-10x faster: a page kernel reads the run file and the
    # access policy on every page); the same safe constructor and resolvers either way
    class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        pass

    _Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ParameterError(f"{path}: cannot be read ({e.strerror})") from None
    if size > YAML_MAX_BYTES:
        raise ParameterError(f"{path}: {size:,} bytes; a parameter or mapping file may have at most "
                             f"{YAML_MAX_BYTES:,}")
    try:
        loader = _Loader(path.read_text(encoding="utf-8"))
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if _expanded_nodes(node, {}) > YAML_MAX_NODES:
                raise ParameterError(f"{path}: expands to more than {YAML_MAX_NODES:,} values (through "
                                     f"aliases or nesting deeper than {YAML_MAX_DEPTH}); refused")
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        raise ParameterError(f"{path}: not valid YAML: {str(e)[:300]}") from None
    except UnicodeDecodeError:
        raise ParameterError(f"{path}: not UTF-8 text") from None
