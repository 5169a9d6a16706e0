// Cross-check of the PCP / PREFIX64 encoder against an independent dissector (tshark).
import assert from "node:assert/strict";
import { parseIPv4, parseIPv6, parsePrefix4, parsePrefix6 } from "../../src/addr/ip.ts";
import {
  encodePrefix64,
  encodeRequest,
  encodeResponse,
  mappedV4,
  OPCODE,
  OPTION,
  RESULT,
} from "../../src/discovery/pcp.ts";
import { udp6 } from "../../src/packet/build.ts";
import { PcapWriter } from "../../src/packet/pcap.ts";

const hasTshark = (() => {
  try {
    return new Deno.Command("tshark", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

async function dissect(
  payloads: { sport: number; dport: number; data: Uint8Array }[],
  fields: string[],
): Promise<string[][]> {
  const w = new PcapWriter();
  for (const p of payloads) {
    w.write(
      udp6({
        src: parseIPv6("2001:db8::5"),
        dst: parseIPv6("2001:db8::1"),
        sport: p.sport,
        dport: p.dport,
        payload: p.data,
      }),
    );
  }
  const file = await Deno.makeTempFile({ suffix: ".pcap" });
  try {
    await Deno.writeFile(file, w.bytes());
    const out = await new Deno.Command("tshark", {
      args: ["-r", file, "-T", "fields", "-E", "separator=|", ...fields.flatMap((f) => ["-e", f])],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => l.split("|"));
  } finally {
    await Deno.remove(file);
  }
}

Deno.test({
  name:
    "RFC 6887 11.1 / RFC 7225 4: tshark reads our MAP request and response with PREFIX64 as we meant them",
  ignore: !hasTshark,
  fn: async () => {
    const nonce = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i);
    const map = {
      nonce,
      protocol: 6,
      internalPort: 8080,
      externalPort: 0,
      externalAddress: mappedV4(0),
    };
    const req = encodeRequest({
      opcode: OPCODE.MAP,
      lifetime: 3600,
      clientAddress: parseIPv6("2001:db8::5"),
      map,
      options: [{ code: OPTION.PREFER_FAILURE, data: new Uint8Array(0) }],
    });
    const res = encodeResponse({
      version: 2,
      opcode: OPCODE.MAP,
      result: RESULT.SUCCESS,
      lifetime: 3600,
      epoch: 4242,
      map: { ...map, externalPort: 40001, externalAddress: mappedV4(parseIPv4("192.0.2.2")) },
      options: [
        encodePrefix64({
          prefix: parsePrefix6("64:ff9b::/96"),
          suffix: new Uint8Array(0),
          ipv4Prefixes: [],
        }),
        encodePrefix64({
          prefix: parsePrefix6("2001:db8:64::/48"),
          suffix: new Uint8Array(6),
          ipv4Prefixes: [parsePrefix4("198.51.100.0/24")],
        }),
      ],
    });
    const rows = await dissect([
      { sport: 5350, dport: 5351, data: req },
      { sport: 5351, dport: 5350, data: res },
    ], [
      "portcontrol.r",
      "portcontrol.opcode",
      "portcontrol.lifetime_req",
      "portcontrol.map.internal_port",
      "portcontrol.result_code",
      "portcontrol.epoch_time",
      "portcontrol.map.rsp_assigned_external_port",
      "portcontrol.map.rsp_assigned_ext_ip",
      "portcontrol.option.code",
      "portcontrol.option.p64.length",
      "portcontrol.option.p64.ipv4_prefix_count",
      "portcontrol.option.p64.ipv4_prefix_length",
      "portcontrol.option.p64.ipv4_address",
      "_ws.expert",
    ]);
    const [rq, rs] = rows;
    assert.deepEqual(rq.slice(0, 4).map((x) => x.replace("False", "0").replace("True", "1")), [
      "0",
      "1",
      "3600",
      "8080",
    ]);
    assert.equal(rq[8], "2", "PREFER_FAILURE option");
    assert.equal(rq[13], "", `no expert info on the request: ${rq[13]}`);
    assert.equal(rs[4], "0");
    assert.equal(rs[5], "4242");
    assert.equal(rs[6], "40001");
    assert.equal(rs[7], "::ffff:192.0.2.2");
    assert.equal(rs[8], "129,129");
    assert.equal(rs[9], "12,6");
    assert.equal(rs[10], "1");
    assert.equal(rs[11], "24");
    assert.equal(rs[12], "198.51.100.0");
    assert.equal(rs[13], "", `no expert info (malformed) on the response: ${rs[13]}`);
  },
});
