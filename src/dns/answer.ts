// The body of a response before the server frames it (header bits, question, OPT):
// what DNS64, the local zones and forwarding produce.
import {
  FLAG,
  forwardableOptions,
  type Message,
  rcodeOf,
  type ResourceRecord,
  TYPE,
  withoutOpt,
} from "./wire.ts";

export interface Answer {
  /** Full RCODE (low 4 bits in the header, the rest in the OPT record). */
  rcode: number;
  aa: boolean;
  /** Upstream said the data is authentic; cleared for synthesized answers (RFC 6147 5.5). */
  ad: boolean;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** RFC 6147: the answer holds records DNS64 made up (AAAA or the PTR CNAME). */
  synthesized: boolean;
  /** Upstream EDNS options passed back to the client (RFC 5625 4.4). */
  ednsOptions?: Uint8Array;
}

export function answerFromMessage(m: Message): Answer {
  const opt = m.additional.find((r) => r.type === TYPE.OPT);
  const ext = opt ? (opt.ttl >>> 24) << 4 : 0;
  return {
    rcode: ext | rcodeOf(m.flags),
    aa: (m.flags & FLAG.AA) !== 0,
    ad: (m.flags & FLAG.AD) !== 0,
    answer: m.answer,
    authority: m.authority,
    additional: withoutOpt(m.additional),
    synthesized: false,
    ednsOptions: opt ? forwardableOptions(opt.data) : undefined,
  };
}

export function errorAnswer(rcode: number): Answer {
  return {
    rcode,
    aa: false,
    ad: false,
    answer: [],
    authority: [],
    additional: [],
    synthesized: false,
  };
}
