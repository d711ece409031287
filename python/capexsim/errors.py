"""Exceptions raised by capexsim."""


class ScenarioError(ValueError):
    """An invalid scenario: the message names the key path and what was expected.

    Attributes: ``file`` (the scenario file, or ``"<dict>"``), ``line`` and ``column``
    (0 when there is no single location), ``key`` (e.g. ``"build.lead_time_years"``) and
    ``message`` (what was expected).
    """

    def __init__(self, text, file="", line=0, column=0, key="", message=""):
        super().__init__(text)
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message or text
