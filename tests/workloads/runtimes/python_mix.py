"""python_mix.py: what Python programs commonly ask of the kernel, in sections that print only
deterministic lines, so a native run and a sandboxed one must print the same bytes.

    python3 python_mix.py [SECTION...]    (no SECTION: all of them, in order)

tests/workloads/runtimes.sh runs each section as a test of its own; the benchmarks run it whole.
"""
import concurrent.futures
import mmap
import multiprocessing as mp
import os
import resource
import select
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time


def section_threading():
    counter = 0
    lock = threading.Lock()

    def add(n):
        nonlocal counter
        for _ in range(n):
            with lock:
                counter += 1

    threads = [threading.Thread(target=add, args=(2000,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("threads+lock:", counter)

    # A condition: a producer hands items to consumers, one at a time.
    cond = threading.Condition()
    items, taken = [], []

    def consume():
        while True:
            with cond:
                cond.wait_for(lambda: items)
                item = items.pop(0)
            if item is None:
                return
            with cond:
                taken.append(item)

    consumers = [threading.Thread(target=consume) for _ in range(3)]
    for t in consumers:
        t.start()
    for i in range(30):
        with cond:
            items.append(i)
            cond.notify()
    for _ in consumers:
        with cond:
            items.append(None)
            cond.notify()
    for t in consumers:
        t.join()
    print("condition:", len(taken), sum(taken))

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        print("ThreadPoolExecutor:", list(ex.map(lambda x: x * x, range(10))))

    ev = threading.Event()
    threading.Timer(0.02, ev.set).start()
    print("Event+Timer:", ev.wait(5))
    sem = threading.BoundedSemaphore(2)
    print("BoundedSemaphore:", sem.acquire(), sem.acquire(), sem.acquire(timeout=0.01))
    barrier = threading.Barrier(3)
    res = []
    ts = [threading.Thread(target=lambda: res.append(barrier.wait() >= 0)) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("Barrier:", res)


def square(x):
    return x * x


def child_put(q, n):
    for i in range(n):
        q.put(("item", i))
    q.put(None)


def child_exit(code):
    sys.exit(code)


def child_kill_self():
    os.kill(os.getpid(), signal.SIGTERM)


def child_lock(lock, val):
    with lock:
        with val.get_lock():
            val.value += 1


def mp_section(method):
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        print(method, "Pool.map:", pool.map(square, range(8)))
        print(method, "Pool.apply_async:", pool.apply_async(square, (7,)).get(10))
        print(method, "Pool.imap_unordered:", sorted(pool.imap_unordered(abs, [-3, -1, -2])))
    q = ctx.Queue()
    p = ctx.Process(target=child_put, args=(q, 5))
    p.start()
    got = []
    while (item := q.get(timeout=10)) is not None:
        got.append(item[1])
    p.join()
    print(method, "Queue:", got, "exitcode", p.exitcode)
    codes = []
    for target, args in ((child_exit, (0,)), (child_exit, (3,)), (child_kill_self, ())):
        p = ctx.Process(target=target, args=args)
        p.start()
        p.join()
        codes.append(p.exitcode)
    print(method, "Process exit codes:", codes)
    lock, val = ctx.Lock(), ctx.Value("i", 0)
    ps = [ctx.Process(target=child_lock, args=(lock, val)) for _ in range(3)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print(method, "Lock+Value:", val.value)
    a, b = ctx.Pipe()
    a.send({"k": [1, 2, 3]})
    print(method, "Pipe:", b.recv())


def section_mp_fork():
    mp_section("fork")
    # Four workers contending for the task queue's lock: a semaphore in /dev/shm, a futex
    # shared between processes.
    with mp.get_context("fork").Pool(4) as pool:
        print("fork Pool(4) 2000 tasks:", sum(pool.map(square, range(2000), chunksize=3)))


def section_mp_spawn():
    mp_section("spawn")


def section_subprocess():
    p = subprocess.Popen(["/bin/cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(b"through cat\n" * 1000)
    print("communicate:", len(out), out[:12], p.returncode)
    out = subprocess.check_output(["/bin/sh", "-c", "seq 1 500 | sort -r | head -n 3 | tr '\\n' ' '"])
    print("check_output pipeline:", out)
    r = subprocess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 4"], capture_output=True)
    print("run:", r.returncode, r.stdout, r.stderr)
    try:
        subprocess.check_call(["/bin/false"])
    except subprocess.CalledProcessError as e:
        print("check_call:", e.returncode)
    r = subprocess.run(["/bin/sh", "-c", "kill -TERM $$"])
    print("killed child:", r.returncode)
    try:
        subprocess.run(["/bin/sleep", "5"], timeout=0.2)
    except subprocess.TimeoutExpired:
        print("timeout: TimeoutExpired")
    try:
        subprocess.run(["/nonexistent-runsc-c"])
    except FileNotFoundError as e:
        print("missing:", e.errno)
    r = subprocess.run("echo $((6*7)) $FOO", shell=True, capture_output=True, text=True,
                       env={"FOO": "bar", "PATH": "/usr/bin:/bin"}, cwd="/usr")
    print("shell+env+cwd:", r.stdout.strip())


def section_socket_tcp():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.setblocking(False)
    port = srv.getsockname()[1]
    stop_r, stop_w = socket.socketpair()

    def serve():
        sel = selectors.DefaultSelector()
        sel.register(srv, selectors.EVENT_READ, "accept")
        sel.register(stop_r, selectors.EVENT_READ, "stop")
        while True:
            for key, _ in sel.select(timeout=10):
                if key.data == "stop":
                    sel.close()
                    return
                if key.data == "accept":
                    conn, _ = srv.accept()
                    conn.settimeout(10)  # sendall below may wait for the reader
                    sel.register(conn, selectors.EVENT_READ, "conn")
                    continue
                conn = key.fileobj
                data = conn.recv(65536)
                if not data:
                    sel.unregister(conn)
                    conn.close()
                    continue
                conn.sendall(data.upper())

    t = threading.Thread(target=serve)
    t.start()
    results = []
    clients = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
    for i, c in enumerate(clients):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sendall(b"hello %d " % i * 3)
    for i, c in enumerate(clients):
        want = len(b"hello %d " % i * 3)
        buf = b""
        while len(buf) < want:
            buf += c.recv(want - len(buf))
        results.append(buf)
    big = bytes(range(256)) * 2048
    c = clients[0]
    sender = threading.Thread(target=c.sendall, args=(big.lower(),))
    sender.start()
    got = 0
    while got < len(big):
        got += len(c.recv(1 << 16))
    sender.join()
    for c in clients:
        c.close()
    stop_w.send(b"x")
    t.join()
    srv.close()
    print("tcp echo:", results)
    print("tcp bulk:", got)
    print("peer/sock names:", clients[0].family == socket.AF_INET, port > 0)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for m in (b"one", b"two", b"three"):
        v.sendto(m, u.getsockname())
    print("udp:", [u.recvfrom(100)[0] for _ in range(3)])
    u.close()
    v.close()


def section_unix_sockets():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sock")
        for name, addr in (("path", path), ("abstract", "\0runsc-c-py-%d" % os.getpid())):
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            srv.bind(addr)
            srv.listen(1)
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(addr)
            conn, _ = srv.accept()
            c.sendall(b"ping " + name.encode())
            print("unix", name, conn.recv(100), conn.getsockname() == srv.getsockname())
            conn.close()
            c.close()
            srv.close()
        print("path socket left:", os.path.exists(path))
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    for m in (b"a", b"bb" * 100, b"ccc"):
        a.send(m)
    print("dgram boundaries:", [len(b.recv(4096)) for _ in range(3)])
    a.send(b"x" * 100)
    data, _, flags, _ = b.recvmsg(10)
    print("dgram truncated:", len(data), bool(flags & socket.MSG_TRUNC))
    os.write(a.fileno(), b"y" * 100000)
    print("dgram os.write/os.read of 100000:", len(os.read(b.fileno(), 200000)))
    a.close()
    b.close()
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    a.send(b"12345")
    a.send(b"678")
    print("seqpacket:", b.recv(100), b.recv(100))
    r, w = os.pipe()
    socket.send_fds(a, [b"fd"], [r])
    msg, fds, _, _ = socket.recv_fds(b, 10, 1)
    os.write(w, b"via passed fd")
    print("SCM_RIGHTS:", msg, os.read(fds[0], 100))
    for fd in (r, w, fds[0]):
        os.close(fd)
    a.close()
    b.close()


def section_sqlite():
    with tempfile.TemporaryDirectory() as d:
        db = os.path.join(d, "t.db")
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL)")
        con.executemany("INSERT INTO t (name, v) VALUES (?, ?)",
                        [("n%d" % i, i / 4) for i in range(2000)])
        con.commit()
        print("sqlite count/sum:", con.execute("SELECT count(*), sum(v) FROM t").fetchone())
        con.execute("CREATE INDEX t_name ON t (name)")
        print("sqlite index:", con.execute("SELECT id FROM t WHERE name = 'n1234'").fetchone())
        con2 = sqlite3.connect(db)
        con2.execute("UPDATE t SET v = 0 WHERE id <= 1000")
        con2.commit()
        con2.close()
        print("sqlite second connection:", con.execute("SELECT sum(v) FROM t").fetchone())
        con.close()
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("VACUUM")
        con.close()
        print("sqlite files:", sorted(os.listdir(d)), os.path.getsize(db) > 0)


def section_tempfile():
    with tempfile.NamedTemporaryFile("w+", suffix=".txt") as f:
        f.write("line\n" * 100)
        f.flush()
        f.seek(0)
        print("NamedTemporaryFile:", len(f.read()), os.path.basename(f.name).endswith(".txt"))
    with tempfile.TemporaryFile() as f:
        f.write(b"anonymous")
        f.seek(0)
        print("TemporaryFile:", f.read())
    with tempfile.SpooledTemporaryFile(max_size=10) as f:
        f.write(b"x" * 100)
        f.seek(0)
        print("SpooledTemporaryFile:", len(f.read()))
    d = tempfile.mkdtemp()
    for i in range(5):
        with open(os.path.join(d, "f%d" % i), "w") as f:
            f.write(str(i) * i)
    os.makedirs(os.path.join(d, "a", "b", "c"))
    os.rename(os.path.join(d, "f4"), os.path.join(d, "a", "b", "moved"))
    os.symlink("f1", os.path.join(d, "link"))
    print("mkdtemp tree:", sorted(os.listdir(d)), os.readlink(os.path.join(d, "link")))
    st = os.stat(os.path.join(d, "f3"))
    print("stat:", st.st_size, oct(st.st_mode & 0o777))
    shutil.rmtree(d)
    print("rmtree:", os.path.exists(d))


def section_walk():
    nfiles = ndirs = size = 0
    py = []
    for root, dirs, files in os.walk("/usr/lib/python3.11"):
        # Python writes missing bytecode of the stdlib when run as root: not counted.
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        ndirs += len(dirs)
        for name in files:
            p = os.path.join(root, name)
            nfiles += 1
            size += os.lstat(p).st_size
            if name.endswith(".py"):
                py.append(os.path.relpath(p, "/usr/lib/python3.11"))
    py.sort()
    print("walk:", nfiles, "files,", ndirs, "dirs,", size, "bytes,", len(py), ".py")
    print("walk first/last:", py[:3], py[-3:])
    with os.scandir("/usr/lib/python3.11") as it:
        entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
    print("scandir:", len(entries), entries[:3])


def section_signals():
    got = []

    def on_alarm(signum, frame):
        got.append(signum)
        if len(got) == 5:
            signal.setitimer(signal.ITIMER_REAL, 0)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)
    deadline = time.monotonic() + 10
    while len(got) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    print("SIGALRM x", len(got), got[0] == signal.SIGALRM, signal.getitimer(signal.ITIMER_REAL))
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    hits = []
    signal.signal(signal.SIGUSR1, lambda s, f: hits.append("usr1"))
    os.kill(os.getpid(), signal.SIGUSR1)
    print("SIGUSR1 to self:", hits)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
    os.kill(os.getpid(), signal.SIGUSR2)
    print("pending:", signal.SIGUSR2 in signal.sigpending())
    print("sigwait:", signal.sigwait([signal.SIGUSR2]) == signal.SIGUSR2)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR2])
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w)
    signal.signal(signal.SIGCHLD, lambda s, f: None)
    subprocess.run(["/bin/true"])
    print("wakeup fd:", signal.SIGCHLD in os.read(r, 100))
    signal.set_wakeup_fd(-1)
    # A blocking read interrupted by an alarm (PEP 475 retries it after the handler).
    signal.signal(signal.SIGALRM, lambda s, f: os.write(w, b"!"))
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    print("read after alarm:", os.read(r, 100))
    os.close(r)
    os.close(w)


def section_misc():
    print("cpu_count >= 1:", os.cpu_count() >= 1, len(os.sched_getaffinity(0)) >= 1)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print("getrusage:", ru.ru_maxrss > 0, ru.ru_utime >= 0)
    print("getrlimit NOFILE:", resource.getrlimit(resource.RLIMIT_NOFILE)[0] > 0)
    t0, m0, p0 = time.time(), time.monotonic(), time.perf_counter()
    time.sleep(0.02)
    print("time:", time.time() > t0, time.monotonic() - m0 >= 0.02, time.perf_counter() > p0,
          time.process_time() >= 0, time.thread_time() >= 0)
    print("clock_getres:", time.clock_getres(time.CLOCK_MONOTONIC) > 0)
    print("strftime:", time.strftime("%Y-%m-%d", time.gmtime(0)))
    r, w = os.pipe()
    print("select empty:", select.select([r], [], [], 0.01))
    os.write(w, b"x")
    print("select ready:", select.select([r], [w], [], 1) == ([r], [w], []))
    p = select.poll()
    p.register(r, select.POLLIN)
    print("poll:", p.poll(1000) == [(r, select.POLLIN)])
    ep = select.epoll()
    ep.register(r, select.EPOLLIN)
    print("epoll:", ep.poll(1) == [(r, select.EPOLLIN)])
    with tempfile.TemporaryFile() as f:
        try:
            ep.register(f.fileno(), select.EPOLLIN)
            print("epoll regular file: registered")
        except PermissionError as e:
            print("epoll regular file:", e.errno)
    ep.close()
    os.close(r)
    os.close(w)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m")
        with open(path, "wb") as f:
            f.write(b"\0" * 8192)
        with open(path, "r+b") as f:
            m = mmap.mmap(f.fileno(), 0)
            m[0:5] = b"hello"
            m[4096:4101] = b"world"
            m.flush()
            m.close()
        with open(path, "rb") as f:
            data = f.read()
        print("mmap file:", data[:5], data[4096:4101], len(data))
        anon = mmap.mmap(-1, 1 << 20)
        anon[-3:] = b"end"
        print("mmap anon:", anon[-3:], len(anon))
        shutil.copy(path, path + ".copy")
        shutil.copytree(d, d + "-tree")
        print("shutil.copy:", os.path.getsize(path + ".copy"), sorted(os.listdir(d + "-tree")))
        shutil.rmtree(d + "-tree")
    print("uname:", os.uname().sysname, os.uname().machine)
    print("getpid/getppid:", os.getpid() > 0, os.getppid() >= 0)
    print("urandom:", len(os.urandom(64)))
    print("environ HOME:", os.environ.get("HOME"))
    fd = os.open("/dev/null", os.O_WRONLY)
    print("dup2/fstat:", os.dup2(fd, 100), os.fstat(100).st_mode & 0o170000 == 0o20000)
    os.close(100)
    os.close(fd)
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    print("fork/waitpid:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))


SECTIONS = {name[len("section_"):]: fn for name, fn in globals().items()
            if name.startswith("section_")}

if __name__ == "__main__":
    names = sys.argv[1:] or list(SECTIONS)
    for name in names:
        print("==", name, flush=True)
        SECTIONS[name]()
        sys.stdout.flush()
