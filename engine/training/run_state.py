"""A run's fixed parts, made once before its first epoch and read by the trainer's loop.

`decide` settles what the settings and the design ask for before any memory is taken (so a
run too large for the machine is refused with nothing loaded); `prepare` then loads the data,
builds the networks with their optimizers and sets up the watches. Each part is frozen: the
loop changes what the parts hold (weights, optimizer state, a watch's memory), never which
objects they are. What does change as the run goes (epoch, step, history, best weights)
belongs to the trainer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from engine.checking import Report, check
from engine.design import Design
from engine.errors import DesignError
from engine.training import excerpt
from engine.training.cost import Cost, TooLargeForMemory, estimate_cost, memory_shortfall
from engine.training.data import LoadedData, load_data
from engine.training.devices import resolve_device
from engine.training.diagnostics import (
    CollapseWatch,
    DeadUnitWatch,
    GradientWatch,
    Layer,
    LossWatch,
    OverfitWatch,
    layers_of,
    relu_modules,
)
from engine.training.labels import SettingError
from engine.training.plan import Plan, make_plan, optimizer_spec, schedule_spec
from engine.training.script import SAMPLE_COUNT
from engine.training.settings import TrainingSettings, settings_from


@dataclass(frozen=True)
class RunSetup:
    """What the run will do, decided from the design (with the run's overrides applied)."""

    design: Design
    settings: TrainingSettings
    plan: Plan
    report: Report
    cost: Cost
    device: Any   # torch.device

    @cached_property
    def settings_record(self) -> dict[str, Any]:
        """The settings as every checkpoint's record and the summary keep them: made once a
        run, not once an epoch (read only)."""
        return self.settings.to_dict()

    @property
    def layout(self) -> Any:
        """The memory format of the images and the networks' weights (the portable
        `image_layout`; a design without images keeps its own)."""
        import torch

        from engine.training.portable.batches import image_layout

        return image_layout(self.device) if self.plan.images else torch.preserve_format


@dataclass(frozen=True)
class RunData:
    """The samples and how each epoch draws them. `tensors`: "train", "val" (and their
    "_targets" when in memory), or two datasets streamed by `loader`."""

    loaded: LoadedData
    sampler: Any
    loader: Any | None         # streamed data only
    fixed_noise: Any | None    # a GAN's noise for the samples scored after each epoch
    real: Any | None           # ... the real samples they are scored against, and their
    real_spread: Any | None    # spread (the portable `spread`: the same every epoch)
    batches_per_epoch: int

    @property
    def tensors(self) -> dict[str, Any]:
        return self.loaded.tensors


@dataclass(frozen=True)
class RunNetworks:
    """What trains: the built models (by network), the modules the steps call (compiled when
    the settings say so), their optimizers and schedulers, and the portable steps and loss."""

    models: dict[str, Any]
    networks: list[Any]
    optimizers: list[Any]
    schedulers: list[Any]
    amp: Any | None            # the autocast dtype, on CUDA only (portable mixed_precision)
    scaler: Any | None         # float16's gradient scaler
    steps: Any                 # the portable steps function the plan names
    loss: Any | None           # the loss function (None for a GAN)


@dataclass(frozen=True)
class RunWatches:
    """What the run watches for diagnostics."""

    layers: list[Layer]
    relus: dict[str, Any]      # node id -> ReLU module of the first network
    gradient: GradientWatch
    overfit: OverfitWatch
    collapse: CollapseWatch
    loss: LossWatch
    dead: DeadUnitWatch


@dataclass(frozen=True)
class RunState:
    """Everything fixed about a run once it is prepared."""

    setup: RunSetup
    data: RunData
    networks: RunNetworks
    watches: RunWatches

    def main_model(self) -> Any:
        """The model trained (a GAN's generator)."""
        return self.networks.models[self.setup.plan.networks[0].network]

    def epoch_batches(self) -> Any:
        """One epoch of training batches, drawn as the data is held: slices of tensors in
        memory (in the sampler's order for this epoch), or a loader's batches moved to the
        device."""
        from engine.training.portable.batches import on_device, tensor_batches

        plan, data = self.setup.plan, self.data
        if not plan.data.in_memory:
            return on_device(data.loader, self.setup.device, self.setup.layout)
        tensors = ((data.tensors["train"],) if plan.task in ("gan", "autoencoder")
                   else (data.tensors["train"], data.tensors["train_targets"]))
        return tensor_batches(tensors, data.sampler, self.setup.settings.batch_size)


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


def decide(design: Design, overrides: dict[str, Any] | None = None) -> RunSetup:
    """The run's settings, plan, cost and device; TooLargeForMemory when the estimate does
    not fit the device, refused before any data or weights take memory."""
    training = settings_with(design.training, overrides)
    settings = _settings(training)
    design = design.copy()
    design.training = training
    report = check(design)
    plan = make_plan(design, settings, report)
    cost = estimate_cost(design, plan, report)
    device = resolve_device(settings.device)
    shortfall = memory_shortfall(cost, device)
    if shortfall:
        raise TooLargeForMemory(shortfall)
    return RunSetup(design, settings, plan, report, cost, device)


def _settings(training: dict[str, Any]) -> TrainingSettings:
    """The settings, or a SettingError: whatever `settings_from` refuses is in the settings."""
    try:
        return settings_from(training)
    except SettingError:
        raise
    except DesignError as err:
        raise SettingError((err.path or "").removeprefix("$.training").lstrip("."),
                           str(err)) from None


def prepare(setup: RunSetup, run_id: int) -> RunState:
    """Load the data, then build the networks (seeded as the exported script seeds them)."""
    loaded = load_data(setup.plan, setup.design, setup.device, setup.layout)
    networks = build_networks(setup)
    return RunState(setup, draw(setup, loaded), networks,
                    watch(setup, networks.models, run_id))


def build_networks(setup: RunSetup) -> RunNetworks:
    import torch

    from engine.compiler import build_model
    from engine.training.portable.processes import process_share, wrap_for_processes
    from engine.training.portable.steps import mixed_precision

    plan, s = setup.plan, setup.settings
    torch.manual_seed(s.seed)
    models = {io.network: build_model(setup.design, io.network, report=setup.report)
              .to(setup.device, memory_format=setup.layout) for io in plan.networks}
    _, world_size = process_share()
    networks = [wrap_for_processes(m, world_size) for m in models.values()]
    networks = [torch.compile(n) if s.compile else n for n in networks]
    name, options = optimizer_spec(plan)
    optimizers = [getattr(torch.optim, name)(m.parameters(), lr=s.optimizer.lr, **options)
                  for m in models.values()]
    spec = schedule_spec(plan, s.epochs)
    schedulers = [getattr(torch.optim.lr_scheduler, spec[0])(optimizer, **spec[1])
                  for optimizer in optimizers] if spec else []
    amp, scaler = mixed_precision(setup.device, s.precision)
    return RunNetworks(models, networks, optimizers, schedulers, amp, scaler,
                       excerpt.portable_function(plan.steps_function), _loss_function(plan))


def _loss_function(plan: Plan) -> Any:
    if plan.loss is None:
        return None
    if plan.loss.torch_name:
        import torch.nn.functional as F

        return getattr(F, plan.loss.torch_name)
    return excerpt.portable_function(plan.loss)


def draw(setup: RunSetup, loaded: LoadedData) -> RunData:
    """How each epoch draws the samples: the same sampler (and loader) as the script's."""
    import torch
    from torch.utils.data.distributed import DistributedSampler

    from engine.training.portable.evaluation import spread
    from engine.training.portable.processes import process_share

    plan, s = setup.plan, setup.settings
    rank, world_size = process_share()   # under torchrun, this process's share
    sampler = DistributedSampler(loaded.tensors["train"], world_size, rank, seed=s.seed)
    loader = None
    if not plan.data.in_memory:
        from torch.utils.data import DataLoader

        loader = DataLoader(loaded.tensors["train"], s.batch_size, sampler=sampler,
                            drop_last=True, num_workers=s.data.workers,
                            pin_memory=setup.device.type == "cuda")
    fixed_noise = real = real_spread = None
    if plan.task == "gan":
        noise_source = torch.Generator().manual_seed(s.seed)
        fixed_noise = torch.randn(SAMPLE_COUNT, *plan.noise_shape,
                                  generator=noise_source).to(setup.device)
        real = loaded.tensors["val" if plan.validates else "train"][:SAMPLE_COUNT]
        real_spread = spread(real)
    return RunData(loaded, sampler, loader, fixed_noise, real, real_spread,
                   len(sampler) // s.batch_size)


def watch(setup: RunSetup, models: dict[str, Any], run_id: int) -> RunWatches:
    plan, s = setup.plan, setup.settings
    layers = [layer for network, model in models.items()
              for layer in layers_of(model, network, plan.names)]
    first = plan.networks[0].network
    return RunWatches(
        layers, relu_modules(models[first]) if plan.task != "gan" else {},
        GradientWatch(s.diagnostics, run_id), OverfitWatch(s.diagnostics.overfit_epochs, run_id),
        CollapseWatch(s.diagnostics.collapse_below, run_id),
        LossWatch(s.optimizer.lr, s.optimizer.name, run_id),
        DeadUnitWatch(run_id, plan.names, first))
