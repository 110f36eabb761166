"""The training part of an exported script: data, loss, optimizer, loop, torchrun, saving.

`render_training_program(design, class_names)` returns the import lines and the code that
follows the network classes in `engine.generate_code`'s file. That code calls the portable
functions the in-app trainer calls (copied in as source) with the values of the same plan, so
on a CPU the same seed gives the same per-epoch losses in the app and in the script.

The code is written the way ruff format writes it (double quotes, lines within 88 characters,
calls that do not fit split one argument per line with a trailing comma), so the exported
file needs no formatting pass whether ruff's line length is 88 or 100.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.design import Design
from engine.training import excerpt
from engine.training.plan import (
    Call,
    Loss,
    Name,
    Plan,
    literal,
    make_plan,
    optimizer_spec,
    schedule_spec,
    weights_file,
)
from engine.wording import count_of

INDENT = "    "
LINE = 88
SAMPLE_COUNT = 512  # a GAN's generated samples scored after each epoch


@dataclass(frozen=True)
class TrainingProgram:
    """`imports`: full import lines; `body`: the code after the network classes, ending with
    the `if __name__ == "__main__":` block; `assets`: files the script reads by default, to
    write beside it (file name -> text), such as the bundled text of a character model."""

    imports: list[str]
    body: str
    assets: dict[str, str] = field(default_factory=dict)


def render_training_program(design: Design, class_names: dict[str, str]) -> TrainingProgram:
    """Render the training code for a design whose networks the caller emits as classes
    (`class_names`: network name -> class name; constructors take no arguments)."""
    plan = make_plan(design)
    parts = [_parse_args(plan, class_names), _load_data(plan), _train(plan, class_names),
             *([_COPY_STATE] if _keeps_best(plan) else []), _LOG_EPOCH]
    main = "\n\n\n".join(parts) + '\n\n\nif __name__ == "__main__":\n    train(parse_args())\n'
    sources, imports = excerpt.needed(main)
    assets = {Path(plan.data.files[p]).name: Path(plan.data.files[p]).read_text(encoding="utf-8")
              for p in plan.data.bundled}
    return TrainingProgram(imports, "\n\n\n".join([*sources, main]), assets)


# ---------------------------------------------------------------------------- formatting

def call_lines(indent: int, head: str, arguments: list, tail: str = ")") -> list[str]:
    """`head(arguments)tail` on one line if it fits, else one argument per line ending in a
    trailing comma, which ruff format keeps as it is at any line length.

    An argument is code text, or (prefix, list or tuple) for a literal that is itself split
    one item per line when its line would be too long.
    """
    pad = INDENT * indent
    texts = [a if isinstance(a, str) else a[0] + literal(a[1]) for a in arguments]
    one = f"{pad}{head}{', '.join(texts)}{tail}"
    if len(one) <= LINE:
        return [one]
    lines = [f"{pad}{head}"]
    for argument, text in zip(arguments, texts, strict=True):
        inner = f"{pad}{INDENT}"
        if len(inner + text) + 1 > LINE and not isinstance(argument, str) and argument[1]:
            prefix, items = argument
            brackets = "[]" if isinstance(items, list) else "()"
            lines.append(f"{inner}{prefix}{brackets[0]}")
            lines += [f"{inner}{INDENT}{literal(item)}," for item in items]
            lines.append(f"{inner}{brackets[1]},")
        else:
            lines.append(f"{inner}{text},")
    return [*lines, f"{pad}{tail}"]


def _lines(indent: int, *lines: str) -> list[str]:
    for line in lines:
        if len(INDENT * indent + line) > LINE:
            raise AssertionError(f"generated line too long: {line!r}")
    return [f"{INDENT * indent}{line}" for line in lines]


def _docstring(indent: int, text: str) -> list[str]:
    """A docstring on one line, or wrapped with the closing quotes on their own line."""
    pad = INDENT * indent
    if len(f'{pad}"""{text}"""') <= LINE:
        return [f'{pad}"""{text}"""']
    lines, current = [], f'{pad}"""'
    for word in text.split():
        if len(current) + 1 + len(word) > LINE:
            lines.append(current)
            current = pad + word
        else:
            current += word if current.endswith('"""') else f" {word}"
    return [*lines, current, f'{pad}"""']


def _render_call(indent: int, call: Call) -> list[str]:
    arguments: list = [literal(value) for value in call.args]
    arguments += [(f"{key}=", value) if isinstance(value, (list, tuple))
                  else f"{key}={literal(value)}" for key, value in call.kwargs]
    head = f"{', '.join(call.outputs)} = " if call.outputs else "return "
    return call_lines(indent, f"{head}{call.function}(", arguments)


# ---------------------------------------------------------------------------- parse_args

def _parse_args(plan: Plan, class_names: dict[str, str]) -> str:
    s = plan.settings
    what = " and ".join(class_names[n] for n in plan.network_names)
    lines = ["def parse_args():"]
    lines += _docstring(1, "Command-line options; the defaults are the design's training "
                        "settings.")
    lines += call_lines(1, "parser = argparse.ArgumentParser(",
                        [f"description={literal(f'Train {what} on {plan.data.description}.')}"])
    options = [
        (["--epochs", "type=int"], s.epochs, None),
        (["--batch-size", "type=int"], s.batch_size, "samples per step"),
        (["--lr", "type=float"], s.optimizer.lr, "learning rate"),
        (["--device"], s.device, "auto, cpu, cuda or mps"),
        (["--threads", "type=int"], s.threads,
         "CPU threads (0: one for a small network, else torch's default)"),
        (["--out", "type=Path"], "training_output", None),
        (["--seed", "type=int"], s.seed, None),
    ]
    for parameter in plan.data.files:
        flag = "--data" if parameter == "path" else f"--{parameter}"
        variable = f"{flag[2:]}_file"
        path = literal(plan.data.script_path(parameter))
        if parameter in plan.data.bundled:  # written beside the script
            lines += _lines(1, f"{variable} = Path(__file__).with_name({path})")
        else:
            lines += call_lines(1, f"{variable} = Path(", [path])
        options.append(([flag, "type=Path"], Name(variable), None))
    for (flag, *kinds), default, help_text in options:
        value = literal(default)
        if "type=Path" in kinds and not isinstance(default, Name):
            value = f"Path({value})"
        arguments = [literal(flag), *kinds, f"default={value}"]
        if help_text:
            arguments.append(f"help={literal(help_text)}")
        lines += call_lines(1, "parser.add_argument(", arguments)
    lines += _lines(1, "return parser.parse_args()")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- load_data

def _load_data(plan: Plan) -> str:
    fraction = plan.settings.data.validation_split
    description = plan.data.description[0].upper() + plan.data.description[1:]
    held = f", with {fraction:.0%} held out for validation" if fraction else ""
    lines = [f"def load_data({', '.join(plan.data.parameters)}):"]
    lines += _docstring(1, f"{description}{held}.")
    for call in plan.data.calls:
        lines += _render_call(1, call)
    return "\n".join(lines)


# ---------------------------------------------------------------------------- train

def _train(plan: Plan, class_names: dict[str, str]) -> str:
    gan = plan.task == "gan"
    models = ["generator", "discriminator"] if gan else ["model"]
    lines = ["def train(args):"]
    lines += _docstring(1, f"Train, save and return the network{'s' if gan else ''}; under "
                        "torchrun every process trains on its share of each epoch.")
    lines += _lines(1, "rank, world_size, device = start_processes(args.device)")
    if plan.images:
        lines += _lines(1, "layout = image_layout(device)")
    lines += _data_lines(plan)
    lines += _networks(plan, class_names, models)
    lines += _threads(plan, models)
    lines += _optimizers(plan, models)
    lines += _schedule(plan)
    lines += _precision(plan)
    if gan:
        lines += _lines(1, "noise_source = torch.Generator().manual_seed(args.seed)")
        lines += call_lines(1, "fixed_noise = torch.randn(",
                            [str(SAMPLE_COUNT), *map(str, plan.noise_shape),
                             "generator=noise_source"], ").to(device)")
        real = "x_val" if plan.validates else "x_train"
        lines += _lines(1, f"real = {real}[:{SAMPLE_COUNT}]", "real_spread = spread(real)")
    lines += _lines(1, 'log = args.out / "metrics.csv"', "if rank == 0:",
                    "    args.out.mkdir(parents=True, exist_ok=True)",
                    "    log.unlink(missing_ok=True)")
    if plan.settings.early_stopping.enabled:
        lines += _lines(1, "best_loss, best_epoch, best_state = math.inf, 0, None"
                        if _keeps_best(plan) else "best_loss, best_epoch = math.inf, 0")
    lines += _epochs(plan, models)
    if _keeps_best(plan):
        lines += _lines(1, "if best_state is not None:", "    model.load_state_dict(best_state)")
    lines += _lines(1, "if rank == 0:")
    for variable, io in zip(models, plan.networks, strict=True):
        state = f"standard_layout({variable})" if plan.images else f"{variable}.state_dict()"
        lines += call_lines(2, "save_file(", [state,
                                              f"args.out / {literal(weights_file(io.network))}"])
    lines += _lines(1, "if world_size > 1:", "    dist.destroy_process_group()",
                    f"return {', '.join(models)}")
    return "\n".join(lines)


def _networks(plan: Plan, class_names: dict[str, str], models: list[str]) -> list[str]:
    """Seed, build each network and wrap it for torchrun (and torch.compile)."""
    lines = _lines(1, "torch.manual_seed(args.seed)")
    place = "device, memory_format=layout" if plan.images else "device"
    for variable, io in zip(models, plan.networks, strict=True):
        lines += _lines(1, f"{variable} = {class_names[io.network]}().to({place})")
    if plan.task == "gan":
        lines += _lines(1, f"networks = [wrap_for_processes(m, world_size) for m in "
                        f"({', '.join(models)})]")
        if plan.settings.compile:
            lines += _lines(1, "networks = [torch.compile(n) for n in networks]")
        return lines
    if plan.settings.compile:
        return lines + _lines(1, "network = torch.compile(wrap_for_processes(model, "
                              "world_size))")
    return lines + _lines(1, "network = wrap_for_processes(model, world_size)")


def _threads(plan: Plan, models: list[str]) -> list[str]:
    """On the CPU, the threads `cpu_threads` chooses from the networks' FLOPs (as the app
    does)."""
    inputs = [f"{tuple(io.input_shape)!r}, torch.{io.input_dtype}" for io in plan.networks]
    lines = _lines(1, 'if device.type == "cpu":')
    lines += call_lines(2, "flops = forward_flops(",
                        [f"[{', '.join(models)}]", f"[{', '.join(f'({i})' for i in inputs)}]"])
    return lines + _lines(2, "torch.set_num_threads(cpu_threads(args.threads, flops, "
                          "args.batch_size))")


def _epochs(plan: Plan, models: list[str]) -> list[str]:
    """The epoch loop: steps, validation, schedule, the log line and early stopping."""
    lines = _lines(1, "for epoch in range(1, args.epochs + 1):", "    sampler.set_epoch(epoch)")
    lines += _batches(plan)
    lines += _lines(2, f"lr = {_first_optimizer(plan)}.param_groups[0][\"lr\"]")
    lines += _steps(plan)
    lines += _lines(2, 'row = {"epoch": epoch, "lr": lr, **epoch_means(steps)}')
    lines += _validation(plan, models)
    monitored = literal(plan.monitored)
    schedule = plan.settings.schedule.name
    step = f"scheduler.step(row[{monitored}])" if schedule == "plateau" else "scheduler.step()"
    if schedule != "none" and plan.task == "gan":
        lines += _lines(2, "for scheduler in schedulers:", f"    {step}")
    elif schedule != "none":
        lines += _lines(2, step)
    lines += _lines(2, "if rank == 0:", "    log_epoch(log, row)")
    early = plan.settings.early_stopping
    if early.enabled:
        lines += _lines(2, f"if row[{monitored}] < best_loss - {early.min_delta!r}:",
                        f"    best_loss, best_epoch = row[{monitored}], epoch")
        if _keeps_best(plan):
            lines += _lines(3, "best_state = copy_state(model)")
        lines += _lines(2, f"elif epoch - best_epoch >= {early.patience}:",
                        f'    print("stopping early: no progress in '
                        f'{count_of(early.patience, "epoch")}")',
                        "    break")
    return lines


def _keeps_best(plan: Plan) -> bool:
    early = plan.settings.early_stopping
    return early.enabled and early.keep_best and plan.task != "gan"


def _data_lines(plan: Plan) -> list[str]:
    arguments = ", ".join(f"args.{'data' if p == 'path' else p}" for p in plan.data.parameters)
    if not plan.data.in_memory:
        lines = _lines(1, f"train_set, val_set = load_data({arguments})")
        lines += call_lines(1, "sampler = DistributedSampler(",
                            ["train_set", "world_size", "rank", "seed=args.seed"])
        lines += call_lines(1, "loader = DataLoader(",
                            ["train_set", "args.batch_size", "sampler=sampler",
                             "drop_last=True", f"num_workers={plan.settings.data.workers}",
                             _PIN_MEMORY])
        if plan.validates:
            lines += _lines(1, f"val_loader = DataLoader(val_set, args.batch_size, {_PIN_MEMORY})")
        return lines
    labelled = plan.task not in ("gan", "autoencoder")
    names = ["x_train", "y_train" if labelled else "_", "x_val" if plan.validates else "_",
             "y_val" if labelled and plan.validates else "_"]
    moved = "to_device(t, device, layout)" if plan.images else "t.to(device)"
    return _lines(1, f"splits = load_data({arguments})",
                  f"{', '.join(names)} = ({moved} for t in splits)",
                  "sampler = DistributedSampler(x_train, world_size, rank, seed=args.seed)")


def _batches(plan: Plan) -> list[str]:
    if not plan.data.in_memory:
        return _lines(2, f"batches = on_device({_on_device_arguments(plan, 'loader')})")
    tensors = "(x_train,)" if plan.task in ("gan", "autoencoder") else "(x_train, y_train)"
    return _lines(2, f"batches = tensor_batches({tensors}, sampler, args.batch_size)")


def _val_batches(plan: Plan, targets: str = "y_val") -> str:
    if not plan.data.in_memory:
        return f"val_batches = on_device({_on_device_arguments(plan, 'val_loader')})"
    return f"val_batches = chunks((x_val, {targets}), args.batch_size)"


def _first_optimizer(plan: Plan) -> str:
    return "optimizers[0]" if plan.task == "gan" else "optimizer"


def _optimizers(plan: Plan, models: list[str]) -> list[str]:
    name, options = optimizer_spec(plan)
    arguments = ["lr=args.lr", *(f"{k}={literal(v)}" for k, v in options.items())]
    if plan.task != "gan":
        return call_lines(1, f"optimizer = torch.optim.{name}(",
                          ["model.parameters()", *arguments])
    lines = _lines(1, "optimizers = [")
    for variable in models:
        lines += call_lines(2, f"torch.optim.{name}(", [f"{variable}.parameters()", *arguments],
                            "),")
    return lines + _lines(1, "]")


def _schedule(plan: Plan) -> list[str]:
    spec = schedule_spec(plan, Name("args.epochs"))
    if spec is None:
        return []
    name, options = spec
    arguments = [f"{k}={literal(v)}" for k, v in options.items()]
    if plan.task != "gan":
        return call_lines(1, f"scheduler = torch.optim.lr_scheduler.{name}(",
                          ["optimizer", *arguments])
    lines = _lines(1, "schedulers = [")
    for index in range(2):
        lines += call_lines(2, f"torch.optim.lr_scheduler.{name}(",
                            [f"optimizers[{index}]", *arguments], "),")
    return lines + _lines(1, "]")


def _on_device_arguments(plan: Plan, batches: str) -> str:
    return f"{batches}, device, layout" if plan.images else f"{batches}, device"


def _precision(plan: Plan) -> list[str]:
    """The autocast type and gradient scaler; nothing where the design trains in float32."""
    precision = plan.settings.precision
    if precision == "fp32":
        return []
    return _lines(1, f"amp, scaler = mixed_precision(device, {literal(precision)})")


def _mixed_precision(plan: Plan) -> list[str]:
    return [] if plan.settings.precision == "fp32" else ["amp=amp", "scaler=scaler"]


def _steps(plan: Plan) -> list[str]:
    s = plan.settings
    if plan.task == "gan":
        return call_lines(2, "steps = gan_steps(",
                          ["networks", "optimizers", "batches",
                           f"noise_shape={literal(plan.noise_shape)}",
                           f"d_steps={s.gan.d_steps}", f"clip_norm={s.grad_clip!r}",
                           *_mixed_precision(plan)])
    return call_lines(2, f"steps = {plan.steps_function}(",
                      ["network", "optimizer", "batches", f"loss_fn={plan.loss}",
                       f"clip_norm={s.grad_clip!r}", *_mixed_precision(plan)])


def _validation(plan: Plan, models: list[str]) -> list[str]:
    kind = plan.evaluation
    if kind == "gan":
        return _gan_validation(plan, models)
    if not plan.validates:
        return []
    if kind == "classification":
        lines = _lines(2, _val_batches(plan))
        lines += call_lines(2, "val_loss, confusion = evaluate_classification(",
                            ["model", "val_batches", str(plan.classes)])
        return lines + _lines(2, "accuracy = confusion.diag().sum() / confusion.sum()",
                              "row.update(val_loss=val_loss, val_accuracy=accuracy.item())")
    if kind == "regression":
        loss = "val_mae" if plan.loss is Loss.MAE else "val_mse"
        return _lines(2, _val_batches(plan),
                      "val_mse, val_mae = evaluate_regression(model, val_batches)",
                      f"row.update(val_loss={loss}, val_mse=val_mse, val_mae=val_mae)")
    loss = "val_mae" if plan.loss is Loss.MAE else "val_mse"
    return _lines(2, _val_batches(plan, "x_val"),
                  "val_mse, val_mae = evaluate_regression(model, val_batches)",
                  "relative = val_mse / mean_image_error(x_train, x_val)",
                  f"row.update(val_loss={loss}, val_mae=val_mae, val_relative_mse=relative)")


def _gan_validation(plan: Plan, models: list[str]) -> list[str]:
    data = plan.settings.data
    samples = "samples" if data.source == "gaussian_ring" else "_"
    lines = call_lines(2, f"accuracy, diversity, {samples} = evaluate_gan(",
                       [f"({', '.join(models)})", "real", "fixed_noise", "real_spread"])
    lines += _lines(2, "row.update(d_accuracy=accuracy, diversity=diversity)")
    if data.source == "gaussian_ring":
        lines += call_lines(2, "covered, near = mode_coverage(",
                            ["samples", f"ring_centres({data.modes}, {data.radius!r})",
                             repr(data.std)])
        lines += _lines(2, "row.update(modes_covered=covered, near_mode=near)")
    return lines


_PIN_MEMORY = 'pin_memory=device.type == "cuda"'  # so copies to the GPU overlap its work

_COPY_STATE = '''def copy_state(model):
    """A copy of the model's weights, kept while later epochs change them."""
    return {key: value.clone() for key, value in model.state_dict().items()}'''

_LOG_EPOCH = '''def log_epoch(path, row):
    """Print one epoch's results and append them to a CSV file."""
    print(", ".join(f"{key} {value:.4g}" for key, value in row.items()))
    with path.open("a", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(row))
        if file.tell() == 0:
            writer.writeheader()
        writer.writerow(row)'''
