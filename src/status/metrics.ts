// Prometheus text exposition format 0.0.4: a small registry of counters, gauges and
// histograms, plus providers that build metric families at scrape time (the translator's
// shared counters, DNS, NAT64 tables). Written by hand because the format is a page long
// and the npm clients (prom-client) bring Node globals and a default registry we don't want.

export type MetricType = "counter" | "gauge" | "histogram";
export type Labels = Readonly<Record<string, string>>;

/** One line of a family: `name{labels} value`; `suffix` is "_bucket", "_sum", "_count". */
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
  readonly suffix?: string;
}

export interface MetricFamily {
  /** Full name; counters end in `_total` by convention. */
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

/** Anything that yields families when /metrics is scraped. */
export type MetricProvider = () => Iterable<MetricFamily>;

export interface Collector {
  collect(): MetricFamily;
}

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricError extends Error {}

function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw new MetricError(`bad metric name "${name}"`);
}

function checkLabels(names: readonly string[]): void {
  for (const l of names) {
    if (!LABEL_RE.test(l) || l.startsWith("__")) throw new MetricError(`bad label name "${l}"`);
  }
}

/** HELP text: backslash and newline are escaped. */
export const escapeHelp = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

/** Label values: backslash, double quote and newline are escaped. */
export const escapeLabelValue = (s: string): string =>
  s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k])}"`).join(",")}}`;
}

/** Render families as exposition text. Families with the same name are rejected. */
export function renderExposition(families: Iterable<MetricFamily>): string {
  const seen = new Set<string>();
  let out = "";
  for (const f of families) {
    checkName(f.name);
    if (seen.has(f.name)) throw new MetricError(`metric "${f.name}" exported twice`);
    seen.add(f.name);
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      out += `${f.name}${s.suffix ?? ""}${formatLabels(s.labels)} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

function labelKey(values: readonly string[]): string {
  return values.join("\u0000");
}

function zipLabels(names: readonly string[], values: readonly string[]): Labels {
  const l: Record<string, string> = {};
  names.forEach((n, i) => l[n] = values[i]);
  return l;
}

abstract class Labelled<Child> implements Collector {
  protected readonly children = new Map<string, { values: string[]; child: Child }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {
    checkName(name);
    checkLabels(labelNames);
  }
  protected abstract make(): Child;
  abstract collect(): MetricFamily;

  /** The child for these label values, in `labelNames` order; keep it for hot paths. */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new MetricError(
        `${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`,
      );
    }
    const k = labelKey(values);
    let e = this.children.get(k);
    if (!e) {
      e = { values: [...values], child: this.make() };
      this.children.set(k, e);
    }
    return e.child;
  }
}

export class CounterChild {
  value = 0;
  inc(by = 1): void {
    if (!(by >= 0)) throw new MetricError("counters only go up");
    this.value += by;
  }
}

export class Counter extends Labelled<CounterChild> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    if (labelNames.length === 0) this.labels();
  }
  protected make(): CounterChild {
    return new CounterChild();
  }
  inc(by = 1, ...values: string[]): void {
    this.labels(...values).inc(by);
  }
  collect(): MetricFamily {
    const samples = [...this.children.values()].map((e) => ({
      labels: zipLabels(this.labelNames, e.values),
      value: e.child.value,
    }));
    return { name: this.name, help: this.help, type: "counter", samples };
  }
}

export class GaugeChild {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(by = 1): void {
    this.value += by;
  }
}

export class Gauge extends Labelled<GaugeChild> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    if (labelNames.length === 0) this.labels();
  }
  protected make(): GaugeChild {
    return new GaugeChild();
  }
  set(v: number, ...values: string[]): void {
    this.labels(...values).set(v);
  }
  collect(): MetricFamily {
    const samples = [...this.children.values()].map((e) => ({
      labels: zipLabels(this.labelNames, e.values),
      value: e.child.value,
    }));
    return { name: this.name, help: this.help, type: "gauge", samples };
  }
}

/** Latency buckets in seconds, 100 µs to 5 s (DNS answers from cache to slow upstreams). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
];

export class HistogramChild {
  /** Per-bucket (non-cumulative) counts; the last slot is the +Inf overflow. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

export class Histogram extends Labelled<HistogramChild> {
  readonly bounds: readonly number[];
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS,
  ) {
    super(name, help, labelNames);
    if (labelNames.includes("le")) throw new MetricError(`${name}: "le" is reserved`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i] > buckets[i - 1])) {
        throw new MetricError(`${name}: buckets must increase`);
      }
    }
    this.bounds = buckets.filter((b) => b !== Infinity);
    if (labelNames.length === 0) this.labels();
  }
  protected make(): HistogramChild {
    return new HistogramChild(this.bounds);
  }
  observe(v: number, ...values: string[]): void {
    this.labels(...values).observe(v);
  }
  collect(): MetricFamily {
    const samples: Sample[] = [];
    for (const e of this.children.values()) {
      const base = zipLabels(this.labelNames, e.values);
      let cum = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cum += e.child.counts[i];
        const le = i < this.bounds.length ? formatValue(this.bounds[i]) : "+Inf";
        samples.push({ labels: { ...base, le }, value: cum, suffix: "_bucket" });
      }
      samples.push({ labels: base, value: e.child.sum, suffix: "_sum" });
      samples.push({ labels: base, value: e.child.count, suffix: "_count" });
    }
    return { name: this.name, help: this.help, type: "histogram", samples };
  }
}

/**
 * What /metrics exports beyond the translator's own counters. Parts of the appliance
 * (DNS64, NAT64, discovery) register their collectors or providers here.
 */
export class MetricsRegistry {
  readonly #sources: MetricProvider[] = [];
  readonly #names = new Set<string>();

  register<C extends Collector>(c: C): C {
    const name = (c as unknown as { name?: string }).name;
    if (name !== undefined) {
      if (this.#names.has(name)) throw new MetricError(`metric "${name}" registered twice`);
      this.#names.add(name);
    }
    this.#sources.push(() => [c.collect()]);
    return c;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.register(new Gauge(name, help, labelNames));
  }
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets?: readonly number[],
  ): Histogram {
    return this.register(new Histogram(name, help, labelNames, buckets));
  }

  /** A function called on every scrape (e.g. to read counters a worker keeps). */
  provide(p: MetricProvider): void {
    this.#sources.push(p);
  }

  *collect(): Iterable<MetricFamily> {
    for (const s of this.#sources) yield* s();
  }
}
