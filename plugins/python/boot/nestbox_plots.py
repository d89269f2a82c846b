"""nestbox's matplotlib backend: Agg, where showing a figure saves it as a PNG in the work
directory (figure_1.png, figure_2.png, ... never over an existing file), so it is returned with
the run's files and shown in the chat. Selected with MPLBACKEND=module://nestbox_plots; a program
that picks another backend (`matplotlib.use("Agg")`) still gets its open figures saved at the end.
"""

import os
import sys

from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase, _Backend
from matplotlib.backends.backend_agg import FigureCanvasAgg, _BackendAgg

WORK = os.environ.get("NESTBOX_CWD", "/work")


def _free_name():
    n = 1
    while os.path.lexists(os.path.join(WORK, f"figure_{n}.png")):
        n += 1
    return os.path.join(WORK, f"figure_{n}.png")


def save_figure(figure):
    """Save one figure unless it was saved already (by the program's own savefig, or here)."""
    if getattr(figure, "_nestbox_saved", False):
        return None
    path = _free_name()
    figure.savefig(path, format="png")
    return path


def save_open_figures():
    """Save every open pyplot figure, then close them (as showing them in a window would)."""
    for manager in Gcf.get_all_fig_managers():
        try:
            save_figure(manager.canvas.figure)
        except Exception as e:  # one broken figure must not hide the others or the output
            print(f"nestbox: could not save figure {manager.num}: {e}", file=sys.stderr)
    Gcf.destroy_all()


class FigureManagerNestbox(FigureManagerBase):
    def show(self):
        """`fig.show()`: save this figure now (it stays open)."""
        save_figure(self.canvas.figure)


class FigureCanvasNestbox(FigureCanvasAgg):
    manager_class = FigureManagerNestbox


@_Backend.export
class _BackendNestbox(_BackendAgg):
    FigureCanvas = FigureCanvasNestbox
    FigureManager = FigureManagerNestbox

    @staticmethod
    def show(*args, **kwargs):
        save_open_figures()
