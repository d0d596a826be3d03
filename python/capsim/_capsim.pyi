"""Type stub of the native module; capsim/__init__.py is the API."""

from os import PathLike

__version__: str

class NativeRun:
    @property
    def kind(self) -> str: ...
    @property
    def files(self) -> list[str]: ...
    def file(self, name: str) -> bytes: ...
    def write(self, dir: str | PathLike[str]) -> list[str]: ...
    @property
    def table(self) -> str: ...
    @property
    def breached(self) -> list[str]: ...
    @property
    def events(self) -> int: ...
    @property
    def wall_seconds(self) -> float: ...
    @property
    def threads(self) -> int: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def interrupted(self) -> str | None: ...

class NativeSweep:
    def file(self, name: str) -> bytes: ...
    @property
    def table(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def written(self) -> list[str]: ...
    @property
    def wall_seconds(self) -> float: ...
    @property
    def threads(self) -> int: ...

def run(
    scenario: str | None,
    scenario_json: str | None,
    sets: list[tuple[str, str, bool]],
    variant: str | None,
    seed: int | None,
    replications: int | None,
    interval: str | None,
    window: int | None,
    threads: int,
    force: bool,
) -> NativeRun: ...
def validate(
    scenario: str | None,
    scenario_json: str | None,
    sets: list[tuple[str, str, bool]],
    variant: str | None,
    seed: int | None,
    replications: int | None,
    interval: str | None,
    window: int | None,
    threads: int,
) -> str: ...
def sweep(
    scenario: str | None,
    scenario_json: str | None,
    params: list[str],
    sets: list[tuple[str, str, bool]],
    sample: str | None,
    variant: str | None,
    seed: int | None,
    replications: int | None,
    metric: str | None,
    threads: int,
    out: str | PathLike[str] | None,
    force: bool,
) -> NativeSweep: ...
def scenarios() -> list[tuple[str, str, list[tuple[str, str]]]]: ...
def show(name: str) -> str: ...
def seconds(text: str) -> float: ...
