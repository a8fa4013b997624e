"""The demo workload of ``python -m gcx compare`` and ``python -m gcx report``.

A small imitation of a server: a long-lived heap (a cache of records, some
replaced as it runs), and a stream of requests, each of which builds and
drops the reference cycles real programs make:

* a document tree whose nodes point back at their parent
  (``Node.parent -> Node.children[i] -> Node``)
* a session and its handler pointing at each other, the handler keeping a
  bound method of the session as its callback
  (``Handler.owner -> Session.handler -> Handler``)
* a doubly linked list of tokens
* now and then, an error caught and kept in a local variable (the frame and
  the traceback hold each other)

A window of recent requests stays alive for a while, so part of the garbage
is old by the time it dies and only older generations' collections find it.

Run as a file (``python gcx/_demo.py [--scale F]``), never imported as
``gcx._demo``: the stdlib side of ``compare`` must run without importing gcx.
It prints nothing; the exit status is 0.
"""

from __future__ import annotations

import argparse
import collections
import random
from typing import Any, Deque, List, Optional, Sequence, Tuple


class Record:
    __slots__ = ("key", "fields", "tags")

    def __init__(self, key: int, rng: random.Random) -> None:
        self.key = key
        self.fields = {"id": key, "name": f"record-{key}", "score": rng.random()}
        self.tags = [key % 7, key % 11, key % 13]


class Node:
    def __init__(self, tag: str, parent: Optional["Node"] = None) -> None:
        self.tag = tag
        self.parent = parent
        self.children: List[Node] = []
        self.attrs = {"class": tag}
        if parent is not None:
            parent.children.append(self)


class Handler:
    def __init__(self, owner: "Session") -> None:
        self.owner = owner
        self.callback = owner.on_done
        self.log: List[Tuple[int, str, str]] = []


class Session:
    def __init__(self, user: str) -> None:
        self.user = user
        self.handler = Handler(self)
        self.done = False

    def on_done(self, result: int) -> int:
        self.done = True
        return result


class Token:
    def __init__(self, text: str, prev: Optional["Token"] = None) -> None:
        self.text = text
        self.prev = prev
        self.next: Optional[Token] = None
        if prev is not None:
            prev.next = self


class RequestError(Exception):
    pass


def build_tree(rng: random.Random, depth: int, fanout: int) -> Node:
    root = Node("html")
    level = [root]
    for d in range(depth):
        nxt: List[Node] = []
        for parent in level:
            for i in range(rng.randint(1, fanout)):
                nxt.append(Node(f"div{d}.{i}", parent))
        level = nxt
    return root


def tokenize(text: str) -> Token:
    head: Optional[Token] = None
    prev: Optional[Token] = None
    for word in text.split():
        prev = Token(word, prev)
        if head is None:
            head = prev
    assert head is not None
    return head


def handle(request_id: int, rng: random.Random,
           cache: List[Record]) -> Tuple[Tuple[Any, ...], int]:
    session = Session(f"user{request_id % 97}")
    tree = build_tree(rng, 3, 4)
    tokens = tokenize("the quick brown fox jumps over the lazy dog " * 2)
    record = cache[rng.randrange(len(cache))]
    session.handler.log.append((record.key, tree.tag, tokens.text))
    error: Optional[RequestError] = None
    if request_id % 50 == 0:
        try:
            raise RequestError(f"request {request_id} failed")
        except RequestError as exc:
            error = exc                 # kept: frame <-> traceback cycle
    result = session.handler.callback(len(session.handler.log))
    return (session, tree, tokens, error), result


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="gcx demo", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="work done, relative to the default (about 2 s)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    live = max(100, int(150_000 * args.scale))
    requests = max(50, int(30_000 * args.scale))

    cache = [Record(i, rng) for i in range(live)]
    recent: Deque[Tuple[Any, ...]] = collections.deque(maxlen=200)
    total = 0
    for request_id in range(requests):
        kept, result = handle(request_id, rng, cache)
        total += result
        if request_id % 10 == 0:
            recent.append(kept)          # dies a few thousand requests later
        if request_id % 100 == 0:        # the long-lived heap changes too
            i = rng.randrange(live)
            cache[i] = Record(i, rng)
    return 0 if total > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
