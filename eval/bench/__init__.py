"""Benchmarks and harnesses: speed (bench, bench_scale), the web chat under load (load, upload_stall) and fault
injection (faults). tests/test_load.py and tests/test_faults.py run small samples of load and faults."""
