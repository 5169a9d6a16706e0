// The status HTTP app: GET /status (JSON), /metrics (Prometheus text), /healthz.
import { Hono } from "hono";
import { CONTENT_TYPE, renderExposition } from "./metrics.ts";
import { buildStatus } from "./snapshot.ts";
import { isHealthy, type StatusSource } from "./source.ts";
import { applianceFamilies } from "./xlat_metrics.ts";

/** Most session rows /status returns, whatever `?sessions=` asks for. */
export const MAX_SESSIONS = 10_000;

export function renderMetrics(src: StatusSource): string {
  const extra = src.metrics ? src.metrics.collect() : [];
  return renderExposition([...applianceFamilies(src), ...extra]);
}

export function createStatusApp(src: StatusSource): Hono {
  const app = new Hono();
  app.get("/status", (c) => {
    const q = c.req.query("sessions");
    let sessions: number | undefined;
    if (q !== undefined) {
      const n = q === "" ? 100 : Number(q);
      if (!Number.isInteger(n) || n < 0) {
        return c.json({ error: "sessions must be a non-negative integer" }, 400);
      }
      sessions = Math.min(n, MAX_SESSIONS);
    }
    return c.json(buildStatus(src, new Date(), { sessions }));
  });
  app.get("/metrics", (c) => {
    c.header("Content-Type", CONTENT_TYPE);
    return c.body(renderMetrics(src));
  });
  app.get("/healthz", (c) => isHealthy(src) ? c.text("ok") : c.text("unhealthy", 503));
  app.notFound((c) => c.text("not found: try /status, /metrics or /healthz", 404));
  app.onError((err, c) => c.text(`internal error: ${err.message}`, 500));
  return app;
}
