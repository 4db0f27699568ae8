# syntax=docker/dockerfile:1
# One image for the shop API, the log consumer and the load generator (compose.yaml picks the
# command). Multi-stage: the build stage compiles TypeScript with the dev dependencies; the
# runtime stage has only production dependencies and the compiled JavaScript.

# Same Node release as the project's own `node` dev dependency (package.json).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first: the dependency layer is reused until package-lock.json changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# The `node` user (uid 1000) ships with the official image; nothing here needs root.
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
USER node
# The API by default; compose overrides the command for the consumer and the load generator.
# `--import` loads the OpenTelemetry SDK before any application module (see README).
EXPOSE 8000 9469
CMD ["node", "--import", "./dist/api/telemetry/register.js", "dist/api/main.js"]
