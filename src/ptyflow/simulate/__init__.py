"""The 4D-STEM simulator behind ``ptyflow simulate``.

:func:`run_simulation` turns a :class:`~ptyflow.config.simulate.SimulateConfig` into a
dataset store plus its exact ground truth. :func:`plan_simulation` exposes the pieces (the
simulation window, the specimen, the probe positions and the :class:`FrameSimulator`) for
tests and notebooks.
"""

from ptyflow.simulate._frames import FrameBlock, FrameSimulator
from ptyflow.simulate._plan import SimulationPlan, plan_simulation
from ptyflow.simulate._run import TRUTH_NAME, SimulationResult, run_simulation, truth_path
from ptyflow.simulate._specimen import SampledObject, Specimen, build_specimen, sample_object
from ptyflow.simulate._window import MAX_WINDOW_PX, SimulationWindow

__all__ = [
    "MAX_WINDOW_PX",
    "TRUTH_NAME",
    "FrameBlock",
    "FrameSimulator",
    "SampledObject",
    "SimulationPlan",
    "SimulationResult",
    "SimulationWindow",
    "Specimen",
    "build_specimen",
    "plan_simulation",
    "run_simulation",
    "sample_object",
    "truth_path",
]
