// The validator's setup from [validator] config, at the edge (it reads and writes files):
// trust anchors from `trust-anchors`, and with `auto-trust-anchor-file` the RFC 5011 state
// kept there (read at start when present, rewritten whenever a trust point changes).
import type { ValidatorConfig } from "../../config/types.ts";
import { loadTrustAnchors, parseTrustAnchors, TrustAnchorError } from "./anchors.ts";
import type { ValidationSetup } from "./lookup.ts";
import { ValidatorMetrics } from "./metrics.ts";
import { TrustPoint } from "./rfc5011.ts";

export interface SetupLog {
  warn(message: string): void;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new TrustAnchorError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Write via a temporary file and rename, so a crash never leaves half a state file. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

export async function validationFromConfig(
  v: ValidatorConfig,
  log: SetupLog,
  now: () => number = Date.now,
): Promise<ValidationSetup> {
  const base = {
    clockSkew: v.clockSkew,
    nsec3MaxIterations: v.nsec3MaxIterations,
    metrics: new ValidatorMetrics(),
  };
  if (!v.autoTrustAnchorFile) return { ...base, anchors: await loadTrustAnchors(v.trustAnchors) };
  const path = v.autoTrustAnchorFile;
  const state = await readIfExists(path);
  const sec = Math.floor(now() / 1000);
  // A state file with trusted keys wins; otherwise start from the configured anchors.
  const anchors = state && TrustPoint.parse(state, sec).some((t) => t.trusted().length > 0)
    ? parseTrustAnchors(state, path)
    : await loadTrustAnchors(v.trustAnchors);
  const trustPoints = state
    ? TrustPoint.parse(state, sec)
    : anchors.map((a) => TrustPoint.fromAnchor(a, sec));
  for (const a of anchors) {
    if (!trustPoints.some((t) => t.zone === a.zone)) {
      trustPoints.push(TrustPoint.fromAnchor(a, sec));
    }
  }
  let writing = Promise.resolve();
  const save = () => {
    const text = trustPoints.map((t) => t.serialize()).join("");
    writing = writing.then(() => writeAtomically(path, text)).catch((e) =>
      log.warn(`cannot save RFC 5011 state to ${path}: ${(e as Error).message}`)
    );
  };
  return { ...base, anchors, trustPoints, onTrustPointChange: save };
}
