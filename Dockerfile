# Parley image: docker build -t parley:0.1.0 -t parley:latest .   (podman: add --format docker)
# Two stages on the official Node 24 image: "build" installs everything and bundles the browser
# code; "runtime" gets production dependencies, sources and the bundle only.
# test/container/steps.test.ts parses this file and runs its steps outside Docker: keep to the
# instructions it understands (FROM, WORKDIR, ENV, ARG, COPY, RUN, USER, EXPOSE, HEALTHCHECK, CMD, LABEL).

FROM node:24-bookworm-slim AS build
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the package files change.
COPY package.json package-lock.json ./
# mediasoup's postinstall downloads its prebuilt worker into node_modules/mediasoup/worker/out and
# checks that it runs here. Only when it cannot (no prebuilt for this platform, or it does not run)
# does the postinstall build the worker from source, which needs pip (meson, ninja), make and g++:
# those are then installed and the install is run again. Any other failure of npm ci fails the build.
RUN if ! npm ci --no-audit --no-fund; then \
      if [ -x node_modules/mediasoup/worker/out/Release/mediasoup-worker ]; then exit 1; fi; \
      echo "parley build: mediasoup's prebuilt worker cannot be used here; installing a toolchain to build it from source"; \
      apt-get update \
      && apt-get install -y --no-install-recommends ca-certificates python3 python3-pip make g++ \
      && rm -rf /var/lib/apt/lists/* \
      && npm ci --no-audit --no-fund; \
    fi
COPY build.mjs tsconfig.json ./
COPY src ./src
COPY views ./views
COPY public ./public
COPY scripts/healthcheck.mjs ./scripts/
RUN node build.mjs
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
# OCI labels: `docker image inspect parley` shows what is running. Keep version in step with
# package.json (a test checks). Where the source lives and which commit: given at build time,
#   docker build --build-arg SOURCE_URL=https://git.example.com/parley --build-arg REVISION=$(git rev-parse HEAD) …
ARG SOURCE_URL=""
ARG REVISION=""
LABEL org.opencontainers.image.title="Parley" \
      org.opencontainers.image.description="Self-hosted multi-party video calls: one Node process, mediasoup SFU, Socket.IO signaling." \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${REVISION}"
ENV NODE_ENV=production
# coturn, Debian's TURN server: Parley starts it itself when TURN_SECRET is set (README "Connect from
# anywhere"); unused otherwise. Its Debian service is never started here.
RUN apt-get update \
    && apt-get install -y --no-install-recommends coturn \
    && rm -rf /var/lib/apt/lists/*
# Media ports are RTC_PORT .. RTC_PORT+WORKERS-1, each on UDP and TCP (worker i listens on
# RTC_PORT+i). WORKERS is fixed here rather than left at its default (the number of CPUs) so the
# ports the container listens on are the same on every host and match EXPOSE and the -p lines in
# README.md; with the default, a bigger host would listen on ports nobody published and calls
# would connect but carry no media. 2 suits a small server; set WORKERS to the cores you give the
# container and publish the matching range.
ENV PORT=3000 RTC_PORT=40000 WORKERS=2
# The TURN relay's port (TCP and UDP, TLS too), used only with TURN_SECRET: -e TURN_PORT=443 for
# networks that let only HTTPS out (Docker lets the non-root user bind it inside the container).
ENV TURN_PORT=3478
# Tells the health check that published ports arrive on the container's network address, not on
# loopback (scripts/healthcheck.mjs).
ENV PARLEY_IN_CONTAINER=1
WORKDIR /app
# Owned by root and not writable by the app: Parley writes nothing to disk (with TURN_SECRET,
# coturn's generated settings go to a private directory under /tmp, removed on shutdown).
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
COPY --from=build /app/views ./views
COPY --from=build /app/public ./public
COPY --from=build /app/scripts ./scripts
USER node
EXPOSE 3000/tcp 40000-40001/udp 40000-40001/tcp 3478/tcp 3478/udp
# Liveness (/healthz), asked the way a published port reaches Parley; HTTPS when TLS_CERT is set.
# Podman keeps this only with `podman build --format docker` (its default OCI format drops it).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
# Stop with `docker stop --time 15` or `docker run --stop-timeout 15`: Parley closes rooms and
# workers within 10 s of SIGTERM (TIMEOUTS.shutdownForceMs), Docker's default grace is 10 s.
CMD ["node", "src/main.ts"]
