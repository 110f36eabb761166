"""The in-app training loop: runs a plan in this process and reports through `emit`.

It calls the same portable functions, in the same order, as an exported script, and around
each step only reads: losses are gathered on the device and read about ten times a second,
and commands are flags checked between steps. Files are written between epochs in this
thread: on a machine whose cores torch keeps busy, a writer thread running beside training
slows every step more than the writing itself costs. A worker process
(engine.training.worker) hosts the trainer for the GUI; the command line runs it directly.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from engine.design import Design
from engine.errors import DesignError
from engine.fileformat import save_design
from engine.run_files import add_metrics_row, write_metrics, write_summary
from engine.training.checkpoint import load_checkpoint, save_weights, write_checkpoint
from engine.training.control import Control
from engine.training.cost import TooLargeForMemory
from engine.training.datacheck import DataError
from engine.training.devices import device_name, out_of_memory
from engine.training.diagnostics import (
    DiagnosticLog,
    first_pass_dead_fractions,
    gradient_norms,
    non_finite,
)
from engine.training.epoch_probes import EpochProbes, epoch_probes
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
from engine.training.plan import Loss, weights_file
from engine.training.portable.batches import chunks, on_device
from engine.training.portable.builtin_data import ring_centres
from engine.training.portable.evaluation import (
    evaluate_classification,
    evaluate_gan,
    evaluate_regression,
    mean_image_error,
    mode_coverage,
)
from engine.training.portable.processes import cpu_threads
from engine.training.portable.steps import epoch_means
from engine.training.run_state import RunSetup, RunState, decide, prepare
from engine.training.samples import autoencoder_samples, gan_samples, series_samples, text_samples

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
    probe: dict[str, Any] | None = None   # probe each epoch end (engine.training.epoch_probes)


# What a failed run's `error` says, by the type of what stopped it (the first that matches).
FAILURE_KINDS: tuple[tuple[type[Exception], str], ...] = (
    (DataError, "data"), (TooLargeForMemory, "out_of_memory"), (SettingError, "settings"),
    (DesignError, "design"))


class Trainer:
    """One run: prepare (settings, data, networks), loop over epochs, write results.

    The prepared parts are frozen (`state`, engine.training.run_state); the attributes set
    here are the run's progress, which the loop, checkpoints and resuming change."""

    def __init__(self, design: Design, emit: Callable[[RunMessage], None],
                 options: RunOptions | None = None, control: Control | None = None) -> None:
        self.design = design
        self.emit = emit
        self.options = options or RunOptions()
        self.control = control or Control()
        self.run_id = self.options.run
        self.out = Path(self.options.out_dir) if self.options.out_dir else None
        self.setup: RunSetup | None = None   # once the settings are decided
        self.state: RunState | None = None   # once data and networks are ready
        self.history: list[dict[str, float]] = []
        self.step = 0
        self.epoch = 0
        self.first_epoch = 1
        self.skip_batches = 0   # resuming mid-epoch: the batches already trained on
        self.partial: list = []   # ... and their results
        self.best: dict[str, Any] = {"loss": math.inf, "epoch": 0}
        self.best_state: dict[str, Any] | None = None   # weights kept by early stopping
        self.best_step: int | None = None   # the step `best_state` was taken at
        self.last_checkpoint: str | None = None
        self.checkpoint_step: int | None = None   # the step `last_checkpoint` was written at
        self.diagnostics = DiagnosticLog()
        self.metrics_columns: list[str] | None = None   # metrics.csv's, once written
        self.probes: EpochProbes | None = None

    # ------------------------------------------------------------------ the run
    def run(self) -> RunMessage:
        """Train to the end; return the final event (also emitted)."""
        import torch

        started = time.perf_counter()
        allocator_said = ""   # what the allocator said, when memory ran out
        own_threads = torch.get_num_threads()   # given back: a worker runs many runs
        try:
            self._prepare()
            status = self._loop()
            final: RunMessage = self._finish(status, time.perf_counter() - started)
        except NonFiniteLoss as err:
            final = self._non_finite(err)
        except Exception as err:  # noqa: BLE001 - a run must end with an event, whatever broke
            if out_of_memory(err):
                allocator_said = f"{type(err).__name__}: {err}"
            else:
                final = self._failure(err)
        finally:
            torch.set_num_threads(own_threads)
        if allocator_said:
            # Outside the except block: its frames no longer hold the tensors.
            final = self._memory_failure(allocator_said)
        self.emit(final)
        return final

    def _non_finite(self, err: NonFiniteLoss) -> Failed:
        self._diagnose([non_finite(self.run_id, err.name, err.step, err.epoch,
                                   self.last_checkpoint)])
        return Failed(self.run_id, reason=(
            f"the {err.name} became NaN or infinite at step {err.step} (epoch "
            f"{err.epoch}), so training stopped; lower the learning rate or set "
            f"{setting_place('grad_clip')}" + (
                f". The last good checkpoint is {self.last_checkpoint}"
                if self.last_checkpoint else "")),
            error="non_finite_loss", epoch=err.epoch, step=err.step,
            checkpoint=self.last_checkpoint)

    def _failure(self, err: Exception) -> Failed:
        """The failed event for what stopped the run (called in the except block)."""
        for kind, error in FAILURE_KINDS:
            if isinstance(err, kind):
                return self._failed(error, str(err))
        if isinstance(err, OSError) and self._in_run_folder(err.filename):
            return self._failed("files", f"the run's folder {self.out} cannot be written "
                                f"({err.strerror or err}: {err.filename}), so training "
                                "stopped; make it writable or free some space",
                                traceback.format_exc())
        return self._failed("exception", f"training stopped on an unexpected error: "
                            f"{type(err).__name__}: {err}", traceback.format_exc())

    def _memory_failure(self, details: str) -> Failed:
        """Let go of the run's tensors, then say what to make smaller."""
        import torch

        self.state = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        device = self.setup.device if self.setup else None   # None: ran out while deciding
        place = ("this machine" if device is None or device.type in ("cpu", "mps")
                 else f"the device ({device})")
        return self._failed("out_of_memory", f"{place} ran out of memory, so training "
                            f"stopped; lower {setting_place('batch_size')} or use smaller "
                            "layers (fewer features or channels)", details)

    def _in_run_folder(self, filename: object) -> bool:
        """Whether a file an OSError names is one of this run's own (not the data's)."""
        if self.out is None or not isinstance(filename, (str, bytes)) or not filename:
            return False
        name = Path(filename.decode() if isinstance(filename, bytes) else filename)
        return name.absolute().is_relative_to(self.out.absolute())

    def _failed(self, error: str, reason: str, details: str = "") -> Failed:
        return Failed(self.run_id, reason=reason, error=error, epoch=self.epoch, step=self.step,
                      checkpoint=self.last_checkpoint, details=details)

    # ------------------------------------------------------------------ preparation
    def _prepare(self) -> None:
        self.setup = decide(self.design, self.options.overrides)
        self.state = prepare(self.setup, self.run_id)
        self._choose_threads()
        if self.options.resume:
            self._resume(self.options.resume)
        self._announce()

    def _choose_threads(self) -> None:
        """On the CPU, compute with the threads the settings ask for: the portable
        `cpu_threads`, from the cost estimate's FLOPs (the portable `forward_flops` of each
        network on its input, which the exported script counts too)."""
        import torch

        setup = self.state.setup
        if setup.device.type == "cpu":
            torch.set_num_threads(cpu_threads(setup.settings.threads,
                                              setup.cost.flops_per_sample,
                                              setup.settings.batch_size))

    def _announce(self) -> None:
        """The Started event, the run folder's first files, and warnings about the data."""
        import torch

        setup, data, models = self.state.setup, self.state.data, self.state.networks.models
        plan, s = setup.plan, setup.settings
        self.emit(Started(
            self.run_id, settings=s.to_dict(), device=str(setup.device),
            device_name=device_name(setup.device), task=plan.task,
            threads=torch.get_num_threads() if setup.device.type == "cpu" else 0,
            networks={n: sum(p.numel() for p in m.parameters()) for n, m in models.items()},
            data=data.loaded.summary(plan), batches_per_epoch=data.batches_per_epoch,
            epochs=s.epochs, first_epoch=self.first_epoch,
            out_dir=str(self.out) if self.out else None, cost=setup.cost.as_dict()))
        if self.out:
            self.out.mkdir(parents=True, exist_ok=True)
            save_design(setup.design, self.out / "design.ncnet")
            self.metrics_columns = write_metrics(self.out, self.history)
        self._diagnose([Diagnostic(self.run_id, code="class_count", severity="warning",
                                   message=warning, fix="set the Output's size to the number "
                                   "of classes") for warning in data.loaded.warnings])
        if plan.amp and self.state.networks.amp is None:
            self._diagnose([Diagnostic(self.run_id, code="precision", severity="info",
                                       message=f"mixed precision ({s.precision}) works on "
                                       f"CUDA only; this run on {setup.device} uses full "
                                       "precision")])
        if self.options.probe is not None:
            self.probes, problem = epoch_probes(setup, self.run_id, self.options.probe)
            if problem is not None:
                self.emit(problem)

    def _resume(self, path: str) -> None:
        import torch

        checkpoint = load_checkpoint(path)
        record = checkpoint.record
        networks, device = self.state.networks, self.state.setup.device
        for network, model in networks.models.items():
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
        for optimizer, saved in zip(networks.optimizers, state["optimizers"], strict=True):
            optimizer.load_state_dict(saved)
        for scheduler, saved in zip(networks.schedulers, state["schedulers"], strict=True):
            scheduler.load_state_dict(saved)
        if networks.scaler is not None and state["scaler"]:   # float16 then and now
            networks.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.history = record["history"]
        self.step = record["step"]
        self.epoch = record["epoch"]
        self.first_epoch = record["epoch"] + 1
        self.skip_batches = record["batch"]
        self.partial = [{k: torch.tensor(v, device=device) for k, v in row.items()}
                        for row in record["partial"]]
        self.best = record["best"]
        self.best_state = {network: {k: v.to(device) for k, v in weights.items()}
                           for network, weights in checkpoint.best.items()} or None
        self.last_checkpoint = str(checkpoint.path)
        self.checkpoint_step = self.step

    # ------------------------------------------------------------------ the loop
    def _loop(self) -> str:
        s = self.state.setup.settings
        if self._commands_due() and self._obey([], 0):   # stopped before it began
            return "stopped"
        for epoch in range(self.first_epoch, s.epochs + 1):
            self.epoch = epoch
            self.state.data.sampler.set_epoch(epoch)
            lr = self.state.networks.optimizers[0].param_groups[0]["lr"]
            started = time.perf_counter()
            results = self._epoch_steps(lr, started)
            if results is None:
                return "stopped"
            seconds = time.perf_counter() - started
            row = {"epoch": epoch, "lr": lr, **epoch_means(results)}
            extra = self._validate(row)
            self._step_schedule(row, lr)
            self.history.append(row)
            self._epoch_events(row, seconds, len(results), extra)
            stop = self._early_stopping(row)
            if self.out and s.checkpoint_every and (epoch % s.checkpoint_every == 0
                                                    or epoch == s.epochs or stop):
                self._checkpoint("epoch")
            if stop:
                return "early_stopped"
            if self._commands_due() and self._obey([], 0):
                return "stopped"
        return "completed"

    def _epoch_steps(self, lr: float, started: float) -> list | None:
        """Train one epoch: its step results, or None when a command stopped the run."""
        steps = self.state.networks.steps(*self._step_arguments())
        results, batch = list(self.partial), self.skip_batches
        self.partial, self.skip_batches = [], 0
        report_at, pending = started + REPORT_EVERY, []
        every = self.state.setup.settings.diagnostics.grad_norm_every
        agree_every = self.control.agree_every   # 0: one process, commands act at once
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
                if not agree_every and self._obey(results, batch):
                    return None
            if agree_every and self.step % agree_every == 0 and self._obey(results, batch):
                return None
        self._report_batches(pending, batch, lr, started, len(results))
        return results

    def _step_arguments(self) -> tuple:
        setup, networks = self.state.setup, self.state.networks
        plan, s = setup.plan, setup.settings
        batches = self.state.epoch_batches()
        if self.skip_batches:  # resuming mid-epoch: skip the batches already trained on
            batches = islice(batches, self.skip_batches, None)
        if plan.task == "gan":
            return (networks.networks, networks.optimizers, batches, plan.noise_shape,
                    s.gan.d_steps, s.grad_clip, networks.amp, networks.scaler)
        return (networks.networks[0], networks.optimizers[0], batches, networks.loss,
                s.grad_clip, networks.amp, networks.scaler)

    def _commands_due(self) -> bool:
        """Whether to act on commands at an epoch's start or end: when one is waiting, and
        always in a run of several processes, which agree there (`Control.agree`)."""
        return self.control.pending or bool(self.control.agree_every)

    def _obey(self, results: list, batch: int) -> bool:
        """Act on commands between steps; True when the run must stop. In a run of several
        processes every one of them calls this at the same steps."""
        control = self.control
        control.agree()
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
        s, per_epoch = self.state.setup.settings, self.state.data.batches_per_epoch
        elapsed = time.perf_counter() - started
        rate = done * s.batch_size / elapsed if elapsed > 0 else 0.0
        remaining = (per_epoch - batch) + per_epoch * (s.epochs - self.epoch)
        eta = remaining * s.batch_size / rate if rate else 0.0
        self.emit(Batch(self.run_id, epoch=self.epoch, batch=batch, batches=per_epoch,
                        step=self.step, values=values, lr=lr, samples_per_second=rate,
                        elapsed=elapsed, eta=eta))
        self._diagnose(self.state.watches.loss.check_steps(values.get("loss", []), self.epoch,
                                                           self.step))

    # ------------------------------------------------------------------ epoch end
    def _validate(self, row: dict[str, Any]) -> dict[str, Any]:
        """Add the validation measures to `row`; return what the epoch's events show besides
        (confusion, GAN samples) and, under "dead", the share of never-firing units of each
        ReLU not yet warned about, measured on the first validation batch."""
        watches = self.state.watches
        with first_pass_dead_fractions(watches.dead.unflagged(watches.relus)) as dead:
            extra = self._measure(row)
        return {**extra, "dead": dead}

    def _measure(self, row: dict[str, Any]) -> dict[str, Any]:
        """The validation measures, from the same functions as the exported script."""
        plan, tensors = self.state.setup.plan, self.state.data.tensors
        if plan.task == "gan":
            return self._validate_gan(row)
        if not plan.validates:
            return {}
        model = self.state.main_model()
        if plan.evaluation == "classification":
            val_loss, confusion = evaluate_classification(model, self._val_batches(),
                                                          plan.classes)
            counts = confusion.numpy()   # numpy: small arrays, a tenth of torch's overhead
            right = counts.diagonal()
            row.update(val_loss=val_loss, val_accuracy=float(right.sum() / counts.sum()))
            return {"confusion": counts,
                    "per_class": (right / counts.sum(1).clip(min=1)).tolist()}
        val_mse, val_mae = evaluate_regression(model, self._val_batches())
        loss = val_mae if plan.loss is Loss.MAE else val_mse
        if plan.evaluation == "regression":
            row.update(val_loss=loss, val_mse=val_mse, val_mae=val_mae)
        else:
            relative = val_mse / mean_image_error(tensors["train"], tensors["val"])
            row.update(val_loss=loss, val_mae=val_mae, val_relative_mse=relative)
        return {}

    def _validate_gan(self, row: dict[str, Any]) -> dict[str, Any]:
        data = self.state.data
        generator, discriminator = self.state.networks.models.values()
        accuracy, diversity, samples = evaluate_gan((generator, discriminator), data.real,
                                                    data.fixed_noise, data.real_spread)
        row.update(d_accuracy=accuracy, diversity=diversity)
        source = self.state.setup.settings.data
        if source.source == "gaussian_ring":
            covered, near = mode_coverage(samples, ring_centres(source.modes, source.radius),
                                          source.std)
            row.update(modes_covered=covered, near_mode=near)
        return {"samples": samples, "real": data.real}

    def _val_batches(self):
        setup, tensors = self.state.setup, self.state.data.tensors
        batch_size = setup.settings.batch_size
        if not setup.plan.data.in_memory:
            from torch.utils.data import DataLoader

            loader = DataLoader(tensors["val"], batch_size,
                                pin_memory=setup.device.type == "cuda")
            return on_device(loader, setup.device, setup.layout)
        targets = (tensors["val"] if setup.plan.task == "autoencoder"
                   else tensors["val_targets"])
        return chunks((tensors["val"], targets), batch_size)

    def _step_schedule(self, row: dict[str, Any], lr: float) -> None:
        setup, networks = self.state.setup, self.state.networks
        for scheduler in networks.schedulers:
            if setup.settings.schedule.name == "plateau":
                scheduler.step(row[setup.plan.monitored])
            else:
                scheduler.step()
        new = networks.optimizers[0].param_groups[0]["lr"]
        if new != lr:
            self.emit(LrChange(self.run_id, epoch=self.epoch, step=self.step, lr=new,
                               previous=lr))

    def _epoch_events(self, row: dict[str, Any], seconds: float, batches: int,
                      extra: dict[str, Any]) -> None:
        setup, watches = self.state.setup, self.state.watches
        train = {k: v for k, v in row.items() if k not in ("epoch", "lr")
                 and not k.startswith("val_") and k not in _VALIDATION_KEYS}
        rate = batches * setup.settings.batch_size / seconds if seconds > 0 else 0.0
        self.emit(EpochEnd(self.run_id, epoch=self.epoch, epochs=setup.settings.epochs,
                           metrics=train, lr=row["lr"], seconds=seconds,
                           samples_per_second=rate))
        validation = {k: v for k, v in row.items() if k.startswith("val_") or
                      k in _VALIDATION_KEYS}
        if validation:
            self.emit(Validation(self.run_id, epoch=self.epoch, metrics=validation,
                                 per_class=extra.get("per_class"),
                                 confusion=extra.get("confusion"),
                                 labels=self.state.data.loaded.labels))
        if self.out:
            self.metrics_columns = add_metrics_row(self.out, self.history, self.metrics_columns)
        self._diagnose(watches.loss.check_epoch(self.history))   # causes before symptoms
        self._report_gradients()
        self._diagnose(watches.dead.check(extra["dead"], self.epoch))
        self._diagnose(watches.overfit.check(self.history))
        if setup.plan.task == "gan":
            self._diagnose(watches.collapse.check(self.epoch, row["diversity"],
                                                  row["d_accuracy"]))
        self._samples(extra)
        probed = self.probes and self.probes.take(self.state.networks.models, self.epoch,
                                                  self.epoch == setup.settings.epochs)
        if probed:
            self.emit(probed)

    def _report_gradients(self) -> None:
        layers = gradient_norms(self.state.watches.layers)
        self.emit(Gradients(self.run_id, epoch=self.epoch, step=self.step, layers=layers))
        self._diagnose(self.state.watches.gradient.check(layers, self.epoch, self.step))

    def _diagnose(self, diagnostics: list[Diagnostic]) -> None:
        """Emit the diagnostics no earlier one explains, and keep the run folder's list."""
        admitted = [d for d in diagnostics if self.diagnostics.admit(d)]
        for diagnostic in admitted:
            self.emit(diagnostic)
        if admitted and self.out and self.out.is_dir():
            self.diagnostics.write(self.out)

    def _samples(self, extra: dict[str, Any]) -> None:
        setup, tensors = self.state.setup, self.state.data.tensors
        plan, epoch = setup.plan, self.epoch
        if plan.task == "gan":
            self.emit(gan_samples(self.run_id, epoch, plan, extra["samples"], extra["real"]))
            return
        if not plan.data.in_memory or not len(tensors["val"]):
            return
        model = self.state.main_model()
        if plan.task == "autoencoder":
            self.emit(autoencoder_samples(self.run_id, epoch, plan, model, tensors["val"],
                                          tensors["val_targets"]))
        elif plan.data.source == "text":
            self.emit(text_samples(self.run_id, epoch, plan, model, tensors["val"][0],
                                   self.state.data.loaded.vocabulary, setup.settings.seed))
        elif plan.task in ("sequence", "regression") and len(plan.networks[0].input_shape) == 2:
            self.emit(series_samples(self.run_id, epoch, model, tensors["val"],
                                     tensors["val_targets"]))

    def _keeps_best(self) -> bool:
        early = self.state.setup.settings.early_stopping
        return early.enabled and early.keep_best and self.state.setup.plan.task != "gan"

    def _early_stopping(self, row: dict[str, Any]) -> bool:
        """The exported script's rule: stop after `patience` epochs without improvement."""
        plan = self.state.setup.plan
        early = self.state.setup.settings.early_stopping
        monitored = row.get(plan.monitored)
        if monitored is not None and monitored < self.best["loss"] - early.min_delta:
            self.best = {"loss": monitored, "epoch": self.epoch}
            if plan.task != "gan":  # kept in memory, written at the end
                self.best_state = {network: {k: v.detach().clone()
                                             for k, v in model.state_dict().items()}
                                   for network, model in self.state.networks.models.items()}
                self.best_step = self.step
            return False
        return early.enabled and self.epoch - self.best["epoch"] >= early.patience

    # ------------------------------------------------------------------ files
    def _checkpoint(self, reason: str, partial: list | None = None, batch: int = 0) -> None:
        import torch

        networks, setup = self.state.networks, self.state.setup
        completed = self.epoch if reason != "request" or batch == 0 else self.epoch - 1
        name = f"epoch-{completed:04d}" + (f"-step-{self.step:07d}" if batch else "")
        state = {"optimizers": [o.state_dict() for o in networks.optimizers],
                 "schedulers": [scheduler.state_dict() for scheduler in networks.schedulers],
                 "scaler": {} if networks.scaler is None else networks.scaler.state_dict(),
                 "rng": torch.get_rng_state()}
        if torch.cuda.is_available() and setup.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        rows = [{k: v.item() for k, v in row.items()} for row in partial or []] if batch else []
        record = {"epoch": completed, "batch": batch, "step": self.step,
                  "history": self.history, "partial": rows,
                  "best": self.best, "settings": setup.settings_record, "reason": reason}
        best = self.best_state if self._keeps_best() else None
        path = write_checkpoint(self.out / "checkpoints", name, networks.models, state, record,
                                best)
        self.last_checkpoint, self.checkpoint_step = str(path), self.step
        self.emit(CheckpointWritten(self.run_id, epoch=record["epoch"], step=record["step"],
                                    path=str(path), reason=reason))

    def _write_weights(self, folder: str, states: dict[str, Any] | None = None,
                       same_as: Path | None = None) -> None:
        """Each network's weights in `folder` (the models' own, or `states`); `same_as`, a
        folder that holds these very weights, to link them from (no copy)."""
        for network, model in self.state.networks.models.items():
            state = states[network] if states else model.state_dict()
            name = weights_file(network)
            save_weights(self.out / folder / name, state, same_as and same_as / name)

    def _write_final_weights(self) -> None:
        """last/ (the weights as training left them) and best/; each a link to files that
        already hold the same weights where there are some (the last checkpoint, when no
        step came after it; last/, when the best epoch is the last)."""
        unchanged = self.checkpoint_step == self.step
        self._write_weights("last", same_as=Path(self.last_checkpoint) if unchanged else None)
        if self.best_state is not None:
            self._write_weights("best", self.best_state,
                                same_as=self.out / "last" if self.best_step == self.step else None)

    def _finish(self, status: str, seconds: float) -> Finished:
        models = self.state.networks.models
        keeps_best = self._keeps_best() and self.best_state is not None
        weights = {}
        metrics = self.history[-1] if self.history else {}
        if self.out:
            self._write_final_weights()
            weights = {n: str(self.out / ("best" if keeps_best else "last") / weights_file(n))
                       for n in models}
            write_summary(self.out, {"status": status, "epochs_done": len(self.history),
                                     "best_epoch": self.best["epoch"] or None,
                                     "seconds": seconds, "metrics": metrics, "weights": weights,
                                     "settings": self.state.setup.settings_record})
        if keeps_best:
            for network, model in models.items():
                model.load_state_dict(self.best_state[network])
        return Finished(self.run_id, status=status, epochs_done=len(self.history),
                        best_epoch=self.best["epoch"] or None, metrics=metrics,
                        out_dir=str(self.out) if self.out else None, weights=weights,
                        seconds=seconds)


_VALIDATION_KEYS = frozenset({"d_accuracy", "diversity", "modes_covered", "near_mode"})
