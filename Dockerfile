# syntax=docker/dockerfile:1
# containment-chamber — standard image (no enclave).
#
#   docker build -t containment-chamber:latest .
#   docker run --rm -p 9000:9000 -p 3000:3000 -v $PWD/config.yaml:/etc/containment-chamber/config.yaml:ro \
#       containment-chamber:latest
#
# Build stage: the same scripts/install-deps.sh + make build as on a Debian 12
# machine. Runtime stage: Debian 12 slim with only the shared libraries the
# binary links, running as an unprivileged user. Pin the base by digest in your
# registry mirror (docker buildx imagetools inspect debian:12.11-slim) if you
# need bit-for-bit rebuilds; the tag below is an exact point release.
ARG DEBIAN_IMAGE=debian:12.11-slim

FROM ${DEBIAN_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN rm -rf build && scripts/install-deps.sh && make build

FROM ${DEBIAN_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ca-certificates curl libssl3 libjansson4 libmicrohttpd12 \
        libgnutls30 libyaml-0-2 libsqlite3-0 libpq5 libunistring2 libcurl4 libargon2-1 libcbor0.8 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 chamber \
 && useradd --system --uid 10001 --gid chamber --home-dir /var/lib/containment-chamber --create-home chamber \
 && mkdir -p /etc/containment-chamber \
 && chown chamber:chamber /var/lib/containment-chamber
COPY --from=build /src/build/containment-chamber /usr/local/bin/containment-chamber
COPY config.example.yaml /etc/containment-chamber/config.example.yaml

USER 10001:10001
WORKDIR /var/lib/containment-chamber
# signing API (HTTP), HTTPS (tls.mode file|atls), Prometheus metrics
EXPOSE 9000 9443 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:9000/upcheck || exit 1
ENTRYPOINT ["/usr/local/bin/containment-chamber"]
# Configuration: mount a file and pass -c, or use CONTAINMENT_* variables only.
CMD ["server"]
