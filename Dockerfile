# Runs the same `deno task start` as everywhere else, as the image's non-root `deno` user.
# Secrets at rest need a key in production:  docker run -e HIBIKI_MASTER_KEY=... hibiki
FROM denoland/deno:2.9.6
WORKDIR /app
COPY --chown=deno:deno . .
RUN mkdir -p /app/data && chown deno:deno /app/data
USER deno
RUN deno install --entrypoint main.ts
ENV HIBIKI_ENV=production
VOLUME ["/app/data"]
EXPOSE 8000
CMD ["deno", "task", "start"]
