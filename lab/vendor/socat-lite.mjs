#!/usr/bin/env node
// Stand-in for socat on lab machines without it: forwards the two socat addresses the TLS forwarder units
// use, `OPENSSL-LISTEN:PORT,opt...` or `TCP-LISTEN:PORT,...` to `OPENSSL:HOST:PORT,opt...` or
// `TCP:HOST:PORT`, with the options those units set (cert, key, bind, verify, cafile,
// openssl-min-proto-version, openssl-max-proto-version, cipher; reuseaddr and fork are implied).
// It listens on 127.0.0.1 unless bind= says otherwise: the lab never listens beyond loopback.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const VERSIONS = {
  TLS1: 'TLSv1',
  'TLS1.0': 'TLSv1',
  'TLS1.1': 'TLSv1.1',
  'TLS1.2': 'TLSv1.2',
  'TLS1.3': 'TLSv1.3',
};

function fail(message) {
  process.stderr.write(`socat-lite: ${message}\n`);
  process.exit(1);
}

function parse(address) {
  const [head, ...opts] = address.split(',');
  const parts = head.split(':');
  const type = parts[0].toUpperCase();
  const options = Object.fromEntries(
    opts.map((o) => {
      const eq = o.indexOf('=');
      return eq < 0 ? [o, '1'] : [o.slice(0, eq), o.slice(eq + 1)];
    }),
  );
  return { type, params: parts.slice(1), options };
}

function version(v) {
  if (v === undefined) return undefined;
  const out = VERSIONS[v.toUpperCase()];
  if (!out) fail(`unknown TLS version ${v}`);
  return out;
}

// Named as VK's binary, so that checks of who holds the port (port_free) see the forwarder.
process.title = 'socat-static';
const [listenArg, connectArg] = process.argv.slice(2);
if (!listenArg || !connectArg) fail('usage: socat-lite LISTEN-ADDRESS CONNECT-ADDRESS');
const listen = parse(listenArg);
const connect = parse(connectArg);
if (!['OPENSSL-LISTEN', 'SSL-L', 'TCP-LISTEN', 'TCP-L', 'TCP4-LISTEN'].includes(listen.type))
  fail(`unsupported listen address ${listen.type}`);
if (!['OPENSSL', 'SSL', 'OPENSSL-CONNECT', 'TCP', 'TCP4', 'TCP-CONNECT'].includes(connect.type))
  fail(`unsupported connect address ${connect.type}`);
const port = Number(listen.params[0]);
const [host, targetPort] = [connect.params[0], Number(connect.params[1])];
if (!port || !host || !targetPort) fail('an address lacks its port or host');

const connectTls = connect.type.startsWith('OPENSSL') || connect.type === 'SSL';
const clientOptions = () => {
  const o = connect.options;
  const verify = o.verify !== undefined && o.verify !== '0';
  return {
    host,
    port: targetPort,
    servername: net.isIP(host) ? undefined : (o.snihost ?? host),
    rejectUnauthorized: verify,
    ca: o.cafile ? readFileSync(o.cafile) : undefined,
    minVersion: version(o['openssl-min-proto-version']),
    maxVersion: version(o['openssl-max-proto-version']),
    ciphers: o.cipher ?? o.ciphers,
  };
};

const onClient = (client) => {
  const upstream = connectTls ? tls.connect(clientOptions()) : net.connect({ host, port: targetPort });
  const ready = connectTls ? 'secureConnect' : 'connect';
  upstream.once(ready, () => {
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', (e) => {
    process.stderr.write(`socat-lite: ${host}:${targetPort}: ${e.message}\n`);
    close();
  });
  client.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
};

let server;
if (listen.type === 'OPENSSL-LISTEN' || listen.type === 'SSL-L') {
  const o = listen.options;
  if (!o.cert) fail('OPENSSL-LISTEN needs cert=');
  const certPem = readFileSync(o.cert, 'utf8');
  server = tls.createServer(
    {
      cert: certPem,
      // socat accepts a cert file holding the key too.
      key: o.key ? readFileSync(o.key, 'utf8') : certPem,
      minVersion: version(o['openssl-min-proto-version']),
      maxVersion: version(o['openssl-max-proto-version']),
    },
    onClient,
  );
  server.on('tlsClientError', () => {
    /* a failed handshake is the client's problem, as with socat */
  });
} else {
  server = net.createServer(onClient);
}
server.on('error', (e) => fail(e.message));
server.listen(port, listen.options.bind ?? '127.0.0.1');
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
