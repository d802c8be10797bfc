# syntax=docker/dockerfile:1
# Omni Hub: two stages. The build stage compiles TypeScript with the dev dependencies; the runtime stage holds only
# production dependencies and dist/, runs as the unprivileged `node` user, and serves on $PORT (Cloud Run sets it).

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the only install scripts are optional native speed-ups (ssh2, cpu-features) that need a compiler
# the slim image lacks, and protobufjs' version notice; every package works without them.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/app/data
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /app/data \
 && chown node:node /app/data
COPY --from=build /app/dist ./dist
# The operator console's static files: dist/http/console.js reads them from ../../console.
COPY console ./console
USER node
EXPOSE 8080
# slim images have no curl: node itself asks /healthz (liveness) on the port the hub listens on.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node as PID 1 receives SIGTERM directly and drains in-flight calls (see src/main.ts); no npm wrapper in between.
CMD ["node", "dist/main.js"]
