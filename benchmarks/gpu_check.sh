#!/usr/bin/env bash
# One check of clipart on a fresh GPU machine, in one call, sized for 8 minutes with the install:
#
#   benchmarks/gpu_check.sh [OUT_DIR]                          # default OUT_DIR: $OUT, else ./gpu-check-out
#   benchmarks/gpu_check.sh --python .venv/bin/python OUT_DIR  # reuse an environment: no venv, no install
#   benchmarks/gpu_check.sh --wheels WHEELS OUT_DIR            # install offline from a folder of wheels
#
# 1. Creates a venv (--system-site-packages, so a CUDA torch already on the machine is used rather than
#    downloaded) in $TMPDIR/clipart-gpu-check-venv (--venv DIR) and runs `pip install -e ".[dev]"` in it
#    (--extras LIST for other extras; --extras "" for none). With --wheels DIR, pip takes what the machine lacks
#    from DIR only (--no-index --find-links DIR): for machines without network, DIR holds the wheels of what
#    their Python lacks, setuptools and wheel (the build's) included (`pip download -d DIR --only-binary=:all:
#    --python-version X.Y --platform manylinux2014_x86_64 NAME...` on a machine with network).
# 2. Runs benchmarks/gpu_check.py: the device-agnostic tests on CUDA (CLIPART_TEST_DEVICE=cuda pytest -m device,
#    see tests/conftest.py), the clipdraw preset with a random-weight ViT-B-32 (no download) for 100 steps and
#    the quick preset (embedded model), each on CUDA and briefly on the CPU, and the rasterizer benchmark
#    (bench_render.py's cases) on CUDA and on the CPU.
# 3. Writes ONE markdown table to stdout and OUT_DIR/gpu_check.md; every command's output goes to
#    OUT_DIR/gpu_check.log (and the install's to OUT_DIR/install.log).
#
# Without CUDA it runs end to end all the same: each CUDA part is a "skipped" row and one line on stderr, and the
# CPU parts run with few steps. Exit code 0 when no part failed, 1 otherwise, 2 for bad arguments.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TMPDIR:-/tmp}/clipart-gpu-check-venv"
PY=""
WHEELS=""
EXTRAS="dev"
OUTDIR="${OUT:-}"

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "gpu_check: error: $*" >&2; exit 2; }
since() { local ms=$(( ($(date +%s%N) - $1) / 1000000 )); echo "$((ms / 1000)).$(( ms % 1000 / 100 ))"; }

while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --python) [ $# -ge 2 ] || die "--python needs a Python interpreter"; PY="$2"; shift 2 ;;
        --venv) [ $# -ge 2 ] || die "--venv needs a folder"; VENV="$2"; shift 2 ;;
        --wheels) [ $# -ge 2 ] || die "--wheels needs a folder of wheels"; WHEELS="$2"; shift 2 ;;
        --extras) [ $# -ge 2 ] || die "--extras needs a list (dev, or train,app, or \"\")"; EXTRAS="$2"; shift 2 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) OUTDIR="$1"; shift ;;
    esac
done
OUTDIR="${OUTDIR:-$PWD/gpu-check-out}"
mkdir -p "$OUTDIR" || die "cannot create the output folder $OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
[ -z "$WHEELS" ] || [ -d "$WHEELS" ] || die "--wheels $WHEELS is not a folder"
[ -z "$PY" ] || [ -x "$PY" ] || command -v "$PY" >/dev/null || die "--python $PY is not an interpreter"

install_seconds=()
if [ -n "$PY" ]; then
    note="reused $PY (no venv, no install); the checkout first on PYTHONPATH"
    export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
else
    spec="$REPO${EXTRAS:+[$EXTRAS]}"
    pip_flags=(-q)
    [ -z "$WHEELS" ] || pip_flags+=(--no-index --find-links "$(cd "$WHEELS" && pwd)")
    echo "gpu_check: installing: pip install -e \"$spec\" into $VENV" >&2
    start=$(date +%s%N)
    rm -rf "$VENV"
    if ! { python3 -m venv --system-site-packages "$VENV" \
           && "$VENV/bin/python" -m pip install "${pip_flags[@]}" -e "$spec"; } >"$OUTDIR/install.log" 2>&1; then
        took=$(since "$start")
        line="$( (grep -E '^ *ERROR' "$OUTDIR/install.log" || grep -E 'error:' "$OUTDIR/install.log") | tail -n1 \
                 | sed 's/^ *//; s/|/\//g' | cut -c1-200)"
        table="| part | device | result | seconds | detail |
| --- | --- | --- | ---: | --- |
| install | - | FAILED | $took | ${line:-see install.log}; offline? give --wheels DIR or --python PY |"
        echo "gpu_check: error: the install failed (${line:-see $OUTDIR/install.log}); nothing else was run" >&2
        printf 'clipart GPU check\n\n%s\n' "$table" | tee "$OUTDIR/gpu_check.md"
        exit 1
    fi
    took=$(since "$start")
    install_seconds=(--install-seconds "$took")
    PY="$VENV/bin/python"
    note="pip install -e .${EXTRAS:+[$EXTRAS]} into a new venv${WHEELS:+ from $WHEELS}"
fi

exec "$PY" "$REPO/benchmarks/gpu_check.py" --out "$OUTDIR" ${install_seconds[@]+"${install_seconds[@]}"} --install-note "$note"
