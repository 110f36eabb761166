"""A design as one standalone PyTorch file: a class per network, then the training program.

The classes hold the layers as attributes (nested in ModuleList/ModuleDict containers where node
names have dots) and the forward code `build_model` runs; the training program (data, loss,
optimizer, loop, command-line options, saving) comes from `engine.training.script`. The file is
parsed, then laid out by ruff (engine.codegen.layout).
"""

from __future__ import annotations

import ast
import re
import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.checking import check
from engine.codegen.block_classes import ClassPlan, ClassPlanner, class_source
from engine.codegen.constructors import Construction, call_source
from engine.codegen.layout import LINE_LENGTH, format_source
from engine.codegen.modules import ModuleTree, is_attribute
from engine.codegen.naming import CLASS_CODE_IMPORTS, Namespace
from engine.codegen.tracing import Layer, trace
from engine.design import Design
from engine.errors import DesignError, UntrainableDesign
from engine.training import excerpt
from engine.training.script import TrainingProgram, render_training_program


@dataclass(frozen=True)
class ExportedScript:
    """The file's text, the class written for each network, and files the script reads by
    default (to be written beside it)."""

    code: str
    classes: dict[str, str]
    assets: dict[str, str] = field(default_factory=dict)


def generate_code(design: Design) -> str:
    """The design as one runnable Python file (see `export_script`)."""
    return export_script(design).code


def export_script(design: Design) -> ExportedScript:
    """Write the file for a design; raises DesignError listing every error `check` finds."""
    report = check(design)
    if report.errors:
        listing = [f"{problem.scope}: {problem}" for problem in report.errors]
        raise DesignError("the design cannot be exported: " + "; ".join(listing), listing)
    module_scope = _module_scope()
    class_names = {network: module_scope.class_name(network) for network in design.networks}
    untrainable = None
    try:
        training = render_training_program(design, class_names)
    except UntrainableDesign as reason:
        training, untrainable = TrainingProgram([], ""), reason
    roots = {network: trace(design, network, report, report.uses, {}, ())
             for network in design.networks}
    planner = ClassPlanner(design, module_scope)
    planner.plan_blocks(list(roots.values()))
    plans = [*planner.classes, *(planner.plan_network(root, class_names[network])
                                 for network, root in roots.items())]
    imports = list(training.imports)
    classes, helpers = [], []
    for plan in plans:
        source, needed, definitions = _class(design, plan)
        classes.append(source)
        imports.extend(needed)
        helpers += [d for d in definitions if d not in helpers and d not in training.body]
    body = "\n\n\n".join(part.strip("\n") for part in
                         ["\n".join(imports), *helpers, *classes, training.body] if part)
    code = f"{_module_docstring(design, untrainable)}\n{body}\n"
    try:
        tree = ast.parse(code)
    except SyntaxError as err:  # a bug in the generator, never in the design
        raise DesignError(f"internal error: the generated code does not parse ({err})") from err
    shadowed = _bound_more_than_once(tree, [plan.name for plan in plans])
    if shadowed:  # the training code binds a name the module scope did not know of
        raise DesignError(f"internal error: the generated file binds {', '.join(shadowed)} "
                          "twice at module level")
    return ExportedScript(format_source(code), class_names, dict(training.assets))


def _module_scope() -> Namespace:
    """The file's module-level names: whatever the portable code defines or imports, and
    what the class code imports, so that a class name never shadows one of them."""
    return Namespace(taken={*CLASS_CODE_IMPORTS, *excerpt.import_lines(),
                            *excerpt.definitions()})


def _bound_more_than_once(tree: ast.Module, names: Iterable[str]) -> list[str]:
    """Those of `names` that more than one module-level statement of the file binds."""
    bound: list[str] = []
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            bound += [(alias.asname or alias.name).split(".")[0] for alias in statement.names]
        elif isinstance(statement, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            bound.append(statement.name)
        elif isinstance(statement, ast.Assign):
            bound += [n.id for t in statement.targets for n in ast.walk(t)
                      if isinstance(n, ast.Name)]
    return sorted(name for name in set(names) if bound.count(name) > 1)


# ---------------------------------------------------------------------------- one class

def _class(design: Design, plan: ClassPlan) -> tuple[str, list[str], list[str]]:
    """The class source, the import lines it needs and the portable functions it calls."""
    if design.is_block(plan.scope):  # said only when there is something to say, as people do
        docstring = _docstring(1, plan.note) if plan.note else []
    else:
        docstring = _docstring(1, f"The {_prose(plan.scope)} network of {_prose(design.name)}.")
    source = class_source(plan, docstring, _init_statements(plan.tree, plan.statements))
    constructions = [_construction(design, layer) for instance in plan.instances
                     for layer in instance.layers.values()]
    imports = {line for built in constructions for line in built.imports}
    used = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    imports.update(CLASS_CODE_IMPORTS[n] for n in used if n in CLASS_CODE_IMPORTS)
    definitions = [d for built in constructions for d in built.definitions]
    return source, sorted(imports), list(dict.fromkeys(definitions))


def _construction(design: Design, layer: Layer) -> Construction:
    try:
        return call_source(layer.plain_call)
    except DesignError as err:
        data = design.node(layer.node)
        raise DesignError(f"layer {data.name!r} ({data.type}): {err}") from None


def _init_statements(tree: ModuleTree, constructions: dict[str, str]) -> list[str]:
    """`self.conv1 = nn.Conv2d(...)` for each top-level module; containers are created, then
    filled (`self.layer1[0].conv1 = ...`), so every line names the module it creates."""
    statements = []
    for key, child in tree.items():
        value = _value(child, constructions)
        target = tree.expression(key)
        statements.append(f"{target} = {value}" if is_attribute(key)
                          else f'setattr(self, "{key}", {value})')
        if isinstance(child, ModuleTree):
            statements += _fill(child, target, constructions)
    return statements


def _value(child: ModuleTree | str, constructions: dict[str, str]) -> str:
    """A leaf's constructor; a list written out with its leaves; an empty dict to be filled."""
    if isinstance(child, str):
        return constructions[child]
    if not child.is_list:
        return "nn.ModuleDict()"
    items = [_value(item, constructions) for _, item in child.items()]
    if len(items) > 1 and set(items) == {"nn.ModuleDict()"}:
        return f"nn.ModuleList([nn.ModuleDict() for _ in range({len(items)})])"
    return f"nn.ModuleList([{', '.join(items)}])"


def _fill(tree: ModuleTree, owner: str, constructions: dict[str, str]) -> list[str]:
    statements = []
    for key, child in tree.items():
        target = tree.child_expression(owner, key)
        if not tree.is_list:
            statements.append(f"{target} = {_value(child, constructions)}")
        if isinstance(child, ModuleTree):
            statements += _fill(child, target, constructions)
    return statements


# ---------------------------------------------------------------------------- prose

def _module_docstring(design: Design, untrainable: UntrainableDesign | None) -> str:
    """What the file is; without a training part, why not (the design's training cannot
    feed it), so the reader knows to train the classes in a loop of their own."""
    lines = [f'"""{_prose(design.name)}: a neural network exported from NeuralCanvas.', ""]
    description = _prose(design.description, limit=2000)
    if description and description != "unnamed":
        lines += textwrap.wrap(description, LINE_LENGTH) + [""]
    usage = ("The classes are plain PyTorch modules. Run this file to train them (`--help` "
             "lists the options); it needs PyTorch, not NeuralCanvas." if untrainable is None
             else f"The classes are plain PyTorch modules; it needs PyTorch, not NeuralCanvas. "
             f"There is no training part: {_prose(str(untrainable), limit=300)}. Import the "
             "classes and train them in a loop of your own.")
    lines += textwrap.wrap(usage, LINE_LENGTH)
    return "\n".join(lines) + '\n"""\n'


def _docstring(depth: int, text: str) -> list[str]:
    indent = "    " * depth
    one = f'{indent}"""{text}"""'
    if len(one) <= LINE_LENGTH:
        return [one]
    wrapped = textwrap.wrap(text, LINE_LENGTH - len(indent))
    return [f'{indent}"""{wrapped[0]}', *(indent + line for line in wrapped[1:]), f'{indent}"""']


def _prose(text: str, limit: int = 60) -> str:
    """User text reduced to plain printable ASCII without quotes or backslashes, so it can
    stand inside a docstring; empty text becomes "unnamed"."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9 _.,;:!?()'/+-]+", " ", ascii_text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[:limit].rsplit(" ", 1)[0].rstrip(".,;: ") + "..."
    return cleaned or "unnamed"
