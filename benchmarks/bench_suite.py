"""A suite of general-purpose programs: stock CPython against gcx.install().

gcx must cost ordinary programs nothing, not only the allocation loops of
bench_programs.py.  Each program here is a small program of a common kind,
run in a fresh interpreter, alternately stock (gcx never imported, the
stdlib collector on with its default thresholds) and gcx (``import gcx;
gcx.install()`` on the first lines of the child, before the harness or any
module a program uses is imported, so gcx's import and install and the
adoption of everything already alive are charged to it, and every object
the program makes is gcx's to collect).  Reported per program:

  wall      from the first line of the child script to the program's end
  cpu time  the same span in process CPU time (all threads)
  peak RSS  the child's ru_maxrss (the interpreter's own ~10 MB included)

and over the suite the geometric mean of each ratio gcx/stock and which
programs are above 1.05.  The target is that gcx costs nothing: geometric
means <= 1.00 for the times and <= 1.03 for peak RSS, no program above 1.05.

Programs (each 0.2-1 s at --size default on a 2020s x86 core; each imports
the modules it uses, so imports are part of the program):

  oo simulation     a bank: customers, accounts (a subclass with super()),
                    properties, transfers, month ends; customers leave
                    (customer <-> accounts cycles) and join
  board search      Connect Four played by negamax with alpha-beta on
                    immutable boards and a transposition table
  n-body            five planets, float arithmetic on lists
  spectral norm     float loops through generator expressions
  json              records dumped (indent, sort_keys) and loaded with an
                    object_hook, aggregated, dumped again
  pickle            a tree of instances with parent links (and __slots__
                    leaves) pickled and unpickled; each copy is cyclic
  xml iterparse     xml.etree iterparse over an order file, elements cleared
  xml tree          ElementTree built with SubElement, serialised, parsed,
                    searched with findall, edited, serialised again
  templating        string.Template and str.format / format_map rendering
                    of invoices into HTML and text
  asyncio tree      asyncio.gather over nested tasks (some raising, gathered
                    with return_exceptions), a Queue, asyncio.timeout
  generators        a generator pipeline (yield from, deque windows,
                    itertools.groupby) into send()-driven coroutines
  deepcopy          copy.deepcopy of configuration trees with parent links,
                    objects with __reduce__ (args, state and list items)
  logging           stdlib logging to a StreamHandler on io.StringIO:
                    logger hierarchy, filter, LoggerAdapter, disabled debug
                    calls, logger.exception
  regex             a tokenizer over named groups, log-line parsing with
                    groupdict, re.sub with a function, split, findall
  protocols         isinstance against typing.runtime_checkable Protocols
                    (method and data members) and collections.abc ABCs
  explicit gc       calls gc.collect() itself after each of 40 "test
                    cases" that leave cycles behind, over a long-lived heap
                    of 120k containers, and wraps a bulk build in
                    gc.disable()/gc.enable()

Checks: every run of a program, stock and gcx, must return the same
checksum; nothing may be left in gc.garbage; programs that drop cyclic
garbage state a lower bound of the objects in it (their own instances
only), and the collector's collections during the run (from its callbacks)
plus a final untimed collect() must account for at least that many.

With --other-gcx PYTHON (an interpreter of a venv with another build of
gcx), every program also runs with that build installed, a third mode
alternating with the two others, and the report adds its ratios to stock:
two builds compared in one run.
"""
import sys
import time


def _child_argument(name):
    try:
        return sys.argv[sys.argv.index(name) + 1]
    except (ValueError, IndexError):
        return None


# A child run starts its clocks and installs gcx before anything else: the
# harness, the json module, the classes below and the modules each program
# imports are then all made under gcx in a gcx run.
_CHILD = __name__ == "__main__" and "--child" in sys.argv
if _CHILD:
    _CPU0 = time.process_time()
    _WALL0 = time.perf_counter()
    if _child_argument("--mode") == "gcx":
        import gcx
        gcx.install()

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402

if __package__:
    from . import harness
else:
    import harness

# Program scale: multiplies every program's loop counts.
SCALES = {"small": 0.05, "default": 1.0}


def scaled(n, scale, least=1):
    return max(least, int(n * scale))


# ------------------------------------------------------------------------------
# Object-oriented simulation.

class Entry:
    __slots__ = ("amount", "memo")

    def __init__(self, amount, memo):
        self.amount = amount
        self.memo = memo


class Account:
    kind = "checking"
    fee = 3

    def __init__(self, number, owner, balance):
        self.number = number
        self.owner = owner
        self.balance = balance
        self.history = []
        self.slot = 0           # where the bank's list of accounts holds it

    def post(self, amount, memo):
        self.balance += amount
        self.history.append(Entry(amount, memo))
        if len(self.history) > 24:
            del self.history[:12]

    def month_end(self):
        if self.balance > self.fee:
            self.post(-self.fee, ("fee", self.kind))


class Savings(Account):
    kind = "savings"
    fee = 0

    def month_end(self):
        super().month_end()
        interest = self.balance // 400
        if interest:
            self.post(interest, ("interest", self.kind))


class Customer:
    def __init__(self, cid, bank):
        self.cid = cid
        self.bank = bank
        self.accounts = []

    def open(self, cls, balance):
        account = cls(self.bank.next_number(), self, balance)
        self.accounts.append(account)
        account.slot = len(self.bank.accounts)
        self.bank.accounts.append(account)
        return account

    @property
    def worth(self):
        return sum(a.balance for a in self.accounts)


class Bank:
    def __init__(self):
        self.customers = []
        self.accounts = []
        self.numbers = 0
        self.closed = 0

    def next_number(self):
        self.numbers += 1
        return self.numbers

    def join(self, rng):
        customer = Customer(len(self.customers), self)
        customer.open(Account, rng.randrange(100, 5000))
        if rng.random() < 0.5:
            customer.open(Savings, rng.randrange(1000, 20000))
        self.customers.append(customer)
        return customer

    def leave(self, index):
        customer = self.customers[index]
        last = self.customers.pop()
        if last is not customer:
            self.customers[index] = last
        for account in customer.accounts:
            last = self.accounts.pop()
            if last is not account:
                self.accounts[account.slot] = last
                last.slot = account.slot
        self.closed += 1 + len(customer.accounts)
        return customer.worth

    def transfer(self, src, dst, amount):
        if src is dst or src.balance < amount:
            return False
        src.post(-amount, ("to", dst.number))
        dst.post(amount, ("from", src.number))
        return True


def oo_simulation(scale):
    import random
    rng = random.Random(1)
    bank = Bank()
    for _ in range(2000):
        bank.join(rng)
    paid_out = done = 0
    for tick in range(scaled(60_000, scale)):
        accounts = bank.accounts
        src = accounts[rng.randrange(len(accounts))]
        dst = accounts[rng.randrange(len(accounts))]
        done += bank.transfer(src, dst, rng.randrange(1, 500))
        if tick % 2000 == 1999:
            for account in bank.accounts:
                account.month_end()
        if tick % 40 == 39:
            paid_out += bank.leave(rng.randrange(len(bank.customers)))
            bank.join(rng)
    held = sum(c.worth for c in bank.customers)
    return paid_out + held + done, bank.closed


# ------------------------------------------------------------------------------
# Board-game search: Connect Four.

ROWS, COLS = 6, 7
ORDER = (3, 2, 4, 1, 5, 0, 6)


def _windows():
    lines = []
    for r in range(ROWS):
        for c in range(COLS):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + k * dr, c + k * dc) for k in range(4)]
                if all(0 <= rr < ROWS and 0 <= cc < COLS for rr, cc in cells):
                    lines.append(tuple(rr * COLS + cc for rr, cc in cells))
    through = [[w for w in lines if i in w] for i in range(ROWS * COLS)]
    return lines, through


def _evaluate(board, player, windows):
    score = 0
    other = 3 - player
    for w in windows:
        mine = theirs = 0
        for i in w:
            v = board[i]
            if v == player:
                mine += 1
            elif v == other:
                theirs += 1
        if not theirs:
            score += (0, 1, 4, 16, 1000)[mine]
        elif not mine:
            score -= (0, 1, 4, 16, 1000)[theirs]
    return score


def _negamax(board, heights, player, depth, alpha, beta, table, counter, windows, through):
    counter[0] += 1
    key = (board, player)
    known = table.get(key)
    if known is not None and known[0] >= depth:
        return known[1]
    if depth == 0:
        return _evaluate(board, player, windows)
    best = -10 ** 6
    moved = False
    for col in ORDER:
        row = heights[col]
        if row == ROWS:
            continue
        moved = True
        i = row * COLS + col
        child = board[:i] + (player,) + board[i + 1:]
        if any(all(child[j] == player for j in w) for w in through[i]):
            value = 100_000 + depth
        else:
            value = -_negamax(child, heights[:col] + (row + 1,) + heights[col + 1:],
                              3 - player, depth - 1, -beta, -alpha, table, counter,
                              windows, through)
        if value > best:
            best = value
        if best > alpha:
            alpha = best
        if alpha >= beta:
            break
    if not moved:
        return 0
    table[key] = (depth, best)
    return best


def board_search(scale):
    windows, through = _windows()
    games = scaled(2, scale)
    depth = 4 if scale >= 0.5 else 2
    checksum = 0
    counter = [0]
    for game in range(games):
        board = (0,) * (ROWS * COLS)
        heights = (0,) * COLS
        player = 1
        # a different opening per game: the first two moves are given
        opening = [ORDER[game % COLS], ORDER[(game * 3 + 1) % COLS]]
        for ply in range(12):
            if opening:
                col = opening.pop(0)
            else:
                table = {}
                best_col, best = None, None
                for col in ORDER:
                    row = heights[col]
                    if row == ROWS:
                        continue
                    i = row * COLS + col
                    child = board[:i] + (player,) + board[i + 1:]
                    value = -_negamax(child, heights[:col] + (row + 1,) + heights[col + 1:],
                                      3 - player, depth, -10 ** 6, 10 ** 6, table, counter,
                                      windows, through)
                    if best is None or value > best:
                        best_col, best = col, value
                col = best_col
                checksum = (checksum * 31 + best) % (1 << 61)
            row = heights[col]
            i = row * COLS + col
            board = board[:i] + (player,) + board[i + 1:]
            heights = heights[:col] + (row + 1,) + heights[col + 1:]
            checksum = (checksum * 7 + col) % (1 << 61)
            if any(all(board[j] == player for j in w) for w in through[i]):
                break
            player = 3 - player
    return checksum + counter[0], 0


# ------------------------------------------------------------------------------
# Numeric loops on floats.

def nbody(scale):
    pi = 3.14159265358979323
    solar_mass = 4 * pi * pi
    year = 365.24
    planets = [
        # position (AU), velocity (AU/day), mass (solar masses)
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 1.0),
        ([4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01],
         [1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05],
         9.54791938424326609e-04),
        ([8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01],
         [-2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05],
         2.85885980666130812e-04),
        ([1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01],
         [2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05],
         4.36624404335156298e-05),
        ([1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01],
         [2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05],
         5.15138902046611451e-05),
    ]
    bodies = [(list(p), [v * year for v in vel], m * solar_mass) for p, vel, m in planets]
    px = py = pz = 0.0
    for _, v, m in bodies:
        px += v[0] * m
        py += v[1] * m
        pz += v[2] * m
    sun_v, sun_m = bodies[0][1], bodies[0][2]
    sun_v[:] = [-px / sun_m, -py / sun_m, -pz / sun_m]
    pairs = [(bodies[i], bodies[j]) for i in range(5) for j in range(i + 1, 5)]

    def energy():
        e = 0.0
        for (p1, v1, m1), (p2, v2, m2) in pairs:
            dx, dy, dz = p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]
            e -= m1 * m2 / (dx * dx + dy * dy + dz * dz) ** 0.5
        for _, v, m in bodies:
            e += 0.5 * m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
        return e

    e0 = energy()
    dt = 0.01
    for _ in range(scaled(80_000, scale)):
        for (p1, v1, m1), (p2, v2, m2) in pairs:
            dx, dy, dz = p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]
            mag = dt * (dx * dx + dy * dy + dz * dz) ** -1.5
            b1, b2 = m1 * mag, m2 * mag
            v1[0] -= dx * b2
            v1[1] -= dy * b2
            v1[2] -= dz * b2
            v2[0] += dx * b1
            v2[1] += dy * b1
            v2[2] += dz * b1
        for p, v, _ in bodies:
            p[0] += dt * v[0]
            p[1] += dt * v[1]
            p[2] += dt * v[2]
    return round(e0 * 1e12) + round(energy() * 1e12), 0


def spectral_norm(scale):
    n = max(10, int(200 * scale ** 0.5))

    def a(i, j):
        return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)

    def a_times(u):
        return [sum(a(i, j) * uj for j, uj in enumerate(u)) for i in range(len(u))]

    def at_times(u):
        return [sum(a(j, i) * uj for j, uj in enumerate(u)) for i in range(len(u))]

    u = [1.0] * n
    for _ in range(10):
        v = at_times(a_times(u))
        u = at_times(a_times(v))
    vbv = sum(ue * ve for ue, ve in zip(u, v))
    vv = sum(ve * ve for ve in v)
    return round((vbv / vv) ** 0.5 * 1e12), 0


# ------------------------------------------------------------------------------
# Parsers and serialisers.

KINDS = ("click", "view", "buy", "leave")


class Event:
    __slots__ = ("t", "kind", "payload")

    def __init__(self, t, kind, payload):
        self.t, self.kind, self.payload = t, kind, payload


def json_documents(scale):
    docs = [{"id": i,
             "user": {"name": "user%d" % i, "email": "user%d@example.org" % i,
                      "roles": ["reader", "writer"][: 1 + i % 2]},
             "events": [{"t": i * 60 + k, "kind": KINDS[(i + k) % 4],
                         "payload": {"x": k * 0.25, "ok": (i + k) % 3 == 0}}
                        for k in range(6)],
             "tags": ["t%d" % (i % 17), "g%d" % (i % 5)]}
            for i in range(2000)]

    def hook(d):
        if "kind" in d and "t" in d:
            return Event(d["t"], d["kind"], d["payload"])
        return d

    total = 0
    for r in range(scaled(6, scale)):
        text = json.dumps(docs, indent=2, sort_keys=True)
        back = json.loads(text, object_hook=hook)
        buys = sum(1 for d in back for e in d["events"] if e.kind == "buy")
        summary = {d["user"]["name"]: [e.t for e in d["events"] if e.payload["ok"]]
                   for d in back if d["id"] % 4 == r % 4}
        compact = json.dumps(summary, separators=(",", ":"))
        total += len(text) + buys + len(compact)
    return total, 0


class TreeNode:
    def __init__(self, name, parent):
        self.name = name
        self.parent = parent
        self.children = []
        self.attrs = {"depth": 0 if parent is None else parent.attrs["depth"] + 1}
        if parent is not None:
            parent.children.append(self)


class Leaf:
    __slots__ = ("node", "weight", "label")

    def __init__(self, node, weight, label):
        self.node, self.weight, self.label = node, weight, label


def _tree_checksum(root):
    total, stack = 0, [root]
    while stack:
        node = stack.pop()
        total += node.attrs["depth"] + len(node.name)
        for leaf in node.attrs.get("leaves", ()):
            total += leaf.weight + (leaf.node is node)
        stack.extend(node.children)
    return total


def pickle_graph(scale):
    import pickle
    root = TreeNode("root", None)
    level = [root]
    nodes = 1
    while nodes < 1000:
        nxt = []
        for parent in level:
            for k in range(4):
                nxt.append(TreeNode("%s.%d" % (parent.name, k), parent))
        level = nxt
        nodes += len(nxt)
    for i, node in enumerate(level):
        node.attrs["leaves"] = [Leaf(node, i % 13 + j, ("w", j)) for j in range(2)]
    index = {n.name: n for n in level}
    total = 0
    rounds = scaled(25, scale)
    for r in range(rounds):
        data = pickle.dumps((root, index), protocol=pickle.HIGHEST_PROTOCOL)
        copy_root, copy_index = pickle.loads(data)
        total += len(data) + _tree_checksum(copy_root)
        total += copy_index[level[r % len(level)].name].parent is not None
    # each copy's TreeNodes and Leafs hang together through parent links
    return total, rounds * (nodes + 2 * len(level))


def _order_file(orders):
    parts = ["<?xml version='1.0' encoding='utf-8'?>\n<orders>"]
    for i in range(orders):
        parts.append('<order id="%d" customer="c%d">' % (i, i % 97))
        for k in range(1 + i % 5):
            parts.append('<item sku="s%d" qty="%d" price="%d.%02d"/>'
                         % ((i + k) % 41, 1 + k, 3 + (i * k) % 40, (i + k) % 100))
        parts.append("<note>deliver &amp; %s</note></order>" % ("fast" if i % 2 else "slow"))
    parts.append("</orders>")
    return "".join(parts).encode()


def xml_iterparse(scale):
    import io
    import xml.etree.ElementTree as ET
    data = _order_file(4000)
    total = 0
    for _ in range(scaled(8, scale)):
        cents = count = depth = 0
        root = None
        for event, elem in ET.iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "start":
                depth += 1
                if root is None:
                    root = elem
                continue
            depth -= 1
            if elem.tag == "order":
                for item in elem.iterfind("item"):
                    whole, frac = item.get("price").split(".")
                    cents += int(item.get("qty")) * (int(whole) * 100 + int(frac))
                count += len(elem.findtext("note"))
                elem.clear()
                root.remove(elem)
        total += cents + count
    return total, 0


def xml_tree(scale):
    import xml.etree.ElementTree as ET
    total = 0
    for r in range(scaled(10, scale)):
        catalog = ET.Element("catalog", {"version": str(r)})
        for b in range(600):
            book = ET.SubElement(catalog, "book", id="b%d" % b, lang=("en", "fr", "de")[b % 3])
            ET.SubElement(book, "title").text = "Title %d" % b
            for a in range(1 + b % 3):
                ET.SubElement(book, "author").text = "Author %d" % ((a + b) % 50)
            for c in range(2 + b % 4):
                chapter = ET.SubElement(book, "chapter", n=str(c))
                ET.SubElement(chapter, "section").text = "s" * (c + 1)
        text = ET.tostring(catalog, encoding="unicode")
        parsed = ET.fromstring(text)
        english = parsed.findall(".//book[@lang='en']")
        sections = sum(len(s.text) for s in parsed.iter("section"))
        for book in english[::2]:
            for chapter in book.findall("chapter")[1:]:
                book.remove(chapter)
            ET.SubElement(book, "edited").text = book.findtext("title")
        again = ET.tostring(parsed, encoding="unicode")
        total += len(text) + len(english) + sections + len(again)
    return total, 0


# ------------------------------------------------------------------------------
# Templating.

def templating(scale):
    import zlib
    from string import Template
    page = Template("<html><head><title>$title</title></head>\n<body><h1>$title</h1>\n"
                    "<table>\n$rows</table>\n<p>Total: $total $currency</p>\n$footer</body></html>")
    row = Template("<tr class=\"$parity\"><td>$sku</td><td>${name}</td>"
                   "<td>$qty</td><td>$price</td></tr>\n")
    footer = Template("<footer>$company, $city. Questions: $contact</footer>")
    text_line = "{sku:<8}|{name:<24.24}|{qty:>5d}|{price:>10,.2f}|{amount:>12,.2f}"
    checksum = 0
    for inv in range(scaled(5000, scale)):
        items = [{"sku": "S%05d" % (inv * 7 + k), "name": "Widget model %d-%d" % (inv % 13, k),
                  "qty": 1 + (inv + k) % 9, "price": ((inv * 31 + k * 17) % 10000) / 100}
                 for k in range(3 + inv % 8)]
        rows = "".join(row.substitute(it, parity=("even", "odd")[k % 2], price="%.2f" % it["price"])
                       for k, it in enumerate(items))
        total = sum(it["qty"] * it["price"] for it in items)
        html = page.substitute(title="Invoice %06d" % inv, rows=rows, total="%.2f" % total,
                               currency="EUR",
                               footer=footer.safe_substitute(company="ACME", city="Ulm"))
        text = "\n".join(text_line.format_map(dict(it, amount=it["qty"] * it["price"]))
                         for it in items)
        header = "Invoice {0:06d} for {1[name]} ({1[city]}) on {2}".format(
            inv, {"name": "Customer %d" % (inv % 101), "city": "Ulm"}, "2024-%02d-%02d" % (
                1 + inv % 12, 1 + inv % 28))
        checksum = zlib.crc32(html.encode(), checksum)
        checksum = zlib.crc32(("%s\n%s" % (header, text)).encode(), checksum)
    return checksum, 0


# ------------------------------------------------------------------------------
# Async task trees, generators and coroutines.

def asyncio_tree(scale):
    import asyncio

    async def leaf(n):
        await asyncio.sleep(0)
        if n % 11 == 0:
            raise ValueError(n)
        return n % 7

    async def node(depth, n):
        if depth == 0:
            return await leaf(n)
        results = await asyncio.gather(*[node(depth - 1, n * 4 + k) for k in range(4)],
                                       return_exceptions=True)
        return sum(r if isinstance(r, int) else 100 for r in results)

    async def pipeline(items):
        queue = asyncio.Queue(maxsize=16)
        done = []

        async def producer():
            for i in range(items):
                await queue.put(i)
            for _ in range(3):
                await queue.put(None)

        async def worker(w):
            got = 0
            while (i := await queue.get()) is not None:
                got += i * (w + 1)
            done.append(got)

        async with asyncio.timeout(60):
            await asyncio.gather(producer(), *[worker(w) for w in range(3)])
        return sum(done)

    async def main():
        total = 0
        for t in range(scaled(20, scale)):
            total += await node(5, t)
            total += await pipeline(800)
        return total

    return asyncio.run(main()), 0


def generators(scale):
    import itertools
    from collections import deque

    names = ("ada", "bob", "cy", "dee", "eve", "fay")

    def read(n):
        for i in range(n):
            yield "%d,%s,%d,%d" % (i, names[i % 6], i * 7 % 101, i % 13)

    def parse(lines):
        for line in lines:
            i, name, a, b = line.split(",")
            yield int(i), name, int(a), int(b)

    def keep(rows):
        yield from (r for r in rows if r[3])

    def windows(rows, k):
        d = deque(maxlen=k)
        for r in rows:
            d.append(r[2])
            if len(d) == k:
                yield sum(d)

    def averager():
        total = count = 0
        avg = None
        while True:
            x = yield avg
            total += x
            count += 1
            avg = total // count

    def flatten(tree):
        if isinstance(tree, list):
            for sub in tree:
                yield from flatten(sub)
        else:
            yield tree

    checksum = 0
    for r in range(scaled(12, scale)):
        sink = averager()
        next(sink)
        last = 0
        for w in windows(keep(parse(read(20_000))), 8):
            last = sink.send(w)
        groups = sum(len(list(g)) * len(k)
                     for k, g in itertools.groupby(parse(read(5000)), key=lambda row: row[1]))
        nested = [[i, [i + 1, [i + 2, i + 3]]] for i in range(1500)]
        flat = sum(flatten(nested))
        pairs = sum(len(line) * k for line, k in zip(itertools.islice(read(3000), 0, None, 3),
                                                     itertools.count()))
        checksum += last + groups + flat + pairs + r
        sink.close()
    return checksum, 0


# ------------------------------------------------------------------------------
# Deep copies.

class Settings:
    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent
        self.children = []
        self.options = {"retries": 3, "timeout": 2.5, "hosts": ["a", "b"], "pair": (1, [2])}
        if parent is not None:
            parent.children.append(self)


class Money:
    """Copied through __reduce__ with constructor arguments."""
    __slots__ = ("cents", "currency")

    def __init__(self, cents, currency):
        self.cents, self.currency = cents, currency

    def __reduce__(self):
        return Money, (self.cents, self.currency)


class Ledger:
    """Copied through __reduce__ with state and list items."""

    def __init__(self, name):
        self.name = name
        self.entries = []
        self.meta = {}

    def append(self, entry):
        self.entries.append(entry)

    def extend(self, entries):
        self.entries.extend(entries)

    def __reduce__(self):
        return Ledger, (self.name,), {"meta": self.meta}, iter(self.entries)

    def __setstate__(self, state):
        self.meta = state["meta"]


def deep_copies(scale):
    import copy
    root = Settings("root")
    count = 1
    for i in range(30):
        section = Settings("section%d" % i, root)
        count += 1
        for j in range(8):
            Settings("option%d.%d" % (i, j), section)
            count += 1
    ledgers = []
    for i in range(40):
        ledger = Ledger("l%d" % i)
        ledger.meta = {"owner": root.children[i % 30], "tags": ("x", "y")}
        for k in range(12):
            ledger.append((k, Money(100 * k + i, "EUR"), [k, {"n": k}]))
        ledgers.append(ledger)
    config = {"settings": root, "ledgers": ledgers, "limits": [Money(i, "USD") for i in range(50)]}
    total = 0
    rounds = scaled(50, scale)
    for r in range(rounds):
        dup = copy.deepcopy(config)
        s = dup["settings"].children[r % 30]
        total += len(s.children) + (s.parent is dup["settings"])
        total += sum(e[1].cents for led in dup["ledgers"] for e in led.entries)
        total += dup["ledgers"][r % 40].meta["owner"].parent is dup["settings"]
    # each copy's Settings hang together through parent links
    return total, rounds * count


# ------------------------------------------------------------------------------
# Logging.

def logging_to_stringio(scale):
    import io
    import logging
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(
        "%(levelname)-8s %(name)s %(funcName)s:%(lineno)d %(message)s"))

    class DropHealth(logging.Filter):
        def filter(self, record):
            return not (isinstance(record.msg, str) and record.msg.startswith("health"))

    app = logging.getLogger("suite")
    app.propagate = False
    app.setLevel(logging.INFO)
    app.addHandler(handler)
    handler.addFilter(DropHealth())
    db = logging.getLogger("suite.db")
    http = logging.getLogger("suite.http")

    class Request(logging.LoggerAdapter):
        def process(self, msg, kwargs):
            return "[req %s] %s" % (self.extra["rid"], msg), kwargs

    def handle(i):
        log = Request(http, {"rid": i})
        log.info("GET /items/%d from %s", i % 500, "10.0.%d.%d" % (i % 256, i % 7))
        db.debug("query plan %r", {"table": "items", "id": i})   # below the level
        if i % 9 == 0:
            db.warning("slow query: %d ms", 100 + i % 400)
        if i % 50 == 0:
            try:
                {}["missing-%d" % (i % 3)]
            except KeyError:
                log.exception("lookup failed")
        http.info("health check %d", i)                         # filtered out

    written = 0
    for i in range(scaled(25_000, scale)):
        handle(i)
        if i % 2000 == 1999:
            written += len(stream.getvalue())
            stream.seek(0)
            stream.truncate()
    app.removeHandler(handler)
    return written + len(stream.getvalue()), 0


# ------------------------------------------------------------------------------
# Regular expressions.

TOKENS = (("number", r"\d+(?:\.\d+)?"), ("name", r"[A-Za-z_]\w*"), ("string", r"'[^']*'"),
          ("op", r"==|!=|<=|>=|[-+*/=<>()\[\]{},:.]"), ("space", r"[ \t]+"),
          ("newline", r"\n"), ("other", r"."))


def regex(scale):
    import re
    master = re.compile("|".join("(?P<%s>%s)" % pair for pair in TOKENS))
    line_re = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2}) (?P<user>[\w.]+@[\w.]+) "
                         r"(?P<method>[A-Z]+) (?P<path>/\S*) (?P<status>\d{3}) (?P<ms>\d+)ms")
    email = re.compile(r"\b([\w.]+)@([\w.]+)\b")
    source = "".join("def f%d(x, y=%d.5):\n    return x * %d + y if x != 'k%d' else [x, {'a': y}]\n"
                     % (i, i, i % 7, i) for i in range(300))
    log = "".join("2024-%02d-%02d user%d@example.org %s /api/v1/items/%d?page=%d %d %dms\n"
                  % (1 + i % 12, 1 + i % 28, i % 37, ("GET", "POST", "PUT")[i % 3], i, i % 9,
                     (200, 404, 500)[i % 7 % 3], i % 997) for i in range(1500))
    total = 0
    for r in range(scaled(30, scale)):
        kinds = {}
        for m in master.finditer(source):
            kinds[m.lastgroup] = kinds.get(m.lastgroup, 0) + 1
        total += sum(v * len(k) for k, v in kinds.items())
        slow = 0
        for m in line_re.finditer(log):
            d = m.groupdict()
            if d["status"] != "200" and int(d["ms"]) > 500:
                slow += 1
        redacted = email.sub(lambda m: m.group(1)[0] + "***@" + m.group(2), log)
        fields = re.split(r"[ /?=]+", log[: 20_000 + r])
        dates = re.findall(r"\d{4}-(\d{2})-\d{2}", log)
        total += slow + len(redacted) + len(fields) + len(dates)
    return total, 0


# ------------------------------------------------------------------------------
# Runtime protocol checks.

def protocols(scale):
    from collections.abc import Iterable, Mapping, Sized
    from typing import Protocol, runtime_checkable

    @runtime_checkable
    class SupportsClose(Protocol):
        def close(self) -> None: ...

    @runtime_checkable
    class Shape(Protocol):
        def area(self) -> float: ...

        def perimeter(self) -> float: ...

    @runtime_checkable
    class Named(Protocol):
        name: str

    class File:
        def __init__(self, name):
            self.name = name

        def close(self):
            return None

    class Square:
        def __init__(self, side):
            self.side = side
            self.name = "square"

        def area(self):
            return self.side * self.side

        def perimeter(self):
            return 4 * self.side

    class Circle:
        def __init__(self, r):
            self.r = r

        def area(self):
            return 3 * self.r * self.r

        def perimeter(self):
            return 6 * self.r

    class Bag(dict):
        name = "bag"

    objects = [File("f"), Square(2), Circle(3), Bag(a=1), [1, 2], "text", 7, None, Square(5)]
    counts = [0] * 6
    for i in range(scaled(40_000, scale)):
        obj = objects[i % len(objects)]
        if isinstance(obj, SupportsClose):
            counts[0] += 1
        if isinstance(obj, Shape):
            counts[1] += obj.area() % 5
        if isinstance(obj, Named):
            counts[2] += len(obj.name)
        if isinstance(obj, Mapping):
            counts[3] += 1
        if isinstance(obj, Iterable) and isinstance(obj, Sized):
            counts[4] += len(obj)
        counts[5] += issubclass(type(obj), SupportsClose)
    return sum(c * (k + 1) for k, c in enumerate(counts)), 0


# ------------------------------------------------------------------------------
# A program that calls gc.collect() itself.

class Record:
    __slots__ = ("key", "refs")


class Case:
    def __init__(self, n):
        self.n = n
        self.peer = None
        self.log = []


def explicit_gc(scale):
    # a long-lived application heap, built with the collector disabled (a
    # common trick for bulk loads)
    gc.disable()
    registry = {}
    for i in range(scaled(60_000, scale)):
        r = Record()
        r.key = i
        r.refs = [i, str(i)]
        registry[i] = r
    gc.enable()
    checksum = made = 0
    for test in range(scaled(40, scale, least=4)):
        # a "test case" that leaves cycles behind, then the collect() a
        # leak check or a level change would make
        cases = [Case(test * 1000 + k) for k in range(1500)]
        for a, b in zip(cases, cases[1:] + cases[:1]):
            a.peer = b
            b.log.append(a.n)
        checksum += sum(c.peer.n - c.log[0] for c in cases)
        checksum += registry[(test * 7919) % len(registry)].key
        made += len(cases)
        del cases, a, b
        gc.collect()
    return checksum + len(registry), made


PROGRAMS = {
    "oo simulation": oo_simulation,
    "board search": board_search,
    "n-body": nbody,
    "spectral norm": spectral_norm,
    "json": json_documents,
    "pickle": pickle_graph,
    "xml iterparse": xml_iterparse,
    "xml tree": xml_tree,
    "templating": templating,
    "asyncio tree": asyncio_tree,
    "generators": generators,
    "deepcopy": deep_copies,
    "logging": logging_to_stringio,
    "regex": regex,
    "protocols": protocols,
    "explicit gc": explicit_gc,
}
# Not a program of the suite: the child script with no program, what
# starting an interpreter costs (with gcx: its import and install).
STARTUP = "(startup)"
CHILD_PROGRAMS = dict(PROGRAMS, **{STARTUP: lambda scale: (0, 0)})
LIMIT = 1.05                 # no program above this ratio
TIME_TARGET, RSS_TARGET = 1.00, 1.03   # geometric means


def child(program, mode, size, scale=None):
    """Run one program in this (fresh) interpreter; print one JSON line.
    scale (--scale) overrides the size's scale: benchmarks/tracking_counts.py
    --suite runs one program once under cachegrind at a smaller one."""
    perf_counter = harness.perf_counter
    if mode == "gcx":
        # (harness.STDLIB_* were captured after the install here: they are
        # gcx's; gcx._stdlib holds the stdlib collector's own functions)
        gcx_module = sys.modules.get("gcx")
        if gcx_module is None or not harness.installed_alone(gcx_module):
            raise SystemExit("gcx was not installed from the start (--mode gcx, as two arguments)")
        callbacks = gcx_module.callbacks
        gcx_file = gcx_module._gcx.__file__
    else:
        callbacks = gc.callbacks
        gcx_file = None
    collections = [0]
    collected = [0]

    def on_collection(phase, info):
        if phase == "stop":
            collections[0] += 1
            collected[0] += info["collected"]

    callbacks.append(on_collection)
    checksum, garbage_made = CHILD_PROGRAMS[program](SCALES[size] if scale is None else scale)
    wall = perf_counter() - _WALL0
    cpu = harness.time.process_time() - _CPU0
    callbacks.remove(on_collection)
    harness.finish_program_child(
        mode, checksum=checksum, garbage_made=garbage_made, wall=wall, cpu=cpu,
        collections=collections[0], collected=collected[0], gcx_file=gcx_file)


METRICS = (("wall", "wall", "ms", 1e3), ("cpu time", "cpu", "ms", 1e3),
           ("peak RSS", "rss", "MB", 1 / 2**20))


def measure(program, reps, size, other=None):
    """reps fresh interpreters per mode, alternating: {mode: [child result]};
    with `other` (--other-gcx), a third mode "other": gcx installed in that
    interpreter."""
    harness.progress("%s: %d fresh interpreters per mode" % (program, reps))
    modes = ("stock", "gcx") + (("other",) if other else ())
    runs = harness.run_modes(__file__, modes, reps, lambda mode: (
        "--child", program, "--mode", mode, "--size", size), other)
    check(program, runs)
    return runs


def run(args, report):
    reps = harness.reps_for(args, small=5, default=9)
    startup = measure(STARTUP, reps, args.size, args.other_gcx)
    collections, shares, others = {}, {}, {}
    for program in PROGRAMS:
        runs = measure(program, reps, args.size, args.other_gcx)
        s, g = runs["stock"], runs["gcx"]
        if args.other_gcx:
            others[program] = runs
        collections[program] = (median(r["collections"] for r in s),
                                median(r["collections"] for r in g))
        if s[0]["garbage_made"]:
            shares[program] = [median(min(1.0, r["collected"] / r["garbage_made"]) for r in rs)
                               for rs in (s, g)]
        detail = {"collections_stock": [r["collections"] for r in s],
                  "collections_gcx": [r["collections"] for r in g],
                  "collected_stock": [r["collected"] for r in s],
                  "collected_gcx": [r["collected"] for r in g],
                  "garbage_made": s[0]["garbage_made"]}
        for metric, key, unit, scale in METRICS:
            report.add(harness.Comparison(program, metric, unit, scale,
                                          [r[key] for r in s], [r[key] for r in g],
                                          detail if metric == "wall" else None))
    summarise(report)
    if args.other_gcx:
        harness.note_other(report, args.other_gcx, others,
                           [(metric, key) for metric, key, _, _ in METRICS])
    report.notes.append("collections per run (stock/gcx, medians): " + ", ".join(
        "%s %d/%d" % (p, a, b) for p, (a, b) in collections.items()))
    report.notes.append("cyclic garbage the program made (a lower bound) collected during "
                        "the run (stock/gcx, medians): " + ", ".join(
                            "%s %.0f%%/%.0f%%" % (p, 100 * a, 100 * b)
                            for p, (a, b) in shares.items()))
    report.notes.append(
        "not in the means: the child script with no program (interpreter start, the "
        "harness's imports; gcx: its import and install), stock/gcx medians: wall "
        "%.1f/%.1f ms, cpu time %.1f/%.1f ms, peak RSS %.1f/%.1f MB" % tuple(
            median(r[key] for r in startup[mode]) * scale
            for _, key, _, scale in METRICS for mode in ("stock", "gcx")))
    report.notes.append(
        "what the programs cost beyond startup: geometric mean gcx/stock of the medians "
        "less each mode's startup median: " + ", ".join(
            beyond_startup(report, startup, metric, key) for metric, key, _, _ in METRICS[:2]))


def beyond_startup(report, startup, metric, key):
    """'metric mean (over n programs)'; a program whose median does not exceed
    the startup median in both modes (at --size small, within the noise) is
    left out."""
    base = {mode: median(r[key] for r in startup[mode]) for mode in ("stock", "gcx")}
    rows = [c for c in report.rows if c.metric == metric]
    pairs = [(c.gcx.median - base["gcx"], c.base.median - base["stock"]) for c in rows]
    ratios = [g / s for g, s in pairs if g > 0 and s > 0]
    if not ratios:
        return "%s -" % metric
    return "%s %.2f (over %d of %d programs)" % (
        metric, harness.geometric_mean(ratios), len(ratios), len(rows))


def summarise(report):
    missed = []
    for metric, _, _, _ in METRICS:
        rows = [c for c in report.rows if c.metric == metric]
        mean = harness.geometric_mean([c.ratio for c in rows])
        report.summary["geometric mean gcx/stock, %s" % metric] = mean
        above = [c.case for c in rows if c.ratio > LIMIT]
        report.summary["programs above %.2f, %s" % (LIMIT, metric)] = "%d of %d%s" % (
            len(above), len(rows), (": " + ", ".join(above)) if above else "")
        target = RSS_TARGET if metric == "peak RSS" else TIME_TARGET
        if mean > target:
            missed.append("%s geometric mean %.3f > %.2f" % (metric, mean, target))
        if above:
            missed.append("%d above %.2f by %s" % (len(above), LIMIT, metric))
    report.summary["target (times <= %.2f, RSS <= %.2f, none above %.2f)" % (
        TIME_TARGET, RSS_TARGET, LIMIT)] = "missed: " + "; ".join(missed) if missed else "met"


def median(values):
    v = sorted(values)
    return v[len(v) // 2]


def check(program, runs):
    sums = {json.dumps(r["checksum"]) for rs in runs.values() for r in rs}
    if len(sums) != 1:
        raise harness.BenchmarkError("%s: checksums differ between runs: %s"
                                     % (program, ", ".join("%s %s" % (m, [r["checksum"] for r in rs])
                                                           for m, rs in runs.items())))
    for mode, rs in runs.items():
        for r in rs:
            made = r["garbage_made"]
            if r["collected"] + r["left_over"] < made:
                raise harness.BenchmarkError(
                    "%s (%s): at least %d objects made cyclic garbage, the collections "
                    "during the run collected %d, a final collect() %d"
                    % (program, mode, made, r["collected"], r["left_over"]))


def configure(p):
    """The hidden options a child run is started with."""
    p.add_argument("--child", choices=CHILD_PROGRAMS, help=argparse.SUPPRESS)
    p.add_argument("--mode", choices=("stock", "gcx"), help=argparse.SUPPRESS)
    p.add_argument("--scale", type=float, default=None, help=argparse.SUPPRESS)
    harness.other_gcx_option(p)


if __name__ == "__main__":
    if _CHILD:
        p = harness.parser(__doc__)
        configure(p)
        a = p.parse_args()
        if a.mode is None:
            p.error("--child needs --mode")
        child(a.child, a.mode, a.size, a.scale)
    else:
        harness.main("suite", __doc__, run, configure, base_label="stock")
