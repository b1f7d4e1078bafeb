// Stand-in for src/modules/index.ts while some modules are still being written: the real file modules plus
// minimal command/shell/debug/manual definitions with the shapes the loader cares about.
import { copyModule } from '../../../src/modules/copy.js';
import { fileModule } from '../../../src/modules/file.js';
import { lineinfileModule } from '../../../src/modules/lineinfile.js';
import type { Module } from '../../../src/modules/module.js';
import { statModule } from '../../../src/modules/stat.js';
import { templateModule } from '../../../src/modules/template.js';

const stub = (name: string, args: Record<string, unknown>, extra: Partial<Module> = {}): Module => ({
  name,
  summary: name,
  args: { type: 'object', additionalProperties: false, ...args },
  check: 'full',
  run: async () => ({ changed: false }),
  ...extra,
});
const commandArgs = {
  properties: {
    cmd: { type: 'string' },
    chdir: { type: 'string' },
    creates: { type: 'string' },
    removes: { type: 'string' },
  },
  required: ['cmd'],
};
const all = [
  copyModule,
  fileModule,
  lineinfileModule,
  statModule,
  templateModule,
  stub('command', commandArgs, { freeForm: 'cmd' }),
  stub('shell', commandArgs, { freeForm: 'cmd' }),
  stub('debug', { properties: { msg: {}, var: { type: 'string' } } }),
  stub('set_fact', { additionalProperties: true }),
  stub(
    'manual',
    {
      properties: { instructions: { type: 'string' }, verify: { type: 'array' } },
      required: ['instructions'],
    },
    { taskListArgs: ['verify'] },
  ),
];
export const modules: ReadonlyMap<string, Module> = new Map(all.map((m) => [m.name, m]));
const BUILTINS = new Set([
  'command',
  'copy',
  'debug',
  'file',
  'lineinfile',
  'set_fact',
  'shell',
  'stat',
  'template',
]);
export function resolveModule(key: string): Module | undefined {
  const m = /^ansible\.(?:builtin|legacy)\.(\w+)$/.exec(key);
  if (m?.[1]) return BUILTINS.has(m[1]) ? modules.get(m[1]) : undefined;
  return modules.get(key);
}
export function moduleKeys(): string[] {
  const keys = [...modules.keys()];
  for (const b of BUILTINS) keys.push(`ansible.builtin.${b}`, `ansible.legacy.${b}`);
  return keys;
}
