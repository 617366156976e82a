# One image for every Plexus app; the APP variable picks which one runs.
#   docker build -t plexus . && docker run -e APP=gateway plexus
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts ./scripts
COPY bench ./bench
COPY test/support ./test/support
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
ENV APP=gateway
# The soft open-file limit up to the hard one (no privilege needed): realtime holds one file per
# socket, and runtimes often start containers at 1,024 soft. docs/deploy.md, "Open files".
CMD ["sh", "-c", "ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec node --enable-source-maps dist/apps/${APP}/src/main.js"]
