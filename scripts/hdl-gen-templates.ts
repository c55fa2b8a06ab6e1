/**
 * Generates hdl/basys3/rtl/edge_templates.vh: the response templates edge_core
 * emits, as microcode for its CBOR emitter. Literal CBOR (map heads, keys,
 * constant strings) is produced here so that nobody hand-encodes CBOR in
 * Verilog; run-time values are patched in by the emitter with shortest-form
 * heads (SPEC §4 deterministic encoding).
 *
 * Word = {op[3:0], arg[11:0]}:
 *   END            end of body
 *   LIT  b         one literal byte
 *   UINT v         unsigned integer, value selector v (shortest form)
 *   BSTR s / TSTR s  byte / text string from source selector s (head + bytes)
 *   SKIP c,n       skip the next n words unless condition c holds
 *
 * Run: npx tsx scripts/hdl-gen-templates.ts   (the output is committed)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OP = { END: 0, LIT: 1, UINT: 2, BSTR: 3, TSTR: 4, SKIP: 5 } as const;

/** Value selectors: must match the `val_mux` case in edge_core.v. */
export const V = {
  MEMKIB: 1, MOPS: 2, MAXFRAME: 3, KEEPALIVE: 4, UPTIME: 5, LOAD: 6, MEMFREE: 7, SVCSTATUS: 8,
  SERVED: 9, GOOD: 10, BADCRC: 11, OVERSIZE: 12, DEPID: 13, NEXTOFF: 14, REQID: 15, OUTN: 16, ERRCODE: 17,
} as const;
/** Byte-string sources: must match `src_len`/`src_byte` in edge_core.v. */
export const S = { DEVID: 1, SNONCE: 2, DNONCE: 3, MAC: 4, PING: 5, SVC: 6, VER: 7, SCORES: 8, CLASS: 9 } as const;
/** Conditions for SKIP. */
export const C = { LOADED: 1, NOT_LOADED: 2, PING_DATA: 3, NO_PING_DATA: 4 } as const;

type Word = number;
const lit = (...bytes: number[]): Word[] => bytes.map((b) => (OP.LIT << 12) | b);
const uint = (v: number): Word[] => [(OP.UINT << 12) | v];
const bstr = (s: number): Word[] => [(OP.BSTR << 12) | s];
const tstr = (s: number): Word[] => [(OP.TSTR << 12) | s];
const skipUnless = (c: number, body: Word[]): Word[] => [(OP.SKIP << 12) | (c << 6) | body.length, ...body];
const head = (major: number, n: number): number[] =>
  n < 24 ? [(major << 5) | n] : n < 256 ? [(major << 5) | 24, n] : [(major << 5) | 25, n >> 8, n & 0xff];
const map = (n: number) => lit(...head(5, n));
const arr = (n: number) => lit(...head(4, n));
const key = (k: number) => lit(k);
const text = (t: string): Word[] => {
  const b = new TextEncoder().encode(t);
  return lit(...head(3, b.length), ...b);
};
const small = (n: number) => lit(...head(0, n));

export const FIRMWARE = 'epara-hdl-0.1';

/** Error responses the endpoint sends: name -> [wire code, one-line reason]. */
export const ERRORS: Array<[string, number, string]> = [
  ['NOT_SUPPORTED', 901, 'the fpga endpoint does not handle this message'],
  ['UNKNOWN_TYPE', 110, 'message type number is not defined in this protocol version'],
  ['CBOR', 111, 'message body is not well-formed CBOR'],
  ['NONDET', 112, 'message body is CBOR outside the deterministic subset'],
  ['SCHEMA', 113, 'message field is missing, of the wrong type or out of range'],
  ['NOT_AUTH', 205, 'message requires an authenticated session'],
  ['DEPLOY_KIND', 403, 'the fpga accepts only int8-fc-weights artifacts'],
  ['DEPLOY_UNKNOWN', 406, 'deploymentId is not known to the device'],
  ['DEPLOY_SIZE', 408, 'artifact size does not match the int8-fc kernel'],
  ['INFER_SERVICE', 500, 'no loaded service with this name'],
  ['INFER_INPUT', 502, 'input must be one int8 tensor matching the kernel width'],
  ['UNEXPECTED', 114, 'a device does not answer this message type'],
  ['DEPLOY_NO_SPACE', 402, 'the fpga keeps service names of at most 32 bytes'],
];

const templates: Array<[string, Word[]]> = [
  ['HELLO', [
    ...map(8),
    ...key(0), ...tstr(S.DEVID),
    ...key(1), ...small(4),                       // deviceClass fpga
    ...key(2), ...arr(2), ...small(1), ...small(1),
    ...key(3), ...text(FIRMWARE),
    ...key(4), ...map(7),                         // caps
    ...key(0), ...small(0),                       //   cpuCores
    ...key(1), ...uint(V.MEMKIB),                 //   memoryKiB (weight RAM)
    ...key(4), ...arr(1), ...text('xc7a35t'),     //   accelerators: the fabric
    ...key(5), ...uint(V.MOPS),                   //   computeMops
    ...key(6), ...arr(1), ...text('int8-fc'),     //   runtimes
    ...key(7), ...arr(1), ...text('int8-fc-weights'),
    ...key(8), ...arr(2), ...text('uart'), ...text('spp'),
    ...key(5), ...uint(V.MAXFRAME),
    ...key(6), ...small(1),                       // rxWindow
    ...key(7), ...uint(V.KEEPALIVE),
  ]],
  ['AUTH', [...map(3), ...key(0), ...bstr(S.SNONCE), ...key(1), ...bstr(S.DNONCE), ...key(2), ...bstr(S.MAC)]],
  ['HEARTBEAT', [...map(1), ...key(0), ...uint(V.UPTIME)]],
  ['STATE', [
    ...map(5),
    ...key(0), ...uint(V.LOAD),
    ...key(1), ...uint(V.MEMFREE),
    ...key(3),
    ...skipUnless(C.LOADED, [
      ...arr(1), ...map(6),
      ...key(0), ...tstr(S.SVC), ...key(1), ...tstr(S.VER), ...key(2), ...uint(V.SVCSTATUS),
      ...key(3), ...small(0), ...key(4), ...uint(V.SERVED), ...key(5), ...small(0),
    ]),
    ...skipUnless(C.NOT_LOADED, arr(0)),
    ...key(7), ...map(3), ...key(0), ...uint(V.GOOD), ...key(1), ...uint(V.BADCRC), ...key(2), ...uint(V.OVERSIZE),
    ...key(8), ...uint(V.UPTIME),
  ]],
  // SPEC §8 rule 4: a CHALLENGE version outside the device's [1, 1]
  ['BYE_VERSION', [...map(2), ...key(0), ...lit(0x18, 121), ...key(1), ...text('protocol version outside the device range [1, 1]')]],
  ['PONG', [...skipUnless(C.PING_DATA, [...map(1), ...key(0), ...bstr(S.PING)]), ...skipUnless(C.NO_PING_DATA, map(0))]],
  ['DEPLOY_ACCEPT', [...map(3), ...key(0), ...uint(V.DEPID), ...key(1), ...uint(V.NEXTOFF), ...key(2), ...small(1)]],
  ['DEPLOY_CHUNK_ACK', [...map(2), ...key(0), ...uint(V.DEPID), ...key(1), ...uint(V.NEXTOFF)]],
  ['DEPLOY_READY', [...map(3), ...key(0), ...uint(V.DEPID), ...key(1), ...small(2), ...key(3), ...tstr(S.VER)]],
  ['DEPLOY_FAILED', [...map(3), ...key(0), ...uint(V.DEPID), ...key(1), ...small(3), ...key(2), ...uint(V.ERRCODE)]],
  ['INFER_RESPONSE', [
    ...map(2), ...key(0), ...uint(V.REQID), ...key(1), ...arr(2),
    ...map(3), ...key(0), ...text('scores'), ...key(1), ...arr(1), ...uint(V.OUTN), ...key(2), ...lit(0xd8, 78), ...bstr(S.SCORES),
    ...map(3), ...key(0), ...text('class'), ...key(1), ...arr(1), ...small(1), ...key(2), ...lit(0xd8, 64), ...bstr(S.CLASS),
  ]],
  ...ERRORS.map(([name, , reason]): [string, Word[]] => [
    `ERR_${name}`,
    [...map(2), ...key(0), ...uint(V.ERRCODE), ...key(1), ...text(reason)],
  ]),
];

function main(): void {
  const rom: Word[] = [];
  const lines: string[] = [
    '// Generated by scripts/hdl-gen-templates.ts: do not edit. Response templates for edge_core\'s CBOR emitter.',
  ];
  for (const [name, words] of templates) {
    lines.push(`localparam [11:0] T_${name} = 12'd${rom.length};`);
    rom.push(...words, OP.END << 12);
  }
  ERRORS.forEach(([name, code], i) => {
    lines.push(`localparam [3:0] E_${name} = 4'd${i};`);
    lines.push(`localparam [15:0] E_${name}_CODE = 16'd${code};`);
  });
  lines.push('function [11:0] err_template;', '    input [3:0] e;', '    begin', '        case (e)');
  ERRORS.forEach(([name], i) => lines.push(`        4'd${i}: err_template = T_ERR_${name};`));
  lines.push('        default: err_template = T_ERR_NOT_SUPPORTED;', '        endcase', '    end', 'endfunction');
  lines.push('function [15:0] err_code;', '    input [3:0] e;', '    begin', '        case (e)');
  ERRORS.forEach(([name], i) => lines.push(`        4'd${i}: err_code = E_${name}_CODE;`));
  lines.push(`        default: err_code = 16'd901;`, '        endcase', '    end', 'endfunction');
  // a ROM with a registered read: synthesis puts it in one block RAM instead of LUTs
  const depth = 1 << Math.ceil(Math.log2(rom.length));
  lines.push(`reg [15:0] tpl_rom [0:${depth - 1}];`, 'integer tpl_i;', 'initial begin');
  lines.push(`    for (tpl_i = 0; tpl_i < ${depth}; tpl_i = tpl_i + 1) tpl_rom[tpl_i] = 16'h0000;`);
  rom.forEach((w, i) => lines.push(`    tpl_rom[${i}] = 16'h${w.toString(16).padStart(4, '0')};`));
  lines.push('end');
  const out = join(import.meta.dirname, '..', 'hdl', 'basys3', 'rtl', 'edge_templates.vh');
  writeFileSync(out, lines.join('\n') + '\n');
  console.log(`wrote ${rom.length} template words to ${out}`);
}

main();
