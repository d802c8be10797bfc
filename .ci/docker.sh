# Sourced by .ci/run: a real Docker Engine and a local registry (htpasswd auth) for the Docker tests, and the hub's
# image built with `npm run image` for the container tests. Everything started here is stopped on exit.
#
# The engine listens on its own socket (never /var/run/docker.sock: the hub reads a local default socket as "Docker
# configured", which would change other tests), with its own data root. Tests find it through DOCKER_TEST_HOST, the
# registry through DOCKER_TEST_REGISTRY / DOCKER_TEST_REGISTRY_AUTH, the built image through DOCKER_TEST_IMAGE. Where
# no engine can run, these stay unset and the Docker suites say "skipped" with the reason.

OMNI_DOCKER_SOCK="${OMNI_DOCKER_SOCK:-/run/omni-docker/docker.sock}"
OMNI_REGISTRY_ADDR="${OMNI_REGISTRY_ADDR:-127.0.0.1:5055}"
OMNI_DOCKER_STARTED_PIDS=()

omni_docker_log() { echo "[docker $(date +%T)] $*"; }

omni_docker_stop() {
  local pid
  for pid in "${OMNI_DOCKER_STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    # dockerd stops its containers and its containerd before exiting: give it time.
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  done
}

omni_docker_engine_answers() { DOCKER_HOST="unix://$OMNI_DOCKER_SOCK" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

omni_docker_setup() {
  local t0=$SECONDS
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v docker-registry >/dev/null || need+=(docker-registry)
  command -v htpasswd >/dev/null || need+=(apache2-utils)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
  dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
  if [ "${#need[@]}" -gt 0 ]; then
    omni_docker_log "installing ${need[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null) ||
      { omni_docker_log "could not install ${need[*]}: the real-engine Docker tests will skip"; return 0; }
  fi

  if ! omni_docker_engine_answers; then
    mkdir -p "$(dirname "$OMNI_DOCKER_SOCK")" /var/lib/omni-docker
    # overlay2 where the kernel offers it (vfs copies every layer in full and made the image build ~5x slower).
    local driver=vfs
    grep -qw overlay /proc/filesystems && driver=overlay2
    # A bridge of its own without iptables rules: published ports work through docker-proxy on the host's loopback,
    # containers reach nothing outside (builds use --network host). Without a bridge (no netlink rights): none.
    local network
    for network in "--bip=${OMNI_DOCKER_BIP:-172.31.250.1/24}" --bridge=none; do
      dockerd -H "unix://$OMNI_DOCKER_SOCK" --data-root /var/lib/omni-docker --exec-root /run/omni-docker-exec \
        --pidfile /run/omni-docker.pid --storage-driver "$driver" --iptables=false "$network" \
        >/tmp/omni-dockerd.log 2>&1 &
      local pid=$!
      for _ in $(seq 1 60); do omni_docker_engine_answers && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      if omni_docker_engine_answers; then OMNI_DOCKER_STARTED_PIDS+=("$pid"); break; fi
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    done
    if ! omni_docker_engine_answers; then
      omni_docker_log "dockerd did not start (tail of /tmp/omni-dockerd.log below): the real-engine Docker tests will skip"
      tail -5 /tmp/omni-dockerd.log || true
      return 0
    fi
    omni_docker_log "dockerd ($driver, $network) started on $OMNI_DOCKER_SOCK"
  fi
  export DOCKER_TEST_HOST="unix://$OMNI_DOCKER_SOCK"

  # A registry on loopback with htpasswd auth (the engine talks plain HTTP to 127.0.0.0/8 registries).
  local user=omni-ci pass
  pass="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  if ! curl -s -o /dev/null "http://$OMNI_REGISTRY_ADDR/v2/"; then
    local dir=/run/omni-registry
    mkdir -p "$dir" /var/lib/omni-registry
    htpasswd -Bbc "$dir/htpasswd" "$user" "$pass" >/dev/null 2>&1
    cat >"$dir/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: /var/lib/omni-registry}
  delete: {enabled: true}
http: {addr: $OMNI_REGISTRY_ADDR}
auth:
  htpasswd: {realm: omni-registry, path: $dir/htpasswd}
EOF
    docker-registry serve "$dir/config.yml" >/tmp/omni-registry.log 2>&1 &
    OMNI_DOCKER_STARTED_PIDS+=($!)
    for _ in $(seq 1 40); do curl -s -o /dev/null "http://$OMNI_REGISTRY_ADDR/v2/" && break; sleep 0.25; done
    export DOCKER_TEST_REGISTRY="$OMNI_REGISTRY_ADDR"
    export DOCKER_TEST_REGISTRY_AUTH="{\"username\":\"$user\",\"password\":\"$pass\",\"serveraddress\":\"$OMNI_REGISTRY_ADDR\"}"
  else
    omni_docker_log "a registry already answers on $OMNI_REGISTRY_ADDR; set DOCKER_TEST_REGISTRY and DOCKER_TEST_REGISTRY_AUTH to use it"
  fi

  # The hub's own image, from the unchanged Dockerfile (base assembled locally when node:24-slim cannot be pulled).
  local version t1=$SECONDS
  version="$(node -p 'require("./package.json").version')"
  # One retry: the build's npm ci goes over the network.
  if DOCKER_HOST="$DOCKER_TEST_HOST" npm run image --silent || DOCKER_HOST="$DOCKER_TEST_HOST" npm run image --silent; then
    export DOCKER_TEST_IMAGE="omni-hub:$version"
    omni_docker_log "image omni-hub:$version built in $((SECONDS - t1)) s"
  else
    omni_docker_log "npm run image failed"
    return 1
  fi
  # Earlier builds' untagged images and layers, once they are days old (recent ones are the build cache).
  DOCKER_HOST="$DOCKER_TEST_HOST" docker image prune -f --filter until=72h >/dev/null 2>&1 || true
  omni_docker_log "Docker part ready in $((SECONDS - t0)) s"
}
