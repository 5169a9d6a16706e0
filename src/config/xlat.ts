// The translator's view of the config (src/xlat/options.ts).
import type { XlatOptions } from "../xlat/options.ts";
import type { Config } from "./types.ts";

/**
 * XlatOptions from [translator]. In clat mode a static clat.plat-prefix stands in for an
 * unset translator.pool6, since that is where the CLAT sends IPv4 destinations.
 */
export function toXlatOptions(cfg: Config): XlatOptions {
  const t = cfg.translator;
  const plat = cfg.mode === "clat" && cfg.clat.platPrefix !== "discover"
    ? cfg.clat.platPrefix
    : null;
  return {
    pool6: t.pool6 ?? plat,
    eam: t.eam,
    eamHairpinMode: t.eamHairpinMode,
    denylist4: t.denylist4,
    wkpStrict: t.wkpStrict,
    lowestIpv6Mtu: t.lowestIpv6Mtu,
    ipv4Mtu: t.ipv4Mtu,
    ipv6Mtu: t.ipv6Mtu,
    mtuPlateaus: t.mtuPlateaus,
    amendUdpChecksumZero: t.amendUdpChecksumZero,
    resetTrafficClass: t.resetTrafficClass,
    resetTos: t.resetTos,
    newTos: t.newTos,
    rfc6791v4: t.rfc6791v4Prefix,
    rfc6791v6: t.rfc6791v6Prefix,
    rfc6791Randomize: t.rfc6791v4Randomize,
  };
}
