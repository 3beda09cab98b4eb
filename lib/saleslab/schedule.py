"""Scheduled runs: a systemd timer + service pair (and the equivalent crontab line) for a run file.

``saleslab schedule --params P --cron "0 7 1 * *" [--out DIR]`` writes ``saleslab-<name>.timer`` and
``saleslab-<name>.service``; the service starts ``saleslab run --params <P, absolute>`` (with
``--notify`` when the run file has ``notify:``) in the project folder.

The cron expression is translated to systemd's ``OnCalendar=`` by :func:`cron_to_oncalendar`: the
usual five fields (numbers, ``*``, lists, ranges, steps, month and day names) and the ``@daily`` kind
of shortcut. What has no faithful translation is refused with one line: cron runs a job when *either*
the day of the month *or* the weekday matches if both are restricted, systemd only when both do;
``L``, ``W``, ``#``, ``?`` and ``@reboot`` are not cron's standard fields.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidArgument, ParameterError

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_SYSTEMD_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
#: (name, lowest, highest, names of the values from lowest on)
_FIELDS = [("minute", 0, 59, None), ("hour", 0, 23, None), ("day of month", 1, 31, None),
           ("month", 1, 12, _MONTHS), ("day of week", 0, 7, _DAYS + ["sun"])]
_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}


class CronError(ParameterError):
    """A cron expression that cannot be translated (one line: which field, what is allowed)."""


def _value(text: str, field: tuple, expr: str) -> int:
    name, lo, hi, names = field
    t = text.lower()
    if names and t in names:
        return lo + names.index(t)
    if not t.isdigit():
        raise CronError(f"cron {expr!r}: {name} {text!r} is not a number"
                        + (f" or a name ({', '.join(names[:12 if len(names) > 8 else 7])})" if names else ""))
    v = int(t)
    if not lo <= v <= hi:
        raise CronError(f"cron {expr!r}: {name} {v} is outside {lo}-{hi}")
    return v


def _field(text: str, field: tuple, expr: str) -> list[int] | None:
    """The values a cron field matches (sorted), or None for ``*`` (every value)."""
    name, lo, hi, _ = field
    if text == "*":
        return None
    for ch in "LW#?":
        if ch in text.upper() and not (field[3] and any(n in text.lower() for n in field[3])):
            raise CronError(f"cron {expr!r}: {name} {text!r} uses {ch!r}, which has no systemd OnCalendar "
                            f"equivalent; use numbers, *, lists (1,15), ranges (1-5) and steps (*/2)")
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"cron {expr!r}: {name} {text!r} has an empty list item")
        rng, _, step = part.partition("/")
        if step and not step.isdigit() or step == "0":
            raise CronError(f"cron {expr!r}: {name} step {step!r} must be a positive number")
        if rng == "*":
            a, b = lo if name != "day of week" else 0, hi if name != "day of week" else 6
        elif "-" in rng:
            x, _, y = rng.partition("-")
            a, b = _value(x, field, expr), _value(y, field, expr)
            if a > b:
                raise CronError(f"cron {expr!r}: {name} range {rng!r} runs backwards (write it as two ranges)")
        else:
            a = _value(rng, field, expr)
            b = hi if step else a  # "5/15": from 5 on, every 15
        values.update(range(a, b + 1, int(step) if step else 1))
    if name == "day of week":
        values = {v % 7 for v in values}  # 7 is Sunday too
        if values == set(range(7)):
            return None
    elif values == set(range(lo, hi + 1)):
        return None
    return sorted(values)


def _systemd(values: list[int] | None, width: int = 2) -> str:
    if values is None:
        return "*"
    # runs of 3+ consecutive values as a..b, the rest as a list
    out, i = [], 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        if j - i >= 2:
            out.append(f"{values[i]:0{width}d}..{values[j]:0{width}d}")
        else:
            out.extend(f"{v:0{width}d}" for v in values[i:j + 1])
        i = j + 1
    return ",".join(out)


def _step_form(text: str, lo: int) -> str | None:
    """``*/15`` as systemd's ``00/15`` (from lo, every 15), which reads better than the list."""
    if text.startswith("*/") and text[2:].isdigit() and int(text[2:]) > 0:
        return f"{lo:02d}/{int(text[2:])}"
    return None


def cron_to_oncalendar(expr: str) -> str:
    """Translate a five-field cron expression (or ``@daily`` ...) to systemd's ``OnCalendar=`` value.

    >>> cron_to_oncalendar("0 7 1 * *")
    '*-*-01 07:00:00'
    >>> cron_to_oncalendar("30 6 * * 1-5")
    'Mon..Fri *-*-* 06:30:00'
    >>> cron_to_oncalendar("*/15 * * * *")
    '*-*-* *:00/15:00'

    Raises :class:`CronError` (one line) for what has no faithful translation.
    """
    raw = " ".join(str(expr).split())
    if raw.startswith("@"):
        if raw.lower() not in _MACROS:
            raise CronError(f"cron {expr!r}: {raw} has no OnCalendar equivalent; allowed shortcuts: "
                            f"{', '.join(_MACROS)}")
        raw = _MACROS[raw.lower()]
    parts = raw.split(" ")
    if len(parts) != 5:
        raise CronError(f"cron {expr!r}: expected 5 fields (minute hour day-of-month month day-of-week), "
                        f"got {len(parts)}")
    minute, hour, dom, month, dow = (_field(p, f, expr) for p, f in zip(parts, _FIELDS))
    if dom is not None and dow is not None:
        raise CronError(f"cron {expr!r}: both day of month and day of week are restricted; cron runs when either "
                        f"matches, systemd only when both do — schedule two timers, or restrict only one")
    days = ""
    if dow is not None:
        # Monday first, as systemd writes weekdays; runs of 3+ days as Mon..Fri
        order = [(d - 1) % 7 for d in dow]
        names, i, ordered = [], 0, sorted(order)
        while i < len(ordered):
            j = i
            while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
                j += 1
            day = lambda k: _SYSTEMD_DAYS[(k + 1) % 7]  # noqa: E731
            names.append(f"{day(ordered[i])}..{day(ordered[j])}" if j - i >= 2
                         else ",".join(day(k) for k in ordered[i:j + 1]))
            i = j + 1
        days = ",".join(names) + " "
    mm = _step_form(parts[0], 0) or _systemd(minute)
    hh = _step_form(parts[1], 0) or _systemd(hour)
    d = _step_form(parts[2], 1) or _systemd(dom)
    mo = _step_form(parts[3], 1) or _systemd(month)
    return f"{days}*-{mo}-{d} {hh}:{mm}:00"


@dataclass
class Schedule:
    timer: Path
    service: Path
    on_calendar: str
    command: list[str]
    crontab: str
    install: str


def saleslab_command() -> list[str]:
    """How to start this installation's ``saleslab`` (the console script beside this Python)."""
    script = Path(sys.executable).parent / "saleslab"
    return [str(script)] if script.exists() else [sys.executable, "-m", "saleslab.cli"]


def write_schedule(params_file: str | Path, cron: str, out: str | Path | None = None) -> Schedule:
    """Write ``saleslab-<name>.timer`` and ``.service`` for the run file ``params_file`` into ``out``
    (default: ``<project>/.tmp/schedule``); return the paths, the command and the crontab line."""
    from .config import load_params

    params_file = Path(params_file).resolve()
    params = load_params(params_file, check_input=False)
    on_calendar = cron_to_oncalendar(cron)
    unit = f"saleslab-{params.name}"
    out = Path(out).resolve() if out else params.project_dir / ".tmp" / "schedule"
    out.mkdir(parents=True, exist_ok=True)
    for what, value in (("parameter file", params_file), ("project folder", params.project_dir), ("run name", params.name),
                        ("cron expression", cron), ("command", " ".join(saleslab_command()))):
        # a line break would add directives to the unit; systemd expands $ even inside quotes
        if any(ch in str(value) for ch in "\n\r$"):
            raise InvalidArgument(f"{what} {str(value)[:120]!r} holds a line break or '$': it cannot be written "
                                  f"into a systemd unit safely (rename or move it)")
    command = saleslab_command() + ["run", "--params", str(params_file)] + (["--notify"] if params.notify else [])
    exec_start = shlex.join(command)
    workdir = params.project_dir
    env_file = f"/etc/saleslab/{unit}.env"
    service = out / f"{unit}.service"
    timer = out / f"{unit}.timer"
    service.write_text(f"""# written by `saleslab schedule --params {params_file} --cron "{cron}"`
[Unit]
Description=SalesLab run {params.name.replace("%", "%%")} ({params_file.name.replace("%", "%%")})
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={str(workdir).replace("%", "%%")}
Environment=OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
# secrets (the SMTP password named by notify.password_env, SALESLAB_KEY_FILE ...), mode 0600; optional
EnvironmentFile=-{env_file}
ExecStart={exec_start.replace("%", "%%")}
TimeoutStartSec=6h
Nice=5
""", encoding="utf-8")
    timer.write_text(f"""# written by `saleslab schedule --params {params_file} --cron "{cron}"`
[Unit]
Description=Schedule of SalesLab run {params.name.replace("%", "%%")} (cron "{cron.replace("%", "%%")}")

[Timer]
OnCalendar={on_calendar}
Persistent=true
Unit={service.name}

[Install]
WantedBy=timers.target
""", encoding="utf-8")
    log = params.reports_path / f"{unit}.cron.log"
    # in a crontab line an unescaped % ends the command (the rest becomes its input)
    crontab = f"{' '.join(cron.split())} " + \
        f"cd {shlex.quote(str(workdir))} && {exec_start} >> {shlex.quote(str(log))} 2>&1".replace("%", "\\%")
    install = (f"sudo cp {shlex.quote(str(service))} {shlex.quote(str(timer))} /etc/systemd/system/ && "
               f"sudo systemctl daemon-reload && sudo systemctl enable --now {timer.name}\n"
               f"  (as a user: copy both to ~/.config/systemd/user/ and use `systemctl --user`; "
               f"check with `systemctl list-timers {timer.name}`; secrets go in {env_file}, mode 0600)")
    return Schedule(timer, service, on_calendar, command, crontab, install)


def read_unit(path: str | Path) -> dict[str, dict[str, str]]:
    """A systemd unit file as {section: {key: value}} (the last value of a repeated key wins)."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and current is not None:
            k, _, v = line.partition("=")
            current[k.strip()] = v.strip()
    return sections
