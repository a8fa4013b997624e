"""An HTTP client loop in a service: a real http.server on localhost (in a
thread of this process) and a client session that fetches JSON from it
over one keep-alive http.client connection, making and dropping the cyclic
response objects HTTP client libraries make.

    python benchmarks/http_client_loop.py [--requests N] [--live N]

The service holds a live heap (a catalogue of --live products, each an
instance with a dict and a list, about 3 containers apiece) and fetches
--requests pages, one after the other.  Per request, as requests-like
clients do:

* a Request pointing to its Session (which points to its Connection, which
  points back to the Session), with its own headers dict;
* a Response pointing to its Request and to the Connection, with a headers
  dict, the parsed http.client message, a body buffer (a bytearray), and the
  session's response hooks (bound methods of the session) run on it;
* the JSON body parsed, and an Item per line that points back to the
  Response;
* one response in 60 is a 404 or a 500: raise_for_status() raises an
  HTTPError that points to the Response, and the caller keeps it on the
  Response (the error's traceback holds the frame that holds the response);
* every 4th response goes into a rolling cache of the last 500 kept (each
  dies 2,000 requests later), so part of the garbage reaches the old
  generations before it dies.

Every body is checked (its length and id); the exit status is 0 when all
were as the server sent them.  Prints nothing.  ``garbage_held()`` says at
any moment how many responses are garbage and not yet freed (made, minus
freed as weakref callbacks report, minus those the program holds): what
a benchmark running this file samples.  It never imports gcx: it
runs as it is under whatever collector the interpreter has.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import http.server
import json
import threading
import weakref
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence

PAGES = 64          # distinct bodies the server has
CACHE = 500         # responses the client keeps, the newest
CACHE_EVERY = 4
ERROR_EVERY = 60


def make_bodies() -> List[bytes]:
    out = []
    for page in range(PAGES):
        doc = {"page": page, "next": "/items?page=%d" % (page + 1),
               "items": [{"sku": "sku-%d-%d" % (page, k), "price": (page * 31 + k) % 997 / 10,
                          "tags": ["t%d" % (k % 5), "p%d" % (page % 3)],
                          "stock": {"warehouse": "w%d" % (k % 4), "count": k * 3}}
                         for k in range(12)]}
        out.append(json.dumps(doc).encode())
    return out


BODIES = make_bodies()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"           # keep-alive: one connection throughout
    disable_nagle_algorithm = True          # headers and body go in two writes

    def do_GET(self) -> None:
        n = int(self.path.rsplit("=", 1)[1])
        if n % ERROR_EVERY == 7:
            status, body = (404 if n % 2 else 500), b'{"error": "no such page"}'
        else:
            status, body = 200, BODIES[n % PAGES]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", str(n))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


# ---- the client ----------------------------------------------------------------------

class HTTPError(Exception):
    def __init__(self, response: "Response") -> None:
        super().__init__("%d for %s" % (response.status, response.request.url))
        self.response = response


class Connection:
    def __init__(self, session: "Session", host: str, port: int) -> None:
        self.session = session
        self.conn = http.client.HTTPConnection(host, port, timeout=10)
        self.sent = 0

    def send(self, request: "Request") -> http.client.HTTPResponse:
        self.conn.request(request.method, request.url, headers=request.headers)
        self.sent += 1
        return self.conn.getresponse()


class Request:
    def __init__(self, session: "Session", method: str, url: str,
                 headers: Dict[str, str]) -> None:
        self.session = session
        self.method = method
        self.url = url
        self.headers = headers
        self.hooks = session.hooks


class Response:
    def __init__(self, request: Request, connection: Connection,
                 raw: http.client.HTTPResponse) -> None:
        self.request = request
        self.connection = connection
        self.status = raw.status
        self.reason = raw.reason
        self.message = raw.msg
        self.headers = {k.lower(): v for k, v in raw.getheaders()}
        self.body = bytearray(raw.read())
        self.error: Optional[HTTPError] = None
        self.items: List[Item] = []
        self._json: Any = None

    def json(self) -> Any:
        if self._json is None:
            self._json = json.loads(bytes(self.body))
        return self._json

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise HTTPError(self)


class Item:
    __slots__ = ("response", "sku", "price", "tags")

    def __init__(self, response: Response, doc: Dict[str, Any]) -> None:
        self.response = response
        self.sku = doc["sku"]
        self.price = doc["price"]
        self.tags = doc["tags"]


class Stats:
    def __init__(self) -> None:
        self.by_status: Dict[int, int] = collections.Counter()
        self.bytes = 0

    def record(self, response: Response) -> None:
        self.by_status[response.status] += 1
        self.bytes += len(response.body)


class Session:
    def __init__(self, host: str, port: int) -> None:
        self.headers = {"User-Agent": "gcx-bench/1.0", "Accept": "application/json"}
        self.stats = Stats()
        self.hooks: Dict[str, List[Callable[[Response], None]]] = {
            "response": [self.stats.record, self.check_length]}
        self.connection = Connection(self, host, port)
        self.bad = 0

    def check_length(self, response: Response) -> None:
        if len(response.body) != int(response.headers["content-length"]):
            self.bad += 1

    def get(self, url: str) -> Response:
        request = Request(self, "GET", url, dict(self.headers))
        response = Response(request, self.connection, self.connection.send(request))
        for hook in request.hooks["response"]:
            hook(response)
        return response


class Held:
    """Responses made, freed (weakref callbacks count them) and held by the
    program (the cache and the one in hand)."""

    def __init__(self) -> None:
        self.made = 0
        self.freed = 0
        self.holding = 0
        self.refs: set[weakref.ref[Response]] = set()

    def track(self, response: Response) -> None:
        self.made += 1
        self.refs.add(weakref.ref(response, self.free))

    def free(self, ref: weakref.ref[Response]) -> None:
        self.freed += 1
        self.refs.discard(ref)


HELD = Held()


def garbage_held() -> int:
    """Responses that are garbage and not yet freed."""
    return max(HELD.made - HELD.freed - HELD.holding, 0)


class Product:
    def __init__(self, n: int) -> None:
        self.attrs = {"sku": "sku-%d" % n, "price": n % 997}
        self.related = [n + 1, n + 2]


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--live", type=int, default=300_000, help="products in the catalogue")
    args = p.parse_args(argv)

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    catalogue = {n: Product(n) for n in range(args.live)}
    session = Session("127.0.0.1", server.server_address[1])
    cache: Deque[Response] = collections.deque(maxlen=CACHE)
    bad = 0
    for n in range(args.requests):
        response = session.get("/items?page=%d" % n)
        HELD.track(response)
        try:
            response.raise_for_status()
            doc = response.json()
            response.items = [Item(response, line) for line in doc["items"]]
            if doc["page"] != n % PAGES or response.headers["x-request-id"] != str(n):
                bad += 1
            catalogue[n % args.live].related.append(len(response.items))
            del catalogue[n % args.live].related[0]
        except HTTPError as e:
            response.error = e          # e -> traceback -> this frame -> response
            if n % ERROR_EVERY != 7:
                bad += 1
        if n % CACHE_EVERY == 0:
            cache.append(response)
        HELD.holding = len(cache) + 1
    session.connection.conn.close()     # first: the server's handler waits on it
    server.shutdown()
    server.server_close()
    ok = bad == 0 and session.bad == 0 and sum(session.stats.by_status.values()) == args.requests
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
