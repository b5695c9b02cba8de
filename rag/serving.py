"""The JSON API on Ray Serve: `rag serve --ray [--address A] [--replicas N|auto]` (pip install .[serve]).

One application, "verbatim", of these deployments:

    Verbatim       the ingress: the FastAPI app of rag/api, light; turns a replica lost mid-question into a 503
    Answerer       embedder, reader and retrieval: `--replicas` of them, or autoscaled on queue length
    shard-0 …      one per shard of a sharded index (rag/shards.py), each holding its own segments
    Librarian      one replica that adds and removes articles (none when the library is read-only)

An unsharded index is opened by each Answerer itself. A sharded one is read through the shards' deployments,
merged by the Answerer's ShardedStore exactly as in one process. Every replica reopens its index when the
index's commit changes, so a library change made by the Librarian reaches them all. The index folder and the
corpus must be on storage that all nodes share.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from . import settings
from .access import Access
from .errors import RagError, ServiceUnavailableError
from .shards import ShardedStore, ShardUnavailableError, shard_dirs
from .store import COMMIT_FILE, IndexStore, read_commit

APP = "verbatim"


@dataclass(frozen=True)
class Replicas:
    """How many Answerers: `count`, or (None) autoscaled from 1 to `maximum` on queued questions."""

    count: int | None = 1
    maximum: int = 4
    target_ongoing: int = 2  # questions in flight per replica that autoscaling aims at

    @classmethod
    def parse(cls, text: str, maximum: int = 4) -> Replicas:
        if text == "auto":
            return cls(None, maximum)
        if not text.isdigit() or int(text) < 1:
            raise RagError(f"--replicas is a number from 1 up, or auto; not {text!r}")
        return cls(int(text), maximum)

    def options(self) -> dict:
        if self.count is not None:
            return {"num_replicas": self.count}
        return {
            "autoscaling_config": {
                "min_replicas": 1,
                "max_replicas": self.maximum,
                "target_ongoing_requests": self.target_ongoing,
            }
        }


class LiveStore:
    """An index folder's store, reopened when its commit changes (a change made by another process)."""

    def __init__(self, index_dir: str | Path):
        self.index_dir = Path(index_dir)
        self._stamp = None
        self._store: IndexStore | None = None
        self._previous: IndexStore | None = None  # kept open for questions still reading it; the one before is closed
        self._lock = threading.Lock()

    def current(self) -> IndexStore:
        stamp = _stamp(self.index_dir)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    if self._previous is not None:
                        self._previous.close()
                    self._previous, self._store = self._store, IndexStore.open(self.index_dir)
                    self._stamp = stamp
        return self._store

    def at(self, generation: int | None) -> IndexStore:
        """The store of this commit generation (None: the current one), while it is current or the one before;
        else ShardUnavailableError: a question that began on it must be asked again."""
        current = self.current()
        if generation is None:
            return current
        for store in (current, self._previous):
            if store is not None and store.generations == [generation]:
                return store
        raise ShardUnavailableError("the index changed twice while this question was answered: ask again")


def _stamp(index_dir: Path) -> tuple:
    try:
        found = os.stat(index_dir / COMMIT_FILE)
    except FileNotFoundError:
        return ()
    return found.st_ino, found.st_mtime_ns, found.st_size


class ShardServer:
    """A shard's deployment: searches and reads its own index, as IndexStore does in one process."""

    def __init__(self, directory: str):
        self.live = LiveStore(directory)
        self.live.current()  # a shard that cannot open its index does not start (Serve tries again)

    def call(self, name: str, generation: int | None, *args) -> tuple[int, object]:
        """(generation, a method's result or, given no arguments, a property's value) of the index at this commit
        generation (None: as it is now), so that one question reads the commit its search found."""
        store = self.live.at(generation)
        found = getattr(store, name)
        return store.generations[0], found(*args) if callable(found) else found


# shard → the commit generation a request first read there (set per request by Answerer.call)
_PINNED: ContextVar[dict[int, int] | None] = ContextVar("verbatim_pinned", default=None)


class RemoteShard:
    """A shard's deployment seen from an Answerer, with the methods ShardedStore calls; a shard that does not
    answer within $VERBATIM_SHARD_TIMEOUT seconds, or whose replica died, raises ShardUnavailableError."""

    def __init__(self, number: int, shards: int):
        from ray import serve

        self.number = number
        self.shards = shards
        self.handle = serve.get_deployment_handle(f"shard-{number}", app_name=APP)
        self.timeout = float(settings.get("SHARD_TIMEOUT"))

    def _call(self, name: str, *args):
        from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError
        from ray.serve.exceptions import RayServeException

        pinned = _PINNED.get()
        if pinned is None:  # outside a request: nothing pinned
            pinned = {}
        try:
            generation, found = self.handle.call.remote(name, pinned.get(self.number), *args).result(
                timeout_s=self.timeout
            )
            pinned.setdefault(self.number, generation)
            return found
        except RayTaskError as exc:
            raise exc.cause from None  # the shard's own error (a missing article: KeyError), not a failure of Ray
        except (GetTimeoutError, TimeoutError, RayActorError, RayServeException) as exc:
            raise ShardUnavailableError(
                f"shard {self.number} of {self.shards} of the index is down or restarting: ask again shortly, "
                "or ask for partial results"
            ) from exc

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *args: self._call(method, *args)

    model = property(lambda self: self._call("model"))
    generations = property(lambda self: self._call("generations"))
    n_chunks = property(lambda self: self._call("n_chunks"))
    n_documents = property(lambda self: self._call("n_documents"))

    def close(self) -> None:
        pass


class Answerer:
    """An answering replica: the QA over its own copy of the index, or over the shards' deployments."""

    def __init__(self, index_dir: str, shards: int, reader: str | None):
        from .api.answering import Answering
        from .embedding import Embedder
        from .reader import Reader

        self.reader = Reader(reader)
        self.reader.load()
        if shards:  # the model is read from disk: shards cannot be called while the replica starts
            store = ShardedStore([RemoteShard(i, shards) for i in range(shards)])
            self.embedder = Embedder(read_commit(shard_dirs(index_dir)[0]).model)
            self._qa = self._new_qa(store)
            self.live = None
        else:
            self.live = LiveStore(index_dir)
            self.embedder = Embedder(self.live.current().model)
            self._qa = self._new_qa(self.live.current())
        self.answering = Answering(self.qa)

    def _new_qa(self, store):
        from .pipeline import QA

        return QA(store, self.embedder, reader=self.reader)

    def qa(self):
        """The QA of the index as it is now (a new one once the commit changed)."""
        if self.live is not None and self.live.current() is not self._qa.store:
            self._qa = self._new_qa(self.live.current())
        return self._qa

    def call(self, method: str, *args):
        """One request: every shard it reads is read at the commit generation it first found there."""
        token = _PINNED.set({})
        try:
            return getattr(self.answering, method)(*args)
        finally:
            _PINNED.reset(token)


class Librarian:
    """The one replica that changes the library: files into the corpus, then the index (each shard its own)."""

    def __init__(self, corpus: str, index_dir: str, reader: str | None):
        from .api.local import LocalBackend
        from .library import Library
        from .pipeline import reopen
        from .service import ChatService

        library = Library(corpus, index_dir, reader=reader)
        self.backend = LocalBackend(ChatService(library, reopen(index_dir, library.embedder, reader=library.reader)))

    def call(self, method: str, *args):
        return getattr(self.backend, method)(*args)


class RayBackend:
    """The ingress's backend: each call goes to an Answerer (or the Librarian) replica; a replica lost while it
    answered becomes ServiceUnavailableError (503), and the replica's own errors are raised as they were."""

    def __init__(self):
        from ray import serve

        self.answerer = serve.get_deployment_handle("Answerer", app_name=APP)
        self._serve = serve

    async def _call(self, deployment: str, method: str, *args):
        from ray.exceptions import RayActorError, RayTaskError
        from ray.serve.exceptions import RayServeException

        handle = (
            self.answerer if deployment == "Answerer" else self._serve.get_deployment_handle(deployment, app_name=APP)
        )
        try:
            return await handle.call.remote(method, *args)
        except RayTaskError as exc:
            raise exc.cause from None
        except (RayActorError, RayServeException) as exc:
            raise ServiceUnavailableError(
                "the replica answering this stopped (Ray Serve is starting another): ask again"
            ) from exc

    async def ask(self, *args):
        return await self._call("Answerer", "ask", *args)

    async def retrieve(self, *args):
        return await self._call("Answerer", "retrieve", *args)

    async def articles(self):
        return await self._call("Answerer", "articles")

    async def article(self, doc_id: str):
        return await self._call("Answerer", "article", doc_id)

    async def health(self):
        return await self._call("Answerer", "health")

    async def add(self, files):
        return await self._call("Librarian", "add", files)

    async def remove(self, doc_id: str):
        return await self._call("Librarian", "remove", doc_id)


def application(corpus: str, index_dir: str, replicas: Replicas, reader: str | None, access: Access):
    """The bound Ray Serve application (deployments as the module's docstring lists them)."""
    from ray import serve

    options = {"num_cpus": 0, "runtime_env": {"env_vars": settings.given()}}  # this process's VERBATIM_* settings
    dirs = shard_dirs(index_dir) or []
    shards = [
        serve.deployment(ShardServer, name=f"shard-{i}", ray_actor_options=options).bind(str(d))
        for i, d in enumerate(dirs)
    ]
    answerer = serve.deployment(
        Answerer, name="Answerer", max_ongoing_requests=8, ray_actor_options=options, **replicas.options()
    ).bind(str(index_dir), len(dirs), reader)
    extra = (
        []
        if access.mode == "read-only"
        else [
            serve.deployment(Librarian, name="Librarian", ray_actor_options=options).bind(
                str(corpus), str(index_dir), reader
            )
        ]
    )

    def build():
        from .admission import UploadGate
        from .api import create_api
        from .library import MAX_UPLOAD_BYTES

        return create_api(RayBackend(), access, UploadGate.configured(access, MAX_UPLOAD_BYTES))

    ingress = serve.deployment(serve.ingress(build)(), name="Verbatim", ray_actor_options=options)
    return ingress.bind(answerer, *shards, *extra)


def start(
    corpus: str | Path,
    index_dir: str | Path,
    host: str,
    port: int,
    replicas: Replicas = Replicas(),
    address: str | None = None,
    reader: str | None = None,
    access: Access | None = None,
):
    """Bring the index up to date with the corpus, then deploy the application on the Ray cluster at `address`
    (None: a new local one), its HTTP proxy on host:port. Returns the ingress's handle once every replica is up."""
    import ray
    from ray import serve

    from .embedding import Embedder
    from .indexing import Indexer
    from .shards import for_index

    report = for_index(Indexer(Embedder()), index_dir).run(corpus, index_dir, show_progress=True)
    print(f"index {index_dir}: {report.summary()}", flush=True)
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    serve.start(http_options={"host": host, "port": port})
    app = application(str(corpus), str(Path(index_dir).resolve()), replicas, reader, access or Access())
    return serve.run(app, name=APP, route_prefix="/")


def serve_on_ray(corpus, index_dir, host, port, replicas, address=None, reader=None, access=None) -> None:
    """`start`, then serve until interrupted, saying in one line where."""
    import ray
    from ray import serve

    start(corpus, index_dir, host, port, replicas, address, reader, access)
    print(f"Verbatim is serving {corpus} on Ray Serve at http://{host}:{port} (API docs: /docs)", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped like Ctrl-C: the deployments go too
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        serve.shutdown()
        ray.shutdown()
