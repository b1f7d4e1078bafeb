// PLAY RECAP in Ansible's layout, so users (and their log parsers) recognise it.
import type { HostStats } from '../engine/results.js';
import { color, statusColor } from './style.js';

export function renderRecap(stats: Record<string, HostStats>, useColor: boolean): string {
  const hosts = Object.keys(stats);
  if (hosts.length === 0) return 'PLAY RECAP (no hosts ran)';
  const width = Math.max(...hosts.map((h) => h.length)) + 1;
  const lines = [banner('PLAY RECAP')];
  for (const h of hosts) {
    const s = stats[h]!;
    const worst = s.unreachable ? 'unreachable' : s.failed ? 'failed' : s.changed ? 'changed' : 'ok';
    const name = useColor ? statusColor(worst)(h.padEnd(width)) : h.padEnd(width);
    const field = (k: string, v: number, c: (x: string) => string) => {
      const text = `${k}=${v}`.padEnd(k.length + 6);
      return useColor && v > 0 ? c(text) : text;
    };
    lines.push(
      `${name}: ${field('ok', s.ok, color.green)}${field('changed', s.changed, color.yellow)}${field('unreachable', s.unreachable, color.red)}${field('failed', s.failed, color.red)}${field('skipped', s.skipped, color.cyan)}${field('rescued', s.rescued, color.magenta)}${field('ignored', s.ignored, color.magenta)}`.trimEnd(),
    );
  }
  return lines.join('\n');
}

export function banner(title: string, width = 80): string {
  return `${title} ${'*'.repeat(Math.max(3, width - title.length - 1))}`;
}
