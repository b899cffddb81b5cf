# syntax=docker/dockerfile:1
# Build: a static binary (the embedded database is pure Go, no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/beerlocker .

# Run: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/beerlocker /usr/local/bin/beerlocker
ENV ADDR=:3000 DATA_DIR=/data
VOLUME /data
EXPOSE 3000
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/beerlocker"]
