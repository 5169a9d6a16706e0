// Shared setup for the translator tests: options, a translator, and one-packet runs.
import { parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import { PacketBatch } from "../../src/packet/batch.ts";
import { Translator, type TranslatorExtras } from "../../src/xlat/translator.ts";
import type { XlatOptions } from "../../src/xlat/options.ts";
import { DROP_REASONS, type DropReason, Stats } from "../../src/xlat/stats.ts";
import { RFC1191_PLATEAUS } from "../../src/xlat/mtu.ts";

export function options(o: Partial<XlatOptions> = {}): XlatOptions {
  return {
    pool6: parsePrefix6("2001:db8:46::/96"),
    eam: [],
    eamHairpinMode: "intrinsic",
    denylist4: [],
    wkpStrict: true,
    lowestIpv6Mtu: 1280,
    ipv4Mtu: 1500,
    ipv6Mtu: 1500,
    mtuPlateaus: RFC1191_PLATEAUS,
    amendUdpChecksumZero: false,
    resetTrafficClass: false,
    resetTos: false,
    newTos: 0,
    rfc6791v4: parsePrefix4("192.0.0.8/32"),
    rfc6791v6: null,
    rfc6791Randomize: false,
    ...o,
  };
}

export class Harness {
  readonly stats = new Stats();
  readonly t: Translator;
  readonly out = new PacketBatch(64, 65536);
  constructor(o: Partial<XlatOptions> = {}, extras: TranslatorExtras = {}) {
    this.t = new Translator(options(o), this.stats, {
      icmpRate: { perSecond: 1e9, burst: 1e9 },
      ...extras,
    });
  }
  /** Translate one packet; returns copies of what was emitted. */
  run(pkt: Uint8Array, now = 0): Uint8Array[] {
    this.out.clear();
    this.t.translate(pkt, pkt.length, this.out, now);
    return this.out.packets();
  }
  drops(r: DropReason, v6in: boolean): number {
    return this.stats.drops(r, v6in);
  }
  /** Names of all non-zero drop counters. */
  dropNames(): string[] {
    const names: string[] = [];
    for (const v6 of [false, true]) {
      for (const r of DROP_REASONS) {
        if (this.stats.drops(r, v6) > 0) names.push(`${v6 ? "6" : "4"}:${r}`);
      }
    }
    return names;
  }
}
