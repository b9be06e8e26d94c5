#!/usr/bin/env bash
# Builds dusty's images (./dev.sh image):
#   dusty       the runtime image: every app, non-root, dusty-hello on port 8080
#   dusty-dev   headers, libraries and the CMake package on the Debian 12 toolchain
# Both are also tagged with the commit they were built from (dusty:<short sha>).
#
#   docker/image.sh [--worktree]
#
# By default the build context is `git archive HEAD`: the image is what was committed,
# whatever the work tree holds at the moment. --worktree builds the work tree as it is
# (with .dockerignore) instead.
#
# Environment:
#   DUSTY_ENGINE=podman|docker    the container engine (docker/lib.sh). Default: podman
#                                 if installed, else a Docker engine that answers, else
#                                 podman is installed from Debian.
#   DUSTY_IMAGE_BASE=auto|local|registry
#                                 local: localhost/debian:12{,-slim} from docker/make-base.sh;
#                                 registry: debian:12 and debian:12-slim from the engine's
#                                 registry. Default (auto): local when those images exist
#                                 or for podman (Debian's podman has no default registry),
#                                 registry for Docker, falling back to local if a pull fails.
#   DUSTY_IMAGE_JOBS=N            compile jobs inside the build. Default: 2.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=docker/lib.sh
source "$here/lib.sh"
dusty_engine_init

from_worktree=no
case ${1:-} in
  --worktree) from_worktree=yes ;;
  "") ;;
  *) echo "usage: docker/image.sh [--worktree]" >&2; exit 2 ;;
esac

base_mode=${DUSTY_IMAGE_BASE:-auto}
if [[ $base_mode == auto ]]; then
  if dusty_image_exists localhost/debian:12 && dusty_image_exists localhost/debian:12-slim; then
    base_mode=local
  elif [[ $engine == docker ]]; then
    if docker pull -q debian:12 >/dev/null 2>&1 && docker pull -q debian:12-slim >/dev/null 2>&1; then
      base_mode=registry
    else
      base_mode=local
    fi
  else
    base_mode=local
  fi
fi
case $base_mode in
  local)
    "$here/make-base.sh"
    base=localhost/debian:12 base_slim=localhost/debian:12-slim
    ;;
  registry) base=debian:12 base_slim=debian:12-slim ;;
  *) echo "image: DUSTY_IMAGE_BASE must be auto, local or registry" >&2; exit 2 ;;
esac

if [[ $from_worktree == yes ]]; then
  context=$root
  rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo worktree)-dirty
else
  context=$(mktemp -d /var/tmp/dusty-image.XXXXXX)
  trap 'rm -rf "$context"' EXIT
  git -C "$root" archive --format=tar HEAD | tar -x -C "$context"
  rev=$(git -C "$root" rev-parse --short HEAD)
fi

build=("${ENGINE[@]}" build "${LIMITS[@]}" -f "$context/docker/Dockerfile"
       --build-arg "BASE=$base" --build-arg "BASE_SLIM=$base_slim"
       --build-arg "JOBS=${DUSTY_IMAGE_JOBS:-2}")
# podman writes OCI images by default, and the OCI format has no HEALTHCHECK.
[[ $engine == podman ]] && build+=(--format docker)

echo "image: building dusty-dev and dusty from $([[ $from_worktree == yes ]] && echo "the work tree" || echo "commit $rev") with $engine on $base" >&2
"${build[@]}" --target dev -t dusty-dev:latest -t "dusty-dev:$rev" "$context"
"${build[@]}" --target runtime -t dusty:latest -t "dusty:$rev" "$context"
# The build stage gets a tag of its own: untagged, the next prune would take it, and with
# it the compiled layer an unchanged next build reuses.
"${build[@]}" -q --target build -t dusty-build-cache:latest "$context" >/dev/null
# Leftovers of earlier builds: their commit tags, then the stages no tag holds any more
# (a superseded build stage is about 800 MB).
"${ENGINE[@]}" images --format '{{.Repository}}:{{.Tag}}' |
  grep -E '(^|/)dusty(-dev)?:[0-9a-f]{7,}(-dirty)?$' | grep -v -E ":$rev\$" |
  xargs -r "${ENGINE[@]}" rmi >/dev/null 2>&1 || true
"${ENGINE[@]}" image prune -f --filter label=dev.dusty.image=1 >/dev/null
size=$("${ENGINE[@]}" image inspect --format '{{.Size}}' dusty:latest)
echo "image: dusty:latest (dusty:$rev) $((size / 1000000)) MB, dusty-dev:latest" >&2
