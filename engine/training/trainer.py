"""The in-app training loop: runs a plan in this process and reports through `emit`.

It calls the same portable functions, in the same order, as an exported script, and around
each step only reads: losses are gathered on the device and read about ten times a second,
and commands are flags checked between steps. Files are written between epochs in this
thread: on a machine whose cores torch keeps busy, a writer thread running beside training
slows every step more than the writing itself costs. A worker process
(engine.training.worker) hosts the trainer for the GUI; the command line runs it directly.
"""

from __future__ import annotations

import copy
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from engine.checking import check
from engine.design import Design
from engine.errors import DesignError
from engine.fileformat import save_design
from engine.run_files import add_metrics_row, write_metrics, write_summary
from engine.training import excerpt
from engine.training.checkpoint import load_checkpoint, save_weights, write_checkpoint
from engine.training.control import Control
from engine.training.cost import TooLargeForMemory, estimate_cost, memory_shortfall
from engine.training.data import load_data
from engine.training.datacheck import DataError
from engine.training.devices import device_name, resolve_device
from engine.training.diagnostics import (
    CollapseWatch,
    DeadUnitWatch,
    DiagnosticLog,
    GradientWatch,
    LossWatch,
    OverfitWatch,
    dead_fractions,
    gradient_norms,
    layers_of,
    non_finite,
    relu_modules,
)
from engine.training.events import (
    Batch,
    CheckpointWritten,
    Diagnostic,
    EpochEnd,
    Failed,
    Finished,
    Gradients,
    LrChange,
    RunMessage,
    Started,
    Validation,
)
from engine.training.labels import SettingError, setting_place
from engine.training.plan import Plan, make_plan, optimizer_spec, schedule_spec, weights_file
from engine.training.samples import autoencoder_samples, gan_samples, series_samples, text_samples
from engine.training.script import SAMPLE_COUNT
from engine.training.settings import settings_from

REPORT_EVERY = 0.1  # seconds between batch events

class NonFiniteLoss(Exception):
    def __init__(self, name: str, step: int, epoch: int) -> None:
        super().__init__(f"{name} became non-finite at step {step}")
        self.name, self.step, self.epoch = name, step, epoch


@dataclass
class RunOptions:
    """What a run needs besides the design: where to write, what to resume, overrides of
    settings by dotted path (e.g. {"epochs": 3, "optimizer.lr": 0.01})."""

    out_dir: str | None = None
    resume: str | None = None
    overrides: dict[str, Any] | None = None
    run: int = 0


def settings_with(training: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """`design.training` with dotted-path overrides applied."""
    result = copy.deepcopy(training)
    for path, value in (overrides or {}).items():
        *sections, key = path.split(".")
        target = result
        for section in sections:
            target = target.setdefault(section, {})
        target[key] = value
    return result



class Trainer:
    """One run: prepare (settings, data, networks), loop over epochs, write results."""

    def __init__(self, design: Design, emit: Callable[[RunMessage], None],
                 options: RunOptions | None = None, control: Control | None = None) -> None:
        self.design = design.copy()
        self.emit = emit
        self.options = options or RunOptions()
        self.control = control or Control()
        self.run_id = self.options.run
        self.out = Path(self.options.out_dir) if self.options.out_dir else None
        self.history: list[dict[str, float]] = []
        self.step = 0
        self.epoch = 0
        self.last_checkpoint: str | None = None
        self.diagnostics = DiagnosticLog()

    # ------------------------------------------------------------------ the run
    def run(self) -> RunMessage:
        """Train to the end; return the final event (also emitted)."""
        started = time.perf_counter()
        out_of_memory = ""   # what the allocator said, when memory ran out
        try:
            self._prepare()
            status = self._loop()
            final: RunMessage = self._finish(status, time.perf_counter() - started)
        except NonFiniteLoss as err:
            self._diagnose([non_finite(self.run_id, err.name, err.step, err.epoch,
                                       self.last_checkpoint)])
            final = Failed(self.run_id, reason=(
                f"the {err.name} became NaN or infinite at step {err.step} (epoch "
                f"{err.epoch}), so training stopped; lower the learning rate or set "
                f"{setting_place('grad_clip')}" + (
                    f". The last good checkpoint is {self.last_checkpoint}"
                    if self.last_checkpoint else "")),
                error="non_finite_loss", epoch=err.epoch, step=err.step,
                checkpoint=self.last_checkpoint)
        except DataError as err:
            final = self._failed("data", str(err))
        except TooLargeForMemory as err:
            final = self._failed("out_of_memory", str(err))
        except DesignError as err:
            final = self._failed("settings" if isinstance(err, SettingError)
                                 or str(err).startswith("training") else "design", str(err))
        except Exception as err:  # noqa: BLE001 - a run must end with an event, whatever broke
            if _out_of_memory(err):
                out_of_memory = f"{type(err).__name__}: {err}"
                final = None
            elif isinstance(err, OSError) and self._in_run_folder(err.filename):
                final = self._failed("files", f"the run's folder {self.out} cannot be written "
                                     f"({err.strerror or err}: {err.filename}), so training "
                                     "stopped; make it writable or free some space",
                                     traceback.format_exc())
            else:
                final = self._failed("exception", f"training stopped on an unexpected error: "
                                     f"{type(err).__name__}: {err}", traceback.format_exc())
        if out_of_memory:
            # Outside the except block: its frames no longer hold the tensors.
            self._release()
            device = getattr(self, "device", None)   # None: memory ran out before it was set
            place = ("this machine" if device is None or device.type in ("cpu", "mps")
                     else f"the device ({device})")
            final = self._failed("out_of_memory", f"{place} ran out of memory, so training "
                                 f"stopped; lower {setting_place('batch_size')} or use smaller "
                                 "layers (fewer features or channels)", out_of_memory)
        self.emit(final)
        return final

    def _in_run_folder(self, filename: object) -> bool:
        """Whether a file an OSError names is one of this run's own (not the data's)."""
        if self.out is None or not isinstance(filename, (str, bytes)) or not filename:
            return False
        name = Path(filename.decode() if isinstance(filename, bytes) else filename)
        return name.absolute().is_relative_to(self.out.absolute())

    def _failed(self, error: str, reason: str, details: str = "") -> Failed:
        return Failed(self.run_id, reason=reason, error=error, epoch=self.epoch, step=self.step,
                      checkpoint=self.last_checkpoint, details=details)

    def _release(self) -> None:
        import torch

        for name in ("models", "optimizers", "data", "networks"):
            self.__dict__.pop(name, None)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # ------------------------------------------------------------------ preparation
    def _prepare(self) -> None:
        import torch

        training = settings_with(self.design.training, self.options.overrides)
        self.settings = settings_from(training)
        self.design.training = training
        report = check(self.design)
        self.plan: Plan = make_plan(self.design, self.settings, report)
        cost = estimate_cost(self.design, self.plan, report)
        self.device = resolve_device(self.settings.device)
        shortfall = memory_shortfall(cost, self.device)
        if shortfall:   # refused before any data or weights take memory
            raise TooLargeForMemory(shortfall)
        self.functions = excerpt.functions()
        loaded = load_data(self.plan, self.design, self.device)
        self.data, self.labels, self.vocabulary = loaded.tensors, loaded.labels, loaded.vocabulary
        plan, s = self.plan, self.settings
        torch.manual_seed(s.seed)
        from engine.compiler import build_model

        self.models = {io.network: build_model(self.design, io.network, report=report)
                       .to(self.device) for io in plan.networks}
        self.networks = [torch.compile(m) if s.compile else m for m in self.models.values()]
        name, options = optimizer_spec(plan)
        self.optimizers = [getattr(torch.optim, name)(m.parameters(), lr=s.optimizer.lr,
                                                      **options)
                           for m in self.models.values()]
        spec = schedule_spec(plan, s.epochs)
        self.schedulers = [getattr(torch.optim.lr_scheduler, spec[0])(optimizer, **spec[1])
                           for optimizer in self.optimizers] if spec else []
        self.amp = getattr(torch, plan.amp) if plan.amp and self.device.type == "cuda" else None
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp is torch.float16)
        from torch.utils.data.distributed import DistributedSampler

        self.sampler = DistributedSampler(self.data["train"], 1, 0, seed=s.seed)
        if not plan.data.in_memory:
            from torch.utils.data import DataLoader

            self.loader = DataLoader(self.data["train"], s.batch_size, sampler=self.sampler,
                                     drop_last=True, num_workers=s.data.workers)
        if plan.task == "gan":
            noise_source = torch.Generator().manual_seed(s.seed)
            self.fixed_noise = torch.randn(SAMPLE_COUNT, *plan.noise_shape,
                                           generator=noise_source).to(self.device)
        self.layers = [layer for network, model in self.models.items()
                       for layer in layers_of(model, network, plan.names)]
        self.gradient_watch = GradientWatch(s.diagnostics, self.run_id)
        self.overfit_watch = OverfitWatch(s.diagnostics.overfit_epochs, self.run_id)
        self.collapse_watch = CollapseWatch(s.diagnostics.collapse_below, self.run_id)
        self.loss_watch = LossWatch(s.optimizer.lr, s.optimizer.name, self.run_id)
        first = plan.networks[0].network
        self.relus = relu_modules(self.models[first]) if plan.task != "gan" else {}
        self.dead_watch = DeadUnitWatch(self.run_id, plan.names, first)
        self.best = {"loss": math.inf, "epoch": 0}
        self.best_state = None
        self._validation_extra: dict[str, Any] = {}
        self.first_epoch, self.skip_batches, self.partial = 1, 0, []
        if self.options.resume:
            self._resume(self.options.resume)
        batches = len(self.sampler) // s.batch_size
        self.batches_per_epoch = batches
        self.emit(Started(
            self.run_id, settings=self.settings.to_dict(), device=str(self.device),
            device_name=device_name(self.device), task=plan.task,
            networks={n: sum(p.numel() for p in m.parameters()) for n, m in self.models.items()},
            data=loaded.summary(plan), batches_per_epoch=batches, epochs=s.epochs,
            first_epoch=self.first_epoch, out_dir=str(self.out) if self.out else None,
            cost=cost.as_dict()))
        if self.out:
            self.out.mkdir(parents=True, exist_ok=True)
            save_design(self.design, self.out / "design.ncnet")
            write_metrics(self.out, self.history)
        self._diagnose([Diagnostic(self.run_id, code="class_count", severity="warning",
                                   message=warning, fix="set the Output's size to the number "
                                   "of classes") for warning in loaded.warnings])
        if plan.amp and self.amp is None:
            self._diagnose([Diagnostic(self.run_id, code="precision", severity="info",
                                       message=f"mixed precision ({s.precision}) works on "
                                       f"CUDA only; this run on {self.device} uses full "
                                       "precision")])

    def _resume(self, path: str) -> None:
        import torch

        checkpoint = load_checkpoint(path)
        record = checkpoint.record
        for network, model in self.models.items():
            weights = checkpoint.weights.get(network)
            if weights is None:
                raise DesignError(f"the checkpoint {path} has no weights for network "
                                  f"{network!r}; it holds {', '.join(checkpoint.weights)}")
            try:
                model.load_state_dict(weights, strict=True)
            except RuntimeError as err:
                raise DesignError(f"the checkpoint {path} does not fit network {network!r} "
                                  f"(the design changed since it was written): {err}") from None
        state = checkpoint.state
        for optimizer, saved in zip(self.optimizers, state["optimizers"], strict=True):
            optimizer.load_state_dict(saved)
        for scheduler, saved in zip(self.schedulers, state["schedulers"], strict=True):
            scheduler.load_state_dict(saved)
        self.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.history = record["history"]
        self.step = record["step"]
        self.epoch = record["epoch"]
        self.first_epoch = record["epoch"] + 1
        self.skip_batches = record["batch"]
        self.partial = [{k: torch.tensor(v, device=self.device) for k, v in row.items()}
                        for row in record["partial"]]
        self.best = record["best"]
        self.best_state = {network: {k: v.to(self.device) for k, v in weights.items()}
                           for network, weights in checkpoint.best.items()} or None
        self.last_checkpoint = str(checkpoint.path)

    # ------------------------------------------------------------------ the loop
    def _loop(self) -> str:
        s, plan = self.settings, self.plan
        steps_function = self.functions[plan.steps_function]
        if self.control.pending and self._obey([], 0):   # stopped before it began
            return "stopped"
        for epoch in range(self.first_epoch, s.epochs + 1):
            self.epoch = epoch
            self.sampler.set_epoch(epoch)
            lr = self.optimizers[0].param_groups[0]["lr"]
            steps = steps_function(*self._step_arguments())
            results, batch = list(self.partial), self.skip_batches
            self.partial, self.skip_batches = [], 0
            started = time.perf_counter()
            report_at, pending = started + REPORT_EVERY, []
            every = s.diagnostics.grad_norm_every
            for result in steps:
                results.append(result)
                pending.append(result)
                self.step += 1
                batch += 1
                if every and self.step % every == 0:
                    self._report_gradients()
                if self.control.pending or time.perf_counter() >= report_at:
                    self._report_batches(pending, batch, lr, started, len(results))
                    pending = []
                    report_at = time.perf_counter() + REPORT_EVERY
                    if self._obey(results, batch):
                        return "stopped"
            self._report_batches(pending, batch, lr, started, len(results))
            seconds = time.perf_counter() - started
            means = self.functions["epoch_means"](results)
            row = {"epoch": epoch, "lr": lr, **means}
            self._validate(row)
            self._step_schedule(row, lr)
            self.history.append(row)
            self._epoch_events(row, seconds, len(results))
            stop = self._early_stopping(row)
            if self.out and s.checkpoint_every and (epoch % s.checkpoint_every == 0
                                                    or epoch == s.epochs or stop):
                self._checkpoint("epoch")
            if stop:
                return "early_stopped"
            if self.control.pending and self._obey([], 0):
                return "stopped"
        return "completed"

    def _step_arguments(self) -> tuple:
        plan, s = self.plan, self.settings
        functions = self.functions
        if plan.data.in_memory:
            tensors = ((self.data["train"],) if plan.task in ("gan", "autoencoder")
                       else (self.data["train"], self.data["train_targets"]))
            batches = functions["tensor_batches"](tensors, self.sampler, s.batch_size)
        else:
            batches = functions["on_device"](self.loader, self.device)
        if self.skip_batches:  # resuming mid-epoch: skip the batches already trained on
            batches = islice(batches, self.skip_batches, None)
        if plan.task == "gan":
            return (self.networks, self.optimizers, batches, plan.noise_shape, s.gan.d_steps,
                    s.grad_clip, self.amp, self.scaler)
        loss = self._loss_function()
        return (self.networks[0], self.optimizers[0], batches, loss, s.grad_clip, self.amp,
                self.scaler)

    def _loss_function(self):
        import torch.nn.functional as F

        name = self.plan.loss
        if name.startswith("F."):
            return getattr(F, name[2:])
        return self.functions[name]

    def _obey(self, results: list, batch: int) -> bool:
        """Act on commands between steps; True when the run must stop."""
        control = self.control
        if control.take_checkpoint_request() and self.out:
            self._checkpoint("request", partial=results, batch=batch)
        while control.paused and not control.stopping:
            control.wait_while_paused()
            if control.take_checkpoint_request() and self.out:
                self._checkpoint("request", partial=results, batch=batch)
        control.settle()
        return control.stopping

    def _report_batches(self, pending: list, batch: int, lr: float, started: float,
                        done: int) -> None:
        if not pending:
            return
        import torch

        names = dict.fromkeys(name for result in pending for name in result)
        values = {name: torch.stack([r[name] for r in pending if name in r]).tolist()
                  for name in names}
        for name, numbers in values.items():
            for offset, number in enumerate(numbers):
                if not math.isfinite(number):
                    step = self.step - len(pending) + 1 + offset
                    raise NonFiniteLoss(name, step, self.epoch)
        elapsed = time.perf_counter() - started
        rate = done * self.settings.batch_size / elapsed if elapsed > 0 else 0.0
        remaining = (self.batches_per_epoch - batch) + self.batches_per_epoch * (
            self.settings.epochs - self.epoch)
        eta = remaining * self.settings.batch_size / rate if rate else 0.0
        self.emit(Batch(self.run_id, epoch=self.epoch, batch=batch,
                        batches=self.batches_per_epoch, step=self.step, values=values, lr=lr,
                        samples_per_second=rate, elapsed=elapsed, eta=eta))
        self._diagnose(self.loss_watch.check_steps(values.get("loss", []), self.epoch,
                                                   self.step))

    # ------------------------------------------------------------------ epoch end
    def _validate(self, row: dict[str, Any]) -> None:
        """The same measures, from the same functions, as the exported script."""
        plan, f = self.plan, self.functions
        model = self.models[plan.networks[0].network]
        extra: dict[str, Any] = {}
        if plan.task == "gan":
            real = self.data["val"] if plan.validates else self.data["train"]
            generator, discriminator = self.models.values()
            accuracy, diversity, samples = f["evaluate_gan"]((generator, discriminator),
                                                             real[:SAMPLE_COUNT],
                                                             self.fixed_noise)
            row.update(d_accuracy=accuracy, diversity=diversity)
            data = self.settings.data
            if data.source == "gaussian_ring":
                covered, near = f["mode_coverage"](samples, f["ring_centres"](
                    data.modes, data.radius), data.std)
                row.update(modes_covered=covered, near_mode=near)
            self._gan_extra = (samples, real)
            return
        if not plan.validates:
            return
        val_batches = self._val_batches()
        if plan.evaluation == "classification":
            val_loss, confusion = f["evaluate_classification"](model, val_batches, plan.classes)
            accuracy = confusion.diag().sum() / confusion.sum()
            row.update(val_loss=val_loss, val_accuracy=accuracy.item())
            totals = confusion.sum(1).clamp(min=1)
            extra = {"confusion": confusion.numpy(),
                     "per_class": (confusion.diag() / totals).tolist()}
        elif plan.evaluation == "regression":
            val_mse, val_mae = f["evaluate_regression"](model, val_batches)
            loss = val_mae if plan.loss == "F.l1_loss" else val_mse
            row.update(val_loss=loss, val_mse=val_mse, val_mae=val_mae)
        else:
            val_mse, val_mae = f["evaluate_regression"](model, val_batches)
            relative = val_mse / f["mean_image_error"](self.data["train"], self.data["val"])
            loss = val_mae if plan.loss == "F.l1_loss" else val_mse
            row.update(val_loss=loss, val_mae=val_mae, val_relative_mse=relative)
        self._validation_extra = extra

    def _val_batches(self):
        f, s = self.functions, self.settings
        if not self.plan.data.in_memory:
            from torch.utils.data import DataLoader

            return f["on_device"](DataLoader(self.data["val"], s.batch_size), self.device)
        targets = (self.data["val"] if self.plan.task == "autoencoder"
                   else self.data["val_targets"])
        return f["chunks"]((self.data["val"], targets), s.batch_size)

    def _step_schedule(self, row: dict[str, Any], lr: float) -> None:
        for scheduler in self.schedulers:
            if self.settings.schedule.name == "plateau":
                scheduler.step(row[self.plan.monitored])
            else:
                scheduler.step()
        new = self.optimizers[0].param_groups[0]["lr"]
        if new != lr:
            self.emit(LrChange(self.run_id, epoch=self.epoch, step=self.step, lr=new,
                               previous=lr))

    def _epoch_events(self, row: dict[str, Any], seconds: float, batches: int) -> None:
        plan = self.plan
        train = {k: v for k, v in row.items() if k not in ("epoch", "lr")
                 and not k.startswith("val_") and k not in _VALIDATION_KEYS}
        rate = batches * self.settings.batch_size / seconds if seconds > 0 else 0.0
        self.emit(EpochEnd(self.run_id, epoch=self.epoch, epochs=self.settings.epochs,
                           metrics=train, lr=row["lr"], seconds=seconds,
                           samples_per_second=rate))
        validation = {k: v for k, v in row.items() if k.startswith("val_") or
                      k in _VALIDATION_KEYS}
        if validation:
            extra = self._validation_extra if plan.task != "gan" else {}
            self.emit(Validation(self.run_id, epoch=self.epoch, metrics=validation,
                                 per_class=extra.get("per_class"),
                                 confusion=extra.get("confusion"), labels=self.labels))
        if self.out:
            add_metrics_row(self.out, self.history)
        self._diagnose(self.loss_watch.check_epoch(self.history))   # causes before symptoms
        self._report_gradients()
        self._diagnose(self.dead_watch.check(self._dead_units(), self.epoch))
        self._diagnose(self.overfit_watch.check(self.history))
        if plan.task == "gan":
            self._diagnose(self.collapse_watch.check(self.epoch, row["diversity"],
                                                     row["d_accuracy"]))
        self._samples()

    def _report_gradients(self) -> None:
        layers = gradient_norms(self.layers)
        self.emit(Gradients(self.run_id, epoch=self.epoch, step=self.step, layers=layers))
        self._diagnose(self.gradient_watch.check(layers, self.epoch, self.step))

    def _dead_units(self) -> dict[str, float]:
        """The share of never-firing units of each ReLU, on the first validation batch."""
        if not self.relus or not self.plan.validates:
            return {}
        batch = next(iter(self._val_batches()), None)
        return dead_fractions(self._model(), batch[0], self.relus) if batch else {}

    def _diagnose(self, diagnostics: list[Diagnostic]) -> None:
        """Emit the diagnostics no earlier one explains, and keep the run folder's list."""
        admitted = [d for d in diagnostics if self.diagnostics.admit(d)]
        for diagnostic in admitted:
            self.emit(diagnostic)
        if admitted and self.out and self.out.is_dir():
            self.diagnostics.write(self.out)

    def _samples(self) -> None:
        plan, epoch = self.plan, self.epoch
        if plan.task == "gan":
            samples, real = self._gan_extra
            self.emit(gan_samples(self.run_id, epoch, plan, samples, real))
            return
        if not plan.data.in_memory or not len(self.data["val"]):
            return
        model = self.models[plan.networks[0].network]
        if plan.task == "autoencoder":
            self.emit(autoencoder_samples(self.run_id, epoch, plan, model, self.data["val"],
                                          self.data["val_targets"]))
        elif plan.data.source == "text":
            self.emit(text_samples(self.run_id, epoch, plan, model, self.data["val"][0],
                                   self.vocabulary, self.settings.seed))
        elif plan.task in ("sequence", "regression") and len(plan.networks[0].input_shape) == 2:
            self.emit(series_samples(self.run_id, epoch, model, self.data["val"],
                                     self.data["val_targets"]))

    def _keeps_best(self) -> bool:
        early = self.settings.early_stopping
        return early.enabled and early.keep_best and self.plan.task != "gan"

    def _early_stopping(self, row: dict[str, Any]) -> bool:
        """The exported script's rule: stop after `patience` epochs without improvement."""
        early = self.settings.early_stopping
        monitored = row.get(self.plan.monitored)
        if monitored is not None and monitored < self.best["loss"] - early.min_delta:
            self.best = {"loss": monitored, "epoch": self.epoch}
            if self.plan.task != "gan":  # kept in memory, written at the end
                self.best_state = {network: {k: v.detach().clone()
                                             for k, v in model.state_dict().items()}
                                   for network, model in self.models.items()}
            return False
        return early.enabled and self.epoch - self.best["epoch"] >= early.patience

    def _model(self):
        return self.models[self.plan.networks[0].network]

    # ------------------------------------------------------------------ files
    def _checkpoint(self, reason: str, partial: list | None = None, batch: int = 0) -> None:
        import torch

        completed = self.epoch if reason != "request" or batch == 0 else self.epoch - 1
        name = f"epoch-{completed:04d}" + (f"-step-{self.step:07d}" if batch else "")
        state = {"optimizers": [o.state_dict() for o in self.optimizers],
                 "schedulers": [scheduler.state_dict() for scheduler in self.schedulers],
                 "scaler": self.scaler.state_dict(), "rng": torch.get_rng_state()}
        if torch.cuda.is_available() and self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        rows = [{k: v.item() for k, v in row.items()} for row in partial or []] if batch else []
        record = {"epoch": completed, "batch": batch, "step": self.step,
                  "history": copy.deepcopy(self.history), "partial": rows, "best": self.best,
                  "settings": self.settings.to_dict(), "reason": reason}
        best = self.best_state if self._keeps_best() else None
        path = write_checkpoint(self.out / "checkpoints", name, self.models, state, record,
                                best)
        self.last_checkpoint = str(path)
        self.emit(CheckpointWritten(self.run_id, epoch=record["epoch"], step=record["step"],
                                    path=str(path), reason=reason))

    def _write_weights(self, folder: str, states: dict[str, Any] | None = None) -> None:
        for network, model in self.models.items():
            state = states[network] if states else model.state_dict()
            save_weights(self.out / folder / weights_file(network), state)

    def _finish(self, status: str, seconds: float) -> Finished:
        if self._keeps_best() and self.best_state is not None:
            for network, model in self.models.items():
                model.load_state_dict(self.best_state[network])
        weights = {}
        if self.out:
            self._write_weights("last")
            if self.best_state is not None:
                self._write_weights("best", self.best_state)
            folder = "best" if self._keeps_best() and self.best_state is not None else "last"
            weights = {n: str(self.out / folder / weights_file(n)) for n in self.models}
            write_summary(self.out, {"status": status, "epochs_done": len(self.history),
                                     "best_epoch": self.best["epoch"] or None,
                                     "seconds": seconds,
                                     "metrics": self.history[-1] if self.history else {},
                                     "weights": weights, "settings": self.settings.to_dict()})
        return Finished(self.run_id, status=status, epochs_done=len(self.history),
                        best_epoch=self.best["epoch"] or None,
                        metrics=self.history[-1] if self.history else {},
                        out_dir=str(self.out) if self.out else None, weights=weights,
                        seconds=seconds)


_VALIDATION_KEYS = frozenset({"d_accuracy", "diversity", "modes_covered", "near_mode"})


_ALLOCATOR_FAILURES = ("can't allocate memory", "not enough memory", "out of memory")


def _out_of_memory(err: BaseException) -> bool:
    """Whether `err` is memory running out: torch's device error, Python's MemoryError, or the
    CPU allocator's RuntimeError ("DefaultCPUAllocator: can't allocate memory: ...")."""
    import torch

    if isinstance(err, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(err, RuntimeError) and any(text in str(err).lower()
                                                 for text in _ALLOCATOR_FAILURES)
