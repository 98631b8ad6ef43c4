#!/usr/bin/env bash
# Puts Debian bookworm-backports' Mesa (RADV, whose shader compiler is AMD's ACO) into a
# folder, without installing or changing any system package:
#   tools/gpu_compile/fetch_mesa.sh DEST
# Then DEST/radeon_icd.json is a Vulkan ICD manifest naming the extracted driver by its
# absolute path, DEST/lib holds the newer libdrm it needs (for LD_LIBRARY_PATH), and
# DEST/VERSION says which Mesa it is. A second run with the same versions downloads
# nothing. MESA_VERSION and LIBDRM_VERSION pick other versions of the same suite.
set -euo pipefail

dest=${1:?usage: fetch_mesa.sh DEST}
mesa_version=${MESA_VERSION:-25.0.7-2~bpo12+1}
libdrm_version=${LIBDRM_VERSION:-2.4.123-1~bpo12+1}
suite=${MESA_SUITE:-bookworm-backports}
wanted="mesa-vulkan-drivers=$mesa_version libdrm2=$libdrm_version libdrm-amdgpu1=$libdrm_version"

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
if [ -f "$dest/VERSION" ] && [ "$(cat "$dest/VERSION")" = "$wanted" ] && [ -f "$dest/radeon_icd.json" ]; then
  echo "gpu-compile: Mesa $mesa_version already in $dest"
  exit 0
fi

# A private apt configuration: its own sources list and lists folder, so the system's
# apt state is neither read nor written.
apt_dir="$dest/apt"
rm -rf "$apt_dir" "$dest/debs" "$dest/root"
mkdir -p "$apt_dir/lists/partial" "$dest/debs" "$dest/root"
echo "deb http://deb.debian.org/debian $suite main" > "$apt_dir/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1
             -o APT::Sandbox::User=root)
if ! apt-get "${apt_options[@]}" -qq update; then
  echo "gpu-compile: cannot read the package lists of $suite from deb.debian.org (no network?)" >&2
  exit 1
fi
# shellcheck disable=SC2086
if ! (cd "$dest/debs" && apt-get "${apt_options[@]}" -qq download $wanted); then
  echo "gpu-compile: could not download $wanted from $suite." >&2
  echo "  versions of mesa-vulkan-drivers there now:" >&2
  apt-cache "${apt_options[@]}" madison mesa-vulkan-drivers >&2 || true
  echo "  set MESA_VERSION (and LIBDRM_VERSION) to one of them." >&2
  exit 1
fi
for deb in "$dest"/debs/*.deb; do dpkg -x "$deb" "$dest/root"; done

driver="$dest/root/usr/lib/x86_64-linux-gnu/libvulkan_radeon.so"
[ -f "$driver" ] || { echo "gpu-compile: the package has no $driver" >&2; exit 1; }
ln -sfn "$dest/root/usr/lib/x86_64-linux-gnu" "$dest/lib"
# The packaged manifest names the library by a bare file name; this one by its path.
sed "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$driver\"#" \
  "$dest/root/usr/share/vulkan/icd.d/radeon_icd.json" > "$dest/radeon_icd.json.tmp"
grep -q "$driver" "$dest/radeon_icd.json.tmp" || { echo "gpu-compile: could not rewrite the ICD manifest" >&2; exit 1; }
mv "$dest/radeon_icd.json.tmp" "$dest/radeon_icd.json"
echo "$wanted" > "$dest/VERSION"
rm -rf "$dest/debs" "$apt_dir"
echo "gpu-compile: Mesa $mesa_version extracted into $dest"
