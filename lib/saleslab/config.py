"""Run parameters: a YAML file in ``parameters/``, validated before anything runs.

Relative paths in a parameter file are resolved against the *project folder*: the parent of
the ``parameters/`` folder that holds the file (or the file's own folder otherwise), so a
scheduled run gives the same result whatever its working directory.

Every problem is reported as one line naming the file, the key and what is allowed, e.g.::

    parameters/demo.yaml: key 'language': Input should be 'zh-CN' or 'en' (got 'fr')
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .ingest.clean import CleaningRules
from .ingest.store import Safeguards
from .errors import ParameterError, format_validation_error, read_yaml
from .params import COMMON_PARAMETERS, field_index, validate_thresholds

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = PROJECT_ROOT / "notebooks"
LANGUAGES = ("zh-CN", "en")
ENGINES = ("duckdb", "pyspark", "spark-connect")
DEFAULT_PALETTE = ["#1f4e79", "#e07b39", "#3a9d5d", "#c0392b", "#8e6fb5"]
_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def available_stages() -> list[str]:
    """Stage notebooks shipped in ``notebooks/``, in run order (their names start with NN_)."""
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


_CELL_LINE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<type>\w+)\s*=\s*(?P<default>[^#]*?)\s*(#\s*(?P<help>.*))?$")


def declared_parameters(stage: str) -> dict[str, dict]:
    """The parameters a stage notebook's ``parameters`` cell declares (``name: type = default  # help``),
    read from the notebook file: ``{name: {"type", "default", "help"}}``, common ones included."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS / f"{stage}.ipynb", as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    out = {}
    for line in (cell.source if cell is not None else "").splitlines():
        m = _CELL_LINE.match(line.strip())
        if m:
            out[m["name"]] = {"type": m["type"], "default": m["default"], "help": (m["help"] or "").strip()}
    return out


def stage_thresholds(stages=None) -> dict[str, dict]:
    """The analysis parameters (thresholds) of the stages, from the area models.

    Returns ``{name: {"area", "type", "default", "help", "stages": [...]}}`` for every parameter
    that a stage notebook declares (the facts layer's are declared by every stage); these are the
    keys allowed under ``thresholds:`` in a run parameter file.
    """
    from .params import describe_field

    index = field_index()
    out: dict[str, dict] = {}
    for stage in stages or available_stages():
        for name in declared_parameters(stage):
            if name in index:
                entry = out.setdefault(name, {**describe_field(name), "stages": []})
                entry["stages"].append(stage)
    if stages is None:
        for name in index:  # a model field no notebook declares yet is still allowed
            out.setdefault(name, {**describe_field(name), "stages": []})
    return out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DuckDBSettings(_Strict):
    memory_limit: str = "4GB"  # DuckDB's buffer manager limit (DuckDB itself may use somewhat more)
    threads: int = Field(2, ge=1, le=256)
    temp_directory: str = ".tmp/duckdb"  # spill folder; relative to the project folder
    max_temp_directory_size: str = "50GB"

    @field_validator("memory_limit", "max_temp_directory_size")
    @classmethod
    def _size(cls, v):
        if not _SIZE.match(v.strip()):
            raise ValueError("must be a size such as 512MB, 4GB or 2GiB")
        return v.strip()


class SparkSettings(_Strict):
    master: str = "local[2]"
    driver_memory: str = "2g"


class EncryptionSettings(_Strict):
    """Encryption at rest (see :mod:`saleslab.crypto`): the master key comes from outside the repository."""

    #: a key file (one base64 line, mode 0600; `saleslab keys new --params P` creates it); relative to the
    #: project folder. None: the environment (SALESLAB_KEY_FILE / SALESLAB_KEY), else no encryption
    key_file: Path | None = None


class NotifySettings(_Strict):
    """E-mail of the pack (``saleslab run --notify``, see :mod:`saleslab.notify`): the SMTP server and who
    gets the summary on success and the failing stage on failure. The password is never in the file:
    ``password_env`` names the environment variable that holds it."""

    smtp_host: str = Field(min_length=1)
    smtp_port: int = Field(587, ge=1, le=65535)
    #: starttls (port 587), ssl (SMTPS, port 465) or none (a local relay without encryption)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    recipients: list[str] = Field(default_factory=list)
    retries: int = Field(3, ge=0, le=20)  # further attempts after a failed one (temporary errors only)
    backoff_seconds: float = Field(30.0, ge=0, le=3600)  # wait before retry n: backoff_seconds * 2**(n-1)
    timeout_seconds: float = Field(30.0, gt=0, le=600)

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, v):
        bad = [a for a in v if not re.fullmatch(r"[^@\s]+@[^@\s]+", a)]
        if bad:
            raise ValueError(f"not an e-mail address: {', '.join(map(repr, bad))}")
        return v

    @model_validator(mode="after")
    def _login(self):
        if self.username and not self.password_env:
            raise ValueError("username is set but password_env is not: name the environment variable holding "
                             "the password (it is never written in the parameter file)")
        if self.username and self.security == "none" and self.smtp_host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError(f"security none with a username would send the password to {self.smtp_host} in "
                             f"clear: use starttls or ssl (none is for a relay on this machine)")
        return self


class DeliveryRecipient(_Strict):
    """One entry of ``delivery:``: the pack of ``user``'s own scope (a run as that user) goes to ``email``."""

    user: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")


class CompanySettings(_Strict):
    """Who the pack is for: the name, logo and colour on every page and in the PDF's header."""

    name: str = ""  # shown in the pack's top bar, title and the PDF's header and footer
    logo: Path | None = None  # a PNG/SVG/JPEG file, relative to the project folder (embedded: no request leaves the pack)
    colour: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")  # the pack's brand colour; None: the palette's first


class ActionsSettings(_Strict):
    """The action loop (stage 13_actions, :mod:`saleslab.actions`): where actions persist and the rules."""

    #: the actions database (SQLite); relative to the project folder. None: actions.sqlite in the
    #: reports folder, so that every run of one reports folder shares it
    database: Path | None = None
    #: the strategy rules (validated with the run file); relative to the project folder. None:
    #: parameters/strategy.yaml of the project folder, else the one SalesLab ships
    strategy: Path | None = None


class Period(_Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}; end must be on or after start")
        return self


class RunParams(_Strict):
    """Parameters of a run (see ``parameters/monthly.yaml`` for a commented template)."""

    name: str = Field("run", pattern=r"^[A-Za-z0-9_.-]+$")
    input_dir: Path
    warehouse_dir: Path
    sources_dir: Path = Path("parameters/sources")
    reports_dir: Path = Path("reports")
    language: Literal["zh-CN", "en"] = "zh-CN"
    period: Period
    as_of: dt.date | None = None
    engine: Literal["duckdb", "pyspark", "spark-connect"] = "duckdb"
    #: the Spark Connect server of engine spark-connect (sc://HOST:PORT; docs/spark.md)
    spark_remote: str | None = Field(None, pattern=r"^sc://[^\s/:]+(:\d+)?(/.*)?$")
    duckdb: DuckDBSettings = Field(default_factory=DuckDBSettings)
    spark: SparkSettings = Field(default_factory=SparkSettings)
    stages: list[str] | None = None
    ingest: bool = True  # run `saleslab ingest` before the stages
    cleaning: CleaningRules = Field(default_factory=CleaningRules)  # whole-warehouse cleaning rules
    safeguards: Safeguards = Field(default_factory=Safeguards)  # locks, versions, shrink and quarantine guards
    thresholds: dict[str, float | int | str | bool] = Field(default_factory=dict)
    #: an answer key to score the cleaning against (the demo's ``truth/``; real exports have none):
    #: given to the stages that declare ``truth_dir`` (00 data quality), resolved like the other paths
    truth_dir: Path | None = None
    encryption: EncryptionSettings = Field(default_factory=EncryptionSettings)  # the warehouse key
    actions: ActionsSettings = Field(default_factory=ActionsSettings)  # actions database and strategy rules
    #: access policy file (users, roles, scopes, audit trail; see saleslab.access); None: no
    #: governance (every row, nothing masked or audited: for tests and a local analyst only)
    access_policy: Path | None = None
    #: the user the run acts for and whose scope the whole pack shows; None: the policy's service user
    user: str | None = None
    palette: list[str] = Field(default_factory=lambda: list(DEFAULT_PALETTE), min_length=1, max_length=5)
    company: CompanySettings = Field(default_factory=CompanySettings)  # name, logo, colour of the pack
    #: write reports/<id>/pack.pdf (headless Chromium): true, false, or None = when Chromium is installed
    pdf: bool | None = None
    #: the time zone the pack's times are shown in (an IANA name, e.g. Asia/Shanghai); None: the machine's
    time_zone: str | None = None
    #: the SMTP server and the recipients of `saleslab run --notify` (None: no e-mail)
    notify: NotifySettings | None = None
    #: with --notify: each recipient gets the pack of their own scope (a run as their access-policy user)
    delivery: list[DeliveryRecipient] = Field(default_factory=list)
    #: the stakeholder pages of `saleslab serve`: identity mode, passwords, cookies, kernel culling
    #: (None: serve refuses to start; see docs/serve.md). A saleslab.serve.params.ServeSettings, found
    #: by name like the areas' models: the core does not import the pages
    serve: Any = None
    #: set by `saleslab run --stages` (not a key of the file): a partial run, which leaves reports/latest alone
    partial: bool = Field(False, exclude=True)
    project_dir: Path = Field(PROJECT_ROOT, exclude=True)

    @field_validator("serve", mode="before")
    @classmethod
    def _serve(cls, v):
        if v is None:
            return None
        model = importlib.import_module("saleslab.serve.params").ServeSettings
        if isinstance(v, model):
            return v
        if not isinstance(v, dict):
            raise ValueError("expected keys and values (identity, passwords, proxy_header, trusted_proxies, ...)")
        try:
            return model.model_validate(v)
        except ValidationError as e:
            msgs = []
            for err in e.errors():
                loc = ".".join(str(x) for x in err["loc"])
                if err["type"] == "extra_forbidden":
                    allowed = ", ".join(model.model_fields)
                    msgs.append(f"unknown key serve.{loc}; allowed keys: {allowed}")
                else:
                    msgs.append(f"{'serve.' + loc + ': ' if loc else ''}{err['msg'].removeprefix('Value error, ')}")
            raise ValueError("; ".join(msgs)) from None

    @field_validator("palette")
    @classmethod
    def _colours(cls, v):
        for c in v:
            if not re.fullmatch(r"#[0-9a-fA-F]{6}", c):
                raise ValueError(f"colour {c!r} is not a #rrggbb hex colour")
        return v

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v):
        if v is None:
            return v
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time zone {v[:60]!r} is not known: use an IANA name such as Asia/Shanghai "
                             f"or Europe/Berlin") from None
        return v

    @field_validator("stages")
    @classmethod
    def _stages(cls, v):
        if v is None:
            return v
        known = available_stages()
        unknown = [s for s in v if s not in known]
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(unknown)}; allowed: {', '.join(known)}")
        return sorted(set(v), key=known.index)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v):
        if v:
            try:
                validate_thresholds(v)  # the area models: names, types, allowed values
            except ParameterError as e:
                raise ValueError(str(e).replace("key '", "key 'thresholds.").replace("\n", "; ")) from None
        return v

    def area_params(self):
        """The validated parameter model of every area, from ``thresholds`` (defaults elsewhere)."""
        return validate_thresholds(self.thresholds)

    @model_validator(mode="after")
    def _remote(self):
        if self.engine == "spark-connect" and not self.spark_remote:
            raise ValueError("engine spark-connect needs spark_remote: sc://HOST:PORT (or --spark-remote)")
        return self

    @model_validator(mode="after")
    def _delivery(self):
        if self.delivery and self.notify is None:
            raise ValueError("delivery needs notify (the SMTP server that sends the packs)")
        if self.delivery and self.access_policy is None:
            raise ValueError("delivery needs access_policy (each recipient's pack is run as their user)")
        return self

    @model_validator(mode="after")
    def _dates(self):
        if self.as_of is None:
            self.as_of = self.period.end
        if self.as_of < self.period.start:
            raise ValueError(f"as_of {self.as_of} is before the period start {self.period.start}")
        return self

    # ---- resolved paths -----------------------------------------------------------------
    def path(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.project_dir / p).resolve()

    @property
    def input_path(self) -> Path:
        return self.path(self.input_dir)

    @property
    def warehouse_path(self) -> Path:
        return self.path(self.warehouse_dir)

    @property
    def sources_path(self) -> Path:
        return self.path(self.sources_dir)

    @property
    def reports_path(self) -> Path:
        return self.path(self.reports_dir)

    @property
    def stage_list(self) -> list[str]:
        return self.stages or available_stages()

    def duckdb_config(self) -> dict:
        d = self.duckdb
        return {"memory_limit": d.memory_limit, "threads": d.threads,
                "temp_directory": str(self.path(Path(d.temp_directory))),
                "max_temp_directory_size": d.max_temp_directory_size}

    def spark_config(self) -> dict:
        """Keyword arguments of :func:`saleslab.engine.connect` for the Spark engines."""
        return {"spark_master": self.spark.master, "spark_driver_memory": self.spark.driver_memory,
                "spark_remote": self.spark_remote}

    def notebook_parameters(self, run_dir: Path, stage: str | None = None) -> dict:
        """What the pipeline injects into a stage notebook (plain JSON types, absolute paths): the
        common parameters, plus the thresholds that ``stage`` declares."""
        if stage is not None and self.thresholds:
            declared = declared_parameters(stage)
            extra = {k: v for k, v in self.thresholds.items() if k in declared and k not in COMMON_PARAMETERS}
        else:
            extra = {}
        if stage is not None and self.truth_dir is not None and "truth_dir" in declared_parameters(stage):
            extra["truth_dir"] = str(self.path(self.truth_dir))
        if stage is not None and "actions_database" in declared_parameters(stage):
            extra |= {"actions_database": str(self.actions_database_path),
                      "actions_strategy_file": str(self.actions_strategy_path)}
        return extra | {
            "run_dir": str(run_dir),
            "warehouse": str(self.warehouse_path),
            "language": self.language,
            "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(),
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "spark_remote": self.spark_remote or "",
            "palette": ",".join(self.palette),
            "duckdb_memory_limit": self.duckdb.memory_limit,
            "duckdb_temp_directory": str(self.path(Path(self.duckdb.temp_directory))),
            "encryption_key_file": str(self.key_file_path) if self.key_file_path else "",
            "access_policy": str(self.policy_path) if self.policy_path else "",
            "user": self.user or "",
        }

    @property
    def actions_database_path(self) -> Path:
        """The actions database: ``actions.database``, else ``<reports>/actions.sqlite``."""
        return self.path(self.actions.database) if self.actions.database else self.reports_path / "actions.sqlite"

    @property
    def actions_strategy_path(self) -> Path:
        """The strategy rules: ``actions.strategy``, else the project folder's parameters/strategy.yaml,
        else the one SalesLab ships."""
        if self.actions.strategy is not None:
            return self.path(self.actions.strategy)
        own = self.project_dir / "parameters" / "strategy.yaml"
        return own if own.is_file() else PROJECT_ROOT / "parameters" / "strategy.yaml"

    @property
    def key_file_path(self) -> Path | None:
        """The warehouse key file (resolved), or None (then the environment decides, see :mod:`saleslab.crypto`)."""
        return self.path(self.encryption.key_file) if self.encryption.key_file else None

    def keyring(self):
        """The :class:`saleslab.crypto.KeyRing` of this run (key file, else the environment), or None."""
        from .crypto import keyring_from

        return keyring_from(self.key_file_path)

    @property
    def policy_path(self) -> Path | None:
        """The access policy file (resolved), or None when the run is ungoverned."""
        return self.path(self.access_policy) if self.access_policy else None


def _project_dir(path: Path) -> Path:
    path = path.resolve()
    return path.parent.parent if path.parent.name == "parameters" else path.parent


def load_params(path: str | Path, overrides: dict | None = None, check_input: bool = True) -> RunParams:
    """Load and validate a run parameter file; raise :class:`ParameterError` naming each problem."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameter file {path} does not exist")
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected keys and values at the top level")
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    for internal in ("project_dir", "partial"):
        if internal in data:
            raise ParameterError(f"{path}: unknown key {internal!r}")
    data["project_dir"] = _project_dir(path)
    data["partial"] = bool((overrides or {}).get("stages"))  # --stages: not the run file's pack
    try:
        params = RunParams.model_validate(data)
    except ValidationError as e:
        raise ParameterError(_with_allowed_keys(format_validation_error(path, e), e)) from None
    if check_input and not params.input_path.is_dir():
        raise ParameterError(
            f"{path}: key 'input_dir': folder {params.input_path} does not exist "
            f"(generate the demo exports with `saleslab demo-data --out DIR`, or point input_dir at your exports)")
    if not params.sources_path.is_dir():
        raise ParameterError(f"{path}: key 'sources_dir': folder {params.sources_path} does not exist")
    if params.policy_path:
        from .access import load_policy

        policy = load_policy(params.policy_path)  # validated with the run file (an unknown --user is refused, and audited, later)
        unknown = [r.user for r in params.delivery if r.user not in policy.users]
        if unknown:
            raise ParameterError(f"{path}: key 'delivery': user(s) {', '.join(map(repr, unknown))} not in the access "
                                 f"policy {params.policy_path}")
    if "13_actions" in params.stage_list:
        # the area's own model, found by name as the areas' parameter models are (saleslab.params):
        # the core does not depend on an area
        strategy = importlib.import_module("saleslab.actions.strategy")
        strategy.load_strategy(params.actions_strategy_path)  # the strategy rules, validated with the run file
    return params


def _with_allowed_keys(text: str, err: ValidationError) -> str:
    models = {(): RunParams, ("duckdb",): DuckDBSettings, ("spark",): SparkSettings, ("period",): Period,
              ("cleaning",): CleaningRules, ("safeguards",): Safeguards, ("encryption",): EncryptionSettings,
              ("notify",): NotifySettings, ("actions",): ActionsSettings, ("company",): CompanySettings}
    lines = text.splitlines()
    for i, e in enumerate(err.errors()):
        if e["type"] == "extra_forbidden" and i < len(lines):
            model = models.get(tuple(e["loc"][:-1]))
            if model:
                allowed = [k for k, f in model.model_fields.items() if not f.exclude]
                lines[i] += f"; allowed keys: {', '.join(allowed)}"
    return "\n".join(lines)


def dump_params(params: RunParams) -> dict:
    """Parameters as plain JSON types (for the manifest)."""
    return params.model_dump(mode="json")
