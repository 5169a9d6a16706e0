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
  app.get("/status", async (c) => {
    const q = c.req.query("sessions");
    let sessions: number | undefined;
    if (q !== undefined) {
      const n = q === "" ? 100 : Number(q);
      if (!Number.isInteger(n) || n < 0) {
        return c.json({ error: "sessions must be a non-negative integer" }, 400);
      }
      sessions = Math.min(n, MAX_SESSIONS);
    }
    const rows = sessions !== undefined ? await src.sessions?.(sessions) : undefined;
    return c.json(buildStatus(src, new Date(), { sessions, rows }));
  });
  // NAT64 sessions alone: GET /sessions?limit=N (default 100, at most MAX_SESSIONS).
  app.get("/sessions", async (c) => {
    const q = c.req.query("limit");
    const n = q === undefined || q === "" ? 100 : Number(q);
    if (!Number.isInteger(n) || n < 0) {
      return c.json({ error: "limit must be a non-negative integer" }, 400);
    }
    const rows = await src.sessions?.(Math.min(n, MAX_SESSIONS));
    if (rows === undefined) {
      return c.json({ error: `mode ${src.mode} keeps no sessions` }, 404);
    }
    return c.json({ sessions: rows });
  });
  app.get("/metrics", (c) => {
    c.header("Content-Type", CONTENT_TYPE);
    return c.body(renderMetrics(src));
  });
  app.get("/healthz", (c) => isHealthy(src) ? c.text("ok") : c.text("unhealthy", 503));
  app.notFound((c) => c.text("not found: try /status, /metrics, /sessions or /healthz", 404));
  app.onError((err, c) => c.text(`internal error: ${err.message}`, 500));
  return app;
}
