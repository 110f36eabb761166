"""What each of torchrun's processes runs when the app trains in several processes.

`python -m engine.training.distributed_rank JOB` (started by engine.training.distributed):
join the process group as an exported script does, then run the app's Trainer on this
process's share of the data. Rank 0 writes the run folder and sends its events to the
launcher; a rank whose run fails exits with its reason in torchrun's error file, so the
launcher can say which process failed and why, and torchrun stops the others at once.
Rank 0 also takes the launcher's commands (pause, resume, stop, checkpoint); every process
acts on them at the same step (AgreedControl).
"""

from __future__ import annotations

import sys

from torch.distributed.elastic.multiprocessing.errors import get_error_handler, record

from engine.child_process import tie_to_parent
from engine.training.control import AgreedControl
from engine.training.distributed import events_to_launcher, job_of
from engine.training.events import Failed


class RankFailed(Exception):
    """This process's run failed; the message is the Trainer's reason."""


@record
def main(job_file: str) -> None:
    import torch.distributed as dist

    from engine.training.devices import resolve_device
    from engine.training.portable.processes import start_processes
    from engine.training.run_state import settings_with
    from engine.training.settings import settings_from
    from engine.training.trainer import RunOptions, Trainer

    tie_to_parent()   # Ctrl+C is the launcher's, which then ends every process
    design, options = job_of(job_file)
    overrides = dict(options.pop("overrides") or {})
    settings = settings_from(settings_with(design.training, overrides))
    rank, _, device = start_processes(str(resolve_device(settings.device)))
    overrides["device"] = str(device)   # cuda:LOCAL_RANK on a GPU machine
    if rank != 0:
        options["out_dir"] = None   # rank 0 writes the run folder for every process
    control = AgreedControl(device)   # every process pauses and stops at the same step
    emit, connection = events_to_launcher(rank, control)
    try:
        final = Trainer(design, emit, RunOptions(**options, overrides=overrides), control).run()
    finally:
        if connection is not None:
            connection.close()
    if isinstance(final, Failed):   # for the launcher, without a traceback: the reason says it
        get_error_handler().record_exception(RankFailed(final.reason))
        sys.exit(1)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
