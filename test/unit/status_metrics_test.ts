import assert from "node:assert/strict";
import {
  Counter,
  escapeHelp,
  escapeLabelValue,
  Histogram,
  MetricError,
  MetricsRegistry,
  renderExposition,
} from "../../src/status/metrics.ts";

Deno.test("exposition: HELP and TYPE lines precede the samples", () => {
  const c = new Counter("x_requests_total", "Requests seen.", ["code"]);
  c.inc(3, "200");
  c.inc(1, "500");
  assert.equal(
    renderExposition([c.collect()]),
    [
      "# HELP x_requests_total Requests seen.",
      "# TYPE x_requests_total counter",
      'x_requests_total{code="200"} 3',
      'x_requests_total{code="500"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("exposition 0.0.4: label values escape backslash, quote and newline", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const c = new Counter("x_total", "h", ["path"]);
  c.inc(1, 'C:\\dir\n"q"');
  assert.match(renderExposition([c.collect()]), /x_total\{path="C:\\\\dir\\n\\"q\\""\} 1\n/);
});

Deno.test("exposition 0.0.4: HELP escapes backslash and newline but not quotes", () => {
  assert.equal(escapeHelp('a\\b\n"c"'), 'a\\\\b\\n"c"');
});

Deno.test("exposition: special float values are NaN, +Inf, -Inf", () => {
  const text = renderExposition([{
    name: "g",
    help: "h",
    type: "gauge",
    samples: [
      { labels: { k: "a" }, value: NaN },
      { labels: { k: "b" }, value: Infinity },
      { labels: { k: "c" }, value: -Infinity },
    ],
  }]);
  assert.match(text, /g\{k="a"\} NaN\ng\{k="b"\} \+Inf\ng\{k="c"\} -Inf\n/);
});

Deno.test("metric and label names are validated", () => {
  assert.throws(() => new Counter("1bad", "h"), MetricError);
  assert.throws(() => new Counter("ok_total", "h", ["__reserved"]), MetricError);
  assert.throws(() => new Counter("ok_total", "h", ["bad-label"]), MetricError);
  assert.throws(() => new Histogram("h_seconds", "h", ["le"]), MetricError);
  assert.throws(() => new Counter("ok_total", "h").inc(-1), MetricError);
  assert.throws(() => new Counter("ok_total", "h", ["a"]).labels("x", "y"), MetricError);
});

Deno.test("histogram: cumulative buckets, +Inf equals _count, _sum adds up", () => {
  const h = new Histogram("x_latency_seconds", "Latency.", ["kind"], [0.01, 0.1, 1]);
  for (const v of [0.005, 0.01, 0.05, 0.5, 3]) h.observe(v, "udp");
  const text = renderExposition([h.collect()]);
  assert.match(text, /# TYPE x_latency_seconds histogram\n/);
  assert.match(text, /x_latency_seconds_bucket\{kind="udp",le="0.01"\} 2\n/);
  assert.match(text, /x_latency_seconds_bucket\{kind="udp",le="0.1"\} 3\n/);
  assert.match(text, /x_latency_seconds_bucket\{kind="udp",le="1"\} 4\n/);
  assert.match(text, /x_latency_seconds_bucket\{kind="udp",le="\+Inf"\} 5\n/);
  assert.match(text, /x_latency_seconds_count\{kind="udp"\} 5\n/);
  const sum = Number(/x_latency_seconds_sum\{kind="udp"\} (\S+)/.exec(text)![1]);
  assert.ok(Math.abs(sum - 3.565) < 1e-9);
});

Deno.test("registry: other parts register counters, histograms and providers", () => {
  const r = new MetricsRegistry();
  const q = r.counter("xlat64_dns_queries_total", "DNS queries.", ["rcode"]);
  r.histogram("xlat64_dns_latency_seconds", "DNS latency.");
  r.provide(() => [{ name: "xlat64_nat64_sessions", help: "s", type: "gauge", samples: [] }]);
  q.labels("NOERROR").inc();
  const names = [...r.collect()].map((f) => f.name);
  assert.deepEqual(names, [
    "xlat64_dns_queries_total",
    "xlat64_dns_latency_seconds",
    "xlat64_nat64_sessions",
  ]);
  assert.throws(() => r.counter("xlat64_dns_queries_total", "again"), MetricError);
});

Deno.test("exposition: the same family twice is rejected", () => {
  const f = { name: "a_total", help: "h", type: "counter" as const, samples: [] };
  assert.throws(() => renderExposition([f, f]), MetricError);
});
