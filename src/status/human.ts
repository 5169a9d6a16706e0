// Numbers and tables for people: 1.2k packets, 3.4 MiB, 2h 5m, aligned columns.

/** 999, 1.2k, 34.5M, 1.2G (SI; packet counts). */
export function humanCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ["", "k", "M", "G", "T", "P"];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0) return String(Math.round(v));
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}${units[i]}`;
}

/** 512 B, 1.5 KiB, 20.0 MiB (IEC; byte counts). */
export function humanBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** 42s, 3m 12s, 5h 03m, 2d 4h. */
export function humanDuration(seconds: number): string {
  const s = Math.floor(Math.max(0, seconds));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

/** Columns padded to the widest cell; `right` lists the columns aligned right (numbers). */
export function table(rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => widths[i] = Math.max(widths[i] ?? 0, [...c].length));
  return rows.map((r) =>
    r.map((c, i) => {
      const pad = " ".repeat(widths[i] - [...c].length);
      return right.includes(i) ? pad + c : (i === r.length - 1 ? c : c + pad);
    }).join("  ").trimEnd()
  ).join("\n");
}
