# Runs the same `deno task start` as everywhere else, as the image's non-root `deno` user.
# Secrets at rest need a master key you keep (HIBIKI_MASTER_KEY); see "Deployment" in README.md.
FROM denoland/deno:2.9.6
WORKDIR /app
COPY --chown=deno:deno . .
RUN mkdir -p /app/data && chown deno:deno /app/data
USER deno
RUN deno install --entrypoint main.ts
ENV HIBIKI_ENV=production
VOLUME ["/app/data"]
EXPOSE 8000
# The image has no curl: Deno itself asks /healthz (store, queue listener and dispatcher).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["deno", "eval", "--no-config", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') || 8000}/healthz`); Deno.exit(r.ok ? 0 : 1)"]
CMD ["deno", "task", "start"]
