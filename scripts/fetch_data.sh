#!/usr/bin/env bash
# Real data that installs offline from Debian's packages (see the README's Data section):
#  - Fashion-MNIST IDX files      -> /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist)
#  - R data sets (kernlab, mlbench) -> ${MLRUN_DATA:-data}/deb/usr/lib/R/site-library/<pkg>/data/*.rda
# Needs apt-get (root). Safe to rerun.
set -euo pipefail
DATA_DIR="${MLRUN_DATA:-data}"
if ! command -v apt-get >/dev/null; then
  echo "fetch_data: apt-get not found; put the files in place by hand (see README)" >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist
fi
mkdir -p "$DATA_DIR/deb" "$DATA_DIR/pkgs"
for pkg in r-cran-kernlab r-cran-mlbench; do
  name="${pkg#r-cran-}"
  if [ ! -d "$DATA_DIR/deb/usr/lib/R/site-library/$name/data" ]; then
    (cd "$DATA_DIR/pkgs" && apt-get download "$pkg")
    dpkg-deb -x "$DATA_DIR"/pkgs/"$pkg"_*.deb "$DATA_DIR/deb"
  fi
done
echo "fetch_data: done ($DATA_DIR)"
