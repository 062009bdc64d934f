# syntax=docker/dockerfile:1
# Latch: build with every dependency, ship only the compiled service and production dependencies.
# test/image runs these very steps and commands outside Docker, so keep them plain.

FROM node:24-slim AS build
WORKDIR /app
# Prisma's CLI only generates the client here; migrations use the WebAssembly schema engine,
# so there is no engine binary to download (PRISMA_SCHEMA_ENGINE_BINARY keeps the CLI from trying).
ENV CHECKPOINT_DISABLE=1 PRISMA_SCHEMA_ENGINE_BINARY=/app/package.json
COPY package.json package-lock.json prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY src ./src
# The embedded PostgreSQL (an optional dependency) is for development only: pruned here.
RUN npm run build && npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production PORT=3000
# glibc's allocator: every argon2id hash mallocs a 19 MiB block; by default glibc then raises its mmap
# threshold and keeps such blocks in per-thread arenas for good (RSS stays at 350-470 MiB after load).
# Two arenas bound what it keeps, at no hashing cost (a fixed mmap threshold made each hash ~25% slower: bench/README.md, Memory).
ENV MALLOC_ARENA_MAX=2
# V8's young generation: left to grow under load (16 MiB semi-spaces by default) its pages stay with the
# process after load; 4 MiB kept RSS after the bench at ~230 MiB instead of ~380 (bench/README.md, Memory).
ENV NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Node's compile cache, filled here: this start loads every module a real start loads, then stops at
# the configuration check (there is no database at build time), and Node writes what it compiled.
# Each container's first start then reads compiled code for its ~870 modules instead of compiling
# them (bench/README.md, Cold start). A stale or unreadable cache only costs the compile again.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN env -i PATH="$PATH" NODE_ENV=production NODE_COMPILE_CACHE="$NODE_COMPILE_CACHE" node dist/main.js 2>/dev/null; test -d "$NODE_COMPILE_CACHE" && chmod -R a+rX "$NODE_COMPILE_CACHE"
COPY prisma/migrations ./prisma/migrations
COPY views ./views
# The browser scripts pages load (passkey ceremonies, the console), served by Latch itself.
COPY assets ./assets
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Migrations on their own, before a rollout: docker run --rm IMAGE node dist/db/migrate-cli.js
# The admin CLI:                             docker run --rm IMAGE node dist/cli.js clients list
CMD ["node", "--enable-source-maps", "dist/main.js"]
