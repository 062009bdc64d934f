# syntax=docker/dockerfile:1
# Latch: build with dev dependencies, ship only the compiled service and production dependencies.

FROM node:24-slim AS build
WORKDIR /app
# Prisma's CLI only generates the client here; migrations use the WebAssembly schema engine,
# so there is no engine binary to download (PRISMA_SCHEMA_ENGINE_BINARY keeps the CLI from trying).
ENV CHECKPOINT_DISABLE=1 PRISMA_SCHEMA_ENGINE_BINARY=/app/package.json
COPY package.json package-lock.json prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY prisma/migrations ./prisma/migrations
USER node
EXPOSE 3000
# `docker run IMAGE node --disable-warning=ExperimentalWarning dist/db/migrate-cli.js` applies migrations on its own.
CMD ["node", "--enable-source-maps", "dist/main.js"]
