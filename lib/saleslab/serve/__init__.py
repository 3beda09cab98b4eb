"""The stakeholder pages (``saleslab serve``): Voila behind a login, each person seeing their own data.

Kept light: importing the package (the run file's ``serve:`` model is read by :mod:`saleslab.config`)
does not import Voila; the server lives in :mod:`saleslab.serve.app`.
"""
