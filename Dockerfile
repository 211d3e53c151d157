# syntax=docker/dockerfile:1
# Rebound controller image: Node 24, git and helm inside, runs as non-root on a read-only root.

FROM golang:1.26-bookworm AS helm
ARG HELM_VERSION=v4.2.4
RUN CGO_ENABLED=0 GOBIN=/out go install \
      -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}" \
      helm.sh/helm/v4/cmd/helm@${HELM_VERSION}

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=helm /out/helm /usr/local/bin/helm
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY crds ./crds
# A small young generation keeps memory flat after bursts of watch events (see make bench).
ENV NODE_ENV=production HOME=/var/lib/rebound NODE_OPTIONS=--max-semi-space-size=16
USER 65532:65532
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/rebound.js"]
CMD ["controller"]
