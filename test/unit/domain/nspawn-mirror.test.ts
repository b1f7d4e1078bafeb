// The container's tree is debootstrapped from the mirror this machine's apt already uses: read from its
// sources.list or deb822 .sources files, main suites only (not -security, -updates), disabled entries skipped.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debianMirror } from '../../../src/lab/nspawn.js';

let apt: string;
beforeEach(async () => {
  apt = await mkdtemp(join(tmpdir(), 'ewsplay-apt-'));
  await mkdir(join(apt, 'sources.list.d'));
});
afterEach(() => rm(apt, { recursive: true, force: true }));

describe('debianMirror', () => {
  it('reads a deb822 .sources file, skipping security, disabled and deb-src entries', async () => {
    await writeFile(
      join(apt, 'sources.list.d/debian.sources'),
      [
        'Types: deb',
        'URIs: http://security.mirror.example/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://old.mirror.example/debian',
        'Suites: bookworm',
        'Enabled: no',
        '',
        'Types: deb-src',
        'URIs: http://src.mirror.example/debian',
        'Suites: bookworm',
        '',
        'Types: deb',
        '# a comment line inside the stanza',
        'URIs: http://mirror.example/debian/',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        '',
      ].join('\n'),
    );
    // A file apt itself ignores (another extension) is ignored here too.
    await writeFile(
      join(apt, 'sources.list.d/other.list.disabled'),
      'deb http://nope.example/debian bookworm main\n',
    );
    expect(debianMirror(apt)).toBe('http://mirror.example/debian');
  });

  it('reads one-line entries, options included', async () => {
    await writeFile(
      join(apt, 'sources.list'),
      [
        '# deb http://commented.example/debian bookworm main',
        'deb http://security.mirror.example/debian-security bookworm-security main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] https://mirror.example/debian trixie main',
        '',
      ].join('\n'),
    );
    expect(debianMirror(apt)).toBe('https://mirror.example/debian');
  });

  it('is undefined when apt names no mirror', () => {
    expect(debianMirror(apt)).toBeUndefined();
  });
});
