# Multi-stage build of the headroom CLI/server. CGO is on for go-sqlite3.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /out/headroom ./cmd/headroom

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/headroom --create-home headroom
COPY --from=build /out/headroom /usr/local/bin/headroom
USER headroom
WORKDIR /var/lib/headroom
ENTRYPOINT ["/usr/local/bin/headroom"]
CMD ["--help"]
