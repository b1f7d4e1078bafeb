// Reads a package's name and version from a .deb or .rpm file on the control node, without dpkg or rpm:
// a .deb is an ar archive whose control.tar.* holds the control file; an .rpm's header is uncompressed.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

export type PackageKind = 'deb' | 'rpm';

export interface PackageMeta {
  kind: PackageKind;
  name: string;
  /** dpkg's Version field, or rpm's [EPOCH:]VERSION-RELEASE (what the host query prints). */
  version: string;
}

const AR_MAGIC = '!<arch>\n';
const RPM_LEAD_MAGIC = 0xedabeedb;
const RPM_HEADER_MAGIC = 0x8eade801;

export function packageKind(content: Buffer): PackageKind | undefined {
  if (content.subarray(0, 8).toString('latin1') === AR_MAGIC) return 'deb';
  if (content.length >= 4 && content.readUInt32BE(0) === RPM_LEAD_MAGIC) return 'rpm';
  return undefined;
}

export function readPackageMeta(content: Buffer, file: string): PackageMeta {
  const kind = packageKind(content);
  if (kind === 'deb') return { kind, ...debMeta(content, file) };
  if (kind === 'rpm') return { kind, ...rpmMeta(content, file) };
  throw new Error(`${file} is neither a .deb nor an .rpm package`);
}

function debMeta(content: Buffer, file: string): { name: string; version: string } {
  let at = AR_MAGIC.length;
  while (at + 60 <= content.length) {
    const header = content.subarray(at, at + 60).toString('latin1');
    const member = header.slice(0, 16).trim().replace(/\/$/, '');
    const size = Number.parseInt(header.slice(48, 58).trim(), 10);
    const body = content.subarray(at + 60, at + 60 + size);
    if (member.startsWith('control.tar')) {
      const control = tarEntry(decompress(body, member, file), 'control');
      if (!control) break;
      const field = (f: string) => new RegExp(`^${f}:[ \\t]*(.+)$`, 'm').exec(control)?.[1]?.trim();
      const name = field('Package');
      const version = field('Version');
      if (!name || !version) throw new Error(`${file}: its control file has no Package or Version`);
      return { name, version };
    }
    at += 60 + size + (size % 2);
  }
  throw new Error(`${file}: no control file found in the .deb`);
}

function decompress(body: Buffer, member: string, file: string): Buffer {
  if (member === 'control.tar') return body;
  // zlib loads here, with the first package file read, not with every run.
  if (member.endsWith('.gz'))
    return (createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib')).gunzipSync(body);
  // Node has no xz, and zstd only from Node 22: the usual command-line tools do it.
  const tool = member.endsWith('.xz') ? 'xz' : member.endsWith('.zst') ? 'zstd' : undefined;
  if (!tool) throw new Error(`${file}: unknown compression of ${member}`);
  const r = spawnSync(tool, ['-dc'], { input: body, maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0)
    throw new Error(
      `${file}: cannot read ${member}: ${tool} is needed on the control node (${r.error?.message ?? r.stderr})`,
    );
  return r.stdout;
}

/** The text of a regular file in a tar archive (names like `./control` or `control`). */
function tarEntry(tar: Buffer, wanted: string): string | undefined {
  let at = 0;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return undefined;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(
      header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0',
      8,
    );
    if (name.replace(/^\.\//, '') === wanted) return tar.subarray(at + 512, at + 512 + size).toString('utf8');
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

const RPMTAG = { NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003 } as const;

function rpmMeta(content: Buffer, file: string): { name: string; version: string } {
  const bad = () => new Error(`${file}: not a readable .rpm header`);
  // The lead (96 bytes), then the signature header padded to 8 bytes, then the main header.
  const sigAt = 96;
  const headerSize = (at: number) => {
    if (at + 16 > content.length || content.readUInt32BE(at) !== RPM_HEADER_MAGIC) throw bad();
    return 16 + content.readUInt32BE(at + 8) * 16 + content.readUInt32BE(at + 12);
  };
  const sigSize = headerSize(sigAt);
  const at = sigAt + sigSize + ((8 - (sigSize % 8)) % 8);
  headerSize(at);
  const count = content.readUInt32BE(at + 8);
  const store = at + 16 + count * 16;
  const tags = new Map<number, string | number>();
  for (let i = 0; i < count; i++) {
    const e = at + 16 + i * 16;
    const tag = content.readUInt32BE(e);
    const type = content.readUInt32BE(e + 4);
    const offset = store + content.readUInt32BE(e + 8);
    if (type === 6 || type === 9) {
      const end = content.indexOf(0, offset);
      if (end < 0) throw bad();
      tags.set(tag, content.subarray(offset, end).toString('utf8'));
    } else if (type === 4) tags.set(tag, content.readUInt32BE(offset));
  }
  const name = tags.get(RPMTAG.NAME);
  const version = tags.get(RPMTAG.VERSION);
  const release = tags.get(RPMTAG.RELEASE);
  const epoch = tags.get(RPMTAG.EPOCH);
  if (typeof name !== 'string' || typeof version !== 'string' || typeof release !== 'string') throw bad();
  return { name, version: `${epoch !== undefined ? `${epoch}:` : ''}${version}-${release}` };
}
