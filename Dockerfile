# syntax=docker/dockerfile:1
# The `ballista` image: `ballista scheduler`, `ballista executor`, `ballista sql`
# (and `ballista k8s`), as the manifests of `ballista k8s` run them.
#
#   docker build -t ballista:0.1.0 .              # or: minikube image build -t ballista:0.1.0 .
#   docker run --rm -p 50050:50050 ballista:0.1.0 scheduler
#
# Configuration: flags, or the BALLISTA_* variable each flag names in
# `ballista scheduler --help` / `ballista executor --help` (docs/kubernetes.md).
# Not built by `make test`: the project's machines run no container engine.

# --- build: the two programs, in release mode -----------------------------
FROM rust:1.94-bookworm AS build
WORKDIR /src
COPY . .
# Both workspaces share one target directory; the caches keep the crates.io
# downloads and the compiled dependencies between builds.
ENV CARGO_TARGET_DIR=/target
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/target \
    cargo build --release --locked -p ballista-cli \
 && cargo build --release --locked --manifest-path rust/ballista-k8s/Cargo.toml \
 && install -D -m 0755 /target/release/ballista /out/ballista \
 && install -D -m 0755 /target/release/ballista-k8s /out/ballista-k8s

# --- runtime: the programs, CA certificates, an unprivileged user ---------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 ballista \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin ballista \
 && install -d -o 10001 -g 10001 /var/lib/ballista/work
COPY --from=build /out/ballista /out/ballista-k8s /usr/local/bin/
# The uid the manifests' runAsUser names; numeric so runAsNonRoot can check it.
USER 10001:10001
# In a container, listen on every interface (the programs' own default is
# loopback); BALLISTA_WORK_DIR is an emptyDir on Kubernetes.
ENV BALLISTA_BIND=0.0.0.0 \
    BALLISTA_WORK_DIR=/var/lib/ballista/work \
    RUST_LOG=info
# Scheduler and executor Flight ports (gRPC health is served on them too).
EXPOSE 50050 50051
ENTRYPOINT ["/usr/local/bin/ballista"]
CMD ["--help"]
