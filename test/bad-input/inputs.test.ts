// The pieces under the corpus, one by one: input files (regular files only, bounded, BOM removed), YAML
// aliases and merge keys resolved once with positions, host ranges counted before they are built, a
// known_hosts path that is a directory told in one sentence.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostKeyChecker } from '../../src/connection/known-hosts.js';
import { MAX_INPUT_FILE_BYTES } from '../../src/core/bounds.js';
import {
  type InputFileError,
  readInputBytes,
  readInputText,
  readInputTextSync,
} from '../../src/core/input-file.js';
import type { Problem } from '../../src/core/problems.js';
import { UsageError } from '../../src/core/problems.js';
import { expandHostRange, HostRangeError } from '../../src/inventory/host-range.js';
import { parseYaml } from '../../src/load/yaml.js';

const dir = mkdtempSync(join(tmpdir(), 'ewsplay-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('input files', () => {
  it('reads a regular file, without its byte order mark', async () => {
    writeFileSync(join(dir, 'bom.yml'), '\uFEFFa: 1\n');
    expect(await readInputText(join(dir, 'bom.yml'))).toBe('a: 1\n');
    expect(readInputTextSync(join(dir, 'bom.yml'))).toBe('a: 1\n');
  });

  it('refuses a directory, a device and a missing file with the reason', async () => {
    const reason = async (file: string) =>
      (await readInputText(file).catch((e: unknown) => e)) as InputFileError;
    expect((await reason(dir)).reason).toMatch(/it is a directory/);
    expect((await reason('/dev/zero')).reason).toMatch(/not a regular file/);
    expect((await reason(join(dir, 'none'))).code).toBe('missing');
    expect(await reason(dir)).toBeInstanceOf(UsageError);
  });

  it('refuses a file over the limit before reading it, and allows a larger limit for copied files', async () => {
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(MAX_INPUT_FILE_BYTES + 1));
    await expect(readInputBytes(big)).rejects.toThrow(/over the limit of 10 MiB/);
    expect((await readInputBytes(big, Number.POSITIVE_INFINITY)).length).toBe(MAX_INPUT_FILE_BYTES + 1);
  });

  it('reads a file whose size stat does not tell (/proc) to its end', async () => {
    const text = await readInputText('/proc/self/status');
    expect(text).toMatch(/^Name:/);
    expect(text.length).toBeGreaterThan(100);
  });
});

describe('YAML aliases and merge keys', () => {
  const parse = (text: string) => {
    const problems: Problem[] = [];
    const src = parseYaml('f.yml', text, problems);
    return { src, problems: problems.map((p) => `${p.line}:${p.col} ${p.message}`) };
  };

  it('resolves merge keys into the mapping, explicit keys and earlier sources winning', () => {
    const { src, problems } = parse('a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  x: 3\n');
    expect(problems).toEqual([]);
    expect(src.value(src.doc.contents)).toEqual({
      a: { x: 1, y: 1 },
      b: { y: 2, z: 2 },
      c: { x: 3, y: 1, z: 2 },
    });
  });

  it('reports an unknown alias, a merge of a scalar and an alias inside its anchor where they are written', () => {
    expect(parse('a: *nope\n').problems).toEqual([
      "1:4 unknown alias '*nope': no anchor '&nope' is set before it",
    ]);
    expect(parse('s: &s x\nm:\n  <<: *s\n').problems).toEqual([
      "3:7 a merge key '<<' takes a mapping (or a list of mappings), got the string 'x'",
    ]);
    expect(parse('a: &a [1, *a]\n').problems[0]).toMatch(
      /^1:11 alias '\*a' is inside the value its anchor names/,
    );
  });

  it('stops an alias bomb at the alias that crosses the bound, in milliseconds', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [i, c] of [...'bcdefghij'].entries())
      lines.push(`${c}: &${c} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`);
    const started = performance.now();
    const { src, problems } = parse(`${lines.join('\n')}\n`);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(src.broken).toBe(true);
    expect(problems).toEqual([
      expect.stringMatching(/^5:\d+ YAML aliases here expand to more than 100,000 values/),
    ]);
  });
});

describe('host ranges', () => {
  it('counts a range before building it', () => {
    const started = performance.now();
    expect(() => expandHostRange('web[1:100000000]')).toThrow(HostRangeError);
    expect(() => expandHostRange('w[1:1000]x[1:1000]')).toThrow(/names 1,000,000 hosts/);
    expect(performance.now() - started).toBeLessThan(100);
    expect(expandHostRange('db-[a:c][01:02]')).toEqual([
      'db-a01',
      'db-a02',
      'db-b01',
      'db-b02',
      'db-c01',
      'db-c02',
    ]);
    expect(expandHostRange('n[0:20:10]')).toEqual(['n0', 'n10', 'n20']);
  });
});

describe('known_hosts', () => {
  it('a known_hosts path that is a directory is one sentence naming it', async () => {
    const known = join(dir, 'known_hosts');
    mkdirSync(known);
    const checker = new HostKeyChecker({ host: 'h', address: '192.0.2.1', port: 22, knownHostsFile: known });
    const error = await checker.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `cannot read the known_hosts file ${known}: it is a directory, not a file`,
    );
  });
});
