"""Benchmarks and harnesses: speed (bench, bench_scale), the web chat under load (load, upload_stall), the JSON API
and Ray Serve (serving) and fault injection (faults); `server` starts app.py for them and for the tests.
tests/test_load.py and tests/test_faults.py run small samples of load and faults."""
