"""A board in a team's lab, held through labgrid: ``--on labgrid:PLACE`` or ``--on labgrid:TAG=VALUE[,TAG=VALUE]``.

labgrid's coordinator knows the lab's places and who holds each; an exporter beside the board publishes its
resources, among them a ``NetworkService`` (address, port, user) to reach it over SSH. For the whole of a stage's
run on it (``with target:``), this target:

1. reserves the place: by name, or any free place whose tags match, as labgrid's own reservations do; while
   others hold it, it waits, counting down, at most ``--lab-timeout`` seconds, then names the holder (exit 1);
2. acquires it, so that nobody else (another edgemnist run, a CI job, a colleague) uses the board meanwhile;
3. runs everything through the SSH target (``ssh.Board``) at the NetworkService's address;
4. checks after each worker that the place is still ours with its resource: a result measured while the
   exporter was gone, or after someone kicked us out, is not kept;
5. releases the place and cancels the reservation, whatever happened.

labgrid is driven through ``labgrid-client``, the command labgrid documents for scripts and CI, and never imported:
the user's labgrid settings (``LG_USERNAME``, ``LG_HOSTNAME``) apply as in their terminal, a labgrid installed
apart (pipx, a distribution's package) serves as well as edgemnist[lab]'s, and no gRPC event loop runs inside
edgemnist's threads. Each command costs a second or two; a run makes about five, plus one check per worker.
"""

from __future__ import annotations

import ast
import getpass
import os
import re
import shutil
import socket
import subprocess
import sysconfig
import time
from dataclasses import dataclass, field

from ..common.errors import EXIT_CHECK_FAILED, EdgemnistError
from ..common.jobs import WorkerJob
from ..common.progress import SILENT, Progress
from . import TARGETS
from .base import Outcome, Target, TargetError
from .ssh import Board

DEFAULT_COORDINATOR = "127.0.0.1:20408"  # labgrid-client's own default
LAB_TIMEOUT_S = 600  # how long a run waits for a place others hold
CLIENT_TIMEOUT_S = 60  # one labgrid-client command: connect, ask, answer
QUIET_WAIT_S = 3  # labgrid-client polls its reservation every second: a free place comes within this, silently
COUNTDOWN_EVERY_S = 10
TAG_KEY = re.compile(r"[a-z][a-z0-9_]+")  # labgrid's tag keys
BLOCK = re.compile(r"(?P<kind>Place|Reservation) '(?P<name>[^']*)':")
RESOURCE = re.compile(r"(?P<state>Acquired|Orphaned) resource '[^']*' \((?P<path>[^)]*)\)")
NETWORK_SERVICE = "NetworkService"


class PlaceBusy(TargetError):
    """Others held the place for the whole --lab-timeout: the run failed (exit 1); the input was fine."""

    def __init__(self, message: str):
        super().__init__(message, exit_code=EXIT_CHECK_FAILED)


def client_program() -> str:
    """``labgrid-client`` beside this Python (edgemnist[lab] in a venv not activated), else on the PATH."""
    folders = [sysconfig.get_path("scripts"), os.environ.get("PATH", os.defpath)]
    found = shutil.which("labgrid-client", path=os.pathsep.join(folders))
    if not found:
        raise EdgemnistError("--on labgrid:… needs labgrid's client (labgrid-client): pip install 'edgemnist[lab]'")
    return found


def holder_name() -> str:
    """Who we are to the coordinator, by labgrid-client's own rule: the acquirer of the places we hold."""
    return f"{os.environ.get('LG_HOSTNAME', socket.gethostname())}/{os.environ.get('LG_USERNAME', getpass.getuser())}"


def parse_wanted(spec: str) -> dict[str, str]:
    """``labgrid:pi-1`` → {"name": "pi-1"}; ``labgrid:board=pi4,room=a`` → those tags: a reservation's filter
    (labgrid matches a place's name as the tag ``name``)."""
    wanted = spec.partition(":")[2]
    if "=" not in wanted and wanted and "," not in wanted:
        return {"name": wanted}
    pairs = [pair.partition("=") for pair in wanted.split(",")]
    if not wanted or any(not TAG_KEY.fullmatch(key) or not value or "=" in value for key, _, value in pairs):
        raise EdgemnistError(
            f"--on {spec!r}: expected labgrid:PLACE or labgrid:TAG=VALUE[,TAG=VALUE] (tags in lower case), "
            "e.g. labgrid:pi-1 or labgrid:board=pi4"
        )
    return {key: value for key, _, value in pairs}


def last_line(text: str) -> str:
    """labgrid-client's last word on stderr, without its "Server error: Error: " preamble."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return re.sub(r"^(Server error: |Error: )+", "", lines[-1])[:200] if lines else "no message"


def read_blocks(text: str, kind: str) -> dict[str, dict[str, str]]:
    """What labgrid-client lists (``-v places``, ``reservations``, ``show``): {name: {key: value}}, from each
    ``Place 'NAME':`` (or ``Reservation 'TOKEN':``) line and the ``  key: value`` lines under it."""
    blocks: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        header = BLOCK.fullmatch(line)
        if header:
            current = blocks.setdefault(header["name"], {}) if header["kind"] == kind else None
        elif current is not None and line.startswith("  ") and not line.startswith("   ") and ": " in line:
            key, _, value = line.strip().partition(": ")
            current[key] = value
        elif not line.startswith(" "):
            current = None
    return blocks


def tags_of(place: dict[str, str]) -> dict[str, str]:
    return dict(pair.partition("=")[::2] for pair in place.get("tags", "").split(", ") if pair)


def held_resources(shown: str) -> dict[str, tuple[str, dict]]:
    """``show`` of an acquired place: {resource path: ("Acquired" or "Orphaned", its parameters)}; labgrid prints
    an acquired resource's description as a Python dict (pformat), indented under its line."""
    found: dict[str, tuple[str, dict]] = {}
    lines = shown.splitlines()
    for number, line in enumerate(lines):
        resource = RESOURCE.match(line)
        if resource:
            body = []
            for following in lines[number + 1 :]:
                if not following.startswith("  "):
                    break
                body.append(following.strip())
            found[resource["path"]] = (resource["state"], described_params(" ".join(body)))
    return found


def described_params(text: str) -> dict:
    try:
        described = ast.literal_eval(text) if text else {}
    except (ValueError, SyntaxError):
        return {}
    return described.get("params", {}) if isinstance(described, dict) else {}


def ssh_destination(params: dict) -> str:
    """A NetworkService as ``--on`` would name the board: ``user@host:port``, an IPv6 address in brackets."""
    address = str(params.get("address", ""))
    host = f"[{address}]" if ":" in address else address
    user = f"{params['username']}@" if params.get("username") else ""
    return f"{user}{host}:{params.get('port') or 22}"


@dataclass
class Lease:
    """A place while we hold it, and the board behind its NetworkService."""

    place: str
    resource: str  # exporter/group/NetworkService/name
    board: Board

    @property
    def exporter(self) -> str:
        return self.resource.split("/")[0]


@TARGETS.register("labgrid")
@dataclass(eq=False)
class LabPlace(Target):
    """A place of a labgrid lab as the user named it; held, and its board reachable, only inside ``with``."""

    name: str  # the target as the user wrote it: labgrid:pi-1, labgrid:board=pi4
    wanted: dict[str, str]  # the reservation's filter
    coordinator: str
    lab_timeout: float
    remote_python: str = "python3"
    ssh_options: tuple[str, ...] = ()
    progress: Progress = SILENT
    token: str | None = None  # our reservation, from reserving to the end
    acquired: str | None = None  # the place, from acquiring it to releasing it
    lease: Lease | None = None
    record: dict = field(default_factory=dict)  # what reports keep of the last place held

    @classmethod
    def parse(
        cls,
        spec: str,
        coordinator: str | None = None,
        lab_timeout: float | None = None,
        remote_python: str = "python3",
        ssh_options=(),
        progress: Progress = SILENT,
        **_,
    ) -> LabPlace:
        """A place or tag that the lab lacks, or no coordinator there, is one line and exit 2 before anything runs."""
        client_program()
        address = coordinator or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR
        timeout = LAB_TIMEOUT_S if lab_timeout is None else lab_timeout
        target = cls(spec, parse_wanted(spec), address, timeout, remote_python, tuple(ssh_options), progress)
        try:
            target.candidates()
        except TargetError as exc:
            raise EdgemnistError(str(exc)) from None
        return target

    # -- holding the place ---------------------------------------------------------------------------------------

    def __enter__(self) -> LabPlace:
        started, self.record = time.monotonic(), {}
        try:
            self.lease = self.take(self.reserve())
        except BaseException:
            self.__exit__()
            raise
        waited = time.monotonic() - started
        self.record = {
            "coordinator": self.coordinator,
            "place": self.lease.place,
            "exporter": self.lease.exporter,
            "resource": self.lease.resource,
            "ssh": self.lease.board.name,
            "waited_s": round(waited, 1),
        }
        self.say(f"acquired {self.lease.place} ({self.lease.resource}) after {waited:.0f} s")
        return self

    def __exit__(self, *exc_info) -> None:
        """Give the place back and cancel the reservation, whatever happened. A failure here is said, not raised
        over the run's own outcome: the rows measured while the place was ours stand."""
        if self.acquired:
            try:
                self.client("release-from", holder_name(), place=self.acquired)
            except TargetError as exc:
                self.say(f"could not release {self.acquired}: {exc}; run labgrid-client -p {self.acquired} release")
        if self.token:
            try:
                self.client("cancel-reservation", self.token)
            except TargetError:
                pass  # a reservation nobody polls expires within a minute by itself
        self.token = self.acquired = self.lease = None

    def reserve(self) -> str:
        """Queue for the place through labgrid's reservations and wait until it is ours to acquire; the token."""
        waiting = subprocess.Popen(  # Ctrl-C at a terminal reaches this one: waiting stops with the run
            self.command("reserve", "--wait", "--shell", *self.filters()),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # the token line comes before the wait, not after it
        )
        try:
            assert waiting.stdout is not None and waiting.stderr is not None
            token = waiting.stdout.readline().strip().partition("LG_TOKEN=")[2]
            if not token:
                raise TargetError(f"labgrid coordinator {self.coordinator}: {last_line(waiting.stderr.read())}")
            self.token = token  # cancelled by __exit__ from here on, whatever happens
            self.wait_for(waiting)
            return token
        finally:
            if waiting.poll() is None:
                waiting.kill()
            waiting.communicate()

    def wait_for(self, waiting: subprocess.Popen) -> None:
        """Until labgrid allocates the place, with a countdown; past --lab-timeout, PlaceBusy naming the holders."""
        now = time.monotonic()
        # A free place is allocated within labgrid-client's first poll: a second even with --lab-timeout 0.
        deadline, note_at, noted = now + max(self.lab_timeout, 1), now + QUIET_WAIT_S, False
        while waiting.poll() is None:
            now = time.monotonic()
            if now >= deadline:
                raise PlaceBusy(f"{self.holders()}; gave up waiting after {self.lab_timeout:g} s (--lab-timeout)")
            if now >= note_at:
                left = f"{deadline - now:.0f} s left"
                self.say(f"still waiting, {left}" if noted else f"{self.holders()}; waiting, {left} (--lab-timeout)")
                note_at, noted = now + COUNTDOWN_EVERY_S, True
            try:
                waiting.wait(timeout=min(deadline, note_at) - now)
            except subprocess.TimeoutExpired:
                pass
        if waiting.returncode:
            assert waiting.stderr is not None
            raise TargetError(f"waiting for the place stopped: {last_line(waiting.stderr.read())}")

    def take(self, token: str) -> Lease:
        """Acquire the place labgrid allocated to ``token`` and find its board."""
        self.client("acquire", place=f"+{token}")
        self.acquired = f"+{token}"  # ours now: released by its reservation's token until we know its name
        shown = self.client("show", place=self.acquired)
        self.acquired = next(iter(read_blocks(shown, "Place")), self.acquired)
        services = {
            path: (state, params)
            for path, (state, params) in held_resources(shown).items()
            if path.split("/")[2:3] == [NETWORK_SERVICE]
        }
        if len(services) != 1:
            found = f"{len(services)}: {', '.join(services)}" if services else "none"
            raise TargetError(
                f"place {self.acquired} needs one {NETWORK_SERVICE} to reach its board over SSH; it has {found}"
            )
        ((path, (state, params)),) = services.items()
        if state != "Acquired":
            raise TargetError(f"place {self.acquired}: {path} is gone (is its exporter running?)")
        if not params.get("address"):
            raise TargetError(f"place {self.acquired}: labgrid shows no address for {path}")
        board = Board.parse(ssh_destination(params), remote_python=self.remote_python, ssh_options=self.ssh_options)
        return Lease(self.acquired, path, board)

    def check_held(self, lease: Lease) -> None:
        """The place is still ours and its resource still exported; otherwise what ran meanwhile is not kept."""
        shown = self.client("show", place=lease.place)
        holder = read_blocks(shown, "Place").get(lease.place, {}).get("acquired")
        if holder != holder_name():
            raise TargetError(f"place {lease.place} was taken over by {holder} during the run")
        if held_resources(shown).get(lease.resource, ("Orphaned",))[0] != "Acquired":
            raise TargetError(
                f"place {lease.place} lost {lease.resource} during the run: its exporter {lease.exporter} is gone"
            )

    # -- what every target offers ------------------------------------------------------------------------------

    def leased(self) -> Lease:
        if self.lease is None:
            raise RuntimeError(f"{self.name} is used outside `with`: the place is not held")
        return self.lease

    def identify(self, models=()) -> dict:
        return self.leased().board.identify(models)

    def place(self, paths: list[str]) -> tuple[dict[str, str], str]:
        return self.leased().board.place(paths)

    def run(self, module: str, job: WorkerJob, timeout: float) -> Outcome:
        lease = self.leased()
        outcome = lease.board.run(module, job, timeout)
        self.check_held(lease)
        return outcome

    def settings(self) -> dict:
        return {"remote_python": self.remote_python, "lab": self.record}

    # -- labgrid-client ----------------------------------------------------------------------------------------

    def command(self, *args: str, place: str | None = None) -> list[str]:
        return [client_program(), "-x", self.coordinator, *(["-p", place] if place else []), *args]

    def client(self, *args: str, place: str | None = None) -> str:
        """What ``labgrid-client ARGS`` printed; its failure is a TargetError with its last line. Each runs in a
        session of its own, so that a terminal's Ctrl-C cannot cut a release short."""
        try:
            done = subprocess.run(
                self.command(*args, place=place),
                capture_output=True,
                text=True,
                timeout=CLIENT_TIMEOUT_S,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            raise TargetError(f"labgrid coordinator {self.coordinator}: no answer in {CLIENT_TIMEOUT_S} s") from None
        if done.returncode:
            raise TargetError(f"labgrid coordinator {self.coordinator}: {last_line(done.stderr)}")
        return done.stdout

    def candidates(self) -> dict[str, dict[str, str]]:
        """The lab's places this target may take, as ``-v places`` lists them; none is the user's typo."""
        places = read_blocks(self.client("-v", "places"), "Place")
        found = {name: place for name, place in places.items() if self.fits(name, place)}
        if not found:
            known = ", ".join(sorted(places)) or "none"
            wanted = self.wanted["name"] if list(self.wanted) == ["name"] else "tagged " + ",".join(self.filters())
            raise TargetError(f"labgrid coordinator {self.coordinator} has no place {wanted}; its places: {known}")
        return found

    def fits(self, name: str, place: dict[str, str]) -> bool:
        given = {**tags_of(place), "name": name}
        return all(given.get(key) == value for key, value in self.wanted.items())

    def filters(self) -> list[str]:
        return [f"{key}={value}" for key, value in self.wanted.items()]

    def holders(self) -> str:
        """Who holds the places this target may take: ``pi-1 held by ci/jenkins, pi-2 reserved by lab/ana``."""
        reservations = read_blocks(self.client("reservations"), "Reservation")
        taken = []
        for name, place in sorted(self.candidates().items()):
            if place.get("acquired", "None") != "None":
                taken.append(f"{name} held by {place['acquired']}")
            elif place.get("reservation"):
                taken.append(
                    f"{name} reserved by {reservations.get(place['reservation'], {}).get('owner', 'another run')}"
                )
        return ", ".join(taken) or "no matching place came free"

    def say(self, message: str) -> None:
        self.progress.say(f"{self.name}: {message}")
