# Multi-stage build of the headroom CLI/server. The dashboard is built with
# npm from its committed lock file; CGO is on for go-sqlite3.
FROM node:20-bookworm AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY ui/ ./
# The API types are generated from the server's OpenAPI document (npm run types).
COPY server/openapi.yaml /src/server/openapi.yaml
RUN npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=ui /src/ui/dist ./ui/dist
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /out/headroom ./cmd/headroom

FROM debian:bookworm-slim
# chromium renders PDF reports (GET /api/v1/jobs/{id}/report?format=pdf).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates chromium fonts-liberation \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/headroom --create-home headroom
COPY --from=build /out/headroom /usr/local/bin/headroom
USER headroom
WORKDIR /var/lib/headroom
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/headroom"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--db", "/var/lib/headroom/headroom.db"]
