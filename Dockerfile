# Multi-stage build: compile in the Rust image, run on slim Debian.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked --bin crm-api

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 crm
COPY --from=build /src/target/release/crm-api /usr/local/bin/crm-api
USER crm
WORKDIR /home/crm
ENV CRM_LISTEN=0.0.0.0:8080 CRM_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["crm-api"]
CMD ["serve"]
