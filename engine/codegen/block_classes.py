"""One exported class per block definition, written once for all the uses it serves.

Each use (each copy of a repeat) is traced (engine.codegen.tracing) into its constructor code
with holes: the values its layers and nested blocks are created with. Uses whose forward code
and hole layout agree share a class; where two uses would need different code (a forward line
that reads an argument, a repeat count that differs), the second gets its own class, named
after the definition with a number (BasicBlock2), and its docstring says why.

A hole is written as the expression its value came from (`planes * 4`) where every use agrees
on it, as a plain value where every use has the same one, and otherwise as a constructor
argument: a definition argument whose value it equals at every use, or a new argument named
after what torch calls it (`in_channels`: sizes of the incoming tensors that differ between
uses) or after the layer and parameter it sets (`fc_in_features`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.blocks.expressions import Expression, Name, Term
from engine.codegen.constructors import callee, literal
from engine.codegen.modules import ModuleTree
from engine.codegen.naming import CLASS_CODE_IMPORTS, Namespace
from engine.codegen.signatures import positional_name
from engine.codegen.tracing import Instance, plain, rebased, substituted, term_of
from engine.design import Design
from engine.layers.module_call import ModuleCall

_TYPES = {"int": "int", "float": "float", "bool": "bool", "choice": "str"}
_SHORTEST_RUN = 3  # identical copies written as one comprehension from this many on


@dataclass(frozen=True)
class Hole:
    """A value of the constructor code; `name` says what it sets, `owner` the module path,
    `default` (as source) the value a keyword argument may be left out at."""

    index: int
    name: str
    owner: str
    default: str | None = None


@dataclass(frozen=True)
class Code:
    """`callee(*args, **kwargs)`, with holes for values."""

    callee: str
    args: tuple[Code | Hole, ...] = ()
    kwargs: tuple[tuple[str, Code | Hole], ...] = ()


@dataclass(frozen=True)
class ClassParam:
    """A constructor argument: `source` is how a use's call finds its value (a definition
    argument, an Input's size, or a hole of the class's code)."""

    name: str
    annotation: str
    source: tuple[str, Any]
    default: str | None = None


@dataclass
class ClassPlan:
    """An exported class: its name, arguments, constructor code and forward code."""

    name: str
    scope: str
    instances: list[Instance]
    statements: dict[str, str] = field(default_factory=dict)
    params: list[ClassParam] = field(default_factory=list)
    note: str = ""

    @property
    def tree(self) -> ModuleTree:
        return self.instances[0].program.tree


class ClassPlanner:
    """Plans the classes of every definition the traced networks use, nested ones first."""

    def __init__(self, design: Design, module_scope: Namespace) -> None:
        self.design = design
        self.module_scope = module_scope
        self.classes: list[ClassPlan] = []
        self._class_of: dict[int, ClassPlan] = {}
        self._values_of: dict[int, list[Any]] = {}

    def plan_blocks(self, roots: list[Instance]) -> None:
        found: dict[str, list[Instance]] = {}
        for root in roots:
            _collect(root, found)
        for block in _innermost_first(self.design, found):
            groups: dict[tuple, list[tuple[Instance, list[Any]]]] = {}
            for instance in found[block]:
                statements, values = self._code(instance)
                key = (instance.program.source(), tuple(statements.items()))
                groups.setdefault(key, []).append((instance, values))
            for number, ((_, statements), members) in enumerate(groups.items()):
                plan = self._plan(block, dict(statements), members, number)
                self.classes.append(plan)

    def plan_network(self, root: Instance, name: str) -> ClassPlan:
        statements, values = self._code(root)
        plan = ClassPlan(name, root.scope, [root])
        plan.statements = _Resolution(self.design, plan, statements, [values]).texts()
        return plan

    def _plan(self, block: str, statements: dict[str, Code],
              members: list[tuple[Instance, list[Any]]], number: int) -> ClassPlan:
        name = self.module_scope.class_name(block)
        plan = ClassPlan(name, block, [instance for instance, _ in members])
        if number:
            first = next(c for c in self.classes if c.scope == block)
            plan.note = (f"{block} as {_paths(len(members))} need it: their code differs from "
                         f"{first.name}'s, so they get a class of their own.")
        resolution = _Resolution(self.design, plan, statements, [v for _, v in members])
        plan.statements = resolution.texts()
        plan.params = resolution.params
        for instance, values in members:
            self._class_of[id(instance)] = plan
            self._values_of[id(instance)] = values
        return plan

    # ------------------------------------------------------------------------ code with holes

    def _code(self, instance: Instance) -> tuple[dict[str, Code], list[Any]]:
        values: list[Any] = []
        statements = {path: self._module_code(instance, path, values)
                      for path in instance.program.modules}
        return statements, values

    def _module_code(self, instance: Instance, path: str, values: list[Any]) -> Code:
        if path in instance.layers:
            return self._layer_code(instance, path, values)
        copies = [self._use_code(copy, values) for copy in instance.uses[path]]
        return copies[0] if len(copies) == 1 else Code("nn.Sequential", tuple(copies))

    def _layer_code(self, instance: Instance, path: str, values: list[Any]) -> Code:
        return _call_code(instance.layers[path].call, path, values)

    def _use_code(self, copy: Instance, values: list[Any]) -> Code:
        if copy.inline:
            items = tuple((path, self._module_code(copy, path, values))
                          for path in copy.program.modules)
            if copy.program.sequence:
                return Code("nn.Sequential", tuple(code for _, code in items))
            return Code("nn.Sequential", (Code("OrderedDict", (), items),))
        plan = self._class_of[id(copy)]
        names = {**copy.arguments, **{f"{port}:{dim}": size for port, info
                                      in enumerate(copy.inputs)
                                      for dim, size in enumerate(info.shape)}}
        args, kwargs = [], []
        for param in plan.params:
            kind, key = param.source
            value = (copy.arguments[key] if kind == "argument" else names[key] if kind == "size"
                     else rebased(self._values_of[id(copy)][key], names))
            if param.default is None:
                args.append(_hole(values, value, param.name, ""))
            else:  # written even where it equals the default: a use says what it is made of
                kwargs.append((param.name, _hole(values, value, param.name, "")))
        return Code(plan.name, tuple(args), tuple(kwargs))


def _call_code(call: ModuleCall, path: str, values: list[Any]) -> Code:
    """A layer's constructor call with a hole for each value (a call among its arguments,
    as in `nn.Parameter(torch.zeros(...))`, is code with holes of its own)."""
    def part(value: Any, name: str, default: str | None = None) -> Code | Hole:
        if isinstance(value, ModuleCall):
            return _call_code(value, path, values)
        return _hole(values, value, name, path, default)

    args = tuple(part(value, positional_name(call.target, index))
                 for index, value in enumerate(call.args))
    merged = {**call.defaults, **call.kwargs}
    kwargs = tuple((key, part(value, key, literal(call.defaults[key])
                              if key in call.defaults else None))
                   for key, value in merged.items())
    return Code(callee(call), args, kwargs)


def _hole(values: list[Any], value: Any, name: str, owner: str,
          default: str | None = None) -> Hole:
    values.append(value)
    return Hole(len(values) - 1, name, owner, default)


def _collect(instance: Instance, found: dict[str, list[Instance]]) -> None:
    """Every instance below `instance` that is a class of its own, by definition (parents
    before children, in the order of the code)."""
    for copies in instance.uses.values():
        for copy in copies:
            if not copy.inline:
                found.setdefault(copy.scope, []).append(copy)
            _collect(copy, found)


def _innermost_first(design: Design, found: dict[str, list[Instance]]) -> list[str]:
    """The definitions in an order where each comes after every definition it uses."""
    order: list[str] = []

    def visit(block: str) -> None:
        if block in order:
            return
        graph = design.graph(block)
        for node in graph.nodes:
            if graph.nodes[node]["type"] == "Block":
                visit(graph.nodes[node]["params"]["block"])
        order.append(block)

    for block in found:
        visit(block)
    return [block for block in order if block in found]


def _paths(count: int) -> str:
    return "one of its uses" if count == 1 else f"{count} of its uses"


# ---------------------------------------------------------------------------- resolution

class _Resolution:
    """Decides, for one class, how each hole is written (see the module docstring)."""

    def __init__(self, design: Design, plan: ClassPlan, statements: dict[str, Code],
                 values: list[list[Any]]) -> None:
        self.plan = plan
        self.statements = statements
        self.values = values
        declared = design.block_arguments(plan.scope) if design.is_block(plan.scope) else ()
        self.declared = {a.name: a for a in declared}
        self.arguments = [{k: plain(v) for k, v in i.arguments.items()}
                          if design.is_block(plan.scope) else {} for i in plan.instances]
        taken = {"self", *CLASS_CODE_IMPORTS, *self._module_names()}
        self.names = Namespace(taken=taken)
        self.renamed = {a: self.names.name(a) for a in self.declared}
        self.used: set[str] = set()
        self.params: list[ClassParam] = []
        holes = _holes(statements)
        self.sizes = self._sizes(holes)
        self.text = {hole.index: self._hole_text(hole) for hole in holes}
        self._declared_params()
        self.params.sort(key=lambda param: param.default is not None)  # Python's own rule

    def _module_names(self) -> set[str]:
        return {c.callee.split(".")[0] for code in self.statements.values()
                for c in _calls(code)}

    def texts(self) -> dict[str, str]:
        return {path: _write(code, self.text) for path, code in self.statements.items()}

    # sizes of the incoming tensors -----------------------------------------------------

    def _sizes(self, holes: list[Hole]) -> dict[str, Term]:
        names = sorted({name for hole in holes for values in self.values
                        for name in _term_names(term_of(values[hole.index]))
                        if name in self.plan.instances[0].sizes})
        terms: dict[str, Term] = {}
        for name in names:
            sizes = [instance.sizes[name] for instance in self.plan.instances]
            same = len(set(sizes)) == 1
            argument = None if same else self._argument_equal_to(sizes)
            if argument is None:
                # a size every use shares is still an argument (with that default), as
                # torchvision's BasicBlock takes `inplanes`: the class fits other inputs too
                argument = self.names.name(self._size_name(name, holes))
                self.params.append(ClassParam(argument, "int", ("size", name),
                                              literal(sizes[0]) if same else None))
            terms[name] = Name(argument)
        return terms

    def _size_name(self, name: str, holes: list[Hole]) -> str:
        for hole in holes:
            if term_of(self.values[0][hole.index]) == Name(name):
                return hole.name
        return f"in_size{name.split(':')[1]}"

    # one hole ----------------------------------------------------------------------------

    def _hole_text(self, hole: Hole) -> str:
        texts = [self._spelled(values[hole.index]) for values in self.values]
        if len(set(texts)) == 1:
            return texts[0]
        found = [plain(values[hole.index]) for values in self.values]
        if all(type(f) is type(found[0]) and f == found[0] for f in found):
            return literal(found[0])
        argument = self._argument_equal_to(found)
        if argument is not None:
            return argument
        name = self.names.name(f"{hole.owner.split('.')[-1]}_{hole.name}".strip("_"))
        self.params.append(ClassParam(name, type(found[0]).__name__, ("hole", hole.index)))
        return name

    def _spelled(self, value: Any) -> str:
        if isinstance(value, (tuple, list)):
            items = [self._spelled(item) for item in value]
            if isinstance(value, list):
                return f"[{', '.join(items)}]"
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        term = term_of(value)
        if term is None:
            return literal(plain(value))
        term = substituted(term, {**self.sizes, **{a: Name(n) for a, n in self.renamed.items()}})
        read = _term_names(term)
        if not read:
            return literal(plain(value))
        self.used |= read
        return Expression(term).text

    def _argument_equal_to(self, found: list[Any]) -> str | None:
        """The definition argument whose value is `found` at every use (a value that differs
        between uses and follows one argument is that argument)."""
        for name in self.declared:
            values = [arguments[name] for arguments in self.arguments]
            if all(type(v) is type(f) and v == f for v, f in zip(values, found, strict=True)):
                self.used.add(self.renamed[name])
                return self.renamed[name]
        return None

    # the definition's own arguments ------------------------------------------------------

    def _declared_params(self) -> None:
        """The definition's arguments the code reads, in their order, typed; an argument keeps
        its default where some use takes it and every later one keeps its own too."""
        used = [a for a in self.declared.values() if self.renamed[a.name] in self.used]
        taken = [any(type(a[argument.name]) is type(argument.default)
                     and a[argument.name] == argument.default for a in self.arguments)
                 for argument in used]
        last_required = max((i for i, flag in enumerate(taken) if not flag), default=-1)
        keep = [i > last_required for i in range(len(used))]
        for argument, has_default in zip(used, keep, strict=True):
            self.params.append(ClassParam(
                self.renamed[argument.name], _TYPES[argument.kind], ("argument", argument.name),
                literal(argument.default) if has_default else None))


def _holes(statements: dict[str, Code]) -> list[Hole]:
    holes: list[Hole] = []

    def visit(part: Code | Hole) -> None:
        if isinstance(part, Hole):
            holes.append(part)
            return
        for item in (*part.args, *(value for _, value in part.kwargs)):
            visit(item)

    for code in statements.values():
        visit(code)
    return holes


def _calls(code: Code) -> list[Code]:
    found = [code]
    for item in (*code.args, *(value for _, value in code.kwargs)):
        if isinstance(item, Code):
            found += _calls(item)
    return found


def _term_names(term: Term | None) -> set[str]:
    return set() if term is None else set(Expression(term).names())


def _write(part: Code | Hole, text: dict[int, str]) -> str:
    if isinstance(part, Hole):
        return text[part.index]
    args = [_write(item, text) for item in part.args]
    if part.callee == "nn.Sequential" and len(args) >= _SHORTEST_RUN and len(set(args)) == 1:
        return f"nn.Sequential(*[{args[0]} for _ in range({len(args)})])"
    args += [f"{key}={_write(value, text)}" for key, value in part.kwargs
             if not (isinstance(value, Hole) and value.default == text[value.index])]
    return f"{part.callee}({', '.join(args)})"


def class_source(plan: ClassPlan, docstring: list[str], init: list[str]) -> str:
    """The class: docstring, constructor (arguments typed) and the shared forward code."""
    params = ", ".join(["self", *(f"{p.name}: {p.annotation}" + (
        f" = {p.default}" if p.default is not None else "") for p in plan.params)])
    lines = [f"class {plan.name}(nn.Module):", *docstring, *([""] if docstring else []),
             f"    def __init__({params}) -> None:",
             *(f"        {line}" for line in ["super().__init__()", *init]),
             "", plan.instances[0].program.source(depth=1).rstrip("\n")]
    return "\n".join(lines) + "\n"
