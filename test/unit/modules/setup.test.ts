// setup: the parsers against real os-release files and `ip` output, and the module on the real local host.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setupModule } from '../../../src/modules/setup.js';
import {
  cpuFacts,
  dateTimeFacts,
  distributionFacts,
  fnmatch,
  isSecretEnvName,
  memoryFacts,
  networkFacts,
  osFamily,
  parseEnv,
  parseOsRelease,
  pkgMgr,
  serviceMgr,
} from '../../../src/modules/setup-facts.js';
import { argsValidator, makeContext } from './context.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/os-release');
const osRelease = (name: string) => parseOsRelease(readFileSync(join(FIXTURES, name), 'utf8'));
const linux = (name: string, extra: Partial<Parameters<typeof distributionFacts>[0]> = {}) =>
  distributionFacts({ system: 'Linux', kernel: '6.1.0', osRelease: osRelease(name), ...extra });

describe('distribution facts from os-release (the values Ansible reports)', () => {
  it('Debian: the point release from /etc/debian_version, the codename from os-release', () => {
    expect(linux('debian-12', { debianVersion: '12.5\n' })).toEqual({
      distribution: 'Debian',
      distribution_version: '12.5',
      distribution_major_version: '12',
      distribution_release: 'bookworm',
      os_family: 'Debian',
    });
  });

  it('Ubuntu', () => {
    expect(linux('ubuntu-22.04', { debianVersion: 'bookworm/sid' })).toEqual({
      distribution: 'Ubuntu',
      distribution_version: '22.04',
      distribution_major_version: '22',
      distribution_release: 'jammy',
      os_family: 'Debian',
    });
  });

  it('RHEL is RedHat, its codename from VERSION', () => {
    expect(linux('rhel-9.3')).toEqual({
      distribution: 'RedHat',
      distribution_version: '9.3',
      distribution_major_version: '9',
      distribution_release: 'Plow',
      os_family: 'RedHat',
    });
  });

  it('Rocky', () => {
    expect(linux('rocky-9.3')).toMatchObject({
      distribution: 'Rocky',
      distribution_version: '9.3',
      distribution_major_version: '9',
      distribution_release: 'Blue Onyx',
      os_family: 'RedHat',
    });
  });

  it('CentOS 7: major.minor from /etc/redhat-release', () => {
    expect(linux('centos-7', { redhatRelease: 'CentOS Linux release 7.9.2009 (Core)\n' })).toEqual({
      distribution: 'CentOS',
      distribution_version: '7.9',
      distribution_major_version: '7',
      distribution_release: 'Core',
      os_family: 'RedHat',
    });
  });

  it('Alpine: no codename is NA', () => {
    expect(linux('alpine-3.19', { alpineRelease: '3.19.1\n' })).toEqual({
      distribution: 'Alpine',
      distribution_version: '3.19.1',
      distribution_major_version: '3',
      distribution_release: 'NA',
      os_family: 'Alpine',
    });
  });

  it('SLES and openSUSE are named by NAME; the release is the service pack', () => {
    expect(linux('sles-15-sp5')).toEqual({
      distribution: 'SLES',
      distribution_version: '15.5',
      distribution_major_version: '15',
      distribution_release: '5',
      os_family: 'Suse',
    });
    expect(linux('opensuse-leap-15.5')).toMatchObject({
      distribution: 'openSUSE Leap',
      distribution_version: '15.5',
      distribution_release: '5',
      os_family: 'Suse',
    });
  });

  it('an unknown distribution is its ID capitalized; its family comes from ID_LIKE, else is itself', () => {
    const zorin = distributionFacts({
      system: 'Linux',
      kernel: '6.1.0',
      osRelease: parseOsRelease('ID=zorin\nID_LIKE="ubuntu debian"\nVERSION_ID="17"\n'),
    });
    expect(zorin).toMatchObject({ distribution: 'Zorin', os_family: 'Debian', distribution_version: '17' });
    expect(osFamily('Nixos')).toBe('Nixos');
    expect(osFamily('AlmaLinux')).toBe('RedHat');
    expect(osFamily('Linux Mint')).toBe('Debian');
    expect(osFamily('Manjaro')).toBe('Archlinux');
  });

  it('FreeBSD from uname', () => {
    expect(distributionFacts({ system: 'FreeBSD', kernel: '14.0-RELEASE', osRelease: {} })).toMatchObject({
      distribution: 'FreeBSD',
      distribution_version: '14.0',
      distribution_major_version: '14',
      os_family: 'FreeBSD',
    });
  });

  it('parses quoting as the shell does', () => {
    expect(parseOsRelease('A="x \\"y\\" $z"\nB=\'q r\'\nC=bare\n# comment\n')).toEqual({
      A: 'x "y" $z',
      B: 'q r',
      C: 'bare',
    });
  });
});

describe('network facts from ip output', () => {
  // Captured from a Debian 12 VM and an Ubuntu host with a docker bridge.
  const route = '1.0.0.0 via 192.0.2.1 dev eth0 src 192.0.2.2 uid 0 \n    cache \n';
  const addr4 = [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    '4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever',
    '5: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever preferred_lft forever',
  ].join('\n');
  const addr6 = [
    '1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever',
    '4: eth0    inet6 fd00::2/64 scope global nodad \\       valid_lft forever preferred_lft forever',
  ].join('\n');
  const link = [
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
    '4: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000\\    link/ether 02:fc:00:00:00:01 brd ff:ff:ff:ff:ff:ff',
    '5: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default \\    link/ether 02:42:6b:1c:3e:9a brd ff:ff:ff:ff:ff:ff',
  ].join('\n');

  it('default_ipv4 in Ansible shape, all addresses without loopback', () => {
    expect(networkFacts(route, addr4, addr6, link)).toEqual({
      default_ipv4: {
        address: '192.0.2.2',
        alias: 'eth0',
        broadcast: '192.0.2.255',
        gateway: '192.0.2.1',
        interface: 'eth0',
        macaddress: '02:fc:00:00:00:01',
        mtu: 1400,
        netmask: '255.255.255.0',
        network: '192.0.2.0',
        prefix: '24',
        type: 'ether',
      },
      all_ipv4_addresses: ['192.0.2.2', '172.17.0.1'],
      all_ipv6_addresses: ['fd00::2'],
      interfaces: ['lo', 'eth0', 'docker0'],
    });
  });

  it('a veth name (eth0@if12) and a /20 network', () => {
    const f = networkFacts(
      '8.8.8.8 via 10.1.0.1 dev eth0 src 10.1.3.7 uid 1000',
      '9: eth0    inet 10.1.3.7/20 brd 10.1.15.255 scope global eth0\\       valid_lft forever preferred_lft forever',
      '',
      '9: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0',
    );
    expect(f.default_ipv4).toMatchObject({
      interface: 'eth0',
      network: '10.1.0.0',
      netmask: '255.255.240.0',
      mtu: 1500,
    });
  });

  it('no ip tool, no default route: empty default_ipv4 and lists, as Ansible has them', () => {
    expect(networkFacts('', '', '', '')).toEqual({
      default_ipv4: {},
      all_ipv4_addresses: [],
      all_ipv6_addresses: [],
      interfaces: [],
    });
  });
});

describe('other facts', () => {
  it('processor counts from /proc/cpuinfo (2 sockets x 4 cores x 2 threads)', () => {
    const cpu = Array.from({ length: 16 }, (_, i) =>
      [`processor\t: ${i}`, `physical id\t: ${i < 8 ? 0 : 1}`, 'siblings\t: 8', 'cpu cores\t: 4'].join('\n'),
    ).join('\n');
    expect(cpuFacts(cpu, '16\n')).toEqual({
      processor_count: 2,
      processor_cores: 4,
      processor_threads_per_core: 2,
      processor_vcpus: 16,
      processor_nproc: 16,
    });
    // ARM: no physical id lines.
    expect(cpuFacts('processor\t: 0\nprocessor\t: 1\n', '2')).toMatchObject({
      processor_count: 2,
      processor_vcpus: 2,
    });
    expect(cpuFacts('', '4')).toEqual({ processor_count: 4, processor_vcpus: 4, processor_nproc: 4 });
  });

  it('memory in MB, floored', () => {
    const m = memoryFacts(
      'MemTotal:        8152396 kB\nMemFree:          512000 kB\nBuffers:  102400 kB\nCached: 1048576 kB\nSwapTotal: 2097148 kB\nSwapFree: 2097148 kB\n',
    );
    expect(m).toMatchObject({ memtotal_mb: 7961, memfree_mb: 500, swaptotal_mb: 2047, swapfree_mb: 2047 });
    expect(m.memory_mb).toMatchObject({
      real: { total: 7961, free: 500, used: 7461 },
      nocache: { free: 1624 },
    });
  });

  it('pkg_mgr and service_mgr as Ansible picks them', () => {
    expect(pkgMgr(['/usr/bin/apt-get'], 'Debian')).toBe('apt');
    expect(pkgMgr(['/usr/bin/yum', '/usr/bin/dnf'], 'RedHat')).toBe('dnf');
    expect(pkgMgr(['/usr/bin/yum'], 'RedHat')).toBe('yum');
    expect(pkgMgr(['/sbin/apk'], 'Alpine')).toBe('apk');
    expect(pkgMgr(['/usr/bin/zypper'], 'Suse')).toBe('zypper');
    expect(pkgMgr([], 'Debian')).toBe('unknown');
    expect(serviceMgr('systemd\nflag=systemd\nflag=initd')).toBe('systemd');
    // A container whose PID 1 is a shell: the marker paths decide.
    expect(serviceMgr('bash\nflag=initd')).toBe('sysvinit');
    expect(serviceMgr('init\nflag=openrc\nflag=initd')).toBe('openrc');
    expect(serviceMgr('')).toBe('service');
  });

  it('date_time: strings, iso8601 in UTC', () => {
    expect(dateTimeFacts('1795881397|2026|11|28|16|56|37|CET|+0100|Saturday|6|47')).toMatchObject({
      epoch: '1795881397',
      date: '2026-11-28',
      time: '16:56:37',
      iso8601: '2026-11-28T15:56:37Z',
      tz: 'CET',
      tz_offset: '+0100',
      weekday: 'Saturday',
    });
  });

  it('env: NUL-separated or line-based (multi-line values kept)', () => {
    expect(parseEnv('A=1\0B=x\ny\0')).toEqual({ A: '1', B: 'x\ny' });
    expect(parseEnv('A=1\nB=x\n continued\nC=\n')).toEqual({ A: '1', B: 'x\n continued', C: '' });
  });

  it('secret-looking environment names', () => {
    for (const n of [
      'DB_PASSWORD',
      'GITHUB_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'PGPASSWORD',
      'OPENAI_API_KEY',
      'vault_passphrase',
    ])
      expect(isSecretEnvName(n), n).toBe(true);
    for (const n of ['HOME', 'PATH', 'LANG', 'SSH_AUTH_SOCK', 'USER'])
      expect(isSecretEnvName(n), n).toBe(false);
  });

  it("fnmatch as Python's", () => {
    expect(fnmatch('ansible_memtotal_mb', 'ansible_*_mb')).toBe(true);
    expect(fnmatch('ansible_distribution', 'ansible_distribution')).toBe(true);
    expect(fnmatch('ansible_distribution_version', 'ansible_distribution')).toBe(false);
    expect(fnmatch('ansible_eth1', 'ansible_eth[0-2]')).toBe(true);
    expect(fnmatch('ansible_eth3', 'ansible_eth[!0-2]')).toBe(true);
  });
});

describe('setup on the real local host', () => {
  it('gathers facts in Ansible names, never changed, also in check mode', async () => {
    for (const check of [false, true]) {
      const ctx = makeContext({ check });
      const r = await setupModule.run(ctx, {});
      expect(r.failed, r.msg).toBeFalsy();
      expect(r.changed).toBe(false);
      const facts = r.facts!.ansible_facts as Record<string, unknown>;
      expect(facts.system).toBe('Linux');
      expect(facts.nodename).toBe(hostname());
      expect(r.facts!.ansible_hostname).toBe(hostname().split('.')[0]);
      expect(typeof facts.distribution).toBe('string');
      expect(facts.os_family).toBeTruthy();
      expect(facts.user_uid).toBe(process.getuid!());
      expect(facts.processor_vcpus).toBeGreaterThan(0);
      expect(facts.memtotal_mb).toBeGreaterThan(0);
      expect((facts.env as Record<string, string>).PATH).toBeTruthy();
      expect((facts.date_time as Record<string, string>).epoch).toMatch(/^\d+$/);
      // Every fact is also a top-level ansible_<name> variable.
      for (const k of Object.keys(facts)) expect(r.facts).toHaveProperty(`ansible_${k}`);
    }
  });

  it('a secret-named environment variable is registered as a secret', async () => {
    const ctx = makeContext({ env: { DEPLOY_TOKEN: 's3cr3t-value-42' } });
    const r = await setupModule.run(ctx, {});
    expect((r.facts!.ansible_env as Record<string, string>).DEPLOY_TOKEN).toBe('s3cr3t-value-42');
    expect(ctx.secrets.mask('token is s3cr3t-value-42')).toBe('token is ********');
  });

  it('filter keeps the matching facts (prefixed names) and merges into the facts known', async () => {
    const ctx = makeContext({ vars: { ansible_facts: { hostname: 'earlier', custom: 1 } } });
    const r = await setupModule.run(ctx, { filter: ['ansible_distribution*', 'ansible_*_mb'] });
    const injected = Object.keys(r.facts!)
      .filter((k) => k !== 'ansible_facts')
      .sort();
    expect(injected).toEqual(
      [
        'ansible_distribution',
        'ansible_distribution_major_version',
        'ansible_distribution_release',
        'ansible_distribution_version',
        'ansible_memfree_mb',
        'ansible_memory_mb',
        'ansible_memtotal_mb',
        'ansible_swapfree_mb',
        'ansible_swaptotal_mb',
      ].sort(),
    );
    expect(r.facts!.ansible_facts).toMatchObject({ hostname: 'earlier', custom: 1 });
    expect(r.facts!.ansible_facts).toHaveProperty('distribution');
  });

  it('gather_subset is accepted (Ansible names), an unknown one is an error', async () => {
    const valid = argsValidator(setupModule);
    expect(valid({ gather_subset: ['!all', 'min', 'network'] })).toBe(true);
    expect(valid({ fact_path: '/etc/ansible/facts.d' })).toBe(false);
    const ctx = makeContext();
    expect((await setupModule.run(ctx, { gather_subset: '!all,network' })).failed).toBeFalsy();
    const bad = await setupModule.run(ctx, { gather_subset: 'hardwares' });
    expect(bad.failed).toBe(true);
    expect(bad.msg).toContain("'hardwares'");
  });

  it('refuses a Windows host with a way out', async () => {
    const r = await setupModule.run(makeContext({ vars: { ansible_shell_type: 'powershell' } }), {});
    expect(r.failed).toBe(true);
    expect(r.msg).toContain('gather_facts: false');
  });
});
