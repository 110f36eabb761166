"""Headless commands: `neuralcanvas templates | new | check ...` (no display needed)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.checking import Report, check, describe
from engine.design import Design
from engine.errors import DesignError
from engine.fileformat import EXTENSION, load_design, save_design, write_atomically
from engine.layers.block_node import BLOCK_TYPE

# Commands added by other engine modules register here: name -> (configure parser, run).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                          Callable[[argparse.Namespace], int]]] = {}


def command(name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]):
    """Register a sub-command; `run(args)` returns the exit code."""
    def register(run: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = (help_text, configure, run)
        return run
    return register


def add_output_options(parser: argparse.ArgumentParser, help_text: str) -> None:
    """`-o FILE` and `--force` for a command that writes a file: `main` refuses to replace an
    existing file unless --force is given, the same way for every command."""
    parser.add_argument("-o", "--output", required=True, help=help_text)
    parser.add_argument("--force", action="store_true",
                        help="overwrite the file if it exists")


def _refuses_to_overwrite(args: argparse.Namespace) -> bool:
    """Say so (on stderr) when the command would replace an existing file without --force."""
    output = getattr(args, "output", None)
    if output is None or args.force or not os.path.lexists(output):
        return False
    print(f"error: {output} already exists; nothing was written (add --force to overwrite it)",
          file=sys.stderr)
    return True


def _no_options(parser: argparse.ArgumentParser) -> None:
    """This command takes no options."""


@command("templates", "list the starting designs, each with its card", _no_options)
def _templates(args: argparse.Namespace) -> int:
    import shutil
    import textwrap

    from templates import (
        BLANK,
        BLANK_SUMMARY,
        card_sections,
        load_template,
        picture_path,
        summary_line,
        template_names,
    )
    width = min(100, shutil.get_terminal_size((100, 24)).columns)
    print(f"{BLANK} — {BLANK_SUMMARY}")
    for name in template_names():
        design = load_template(name)
        print()
        print(f"{name} — {summary_line(design)}")
        for heading, text in card_sections(design):
            print(textwrap.fill(text, width, initial_indent=f"  {heading}: ",
                                subsequent_indent="    "))
        if picture_path(name).is_file():
            print(f"  Picture: {picture_path(name)}")
    print(f"\nStart one with: neuralcanvas new TEMPLATE -o FILE{EXTENSION}")
    return 0


def _configure_new(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("template", help="template name (see `neuralcanvas templates`)")
    add_output_options(parser, f"file to write ({EXTENSION})")


@command("new", "write a new design from a template", _configure_new)
def _new(args: argparse.Namespace) -> int:
    from templates import load_template
    design = load_template(args.template)
    save_design(design, args.output)
    print(f"wrote {args.output} from template {args.template!r}")
    return 0


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help=f"a design file ({EXTENSION})")


@command("check", "print shapes, parameter counts and problems of a design", _configure_check)
def _check(args: argparse.Namespace) -> int:
    design = load_design(args.file)
    report = check(design, Path(args.file).resolve().parent)
    print(format_report(design, report))
    return 1 if report.errors else 0


def _configure_reference(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="write the Markdown to this file (default: print)")
    parser.add_argument("--force", action="store_true", help="overwrite the file if it exists")


@command("reference", "print every layer and training setting with the values each accepts",
         _configure_reference)
def _reference(args: argparse.Namespace) -> int:
    from engine.reference import reference_text

    if args.output is None:
        print(reference_text(), end="")
    else:
        write_atomically(Path(args.output), reference_text())
        print(f"wrote {args.output}")
    return 0


def _scope_heading(design: Design, scope: str) -> str:
    if not design.is_block(scope):
        return f"network {scope!r}"
    defaults = ", ".join(f"{a.name}={a.default!r}" for a in design.block_arguments(scope))
    uses = len(design.uses_of(scope))
    return (f"block {scope!r} ({defaults or 'no arguments'}; used {uses} time"
            f"{'s' * (uses != 1)}), shown with its defaults")


def layer_label(layer_type: str, params: dict) -> str:
    """What a table calls a node's layer: its type, or for a block node the block it uses
    ("BasicBlock x2" when it repeats)."""
    if layer_type != BLOCK_TYPE:
        return layer_type
    repeat = params["repeat"]
    return f"{params['block']} x{repeat}" if repeat != 1 else params["block"]


def format_report(design: Design, report: Report) -> str:
    """One table per network (node, layer, output shape, parameters), one per block definition
    (with its arguments' defaults and its Inputs' shapes; each use's figures are in the
    networks' tables), then the problems."""
    lines: list[str] = []
    for scope in [*design.networks, *design.blocks]:
        rows = [("node", "layer", "output shape", "parameters")]
        for node_id in design.nodes(scope):
            node = design.node(node_id)
            count = report.params(node_id)
            rows.append((node.name, layer_label(node.type, node.params),
                         describe(report.info(node_id)),
                         f"{count:,}" if count is not None else "?"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines.append(_scope_heading(design, scope))
        for index, row in enumerate(rows):
            cells = [row[i].ljust(widths[i]) if i < 3 else row[i].rjust(widths[i])
                     for i in range(4)]
            lines.append("  " + "  ".join(cells))
            if index == 0:
                lines.append("  " + "  ".join("-" * w for w in widths))
        lines.append(f"  total parameters: {report.total_params(scope):,}")
        lines.append("")
    if report.problems:
        lines.append(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s):")
        for problem in report.problems:
            where = design.node(problem.node).name if problem.node else problem.scope
            lines.append(f"  [{problem.severity}] {where}: {problem.message}")
            if problem.fix:
                lines.append(f"      fix: {problem.fix}")
    else:
        lines.append("no problems")
    return "\n".join(lines)


# The commands other modules register, by name: importing the module registers them. A
# command line imports only the module of the command it names (`check` never loads code
# generation or training, and their numpy); help and unknown names import them all.
COMMAND_MODULES = {
    "export": "engine.codegen.export_cli",
    "import": "engine.codegen.export_cli",
    "train": "engine.training.train_cli",
    "probe": "engine.probes.probe_cli",
    "lr-find": "engine.training.lr_find_cli",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of the command `only` alone (a known name)."""
    modules = COMMAND_MODULES.values() if only is None else [COMMAND_MODULES.get(only)]
    for module in dict.fromkeys(filter(None, modules)):
        importlib.import_module(module)
    parser = argparse.ArgumentParser(prog="neuralcanvas", description=(
        "Design, check, train and export neural networks. Without a command, opens the app."))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure, _) in COMMANDS.items():
        if only is None or name == only:
            configure(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; exit 2 (never a traceback) when a file cannot be read as a design."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv and argv[0] in command_names() else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if _refuses_to_overwrite(args):
        return 1
    try:
        return COMMANDS[args.command][2](args)
    except DesignError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # the reader stopped early (`neuralcanvas templates | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def command_names() -> list[str]:
    """Every command's name, without importing the modules that define them."""
    return list(dict.fromkeys([*COMMANDS, *COMMAND_MODULES]))


if __name__ == "__main__":
    # Run the registered commands of `engine.cli` itself, not of this `__main__` copy.
    from engine.cli import main as run
    sys.exit(run())
