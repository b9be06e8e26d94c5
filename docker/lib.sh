# Sourced by docker/make-base.sh, docker/image.sh and docker/image-test.sh: picks the
# container engine and installs what the image path needs (docker/packages.txt).
#
# After dusty_engine_init:
#   engine        "podman" or "docker"
#   ENGINE=(...)  the command to run it with, e.g. (podman --runtime runc)
#   LIMITS=(...)  --ulimit flags for build and run (empty for docker)
#
# DUSTY_ENGINE=podman|docker forces the choice; otherwise podman when it is installed,
# docker when a Docker engine answers, else podman is installed from Debian.

dusty_install_missing() { # <package...>
  local missing=() p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "image: installing ${missing[*]}" >&2
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

dusty_image_packages() {
  grep -v -e '^#' -e '^$' "$(dirname "${BASH_SOURCE[0]}")/packages.txt"
}

dusty_engine_init() {
  engine=${DUSTY_ENGINE:-}
  if [[ -z $engine ]]; then
    if command -v podman >/dev/null; then
      engine=podman
    elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then
      engine=docker
    else
      engine=podman
    fi
  fi
  case $engine in
    podman)
      # shellcheck disable=SC2046
      dusty_install_missing $(dusty_image_packages)
      # crun, podman's default runtime, refuses a hybrid cgroup v1/v2 layout ("cgroups in
      # hybrid mode not supported"); runc runs on every layout.
      ENGINE=(podman --runtime runc)
      # podman asks for nofile and nproc limits above the hard limits of some hosts (a VM
      # with nofile 20000 here) and then fails to start any container: ask for the host's.
      local nofile nproc
      nofile=$(ulimit -Hn); [[ $nofile == unlimited ]] && nofile=1048576
      # nproc at the host's hard limit (96367 here) is refused by runc all the same
      # ("error setting rlimit type 6"), 32768 is not: plenty for one container.
      nproc=$(ulimit -Hu); [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
      LIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
      ;;
    docker)
      dusty_install_missing curl python3
      ENGINE=(docker)
      LIMITS=()
      ;;
    *)
      echo "image: DUSTY_ENGINE must be podman or docker, not '$engine'" >&2
      return 2
      ;;
  esac
}

dusty_image_exists() { # <name>
  "${ENGINE[@]}" image inspect "$1" >/dev/null 2>&1
}
