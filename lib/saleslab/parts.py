"""Parts of a stage that may lack their data (06, 07, 08): :func:`attempt` runs one and
keeps its value, or the :class:`~saleslab.errors.MissingSource` / :class:`~saleslab.errors.InsufficientData`
that stopped it, in a :class:`Part`. A part computed from a failed part fails with the same error
(so LTV/CAC says why the CLV could not be computed), and :meth:`Part.get` raises the error again
inside the ``st.section`` that shows the part: the page says there, once, what the part needs. The
stage's narrative reads the parts that could be computed (:func:`value_of` is None for the others).
"""

from __future__ import annotations

from .errors import InsufficientData, MissingSource, SalesLabError


class Part:
    """The outcome of a part of the analysis that may lack its data (see :func:`attempt`): its
    ``value``, or the error that stopped it (``error``). :meth:`get` returns the value or raises
    that error again."""

    __slots__ = ("value", "error")

    def __init__(self, value=None, error: SalesLabError | None = None):
        self.value, self.error = value, error

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def outcome(self):
        """The value, or the error that stopped the part (for a function that decides itself what a
        missing input means, where :func:`attempt` would fail the dependent part at once)."""
        return self.value if self.error is None else self.error

    def get(self):
        """The value; the error that stopped the part is raised again."""
        if self.error is not None:
            raise self.error
        return self.value

    def __repr__(self) -> str:
        return f"Part({type(self.value).__name__})" if self.ok else f"Part({type(self.error).__name__}: {self.error})"


def attempt(fn, *args, **kwargs) -> Part:
    """``fn(*args, **kwargs)`` as a :class:`Part`. Arguments that are parts are unwrapped first; a
    failed one fails this part with its error (``fn`` is not called). MissingSource and
    InsufficientData are kept in the part; any other error propagates at once."""
    for a in (*args, *kwargs.values()):
        if isinstance(a, Part) and not a.ok:
            return Part(error=a.error)
    args = tuple(value_of(a) for a in args)
    kwargs = {k: value_of(v) for k, v in kwargs.items()}
    try:
        return Part(fn(*args, **kwargs))
    except (MissingSource, InsufficientData) as e:
        return Part(error=e)


def value_of(x):
    """The value of a :class:`Part` (None when it failed); anything else as it is."""
    if isinstance(x, Part):
        return x.value if x.ok else None
    return x
