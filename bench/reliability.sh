#!/usr/bin/env bash
# Reproduce the figures in docs/reliability.md.  Run from the repository root after `make test`
# has built the venv.  Each step prints its own table or test summary.
set -euo pipefail
PY=${PY:-.venv/bin/python}

echo "== Bad input: fuzzed loaders, parser, drafter, guard (counts) =="
$PY bench/fuzz.py --examples "${FUZZ_EXAMPLES:-2000}"

echo "== Store faults: chroma run stopped mid-search/mid-ingest, kill -9 of an ingest, disk full, read-only =="
$PY -m pytest -q tests/test_store_faults.py -s

echo "== App faults: endpoint down/cut/hang/garbage/429/500 through the UI; kill -9 of the app =="
$PY -m pytest -q tests/test_app_faults.py tests/test_app_kill.py -s

echo "== Prompt injection and security (accounts, rate limit, separation over HTTP, keys) =="
$PY -m pytest -q tests/test_injection.py tests/test_security.py

echo "== Load: 20 writers for 60 s, offline engine, then the scripted endpoint; queue limits side by side =="
$PY bench/load.py --engine offline --writers 20 --seconds 60 --compare 1,4,8
$PY bench/load.py --engine openai --writers 20 --seconds 60 --compare 1,4,8,16

echo "== Issue #11: one writer pastes the largest allowed text, the others edit (save p50/p99, lost saves) =="
$PY bench/load.py --scenario paste --writers 10 --seconds 60
$PY bench/render.py --old 48c2f41

echo "== Scale-out: the 100x synthetic corpus in a chroma run server (about 25 minutes) =="
$PY bench/retrieval.py scale --factor 100 --server
