#!/usr/bin/env bash
# Install, build the knowledge base from the seeds in corpus/ (SQLite), and print a sample answer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/xinyi ingest corpus --db xinyi.sqlite > /dev/null
echo "knowledge base: xinyi.sqlite"
.venv/bin/xinyi check --db xinyi.sqlite --profile examples/wuxi_hazchem.json --as-of 2026-11-22 \
  | .venv/bin/python scripts/summary.py
