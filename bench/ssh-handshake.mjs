// What an SSH connection costs, on both sides (issue 16, item 2): the client (ssh2 in this process) and the
// server (the lab's OpenSSH sshd: its master forks, and by default re-executes itself, for every
// connection; privilege separation adds a child before and one after authentication). For each server
// setting and each client algorithm choice, rounds of: open --hosts connections at once (as a run's first
// task does), optionally run one command on each (the session and shell the first task pays), close
// them. Prints medians of wall time per round and CPU per connection, client and server side.
// Run: npm run build && node bench/ssh-handshake.mjs [--hosts 10] [--rounds 7]
// Needs sshd (openssh-server). A report, not a test; the load average is printed with every figure.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import ssh2 from 'ssh2';

const root = resolve(import.meta.dirname, '..');
const { startSshdLab } = await import(join(root, 'dist', 'lab', 'sshd.js'));
const { connectSsh } = await import(join(root, 'dist', 'connection', 'ssh.js'));

const { values: opts } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '7' },
  },
});
const HOSTS = Number(opts.hosts);
const ROUNDS = Number(opts.rounds);
const CLK_TCK = 100;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime+stime+cutime+cstime of a process, in ms (its reaped children included). */
function processCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return ((f[11] + f[12] + f[13] + f[14]) / CLK_TCK) * 1000;
}

/** Children of a process still alive (per-connection sshd processes not yet reaped). */
function childCount(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
      .length;
  } catch {
    return 0;
  }
}

const CLIENT_VARIANTS = [
  { name: 'ssh2 defaults (what ewsplay uses)', algorithms: {} },
  { name: 'kex ecdh-sha2-nistp256', algorithms: { kex: ['ecdh-sha2-nistp256'] } },
  { name: 'kex diffie-hellman-group14-sha256', algorithms: { kex: ['diffie-hellman-group14-sha256'] } },
  { name: 'cipher chacha20-poly1305', algorithms: { cipher: ['chacha20-poly1305@openssh.com'] } },
  {
    name: 'cipher aes128-ctr + hmac-sha2-256-etm',
    algorithms: { cipher: ['aes128-ctr'], hmac: ['hmac-sha2-256-etm@openssh.com'] },
  },
];

/** One ssh2 connection with the lab's key; resolves with the client and what was negotiated. */
function connect(lab, host, algorithms, key) {
  return new Promise((done, fail) => {
    const client = new ssh2.Client();
    let negotiated;
    client.on('handshake', (n) => {
      negotiated = n;
    });
    client.once('ready', () => done({ client, negotiated }));
    client.once('error', fail);
    client.connect({
      host: '127.0.0.1',
      port: host.port,
      username: lab.user,
      privateKey: key,
      hostVerifier: () => true,
      algorithms: { serverHostKey: ['ssh-ed25519'], ...algorithms },
      readyTimeout: 30_000,
    });
  });
}

function execTrue(client) {
  return new Promise((done, fail) => {
    client.exec('true', (err, stream) => {
      if (err) return fail(err);
      stream.on('close', () => done()).resume();
      stream.stderr.resume();
    });
  });
}

/** Waits until every sshd has reaped its per-connection children, so their CPU is in the master's. */
async function settled(lab) {
  for (let i = 0; i < 500 && lab.hosts.some((h) => childCount(h.pid) > 0); i++) await sleep(10);
}

async function round(lab, open, withCommand) {
  await settled(lab);
  const server0 = lab.hosts.reduce((s, h) => s + processCpuMs(h.pid), 0);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const conns = await Promise.all(lab.hosts.map((h) => open(h)));
  const connectMs = performance.now() - t0;
  if (withCommand) await Promise.all(conns.map((c) => c.run()));
  const wallMs = performance.now() - t0;
  const client = process.cpuUsage(client0);
  await Promise.all(conns.map((c) => c.close()));
  await settled(lab);
  const server = lab.hosts.reduce((s, h) => s + processCpuMs(h.pid), 0) - server0;
  return {
    connectMs,
    wallMs,
    clientMs: (client.user + client.system) / 1000,
    serverMs: server,
    negotiated: conns[0].negotiated,
  };
}

function summary(label, results, withCommand) {
  const per = (k) => median(results.map((r) => r[k])) / HOSTS;
  const negotiated = results[0].negotiated;
  const algo = negotiated
    ? `${negotiated.kex}, ${negotiated.cs.cipher}${negotiated.cs.mac ? ` + ${negotiated.cs.mac}` : ''}`
    : '';
  console.log(
    `  ${label.padEnd(44)} ${median(results.map((r) => r.connectMs))
      .toFixed(0)
      .padStart(
        6,
      )} ms ${(withCommand ? `${median(results.map((r) => r.wallMs)).toFixed(0)} ms` : '-').padStart(9)} ${per('clientMs').toFixed(1).padStart(7)} ms ${per(
      'serverMs',
    )
      .toFixed(1)
      .padStart(7)} ms   load ${loadavg()[0].toFixed(2)}  ${algo}`,
  );
}

async function serverSetting(label, labOpts) {
  const lab = await startSshdLab(HOSTS, { prefix: 'hs', ...labOpts });
  const key = readFileSync(lab.clientKeyFile);
  console.log(`\nserver: ${label}; ${HOSTS} hosts, ${ROUNDS} rounds each (medians)`);
  console.log(
    `  ${'client'.padEnd(44)} ${'connect'.padStart(9)} ${'+command'.padStart(9)} ${'client CPU'.padStart(10)} ${'server CPU'.padStart(10)}`,
  );
  console.log(
    `  ${''.padEnd(44)} ${'(all)'.padStart(9)} ${'(all)'.padStart(9)} ${'per conn'.padStart(10)} ${'per conn'.padStart(10)}`,
  );
  try {
    const ssh2Open = (algorithms) => async (h) => {
      const { client, negotiated } = await connect(lab, h, algorithms, key);
      return {
        negotiated,
        run: () => execTrue(client),
        close: () =>
          new Promise((done) => {
            client.once('close', done);
            client.end();
          }),
      };
    };
    const ewsplayOpen = async (h) => {
      const conn = await connectSsh({
        host: h.name,
        connection: 'ssh',
        address: '127.0.0.1',
        port: h.port,
        user: lab.user,
        privateKeyFile: lab.clientKeyFile,
        knownHostsFile: lab.knownHostsFile,
        sshConfigFile: '/dev/null',
        connectTimeoutMs: 30_000,
      });
      return { run: () => conn.exec('true'), close: () => conn.close() };
    };
    // A warm-up round of each, so module loading and first-time costs are not in the figures.
    await round(lab, ewsplayOpen, true);
    for (const withCommand of [false, true]) {
      console.log(withCommand ? '  connect, one command, close:' : '  connect and close:');
      for (const v of CLIENT_VARIANTS) {
        const open = ssh2Open(v.algorithms);
        await round(lab, open, withCommand);
        const results = [];
        for (let i = 0; i < ROUNDS; i++) results.push(await round(lab, open, withCommand));
        summary(v.name, results, withCommand);
      }
      const results = [];
      for (let i = 0; i < ROUNDS; i++) results.push(await round(lab, ewsplayOpen, withCommand));
      summary("ewsplay's connectSsh (known_hosts, keys, shell)", results, withCommand);
    }
  } finally {
    await lab.stop();
  }
}

console.log(
  `SSH handshake cost, client and server; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  'connect/+command: wall time to open all connections (and run `true` on each); CPU per connection: this\n' +
    'process (client), the sshd processes and what they reaped (server: fork, re-exec, key exchange,\n' +
    'authentication, session, the command and its shell, close).',
);
await serverSetting('OpenSSH sshd as the lab starts it (re-exec for every connection)', {});
await serverSetting('OpenSSH sshd -r (no re-exec: the forked master serves the connection)', {
  sshdArgs: ['-r'],
});
