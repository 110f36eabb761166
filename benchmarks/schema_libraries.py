"""Which way to declare fields: pydantic v2, msgspec, attrs+cattrs, or engine.fields.Param?

Prints, side by side, the median time to import each (a fresh interpreter each time), the
median time to validate and build a settings object (a nested section, a pattern, choices,
ranges and an exclusive minimum), and the message each gives for bad values. Run:
    python benchmarks/schema_libraries.py
A library that is not installed is reported as such.
"""

import statistics
import subprocess
import sys
import timeit
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

RUNS = 7
GOOD = {"task": "regression", "epochs": 20, "batch_size": 32, "device": "cuda:1",
        "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.5}}
BAD = {"lr = -1": {"optimizer": {"lr": -1}}, "epochs = 'ten'": {"epochs": "ten"},
       "device = 'gpu'": {"device": "gpu"}, "unknown key epochz": {"epochz": 5}}
DEVICE = r"auto|cpu|mps|cuda(:\d+)?"
IMPORTS = {"pydantic v2": "import pydantic", "msgspec": "import msgspec",
           "attrs+cattrs": "import attrs, cattrs"}
OUR_MODULES = ("engine.fields", "engine.training.settings")  # everything our schema costs


def import_seconds(library: str) -> float | None:
    """Median seconds a fresh interpreter takes to import the library (None: not installed).

    Ours are measured inside `import engine` (any engine module loads the package first) as
    the cumulative -X importtime of the two modules the schema is."""
    times = []
    for _ in range(RUNS):
        if library in IMPORTS:
            code = (f"import time; t = time.perf_counter(); {IMPORTS[library]}; "
                    "print(time.perf_counter() - t)")
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=False)
            if done.returncode:
                return None
            times.append(float(done.stdout))
        else:
            done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import engine"],
                                  capture_output=True, text=True, check=True)
            lines = [line.split("|") for line in done.stderr.splitlines()]
            times.append(sum(int(cumulative) for _, cumulative, name in lines[1:]
                             if name.strip() in OUR_MODULES) / 1e6)
    return statistics.median(times)


def engine_seconds() -> float:
    """Median seconds `import engine` takes: what start-up pays today, for scale."""
    code = "import time; t = time.perf_counter(); import engine; print(time.perf_counter() - t)"
    return statistics.median(float(subprocess.run([sys.executable, "-c", code], check=True,
                                                  capture_output=True, text=True).stdout)
                             for _ in range(RUNS))


def ours() -> tuple[Any, Any]:
    from engine.training.settings import _build, _section_problems, setting

    @dataclass(frozen=True)
    class Optimizer:
        name: str = setting("choice", "adam", "the update rule", choices=("sgd", "adam"))
        lr: float = setting("float", 0.001, "learning rate", above=0.0)
        momentum: float = setting("float", 0.9, "momentum", minimum=0.0, maximum=0.999)

    @dataclass(frozen=True)
    class Settings:
        task: str = setting("choice", "classification", "what is learnt",
                            choices=("classification", "regression"))
        epochs: int = setting("int", 10, "passes", minimum=1)
        batch_size: int = setting("int", 64, "samples per step", minimum=1)
        device: str = setting("text", "auto", "auto, cpu, cuda, cuda:N or mps", pattern=DEVICE)
        optimizer: Optimizer = field(default_factory=Optimizer)

    def validate(values: dict) -> Any:
        problems = _section_problems(Settings, values, "")
        if problems:
            raise ValueError("; ".join(f"training{path}: {message}" for path, message in problems))
        return _build(Settings, values)

    return validate, ValueError


def pydantic_model() -> tuple[Any, Any]:
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    class Optimizer(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        name: Literal["sgd", "adam"] = "adam"
        lr: float = Field(0.001, gt=0)
        momentum: float = Field(0.9, ge=0, le=0.999)

    class Settings(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
        task: Literal["classification", "regression"] = "classification"
        epochs: int = Field(10, ge=1)
        batch_size: int = Field(64, ge=1)
        device: str = Field("auto", pattern=f"^({DEVICE})$")
        optimizer: Optimizer = Optimizer()

    return Settings.model_validate, ValidationError


def msgspec_model() -> tuple[Any, Any]:
    import msgspec

    class Optimizer(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
        name: Literal["sgd", "adam"] = "adam"
        lr: Annotated[float, msgspec.Meta(gt=0)] = 0.001
        momentum: Annotated[float, msgspec.Meta(ge=0, le=0.999)] = 0.9

    class Settings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
        task: Literal["classification", "regression"] = "classification"
        epochs: Annotated[int, msgspec.Meta(ge=1)] = 10
        batch_size: Annotated[int, msgspec.Meta(ge=1)] = 64
        device: Annotated[str, msgspec.Meta(pattern=f"^({DEVICE})$")] = "auto"
        optimizer: Optimizer = Optimizer()

    return (lambda values: msgspec.convert(values, Settings)), msgspec.ValidationError


def cattrs_model() -> tuple[Any, Any]:
    import attrs
    import cattrs
    from attrs import validators as v

    @attrs.frozen
    class Optimizer:
        name: str = attrs.field(default="adam", validator=v.in_(("sgd", "adam")))
        lr: float = attrs.field(default=0.001, validator=v.gt(0))
        momentum: float = attrs.field(default=0.9, validator=[v.ge(0), v.le(0.999)])

    @attrs.frozen
    class Settings:
        task: str = attrs.field(default="classification",
                                validator=v.in_(("classification", "regression")))
        epochs: int = attrs.field(default=10, validator=[v.instance_of(int), v.ge(1)])
        batch_size: int = attrs.field(default=64, validator=[v.instance_of(int), v.ge(1)])
        device: str = attrs.field(default="auto", validator=v.matches_re(DEVICE))
        optimizer: Optimizer = attrs.field(factory=Optimizer)

    converter = cattrs.Converter(forbid_extra_keys=True)

    def validate(values: dict) -> Any:
        return converter.structure(values, Settings)

    return validate, Exception


def message(error: BaseException) -> str:
    try:
        from cattrs import transform_error
        if error.__class__.__name__ in ("ClassValidationError", "ForbiddenExtraKeysError"):
            return "; ".join(transform_error(error))
    except ImportError:
        pass
    return " ".join(str(error).split())


def main() -> None:
    makers = {"ours (engine.fields)": ours, "pydantic v2": pydantic_model,
              "msgspec": msgspec_model, "attrs+cattrs": cattrs_model}
    print(f"{'library':<22}{'import (median)':>18}{'validate (median)':>20}")
    messages = {}
    for name, make in makers.items():
        seconds = import_seconds(name)
        if seconds is None:
            print(f"{name:<22}{'not installed':>18}")
            continue
        validate, error = make()
        validate(GOOD)
        number = 2000
        per_call = statistics.median(timeit.repeat(lambda validate=validate: validate(GOOD), number=number,
                                                   repeat=RUNS)) / number
        print(f"{name:<22}{seconds * 1e3:>15.1f} ms{per_call * 1e6:>17.1f} µs")
        messages[name] = {}
        for case, values in BAD.items():
            try:
                validate(values)
                messages[name][case] = "(accepted)"
            except error as err:
                messages[name][case] = message(err)
    print(f"(for scale: import engine takes {engine_seconds() * 1e3:.0f} ms)")
    for case in BAD:
        print(f"\n{case}:")
        for name in messages:
            print(f"  {name:<22}{messages[name][case]}")


if __name__ == "__main__":
    main()
