// The facts `setup` gathers: one POSIX sh script that prints raw sections (os-release, uname, /proc files,
// `ip` output, id, env ...) and the parsers that turn them into Ansible's fact names and value shapes
// (lib/ansible/module_utils/facts/ in ansible-core). Every tool the script calls may be missing: its section
// is then empty and the facts it feeds are left out or take Ansible's own placeholders ('NA', 'unknown').
import { isSecretVarName } from '../inventory/connection-spec.js';

const MARK = '--ewsplay-facts:';

/** Paths whose existence decides pkg_mgr, in Ansible's order (the last one present wins there too). */
const PKG_MGR_PATHS: [string, string][] = [
  ['/usr/bin/rpm-ostree', 'atomic_container'],
  ['/usr/bin/yum', 'yum'],
  ['/usr/bin/dnf', 'dnf'],
  ['/usr/bin/dnf5', 'dnf5'],
  ['/usr/bin/apt-get', 'apt'],
  ['/usr/bin/zypper', 'zypper'],
  ['/usr/bin/pacman', 'pacman'],
  ['/bin/opkg', 'opkg'],
  ['/usr/local/bin/brew', 'homebrew'],
  ['/opt/homebrew/bin/brew', 'homebrew'],
  ['/sbin/apk', 'apk'],
  ['/usr/sbin/pkg', 'pkgng'],
  ['/usr/bin/emerge', 'portage'],
  ['/usr/bin/xbps-install', 'xbps'],
  ['/usr/local/sbin/pkg', 'pkgng'],
  ['/usr/bin/swupd', 'swupd'],
];

/**
 * The one script behind `setup`. Each section starts with a marker line; `env` comes last because its
 * output (NUL-separated where `env -0` exists) runs to the end. LC_ALL=C keeps day names and messages English.
 */
export function factsScript(): string {
  const m = (name: string) => `printf '\\n${MARK}%s\\n' ${name}`;
  return [
    'LC_ALL=C; export LC_ALL',
    m('uname'),
    'uname -s 2>/dev/null; uname -r 2>/dev/null; uname -v 2>/dev/null; uname -m 2>/dev/null; uname -n 2>/dev/null',
    m('fqdn'),
    'hostname -f 2>/dev/null',
    m('os_release'),
    'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null',
    m('debian_version'),
    'cat /etc/debian_version 2>/dev/null',
    m('alpine_release'),
    'cat /etc/alpine-release 2>/dev/null',
    m('redhat_release'),
    'cat /etc/redhat-release 2>/dev/null',
    m('sw_vers'),
    'sw_vers -productVersion 2>/dev/null',
    m('meminfo'),
    'cat /proc/meminfo 2>/dev/null',
    m('cpuinfo'),
    "grep -E '^(processor|physical id|cpu cores|siblings)[[:space:]]*:' /proc/cpuinfo 2>/dev/null",
    m('nproc'),
    'nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null',
    m('id'),
    'id -un 2>/dev/null; id -u; id -g; id -ru; id -rg',
    m('passwd'),
    'getent passwd "$(id -u)" 2>/dev/null || grep "^$(id -un 2>/dev/null):" /etc/passwd 2>/dev/null',
    m('login'),
    'printf "%s\\n%s\\n" "$HOME" "$SHELL"',
    m('route4'),
    'ip -4 route get 8.8.8.8 2>/dev/null',
    m('addr4'),
    'ip -o -4 addr show 2>/dev/null',
    m('addr6'),
    'ip -o -6 addr show 2>/dev/null',
    m('link'),
    'ip -o link show 2>/dev/null',
    m('pkg'),
    `for p in ${PKG_MGR_PATHS.map(([p]) => p).join(' ')}; do [ -e "$p" ] && echo "$p"; done`,
    m('init'),
    'cat /proc/1/comm 2>/dev/null',
    '[ -d /run/systemd/system ] || [ -d /dev/.run/systemd ] || [ -d /dev/.systemd ] && echo flag=systemd',
    '[ -e /sbin/openrc ] && echo flag=openrc',
    '[ -d /etc/init.d ] && echo flag=initd',
    m('date'),
    "date '+%s|%Y|%m|%d|%H|%M|%S|%Z|%z|%A|%w|%W'",
    m('env'),
    'env -0 2>/dev/null || env',
    'exit 0',
  ].join('\n');
}

/** The script's output, section by section. */
export function splitSections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = stdout.split(`\n${MARK}`);
  for (const part of parts.slice(1)) {
    const nl = part.indexOf('\n');
    const name = nl < 0 ? part : part.slice(0, nl);
    const body = nl < 0 ? '' : part.slice(nl + 1);
    // The marker's own leading newline belongs to the next section: drop the trailing one here.
    out.set(name, body.endsWith('\n') ? body.slice(0, -1) : body);
  }
  return out;
}

const lines = (s: string | undefined) => (s ?? '').split('\n').filter((l) => l.trim() !== '');

/** /etc/os-release as a map (shell-style quoting: "..." with backslash escapes, '...', or bare). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2)
      v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    else if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/** Ansible's OS_FAMILY_MAP (module_utils/facts/system/distribution.py): distribution -> os_family. */
const OS_FAMILY_MAP: Record<string, string[]> = {
  RedHat: [
    'RedHat',
    'RHEL',
    'Fedora',
    'CentOS',
    'Scientific',
    'SLC',
    'Ascendos',
    'CloudLinux',
    'PSBM',
    'OracleLinux',
    'OVS',
    'OEL',
    'Amazon',
    'Amzn',
    'Virtuozzo',
    'XenServer',
    'Alibaba',
    'EulerOS',
    'openEuler',
    'AlmaLinux',
    'Rocky',
    'TencentOS',
    'EuroLinux',
    'Kylin Linux Advanced Server',
    'MIRACLE',
  ],
  Debian: [
    'Debian',
    'Ubuntu',
    'Raspbian',
    'Neon',
    'KDE neon',
    'Linux Mint',
    'SteamOS',
    'Devuan',
    'Kali',
    'Cumulus Linux',
    'Pop!_OS',
    'Parrot',
    'Pardus GNU/Linux',
    'Uos',
    'Deepin',
    'OSMC',
    'Linux Mint Debian Edition',
  ],
  Suse: [
    'SuSE',
    'SLES',
    'SLED',
    'openSUSE',
    'openSUSE Tumbleweed',
    'SLES_SAP',
    'SUSE_LINUX',
    'openSUSE Leap',
    'ALP-Dolomite',
    'SL-Micro',
    'openSUSE MicroOS',
  ],
  Archlinux: ['Archlinux', 'Antergos', 'Manjaro'],
  Mandrake: ['Mandrake', 'Mandriva'],
  Solaris: ['Solaris', 'Nexenta', 'OmniOS', 'OpenIndiana', 'SmartOS'],
  Slackware: ['Slackware'],
  Altlinux: ['Altlinux'],
  Gentoo: ['Gentoo', 'Funtoo'],
  Alpine: ['Alpine'],
  Darwin: ['MacOSX'],
  FreeBSD: ['FreeBSD', 'TrueOS'],
  ClearLinux: ['Clear Linux OS', 'Clear Linux Mix'],
  NetBSD: ['NetBSD'],
};
const OS_FAMILY = new Map(
  Object.entries(OS_FAMILY_MAP).flatMap(([family, names]) => names.map((n) => [n, family] as const)),
);

/** os-release IDs whose Ansible distribution name is not the ID capitalized. */
const DISTRIBUTION_BY_ID: Record<string, string> = {
  rhel: 'RedHat',
  centos: 'CentOS',
  rocky: 'Rocky',
  almalinux: 'AlmaLinux',
  fedora: 'Fedora',
  ol: 'OracleLinux',
  amzn: 'Amazon',
  cloudlinux: 'CloudLinux',
  virtuozzo: 'Virtuozzo',
  eurolinux: 'EuroLinux',
  openeuler: 'openEuler',
  euleros: 'EulerOS',
  tencentos: 'TencentOS',
  alinux: 'Alibaba',
  miraclelinux: 'MIRACLE',
  scientific: 'Scientific',
  xenenterprise: 'XenServer',
  debian: 'Debian',
  // Ansible reports Raspberry Pi OS as Debian ('Raspbian' in the os-release).
  raspbian: 'Debian',
  ubuntu: 'Ubuntu',
  linuxmint: 'Linux Mint',
  neon: 'KDE neon',
  kali: 'Kali',
  devuan: 'Devuan',
  pop: 'Pop!_OS',
  parrot: 'Parrot',
  'cumulus-linux': 'Cumulus Linux',
  steamos: 'SteamOS',
  deepin: 'Deepin',
  uos: 'Uos',
  osmc: 'OSMC',
  alpine: 'Alpine',
  arch: 'Archlinux',
  archarm: 'Archlinux',
  manjaro: 'Manjaro',
  gentoo: 'Gentoo',
  funtoo: 'Funtoo',
  slackware: 'Slackware',
  altlinux: 'Altlinux',
  'clear-linux-os': 'Clear Linux OS',
};

export interface DistributionFacts {
  distribution: string;
  distribution_version: string;
  distribution_major_version: string;
  distribution_release: string;
  os_family: string;
}

export interface DistributionInput {
  system: string;
  kernel: string;
  osRelease: Record<string, string>;
  debianVersion?: string;
  alpineRelease?: string;
  redhatRelease?: string;
  swVers?: string;
}

/** Python's str.capitalize, as Ansible names a distribution it has no special case for (distro.id()). */
function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}

/** distribution, its version, major version, release (codename) and os_family as Ansible computes them. */
export function distributionFacts(input: DistributionInput): DistributionFacts {
  const { system, osRelease: osr } = input;
  if (system === 'Darwin') {
    const version = input.swVers?.trim() || 'NA';
    return withFamily('MacOSX', version, version.split('.')[0]!, input.kernel, osr);
  }
  if (system === 'FreeBSD') {
    const m = /^(\d+)\.(\d+)-/.exec(input.kernel);
    return withFamily(
      'FreeBSD',
      m ? `${m[1]}.${m[2]}` : input.kernel,
      m ? m[1]! : input.kernel,
      input.kernel,
      osr,
    );
  }
  if (system !== 'Linux') return withFamily(system || 'NA', 'NA', 'NA', input.kernel || 'NA', osr);

  const id = (osr.ID ?? '').toLowerCase();
  let distribution = DISTRIBUTION_BY_ID[id] ?? (id ? capitalize(id) : 'OtherLinux');
  // SUSE distributions are named by os-release's NAME in Ansible ("SLES", "openSUSE Leap").
  const suse = /suse|^sle|^sl-micro/.test(id);
  if (suse && osr.NAME) distribution = /sles_sap/i.test(osr.CPE_NAME ?? '') ? 'SLES_SAP' : osr.NAME;
  if (!id && input.alpineRelease) distribution = 'Alpine';

  let version = osr.VERSION_ID ?? '';
  // Debian's os-release has only the major version; Ansible reads /etc/debian_version for the point release.
  if (id === 'debian' && /^\d+(\.\d+)*$/.test(input.debianVersion?.trim() ?? ''))
    version = input.debianVersion!.trim();
  if (distribution === 'Alpine' && input.alpineRelease?.trim()) version = input.alpineRelease.trim();
  // CentOS: Ansible wants major.minor (7.9), which only /etc/redhat-release has.
  if (id === 'centos') {
    const m = /release (\d+(?:\.\d+)?)/.exec(input.redhatRelease ?? '');
    if (m) version = m[1]!;
  }
  if (!version) version = 'NA';
  const major = version.split('.')[0] || 'NA';

  let release: string | undefined = osr.VERSION_CODENAME ?? osr.UBUNTU_CODENAME;
  if (release === undefined) {
    // distro's codename: the words in parentheses of VERSION ("9.3 (Blue Onyx)") or after a comma.
    const m = /\((\D+)\)|,\s*(\D+)/.exec(osr.VERSION ?? '');
    release = (m?.[1] ?? m?.[2])?.trim() || undefined;
  }
  if (suse) {
    const m = /^[0-9]+\.?([0-9]*)/.exec(osr.VERSION_ID ?? '');
    // SLES has no codename: the service pack number, 0 for the first release (Ansible's rule).
    release = m ? m[1] || (/enterprise|sles/i.test(`${osr.NAME} ${osr.PRETTY_NAME}`) ? '0' : '') : release;
  }
  if (id === 'centos' && /Stream/.test(`${osr.NAME} ${osr.PRETTY_NAME}`)) release = 'Stream';
  return withFamily(distribution, version, major, release ?? 'NA', osr);
}

function withFamily(
  distribution: string,
  version: string,
  major: string,
  release: string,
  osr: Record<string, string>,
): DistributionFacts {
  return {
    distribution,
    distribution_version: version,
    distribution_major_version: major,
    distribution_release: release,
    os_family: osFamily(distribution, osr.ID_LIKE),
  };
}

/**
 * Ansible's os_family for a distribution name. Deliberate deviation: for a distribution Ansible has no entry
 * for, Ansible reports the distribution itself; ewsplay first tries os-release's ID_LIKE (a Debian or RHEL
 * derivative then still matches `ansible_os_family == 'Debian'`), and only then falls back to the name.
 */
export function osFamily(distribution: string, idLike?: string): string {
  const known = OS_FAMILY.get(distribution);
  if (known) return known;
  for (const like of (idLike ?? '').toLowerCase().split(/\s+/)) {
    const name = DISTRIBUTION_BY_ID[like];
    const family = name ? OS_FAMILY.get(name) : /suse/.test(like) ? 'Suse' : undefined;
    if (family) return family;
  }
  return distribution;
}

/** pkg_mgr: the last manager present in Ansible's list, then Ansible's per-family choices. */
export function pkgMgr(present: string[], osFamilyName: string): string {
  const has = new Set(present);
  if (osFamilyName === 'RedHat') {
    if (has.has('/usr/bin/dnf5')) return 'dnf5';
    if (has.has('/usr/bin/dnf')) return 'dnf';
    if (has.has('/usr/bin/yum')) return 'yum';
  }
  if (osFamilyName === 'Debian' && has.has('/usr/bin/apt-get')) return 'apt';
  let name = 'unknown';
  for (const [path, mgr] of PKG_MGR_PATHS) if (has.has(path)) name = mgr;
  return name;
}

/** service_mgr as Ansible decides it on Linux: PID 1's name unless it is a generic one, then marker paths. */
export function serviceMgr(initSection: string): string {
  const [first = '', ...rest] = initSection.split('\n');
  const comm = first.startsWith('flag=') ? '' : first.trim();
  const flags = new Set([first, ...rest].filter((l) => l.startsWith('flag=')).map((l) => l.slice(5)));
  // "init" says nothing, and a shell as PID 1 is a container's entry point.
  if (comm && comm !== 'init' && !comm.endsWith('sh')) {
    const map: Record<string, string> = {
      procd: 'openwrt_init',
      runit: 'runit',
      svscan: 'svc',
      openrc: 'openrc',
    };
    return map[comm] ?? comm;
  }
  if (flags.has('systemd')) return 'systemd';
  if (flags.has('openrc')) return 'openrc';
  if (flags.has('initd')) return 'sysvinit';
  return 'service';
}

/** memtotal_mb, memfree_mb, swaptotal_mb, swapfree_mb and memory_mb from /proc/meminfo (kB, floored to MB). */
export function memoryFacts(meminfo: string): Record<string, unknown> {
  const kb = new Map<string, number>();
  for (const line of lines(meminfo)) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]));
  }
  if (!kb.has('MemTotal')) return {};
  const mb = (k: string) => Math.floor((kb.get(k) ?? 0) / 1024);
  const total = mb('MemTotal');
  const free = mb('MemFree');
  const nocacheFree = free + mb('Buffers') + mb('Cached');
  return {
    memtotal_mb: total,
    memfree_mb: free,
    swaptotal_mb: mb('SwapTotal'),
    swapfree_mb: mb('SwapFree'),
    memory_mb: {
      real: { total, free, used: total - free },
      nocache: { free: nocacheFree, used: total - nocacheFree },
      swap: {
        total: mb('SwapTotal'),
        free: mb('SwapFree'),
        used: mb('SwapTotal') - mb('SwapFree'),
        cached: mb('SwapCached'),
      },
    },
  };
}

/** processor_count (sockets), processor_cores, processor_threads_per_core, processor_vcpus, processor_nproc. */
export function cpuFacts(cpuinfo: string, nproc: string): Record<string, number> {
  let logical = 0;
  const sockets = new Set<string>();
  let cores = 0;
  let siblings = 0;
  for (const line of lines(cpuinfo)) {
    const [key = '', value = ''] = line.split(':').map((s) => s.trim());
    if (key === 'processor') logical++;
    else if (key === 'physical id') sockets.add(value);
    else if (key === 'cpu cores') cores = Number(value) || cores;
    else if (key === 'siblings') siblings = Number(value) || siblings;
  }
  const n = Number.parseInt(nproc.trim(), 10);
  const out: Record<string, number> = {};
  if (Number.isFinite(n)) out.processor_nproc = n;
  if (logical === 0) {
    if (Number.isFinite(n)) Object.assign(out, { processor_count: n, processor_vcpus: n });
    return out;
  }
  if (sockets.size === 0) {
    // No topology (ARM, many VMs): each processor line counts as one processor, as in Ansible.
    return {
      ...out,
      processor_count: logical,
      processor_cores: 1,
      processor_threads_per_core: 1,
      processor_vcpus: logical,
    };
  }
  const perSocketCores = cores || 1;
  const threads = siblings && cores ? Math.max(1, Math.floor(siblings / cores)) : 1;
  return {
    ...out,
    processor_count: sockets.size,
    processor_cores: perSocketCores,
    processor_threads_per_core: threads,
    processor_vcpus: threads * sockets.size * perSocketCores,
  };
}

interface Addr4 {
  iface: string;
  address: string;
  prefix: number;
  broadcast?: string;
  label: string;
}

/** `ip -o -4 addr show` lines: "2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global dynamic eth0\ ...". */
export function parseAddr4(text: string): Addr4[] {
  const out: Addr4[] = [];
  for (const line of lines(text)) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?(.*)$/.exec(line);
    if (!m) continue;
    const rest = (m[4] ?? '').split('\\')[0]!.trim().split(/\s+/);
    const brd = rest.indexOf('brd');
    out.push({
      iface: m[1]!,
      address: m[2]!,
      prefix: m[3] ? Number(m[3]) : 32,
      ...(brd >= 0 && rest[brd + 1] ? { broadcast: rest[brd + 1]! } : {}),
      label: rest[rest.length - 1] || m[1]!,
    });
  }
  return out;
}

/** `ip -o -6 addr show`: every address (without the prefix length). */
export function parseAddr6(text: string): string[] {
  const out: string[] = [];
  for (const line of lines(text)) {
    const m = /^\d+:\s+\S+\s+inet6\s+([0-9a-fA-F:]+)/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

interface Link {
  name: string;
  mtu?: number;
  type: string;
  macaddress?: string;
}

/** `ip -o link show` lines: "2: eth0@if5: <...> mtu 1500 ... \    link/ether 02:42:ac:11:00:02 brd ...". */
export function parseLinks(text: string): Link[] {
  const out: Link[] = [];
  for (const line of lines(text)) {
    const name = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s/.exec(line)?.[1];
    const kind = /link\/(\w+)/.exec(line)?.[1];
    if (!name || !kind) continue;
    const mtu = /\smtu (\d+)/.exec(line)?.[1];
    const mac = /link\/\w+\s+([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/.exec(line)?.[1];
    out.push({
      name,
      ...(mtu ? { mtu: Number(mtu) } : {}),
      type: kind === 'none' ? 'unknown' : kind,
      ...(mac && kind !== 'loopback' ? { macaddress: mac } : {}),
    });
  }
  return out;
}

/** `ip -4 route get 8.8.8.8`: "8.8.8.8 via 10.0.0.1 dev eth0 src 10.0.0.5 uid 1000". */
export function parseRouteGet(text: string): { gateway?: string; interface?: string; address?: string } {
  const words = (lines(text)[0] ?? '').trim().split(/\s+/);
  const after = (k: string) => {
    const i = words.indexOf(k);
    return i >= 0 ? words[i + 1] : undefined;
  };
  const out: { gateway?: string; interface?: string; address?: string } = {};
  const via = after('via');
  const dev = after('dev');
  const src = after('src');
  if (via) out.gateway = via;
  if (dev) out.interface = dev;
  if (src) out.address = src;
  return out;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** default_ipv4, all_ipv4_addresses, all_ipv6_addresses and interfaces, in Ansible's shapes. */
export function networkFacts(
  route4: string,
  addr4: string,
  addr6: string,
  link: string,
): Record<string, unknown> {
  const addrs = parseAddr4(addr4);
  const links = parseLinks(link);
  const route = parseRouteGet(route4);
  const out: Record<string, unknown> = {
    // Ansible leaves loopback addresses out of these lists.
    all_ipv4_addresses: addrs.filter((a) => !a.address.startsWith('127.')).map((a) => a.address),
    all_ipv6_addresses: parseAddr6(addr6).filter((a) => a !== '::1'),
    interfaces: [...new Set([...links.map((l) => l.name), ...addrs.map((a) => a.iface)])],
    default_ipv4: {},
  };
  if (route.interface) {
    const onIface = addrs.filter((a) => a.iface === route.interface);
    const addr = onIface.find((a) => a.address === route.address) ?? onIface[0];
    const lk = links.find((l) => l.name === route.interface);
    const d: Record<string, unknown> = { interface: route.interface };
    const address = route.address ?? addr?.address;
    if (address) d.address = address;
    if (route.gateway) d.gateway = route.gateway;
    if (addr) {
      const maskInt = addr.prefix === 0 ? 0 : (0xffffffff << (32 - addr.prefix)) >>> 0;
      d.alias = addr.label;
      d.prefix = String(addr.prefix);
      d.netmask = intToIp(maskInt);
      d.network = intToIp((ipToInt(addr.address) & maskInt) >>> 0);
      if (addr.broadcast) d.broadcast = addr.broadcast;
    }
    if (lk?.mtu !== undefined) d.mtu = lk.mtu;
    if (lk?.macaddress) d.macaddress = lk.macaddress;
    if (lk) d.type = lk.type;
    out.default_ipv4 = d;
  }
  return out;
}

/** date_time from `date '+%s|%Y|%m|%d|%H|%M|%S|%Z|%z|%A|%w|%W'` on the host; values are strings, as in Ansible. */
export function dateTimeFacts(dateLine: string): Record<string, string> | undefined {
  const [epoch, year, month, day, hour, minute, second, tz, tzOffset, weekday, weekdayNumber, weeknumber] =
    dateLine.trim().split('|');
  if (!epoch || !/^\d+$/.test(epoch) || !second) return undefined;
  const utc = new Date(Number(epoch) * 1000).toISOString().replace(/\.\d+Z$/, '');
  // sh's date has no portable sub-second field: the micro parts are zero (Ansible has the real microseconds).
  return {
    year: year!,
    month: month!,
    day: day!,
    hour: hour!,
    minute: minute!,
    second,
    epoch,
    epoch_int: epoch,
    date: `${year}-${month}-${day}`,
    time: `${hour}:${minute}:${second}`,
    iso8601: `${utc}Z`,
    iso8601_micro: `${utc}.000000Z`,
    iso8601_basic: `${year}${month}${day}T${hour}${minute}${second}000000`,
    iso8601_basic_short: `${year}${month}${day}T${hour}${minute}${second}`,
    tz: tz ?? '',
    tz_offset: tzOffset ?? '',
    weekday: weekday ?? '',
    weekday_number: weekdayNumber ?? '',
    weeknumber: weeknumber ?? '',
  };
}

/** `env -0` (NUL-separated) or plain `env` output (a line not starting with NAME= continues the value). */
export function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text.includes('\0')) {
    for (const entry of text.split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return out;
  }
  let last: string | undefined;
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) {
      last = m[1]!;
      out[last] = m[2]!;
    } else if (last !== undefined) out[last] += `\n${line}`;
  }
  return out;
}

/**
 * An environment variable whose value must be treated as a secret: the names secret-vars.ts masks
 * (`*_password`, `*_token`, `*_secret`, `*_passphrase`, any case), and the usual spellings of credentials
 * in environment names (AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN, API_KEY, PGPASSWORD ...).
 */
export function isSecretEnvName(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    isSecretVarName(lower) ||
    /(passw(or)?d|passphrase|secret|token|api_?key|private_?key|credential|auth_?key|access_?key)/.test(lower)
  );
}

/** Every fact setup gathers, without the ansible_ prefix, from the script's output. */
export function parseFacts(stdout: string): Record<string, unknown> {
  const s = splitSections(stdout);
  const [system = '', kernel = '', kernelVersion = '', machine = '', nodename = ''] = (
    s.get('uname') ?? ''
  ).split('\n');
  const osRelease = parseOsRelease(s.get('os_release') ?? '');
  const dist = distributionFacts({
    system,
    kernel,
    osRelease,
    ...(s.get('debian_version') ? { debianVersion: s.get('debian_version')! } : {}),
    ...(s.get('alpine_release') ? { alpineRelease: s.get('alpine_release')! } : {}),
    ...(s.get('redhat_release') ? { redhatRelease: s.get('redhat_release')! } : {}),
    ...(s.get('sw_vers') ? { swVers: s.get('sw_vers')! } : {}),
  });
  const fqdnLine = lines(s.get('fqdn'))[0]?.trim();
  const fqdn = fqdnLine && !/\s/.test(fqdnLine) ? fqdnLine : nodename;
  const facts: Record<string, unknown> = {
    system,
    kernel,
    kernel_version: kernelVersion,
    machine,
    // Ansible: i386 for every 32-bit x86 name, otherwise the machine as uname gives it.
    architecture: /^i[3-6]86$/.test(machine) ? 'i386' : machine,
    nodename,
    hostname: nodename.split('.')[0],
    fqdn,
    domain: fqdn.includes('.') ? fqdn.slice(fqdn.indexOf('.') + 1) : '',
    ...dist,
    pkg_mgr: pkgMgr(lines(s.get('pkg')), dist.os_family),
    service_mgr: serviceMgr(s.get('init') ?? ''),
    ...memoryFacts(s.get('meminfo') ?? ''),
    ...cpuFacts(s.get('cpuinfo') ?? '', s.get('nproc') ?? ''),
    ...networkFacts(s.get('route4') ?? '', s.get('addr4') ?? '', s.get('addr6') ?? '', s.get('link') ?? ''),
  };

  const [userName = '', euid = '', egid = '', ruid = '', rgid = ''] = (s.get('id') ?? '').split('\n');
  const pw = (lines(s.get('passwd'))[0] ?? '').split(':');
  const [home = '', shell = ''] = (s.get('login') ?? '').split('\n');
  const num = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
  Object.assign(
    facts,
    Object.fromEntries(
      Object.entries({
        user_id: userName || pw[0] || undefined,
        user_uid: num(pw[2]) ?? num(euid),
        user_gid: num(pw[3]) ?? num(egid),
        user_gecos: pw.length >= 7 ? pw[4] : undefined,
        // Ansible reads the passwd entry; $HOME and $SHELL stand in when there is none.
        user_dir: (pw.length >= 7 ? pw[5] : undefined) || home || undefined,
        user_shell: (pw.length >= 7 ? pw[6] : undefined) || shell || undefined,
        effective_user_id: num(euid),
        effective_group_id: num(egid),
        real_user_id: num(ruid),
        real_group_id: num(rgid),
      }).filter(([, v]) => v !== undefined),
    ),
  );
  const date = dateTimeFacts(s.get('date') ?? '');
  if (date) facts.date_time = date;
  facts.env = parseEnv(s.get('env') ?? '');
  return facts;
}

/** Python's fnmatch (case-sensitive on POSIX): *, ?, [seq], [!seq]. */
export function fnmatch(name: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(name);
}

/** The names (without the ansible_ prefix) of every fact setup can give: the gather rule looks for them. */
export const FACT_NAMES: readonly string[] = [
  'all_ipv4_addresses',
  'all_ipv6_addresses',
  'architecture',
  'date_time',
  'default_ipv4',
  'distribution',
  'distribution_major_version',
  'distribution_release',
  'distribution_version',
  'domain',
  'effective_group_id',
  'effective_user_id',
  'env',
  'fqdn',
  'hostname',
  'interfaces',
  'kernel',
  'kernel_version',
  'machine',
  'memfree_mb',
  'memory_mb',
  'memtotal_mb',
  'nodename',
  'os_family',
  'pkg_mgr',
  'processor_cores',
  'processor_count',
  'processor_nproc',
  'processor_threads_per_core',
  'processor_vcpus',
  'real_group_id',
  'real_user_id',
  'service_mgr',
  'swapfree_mb',
  'swaptotal_mb',
  'system',
  'user_dir',
  'user_gecos',
  'user_gid',
  'user_id',
  'user_shell',
  'user_uid',
];
