"""Command-line commands for export and import (registered with engine.cli).

`neuralcanvas export FILE -o OUT.py` writes the design as a standalone PyTorch script
(`--format onnx`, or an `.onnx` file name, writes one network as ONNX instead);
`neuralcanvas import PYFILE:CLASS --input-shape 3,224,224 -o FILE.ncnet` turns an existing
nn.Module into a design (`neuralcanvas import tutorial.py -o FILE.ncnet` reads Keras code
instead, `neuralcanvas import model.onnx -o FILE.ncnet` an ONNX file). Every failure is a
DesignError: a message and exit code 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli import add_output_options, command
from engine.errors import DesignError
from engine.fileformat import EXTENSION, load_design, save_design, write_atomically


def _configure_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help=f"a design file ({EXTENSION})")
    add_output_options(parser, "the file to write (.py or .onnx)")
    parser.add_argument("--format", choices=("python", "onnx"),
                        help="python (a training script) or onnx; default: from the file name")
    parser.add_argument("--network", help="the network to write as ONNX (default: model)")
    parser.add_argument("--weights", help="a .safetensors file of trained weights to put in "
                        "the ONNX file (default: initial weights)")


@command("export", "write a design as a PyTorch script or an ONNX file", _configure_export)
def _export(args: argparse.Namespace) -> int:
    design = load_design(args.file)
    output = Path(args.output)
    kind = args.format or ("onnx" if output.suffix.lower() == ".onnx" else "python")
    if kind == "onnx":
        from engine.export_onnx import export_onnx

        result = export_onnx(design, output, args.network, _weights(args.weights))
        print(f"wrote {output} (network {result.network!r}); onnxruntime matches torch within "
              f"{result.max_difference:.2g}")
        return 0
    if args.network or args.weights:
        raise DesignError("--network and --weights apply to ONNX export only; the script "
                          "contains every network and trains from the start")
    from engine.codegen.export import export_script

    script = export_script(design)
    write_atomically(output, script.code)
    for name, text in script.assets.items():
        write_atomically(output.parent / name, text)
    extra = f" and {', '.join(script.assets)}" if script.assets else ""
    print(f"wrote {output}{extra}; run it with: python {output}")
    return 0


def _weights(path: str | None) -> dict | None:
    if path is None:
        return None
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(path)
    except (OSError, SafetensorError) as err:
        raise DesignError(f"{path}: cannot read weights ({err})", file=path) from None


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="PYFILE:CLASS",
                        help="a Python file and the nn.Module class in it, e.g. models.py:Net; "
                        "a file of Keras code (read, never run); or an .onnx file")
    parser.add_argument("--input-shape", action="append", metavar="SHAPE",
                        help="one sample's shape without the batch, e.g. 3,224,224 (repeat "
                        "for each input of forward; for Keras, channels last, and only where "
                        "the code declares none; for ONNX, where the file leaves sizes open)")
    parser.add_argument("--keras", action="store_true",
                        help="read the file as Keras code (the default when it imports keras "
                        "or tensorflow and names no class)")
    parser.add_argument("--model", help="Keras: the variable of the model to import (default: "
                        "the one compiled, else the last)")
    parser.add_argument("--dtype", choices=("float", "long"), default="float",
                        help="float inputs, or long token ids (default: float)")
    add_output_options(parser, f"the design file ({EXTENSION})")
    parser.add_argument("--weights", help="also save the module's weights as .safetensors, "
                        "under the design's keys")


@command("import", "turn a PyTorch nn.Module, Keras code or an ONNX file into a design",
         _configure_import)
def _import(args: argparse.Namespace) -> int:
    from engine.importing import import_network
    from engine.importing.keras_source import import_keras_file, reads_as_keras, summary
    from engine.importing.loading import example_input, instantiate, load_module_class, parse_shape
    from engine.importing.onnx_file import is_onnx_file

    shapes = [parse_shape(text) for text in args.input_shape or ()]
    if is_onnx_file(args.source):
        from engine.importing import onnx_import

        imported = onnx_import.import_onnx_file(args.source, shapes or None)
        result, label = imported.result, onnx_import.summary(imported)
    elif args.keras or reads_as_keras(args.source):
        if args.weights:
            raise DesignError("--weights needs a PyTorch module; Keras code is read, not run")
        result = import_keras_file(args.source, shapes or None, args.model)
        save_design(result.design, args.output)
        print(f"{summary(result)}\nwritten to {args.output}")
        return 0
    else:
        if not shapes:
            raise DesignError("give --input-shape for a PyTorch module, e.g. --input-shape "
                              "3,224,224")
        cls = load_module_class(args.source)
        result = import_network(instantiate(cls), example_input(shapes, args.dtype))
        label = f"imported {cls.__name__}: {len(result.design.nodes())} nodes"
    save_design(result.design, args.output)
    print(f"{label}, written to {args.output}")
    if result.left_out:
        print(f"left out (forward never calls them): {', '.join(result.left_out)}")
    if args.weights:
        _save_weights(result.state_dict, Path(args.weights))
        print(f"weights written to {args.weights}")
    return 0


def _save_weights(state_dict: dict, path: Path) -> None:
    """Write a .safetensors file beside the target, then move it into place."""
    import os

    from safetensors.torch import save_file

    temporary = path.with_name(f".{path.name}.tmp")
    try:
        save_file({key: value.detach().clone().contiguous()
                   for key, value in state_dict.items()}, temporary)
        os.replace(temporary, path)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise DesignError(f"{path}: cannot write weights ({err})", file=str(path)) from None
