# Parley image: docker build -t parley .
# Two stages on the official Node 24 image: "build" installs everything and bundles the browser
# code; "runtime" gets production dependencies, sources and the bundle only.
# test/container/steps.test.ts parses this file and runs its steps outside Docker: keep to the
# instructions it understands (FROM, WORKDIR, ENV, COPY, RUN, USER, EXPOSE, HEALTHCHECK, CMD).

FROM node:24-bookworm-slim AS build
# Only used when mediasoup's prebuilt worker cannot be used (no prebuilt for this platform, or it
# does not run): its postinstall then builds mediasoup-worker from source, with pip (meson, ninja),
# make and g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3 python3-pip make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the package files change.
COPY package.json package-lock.json ./
# mediasoup's postinstall downloads its prebuilt worker into node_modules/mediasoup/worker/out.
RUN npm ci --no-audit --no-fund
COPY build.mjs tsconfig.json ./
COPY src ./src
COPY views ./views
COPY public ./public
COPY scripts/healthcheck.mjs ./scripts/
RUN node build.mjs
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
# Media ports are RTC_PORT .. RTC_PORT+WORKERS-1, each on UDP and TCP (worker i listens on
# RTC_PORT+i). WORKERS is fixed here rather than left at its default (the number of CPUs) so the
# ports the container listens on are the same on every host and match EXPOSE and the -p lines in
# README.md; with the default, a bigger host would listen on ports nobody published and calls
# would connect but carry no media. 2 suits a small server; set WORKERS to the cores you give the
# container and publish the matching range.
ENV PORT=3000 RTC_PORT=40000 WORKERS=2
WORKDIR /app
# Owned by root and not writable by the app: Parley writes nothing to disk.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
COPY --from=build /app/views ./views
COPY --from=build /app/public ./public
COPY --from=build /app/scripts ./scripts
USER node
EXPOSE 3000/tcp 40000-40001/udp 40000-40001/tcp
# Liveness (/healthz); the script speaks HTTPS when TLS_CERT is set.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
CMD ["node", "src/main.ts"]
