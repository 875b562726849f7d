# capplan as a static binary in a minimal image, for batch arrays (docs/cluster.md).
# Not built in capplan's CI (no docker there); build with: docker build -t capplan .
FROM rust:1.88 AS build
RUN rustup target add x86_64-unknown-linux-musl && apt-get update && apt-get install -y --no-install-recommends musl-tools && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl \
 && strip target/x86_64-unknown-linux-musl/release/capplan

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/capplan /usr/local/bin/capplan
COPY --from=build /src/scenarios /scenarios
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/capplan"]
