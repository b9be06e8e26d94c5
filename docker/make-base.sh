#!/usr/bin/env bash
# Makes the Debian 12 base images the Dockerfile builds on, for machines where no
# registry can give debian:12: debootstrap from the Debian mirror the host's apt uses,
# then imports it twice into the container engine:
#   localhost/debian:12        minbase (apt, bash, coreutils): the build and dev stages
#   localhost/debian:12-slim   the same without docs, man pages and locales, and a dpkg
#                              config that keeps later installs that way: the runtime stage
# Then: podman build --build-arg BASE=localhost/debian:12 --build-arg BASE_SLIM=localhost/debian:12-slim ...
#
#   docker/make-base.sh [--force]   (about 1.5 minutes; does nothing if both images exist)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=docker/lib.sh
source "$here/lib.sh"
dusty_engine_init

full=localhost/debian:12
slim=localhost/debian:12-slim
if [[ ${1:-} != --force ]] && dusty_image_exists "$full" && dusty_image_exists "$slim"; then
  exit 0
fi
command -v debootstrap >/dev/null || dusty_install_missing debootstrap

# The first URI that the host's apt uses for <suite>: deb822 *.sources first, then
# one-line sources.list entries.
mirror_for() { # <suite>
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk -v suite="$1" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; types = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^#/) continue
          if (sub(/^URIs:[ \t]*/, "", line)) uris = line
          else if (sub(/^Suites:[ \t]*/, "", line)) suites = " " line " "
          else if (sub(/^Types:[ \t]*/, "", line)) types = " " line " "
          else if (sub(/^Enabled:[ \t]*/, "", line)) enabled = line
        }
        if (enabled != "no" && types ~ / deb / && index(suites, " " suite " ")) { split(uris, u, " "); print u[1]; exit }
      }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v suite="$1" '$1 == "deb" {
      i = 2
      if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; exit }
    }'
}

mirror=$(mirror_for bookworm)
security=$(mirror_for bookworm-security)
if [[ -z $mirror ]]; then
  echo "make-base: the host's apt has no source for Debian 12 (bookworm); set one up first" >&2
  exit 1
fi
echo "make-base: debootstrap bookworm from $mirror" >&2

work=$(mktemp -d /var/tmp/dusty-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
# One retry: a mirror's hiccup is not worth a failed build.
if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  echo "make-base: debootstrap failed, retrying once" >&2
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    exit 1
  }
fi

# The image's apt uses the host's mirror, as a deb822 source like Debian's own images.
rm -f "$rootfs/etc/apt/sources.list"
{
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$mirror"
  printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  if [[ -n $security ]]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$security"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  fi
} >"$rootfs/etc/apt/sources.list.d/debian.sources"
# As Debian's images do: no package caches or lists left in a layer, no recommends.
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CONF
printf 'APT::Install-Recommends "false";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"
: >"$rootfs/etc/machine-id"

import() { # <tag>
  tar --numeric-owner --xattrs -C "$rootfs" -c . |
    "${ENGINE[@]}" import -q \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - "$1" >/dev/null
}
import "$full"

# The slim variant: what Debian's -slim images leave out, kept out of later installs too.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CONF
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/groff/* "$rootfs"/usr/share/info/* \
       "$rootfs"/usr/share/lintian/* "$rootfs"/usr/share/locale/*
import "$slim"
echo "make-base: $full and $slim ($(du -sh "$rootfs" | cut -f1) unpacked slim)" >&2
