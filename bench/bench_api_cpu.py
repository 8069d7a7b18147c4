"""Where the CPU of a `GET /api/v1/cis/{key}` goes: `cmdb serve`'s API workers, its engine
process and the load generator, from their CPU times (/proc) over 10,000 requests on 50
connections. CPU time holds up on a shared machine, unlike wall-clock rates.

    .venv/bin/python bench/bench_api_cpu.py DATA_DIR   # a register bench_api.py --data-dir loaded
"""
import asyncio, json, os, random, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bench_api import Server, drive
from bench.estate import synthetic_estate
from cmdb.graph import Graph
from cmdb.graph.tokens import create_token
from cmdb.settings import Settings

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(p))
            except OSError:
                pass
    return out

d = Path(sys.argv[1]).resolve()
server = Server(d, 2)
try:
    g = Graph.connect(Settings(data_dir=d))
    token = create_token(g, f"cpu-{os.getpid()}", "reviewer", created_by="bench")
    g.close()
    cis, _ = synthetic_estate(100000)
    hw = [c.key for c in cis if c.kind == "Hardware"]
    rnd = random.Random(3)
    engine = json.loads((d / "engine.json").read_text())["pid"]
    time.sleep(40)  # the workers' index reads finish
    cmd = lambda p: open(f"/proc/{p}/cmdline").read().replace("\0", " ")[:90]
    workers = [p for p in children(server.proc.pid) if p != engine and "resource_tracker" not in cmd(p)]
    for p in workers + [engine]:
        print(p, cmd(p))
    print("engine", engine, "workers", workers)
    for n in (10000,):
        w0 = sum(cpu(p) for p in workers); e0 = cpu(engine); c0 = time.process_time(); t0 = time.perf_counter()
        lat, fails, el = asyncio.run(drive(server.port, token, lambda: f"/api/v1/cis/{rnd.choice(hw)}", 50, n, 120))
        w1 = sum(cpu(p) for p in workers); e1 = cpu(engine); c1 = time.process_time()
        k = len(lat)
        print(f"{k} requests in {el:.1f} s ({k/el:.0f} req/s), failures {len(fails)}: per request "
              f"workers {1000*(w1-w0)/k:.2f} ms CPU, engine {1000*(e1-e0)/k:.2f} ms, client {1000*(c1-c0)/k:.2f} ms")
finally:
    server.stop()
