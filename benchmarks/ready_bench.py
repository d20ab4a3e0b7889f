"""How long a server over a TinyDB file takes to answer and to be warm, and its resident memory.

    python -m benchmarks.ready_bench DB

Starts uvicorn over DB (response cache off), polls /healthz every 0.1 s, prints the seconds to the
first 200 and to `warm` (every index built), the resident memory then and its peak, and the ratio to
the file size (issue 11: ready <= 15 s, resident memory <= 2x the file at 1M articles).
"""
import json, os, subprocess, sys, time, urllib.request, socket
db = sys.argv[1]; cwd = sys.argv[2] if len(sys.argv) > 2 else os.getcwd()  # cwd: the checkout whose graph runs
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
env = {**os.environ, "NEWSGRAPH_DB": db, "NEWSGRAPH_RESPONSE_CACHE": "0"}
t0 = time.perf_counter()
p = subprocess.Popen([sys.executable, "-m", "uvicorn", "graph.app:app_from_env", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env, cwd=cwd)
def rss():
    return int(next(l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")).split()[1]) * 1024
ready = warm = None; peak = 0
try:
    while warm is None and time.perf_counter() - t0 < 3600:  # a first start at 1M builds the search index for ~12 min
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                body = json.loads(r.read())
                if ready is None:
                    ready = time.perf_counter() - t0; print(f"healthz 200 after {ready:.1f} s: {body}, RSS {rss()/2**20:.0f} MiB", flush=True)
                if body.get("warm", True):
                    warm = time.perf_counter() - t0
        except Exception:
            pass
        peak = max(peak, rss())
        time.sleep(0.1)
    time.sleep(3)
    size = os.path.getsize(db)
    print(f"warm after {warm:.1f} s; RSS {rss()/2**20:.0f} MiB (peak seen {peak/2**20:.0f}); file {size/2**20:.0f} MiB; RSS/file {rss()/size:.2f}")
finally:
    p.terminate(); p.wait()
