#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian/Ubuntu machine (idempotent):
#   - Debian packages: chromium (browser tests), libvulkan1 + mesa-vulkan-drivers (Vulkan loader
#     and the libraries lavapipe needs);
#   - lavapipe from bookworm-backports (Mesa 25), a CPU Vulkan driver recent enough for Dawn — the
#     stock bookworm Mesa is rejected by Dawn — unpacked into a private folder, system apt untouched;
#   - npm dependencies (npm ci);
#   - with --bench: Debian's python3-torch too, which `npm run bench` needs to export the ONNX files
#     its onnxruntime-web peers run (training/export_onnx.py); the tests do not need it.
# Prints the Vulkan ICD path; scripts/with-gpu.sh finds it again by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
LVP_DIR=${SAMPLESCOPE_LAVAPIPE_DIR:-$HOME/.cache/samplescope/lavapipe}
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

pkgs=(chromium libvulkan1 mesa-vulkan-drivers)
for a in "$@"; do
  case "$a" in
    --bench) pkgs+=(python3-torch) ;;
    *) echo "setup: unknown option $a (known: --bench)" >&2; exit 2 ;;
  esac
done
need=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    echo "setup: installing ${need[*]}" >&2
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
  else
    echo "setup: please install ${need[*]} (no apt-get here)" >&2
    exit 1
  fi
fi

if [ ! -f "$LVP_DIR/lvp_icd.json" ]; then
  echo "setup: fetching lavapipe (mesa-vulkan-drivers from bookworm-backports) into $LVP_DIR" >&2
  mkdir -p "$LVP_DIR"/{src,lists/partial,cache/archives/partial}
  # the Debian mirror this machine already uses
  URI=$(grep -h -m1 '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' || true)
  [ -n "$URI" ] || URI=$(grep -h -m1 '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' || true)
  [ -n "$URI" ] || URI=http://deb.debian.org/debian
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$URI" > "$LVP_DIR/src/bpo.sources"
  APT=(-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$LVP_DIR/src"
       -o Dir::State::Lists="$LVP_DIR/lists" -o Dir::Cache="$LVP_DIR/cache" -o APT::Sandbox::User=root)
  apt-get "${APT[@]}" update -qq >&2
  (cd "$LVP_DIR" && apt-get "${APT[@]}" download mesa-vulkan-drivers/bookworm-backports >&2)
  dpkg-deb -x "$LVP_DIR"/mesa-vulkan-drivers_*.deb "$LVP_DIR/x"
  sed "s#\"libvulkan_lvp.so\"#\"$LVP_DIR/x/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so\"#" \
    "$LVP_DIR/x/usr/share/vulkan/icd.d/lvp_icd.json" > "$LVP_DIR/lvp_icd.json.tmp"
  mv "$LVP_DIR/lvp_icd.json.tmp" "$LVP_DIR/lvp_icd.json"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
echo "$LVP_DIR/lvp_icd.json"
