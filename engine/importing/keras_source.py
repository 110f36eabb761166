"""Keras models as tutorials write them, imported by reading the source (nothing is run, and
TensorFlow is neither imported nor needed).

`import_keras_source(text)` finds the model (engine.importing.keras_model), maps each layer
with its arguments to the catalogue's layers (keras_layers; channels-last images become
channels-first ones, keras_building), checks the design on the shapes the snippet declares,
and guesses the training settings from `compile` and `fit` (keras_settings). Whatever cannot
be mapped is one DesignError listing every construct with its line; what is left out without
changing the network (initializers, regularizers, a final softmax the loss applies) is a note
in the result and in the design's description.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from engine.checking import check
from engine.design import DEFAULT_NETWORK, Design
from engine.errors import DesignError, ShapeError
from engine.importing.keras_arguments import Findings
from engine.importing.keras_building import FIRST, Builder, Tensor, keras_shape
from engine.importing.keras_layers import (
    MERGING,
    NOT_READ,
    Emit,
    layers_read,
    output_shape_note,
    read_layer,
)
from engine.importing.keras_model import (
    Broken,
    InputDecl,
    KerasModel,
    ModelFinder,
    Step,
    readable_shape,
)
from engine.importing.keras_settings import training_settings
from engine.layout import apply_layout

KERAS_MODULES = ("keras", "tensorflow", "tf_keras")
OPEN_SIZE = 32   # the size given to a dimension the snippet leaves open (None)


@dataclass
class KerasImport:
    """The design, the variable that holds the imported model, its line, and the notes."""

    design: Design
    model: str
    line: int
    notes: list[str]


def is_keras_source(text: str) -> bool:
    """Whether Python source imports keras or tensorflow (so it may define a Keras model)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                 [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(name.split(".")[0] in KERAS_MODULES for name in names):
            return True
    return False


def reads_as_keras(reference: str) -> bool:
    """Whether an import's PYFILE[:CLASS] names no class and the file is Keras source."""
    file, separator, name = reference.rpartition(":")
    if separator and file and name.isidentifier():
        return False
    path = Path(reference)
    return path.suffix == ".py" and path.is_file() and is_keras_source(read_source(reference))


def read_source(path: str) -> str:
    """A Python file's text, or a DesignError naming the file."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DesignError(f"{path}: cannot read it ({err})", file=path) from None


def import_keras_file(path: str, input_shapes: list[tuple[int, ...]] | None = None,
                      model: str | None = None) -> KerasImport:
    """`import_keras_source` on a file's text."""
    return import_keras_source(read_source(path), Path(path).name, input_shapes, model)


def import_keras_source(text: str, source_name: str = "the snippet",
                        input_shapes: list[tuple[int, ...]] | None = None,
                        model: str | None = None) -> KerasImport:
    """The design of the Keras model in `text`: the one named `model`, else the one compiled,
    else the last defined. `input_shapes` (Keras order, channels last, no batch) replace the
    shapes the snippet declares, one per input. Raises DesignError listing every problem."""
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise DesignError(f"{source_name}: line {err.lineno}: {err.msg}") from None
    finder = ModelFinder(text, tree)
    chosen, findings = _choose(finder, source_name, model)
    compile_call, fit_call = chosen.compile, chosen.fit
    if compile_call is None and fit_call is None:
        compile_call, fit_call = finder.unclaimed_training_calls()
    training = training_settings(compile_call, fit_call, findings)
    design, outputs, lines = _Translation(chosen, findings, input_shapes, source_name).run()
    design.set_training(**training)
    if training.get("task", "classification") == "classification":
        _leave_out_final_softmax(design, lines, findings)
    for tensor in outputs:
        note = output_shape_note(tensor)
        if note:
            findings.note(lines.get(tensor.node, chosen.line), note)
    if compile_call is None:
        findings.note(chosen.line, "the snippet does not compile the model: the training "
                      "settings are the defaults (classification with Adam)")
    report = check(design)
    if report.errors:
        raise DesignError(f"internal error: the design imported from {source_name} does not "
                          "check clean", [str(p) for p in report.errors])
    notes = findings.note_lines()
    design.description = _description(chosen, source_name, notes)
    apply_layout(design, DEFAULT_NETWORK)
    return KerasImport(design, chosen.variable, chosen.line, notes)


def _choose(finder: ModelFinder, source_name: str, wanted: str | None
            ) -> tuple[KerasModel, Findings]:
    models = finder.found()
    findings = Findings(problems=list(finder.problems))
    if not models:
        subclassed = "".join(f"; {name} (line {line}) subclasses Model, which is not read: "
                             "write it as Sequential([...]) or with Input(...) and Model(...)"
                             for name, line in finder.subclassed)
        raise DesignError(f"{source_name} defines no Keras model: no Sequential(...) or "
                          f"Model(inputs, outputs){subclassed}", findings.problems or None)
    if wanted is not None:
        named = [m for m in models if m.variable == wanted]
        if not named:
            raise DesignError(f"{source_name} defines no model named {wanted!r}; it defines "
                              f"{', '.join(m.variable for m in models)}")
        chosen = named[-1]
    else:
        compiled = [m for m in models if m.compile is not None]
        chosen = (compiled or models)[-1]
    others = [m.variable for m in models if m is not chosen]
    if others:
        findings.note(chosen.line, f"the snippet also defines {', '.join(others)}; this is "
                      f"{chosen.variable} (choose another with --model)")
    return chosen, findings


class _Translation:
    """One model's tensors added to a design, run twice when the first run finds free
    tensors that want channels first (see keras_building)."""

    def __init__(self, model: KerasModel, findings: Findings,
                 input_shapes: list[tuple[int, ...]] | None, source_name: str) -> None:
        self.model = model
        self.findings = findings
        self.source_name = source_name
        self.needed = _needed(model)
        self.emits: dict[int, Emit | None] = {
            i: read_layer(model.tensors[i].layer, findings) for i in self.needed
            if isinstance(model.tensors[i], Step)}
        self.shapes = self._input_shapes(input_shapes)

    def run(self) -> tuple[Design, list[Tensor], dict[str, int]]:
        self._refuse_if_problems()
        preferences: dict[int, str] = {}
        design, outputs, lines, builder = self._build(preferences)
        if FIRST in builder.wanted.values():
            design, outputs, lines, builder = self._build(builder.wanted)
        self._refuse_if_problems()
        for index in self.model.inputs:
            if builder.preferences.get(index) == FIRST:
                keras = self.shapes[index][0]
                self.findings.note(self.model.tensors[index].line, (
                    f"Keras orders images channels last: the Input {keras} is "
                    f"{_channels_first(keras)} here, channels first as PyTorch keeps them"))
        return design, outputs, lines

    def _build(self, preferences: dict[int, str]):
        design = Design(self.model.variable)
        builder = Builder(design, DEFAULT_NETWORK, preferences)
        made: dict[int, Tensor | None] = {}
        lines: dict[str, int] = {}
        for index in sorted(self.needed):
            before = set(design.nodes())
            made[index] = self._make(builder, index, made)
            lines.update({node: self._line(index) for node in set(design.nodes()) - before})
        outputs = [made[i] for i in self.model.outputs]
        for tensor in outputs:
            if tensor is not None:
                design.add("Output", tensor.node)
        return design, [t for t in outputs if t is not None], lines, builder

    def _make(self, builder: Builder, index: int, made: dict[int, Tensor | None]
              ) -> Tensor | None:
        tensor = self.model.tensors[index]
        builder.index = index
        if isinstance(tensor, Broken):
            return None
        if isinstance(tensor, InputDecl):
            shape, dtype = self.shapes[index]
            return builder.source(index, "Input", shape, dtype=dtype)
        sources = [made[i] for i in tensor.sources]
        if any(source is None for source in sources):
            return None
        builder.name = tensor.layer.kwargs.get("name")
        if not isinstance(builder.name, str):
            builder.name = None
        try:
            return self.emits[index](builder, sources)
        except ShapeError as err:
            fix = f" ({err.fix})" if err.fix else ""
            self.findings.problem(tensor.layer.line, f"{tensor.layer.text}: the input "
                                  f"{keras_shape(sources[0])[1:]} does not fit: {err}{fix}")
            return None

    def _input_shapes(self, given: list[tuple[int, ...]] | None
                      ) -> dict[int, tuple[tuple[int, ...], str]]:
        """Each Input's Keras shape (open sizes filled in) and dtype."""
        inputs = [i for i in sorted(self.needed) if isinstance(self.model.tensors[i], InputDecl)]
        if given is not None and len(given) != len(inputs):
            raise DesignError(f"{len(given)} input shape(s) given but the model has "
                              f"{len(inputs)} input(s)")
        shapes = {}
        for position, index in enumerate(inputs):
            declared: InputDecl = self.model.tensors[index]
            shape = given[position] if given is not None else declared.shape
            if index not in self.model.inputs:
                self.findings.problem(declared.line, f"{declared.text} feeds the model but is "
                                      "not among its inputs")
            if shape is None:
                self.findings.problem(declared.line, f"{declared.text}: the model declares no "
                                      "input shape (Keras takes it from the first batch); add "
                                      "input_shape=(...) to the first layer or give "
                                      "--input-shape")
                continue
            if not readable_shape(shape):
                self.findings.problem(declared.line, f"{declared.text}: the input shape "
                                      f"{getattr(shape, 'text', shape)!r} is computed when "
                                      "the code runs; write the sizes, or give --input-shape")
                continue
            if None in shape:
                self.findings.note(declared.line, f"the input leaves sizes open ({shape}): "
                                   f"the design uses {OPEN_SIZE}; change the Input to your "
                                   "data's shape")
            dtype = "long" if self._takes_ids(index, declared) else "float"
            shapes[index] = (tuple(OPEN_SIZE if s is None else s for s in shape), dtype)
        return shapes

    def _takes_ids(self, index: int, declared: InputDecl) -> bool:
        if isinstance(declared.dtype, str) and "int" in declared.dtype:
            return True
        return any(isinstance(t, Step) and index in t.sources and t.layer.name == "Embedding"
                   for t in self.model.tensors)

    def _line(self, index: int) -> int:
        tensor = self.model.tensors[index]
        return tensor.line if isinstance(tensor, InputDecl) else tensor.layer.line

    def _refuse_if_problems(self) -> None:
        for index in self.needed:
            tensor = self.model.tensors[index]
            if isinstance(tensor, Step) and (len(tensor.sources) > 1) != (
                    tensor.layer.name in MERGING):
                self.findings.problem(tensor.layer.line, f"{tensor.layer.text} is applied to "
                                      f"{len(tensor.sources)} tensor(s)")
        problems = sorted(dict.fromkeys(self.findings.problems), key=_line_number)
        if problems:
            self.findings.problems.clear()
            plural = "s" if len(problems) > 1 else ""
            listing = "\n  - ".join(problems)
            known = (f"\n{layers_read()}" if any(NOT_READ in p for p in problems) else "")
            raise DesignError(f"cannot import the Keras model {self.model.variable} from "
                              f"{self.source_name}: {len(problems)} problem{plural}:\n  - "
                              f"{listing}{known}", problems)


def _line_number(problem: str) -> int:
    """The N of a problem's "line N: ..." (problems are listed in source order)."""
    return int(problem.split(":")[0].removeprefix("line "))


def _needed(model: KerasModel) -> set[int]:
    """The tensors the model's outputs depend on (a functional snippet may define more)."""
    needed: set[int] = set()
    pending = list(model.outputs)
    while pending:
        index = pending.pop()
        if index in needed:
            continue
        needed.add(index)
        tensor = model.tensors[index]
        if isinstance(tensor, (Step, Broken)):
            pending.extend(tensor.sources)
    return needed


def _leave_out_final_softmax(design: Design, lines: dict[str, int], findings: Findings) -> None:
    """A classifier's last softmax goes: the cross-entropy loss applies it itself."""
    for node in design.nodes():
        if design.node(node).type != "Output":
            continue
        [edge] = design.inputs_of(node)
        softmax = edge.src
        if design.node(softmax).type != "Softmax" or len(design.outputs_of(softmax)) != 1:
            continue
        [incoming] = design.inputs_of(softmax)
        design.remove(softmax)
        design.connect(incoming.src, node)
        findings.note(lines.get(softmax, 0), "the final softmax is left out: the "
                      "cross-entropy loss applies it (apply softmax to read probabilities)")


def _channels_first(shape: tuple) -> tuple:
    return (shape[-1], *shape[:-1])


def _description(model: KerasModel, source_name: str, notes: list[str]) -> str:
    text = (f"Imported from the Keras model {model.variable} in {source_name} (line "
            f"{model.line}), read from the source without running it.")
    if notes:
        text += " Notes: " + "; ".join(notes) + "."
    return text


def summary(result: KerasImport) -> str:
    """What the command line prints after an import."""
    nodes = len(result.design.nodes())
    lines = [f"imported the Keras model {result.model} (line {result.line}): {nodes} nodes"]
    lines += [f"  note: {note}" for note in result.notes]
    return "\n".join(lines)
